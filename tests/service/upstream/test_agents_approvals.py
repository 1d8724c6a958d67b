"""The Agents adapter has no tool approvals: a turn carrying decisions cannot start there."""

from __future__ import annotations

import aiohttp
import pytest

from service.conversations.bindings import MemoryBindings
from service.conversations.directory import SharedRecords
from service.settings import Settings
from service.upstream import UpstreamUnavailable
from service.upstream.agents import AgentsUpstream
from service.upstream.turn import ApprovalDecision, AskedApproval, TurnRequest


async def test_a_turn_with_approval_decisions_is_unavailable_before_any_upstream_call():
    settings = Settings(llama_stack_base_url="http://127.0.0.1:9", llama_stack_api="agents")
    asked = AskedApproval("apr_1", "delete_pod", "{}", "k8s")
    query = TurnRequest(
        query="",
        conversation_id="s_1",
        approval_decisions=(ApprovalDecision("apr_1", True, asked=asked),),
    )
    async with aiohttp.ClientSession() as session:
        upstream = AgentsUpstream(session, settings, SharedRecords(MemoryBindings()))
        with pytest.raises(UpstreamUnavailable) as refused:
            await upstream.start_turn(query)
    assert refused.value.reason == (
        "The Agents API upstream has no tool approvals, so it cannot take a decision."
    )
