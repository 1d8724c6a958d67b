"""Bearer auth: API keys (environment or mounted file) and JWTs against a JWKS; probes stay open."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_aiohttp import AiohttpClient, AiohttpServer
from structlog.testing import capture_logs

from service.__main__ import main
from service.http.app import create_app
from service.http.auth import AuthConfigError, parse_keys
from service.keys import PRINCIPAL
from service.route_spec import Answer, declare
from service.settings import Settings, load_settings
from tests.conftest import MakeClient, split_frames
from tests.paths import REPO
from tests.service.raw_http import exchange

QUERY = {"query": "Say hello."}
KEY = "k-3f9a0c1d2e4b5a6978"
OTHER_KEY = "k-0000aaaa1111bbbb22"
CHALLENGE = 'Bearer realm="agent-stream-gateway"'


@declare(
    "Who the request authenticated as (a route of these tests).", {200: Answer("Its principal.")}
)
async def whoami(request: web.Request) -> web.Response:
    return web.json_response({"principal": request.get(PRINCIPAL)})


@pytest.fixture
def auth_client(aiohttp_client: AiohttpClient) -> Any:
    """The service (demo agent) with auth settings, plus a `/v1/whoami` route showing PRINCIPAL."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        app = create_app(Settings(**{"demo_delay": 0, **overrides}))
        app.router.add_get("/v1/whoami", whoami)
        return await aiohttp_client(app)

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def rejected_unauthorized(client: TestClient[Any, Any]) -> float:
    text = await (await client.get("/metrics")).text()
    line = 'agent_stream_gateway_rejected_requests_total{reason="unauthorized"}'
    (sample,) = [row for row in text.splitlines() if row.startswith(line)]
    return float(sample.split()[-1])


# API keys


async def test_no_token_is_401_with_a_bearer_challenge_in_the_error_shape(auth_client):
    client = await auth_client(auth_mode="api-key", auth_api_keys=f"web:{KEY}")
    response = await client.post("/v1/streaming_query", json=QUERY)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert await response.json() == {
        "detail": {
            "response": "Unauthorized",
            "cause": "Send the header 'Authorization: Bearer <token>'.",
        }
    }
    assert await rejected_unauthorized(client) == 1


async def test_a_wrong_key_is_401_invalid_token(auth_client):
    client = await auth_client(auth_mode="api-key", auth_api_keys=f"web:{KEY}")
    response = await client.post("/v1/streaming_query", json=QUERY, headers=bearer(OTHER_KEY))
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == (
        f'{CHALLENGE}, error="invalid_token", error_description="The API key is not valid."'
    )
    assert (await response.json())["detail"]["cause"] == "The API key is not valid."
    assert await rejected_unauthorized(client) == 1


@pytest.mark.parametrize(
    "header", ["Basic d2ViOms=", "Bearer", "Bearer   ", KEY, f"Token {KEY}"], ids=repr
)
async def test_anything_but_a_bearer_token_is_401(auth_client, header):
    client = await auth_client(auth_mode="api-key", auth_api_keys=KEY)
    response = await client.get("/v1/formats", headers={"Authorization": header})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE


async def test_a_valid_key_streams_and_names_its_principal(auth_client):
    client = await auth_client(auth_mode="api-key", auth_api_keys=f"web:{KEY}, cli:{OTHER_KEY}")
    response = await client.post("/v1/streaming_query", json=QUERY, headers=bearer(KEY))
    assert response.status == 200
    frames = split_frames(await response.read())
    assert json.loads(frames[-1][6:])["event"] == "end"
    assert await (await client.get("/v1/whoami", headers=bearer(OTHER_KEY))).json() == {
        "principal": "cli"
    }
    assert await rejected_unauthorized(client) == 0


async def test_a_key_without_a_name_gets_a_fingerprint_that_is_not_the_key(auth_client):
    client = await auth_client(auth_mode="api-key", auth_api_keys=KEY)
    principal = (await (await client.get("/v1/whoami", headers=bearer(KEY))).json())["principal"]
    assert principal.startswith("key-")
    assert len(principal) == 12
    assert KEY not in principal


