// The chat page: a PatternFly chatbot over POST /v1/streaming_query, with a format picker that
// shows the same question's frames in any installed format.
import { useCallback, useEffect, useRef, useState } from 'react';

import Chatbot, { ChatbotDisplayMode } from '@patternfly/chatbot/dist/dynamic/Chatbot';
import ChatbotContent from '@patternfly/chatbot/dist/dynamic/ChatbotContent';
import ChatbotFooter, { ChatbotFootnote } from '@patternfly/chatbot/dist/dynamic/ChatbotFooter';
import ChatbotHeader, {
  ChatbotHeaderActions,
  ChatbotHeaderMain,
  ChatbotHeaderNewChatButton,
  ChatbotHeaderSelectorDropdown,
  ChatbotHeaderTitle,
} from '@patternfly/chatbot/dist/dynamic/ChatbotHeader';
import ChatbotWelcomePrompt from '@patternfly/chatbot/dist/dynamic/ChatbotWelcomePrompt';
import Message from '@patternfly/chatbot/dist/dynamic/Message';
import MessageBar from '@patternfly/chatbot/dist/dynamic/MessageBar';
import MessageBox from '@patternfly/chatbot/dist/dynamic/MessageBox';
import { Alert, CodeBlock, CodeBlockCode, DropdownItem, DropdownList } from '@patternfly/react-core';

import { botAvatar, userAvatar } from './avatars';
import DeepThinking from '@patternfly/chatbot/dist/dynamic/DeepThinking';

import { type Failure, type FormatInfo, type QueryBody, failureOf, listFormats, streamPatternfly, streamRaw } from './stream';
import { ToolCalls } from './ToolCalls';
import { type Frame, type TurnView, answerText, applyFrame, emptyTurn, interrupted } from './turn';

/** The picker's value for the rendered chat; any other value is a format shown as raw frames. */
const RENDERED = '';
const FIRST_QUESTION = 'What does this gateway do?';

type Status = 'streaming' | 'done' | 'failed' | 'stopped';

type Entry =
  | { id: number; kind: 'question'; text: string; format: string }
  | { id: number; kind: 'answer'; question: string; turn: TurnView; status: Status; failure?: Failure }
  | { id: number; kind: 'frames'; question: string; format: string; text: string; status: Status; failure?: Failure };

let nextId = 1;

