"""What an upstream keeps of a conversation (Responses items, Agents session turns) as history."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from service.upstream import HistoryTurn, Speaker

SPEAKERS: dict[object, Speaker] = {"user": "user", "assistant": "assistant"}
"""The message roles a history shows; system and developer messages, and tool items, are not."""


def iso_utc(when: datetime.datetime | None = None) -> str:
    """Return a time (now by default) as lightspeed-stack writes it: ISO 8601 in UTC, with a Z."""
    when = when or datetime.datetime.now(datetime.UTC)
    return when.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def history_turns(items: Iterable[dict[str, Any]], created_at: int) -> list[HistoryTurn]:
    """Group the conversation's messages (oldest first) into turns, each opened by a user message.

    The items API gives no time per item: every turn carries the conversation's creation time,
    as lightspeed-stack 0.7.1 does for turns it has no record of.
    """
    stamp = iso_utc(datetime.datetime.fromtimestamp(created_at, datetime.UTC))
    turns: list[list[tuple[Speaker, str]]] = []
    for item in items:
        speaker = SPEAKERS.get(item.get("role"))
        if item.get("type", "message") != "message" or speaker is None:
            continue
        if speaker == "user" or not turns:
            turns.append([])
        turns[-1].append((speaker, message_text(item.get("content"))))
    return [HistoryTurn(tuple(messages), stamp, stamp) for messages in turns]


def session_turn(turn: dict[str, Any]) -> HistoryTurn:
    """Return one Agents-API session turn as a history turn: its inputs, then its output."""
    messages = [*(turn.get("input_messages") or []), turn.get("output_message") or {}]
    shown = tuple(
        (SPEAKERS[message["role"]], message_text(message.get("content")))
        for message in messages
        if message.get("role") in SPEAKERS
    )
    started, completed = turn.get("started_at") or "", turn.get("completed_at") or ""
    return HistoryTurn(shown, str(started), str(completed))


def message_text(content: object) -> str:
    """Return a message's text: a string as is, else its text parts joined."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(
        str(part["text"]) for part in content if isinstance(part, dict) and "text" in part
    )