async def test_keys_from_a_mounted_file_are_read_again_when_it_changes(auth_client, tmp_path):
    keys = tmp_path / "api-keys"
    keys.write_text(f"# frontend keys\nweb:{KEY}\n\n")
    client = await auth_client(auth_mode="api-key", auth_api_keys_file=keys)
    assert (await client.get("/v1/whoami", headers=bearer(KEY))).status == 200
    assert (await client.get("/v1/whoami", headers=bearer(OTHER_KEY))).status == 401
    rotated = tmp_path / "api-keys.new"  # the way a Secret volume swaps its files
    rotated.write_text(f"web-2:{OTHER_KEY}\n")
    rotated.replace(keys)
    answer = await client.get("/v1/whoami", headers=bearer(OTHER_KEY))
    assert await answer.json() == {"principal": "web-2"}
    assert (await client.get("/v1/whoami", headers=bearer(KEY))).status == 401


async def test_a_key_file_that_disappears_keeps_the_last_keys(auth_client, tmp_path):
    keys = tmp_path / "api-keys"
    keys.write_text(f"web:{KEY}\n")
    client = await auth_client(auth_mode="api-key", auth_api_keys_file=keys)
    keys.unlink()
    with capture_logs() as logs:
        assert (await client.get("/v1/whoami", headers=bearer(KEY))).status == 200
    assert "cannot re-read the API key file; keeping the last keys" in [e["event"] for e in logs]


async def test_keys_and_tokens_are_never_logged(auth_client, tmp_path):
    keys = tmp_path / "api-keys"
    keys.write_text(f"web:{KEY}\n")
    with capture_logs() as logs:
        client = await auth_client(auth_mode="api-key", auth_api_keys_file=keys)
        await (await client.post("/v1/streaming_query", json=QUERY, headers=bearer(KEY))).read()
        await client.get("/v1/whoami", headers=bearer(OTHER_KEY))
    assert logs, "nothing was logged: the check would be empty"
    text = repr(logs)
    assert KEY not in text
    assert OTHER_KEY not in text


async def test_probes_metrics_the_page_and_the_api_description_stay_open(auth_client):
    client = await auth_client(auth_mode="api-key", auth_api_keys=KEY)
    for path in ("/liveness", "/readiness", "/metrics", "/openapi.json", "/"):
        response = await client.get(path)
        assert response.status == 200, path
        assert "WWW-Authenticate" not in response.headers
    for path in ("/v1/formats", "/v1/events/schema", "/v1/nothing-here"):
        assert (await client.get(path)).status == 401, path
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert (await client.post("/v1/chat/completions", json=chat)).status == 401


async def test_metrics_need_a_token_when_protected(auth_client):
    client = await auth_client(auth_mode="api-key", auth_api_keys=KEY, auth_protect_metrics=True)
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers=bearer(KEY))).status == 200
    assert (await client.get("/liveness")).status == 200


async def test_with_auth_off_nothing_asks_for_a_token(auth_client):
    client = await auth_client()
    assert (await client.post("/v1/streaming_query", json=QUERY)).status == 200
    assert await (await client.get("/v1/whoami")).json() == {"principal": None}


