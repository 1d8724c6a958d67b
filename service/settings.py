"""Service settings: one pydantic-settings model from a YAML file overridden by the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CommaList = Annotated[list[str], NoDecode]


class McpServer(BaseModel):
    """An MCP server the Responses upstream offers the model (`RESPONSES_MCP_SERVERS`)."""

    model_config = ConfigDict(extra="forbid")

    server_label: str
    server_url: str
    headers: dict[str, str] | None = None
    allowed_tools: list[str] | None = None


class SettingsFileError(ValueError):
    """The settings file named by --config or SERVICE_CONFIG cannot be used."""


class Settings(BaseSettings):
    """Everything the service can be configured with (see the README's settings table)."""

    model_config = SettingsConfigDict(extra="forbid", case_sensitive=False)

    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)
    llama_stack_base_url: str | None = None
    llama_stack_api_key: SecretStr | None = None
    llama_stack_api: Literal["responses", "agents"] = "responses"
    default_model: str | None = None
    heartbeat_interval: PositiveFloat = 5.0
    stream_timeout: PositiveFloat = 600.0
    write_timeout: PositiveFloat = 30.0
    drain_timeout: NonNegativeFloat = 20.0
    max_concurrent_streams: PositiveInt = 1000
    max_followers_per_stream: PositiveInt = Field(
        default=8,
        description=(
            "Most followers one resumable stream may have on this instance at once (GET "
            "/v1/streams/{id} and resuming POSTs; the connection that started it is not one); "
            "more get 429 with Retry-After."
        ),
    )
    max_concurrent_followers: PositiveInt | None = Field(
        default=None,
        description=(
            "Most followers of all resumable streams this instance serves at once; more get "
            "429 with Retry-After. Unset: MAX_CONCURRENT_STREAMS."
        ),
    )
    max_body_bytes: PositiveInt = 1048576
    body_read_timeout: PositiveFloat = Field(
        default=30.0,
        description="Seconds a request body may take to arrive complete; slower ones get 408.",
    )
    auth_mode: Literal["none", "api-key", "jwt"] = "none"
    auth_api_keys: SecretStr | None = None
    auth_api_keys_file: Path | None = None
    auth_jwks_url: str | None = None
    auth_jwks_cache_seconds: NonNegativeFloat = 300.0
    auth_jwt_audience: str | None = None
    auth_jwt_issuer: str | None = None
    auth_jwt_algorithms: CommaList = Field(
        default_factory=lambda: ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
    )
    auth_protect_metrics: bool = False
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    resume_window: NonNegativeFloat = 0.0
    redis_url: str | None = None
    resume_max_stream_bytes: PositiveInt = 1048576
    cors_allow_origins: CommaList = Field(default_factory=list)
    upstream_connect_timeout: PositiveFloat = 10.0
    readiness_cache_seconds: NonNegativeFloat = 2.0
    agent_instructions: str = "You are a helpful assistant."
    agent_toolgroups: CommaList = Field(default_factory=list)
    agent_vector_db_ids: CommaList = Field(default_factory=list)
    agent_input_shields: CommaList = Field(default_factory=list)
    agent_output_shields: CommaList = Field(default_factory=list)
    demo_delay: NonNegativeFloat = 0.05
    otel_exporter_otlp_endpoint: str | None = None
    responses_vector_store_ids: CommaList = Field(default_factory=list)
    responses_mcp_servers: list[McpServer] = Field(default_factory=list)
    responses_guardrails: CommaList = Field(default_factory=list)
    responses_moderation: bool = False

    @field_validator(
        "cors_allow_origins",
        "agent_toolgroups",
        "agent_vector_db_ids",
        "agent_input_shields",
        "agent_output_shields",
        "responses_vector_store_ids",
        "responses_guardrails",
        "auth_jwt_algorithms",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def follower_limit(self) -> int:
        """Most followers this instance serves at once (MAX_CONCURRENT_FOLLOWERS or streams)."""
        if self.max_concurrent_followers is None:
            return self.max_concurrent_streams
        return self.max_concurrent_followers

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Command-line values win over the environment, which wins over the YAML file."""
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from `config_file` (or $SERVICE_CONFIG), the environment and overrides."""
    path = config_file or os.environ.get("SERVICE_CONFIG") or None
    if path is not None and not Path(path).is_file():
        raise SettingsFileError(f"settings file not found: {path}")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(yaml_file=path)

    return FileSettings(**{key: value for key, value in overrides.items() if value is not None})
