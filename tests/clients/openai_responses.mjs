// The `openai` npm package against /v1/responses: `responses.stream` and its finalResponse, or
// `responses.create({stream: true})` then `responses.retrieve(id, {stream, starting_after})`
// from the sequence number `resumeAfter` names (the first event of that type). Reports every
// event, the final response, and the error the SDK threw (if any).
import OpenAI from "openai";
import { job, report } from "./run.mjs";

const { baseURL, input, mode, resumeAfter } = job();
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
const result = { events: [], resumed: [], final: null, error: null };

try {
  if (mode === "stream") {
    const stream = client.responses.stream({ model: "vllm/fake-model", input });
    for await (const event of stream) result.events.push(event);
    const final = await stream.finalResponse();
    result.final = { status: final.status, outputText: final.output_text, output: final.output };
  } else {
    const stream = await client.responses.create({ model: "vllm/fake-model", input, stream: true });
    for await (const event of stream) result.events.push(event);
    if (resumeAfter) {
      const cut = result.events.find((event) => event.type === resumeAfter).sequence_number;
      const id = result.events[0].response.id;
      const resumed = await client.responses.retrieve(id, { stream: true, starting_after: cut });
      for await (const event of resumed) result.resumed.push(event);
    }
  }
} catch (error) {
  result.error = { name: error.constructor.name, message: error.message, error: error.error ?? null };
}
report(result);
