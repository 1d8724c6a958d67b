"""What the adapters say of upstream failures, each text once.

An upstream error with no message of its own is said in the words of whoever reports it:
`NO_MESSAGE` is the gateway's, for the Agents API's stream (and the demo agent, which runs it);
`STREAM_ERROR` is llama-stack-client's (its `Stream` raises it for an `error` line without a
message), kept for the Responses API's stream so its wire bytes are the client library's.
"""

from __future__ import annotations

NO_MESSAGE = "The agent reported an error without a message."
"""An Agents API turn's error without a message (the gateway's words)."""

STREAM_ERROR = "An error occurred during streaming"
"""A Responses API `error` line without a message (llama-stack-client's words)."""


def version_refused(detail: str) -> str:
    """Return the reason of an HTTP 426: llama-stack refused this client's version."""
    return (
        "llama-stack refused this client's version (HTTP 426): the client's major.minor "
        f"must match the server's. {detail}"
    )
