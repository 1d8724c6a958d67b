"""What the approval tests share: raw formats on each approval channel, a scripted fake, frames."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpClient

from fakes.responses_upstream import (
    ApprovalScript,
    FakeResponsesUpstream,
    approval_request_item,
    approval_request_turn,
)
from formatters.base import ApprovalChannel
from formatters.raw import RawFormatter
from service.http.app import create_app
from service.settings import Settings
from service.streams.registry import load_registry

DELETE_POD = approval_request_item("apr_1", "delete_pod", '{"pod": "a"}', "k8s")
SCALE = approval_request_item("apr_2", "scale", '{"replicas": 3}', "k8s")
ASK = {"query": "Delete pod a."}
END: tuple[str, Any] = (
    "end",
    {
        "type": "end",
        "chunk": None,
        "referenced_documents": [],
        "truncated": None,
        "input_tokens": 0,
        "output_tokens": 0,
    },
)
"""The last frame of a raw stream of a turn that reported no usage."""


class RawRoute(RawFormatter):
    """`raw` whose clients decide through `POST /v1/tool-approvals`."""

    name = "raw-route"
    aliases = ("events-route",)
    approvals: ClassVar[ApprovalChannel] = "route"


class RawRequest(RawFormatter):
    """`raw` whose clients decide in their next request."""

    name = "raw-request"
    aliases = ("events-request",)
    approvals: ClassVar[ApprovalChannel] = "request"


class RawNone(RawFormatter):
    """`raw` whose clients cannot decide."""

    name = "raw-none"
    aliases = ("events-none",)
    approvals: ClassVar[ApprovalChannel] = "none"


def registry() -> Any:
    """The installed formats and the three test ones."""
    formats = load_registry()
    for formatter in (RawRoute, RawRequest, RawNone):
        formats.add(formatter)
    return formats


def asking(fake: FakeResponsesUpstream, *items: dict[str, Any], text: str = "") -> ApprovalScript:
    """Script the fake: the first response asks approval for `items`, later ones go on."""
    fake.turns = [approval_request_turn(*items, text=text)]
    script = ApprovalScript(asked={item["id"]: item for item in items})
    fake.script = script
    return script


async def service(
    aiohttp_client: AiohttpClient, upstream: TestServer, **overrides: Any
) -> TestClient[Any, Any]:
    """The service on the fake Responses upstream, with the test formats (30 s heartbeats)."""
    settings = Settings(
        **{
            "llama_stack_base_url": str(upstream.make_url("/")),
            "heartbeat_interval": 30.0,
            **overrides,
        }
    )
    return await aiohttp_client(create_app(settings, registry=registry()))


def parse(frame: str) -> tuple[str, Any]:
    """Return a raw frame's event name and its data (decoded)."""
    fields = dict(line.split(": ", 1) for line in frame.strip("\n").split("\n"))
    return fields["event"], json.loads(fields["data"])


async def next_frame(response: ClientResponse) -> tuple[str, Any]:
    """Read one frame of a raw stream."""
    return parse((await response.content.readuntil(b"\n\n")).decode())


async def frames_until(response: ClientResponse, event: str) -> list[tuple[str, Any]]:
    """Read frames up to and with the first `event` one."""
    frames = [await next_frame(response)]
    while frames[-1][0] != event:
        frames.append(await next_frame(response))
    return frames


async def rest(response: ClientResponse) -> list[tuple[str, Any]]:
    """Read the stream's remaining frames."""
    body = (await response.read()).decode()
    return [parse(frame) for frame in body.split("\n\n") if frame]
