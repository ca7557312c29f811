"""Item by item, what `k8s-run-as-non-root` asks of a pod's user: a high UID, or root only for an
image listed with its reason that keeps every other restriction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triplane.gate import check_plan
from triplane.plan import Plan, PlannedResource

SHIPPED_CONFIG = json.loads((Path(__file__).parents[1] / "policies" / "policy-config.json").read_text())
LOCKED_DOWN = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def daemon_set(name: str, image: str, context: dict[str, Any], pod: dict[str, Any] | None = None) -> Plan:
    container = {
        "name": "c",
        "image": image,
        "securityContext": context,
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}},
    }
    spec = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"automountServiceAccountToken": False, "containers": [container], **(pod or {})},
        },
    }
    type_ = "kubernetes:apps/v1:DaemonSet"
    resource = PlannedResource(
        urn=f"urn:pulumi:t::triplane::{type_}::{name}", type=type_, name=name, custom=True, parent=None,
        inputs={"metadata": {"name": name, "namespace": "kube-system"}, "spec": spec}, dependencies=(),
        protect=False, retain_on_delete=False, provider=None, aliases=(), ignore_changes=(),
        additional_secret_outputs=(),
    )  # fmt: skip
    return Plan(stack="t", project="triplane", resources=[resource], outputs={})


def findings(plan: Plan) -> list[str]:
    result = check_plan(plan, scope="kubernetes", config=SHIPPED_CONFIG)
    return [v.message for v in result.violations if v.policy == "k8s-run-as-non-root"]


@pytest.mark.parametrize("uid", [1000, 999, 9999])
def test_a_low_uid_is_refused(uid: int) -> None:
    plan = daemon_set("agent", "registry.k8s.io/agent:v1.2.3", {**LOCKED_DOWN, "runAsNonRoot": True, "runAsUser": uid})
    assert findings(plan) == [f"containers[0] (c) runs as UID {uid}, which host accounts use: run as 10000 or above"]


@pytest.mark.parametrize("uid", [10000, 10001, 65534])
def test_a_high_uid_passes(uid: int) -> None:
    plan = daemon_set("agent", "registry.k8s.io/agent:v1.2.3", {**LOCKED_DOWN, "runAsNonRoot": True, "runAsUser": uid})
    assert findings(plan) == []


def test_the_pod_level_uid_counts_when_the_container_names_none() -> None:
    plan = daemon_set(
        "agent",
        "registry.k8s.io/agent:v1.2.3",
        dict(LOCKED_DOWN),
        {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000}},
    )
    assert findings(plan) == ["containers[0] (c) runs as UID 1000, which host accounts use: run as 10000 or above"]


def test_the_device_plugin_runs_as_root_only_fully_locked_down() -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nvcr/nvidia/k8s-device-plugin:v0.17.4"
    assert findings(daemon_set("nvidia-device-plugin", image, {**LOCKED_DOWN, "runAsUser": 0})) == []
    writable = {**LOCKED_DOWN, "runAsUser": 0, "readOnlyRootFilesystem": False}
    [finding] = findings(daemon_set("nvidia-device-plugin", image, writable))
    assert "as root (allowed by rootImages) without readOnlyRootFilesystem true" in finding


def test_a_name_like_the_device_plugin_is_not_an_exemption() -> None:
    """Only the listed image may run as root: a look-alike repository name does not."""
    image = "ghcr.io/example/nvidia-k8s-device-plugin-fork:v1.0.0"
    [finding] = findings(daemon_set("nvidia-device-plugin", image, {**LOCKED_DOWN, "runAsUser": 0}))
    assert finding == "containers[0] (c) runs as user 0 (root)"
