"""`GET /` and `/ui/`: the chat page and its assets, beside (never instead of) the API."""

from __future__ import annotations

import re

import pytest
from structlog.testing import capture_logs

from service.http import web_ui
from service.http.web_ui import STATIC_DIR
from tests.service.raw_http import exchange

ASSET = re.compile(r'(?:href|src)="(ui/[^"]+)"')


async def test_the_page_is_the_built_index_and_never_cached(make_client):
    client = await make_client()
    response = await client.get("/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    assert await response.read() == (STATIC_DIR / "index.html").read_bytes()


async def test_the_assets_the_page_names_are_served_for_good(make_client):
    client = await make_client()
    page = await (await client.get("/")).text()
    assets = ASSET.findall(page)
    assert sorted(path.rsplit(".", 1)[1] for path in assets) == ["css", "js"]
    for path in assets:
        response = await client.get("/" + path)
        assert response.status == 200, path
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert await response.read() == (STATIC_DIR / path).read_bytes()
    types = {path.rsplit(".", 1)[1]: (await client.get("/" + path)).content_type for path in assets}
    assert types == {"css": "text/css", "js": "text/javascript"}


async def test_the_fonts_the_stylesheet_names_are_served(make_client):
    client = await make_client()
    page = await (await client.get("/")).text()
    (css,) = [path for path in ASSET.findall(page) if path.endswith(".css")]
    fonts = re.findall(r'url\("\./(assets/[^"]+\.woff2)"\)', (STATIC_DIR / css).read_text())
    assert fonts, "the stylesheet names no font"
    for font in fonts:
        response = await client.get(f"/ui/{font}")
        assert response.status == 200, font
        assert response.content_type == "font/woff2"


async def test_the_api_answers_beside_the_page(make_client):
    client = await make_client()
    formats = await client.get("/v1/formats")
    assert formats.status == 200
    assert "patternfly" in [entry["name"] for entry in await formats.json()]
    stream = await client.post("/v1/streaming_query", json={"query": "Hi"})
    assert stream.status == 200
    assert (await stream.text()).startswith('data: {"event": "start"')


async def test_an_unknown_asset_or_a_path_out_of_ui_is_a_json_404(make_client):
    client = await make_client()
    for path in ("/ui/nothing.js", "/ui/../web_ui.py", "/ui/%2e%2e/%2e%2e/service/web_ui.py"):
        response = await client.get(path)
        assert response.status == 404, path
        assert await response.json() == {
            "detail": {"response": "Not Found", "cause": "No such route."}
        }, path


@pytest.mark.parametrize(
    "path", ["/ui/a%00b.js", "/ui/%00", "/ui/" + "a" * 300 + ".js", "/ui/" + "a/" * 3000 + "x"]
)
async def test_a_name_with_nul_or_too_long_for_the_file_system_is_a_json_404(make_client, path):
    client = await make_client()
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    with capture_logs() as logs:
        answer = await exchange(client.port, request)
    assert answer is not None
    assert answer.status_line == "HTTP/1.1 404 Not Found"
    assert answer.json() == {"detail": {"response": "Not Found", "cause": "No such route."}}
    assert [e for e in logs if e["log_level"] in ("error", "critical", "exception")] == []


async def test_posting_to_the_page_is_a_json_405(make_client):
    client = await make_client()
    response = await client.post("/", json={"query": "Hi"})
    assert response.status == 405
    assert (await response.json())["detail"]["response"] == "Method Not Allowed"


async def test_without_a_built_page_the_root_says_how_to_build_it(
    make_client, monkeypatch, tmp_path
):
    monkeypatch.setattr(web_ui, "STATIC_DIR", tmp_path)
    client = await make_client()
    response = await client.get("/")
    assert response.status == 503
    assert await response.text() == (
        "The chat page is not built. Build it with: cd web && npm ci && npm run build\n"
        "(the API itself works without it: POST /v1/streaming_query)\n"
    )
