"""The gateway's own errors in the lightspeed dialects: an alert title beside the message."""

from __future__ import annotations

from types import MappingProxyType

from formatters.events import ErrorEvent

DEFAULT_TITLE = "The answer was cut short"
"""The title of a gateway error whose code has none of its own."""

TITLES = MappingProxyType(
    {
        "timeout": "The answer took too long",
        "drained": "The service is restarting",
        "internal": "The service failed",
        "too_large": "The answer was too long",
        "interrupted": "The answer was interrupted",
        "abandoned": "The answer was stopped",
        "producer_lost": "The answer was lost",
        "store_unavailable": "The answer was lost",
        "upstream_disconnected": DEFAULT_TITLE,
        "upstream_error": "The agent failed",
    }
)
"""A short title per `ErrorEvent.code`, for frontends that show an error as a titled alert."""


def is_gateway_error(event: ErrorEvent) -> bool:
    """Whether the gateway made this error itself: no upstream chunk produced it.

    That is every error of `source` `gateway` (timeout, drain, budget, interrupt, store...) and
    the upstream failures the gateway detects (connection lost, stream cut short, an event over
    its size limit, an API error mid-stream): no lightspeed-stack release sent a frame for any of
    them, while an upstream *error chunk* keeps exactly the frame the releases send.
    """
    return event.chunk is None


def title(event: ErrorEvent) -> str:
    """Return the short title of a gateway error, by its code."""
    return TITLES.get(event.code, DEFAULT_TITLE)
