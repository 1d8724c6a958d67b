// The two ways the page reads POST /v1/streaming_query: parsed `patternfly` frames through
// fetch-event-source (as PatternFly chatbot frontends do), and any format's raw bytes; and the
// decision on a tool approval, POST /v1/tool-approvals.
import { EventStreamContentType, fetchEventSource } from '@microsoft/fetch-event-source';

import type { Frame } from './turn';

export interface QueryBody {
  query: string;
  conversation_id?: string;
}

/** A failure the page shows as it is: what went wrong, and the detail. */
export class StreamFailure extends Error {
  constructor(
    readonly title: string,
    readonly detail: string,
  ) {
    super(`${title}: ${detail}`);
  }
}

/** What the page shows of a failure: a title and the detail. */
export interface Failure {
  title: string;
  detail: string;
}

/** Any thrown error as a failure to show. */
export function failureOf(error: unknown): Failure {
  if (error instanceof StreamFailure) {
    return { title: error.title, detail: error.detail };
  }
  return { title: 'The request failed', detail: String((error as Error)?.message ?? error) };
}

const endpoint = (format: string): string =>
  `v1/streaming_query?format=${encodeURIComponent(format)}`;

/**
 * Stream one turn in the `patternfly` format, calling `onFrame` for each frame.
 *
 * Resolves once the server ends the stream. Never retries: fetch-event-source retries a failed
 * or cut stream by default, which re-asks the question and shows a second answer (what
 * lightspeed-stack's users saw as "Ansible is blah[restart]Ansible is blah").
 */
export async function streamPatternfly(
  body: QueryBody,
  onFrame: (frame: Frame) => void,
  signal: AbortSignal,
): Promise<void> {
  await fetchEventSource(endpoint('patternfly'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: EventStreamContentType },
    body: JSON.stringify(body),
    signal,
    // The default closes the stream while the tab is hidden and re-POSTs when it shows again.
    openWhenHidden: true,
    async onopen(response) {
      if (!response.ok) {
        throw await httpFailure(response);
      }
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith(EventStreamContentType)) {
        throw new StreamFailure('Not an event stream', `The server answered ${type || 'no content type'}.`);
      }
    },
    onmessage(message) {
      if (!message.data) {
        return;
      }
      const parsed = JSON.parse(message.data) as Frame;
      onFrame(parsed);
    },
    onerror(error) {
      // Rethrowing stops fetch-event-source's retry loop: one question, one request.
      throw error instanceof StreamFailure
        ? error
        : new StreamFailure(
            'The stream was cut',
            `The connection failed before the end of the answer (${error?.message ?? error}); the question was not sent again.`,
          );
    },
  });
}

/** Stream one turn in any format, calling `onText` with the raw text as it arrives. */
export async function streamRaw(
  format: string,
  body: QueryBody,
  onText: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(endpoint(format), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok || !response.body) {
    throw await httpFailure(response);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    onText(value);
  }
}

/** The installed formats, from GET /v1/formats. */
export interface FormatInfo {
  name: string;
  aliases: string[];
  media_type: string;
  description: string;
}

export async function listFormats(): Promise<FormatInfo[]> {
  const response = await fetch('v1/formats');
  if (!response.ok) {
    throw await httpFailure(response);
  }
  return (await response.json()) as FormatInfo[];
}

/**
 * Decide an approval request: POST /v1/tool-approvals `{approval_id, approved}`. The open stream
 * then carries the decision (`approval_result`) and the rest of the turn. Throws the JSON error
 * (404: no such request; 409: already decided or expired) as a StreamFailure.
 */
export async function decideApproval(approvalId: string, approved: boolean): Promise<void> {
  const response = await fetch('v1/tool-approvals', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ approval_id: approvalId, approved }),
  });
  if (!response.ok) {
    throw await httpFailure(response);
  }
}

/** Turn a non-2xx answer (lightspeed's `{"detail": {"response", "cause"}}`) into a failure. */
async function httpFailure(response: Response): Promise<StreamFailure> {
  const text = await response.text();
  try {
    const detail = JSON.parse(text).detail;
    if (detail && typeof detail === 'object') {
      return new StreamFailure(String(detail.response ?? response.status), String(detail.cause ?? ''));
    }
    return new StreamFailure(`HTTP ${response.status}`, String(detail ?? text));
  } catch {
    return new StreamFailure(`HTTP ${response.status}`, text.slice(0, 500));
  }
}
