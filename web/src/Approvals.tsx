// A tool call that waits for a person's approval, as a PatternFly chatbot ToolCall card (a
// PatternFly Card) with Approve / Deny buttons that POST the decision; then the decision the
// stream reports, with the buttons disabled.
import { useState } from 'react';

import ToolCall from '@patternfly/chatbot/dist/dynamic/ToolCall';
import { Alert, Button, CodeBlock, CodeBlockCode, Label } from '@patternfly/react-core';

import { type Failure, decideApproval, failureOf } from './stream';
import type { ApprovalView, Decision } from './turn';

const DECISIONS: Record<Decision, { label: string; color: 'green' | 'red' | 'orange' | 'grey' }> = {
  approved: { label: 'Approved', color: 'green' },
  denied: { label: 'Denied', color: 'red' },
  expired: { label: 'Expired', color: 'orange' },
  unanswerable: { label: 'Not asked: this client cannot answer', color: 'grey' },
};

/** One approval request; `open`: the stream is still under way, so it can be decided. */
export function ApprovalCard({ approval, open }: { approval: ApprovalView; open: boolean }) {
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState<boolean | undefined>(undefined);
  const [failure, setFailure] = useState<Failure | undefined>(undefined);
  const { decision } = approval;
  const disabled = decision !== undefined || sending || sent !== undefined || !open;

  async function decide(approved: boolean) {
    setSending(true);
    setFailure(undefined);
    try {
      await decideApproval(approval.approvalId, approved);
      setSent(approved);
    } catch (error) {
      setFailure(failureOf(error));
    } finally {
      setSending(false);
    }
  }

  const name = approval.name || 'a tool';
  const status =
    decision !== undefined ? (
      <Label color={DECISIONS[decision]?.color ?? 'grey'} data-testid="approval-decision">
        {DECISIONS[decision]?.label ?? decision}
        {approval.reason ? `: ${approval.reason}` : ''}
      </Label>
    ) : sent !== undefined ? (
      <small data-testid="approval-sent">{sent ? 'Approval sent…' : 'Denial sent…'}</small>
    ) : !open ? (
      <small data-testid="approval-undecided">No decision: the stream ended</small>
    ) : null;
  return (
    <div
      className="approval"
      data-testid="approval"
      data-tool={approval.name}
      data-approval-id={approval.approvalId}
      data-decision={decision ?? ''}
    >
      <ToolCall
        titleText={`Approval needed: ${name}`}
        isDefaultExpanded
        expandableContent={
          <>
            {approval.description && <p className="approval-description">{approval.description}</p>}
            <CodeBlock>
              <CodeBlockCode>{approval.arguments}</CodeBlockCode>
            </CodeBlock>
            {status && <div className="approval-status">{status}</div>}
            {failure && (
              <Alert variant="danger" isInline title={failure.title} data-testid="approval-failure">
                {failure.detail}
              </Alert>
            )}
          </>
        }
        actions={[
          <Button variant="secondary" isDanger isDisabled={disabled} onClick={() => void decide(false)} key="deny">
            Deny
          </Button>,
          <Button variant="primary" isDisabled={disabled} isLoading={sending} onClick={() => void decide(true)} key="approve">
            Approve
          </Button>,
        ]}
      />
    </div>
  );
}
