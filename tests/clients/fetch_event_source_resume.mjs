// Read a resumable patternfly stream with @microsoft/fetch-event-source and let it retry on its
// own: a cut connection is retried (the same POST, with the Last-Event-ID header it keeps).
// With `lastDispatchedId`, a `fetch` wrapper sends the id of the last message onmessage saw
// instead of the last id line the parser read (see the README on the one-byte window).
import { fetchEventSource } from "@microsoft/fetch-event-source";
import { job, report } from "./run.mjs";

globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

const { url, body, lastDispatchedId } = job();
const result = { opens: [], messages: [], errors: [], retried: [], closed: false };
let dispatched = null;
try {
  await fetchEventSource(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    openWhenHidden: true,
    fetch: (input, init) => {
      if (lastDispatchedId && dispatched) init.headers["last-event-id"] = dispatched;
      return fetch(input, init);
    },
    async onopen(response) {
      result.opens.push({
        status: response.status,
        streamId: response.headers.get("x-stream-id"),
      });
      if (!response.ok) throw new Error(`unexpected response: ${response.status}`);
    },
    onmessage(message) {
      dispatched = message.id;
      try {
        result.messages.push({ id: message.id, data: JSON.parse(message.data) });
      } catch (error) {
        result.errors.push(`not JSON: ${JSON.stringify(message.data)}`);
      }
    },
    onclose() {
      result.closed = true;
    },
    onerror(error) {
      result.retried.push(String(error.cause ?? error));
      return 50; // retry soon (the default waits 1 s)
    },
  });
} catch (error) {
  result.errors.push(String(error));
}
report(result);
