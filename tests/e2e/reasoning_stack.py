"""An OGX server whose inference provider passes a model's reasoning on: remote::vllm.

OGX 1.5 (and llama-stack 0.7.3, the same code) streams a model's reasoning only when the request
asks for it (`reasoning.effort`) and the inference provider implements
`openai_chat_completions_with_reasoning`: remote::vllm, ollama, bedrock and nvidia read
`reasoning` / `reasoning_content` from the chat-completion deltas; the e2e tier's remote::openai
raises and OGX falls back to a plain completion, dropping the reasoning. This is the e2e run
config with the fake model served through remote::vllm instead (same provider id, so the model
is still `openai/fake-model`).
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.processes import Server, free_port, spawn, wait_healthy
from tests.e2e.stacks import StackVersion

OPENAI_PROVIDER = "provider_type: remote::openai\n    config:\n      base_url: $url\n      api_key"
VLLM_PROVIDER = "provider_type: remote::vllm\n    config:\n      base_url: $url\n      api_token"


def reasoning_run_config(version: StackVersion, fake_model_url: str, state: Path, port: int) -> str:
    """Return the version's run config with its inference through remote::vllm."""
    config = version.run_config(fake_model_url, state, port)
    openai = OPENAI_PROVIDER.replace("$url", fake_model_url)
    if openai not in config:
        raise ValueError(f"{version.label}'s run config has no remote::openai inference provider")
    return config.replace(openai, VLLM_PROVIDER.replace("$url", fake_model_url))


def start_reasoning_stack(
    version: StackVersion, fake_model: Server, state: Path, health_timeout: float
) -> Server:
    """Start the version's server on the remote::vllm config; the caller stops it."""
    state.mkdir(parents=True)
    port = free_port()
    config = state / "run.yaml"
    config.write_text(reasoning_run_config(version, f"{fake_model.url}/v1", state, port))
    log = state / "server.log"
    process = spawn(version.command(config, port), log, env=version.server_env(), cwd=state)
    server = Server(f"{version.label} (remote::vllm)", process, port, log)
    try:
        wait_healthy(server, "/v1/health", health_timeout)
    except BaseException:
        server.stop()
        raise
    return server
