// Read the patternfly format the way PatternFly chatbot frontends do: @microsoft/fetch-event-source
// with a POST body, each message's data parsed as JSON.
import { fetchEventSource } from "@microsoft/fetch-event-source";
import { job, report } from "./run.mjs";

// fetch-event-source is written for browsers: it reads `window` and `document`.
globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

const { url, body } = job();
const result = { status: null, contentType: null, messages: [], errors: [], closed: false };
try {
  await fetchEventSource(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    openWhenHidden: true,
    async onopen(response) {
      result.status = response.status;
      result.contentType = response.headers.get("content-type");
      if (!response.ok || !result.contentType?.startsWith("text/event-stream")) {
        throw new Error(`unexpected response: ${response.status} ${result.contentType}`);
      }
    },
    onmessage(message) {
      try {
        const parsed = JSON.parse(message.data);
        result.messages.push({ id: message.id, event: parsed.event, data: parsed.data });
      } catch (error) {
        result.errors.push(`not JSON: ${JSON.stringify(message.data)}`);
      }
    },
    onclose() {
      result.closed = true;
    },
    onerror(error) {
      throw error; // no retries: report it
    },
  });
} catch (error) {
  result.errors.push(String(error));
}
report(result);
