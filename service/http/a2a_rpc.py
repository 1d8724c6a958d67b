"""A2A's JSON-RPC errors: its codes (as `a2a-sdk` defines them), the error body, the route shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from service.errors import CONTRACT_ERROR
from service.http.models.a2a import RpcId
from service.route_spec import ErrorParts

ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
A2A_DOMAIN = "a2a-protocol.org"


class A2aError(Exception):
    """An A2A request refused: its JSON-RPC code, a message, and A2A's reason for it."""

    code = -32603
    reason = "INTERNAL_ERROR"

    def __init__(
        self, message: str, metadata: Mapping[str, str] | None = None, *, rpc_id: RpcId = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})
        self.rpc_id = rpc_id
        """The request's id, when it is known only where the error was found."""


class JsonParseError(A2aError):
    """-32700: the body is not JSON."""

    code, reason = -32700, "PARSE_ERROR"


class InvalidRequest(A2aError):
    """-32600: the body is no JSON-RPC 2.0 request (or cannot be read)."""

    code, reason = -32600, "INVALID_REQUEST"


class MethodNotFound(A2aError):
    """-32601: no such method."""

    code, reason = -32601, "METHOD_NOT_FOUND"


class InvalidParams(A2aError):
    """-32602: the method's params are wrong."""

    code, reason = -32602, "INVALID_PARAMS"


class InternalError(A2aError):
    """-32603: the service cannot answer now (busy, draining, upstream down)."""


class TaskNotFound(A2aError):
    """-32001: unknown, expired, or another caller's task (one answer, so ids cannot be probed)."""

    code, reason = -32001, "TASK_NOT_FOUND"


class TaskNotCancelable(A2aError):
    """-32002: the task has ended (or is being cancelled already)."""

    code, reason = -32002, "TASK_NOT_CANCELABLE"


class UnsupportedOperation(A2aError):
    """-32004: A2A allows the request, this agent does not do it (or not on that task)."""

    code, reason = -32004, "UNSUPPORTED_OPERATION"


class ContentTypeNotSupported(A2aError):
    """-32005: the message holds parts the agent cannot read (files, data)."""

    code, reason = -32005, "CONTENT_TYPE_NOT_SUPPORTED"


class VersionNotSupported(A2aError):
    """-32009: the client speaks another A2A version (`A2A-Version`)."""

    code, reason = -32009, "VERSION_NOT_SUPPORTED"


def error_body(rpc_id: RpcId, error: A2aError) -> dict[str, Any]:
    """Return the JSON-RPC error response of `error`, its details a `google.rpc.ErrorInfo`."""
    info = {
        "@type": ERROR_INFO_TYPE,
        "reason": error.reason,
        "domain": A2A_DOMAIN,
        "metadata": error.metadata,
    }
    return {
        "jsonrpc": "2.0",
        "id": rpc_id,
        "error": {"code": error.code, "message": error.message, "data": [info]},
    }


def error_answer(
    rpc_id: RpcId, error: A2aError, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Return the HTTP 200 answer that carries a JSON-RPC error (as A2A's JSON-RPC binding does)."""
    answer = web.json_response(error_body(rpc_id, error), headers=headers)
    answer[CONTRACT_ERROR] = True
    return answer


_BY_STATUS: dict[int, type[A2aError]] = {
    400: InvalidRequest,
    401: InvalidRequest,
    403: InvalidRequest,
    404: TaskNotFound,
    408: InvalidRequest,
    409: UnsupportedOperation,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidParams,
}
"""The A2A error of a contract refusal, by status; any other is an InternalError."""
KEPT_STATUSES = frozenset({401, 403})
"""Refusals whose HTTP status stays (auth: an HTTP client acts on it); the rest answer 200."""


def from_refusal(parts: ErrorParts) -> A2aError:
    """Return the A2A error that says what a contract refusal says."""
    kind = _BY_STATUS.get(parts.status, InternalError)
    return kind(f"{parts.response}: {parts.cause}", {"status": str(parts.status)})


def a2a_error_shape(parts: ErrorParts) -> tuple[int, dict[str, Any]]:
    """Put a refusal the route did not answer itself in JSON-RPC's shape (its id unknown)."""
    status = parts.status if parts.status in KEPT_STATUSES else 200
    return status, error_body(None, from_refusal(parts))
