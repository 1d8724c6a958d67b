"""What a Responses server's version (llama-stack 0.x or OGX 1.x) means for the requests sent."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.settings import Settings

OGX_FIRST_MAJOR = 1
"""OGX 1.0 dropped shields: `guardrails` became one switch moderated by `moderation_endpoint`."""
_MAJOR = re.compile(r"v?(\d+)\.")

OGX_CLIENT_VERSION_HEADER = "X-OGX-Client-Version"


@dataclass(frozen=True, slots=True)
class ServerProfile:
    """The server's reported version and the Responses dialect that goes with it."""

    version: str
    moderation_switch: bool
    """True on OGX 1.x (`guardrails: true`), False on llama-stack (`guardrails: [shield ids]`)."""

    @property
    def label(self) -> str:
        """The server in plain words, e.g. `OGX 1.5.0` or `llama-stack 0.7.3`."""
        product = "OGX" if self.moderation_switch else "llama-stack"
        return f"{product} {self.version}" if self.version else product

    def headers(self) -> dict[str, str]:
        """Headers for a turn request: the OGX version this request was built for.

        OGX refuses (HTTP 426) a request whose X-OGX-Client-Version has another major.minor than
        the server's: a server upgraded behind the service refuses a request built for the old
        one instead of reading it another way. llama-stack ignores the header.
        """
        return {OGX_CLIENT_VERSION_HEADER: self.version} if self.moderation_switch else {}

    def guardrails(self, settings: Settings) -> list[str] | bool | None:
        """Return the `guardrails` request field for the settings, or None to leave it out."""
        if self.moderation_switch:
            return True if settings.responses_moderation else None
        return list(settings.responses_guardrails) or None

    def unusable_setting(self, settings: Settings) -> str | None:
        """Why a configured guardrail cannot work with this server, in plain words, or None."""
        if self.moderation_switch and settings.responses_guardrails:
            shields = ", ".join(settings.responses_guardrails)
            return (
                f"RESPONSES_GUARDRAILS names shields ({shields}), but {self.label} has no "
                "shields: its guardrails are one switch that moderates through the "
                "moderation_endpoint of its responses provider. Unset RESPONSES_GUARDRAILS and "
                "set RESPONSES_MODERATION=true."
            )
        if not self.moderation_switch and settings.responses_moderation:
            return (
                f"RESPONSES_MODERATION needs OGX 1.0 or later, but the server is {self.label}, "
                "whose guardrails are named shields: list them in RESPONSES_GUARDRAILS instead."
            )
        return None


def profile_of(version: str) -> ServerProfile:
    """Return the profile of a server that reports `version` (llama-stack's dialect if unclear)."""
    major = _MAJOR.match(version.strip())
    moderation_switch = major is not None and int(major.group(1)) >= OGX_FIRST_MAJOR
    return ServerProfile(version=version.strip(), moderation_switch=moderation_switch)


def missing_moderation_endpoint(
    profile: ServerProfile, settings: Settings, providers: Sequence[Mapping[str, object]]
) -> str | None:
    """Why RESPONSES_MODERATION cannot work: no responses provider with a moderation_endpoint."""
    if not (profile.moderation_switch and settings.responses_moderation):
        return None
    configs = [
        provider.get("config")
        for provider in providers
        if provider.get("api") == "responses" and isinstance(provider.get("config"), Mapping)
    ]
    # Only a provider that shows the setting, empty, proves it missing; others cannot be checked.
    if not configs or any(
        not isinstance(config, Mapping) or config.get("moderation_endpoint", "?")
        for config in configs
    ):
        return None
    return (
        f"RESPONSES_MODERATION is on, but {profile.label}'s responses provider has no "
        "moderation_endpoint, so it refuses every turn that asks for guardrails: set "
        "moderation_endpoint in its run config, or set RESPONSES_MODERATION=false."
    )
