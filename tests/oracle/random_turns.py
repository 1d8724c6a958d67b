"""Seeded random Agents turns for the differential tests: shields, text, tool calls and results."""

from __future__ import annotations

import random
from typing import Any

_ALPHABET = "abc XYZ 019 .,:;!? \"'\\/ {}[] \n\t é ✓ 中文 😀 <b>&amp;"
_TOOLS = ("get_weather", "knowledge_search", "query_from_memory", "search", "run-shell")
_STAMP = "2026-11-24T10:24:00.983732Z"


def random_cases(seed: int, count: int) -> dict[str, dict[str, Any]]:
    """Return `count` random turns, named `random-<seed>-<n>`; the same seed gives the same turns."""
    rng = random.Random(seed)
    return {f"random-{seed}-{n}": {"chunks": _turn(rng)} for n in range(count)}


def _text(rng: random.Random, longest: int = 12) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, longest)))


def _scalar(rng: random.Random) -> Any:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randint(-(10**6), 10**6)
    if kind == 1:
        return round(rng.uniform(-100, 100), rng.randint(0, 4))
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return [_scalar(rng) for _ in range(rng.randint(0, 3))]
    return _text(rng)


def _payload(event_type: str, step: str, **fields: Any) -> dict[str, Any]:
    return {"event": {"payload": {"event_type": event_type, "step_type": step, **fields}}}


def _details(step: str, step_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "turn_id": "t1",
        "step_id": step_id,
        "started_at": _STAMP,
        "completed_at": _STAMP,
        "step_type": step,
        **fields,
    }


def _shield(rng: random.Random, step_id: str, _answer: list[str]) -> list[dict[str, Any]]:
    violation = None
    if rng.random() < 0.5:
        metadata = {_text(rng, 6) or "k": _scalar(rng) for _ in range(rng.randint(0, 2))}
        level = rng.choice(["error", "warn", "info"])
        violation = {"violation_level": level, "user_message": _text(rng), "metadata": metadata}
    details = _details("shield_call", step_id, violation=violation)
    return [
        _payload("step_start", "shield_call", step_id=step_id, metadata={}),
        _payload("step_complete", "shield_call", step_id=step_id, step_details=details),
    ]


def _inference(rng: random.Random, step_id: str, answer: list[str]) -> list[dict[str, Any]]:
    chunks = [_payload("step_start", "inference", step_id=step_id, metadata={})]
    for _ in range(rng.randint(0, 6)):
        if rng.random() < 0.15:
            call: Any = _text(rng)
            if rng.random() < 0.5:
                call = {"call_id": "c0", "tool_name": rng.choice(_TOOLS), "arguments": {}}
            delta = {"type": "tool_call", "tool_call": call, "parse_status": "succeeded"}
        else:
            text = _text(rng)
            answer.append(text)
            delta = {"type": "text", "text": text}
        chunks.append(_payload("step_progress", "inference", step_id=step_id, delta=delta))
    response = {"role": "assistant", "content": "", "stop_reason": "end_of_turn", "tool_calls": []}
    details = _details("inference", step_id, model_response=response)
    chunks.append(_payload("step_complete", "inference", step_id=step_id, step_details=details))
    return chunks


def _result_content(rng: random.Random, tool: str) -> Any:
    if rng.random() < 0.25:
        return _text(rng)
    items = [{"type": "text", "text": _text(rng, 30)} for _ in range(rng.randint(0, 3))]
    if tool == "knowledge_search":
        for n in range(rng.randint(0, 3)):
            title = rng.choice([_text(rng, 8), "T"])
            meta = (
                f"{{'document_id': 'd{rng.randrange(3)}', 'docs_url': 'u{n}', 'title': {title!r}}}"
            )
            items.append({"type": "text", "text": f"Result {n}\nContent: x\nMetadata: {meta}\n"})
    return items


def _tool_execution(rng: random.Random, step_id: str, _answer: list[str]) -> list[dict[str, Any]]:
    calls, responses = [], []
    for n in range(rng.randint(0, 2)):
        tool = rng.choice(_TOOLS)
        arguments: Any = {_text(rng, 5) or "q": _scalar(rng) for _ in range(rng.randint(0, 3))}
        calls.append({"call_id": f"c{n}", "tool_name": tool, "arguments": arguments})
        content = _result_content(rng, tool)
        responses.append({"call_id": f"c{n}", "tool_name": tool, "content": content})
    details = _details("tool_execution", step_id, tool_calls=calls, tool_responses=responses)
    return [
        _payload("step_start", "tool_execution", step_id=step_id, metadata={}),
        _payload("step_complete", "tool_execution", step_id=step_id, step_details=details),
    ]


def _turn(rng: random.Random) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    if rng.random() < 0.5:
        chunks.append({"event": {"payload": {"event_type": "turn_start", "turn_id": "t1"}}})
    answer: list[str] = []
    for n in range(rng.randint(1, 4)):
        step = rng.choice([_shield, _tool_execution, _inference, _inference])
        chunks.extend(step(rng, f"s{n}", answer))
    if rng.random() < 0.15:
        chunks.insert(rng.randint(0, len(chunks)), {"error": {"message": _text(rng)}})
    output = {"role": "assistant", "content": "".join(answer), "stop_reason": "end_of_turn"}
    turn = {
        "turn_id": "t1",
        "session_id": "s",
        "input_messages": [{"role": "user", "content": "q"}],
        "steps": [],
        "output_message": {**output, "tool_calls": []},
        "output_attachments": [],
        "started_at": _STAMP,
        "completed_at": _STAMP,
    }
    chunks.append({"event": {"payload": {"event_type": "turn_complete", "turn": turn}}})
    return chunks
