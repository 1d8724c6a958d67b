"""OpenAI's error object on the OpenAI routes that promise it (`/v1/responses`)."""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.typedefs import Handler

from service.errors import CONTRACT_ERROR

OPENAI_ERROR_PATHS = ("/v1/responses",)
"""Routes (and everything under them) whose errors take OpenAI's shape."""

_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def openai_error(status: int, message: str, code: str | None) -> dict[str, object]:
    """Return OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`."""
    kind = _TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _code(response: str) -> str:
    return "_".join(response.lower().split())


def _is_openai_route(path: str) -> bool:
    return any(path == prefix or path.startswith(f"{prefix}/") for prefix in OPENAI_ERROR_PATHS)


@web.middleware
async def openai_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Rewrite the contract's error answers of the OpenAI routes into OpenAI's error object."""
    answer = await handler(request)
    if (
        not _is_openai_route(request.path)
        or not isinstance(answer, web.Response)
        or not answer.get(CONTRACT_ERROR)
        or answer.prepared
        or not isinstance(answer.body, bytes)
    ):
        return answer
    detail = json.loads(answer.body)["detail"]
    message = f"{detail['response']}: {detail['cause']}"
    headers = {
        key: value
        for key, value in answer.headers.items()
        if key.lower() not in ("content-type", "content-length")
    }
    rewritten = web.json_response(
        openai_error(answer.status, message, _code(detail["response"])),
        status=answer.status,
        headers=headers,
    )
    rewritten[CONTRACT_ERROR] = True
    return rewritten
