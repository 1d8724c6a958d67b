// Tool calls and their results, shown with PatternFly's ToolCall and ToolResponse cards.
import ToolCall from '@patternfly/chatbot/dist/dynamic/ToolCall';
import ToolResponse from '@patternfly/chatbot/dist/dynamic/ToolResponse';
import { CodeBlock, CodeBlockCode } from '@patternfly/react-core';

import { type ToolCallView, toolDisplayName } from './turn';

const RESULT_HEADING = {
  summary: 'Summary',
  response: 'Response',
  memory: 'Memory',
} as const;

export function ToolCalls({ calls }: { calls: ToolCallView[] }) {
  if (calls.length === 0) {
    return null;
  }
  return (
    <div className="tool-calls">
      {calls.map((call, index) => (
        <OneToolCall call={call} key={index} />
      ))}
    </div>
  );
}

function OneToolCall({ call }: { call: ToolCallView }) {
  const name = toolDisplayName(call) || 'a tool';
  const running = call.phase === 'requesting' || call.phase === 'running';
  return (
    <div className="tool-call" data-testid="tool-call" data-tool={name} data-phase={call.phase}>
      <ToolCall
        titleText={`Tool call: ${name}${call.phase === 'unfinished' ? ' (no result)' : call.failed ? ' (failed)' : ''}`}
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
