"""The chat page: `GET /` and its bundled assets under `/ui/`, built from web/ into static/."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from service.errors import refusal
from service.route_spec import TEXT, Answer, declare

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""Where `npm run build` in web/ writes the page (committed, so no Node is needed to serve it)."""
UI_PREFIX = "/ui/"
NOT_BUILT = (
    "The chat page is not built. Build it with: cd web && npm ci && npm run build\n"
    "(the API itself works without it: POST /v1/streaming_query)\n"
)

_TYPES = {".woff2": "font/woff2", ".woff": "font/woff"}
"""Types aiohttp's own table lacks (it would send fonts as application/octet-stream)."""

web_ui_routes = web.RouteTableDef()


@web_ui_routes.get("/")
@declare(
    "The chat page.",
    {
        200: Answer("The page.", content={"text/html": TEXT}),
        503: Answer("The page is not built.", content={"text/plain": TEXT}),
    },
)
async def chat_page(request: web.Request) -> web.StreamResponse:
    """Serve the chat page, or say how to build it."""
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        return web.Response(status=503, text=NOT_BUILT, content_type="text/plain")
    # The page names its assets by content hash: the page itself must never be cached stale.
    return web.FileResponse(index, headers={"Cache-Control": "no-cache"})


@web_ui_routes.get(UI_PREFIX + "{path:.+}")
@declare(
    "One bundled asset of the chat page.",
    {200: Answer("The asset."), 404: refusal("No such asset.")},
    listed=False,
)
async def ui_asset(request: web.Request) -> web.StreamResponse:
    """Serve one bundled asset; their names carry a content hash, so they are cached for good."""
    asset = _asset(request.match_info["path"])
    if asset is None:
        raise web.HTTPNotFound()
    headers = {
        "Cache-Control": "no-cache"
        if asset.suffix == ".txt"
        else "public, max-age=31536000, immutable"
    }
    if asset.suffix in _TYPES:
        headers["Content-Type"] = _TYPES[asset.suffix]
    return web.FileResponse(asset, headers=headers)


def _asset(name: str) -> Path | None:
    """Return the built file `name` names under ui/, or None (outside it, missing, unusable)."""
    root = (STATIC_DIR / "ui").resolve()
    try:
        asset = (root / name).resolve()
        found = asset.is_relative_to(root) and asset.is_file()
    except (OSError, ValueError):  # a NUL byte, a name longer than the file system allows...
        return None
    return asset if found else None
