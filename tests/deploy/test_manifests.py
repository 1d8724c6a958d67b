"""deploy/: every kustomization renders, validates strictly, and holds what docs/operations.md promises."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.observability.metrics import ACTIVE_STREAMS_METRIC
from service.settings import Settings, load_settings
from tests.paths import REPO

DEPLOY = REPO / "deploy"
KUSTOMIZATIONS = ["base", "overlays/dev", "overlays/prod"]
KUBECTL = shutil.which("kubectl")
VALIDATOR = Path(sys.executable).with_name("kubernetes-validate")
KUBERNETES_VERSIONS = ["1.29.0", "1.37.0"]
"""Oldest Kubernetes the manifests are meant for (OpenShift 4.16), and the newest schema known."""
MARGIN = 5
"""Seconds the grace period keeps beyond preStop + drain, at least, to close upstreams and exit."""

pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed: the kustomizations in deploy/ cannot render"
)


@functools.cache
def render_text(kustomization: str) -> str:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "kustomize", str(DEPLOY / kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(kustomization: str) -> dict[str, dict[str, Any]]:
    """The rendered objects by kind (each kind appears once here)."""
    objects = [o for o in yaml.safe_load_all(render_text(kustomization)) if o]
    by_kind = {o["kind"]: o for o in objects}
    assert len(by_kind) == len(objects), "one object per kind"
    return by_kind


def container(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    only: dict[str, Any]
    (only,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only


def settings_of(objects: dict[str, dict[str, Any]], tmp_path: Path) -> Settings:
    """Load the ConfigMap's settings file exactly as the service will."""
    path = tmp_path / "settings.yaml"
    path.write_text(objects["ConfigMap"]["data"]["settings.yaml"])
    return load_settings(path)


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_it_renders_and_every_object_validates_strictly(kustomization, version, tmp_path):
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(render_text(kustomization))
    result = subprocess.run(
        [str(VALIDATOR), "--strict", "--quiet", "-k", version, str(rendered)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr


def test_strict_validation_refuses_a_misspelled_field(tmp_path):
    bad = render_text("base").replace("revisionHistoryLimit:", "revisionHistoryLimits:")
    rendered = tmp_path / "bad.yaml"
    rendered.write_text(bad)
    result = subprocess.run(
        [str(VALIDATOR), "--strict", "--quiet", str(rendered)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "'revisionHistoryLimits' was unexpected" in result.stdout + result.stderr


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_probes_ask_readiness_and_liveness_on_the_served_port(kustomization):
    gateway = container(render(kustomization))
    (port,) = gateway["ports"]
    assert (port["name"], port["containerPort"]) == ("http", 8080)
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/readiness", "port": "http"}
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/liveness", "port": "http"}
    assert gateway["startupProbe"]["httpGet"] == {"path": "/liveness", "port": "http"}


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_grace_period_covers_pre_stop_sleep_drain_timeout_and_a_margin(kustomization, tmp_path):
    objects = render(kustomization)
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    command = container(objects)["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    drain = settings_of(objects, tmp_path).drain_timeout
    assert pre_stop >= 3, "endpoint removal needs a few seconds to reach every proxy"
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + MARGIN


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_settings_come_from_the_config_map_named_by_service_config(kustomization, tmp_path):
    objects = render(kustomization)
    gateway = container(objects)
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    env = {item["name"]: item for item in gateway["env"]}
    (mount,) = [m for m in gateway["volumeMounts"] if m["name"] == "config"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "config"]
    assert volume["configMap"]["name"] == objects["ConfigMap"]["metadata"]["name"]
    assert mount["readOnly"] is True
    assert env["SERVICE_CONFIG"]["value"] == f"{mount['mountPath']}/settings.yaml"
    settings = settings_of(objects, tmp_path)
    assert settings.log_format == "json"
    assert env["LOG_FORMAT"]["value"] == "json"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_the_pod_runs_locked_down(kustomization):
    objects = render(kustomization)
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    gateway = container(objects)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert gateway["securityContext"] == {
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
    }
    (tmp,) = [m for m in gateway["volumeMounts"] if m["mountPath"] == "/tmp"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == tmp["name"]]
    assert "emptyDir" in volume


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_resources_have_requests_and_limits(kustomization):
    resources = container(render(kustomization))["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_service_and_budget_select_the_pods(kustomization):
    objects = render(kustomization)
    pod_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    selector = objects["Deployment"]["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "agent-stream-gateway"}
    assert selector.items() <= pod_labels.items()
    assert objects["Service"]["spec"]["selector"] == selector
    (spread,) = objects["Deployment"]["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert spread["labelSelector"] == {"matchLabels": selector}
    assert objects["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    if "PodDisruptionBudget" in objects:
        budget = objects["PodDisruptionBudget"]["spec"]
        assert budget["selector"] == {"matchLabels": selector}, "an empty one would match all"
        assert budget["maxUnavailable"] == 1
        assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


@pytest.mark.parametrize("kustomization", ["base", "overlays/prod"])
def test_autoscaler_scales_the_deployment_on_the_active_streams_gauge(kustomization):
    objects = render(kustomization)
    hpa = objects["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": objects["Deployment"]["metadata"]["name"],
    }
    streams = hpa["metrics"][0]
    assert streams["type"] == "Pods"
    assert streams["pods"]["metric"]["name"] == ACTIVE_STREAMS_METRIC
    assert "replicas" not in objects["Deployment"]["spec"], "the autoscaler owns the count"
    assert hpa["minReplicas"] >= 2
    assert hpa["behavior"]["scaleDown"]["policies"] == [
        {"type": "Pods", "value": 1, "periodSeconds": 120}
    ]


def test_per_pod_stream_cap_leaves_headroom_above_the_autoscaling_target(tmp_path):
    objects = render("overlays/prod")
    target = float(
        objects["HorizontalPodAutoscaler"]["spec"]["metrics"][0]["pods"]["target"]["averageValue"]
    )
    assert settings_of(objects, tmp_path).max_concurrent_streams >= 2 * target


def test_dev_is_one_pod_on_the_demo_agent_with_auth_off(tmp_path):
    objects = render("overlays/dev")
    settings = settings_of(objects, tmp_path)
    assert settings.llama_stack_base_url is None
    assert settings.auth_mode == "none"
    assert objects["Deployment"]["spec"]["replicas"] == 1
    assert set(objects) == {"ConfigMap", "Service", "Deployment"}


def test_prod_has_a_real_upstream_api_key_auth_from_a_secret_and_more_pods(tmp_path):
    objects = render("overlays/prod")
    settings = settings_of(objects, tmp_path)
    assert settings.llama_stack_base_url is not None
    assert settings.llama_stack_base_url.startswith("http")
    assert settings.auth_mode == "api-key"
    gateway = container(objects)
    env = {item["name"]: item for item in gateway["env"]}
    assert env["LLAMA_STACK_API_KEY"]["valueFrom"]["secretKeyRef"]["name"]
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    (keys,) = [v for v in pod["volumes"] if "secret" in v]
    (mount,) = [m for m in gateway["volumeMounts"] if m["name"] == keys["name"]]
    assert mount["readOnly"] is True
    assert env["AUTH_API_KEYS_FILE"]["value"].startswith(mount["mountPath"] + "/")
    assert "Secret" not in objects, "credentials are never part of the repository"
    base = render("base")["HorizontalPodAutoscaler"]["spec"]
    prod = objects["HorizontalPodAutoscaler"]["spec"]
    assert prod["minReplicas"] > base["minReplicas"]
    assert prod["maxReplicas"] > base["maxReplicas"]
    assert gateway["image"].startswith("registry.")


def test_prod_resumes_streams_through_the_redis_named_by_a_secret_and_dev_has_no_redis(tmp_path):
    objects = render("overlays/prod")
    settings = settings_of(objects, tmp_path)
    assert settings.resume_window > 0
    assert settings.redis_url is None, "the Redis URL (with its password) comes from a Secret"
    env = {item["name"]: item for item in container(objects)["env"]}
    secret = env["REDIS_URL"]["valueFrom"]["secretKeyRef"]
    assert secret["name"] == "agent-stream-gateway-redis" and "optional" not in secret
    dev = render("overlays/dev")
    assert settings_of(dev, tmp_path).redis_url is None
    assert "REDIS_URL" not in {item["name"] for item in container(dev).get("env", [])}
