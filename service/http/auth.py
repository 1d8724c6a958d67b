"""Bearer-token authentication of the API routes: API keys or JWTs checked against a JWKS."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import jwt
import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from service.errors import Rejected, refusal
from service.keys import AUTHENTICATOR, PRINCIPAL, SETTINGS
from service.route_spec import Answer, Header, jwt_auth
from service.settings import Settings

log = structlog.get_logger(__name__)

REALM = "agent-stream-gateway"
OPEN_PATHS = frozenset(
    {"/liveness", "/readiness", "/openapi.json", "/", "/.well-known/agent-card.json"}
)
"""Routes that never ask for a token: the probes, the API description, the chat page and the
A2A agent card (which tells a client how to reach the agent)."""
OPEN_PREFIXES = ("/ui/",)
METRICS_PATH = "/metrics"
SYMMETRIC = ("HS", "none")
LEEWAY_SECONDS = 30.0
"""Clock skew allowed when checking a JWT's `exp`, `nbf` and `iat`."""
NOT_UTF8 = "The token has bytes that are not UTF-8 text."
JWKS_REFRESH_SECONDS = 10.0
"""A token with an unknown key id fetches the key set again at most this often."""

AUTH_REFUSALS: dict[int, Answer] = {
    401: refusal(
        "Authentication is on and the bearer token is missing or not valid.",
        headers={"WWW-Authenticate": Header(required=True)},
    ),
    503: refusal("The service cannot fetch the keys that sign tokens (JWKS).", when=jwt_auth),
}
"""What `authenticate` may refuse: declared by every route it guards when auth is on."""


class AuthConfigError(ValueError):
    """The auth settings cannot work (no keys, no JWKS URL, a symmetric algorithm...)."""


class Unauthorized(Exception):
    """The request's credentials are missing or wrong; `cause` is safe to show to the client."""

    def __init__(self, cause: str, *, invalid_token: bool = True) -> None:
        super().__init__(cause)
        self.cause = cause
        self.invalid_token = invalid_token


class Authenticator(Protocol):
    """Checks a bearer token and says who it belongs to."""

    async def principal(self, token: str) -> str:
        """Return the token's principal; raise Unauthorized if it is not valid."""
        ...

    async def aclose(self) -> None:
        """Release what the authenticator holds open."""
        ...


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_keys(text: str, separator: str) -> dict[bytes, str]:
    """Parse `key` or `name:key` entries (blank ones and `#` lines skipped) into digest → name."""
    keys: dict[bytes, str] = {}
    for entry in text.split(separator):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        name, colon, key = entry.partition(":")
        if not colon:
            name, key = "", entry
        name, key = name.strip(), key.strip()
        if not key:
            raise AuthConfigError(f"API key entry {name!r} has no key after the colon")
        digest = _digest(key)
        keys[digest] = name or f"key-{digest.hex()[:8]}"
    return keys


@dataclass(slots=True)
class _KeyFile:
    path: Path
    stamp: tuple[int, int, int] | None = None
    keys: dict[bytes, str] | None = None


class ApiKeys:
    """API keys from `AUTH_API_KEYS` and `AUTH_API_KEYS_FILE` (re-read when the file changes)."""

    def __init__(self, inline: str | None, path: Path | None) -> None:
        self._inline = parse_keys(inline, ",") if inline else {}
        self._file = _KeyFile(path) if path is not None else None
        if self._file is not None:
            try:
                self._reload(self._file)
            except OSError as exc:
                raise AuthConfigError(f"cannot read AUTH_API_KEYS_FILE {path}: {exc}") from exc
        if not self._all():
            raise AuthConfigError(
                "AUTH_MODE=api-key needs at least one key (AUTH_API_KEYS or AUTH_API_KEYS_FILE)"
            )

    def _all(self) -> dict[bytes, str]:
        if self._file is None:
            return self._inline
        if self._file.stamp is not None:
            try:
                self._reload(self._file)
            except (OSError, AuthConfigError) as exc:
                log.error("cannot re-read the API key file; keeping the last keys", error=str(exc))
        return {**(self._file.keys or {}), **self._inline}

    @staticmethod
    def _reload(key_file: _KeyFile) -> None:
        status = os.stat(key_file.path)
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if stamp == key_file.stamp:
            return
        keys = parse_keys(key_file.path.read_text(), "\n")
        key_file.stamp, key_file.keys = stamp, keys
        log.info("API keys loaded", keys=len(keys), path=str(key_file.path))

    async def principal(self, token: str) -> str:
        """Compare the token's digest with every key's in constant time; return the key's name."""
        given = _digest(token)
        found: str | None = None
        for digest, name in self._all().items():
            if hmac.compare_digest(given, digest):
                found = name
        if found is None:
            raise Unauthorized("The API key is not valid.")
        return found

    async def aclose(self) -> None:
        """Nothing to release."""


