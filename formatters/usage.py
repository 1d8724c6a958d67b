"""A turn's token usage so far: the one fold of its `usage` events, for `end` and the formats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from formatters.events import JsonObject, UsageEvent


class TokenCounts(Protocol):
    """Anything with a turn's token counts: the `end` event, a `UsageSoFar`."""

    @property
    def input_tokens(self) -> int:
        """Tokens the model read."""
        ...

    @property
    def output_tokens(self) -> int:
        """Tokens the model wrote."""
        ...


@dataclass(slots=True)
class UsageSoFar:
    """The usage the upstream reported for a turn so far: 0 and 0 until it reports any.

    Each `usage` event counts one upstream response; a turn that goes on in another response
    (a continuation after a tool approval) adds its counts. `truncated` is the last one's.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool | None = None

    def add(self, event: UsageEvent) -> None:
        """Count one `usage` event in."""
        self.input_tokens += event.input_tokens
        self.output_tokens += event.output_tokens
        self.truncated = event.truncated

    def copy(self) -> UsageSoFar:
        """Return a copy (for a formatter's `closer`)."""
        return UsageSoFar(self.input_tokens, self.output_tokens, self.truncated)


def reported(counts: TokenCounts) -> bool:
    """Tell whether the upstream reported any usage: a model never reads 0 tokens.

    A field a protocol makes optional is left out when it did not (0 would claim a count).
    """
    return bool(counts.input_tokens or counts.output_tokens)


def total_tokens(counts: TokenCounts) -> int:
    """Return the input and output tokens together."""
    return counts.input_tokens + counts.output_tokens


def camel_case_usage(counts: TokenCounts) -> JsonObject:
    """Return `{inputTokens, outputTokens, totalTokens}`: the AI SDK's and AG-UI's names."""
    return {
        "inputTokens": counts.input_tokens,
        "outputTokens": counts.output_tokens,
        "totalTokens": total_tokens(counts),
    }
