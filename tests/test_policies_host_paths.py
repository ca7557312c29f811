"""Item by item, what `k8s-host-paths-allowlisted` asks of a pod's host paths: only those an image is
listed as needing, read-only unless its entry says it writes there."""

from __future__ import annotations

from typing import Any

import pytest
from test_policies_pod_users import LOCKED_DOWN, SHIPPED_CONFIG, daemon_set

from triplane.gate import check_plan
from triplane.plan import Plan

EXPORTER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nvcr/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
PLUGIN = "acmeimages.azurecr.io/nvcr/nvidia/k8s-device-plugin:v0.17.4"


def mounting(image: str, path: str, *, read_only: bool, at: str | None = None) -> Plan:
    plan = daemon_set("agent", image, LOCKED_DOWN, pod={
        "volumes": [{"name": "host", "hostPath": {"path": path}}],
    })
    [resource] = plan.resources
    container: dict[str, Any] = resource.inputs["spec"]["template"]["spec"]["containers"][0]
    container["volumeMounts"] = [{"name": "host", "mountPath": at or path, "readOnly": read_only}]
    return plan


def findings(plan: Plan) -> list[str]:
    result = check_plan(plan, scope="kubernetes", config=SHIPPED_CONFIG)
    return [v.message for v in result.violations if v.policy == "k8s-host-paths-allowlisted"]


@pytest.mark.parametrize(("image", "path", "read_only", "at"), [
    (EXPORTER, "/var/lib/kubelet/pod-resources", True, None),
    (EXPORTER, "/dev/null", True, "/var/run/nvidia-container-devices/all"),
    (PLUGIN, "/var/lib/kubelet/device-plugins", False, None),
])  # fmt: skip
def test_the_listed_host_paths_of_the_gpu_images_pass(image: str, path: str, read_only: bool, at: str | None) -> None:
    assert findings(mounting(image, path, read_only=read_only, at=at)) == []


def test_a_listed_path_mounted_writable_is_refused() -> None:
    assert findings(mounting(EXPORTER, "/var/lib/kubelet/pod-resources", read_only=False)) == [
        "containers[0] (c) mounts the host's /var/lib/kubelet/pod-resources writable; its hostPaths entry grants "
        "it read-only"
    ]


@pytest.mark.parametrize(("image", "path"), [
    (EXPORTER, "/var/run/containerd"),  # a path no entry lists
    ("docker.io/library/busybox:1.37.0", "/dev/null"),  # a listed path, for another image
    (PLUGIN, "/var/lib/kubelet/pod-resources"),  # the exporter's path, for the device plugin
])  # fmt: skip
def test_any_other_host_path_is_refused(image: str, path: str) -> None:
    assert findings(mounting(image, path, read_only=True)) == [
        f"containers[0] (c) mounts the host's {path}, which no hostPaths entry grants to {image}"
    ]


def test_without_the_projects_config_every_host_path_is_refused() -> None:
    result = check_plan(mounting(EXPORTER, "/dev/null", read_only=True), scope="kubernetes", config={})
    assert [(v.policy, v.enforcement) for v in result.violations if v.policy == "k8s-host-paths-allowlisted"] == [
        ("k8s-host-paths-allowlisted", "mandatory")
    ]
