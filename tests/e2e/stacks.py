"""The llama-stack and OGX versions the e2e tier runs, their run configs, and their resources."""

from __future__ import annotations

import string
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.processes import request_json, upload_file
from tests.paths import REPO

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Document:
    """A document put into the vector store, with the title and URL a client should be shown."""

    filename: str
    title: str
    url: str
    text: str


DOCUMENTS = (
    Document(
        "fakeland.txt",
        "Fakeland handbook",
        "https://docs.example.com/fakeland-handbook",
        "Fakeland facts. The capital of Fakeland is Mockville. "
        "Fakeland exports rubber ducks and test fixtures.",
    ),
    Document(
        "mockonia.txt",
        "Mockonia atlas",
        "https://docs.example.com/mockonia-atlas",
        "Mockonia facts. Mockonia grows stub fruit and its rivers run with JSON.",
    ),
)
MCP_LABEL = "fake"


@dataclass(frozen=True)
class StackVersion:
    """One llama-stack or OGX release: its venv, run config and the upstream API our service uses."""

    version: str
    api: str
    provider: str
    extra_env: dict[str, str] = field(default_factory=dict)
    ogx: bool = False
    holds_trailing_space: bool = False
    """OGX 1.5 re-splits text deltas (`"Hello"`, `" from"`): a word's trailing space waits for the
    next word, so a stream the model breaks off loses it."""

    @property
    def name(self) -> str:
        """The release in E2E_LLAMA_STACK_VERSIONS and test ids: `0.7.3` or `ogx-1.5.0`."""
        return f"ogx-{self.version}" if self.ogx else self.version

    @property
    def label(self) -> str:
        """The release in plain words: `llama-stack 0.7.3` or `OGX 1.5.0`."""
        return f"OGX {self.version}" if self.ogx else f"llama-stack {self.version}"

    @property
    def env_script(self) -> Path:
        """The script that builds this release's cached venv."""
        return REPO / "scripts" / ("ogx-env.sh" if self.ogx else "llama-stack-env.sh")

    @property
    def venv(self) -> Path:
        """The venv scripts/llama-stack-env.sh or scripts/ogx-env.sh builds for this version."""
        return REPO / (
            f".venv-ogx-{self.version}" if self.ogx else f".venv-llama-stack-{self.version}"
        )

    def command(self, config: Path, port: int) -> list[str]:
        """The server's command line; OGX runs without TLS only when told `--insecure`."""
        if self.ogx:
            return [
                str(self.venv / "bin" / "ogx"),
                "run",
                str(config),
                "--port",
                str(port),
                "--insecure",
            ]
        return [str(self.venv / "bin" / "llama"), "stack", "run", str(config), "--port", str(port)]

    @property
    def model(self) -> str:
        """The fake model as llama-stack names it."""
        return f"{self.provider}/fake-model"

    def run_config(self, fake_model_url: str, state_dir: Path, port: int) -> str:
        """Return this version's run YAML with the session's addresses and paths filled in."""
        name = "ogx" if self.ogx else self.version
        template = string.Template((HERE / f"run-{name}.yaml").read_text())
        return template.substitute(fake_model_url=fake_model_url, state_dir=state_dir, port=port)

    def server_env(self) -> dict[str, str]:
        """Environment for an offline llama-stack server (see the fixtures README's recipe)."""
        return {
            "TIKTOKEN_CACHE_DIR": str(self.venv / "tiktoken-cache"),
            "LLAMA_STACK_TELEMETRY_DISABLED": "1",
            "OGX_TELEMETRY_DISABLED": "1",
            "HF_HUB_OFFLINE": "1",
            **self.extra_env,
        }


VERSIONS = {
    stack.name: stack
    for stack in (
        StackVersion("0.7.3", api="responses", provider="openai"),
        StackVersion(
            "0.2.23",
            api="agents",
            provider="vllm",
            extra_env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        ),
        StackVersion(
            "1.5.0", api="responses", provider="openai", ogx=True, holds_trailing_space=True
        ),
        StackVersion("1.2.5", api="responses", provider="openai", ogx=True),
    )
}


def create_vector_store(base_url: str, name: str, timeout: float = 60.0) -> str:
    """Upload DOCUMENTS, put them into a new vector store (OpenAI API), wait until indexed."""
    api = f"{base_url}/v1"
    store = request_json("POST", f"{api}/vector_stores", {"name": name})
    for document in DOCUMENTS:
        uploaded = upload_file(f"{api}/files", document.filename, document.text.encode())
        request_json(
            "POST",
            f"{api}/vector_stores/{store['id']}/files",
            {
                "file_id": uploaded["id"],
                "attributes": {"title": document.title, "docs_url": document.url},
            },
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = request_json("GET", f"{api}/vector_stores/{store['id']}/files")["data"]
        statuses = [item["status"] for item in files]
        if len(statuses) == len(DOCUMENTS) and all(s == "completed" for s in statuses):
            return str(store["id"])
        if any(s in ("failed", "cancelled") for s in statuses):
            raise AssertionError(f"vector store files failed to index: {files}")
        time.sleep(0.25)
    raise AssertionError(f"vector store {store['id']} not indexed after {timeout} s")


def insert_rag_documents(base_url: str, version: StackVersion, name: str) -> str:
    """Register a vector DB, insert DOCUMENTS with the 0.2 RAG tool; return the DB's id (`vs_…`).

    Each document's metadata holds `title` and `docs_url`, as lightspeed-stack's indexes do.
    """
    api = f"{base_url}/v1"
    registered = request_json(
        "POST",
        f"{api}/vector-dbs",
        {
            "vector_db_id": name,
            "embedding_model": f"{version.provider}/fake-embed",
            "embedding_dimension": 16,
            "provider_id": "sqlite-vec",
        },
    )
    vector_db_id = str(registered["identifier"])  # 0.2.23 names it vs_…, not by the asked id
    request_json(
        "POST",
        f"{api}/tool-runtime/rag-tool/insert",
        {
            "vector_db_id": vector_db_id,
            "chunk_size_in_tokens": 512,
            "documents": [
                {
                    "document_id": document.filename,
                    "content": document.text,
                    "mime_type": "text/plain",
                    "metadata": {"title": document.title, "docs_url": document.url},
                }
                for document in DOCUMENTS
            ],
        },
    )
    return vector_db_id


def register_mcp_toolgroup(base_url: str, mcp_url: str) -> str:
    """Register the MCP server as toolgroup `mcp::fake` (Agents API) and return its id."""
    toolgroup_id = f"mcp::{MCP_LABEL}"
    request_json(
        "POST",
        f"{base_url}/v1/toolgroups",
        {
            "toolgroup_id": toolgroup_id,
            "provider_id": "model-context-protocol",
            "mcp_endpoint": {"uri": mcp_url},
        },
    )
    return toolgroup_id