def test_key_entries_are_key_or_name_colon_key_with_comments_and_blanks_skipped():
    parsed = parse_keys("# comment\nweb: abc \n\n  xyz\n", "\n")
    assert sorted(parsed.values()) == ["key-3608bca1", "web"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"auth_mode": "api-key"}, "AUTH_MODE=api-key needs at least one key"),
        ({"auth_mode": "api-key", "auth_api_keys": " , "}, "needs at least one key"),
        ({"auth_mode": "api-key", "auth_api_keys": "web:"}, "API key entry 'web' has no key"),
        (
            {"auth_mode": "api-key", "auth_api_keys_file": "/nonexistent/api-keys"},
            "cannot read AUTH_API_KEYS_FILE /nonexistent/api-keys",
        ),
        ({"auth_mode": "jwt", "auth_jwt_audience": "a"}, "AUTH_MODE=jwt needs AUTH_JWKS_URL"),
        ({"auth_mode": "jwt", "auth_jwks_url": "http://x"}, "needs AUTH_JWT_AUDIENCE"),
        (
            {
                "auth_mode": "jwt",
                "auth_jwks_url": "http://x",
                "auth_jwt_audience": "a",
                "auth_jwt_algorithms": "RS256,HS256",
            },
            "AUTH_JWT_ALGORITHMS must be public-key ones, not ['HS256']",
        ),
    ],
)
def test_auth_settings_that_cannot_work_refuse_to_build_the_app(overrides, message):
    with pytest.raises(AuthConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        create_app(Settings(**overrides))


def test_python_m_service_exits_2_when_auth_has_no_keys(monkeypatch, capsys):
    monkeypatch.setenv("AUTH_MODE", "api-key")
    monkeypatch.setattr("service.__main__.configure_logging", lambda *args: None)
    assert main([]) == 2
    assert "invalid settings: AUTH_MODE=api-key needs at least one key" in capsys.readouterr().err


async def test_the_prod_overlay_reads_the_keys_its_secret_mounts(
    aiohttp_client, tmp_path, monkeypatch
):
    patch = (REPO / "deploy/overlays/prod/deployment-patch.yaml").read_text()
    assert "AUTH_API_KEYS_FILE" in patch
    keys = tmp_path / "api-keys"
    keys.write_text(f"frontend:{KEY}\n")
    monkeypatch.setenv("AUTH_API_KEYS_FILE", str(keys))
    settings = load_settings(REPO / "deploy/overlays/prod/settings.yaml")
    assert settings.auth_mode == "api-key"
    app = create_app(settings, upstream=object())  # type: ignore[arg-type]
    app.router.add_get("/v1/whoami", whoami)
    client = await aiohttp_client(app)
    assert await (await client.get("/v1/whoami", headers=bearer(KEY))).json() == {
        "principal": "frontend"
    }
    assert (await client.get("/v1/whoami")).status == 401


# JWT against a JWKS served by a local test server


class Issuer:
    """An identity provider: an RSA key, its JWKS, and tokens signed with it."""

    def __init__(self, kid: str = "key-1") -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.fetches = 0
        self.up = True

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, kid: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "sub": "alice",
            "aud": "agent-stream-gateway",
            "iss": "https://idp.example.com",
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        payload = {key: value for key, value in payload.items() if value is not None}
        return jwt.encode(
            payload, self.private, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def app(self) -> web.Application:
        async def serve(request: web.Request) -> web.Response:
            self.fetches += 1
            if not self.up:
                return web.Response(status=500)
            return web.json_response(self.jwks())

        app = web.Application()
        app.router.add_get("/.well-known/jwks.json", serve)
        return app


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
async def jwt_client(aiohttp_server: AiohttpServer, auth_client: MakeClient, issuer: Issuer) -> Any:
    server = await aiohttp_server(issuer.app())

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        return await auth_client(
            auth_mode="jwt",
            auth_jwks_url=str(server.make_url("/.well-known/jwks.json")),
            auth_jwt_audience="agent-stream-gateway",
            auth_jwt_issuer="https://idp.example.com",
            **overrides,
        )

    return make


async def refused(client: TestClient[Any, Any], token: str) -> str:
    response = await client.get("/v1/whoami", headers=bearer(token))
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith(f'{CHALLENGE}, error="invalid_token"')
    return str((await response.json())["detail"]["cause"])


async def test_a_valid_jwt_streams_and_its_subject_is_the_principal(jwt_client, issuer):
    client = await jwt_client()
    token = issuer.token()
    response = await client.post("/v1/streaming_query", json=QUERY, headers=bearer(token))
    assert response.status == 200
    assert json.loads(split_frames(await response.read())[-1][6:])["event"] == "end"
    answer = await client.get("/v1/whoami", headers=bearer(token))
    assert await answer.json() == {"principal": "alice"}
    assert issuer.fetches == 1, "the key set is cached"


async def test_an_expired_jwt_is_401(jwt_client, issuer):
    client = await jwt_client()
    past = int(time.time()) - 3600
    assert await refused(client, issuer.token(iat=past, exp=past + 60)) == "The token has expired."


async def test_a_jwt_for_another_audience_is_401(jwt_client, issuer):
    client = await jwt_client()
    cause = await refused(client, issuer.token(aud="some-other-service"))
    assert cause == "The token is not meant for this service (audience)."


async def test_a_jwt_from_another_issuer_is_401(jwt_client, issuer):
    client = await jwt_client()
    cause = await refused(client, issuer.token(iss="https://evil.example.com"))
    assert cause == "The token comes from an issuer this service does not trust."


async def test_a_jwt_without_expiry_or_subject_is_401(jwt_client, issuer):
    client = await jwt_client()
    assert await refused(client, issuer.token(exp=None)) == "The token has no 'exp' claim."
    assert await refused(client, issuer.token(sub=None)) == "The token has no 'sub' claim."


async def test_a_jwt_signed_by_another_key_under_the_same_id_is_401(jwt_client, issuer):
    client = await jwt_client()
    forged = Issuer(kid=issuer.kid).token()
    assert await refused(client, forged) == "The token's signature or claims are not valid."


async def test_an_unknown_key_id_fetches_the_key_set_again_at_most_every_10_s(jwt_client, issuer):
    client = await jwt_client()
    assert (await client.get("/v1/whoami", headers=bearer(issuer.token()))).status == 200
    stranger = Issuer(kid="key-2").token()
    cause = await refused(client, stranger)
    assert cause == "The token was not signed by a key this service knows."
    await refused(client, stranger)
    assert issuer.fetches == 1, "a fresh key set is not fetched again for an unknown key id"


async def test_a_rotated_key_is_found_by_fetching_the_key_set_again(jwt_client, issuer):
    client = await jwt_client(auth_jwks_cache_seconds=0)
    assert (await client.get("/v1/whoami", headers=bearer(issuer.token()))).status == 200
    rotated = Issuer(kid="key-2")
    issuer.kid, issuer.private = rotated.kid, rotated.private
    assert (await client.get("/v1/whoami", headers=bearer(rotated.token()))).status == 200
    assert issuer.fetches == 2


async def test_symmetric_and_unsigned_jwts_are_refused(jwt_client, issuer):
    client = await jwt_client()
    public_pem = issuer.jwks()["keys"][0]["n"]
    hs256 = jwt.encode({"sub": "mallory", "aud": "agent-stream-gateway"}, public_pem, "HS256")
    assert await refused(client, hs256) == "The token's algorithm 'HS256' is not accepted."
    unsigned = jwt.encode({"sub": "mallory"}, None, algorithm="none")  # type: ignore[arg-type]
    assert await refused(client, unsigned) == "The token's algorithm 'none' is not accepted."
    assert await refused(client, "not-a-jwt") == "The token is not a JWT."


async def test_an_unreachable_key_set_is_503_not_a_pass(jwt_client, issuer):
    issuer.up = False
    client = await jwt_client()
    response = await client.get("/v1/whoami", headers=bearer(issuer.token()))
    assert response.status == 503
    assert (await response.json())["detail"]["response"] == "Unable to verify credentials"


async def test_probes_stay_open_with_jwt_auth(jwt_client, issuer):
    client = await jwt_client()
    assert (await client.get("/liveness")).status == 200
    assert (await client.get("/readiness")).status == 200
    assert (await client.post("/v1/streaming_query", json=QUERY)).status == 401
    assert issuer.fetches == 0, "a request without a token never fetches the key set"


def test_the_key_file_path_in_the_deployment_docs_matches_the_prod_overlay():
    patch = (REPO / "deploy/overlays/prod/deployment-patch.yaml").read_text()
    path = patch.split("name: AUTH_API_KEYS_FILE")[1].split("value:")[1].split()[0]
    assert path in (REPO / "docs/operations.md").read_text()
    assert Path(path).name == "api-keys"


# Bytes that are not UTF-8 in the header (aiohttp keeps them as surrogates in the string)

NOT_UTF8 = "The token has bytes that are not UTF-8 text."


async def assert_not_utf8_refused(client: TestClient[Any, Any], caplog: Any) -> None:
    request = (
        b"GET /v1/formats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Authorization: Bearer k-\xff\xfe\xc3\x28\r\n\r\n"
    )
    with capture_logs() as logs:
        assert client.port is not None
        answer = await exchange(client.port, request)
    assert answer is not None
    assert answer.status_line == "HTTP/1.1 401 Unauthorized"
    assert answer.headers["www-authenticate"] == (
        f'{CHALLENGE}, error="invalid_token", error_description="{NOT_UTF8}"'
    )
    assert answer.json() == {"detail": {"response": "Unauthorized", "cause": NOT_UTF8}}
    assert [e for e in logs if e["log_level"] in ("error", "critical", "exception")] == []
    assert {"event": "request refused: bad credentials", "reason": NOT_UTF8} in [
        {k: e[k] for k in ("event", "reason") if k in e} for e in logs
    ]
    assert [r for r in caplog.records if r.levelno >= 40] == []


async def test_an_api_key_that_is_not_utf8_is_401_and_logs_no_error(auth_client, caplog):
    client = await auth_client(auth_mode="api-key", auth_api_keys=f"web:{KEY}")
    await assert_not_utf8_refused(client, caplog)


async def test_a_jwt_that_is_not_utf8_is_401_and_logs_no_error(jwt_client, caplog):
    await assert_not_utf8_refused(await jwt_client(), caplog)