class JwtAuthenticator:
    """Validates JWTs against the keys of a JWKS URL (fetched with aiohttp, cached)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.auth_jwks_url:
            raise AuthConfigError("AUTH_MODE=jwt needs AUTH_JWKS_URL")
        if not settings.auth_jwt_audience:
            raise AuthConfigError("AUTH_MODE=jwt needs AUTH_JWT_AUDIENCE")
        if not settings.auth_jwt_algorithms:
            raise AuthConfigError("AUTH_JWT_ALGORITHMS is empty")
        symmetric = [a for a in settings.auth_jwt_algorithms if a.startswith(SYMMETRIC)]
        if symmetric:
            raise AuthConfigError(f"AUTH_JWT_ALGORITHMS must be public-key ones, not {symmetric}")
        self._url = settings.auth_jwks_url
        self._audience = settings.auth_jwt_audience
        self._issuer = settings.auth_jwt_issuer
        self._algorithms: Sequence[str] = tuple(settings.auth_jwt_algorithms)
        self._cache_seconds = settings.auth_jwks_cache_seconds
        self._timeout = aiohttp.ClientTimeout(total=settings.upstream_connect_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._keys: list[jwt.PyJWK] = []
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def principal(self, token: str) -> str:
        """Check signature, expiry, audience and issuer; return the `sub` claim."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The token is not a JWT.") from None
        algorithm = str(header.get("alg"))
        if algorithm not in self._algorithms:
            raise Unauthorized(f"The token's algorithm {algorithm!r} is not accepted.")
        key = await self._key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("The token is not meant for this service (audience).") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized(
                "The token comes from an issuer this service does not trust."
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"The token has no '{exc.claim}' claim.") from None
        except (jwt.PyJWTError, TypeError, ValueError):
            raise Unauthorized("The token's signature or claims are not valid.") from None
        return str(claims["sub"])

    async def _key(self, kid: Any) -> jwt.PyJWK:
        keys = await self._key_set(refresh=False)
        found = _pick(keys, kid)
        if found is None and kid is not None:
            found = _pick(await self._key_set(refresh=True), kid)
        if found is None:
            raise Unauthorized("The token was not signed by a key this service knows.")
        return found

    async def _key_set(self, *, refresh: bool) -> list[jwt.PyJWK]:
        loop = asyncio.get_running_loop()
        async with self._lock:
            age = None if self._fetched_at is None else loop.time() - self._fetched_at
            stale = age is None or age >= self._cache_seconds
            if stale or (refresh and age is not None and age >= JWKS_REFRESH_SECONDS):
                try:
                    self._keys = await self._fetch()
                    self._fetched_at = loop.time()
                except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWTError) as exc:
                    log.error("cannot fetch the JWKS", url=self._url, error=repr(exc))
                    if not self._keys:
                        raise Rejected(
                            503,
                            "Unable to verify credentials",
                            "The service cannot fetch the keys that sign tokens; retry later.",
                        ) from exc
            return self._keys

    async def _fetch(self) -> list[jwt.PyJWK]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.get(self._url, headers={"Accept": "application/json"}) as answer:
            answer.raise_for_status()
            document = await answer.json(content_type=None)
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        keys = jwt.PyJWKSet.from_dict(document).keys
        usable = [
            key
            for key in keys
            if key.public_key_use in (None, "sig") and key.algorithm_name in self._algorithms
        ]
        log.info("JWKS fetched", url=self._url, keys=len(usable))
        return usable

    async def aclose(self) -> None:
        """Close the session that fetches the JWKS."""
        if self._session is not None:
            await self._session.close()


def _pick(keys: list[jwt.PyJWK], kid: Any) -> jwt.PyJWK | None:
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.key_id == kid), None)


def build_authenticator(settings: Settings) -> Authenticator | None:
    """Return the authenticator `AUTH_MODE` asks for (None when off); raise AuthConfigError."""
    if settings.auth_mode == "api-key":
        inline = settings.auth_api_keys.get_secret_value() if settings.auth_api_keys else None
        return ApiKeys(inline, settings.auth_api_keys_file)
    if settings.auth_mode == "jwt":
        return JwtAuthenticator(settings)
    return None


def is_open(path: str, protect_metrics: bool) -> bool:
    """Say whether a path is served without a token."""
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return True
    return path == METRICS_PATH and not protect_metrics


def _is_utf8(token: str) -> bool:
    """Tell whether the header's bytes were UTF-8 (aiohttp keeps other bytes as surrogates)."""
    try:
        token.encode()
    except UnicodeEncodeError:
        return False
    return True


def _challenge(error: Unauthorized | None) -> str:
    if error is None or not error.invalid_token:
        return f'Bearer realm="{REALM}"'
    description = error.cause.replace('"', "'")
    return f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'


def _refuse(error: Unauthorized) -> Rejected:
    return Rejected(
        401, "Unauthorized", error.cause, headers={"WWW-Authenticate": _challenge(error)}
    )


API_KEY_HEADER = "X-Api-Key"
"""Where Anthropic's SDKs send their API key; taken as the bearer token when no Authorization."""


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require a bearer token (`Authorization` or `X-Api-Key`) off the open routes."""
    authenticator = request.app.get(AUTHENTICATOR)
    settings = request.app[SETTINGS]
    if (
        authenticator is None
        or request.method == "OPTIONS"
        or is_open(request.path, settings.auth_protect_metrics)
    ):
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not scheme and API_KEY_HEADER in request.headers:  # Anthropic's SDKs send their key so
        scheme, token = "bearer", request.headers[API_KEY_HEADER]
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _refuse(
            Unauthorized("Send the header 'Authorization: Bearer <token>'.", invalid_token=False)
        )
    if not _is_utf8(token):
        log.info("request refused: bad credentials", reason=NOT_UTF8)
        raise _refuse(Unauthorized(NOT_UTF8))
    try:
        principal = await authenticator.principal(token)
    except Unauthorized as exc:
        log.info("request refused: bad credentials", reason=exc.cause)
        raise _refuse(exc) from None
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(principal=principal)
    return await handler(request)


async def close_authenticator(app: web.Application) -> None:
    """Close the app's authenticator on cleanup."""
    authenticator = app.get(AUTHENTICATOR)
    if authenticator is not None:
        await authenticator.aclose()


def install(app: web.Application, settings: Settings) -> None:
    """Set the app's authenticator from the settings and close it on cleanup."""
    authenticator = build_authenticator(settings)
    if authenticator is not None:
        app[AUTHENTICATOR] = authenticator
        app.on_cleanup.append(close_authenticator)
