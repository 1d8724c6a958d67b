// Parse any format's stream with eventsource-parser (WHATWG SSE rules); report every event,
// comment and parse error.
import { createParser } from "eventsource-parser";
import { job, report } from "./run.mjs";

const { url, body } = job();
const response = await fetch(url, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "text/event-stream" },
  body: JSON.stringify(body),
});
const result = {
  status: response.status,
  headers: Object.fromEntries(response.headers),
  events: [],
  comments: [],
  errors: [],
  complete: false,
};
const parser = createParser({
  onEvent: (event) =>
    result.events.push({ event: event.event ?? null, id: event.id ?? null, data: event.data }),
  onComment: (comment) => result.comments.push(comment),
  onRetry: (retry) => result.errors.push({ type: "unexpected-retry", retry }),
  onError: (error) => result.errors.push({ type: error.type, message: error.message }),
});
const decoder = new TextDecoder("utf-8", { fatal: true });
let text = "";
for await (const bytes of response.body) {
  const piece = decoder.decode(bytes, { stream: true });
  text += piece;
  parser.feed(piece);
}
parser.feed(decoder.decode());
result.complete = text.endsWith("\n\n");
report(result);
