"""Rendered manifests of the shipped stacks: one file per object, valid for the declared Kubernetes
version (kubernetes-validate, strict), and never a secret in clear."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, all_versions

from triplane.components.gateway.routes import API_VERSIONS
from triplane.k8s_out import REDACTED_KEYS, write_manifests
from triplane.plan import Plan
from triplane.stackfile import load_stack, plan_stack
from triplane.stacks.spec import Environment

STACKS = ("dev", "prod", "local")
PLANTED = "planted-secret-value-7f3a9"
CUSTOM_RESOURCES = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("monitoring.googleapis.com/v1", "PodMonitoring"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("gateway.networking.k8s.io/v1", "GatewayClass"),
    ("gateway.networking.k8s.io/v1", "Gateway"),
    ("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy"),
    *((version, kind) for kind, version in API_VERSIONS.items()),
}
"""Kinds defined by CRDs (the Prometheus Operator's, Managed Service for Prometheus', KEDA's, the Gateway API's,
Envoy Gateway's and Envoy AI Gateway's); kubernetes-validate ships only built-in schemas
(tests/test_self_managed_addons.py and tests/test_gateway_stack.py validate these against their CRDs)."""
CRD_GROUPS = ("monitoring", "keda", "gateway.networking.k8s.io", "gateway.envoyproxy.io", "aigateway")


def schema_version(declared: str) -> str:
    """The kubernetes-validate schema set for a declared `1.NN` version: the same minor, else the nearest."""
    available = sorted({tuple(int(p) for p in v.split(".")[:2]) for v in all_versions()})
    if not available:
        raise AssertionError("kubernetes-validate ships no schemas at all")
    major, minor = (int(p) for p in declared.split(".")[:2])
    same_major = [v for v in available if v[0] == major]
    if not same_major:
        shipped = ", ".join(f"{a}.{b}" for a, b in available)
        raise AssertionError(f"no kubernetes-validate schemas for Kubernetes {declared} (it ships {shipped})")
    best = min(same_major, key=lambda v: (abs(v[1] - minor), -v[1]))
    return f"{best[0]}.{best[1]}.0"


def test_schema_version_mapping() -> None:
    assert schema_version("1.31") == "1.31.0"
    lowest = min(tuple(int(p) for p in v.split(".")[:2]) for v in all_versions())
    assert schema_version(f"1.{lowest[1] - 3}") == f"1.{lowest[1]}.0"
    with pytest.raises(AssertionError, match=r"no kubernetes-validate schemas for Kubernetes 2\.1"):
        schema_version("2.1")


def _secret_keys(stack: str) -> dict[str, str]:
    return {key: PLANTED for key in load_stack(stack).secret_keys}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Environment, Plan, Path, list[Path]]]:
    result = {}
    for stack in STACKS:
        environment = load_stack(stack).environment()
        plan = plan_stack(stack, secret_values=_secret_keys(stack))
        out = tmp_path_factory.mktemp(f"k8s-{stack}")
        result[stack] = (environment, plan, out, write_manifests(plan, out))
    return result


def _cluster_versions(environment: Environment, stack: str) -> dict[str, str]:
    """Manifest directory (the cluster's provider name) -> the version the stack declares for it."""
    return {f"{stack}-{cluster.name}-k8s": cluster.version for cluster in environment.kubernetes}


@pytest.mark.parametrize("stack", STACKS)
def test_every_manifest_validates_strictly(stack: str, rendered: dict[str, Any]) -> None:
    environment, plan, out, files = rendered[stack]
    assert files, f"{stack} renders no Kubernetes objects"
    versions = _cluster_versions(environment, stack)
    checked = 0
    for path in files:
        relative = path.relative_to(out)
        cluster = relative.parts[0]
        assert cluster in versions, f"{relative} is not in a declared cluster's directory"
        obj = yaml.safe_load(path.read_text())
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_RESOURCES:
            with pytest.raises(SchemaNotFoundError):
                kubernetes_validate.validate(obj, schema_version(versions[cluster]), strict=True)
            continue
        try:
            kubernetes_validate.validate(obj, schema_version(versions[cluster]), strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path)
            pytest.fail(f"{relative}: {where}: {error.message}")
        checked += 1
    custom = sum(1 for r in plan.resources if r.type.startswith(tuple(f"kubernetes:{g}" for g in CRD_GROUPS)))
    assert checked >= len(files) - custom


@pytest.mark.parametrize("stack", STACKS)
def test_one_file_per_kubernetes_object(stack: str, rendered: dict[str, Any]) -> None:
    _, plan, _out, files = rendered[stack]
    # A Helm release is many objects, rendered by Helm at deploy time: it has no file of its own.
    objects = [
        r
        for r in plan.resources
        if r.custom and r.type.startswith("kubernetes:") and not r.type.startswith("kubernetes:helm.sh/")
    ]
    assert len(files) == len(objects) == len(set(files))
    for path in files:
        documents = list(yaml.safe_load_all(path.read_text()))
        assert len(documents) == 1
        obj = documents[0]
        assert path.name.endswith(f"-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml")
        namespace = obj["metadata"].get("namespace", "_cluster")
        assert path.parent.name == namespace


def test_namespaces_sort_before_their_objects(rendered: dict[str, Any]) -> None:
    _, _, _out, files = rendered["dev"]
    names = sorted(p.name for p in files)
    assert names[0].startswith("00-namespace-")
    assert any(n.startswith("05-deployment-") for n in names)


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_in_clear(stack: str, rendered: dict[str, Any]) -> None:
    _, _plan, out, files = rendered[stack]
    for path in files:
        text = path.read_text()
        assert PLANTED not in text, f"{path.relative_to(out)} contains a secret value"
        obj = yaml.safe_load(text)
        if obj["kind"] == "Secret":
            assert "data" not in obj and "stringData" not in obj
            assert obj["metadata"]["annotations"][REDACTED_KEYS]


def test_prod_secret_keeps_only_its_key_names(rendered: dict[str, Any]) -> None:
    _, _, _out, files = rendered["prod"]
    secrets = [yaml.safe_load(p.read_text()) for p in files if "-secret-" in p.name]
    assert [s["metadata"]["annotations"][REDACTED_KEYS] for s in secrets] == ["HF_TOKEN"]


def test_manifests_render_the_same_bytes_twice(rendered: dict[str, Any], tmp_path: Path) -> None:
    _, plan, out, files = rendered["local"]
    again = write_manifests(plan, tmp_path)
    assert [p.relative_to(tmp_path) for p in again] == [p.relative_to(out) for p in files]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(again, files, strict=True))