export function App() {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [formats, setFormats] = useState<FormatInfo[]>([]);
  const [view, setView] = useState<string>(RENDERED);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Failure | undefined>();
  const conversation = useRef<string | undefined>(undefined);
  const lastQuestion = useRef<string | undefined>(undefined);
  const abort = useRef<AbortController | undefined>(undefined);
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => {
    listFormats().then(setFormats, (error) =>
      setNotice({ title: 'Could not list the formats', detail: String(error?.message ?? error) }),
    );
  }, []);

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: 'end' });
  }, [entries]);

  const update = useCallback((id: number, change: (entry: Entry) => Entry) => {
    setEntries((all) => all.map((entry) => (entry.id === id ? change(entry) : entry)));
  }, []);

  async function ask(question: string, format: string) {
    if (abort.current) {
      return; // One answer at a time (Enter still reaches the bar while Send is disabled).
    }
    const controller = new AbortController();
    abort.current = controller;
    lastQuestion.current = question;
    setBusy(true);
    const id = nextId++;
    try {
      if (format === RENDERED) {
        await askRendered(id, question, controller.signal);
      } else {
        await askRaw(id, question, format, controller.signal);
      }
    } finally {
      abort.current = undefined;
      setBusy(false);
    }
  }

  async function askRendered(id: number, question: string, signal: AbortSignal) {
    const body: QueryBody = { query: question };
    if (conversation.current) {
      body.conversation_id = conversation.current;
    }
    setEntries((all) => [
      ...all,
      { id: nextId++, kind: 'question', text: question, format: RENDERED },
      { id, kind: 'answer', question, turn: emptyTurn(), status: 'streaming' },
    ]);
    let turn = emptyTurn();
    const onFrame = (frame: Frame) => {
      turn = applyFrame(turn, frame);
      if (turn.conversationId) {
        conversation.current = turn.conversationId;
      }
      const current = turn;
      update(id, (entry) => ({ ...entry, turn: current }) as Entry);
    };
    let status: Status = 'done';
    let failure: Failure | undefined;
    try {
      await streamPatternfly(body, onFrame, signal);
      if (signal.aborted) {
        status = 'stopped';
      } else if (!turn.ended) {
        status = 'failed';
        failure = { title: 'The stream ended early', detail: 'The connection closed before the end frame.' };
      }
    } catch (error) {
      status = 'failed';
      failure = failureOf(error);
    }
    const settled = status === 'done' ? turn : interrupted(turn);
    update(id, (entry) => ({ ...entry, turn: settled, status, failure }) as Entry);
  }

  async function askRaw(id: number, question: string, format: string, signal: AbortSignal) {
    setEntries((all) => [
      ...all,
      { id: nextId++, kind: 'question', text: question, format },
      { id, kind: 'frames', question, format, text: '', status: 'streaming' },
    ]);
    let status: Status = 'done';
    let failure: Failure | undefined;
    try {
      await streamRaw(format, { query: question }, (text) =>
        update(id, (entry) => (entry.kind === 'frames' ? { ...entry, text: entry.text + text } : entry)),
        signal,
      );
    } catch (error) {
      status = signal.aborted ? 'stopped' : 'failed';
      failure = signal.aborted ? undefined : failureOf(error);
    }
    update(id, (entry) => ({ ...entry, status, failure }) as Entry);
  }

  const pick = (value: string) => {
    setView(value);
    // The same question again, in the newly picked format, to compare the two streams.
    if (!busy && lastQuestion.current) {
      void ask(lastQuestion.current, value);
    }
  };

  const newChat = () => {
    abort.current?.abort();
    conversation.current = undefined;
    lastQuestion.current = undefined;
    setEntries([]);
  };

  const viewLabel = view === RENDERED ? 'Chat' : `${view} frames`;

  return (
    <Chatbot displayMode={ChatbotDisplayMode.fullscreen}>
      <ChatbotHeader>
        <ChatbotHeaderMain>
          <ChatbotHeaderTitle>agent-stream-gateway</ChatbotHeaderTitle>
        </ChatbotHeaderMain>
        <ChatbotHeaderActions>
          <ChatbotHeaderSelectorDropdown
            value={viewLabel}
            onSelect={(_event, value) => pick(String(value ?? RENDERED))}
            tooltipContent="Show the stream rendered, or as one format's raw frames"
            menuToggleAriaLabel="Stream format"
          >
            <DropdownList>
              <DropdownItem value={RENDERED} key="rendered" description="PatternFly chatbot rendering of the patternfly format">
                Chat (patternfly, rendered)
              </DropdownItem>
              {formats.map((format) => (
                <DropdownItem value={format.name} key={format.name} description={format.description}>
                  {format.name} frames
                </DropdownItem>
              ))}
            </DropdownList>
          </ChatbotHeaderSelectorDropdown>
          <ChatbotHeaderNewChatButton onClick={newChat} tooltipContent="New chat" />
        </ChatbotHeaderActions>
      </ChatbotHeader>
      <ChatbotContent>
        <MessageBox>
          {notice && (
            <Alert variant="danger" isInline title={notice.title}>
              {notice.detail}
            </Alert>
          )}
          {entries.length === 0 && (
            <ChatbotWelcomePrompt
              title="Ask the agent"
              description="Answers stream through POST /v1/streaming_query. Without LLAMA_STACK_BASE_URL the service runs its demo agent: a shield check, a knowledge search, a tool call and a streamed answer."
              prompts={[{ title: FIRST_QUESTION, message: 'Try the demo turn', onClick: () => void ask(FIRST_QUESTION, view) }]}
            />
          )}
          {entries.map((entry) => (
            <EntryView entry={entry} key={entry.id} />
          ))}
          <div ref={bottom} />
        </MessageBox>
      </ChatbotContent>
      <ChatbotFooter>
        <MessageBar
          onSendMessage={(message) => void ask(String(message), view)}
          isSendButtonDisabled={busy}
          hasStopButton={busy}
          handleStopButton={() => abort.current?.abort()}
          alwayShowSendButton
          hasAttachButton={false}
        />
        <ChatbotFootnote label="Streamed by agent-stream-gateway from POST /v1/streaming_query" />
      </ChatbotFooter>
    </Chatbot>
  );
}

