// One answer as the page shows it, built frame by frame from the `patternfly` format (our
// lightspeed-shaped dialect, docs/formats.md); lightspeed-stack 0.1.3's string tokens
// (../../../shared/reference/lightspeed-stream.md) are still read the same way.

export interface Frame {
  event: string;
  data: Record<string, unknown>;
}

/** `awaiting`: waits for a person's approval; `declined`: its approval did not let it run. */
export type ToolPhase = 'requesting' | 'awaiting' | 'running' | 'done' | 'unfinished' | 'declined';

export interface ToolCallView {
  /** The tool's name once a frame has said it ("" before). */
  name: string;
  /** The latest `inference` tool-call delta: partial call text, then the tool's name. */
  draft: string;
  arguments?: string;
  /** `summary` (knowledge_search), `response` (any tool) or `memory` (query_from_memory). */
  resultKind?: 'summary' | 'response' | 'memory';
  result?: string;
  phase: ToolPhase;
  /** `patternfly`'s `call_id`, which pairs a call with its result. */
  callId?: string;
  /** The result's `status` was `failure`. */
  failed?: boolean;
}

export interface Source {
  title: string;
  url: string;
}

/** How an approval request ended (`approval_result`'s `decision`). */
export type Decision = 'approved' | 'denied' | 'expired' | 'unanswerable';

/** A tool call that waits for a person's approval (`approval_required`), and its decision. */
export interface ApprovalView {
  approvalId: string;
  /** The `call_id` of the tool call it is about. */
  callId: string;
  name: string;
  description: string;
  /** The call's arguments as indented JSON. */
  arguments: string;
  decision?: Decision;
  reason?: string;
}

/** An `error` frame as the page shows it: an alert's title and its text. */
export interface StreamError {
  title: string;
  text: string;
}

export interface TurnView {
  /** Text of the `token` frames of role `inference` (or none), in order. */
  streamed: string;
  /** The `turn_complete` text: the whole answer. */
  final?: string;
  toolCalls: ToolCallView[];
  approvals: ApprovalView[];
  /** Text of the `reasoning` frames, in order: the model's reasoning, not the answer. */
  reasoning: string;
  violations: string[];
  errors: StreamError[];
  /** The `interrupted` frame: the turn was stopped on request. */
  interruption?: StreamError;
  sources: Source[];
  heartbeats: number;
  frames: number;
  conversationId?: string;
  /** The `end` frame arrived. */
  ended: boolean;
}

export const emptyTurn = (): TurnView => ({
  streamed: '',
  toolCalls: [],
  approvals: [],
  reasoning: '',
  violations: [],
  errors: [],
  sources: [],
  heartbeats: 0,
  frames: 0,
  ended: false,
});

/** The answer to show: the `turn_complete` text once it came, the streamed text until then. */
export const answerText = (turn: TurnView): string => turn.final ?? turn.streamed;

const TOOL_LINE = /^Tool:(\S+) (arguments|summary|response):([\s\S]*)$/;
const MEMORY_LINE = /^Fetched \d+ bytes from memory$/;
const NAME = /^[A-Za-z_][\w.-]*$/;

/** The name a tool call is shown with: its name, or the draft once that looks like one. */
export const toolDisplayName = (call: ToolCallView): string =>
  call.name || (NAME.test(call.draft) ? call.draft : '');

