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
ReasoningEffort = Literal["minimal", "low", "medium", "high", "xhigh"]
"""How hard a reasoning model thinks: the Responses `reasoning.effort` ("none": leave it unset)."""


class McpApprovalFilter(BaseModel):
    """Tools that need approval (`always`) and tools that do not (`never`), by name."""

    model_config = ConfigDict(extra="forbid")

    always: list[str] | None = None
    never: list[str] | None = None


class McpServer(BaseModel):
    """An MCP server the Responses upstream offers the model (`RESPONSES_MCP_SERVERS`)."""

    model_config = ConfigDict(extra="forbid")

    server_label: str
    server_url: str
    headers: dict[str, str] | None = None
    allowed_tools: list[str] | None = None
    require_approval: Literal["never", "always"] | McpApprovalFilter = "never"
    """Which of the server's tools need a person's approval before they run (OGX's
    `require_approval`): `never`, `always`, or `{"always": [...], "never": [...]}`."""


class SettingsFileError(ValueError):
    """The settings file named by --config or SERVICE_CONFIG cannot be used."""


class Settings(BaseSettings):
    """Everything the service can be configured with; each field describes itself for the docs."""

    model_config = SettingsConfigDict(extra="forbid", case_sensitive=False)

    host: str = Field(default="0.0.0.0", description="Where to listen: the address.")
    port: int = Field(default=8080, ge=0, le=65535, description="Where to listen: the port.")
    llama_stack_base_url: str | None = Field(
        default=None, description="The upstream llama-stack server; unset: the demo agent."
    )
    llama_stack_api_key: SecretStr | None = Field(default=None, description="The upstream's key.")
    llama_stack_api: Literal["responses", "agents"] = Field(
        default="responses",
        description="`responses` (llama-stack 0.4+, the Responses API) or `agents` (up to 0.3,"
        " the Agents turn stream).",
    )
    default_model: str | None = Field(
        default=None,
        description="Model when the request names none; unset: the first LLM the upstream lists.",
    )
    heartbeat_interval: PositiveFloat = Field(
        default=5.0, description="Keep-alive after this much silence."
    )
    stream_timeout: PositiveFloat = Field(
        default=600.0,
        description="Longest a stream may run; then an error frame and the terminal frame.",
    )
    write_timeout: PositiveFloat = Field(
        default=30.0,
        description="A client that has not taken a frame for this long (stopped reading) has its"
        " stream ended, with a log line; aiohttp's write buffer bounds the memory until then.",
    )
    drain_timeout: NonNegativeFloat = Field(
        default=20.0,
        description="On SIGTERM, how long open streams may finish before they get an error frame"
        " and their terminal frame.",
    )
    max_concurrent_streams: PositiveInt = Field(default=1000, description="More get 429.")
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
    max_body_bytes: PositiveInt = Field(
        default=1048576, description="Larger request bodies get 413."
    )
    body_read_timeout: PositiveFloat = Field(
        default=30.0,
        description="Seconds a request body may take to arrive complete; slower ones get 408 JSON"
        " and the connection is closed.",
    )
    auth_mode: Literal["none", "api-key", "jwt"] = Field(
        default="none",
        description="`none`, `api-key` or `jwt`: bearer tokens on the API routes.",
    )
    auth_api_keys: SecretStr | None = Field(
        default=None, description="api-key: comma-separated keys, each `key` or `name:key`."
    )
    auth_api_keys_file: Path | None = Field(
        default=None,
        description="api-key: a file of keys, one a line (`key` or `name:key`, `#` comments), read"
        " again when it changes (a mounted Secret).",
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="jwt: where the signing keys are (a JWKS), fetched and cached; required for"
        " `jwt`.",
    )
    auth_jwks_cache_seconds: NonNegativeFloat = Field(
        default=300.0,
        description="jwt: how long the fetched keys are used before fetching again.",
    )
    auth_jwt_audience: str | None = Field(
        default=None, description="jwt: the `aud` every token must carry (required for `jwt`)."
    )
    auth_jwt_issuer: str | None = Field(
        default=None, description="jwt: the `iss` every token must carry (checked when set)."
    )
    auth_jwt_algorithms: CommaList = Field(
        default_factory=lambda: ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"],
        description="jwt: accepted signature algorithms (public-key ones only).",
    )
    auth_protect_metrics: bool = Field(
        default=False, description="With auth on, `/metrics` needs a token too."
    )
    log_format: Literal["json", "console"] | None = Field(
        default=None, description="`json` or `console`; unset: `console` on a TTY, else `json`."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="`debug`, `info`, `warning`, `error`."
    )
    resume_window: NonNegativeFloat = Field(
        default=0.0,
        description="Resumable streams: a turn keeps running this long after its last reader"
        " left, and its frames are kept this long after it ends; `0` = off (a disconnect cancels"
        " the turn within one heartbeat).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Resumable streams live in Redis (`redis://…`), so a reconnect may land on"
        " any replica; unset: in-process.",
    )
    approval_timeout: PositiveFloat = Field(
        default=300.0,
        description="A tool approval request not decided within this many seconds expires (the"
        " tool is not run); the wait does not count against `STREAM_TIMEOUT`.",
    )
    resume_max_stream_bytes: PositiveInt = Field(
        default=1048576,
        description="Frames one resumable stream may keep; past it the stream ends with an error"
        " frame and its terminal frame (logged).",
    )
    cors_allow_origins: CommaList = Field(
        default_factory=list,
        description="Comma-separated origins allowed by CORS (`aiohttp-cors`); none: no CORS"
        " headers.",
    )
    upstream_connect_timeout: PositiveFloat = Field(
        default=10.0,
        description="Limit for connecting and for each set-up call to the upstream.",
    )
    readiness_cache_seconds: NonNegativeFloat = Field(
        default=2.0, description="How long `/readiness` reuses the upstream's answer."
    )
    agent_instructions: str = Field(
        default="You are a helpful assistant.",
        description="Agent instructions (Responses: `instructions`) when the request has no"
        " `system_prompt`.",
    )
    a2a_public_url: str | None = Field(
        default=None,
        description="The A2A agent card's base URL (`https://host[:port]`, before `/a2a`);"
        " unset: the origin each card request was made to.",
    )
    agent_toolgroups: CommaList = Field(
        default_factory=list,
        description="Tool groups given to the agent (dropped with `no_tools`).",
    )
    agent_vector_db_ids: CommaList = Field(
        default_factory=list,
        description="Vector DBs the agent's RAG tool searches: it gets"
        " `builtin::rag/knowledge_search` with these `vector_db_ids`, as lightspeed-stack passes"
        " them (`builtin::rag` in `AGENT_TOOLGROUPS` without them is left out with a warning).",
    )
    agent_input_shields: CommaList = Field(
        default_factory=list, description="Input shields given to the agent."
    )
    agent_output_shields: CommaList = Field(
        default_factory=list, description="Output shields given to the agent."
    )
    demo_delay: NonNegativeFloat = Field(
        default=0.05, description="The demo agent's pace: seconds per step unit."
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="Send OpenTelemetry traces there (OTLP over HTTP, `/v1/traces` is appended);"
        " needs the `otel` extra; unset: no tracing.",
    )
    responses_vector_store_ids: CommaList = Field(
        default_factory=list,
        description="Responses: vector stores one `file_search` tool searches (dropped with"
        " `no_tools`).",
    )
    allowed_vector_store_ids: CommaList = Field(
        default_factory=list,
        description="Vector stores a request's `vector_store_ids` may name (any other is a 422"
        " naming these); the request's list then replaces `RESPONSES_VECTOR_STORE_IDS`"
        " (Agents: `AGENT_VECTOR_DB_IDS`, for a new conversation) for its turn. Empty: a request"
        " may name none.",
    )
    responses_mcp_servers: list[McpServer] = Field(
        default_factory=list,
        description='Responses: MCP servers offered as tools, a JSON list of `{"server_label",'
        ' "server_url", "headers"?, "allowed_tools"?, "require_approval"?}` (YAML: a list of'
        " mappings; dropped with `no_tools`); `require_approval`: `never` (default), `always` or"
        ' `{"always": [tools], "never": [tools]}`.',
    )
    responses_guardrails: CommaList = Field(
        default_factory=list,
        description="Responses on llama-stack 0.x: shields run as `guardrails` on input and"
        " output.",
    )
    responses_reasoning_effort: ReasoningEffort | None = Field(
        default=None,
        description="Responses: ask the model to reason (`reasoning: {effort}`); its reasoning"
        " streams as each format's reasoning parts. OGX 1.x and llama-stack 0.7 pass a model's"
        " reasoning on only from inference providers that read it (remote::vllm, ollama,"
        " bedrock; not remote::openai). Unset: not asked.",
    )
    responses_moderation: bool = Field(
        default=False,
        description="Responses on OGX 1.x: `guardrails: true`, moderation through the"
        " `moderation_endpoint` of OGX's responses provider (OGX has no shields;"
        " `RESPONSES_GUARDRAILS` names llama-stack 0.x shields).",
    )

    @field_validator(
        "cors_allow_origins",
        "agent_toolgroups",
        "agent_vector_db_ids",
        "agent_input_shields",
        "agent_output_shields",
        "responses_vector_store_ids",
        "allowed_vector_store_ids",
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