function EntryView({ entry }: { entry: Entry }) {
  if (entry.kind === 'question') {
    return (
      <Message
        role="user"
        name="You"
        avatar={userAvatar}
        content={entry.text}
        data-testid="question"
        extraContent={entry.format ? { afterMainContent: <small>asked in format {entry.format}</small> } : undefined}
      />
    );
  }
  if (entry.kind === 'frames') {
    return (
      <Message
        role="bot"
        name={`Frames in ${entry.format}`}
        avatar={botAvatar}
        botWord={entry.format}
        content=""
        data-testid="frames"
        data-format={entry.format}
        data-state={entry.status}
        isLoading={entry.status === 'streaming' && entry.text === ''}
        extraContent={{
          afterMainContent: (
            <>
              <CodeBlock className="frames">
                <CodeBlockCode>{entry.text}</CodeBlockCode>
              </CodeBlock>
              {entry.failure && <FailureAlert failure={entry.failure} />}
            </>
          ),
        }}
      />
    );
  }
  const { turn } = entry;
  const answer = answerText(turn);
  const quiet =
    answer === '' &&
    turn.toolCalls.length === 0 &&
    turn.approvals.length === 0 &&
    turn.reasoning === '' &&
    turn.violations.length === 0 &&
    turn.errors.length === 0;
  const sources = turn.sources.map((source) => ({
    title: source.title,
    link: source.url,
    subtitle: source.url,
    isExternal: true,
  }));
  return (
    <Message
      role="bot"
      name="Agent"
      avatar={botAvatar}
      content={answer}
      data-testid="answer"
      data-state={entry.status}
      data-heartbeats={turn.heartbeats}
      data-frames={turn.frames}
      isLoading={entry.status === 'streaming' && quiet}
      extraContent={{
        beforeMainContent: (
          <>
            {turn.violations.map((violation, index) => (
              <Alert key={index} variant="warning" isInline title="Shield violation" data-testid="violation">
                {violation}
              </Alert>
            ))}
            <ToolCalls calls={turn.toolCalls} approvals={turn.approvals} open={entry.status === 'streaming'} />
            {turn.reasoning && (
              <div className="reasoning" data-testid="reasoning">
                <DeepThinking toggleContent="Reasoning" body={turn.reasoning} isDefaultExpanded={false} />
              </div>
            )}
          </>
        ),
        afterMainContent: (
          <>
            {turn.interruption && (
              <Alert variant="info" isInline title={turn.interruption.title} data-testid="interrupted">
                {turn.interruption.text}
              </Alert>
            )}
            {turn.errors.map((error, index) => (
              <Alert key={index} variant="danger" isInline title={error.title} data-testid="stream-error">
                {error.text}
              </Alert>
            ))}
            {entry.failure && <FailureAlert failure={entry.failure} />}
          </>
        ),
      }}
      sources={sources.length ? { sources } : undefined}
    />
  );
}

function FailureAlert({ failure }: { failure: Failure }) {
  return (
    <Alert variant="danger" isInline title={failure.title} data-testid="failure">
      {failure.detail}
    </Alert>
  );
}
