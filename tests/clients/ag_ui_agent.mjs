// @ag-ui/client's HttpAgent runs one turn against the service (its own event verification on):
// reports every event it applied, the agent's messages after the run, and any error it raised.
import { HttpAgent } from '@ag-ui/client';
import { job, report } from './run.mjs';

const config = job();
const agent = new HttpAgent({ url: config.url, threadId: config.threadId, headers: config.headers ?? {} });
for (const message of config.messages) {
  agent.addMessage(message);
}
const events = [];
let error = null;
try {
  await agent.runAgent({ runId: config.runId }, { onEvent: ({ event }) => void events.push(event) });
} catch (caught) {
  error = { name: caught?.name ?? null, message: String(caught?.message ?? caught) };
}
report({ events, messages: agent.messages, error, pendingInterrupts: agent.pendingInterrupts ?? null });
