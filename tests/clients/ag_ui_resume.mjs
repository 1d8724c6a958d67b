// @ag-ui/client's HttpAgent asks, then answers: a run that ends with an approval interrupt,
// then the run that resumes it (`resume` entries answering `agent.pendingInterrupts`).
import { HttpAgent } from '@ag-ui/client';
import { job, report } from './run.mjs';

const config = job();
const agent = new HttpAgent({ url: config.url, threadId: config.threadId });
agent.addMessage(config.message);
const runs = [];
let error = null;
try {
  const asked = [];
  await agent.runAgent({ runId: 'run-1' }, { onEvent: ({ event }) => void asked.push(event) });
  const interrupts = structuredClone(agent.pendingInterrupts);
  runs.push({ events: asked, interrupts });
  const resume = interrupts.map((interrupt) => ({
    interruptId: interrupt.id,
    status: 'resolved',
    payload: { approved: config.approved, reason: config.reason },
  }));
  const resumed = [];
  await agent.runAgent({ runId: 'run-2', resume }, { onEvent: ({ event }) => void resumed.push(event) });
  runs.push({ events: resumed, interrupts: structuredClone(agent.pendingInterrupts) });
} catch (caught) {
  error = { name: caught?.name ?? null, message: String(caught?.message ?? caught) };
}
report({ runs, messages: agent.messages, error });
