"""`ResponsesRequest.to_turn`: OpenAI's input items become one agent turn, or a clear refusal."""

from __future__ import annotations

import pytest

from formatters.responses import response_id
from service.conversations.owners import ConversationNotFound
from service.http.models.chat import UnsupportedRequest
from service.http.models.responses import ResponsesRequest
from service.upstream.turn import ApprovalDecision, TurnRequest


def test_message_items_become_instructions_history_and_question():
    body = ResponsesRequest(
        model="m",
        instructions="Be brief.",
        input=[
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": "Hi"},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hello"}],
            },
            {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
        ],
    )
    assert body.to_turn() == TurnRequest(
        query="user: Hi\n\nassistant: Hello\n\nuser: Weather?",
        model="m",
        system_prompt="Be brief.\n\nAnswer in English.",
    )


def test_a_previous_response_continues_its_conversation_with_the_last_message_only():
    previous = response_id("s" * 22, "conv-7")
    body = ResponsesRequest(
        model="m",
        previous_response_id=previous,
        input=[{"role": "user", "content": "Hi"}, {"role": "user", "content": "Again"}],
    )
    assert body.to_turn() == TurnRequest(query="Again", model="m", conversation_id="conv-7")
    by_object = ResponsesRequest.model_validate(
        {"model": "m", "input": "Again", "conversation": {"id": "conv-8"}}
    )
    assert by_object.to_turn().conversation_id == "conv-8"


def test_a_previous_response_id_that_is_not_one_is_not_found():
    with pytest.raises(ConversationNotFound):
        ResponsesRequest(model="m", input="x", previous_response_id="resp_other").to_turn()


@pytest.mark.parametrize(
    ("fields", "cause"),
    [
        (
            {"input": [{"type": "function_call_output", "call_id": "c", "output": "{}"}]},
            "input[0]: only message items (role user, assistant, system or developer) are "
            "supported, not type 'function_call_output'; the agent runs its own tools",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "u"}]}]},
            "input[0].content[0]: content parts of type 'input_image' are not supported; send text",
        ),
        (
            {"input": [{"role": "assistant", "content": "Hello"}]},
            "input: the last item must be a user message with text",
        ),
        (
            {"tools": [{"type": "mcp", "server_label": "x"}]},
            "tools: the agent's tools are configured on the service (AGENT_TOOLGROUPS)",
        ),
        ({"background": True}, "background: background responses are not supported"),
        (
            {"conversation": "c", "previous_response_id": "resp_x"},
            "previous_response_id and conversation: send one of them, not both",
        ),
    ],
)
def test_what_an_agent_turn_cannot_do_is_refused_with_its_cause(fields, cause):
    body = ResponsesRequest(**{"model": "m", "input": "Hi", **fields})
    with pytest.raises(UnsupportedRequest) as refused:
        body.to_turn()
    assert refused.value.cause == cause


APPROVAL_ASKED = {
    "type": "mcp_approval_request",
    "id": "apr_1",
    "name": "delete_pod",
    "arguments": '{"pod":"a"}',
    "server_label": "k8s",
}


def test_mcp_approval_responses_continue_the_previous_response_s_turn():
    body = ResponsesRequest(
        model="m",
        previous_response_id=response_id("s" * 22, "conv-7"),
        input=[
            APPROVAL_ASKED,
            {"type": "mcp_approval_response", "approval_request_id": "apr_1", "approve": True},
            {
                "type": "mcp_approval_response",
                "approval_request_id": "apr_2",
                "approve": False,
                "reason": "not that one",
            },
        ],
    )
    assert body.to_turn() == TurnRequest(
        query="",
        model="m",
        conversation_id="conv-7",
        approval_decisions=(
            ApprovalDecision(approval_id="apr_1", approved=True),
            ApprovalDecision(approval_id="apr_2", approved=False, reason="not that one"),
        ),
    )
    by_conversation = ResponsesRequest.model_validate(
        {
            "model": "m",
            "conversation": {"id": "conv-8"},
            "input": [
                {"type": "mcp_approval_response", "approval_request_id": "a", "approve": False}
            ],
        }
    )
    assert by_conversation.to_turn().conversation_id == "conv-8"


@pytest.mark.parametrize(
    ("fields", "cause"),
    [
        (
            {
                "input": [
                    {"type": "mcp_approval_response", "approval_request_id": "a", "approve": True}
                ]
            },
            "input: an mcp_approval_response answers an earlier response: send its "
            "previous_response_id or its conversation",
        ),
        (
            {
                "conversation": "c",
                "input": [
                    {"type": "mcp_approval_response", "approval_request_id": "a", "approve": "yes"}
                ],
            },
            "input[0]: approve: Input should be a valid boolean",
        ),
        (
            {
                "conversation": "c",
                "input": [
                    {"type": "mcp_approval_response", "approve": True},
                ],
            },
            "input[0]: approval_request_id: Field required",
        ),
        (
            {
                "conversation": "c",
                "input": [
                    {"role": "user", "content": "and also"},
                    {"type": "mcp_approval_response", "approval_request_id": "a", "approve": True},
                ],
            },
            "input[0]: with mcp_approval_response items, send only those (and copies of the "
            "mcp_approval_request items they answer), not type 'message'",
        ),
    ],
)
def test_a_bad_approval_response_is_refused_with_its_cause(fields, cause):
    with pytest.raises(UnsupportedRequest) as refused:
        ResponsesRequest.model_validate({"model": "m", **fields}).to_turn()
    assert refused.value.cause == cause