/** Return the turn after one frame; never mutates `turn`. */
export function applyFrame(turn: TurnView, frame: Frame): TurnView {
  const next: TurnView = {
    ...turn,
    toolCalls: turn.toolCalls.map((call) => ({ ...call })),
    frames: turn.frames + 1,
  };
  const data = frame.data ?? {};
  const token = data.token;
  switch (frame.event) {
    case 'start':
      next.conversationId = String(data.conversation_id ?? '');
      break;
    case 'heartbeat':
      next.heartbeats += 1;
      break;
    case 'token':
      if (data.role === 'shield_call') {
        if (typeof token === 'string' && token.startsWith('Violation')) {
          next.violations = [...next.violations, token];
        }
      } else if (typeof token === 'string') {
        next.streamed += token;
      }
      break;
    case 'tool_call':
      if (data.role === 'tool_execution') {
        toolExecution(next.toolCalls, token);
      } else {
        toolRequest(next.toolCalls, typeof token === 'string' ? token : '');
      }
      break;
    case 'approval_required':
    case 'approval_request':
      approvalRequest(next, data);
      break;
    case 'approval_result':
      approvalResult(next, data);
      break;
    case 'reasoning':
    case 'reasoning_delta':
      next.reasoning += asText(data.reasoning ?? data.text);
      break;
    case 'turn_complete':
      if (typeof token === 'string') {
        next.final = token;
      }
      break;
    case 'error':
      next.errors = [...next.errors, streamError(data)];
      break;
    case 'interrupted':
      next.interruption = streamError(data);
      break;
    case 'end':
      next.ended = true;
      next.sources = documents(data.referenced_documents);
      next.toolCalls = settled(next.toolCalls);
      break;
    default:
      break;
  }
  return next;
}

/** The turn after its stream stopped without an `end` frame: no call is still running. */
export const interrupted = (turn: TurnView): TurnView => ({ ...turn, toolCalls: settled(turn.toolCalls) });

/** Calls without a result stop showing as running: they will not get one now. */
const settled = (calls: ToolCallView[]): ToolCallView[] =>
  calls.map((call) => (call.phase === 'done' || call.phase === 'declined' ? call : { ...call, phase: 'unfinished' }));

