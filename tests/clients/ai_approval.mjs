// A tool approval as useChat answers one: the `ai` chat shows the vercel format's
// tool-approval-request, `addToolApprovalResponse` decides it, and `sendAutomaticallyWhen`
// sends the decision as the next request. `prepareSendMessagesRequest` is the mapping a client
// of this gateway writes: an answered approval becomes /v1/streaming_query's `tool_approvals`.
import { DefaultChatTransport, lastAssistantMessageIsCompleteWithApprovalResponses } from "ai";
import { Chat } from "./ai_chat_state.mjs";
import { job, report } from "./run.mjs";

/** The body of /v1/streaming_query for the chat's next request. */
export function streamingQueryBody(messages) {
  const last = messages.at(-1);
  if (last.role === "assistant") {
    const answered = last.parts.filter((part) => part.state === "approval-responded");
    return {
      conversation_id: last.metadata.conversation_id,
      tool_approvals: answered.map(({ approval }) => ({
        approval_id: approval.id,
        approved: approval.approved,
        ...(approval.reason === undefined ? {} : { reason: approval.reason }),
      })),
    };
  }
  return { query: last.parts.find((part) => part.type === "text").text };
}

const { url, question, approved, reason } = job();
const result = { errors: [], requests: [], asked: null, finishes: [] };
let settled;
const done = new Promise((resolve) => (settled = resolve));
const chat = new Chat({
  transport: new DefaultChatTransport({
    api: url,
    prepareSendMessagesRequest: ({ messages }) => {
      const body = streamingQueryBody(messages);
      result.requests.push(body);
      return { body };
    },
  }),
  sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
  onError: (error) => result.errors.push(error.message),
  onFinish: ({ finishReason, isError }) => {
    result.finishes.push({ finishReason: finishReason ?? null, isError });
    if (result.finishes.length === 2) settled();
  },
});
await chat.sendMessage({ text: question });
result.asked = structuredClone(chat.messages.at(-1).parts.filter((part) => part.type !== "step-start"));
const request = result.asked.find((part) => part.state === "approval-requested");
await chat.addToolApprovalResponse({ id: request.approval.id, approved, reason });
await done;
result.status = chat.status;
result.messages = chat.messages;
report(result);
