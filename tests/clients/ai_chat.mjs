// Read the vercel format as useChat does: the `ai` package's chat (AbstractChat) over its
// DefaultChatTransport, which validates every part against the UI message stream schema.
import { DefaultChatTransport } from "ai";
import { Chat } from "./ai_chat_state.mjs";
import { job, report } from "./run.mjs";

const { url, question } = job();
const result = { errors: [], toolCallsForClient: [], dataParts: [], finish: null, received: "" };

// What the transport reads, copied as text so the test can see the keep-alive comments in it.
async function tappedFetch(input, init) {
  const response = await fetch(input, init);
  const [forChat, forTap] = response.body.tee();
  const decoder = new TextDecoder();
  tapping = (async () => {
    for await (const bytes of forTap) result.received += decoder.decode(bytes, { stream: true });
  })();
  return new Response(forChat, { status: response.status, headers: response.headers });
}
let tapping = Promise.resolve();
const chat = new Chat({
  transport: new DefaultChatTransport({
    api: url,
    fetch: tappedFetch,
    prepareSendMessagesRequest: ({ messages }) => ({
      body: { query: messages.at(-1).parts.find((part) => part.type === "text").text },
    }),
  }),
  onError: (error) => result.errors.push(error.message),
  onToolCall: ({ toolCall }) => result.toolCallsForClient.push(toolCall.toolName),
  onData: (part) => result.dataParts.push(part),
  onFinish: ({ finishReason, isError, isAbort, isDisconnect }) => {
    result.finish = { finishReason: finishReason ?? null, isError, isAbort, isDisconnect };
  },
});
await chat.sendMessage({ text: question });
await tapping;
result.status = chat.status;
result.messages = chat.messages;
report(result);
