// @a2a-js/sdk's client, made from the service's agent card, sends one message (streamed, or
// not with `stream: false`): reports each result it yielded and any error it raised.
import { ClientFactory } from '@a2a-js/sdk/client';
import { job, report } from './run.mjs';

const config = job();
const events = [];
let error = null;
try {
  const client = await new ClientFactory().createFromUrl(config.url);
  const params = {
    message: {
      messageId: 'm-1',
      role: 1, // ROLE_USER
      parts: [{ content: { $case: 'text', value: config.text } }],
      contextId: config.contextId ?? '',
    },
  };
  if (config.stream === false) {
    events.push(await client.sendMessage(params));
  } else {
    for await (const event of client.sendMessageStream(params)) {
      events.push(event);
    }
  }
} catch (caught) {
  error = { name: caught?.name ?? null, message: String(caught?.message ?? caught) };
}
report({ events, error });
