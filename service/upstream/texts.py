"""What both adapters say of the same upstream failures."""

from __future__ import annotations

NO_MESSAGE = "The agent reported an error without a message."
"""The error's message when the upstream reports an error but says nothing of it."""


def version_refused(detail: str) -> str:
    """Return the reason of an HTTP 426: llama-stack refused this client's version."""
    return (
        "llama-stack refused this client's version (HTTP 426): the client's major.minor "
        f"must match the server's. {detail}"
    )
