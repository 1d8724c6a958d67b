// Read the raw format with the `eventsource` package (the WHATWG EventSource for Node), POSTing
// the question through its `fetch` option; report what a listener for its `error` event (the
// connection's errors: `addEventListener("error")`, which is what a browser's `onerror` is) and a
// `turn_error` listener each received. Closed at `end`: the connection's own end is no error.
import { EventSource } from "eventsource";
import { job, report } from "./run.mjs";

const { url, body } = job();
const result = { errorEvents: [], turnErrors: [], names: [] };
const source = new EventSource(url, {
  fetch: (input, init) =>
    fetch(input, {
      ...init,
      method: "POST",
      headers: { ...init.headers, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
});
await new Promise((resolve) => {
  source.addEventListener("error", (event) => {
    result.errorEvents.push({ type: event.type, data: event.data ?? null, code: event.code ?? null });
    if (source.readyState === EventSource.CLOSED) resolve();
  });
  for (const name of ["start", "text_delta", "heartbeat", "end"]) {
    source.addEventListener(name, () => result.names.push(name));
  }
  source.addEventListener("turn_error", (event) => {
    result.names.push("turn_error");
    result.turnErrors.push(JSON.parse(event.data));
  });
  source.addEventListener("end", () => {
    source.close();
    resolve();
  });
});
report(result);