const asText = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * An approval request: patternfly's `approval_required{approval_id, tool_name, tool_args,
 * tool_description, tool_call_id}` (lightspeed-service's fields), or the raw format's
 * `approval_request{approval_id, name, arguments, description, call_id}`. Its call waits.
 */
function approvalRequest(turn: TurnView, data: Record<string, unknown>): void {
  const approvalId = asText(data.approval_id);
  if (!approvalId || turn.approvals.some((approval) => approval.approvalId === approvalId)) {
    return;
  }
  const callId = asText(data.tool_call_id ?? data.call_id) || approvalId;
  const args = data.tool_args ?? data.arguments ?? {};
  const approval: ApprovalView = {
    approvalId,
    callId,
    name: asText(data.tool_name ?? data.name),
    description: asText(data.tool_description ?? data.description),
    arguments: typeof args === 'string' ? args : JSON.stringify(args, null, 2),
  };
  turn.approvals = [...turn.approvals, approval];
  const call = turn.toolCalls.find((c) => c.callId === callId && c.phase !== 'done');
  if (call) {
    call.phase = 'awaiting';
  }
}

/** The decision on an approval request: approved, the call runs; otherwise it will not. */
function approvalResult(turn: TurnView, data: Record<string, unknown>): void {
  const approvalId = asText(data.approval_id);
  const decision = asText(data.decision) as Decision;
  turn.approvals = turn.approvals.map((approval) =>
    approval.approvalId === approvalId ? { ...approval, decision, reason: asText(data.reason) || undefined } : approval,
  );
  const callId = asText(data.tool_call_id ?? data.call_id) || approvalId;
  const call = turn.toolCalls.find((c) => c.callId === callId && c.phase === 'awaiting');
  if (call) {
    call.phase = decision === 'approved' ? 'running' : 'declined';
  }
}

/** An `inference` tool_call frame: the model is writing a call ("" starts one, then text, then the name). */
function toolRequest(calls: ToolCallView[], token: string): void {
  let call = calls.find((c) => c.phase === 'requesting');
  if (!call) {
    call = { name: '', draft: '', phase: 'requesting' };
    calls.push(call);
  }
  if (token) {
    call.draft = token;
  }
}

/** A `tool_execution` tool_call frame: the call runs ("" ), its arguments, then its result. */
function toolExecution(calls: ToolCallView[], token: unknown): void {
  if (pairedTool(calls, token)) {
    return;
  }
  const line = toolLine(token);
  if (line === null) {
    const requested = calls.filter((c) => c.phase === 'requesting');
    if (requested.length === 0) {
      calls.push({ name: '', draft: '', phase: 'running' });
    }
    for (const call of requested) {
      call.phase = 'running';
    }
    return;
  }
  const [name, kind, text] = line;
  if (kind === 'arguments') {
    const call = pending(calls, name, (c) => c.arguments === undefined);
    call.name = name;
    call.arguments = text;
    if (call.phase === 'requesting') {
      call.phase = 'running';
    }
    return;
  }
  const call = pending(calls, name, (c) => c.result === undefined);
  call.name = call.name || name;
  call.resultKind = kind;
  call.result = text;
  call.phase = 'done';
}

/** A `patternfly` tool frame, `{tool_name, call_id, arguments}` or `{…, status, summary|response}`:
 * the call and its result meet by `call_id`. False for a token without one. */
function pairedTool(calls: ToolCallView[], token: unknown): boolean {
  const object = token && typeof token === 'object' ? (token as Record<string, unknown>) : null;
  const line = object && typeof object.call_id === 'string' ? toolLine(object) : null;
  if (object === null || line === null) {
    return false;
  }
  const [name, kind, text] = line;
  let call = calls.find((c) => c.callId === object.call_id);
  if (!call) {
    call = { name, draft: '', phase: 'running', callId: String(object.call_id) };
    calls.push(call);
  }
  if (kind === 'arguments') {
    call.arguments = text;
  } else {
    call.resultKind = kind;
    call.result = text;
    // A declined call's result is the refusal: the call still did not run.
    call.phase = call.phase === 'declined' ? 'declined' : 'done';
    call.failed = object.status === 'failure';
  }
  return true;
}

/** The first unfinished call that fits (by name when one is known), or a new one. */
function pending(
  calls: ToolCallView[],
  name: string,
  fits: (call: ToolCallView) => boolean,
): ToolCallView {
  const open = calls.filter((c) => c.phase !== 'done' && fits(c));
  const call =
    open.find((c) => c.name === name || toolDisplayName(c) === name) ??
    open.find((c) => c.name === '') ??
    undefined;
  if (call) {
    return call;
  }
  const created: ToolCallView = { name, draft: '', phase: 'running' };
  calls.push(created);
  return created;
}

type ToolLine = [string, 'arguments' | 'summary' | 'response' | 'memory', string];

/** Parse "Tool:NAME arguments:…" (or lightspeed-stack's later object tokens); null for "". */
function toolLine(token: unknown): ToolLine | null {
  if (token && typeof token === 'object') {
    const object = token as Record<string, unknown>;
    const name = String(object.tool_name ?? '');
    for (const kind of ['arguments', 'summary', 'response'] as const) {
      if (kind in object) {
        const value = object[kind];
        return [name, kind, typeof value === 'string' ? value : JSON.stringify(value)];
      }
    }
    return null;
  }
  if (typeof token !== 'string' || token === '') {
    return null;
  }
  if (MEMORY_LINE.test(token)) {
    return ['query_from_memory', 'memory', token];
  }
  const match = TOOL_LINE.exec(token);
  if (match) {
    return [match[1], match[2] as 'arguments' | 'summary' | 'response', match[3]];
  }
  return ['', 'response', token];
}

/** The gateway's own errors carry a title (`response`) and the message (`cause`, also `token`). */
function streamError(data: Record<string, unknown>): StreamError {
  const title = typeof data.response === 'string' && data.response ? data.response : 'The agent reported an error';
  if (typeof data.token === 'string') {
    return { title, text: data.token };
  }
  return { title, text: typeof data.cause === 'string' ? data.cause : JSON.stringify(data) };
}

function documents(value: unknown): Source[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value
    .filter((doc) => doc && typeof doc === 'object')
    .map((doc) => ({ title: String(doc.doc_title ?? doc.doc_url ?? ''), url: String(doc.doc_url ?? '') }))
    .filter((doc) => doc.url);
}
