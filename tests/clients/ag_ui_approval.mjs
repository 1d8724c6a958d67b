// A tool approval through @ag-ui/client's HttpAgent: the first run ends with the approval
// interrupt (agent.pendingInterrupts); a second run in the same thread resumes it with the
// decision ({interruptId, status: "resolved", payload: {approved, reason}}), as the protocol
// answers an interrupt. Reports both runs' events, the interrupts and the agent's messages.
import { HttpAgent } from '@ag-ui/client';
import { job, report } from './run.mjs';

const config = job();
const agent = new HttpAgent({ url: config.url, threadId: config.threadId });
agent.addMessage({ id: 'u1', role: 'user', content: config.question });
const runs = [[], []];
let error = null;
let interrupts = null;
try {
  await agent.runAgent({ runId: 'run-1' }, { onEvent: ({ event }) => void runs[0].push(event) });
  interrupts = structuredClone(agent.pendingInterrupts);
  const payload = { approved: config.approved, ...(config.reason ? { reason: config.reason } : {}) };
  const resume = interrupts.map(({ id }) => ({ interruptId: id, status: 'resolved', payload }));
  await agent.runAgent({ runId: 'run-2', resume }, { onEvent: ({ event }) => void runs[1].push(event) });
} catch (caught) {
  error = { name: caught?.name ?? null, message: String(caught?.message ?? caught) };
}
report({ runs, interrupts, messages: agent.messages, error, pendingInterrupts: agent.pendingInterrupts ?? null });
