"""Client tool call ids: they carry the conversation and the upstream call id; only ours parse."""

from __future__ import annotations

from formatters.call_ids import client_call_id, parse_client_call_id


def test_only_ids_the_service_made_name_a_conversation_and_a_call() -> None:
    made = client_call_id("conv_1", "call_1")
    blank = client_call_id(" ", "call_1")
    assert [parse_client_call_id(text) for text in (made, blank, "call_1", made + "!")] == [
        ("conv_1", "call_1"),
        None,
        None,
        None,
    ]
