// Follow a resumable stream with the `eventsource` package (the WHATWG EventSource) and let it
// reconnect on its own: each request's Last-Event-ID and status, every message, each error.
// Reports once the client has closed itself (plus `graceMs`, to see it stays closed), or after
// `maxRequests` requests, whichever comes first.
import { EventSource } from "eventsource";
import { job, report } from "./run.mjs";

const { url, maxRequests, graceMs } = job();
const result = { requests: [], messages: [], errors: [], readyState: null };
let done = false;

function finish(source) {
  if (done) return;
  done = true;
  setTimeout(() => {
    result.readyState = source.readyState;
    source.close();
    report(result);
    process.exit(0);
  }, graceMs);
}

const source = new EventSource(url, {
  fetch: async (input, init) => {
    const request = { lastEventId: new Headers(init.headers).get("last-event-id"), status: null };
    result.requests.push(request);
    const response = await fetch(input, init);
    request.status = response.status;
    return response;
  },
});
source.onmessage = (message) => {
  result.messages.push({ id: message.lastEventId, data: message.data });
};
source.onerror = (error) => {
  result.errors.push({ code: error.code ?? null, readyState: source.readyState });
  if (source.readyState === source.CLOSED || result.requests.length >= maxRequests) {
    finish(source);
  }
};
