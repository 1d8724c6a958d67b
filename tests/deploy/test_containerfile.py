"""The Containerfile, checked statically (no container engine here): base, user, port, command."""

from __future__ import annotations

import re

import pytest

from tests.deploy.containerfile import excluded, ignore_patterns, stages
from tests.paths import REPO

CONTAINERFILE = REPO / "Containerfile"
IGNORE_FILES = [REPO / ".containerignore", REPO / ".dockerignore"]
PYTHON_312 = re.compile(r"(^|/)(python:3\.12(\.\d+)?-slim(-\w+)?|ubi9/python-312)(:[\w.-]+)?$")


def final_stage():
    return stages(CONTAINERFILE)[-1]


def build_stage():
    (stage,) = [s for s in stages(CONTAINERFILE) if s.name == "build"]
    return stage


def test_every_stage_starts_from_python_3_12():
    found = stages(CONTAINERFILE)
    assert len(found) == 2
    for stage in found:
        assert PYTHON_312.search(stage.image), stage.image


def test_the_image_runs_as_a_numeric_non_root_user():
    user = final_stage().all("USER")[-1].args
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), f"USER {user}: a numeric uid lets Kubernetes check runAsNonRoot"
    assert int(uid) != 0
    assert gid in ("", "0"), (
        "group 0, so an arbitrary uid (OpenShift) can read what root's group can"
    )


def test_the_image_listens_on_8080_and_runs_python_m_service():
    stage = final_stage()
    assert [i.args for i in stage.all("EXPOSE")] == ["8080"]
    assert stage.env()["PORT"] == "8080"
    assert stage.env()["HOST"] == "0.0.0.0"
    assert stage.all("ENTRYPOINT") == []
    (cmd,) = stage.all("CMD")
    assert cmd.exec_form() == ["python", "-m", "service"], "exec form: SIGTERM reaches Python"


def test_logs_are_json_and_nothing_writes_to_the_root_filesystem():
    env = final_stage().env()
    assert env["LOG_FORMAT"] == "json"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["HOME"] == "/tmp"
    assert env["PATH"].startswith("/opt/venv/bin:")


def test_dependencies_are_installed_before_the_source_is_copied():
    keywords = [(i.keyword, i.args) for i in build_stage().instructions]
    install = next(n for n, (k, a) in enumerate(keywords) if k == "RUN" and "-r requirements" in a)
    copies_before = [a for k, a in keywords[:install] if k == "COPY"]
    copies_after = [a for k, a in keywords[install:] if k == "COPY"]
    assert copies_before == ["setup.cfg requirements/lock.txt deploy/image/requirements.py ./"]
    assert keywords[install][1].endswith("pip install -r requirements.txt -c lock.txt")
    assert any(a.startswith("service/") for a in copies_after)
    assert any(a.startswith("formatters/") for a in copies_after)
    (project_install,) = [a for k, a in keywords[install + 1 :] if k == "RUN"]
    assert "pip install --no-deps ." in project_install


def test_the_runtime_stage_takes_only_the_built_environment():
    (copy,) = final_stage().all("COPY")
    assert copy.args == "--from=build /opt/venv /opt/venv"


def copied_sources():
    for stage in stages(CONTAINERFILE):
        for copy in stage.all("COPY"):
            words = [w for w in copy.args.split() if not w.startswith("--")]
            if not copy.args.startswith("--from"):
                yield from (w.rstrip("/") for w in words[:-1])


@pytest.mark.parametrize("ignore_file", IGNORE_FILES, ids=lambda p: p.name)
def test_the_build_context_has_what_the_image_copies_and_no_venv_or_node_modules(ignore_file):
    patterns = ignore_patterns(ignore_file)
    sources = list(copied_sources())
    assert "service" in sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not excluded(source, patterns), f"{source} is copied but {ignore_file.name} drops it"
        assert not excluded(f"{source}/x.py", patterns)
    for path in (
        ".venv/bin/python",
        ".venv-oracle/bin/python",
        "venv/bin/python",
        "tests/clients/node_modules/ai/index.js",
        "formatters/node_modules/x/index.js",
        ".git/HEAD",
        "service/__pycache__/app.cpython-312.pyc",
        "agent_stream_gateway.egg-info/PKG-INFO",
        ".mypy_cache/x",
    ):
        assert excluded(path, patterns), path


def test_podman_and_docker_read_the_same_ignore_list():
    containerignore, dockerignore = (path.read_text() for path in IGNORE_FILES)
    assert containerignore == dockerignore