def test_device_plugin_manifest(rendered: dict[str, Any]) -> None:
    # AKS GPU pools have only the driver: the plugin comes from the cluster's registry cache.
    _, _, out, _ = rendered["prod"]
    manifest = out / "prod-gpu-azure-k8s/kube-system/05-daemonset-nvidia-device-plugin.yaml"
    daemonset = yaml.safe_load(manifest.read_text())
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "prodimagesrgtriplaneprod.azurecr.io/nvcr/nvidia/k8s-device-plugin:v0.17.4"
    assert {t["key"] for t in pod["tolerations"]} == {
        "nvidia.com/gpu",
        "sku",
        "kubernetes.azure.com/scalesetpriority",
    }
    assert all(t == {"key": t["key"], "operator": "Exists"} for t in pod["tolerations"])
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "triplane.io/gpu-type", "operator": "Exists"}]}]
    assert pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False


def test_only_kubernetes_objects_are_written(rendered: dict[str, Any]) -> None:
    _, _plan, _, files = rendered["prod"]
    kinds = {yaml.safe_load(p.read_text())["kind"] for p in files}
    assert "EksCluster" not in kinds and "TgiService" not in kinds
    assert {"Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget", "Namespace"} <= kinds


def test_strict_validation_rejects_an_unknown_field() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"typo": "ClusterIP"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, schema_version("1.31"), strict=True)


def test_a_second_run_replaces_its_own_files_only(rendered: dict[str, Any], tmp_path: Path) -> None:
    _, plan, _, _ = rendered["local"]
    stale = tmp_path / "local-onprem-k8s" / "old" / "05-deployment-gone.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("# kubernetes:apps/v1:Deployment gone\napiVersion: apps/v1\n")
    mine = tmp_path / "README.yaml"
    mine.write_text("kept: true\n")
    written = write_manifests(plan, tmp_path)
    assert not stale.exists()
    assert mine.read_text() == "kept: true\n"
    assert all(p.read_text().startswith("# kubernetes:") for p in written)
