"""`POST /v1/tool-approvals`: decide a tool approval request that an open stream waits for."""

from __future__ import annotations

from aiohttp import web

from service.approvals.desk import APPROVAL_REFUSALS, ApprovalNotFound
from service.conversations.owners import request_owner
from service.http.models.approvals import ToolApprovalDecided
from service.http.models.query import ToolApproval
from service.http.request_body import read_json
from service.keys import APPROVALS
from service.route_spec import Answer, declare

approval_routes = web.RouteTableDef()


@approval_routes.post("/v1/tool-approvals")
@declare(
    "Approve or deny a tool call an agent turn waits for; its stream goes on (on any replica).",
    {200: Answer("The request is decided.", ToolApprovalDecided)},
    APPROVAL_REFUSALS,
    body=ToolApproval,
)
async def decide_approval(request: web.Request) -> web.Response:
    """Decide one approval request of the caller's: 404 unknown or another's, 409 closed."""
    body = await read_json(request, ToolApproval)
    desk = request.app.get(APPROVALS)
    if desk is None:
        raise ApprovalNotFound()
    entry = await desk.decide(body.approval_id, request_owner(request), body.approved, body.reason)
    answer = ToolApprovalDecided(
        approval_id=entry.approval_id, decision="approved" if entry.approved else "denied"
    )
    return web.json_response(answer.model_dump())
