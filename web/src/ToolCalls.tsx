// Tool calls and their results, shown with PatternFly's ToolCall and ToolResponse cards; a call's
// approval request (Approvals.tsx) shows between the two.
import ToolCall from '@patternfly/chatbot/dist/dynamic/ToolCall';
import ToolResponse from '@patternfly/chatbot/dist/dynamic/ToolResponse';
import { CodeBlock, CodeBlockCode } from '@patternfly/react-core';

import { ApprovalCard } from './Approvals';
import { type ApprovalView, type ToolCallView, type ToolPhase, toolDisplayName } from './turn';

const RESULT_HEADING = {
  summary: 'Summary',
  response: 'Response',
  memory: 'Memory',
} as const;

/** What a call's title adds in these phases (else " (failed)" for a failed result). */
const TITLE_NOTE: Partial<Record<ToolPhase, string>> = {
  unfinished: ' (no result)',
  awaiting: ' (awaiting approval)',
  declined: ' (not run)',
};

/** The turn's calls; `open`: the stream is still under way, so approvals can be decided. */
export function ToolCalls({ calls, approvals, open }: { calls: ToolCallView[]; approvals: ApprovalView[]; open: boolean }) {
  if (calls.length === 0 && approvals.length === 0) {
    return null;
  }
  const called = new Set(calls.map((call) => call.callId));
  const approvalsOf = (call: ToolCallView) => approvals.filter((approval) => approval.callId === call.callId);
  return (
    <div className="tool-calls">
      {calls.map((call, index) => (
        <OneToolCall call={call} approvals={call.callId ? approvalsOf(call) : []} open={open} key={index} />
      ))}
      {approvals
        .filter((approval) => !called.has(approval.callId))
        .map((approval) => (
          <ApprovalCard approval={approval} open={open} key={approval.approvalId} />
        ))}
    </div>
  );
}

function OneToolCall({ call, approvals, open }: { call: ToolCallView; approvals: ApprovalView[]; open: boolean }) {
  const name = toolDisplayName(call) || 'a tool';
  const running = call.phase === 'requesting' || call.phase === 'running';
  return (
    <div className="tool-call" data-testid="tool-call" data-tool={name} data-phase={call.phase}>
      <ToolCall
        titleText={`Tool call: ${name}${TITLE_NOTE[call.phase] ?? (call.failed ? ' (failed)' : '')}`}
        isLoading={running}
        loadingText={call.phase === 'requesting' ? `Calling ${name}…` : `Running ${name}…`}
        expandableContent={
          call.arguments === undefined ? undefined : (
            <CodeBlock>
              <CodeBlockCode>{call.arguments}</CodeBlockCode>
            </CodeBlock>
          )
        }
        // These calls ran on the server: no "Run tool" / "Cancel" approval buttons.
        actions={[]}
        cardFooterProps={{ hidden: true }}
      />
      {approvals.map((approval) => (
        <ApprovalCard approval={approval} open={open} key={approval.approvalId} />
      ))}
      {call.result !== undefined && (
        <ToolResponse
          toggleContent={`Tool response: ${name}`}
          subheading={RESULT_HEADING[call.resultKind ?? 'response']}
          cardBody={
            <CodeBlock>
              <CodeBlockCode>{call.result}</CodeBlockCode>
            </CodeBlock>
          }
        />
      )}
    </div>
  );
}
