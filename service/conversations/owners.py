"""The owner of a conversation: a digest of the caller's principal, and the 404 for anyone else."""

from __future__ import annotations

import hashlib

from aiohttp import web

from service.errors import Rejected, refusal
from service.keys import PRINCIPAL
from service.route_spec import auth_on

_DOMAIN = b"agent-stream-gateway conversation owner\0"


def owner_digest(principal: str) -> str:
    """Return the SHA-256 (hex) that bindings store in place of the principal itself."""
    return hashlib.sha256(_DOMAIN + principal.encode()).hexdigest()


def request_owner(request: web.Request) -> str | None:
    """Return the owner digest of the request's principal; None when auth is off."""
    principal = request.get(PRINCIPAL)
    return None if principal is None else owner_digest(principal)


class ConversationNotFound(Rejected):
    """404: the conversation is unknown or another caller's; one answer, so ids cannot be probed."""

    def __init__(self) -> None:
        super().__init__(
            404,
            "Conversation not found",
            "No conversation of yours has this id: unknown, or started by someone else.",
        )


NO_CONVERSATION = refusal(
    "With auth on, no conversation of the caller's has this `conversation_id` (unknown, "
    "deleted, or someone else's): one answer for all three.",
    when=auth_on,
)
"""What `ConversationNotFound` answers, declared by the routes that take a conversation id."""
