"""How a resumable stream can end beyond a live one's outcomes: resume's own stops."""

from __future__ import annotations

from enum import StrEnum

from service.streams.pipeline import CANCELLED, Outcome


class ResumeOutcome(StrEnum):
    """The outcomes only a resumable stream has (its producer's stops)."""

    INTERRUPTED = "interrupted"
    ABANDONED = "abandoned"
    TOO_LARGE = "too_large"
    STORE_FAILED = "store_failed"


STREAM_OUTCOMES = (*(outcome.value for outcome in [*Outcome, *ResumeOutcome]), CANCELLED)
"""Every outcome a stream's end is counted under: the pump's, resume's, a cancelled handler's."""
