"""Rendered manifests: every Kubernetes object a plan would create, one YAML file per object.

`triplane plan <stack> --k8s-out DIR` writes `DIR/<cluster>/<namespace>/<NN>-<kind>-<name>.yaml`
(`_cluster` for cluster-scoped objects; `<cluster>` is the Kubernetes provider's name). The
two-digit prefix orders a `kubectl apply -R -f DIR/<cluster>` so namespaces come before what lives
in them. The objects are the plan's inputs as the Kubernetes provider would send them. A second run
into the same directory first removes the files the first one wrote (never anyone else's).

Secrets never appear in clear: a Secret is written without `data`/`stringData` (its keys are listed
in the `triplane.io/redacted-keys` annotation; `pulumi up` supplies the values), and any other value
derived from a secret is written as `[secret]`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from triplane.plan import Plan, PlannedResource, is_secret, redact, reveal

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The engine's marker for a value only known after deployment."""
REDACTED_KEYS = "triplane.io/redacted-keys"
ORDER = {
    "Namespace": 0,
    "CustomResourceDefinition": 1,
    "StorageClass": 1,
    "PriorityClass": 1,
    "ClusterRole": 2,
    "ClusterRoleBinding": 2,
    "ServiceAccount": 2,
    "Role": 2,
    "RoleBinding": 2,
    "Secret": 3,
    "ConfigMap": 3,
    "PersistentVolumeClaim": 4,
    "NetworkPolicy": 4,
}
DEFAULT_ORDER = 5
"""Workloads, services, disruption budgets, autoscalers and custom resources come last."""


def _clean(value: Any) -> Any:
    """JSON numbers come back as floats (Kubernetes integer fields reject `80.0`); maps come back in no
    particular order (sorted, the same object always renders the same bytes)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if value == UNKNOWN:
        return "[computed at deploy time]"
    return value


def _secret_keys(value: Any) -> list[str]:
    """The keys of a Secret's data map (never its values); the map may itself be wrapped as secret."""
    inner = value.get("value") if is_secret(value) else value
    inner = reveal(inner) if isinstance(inner, dict) else inner
    return sorted(inner) if isinstance(inner, dict) else []


def manifest(resource: PlannedResource) -> dict[str, Any] | None:
    """The Kubernetes object of a planned resource, or None if the resource is not one object."""
    if not resource.custom or not resource.type.startswith("kubernetes:"):
        return None
    inputs = resource.inputs
    if not isinstance(inputs.get("apiVersion"), str) or not isinstance(inputs.get("kind"), str):
        return None  # Helm releases, YAML groups: not a single object
    kind = inputs["kind"]
    body = dict(inputs)
    redacted: list[str] = []
    if kind == "Secret":
        for field in ("data", "stringData"):
            if field in body:
                redacted += _secret_keys(body.pop(field))
    body = _clean(redact(body))
    metadata = dict(body.get("metadata") or {})
    metadata.setdefault("name", resource.name)
    if redacted:
        metadata["annotations"] = {
            **(metadata.get("annotations") or {}),
            REDACTED_KEYS: ",".join(sorted(set(redacted))),
        }
    body["metadata"] = metadata
    ordered = {"apiVersion": body.pop("apiVersion"), "kind": body.pop("kind"), "metadata": body.pop("metadata")}
    ordered.update(sorted(body.items()))
    return ordered


def _cluster_of(resource: PlannedResource) -> str:
    if resource.provider:
        # urn:pulumi:<stack>::<project>::pulumi:providers:kubernetes::<name>::<id>
        parts = resource.provider.split("::")
        if len(parts) >= 4:
            return _safe(parts[3])
    return "default"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "unnamed"


def path_for(resource: PlannedResource, obj: dict[str, Any]) -> Path:
    metadata = obj["metadata"]
    namespace = metadata.get("namespace") or "_cluster"
    kind = str(obj["kind"])
    rank = ORDER.get(kind, DEFAULT_ORDER)
    return Path(_cluster_of(resource)) / _safe(namespace) / f"{rank:02d}-{kind.lower()}-{_safe(metadata['name'])}.yaml"


HEADER = "# kubernetes:"
"""First line of every file written here, so a later run can tell its own files from the user's."""


def _remove_previous(out_dir: Path) -> None:
    """Files an earlier run wrote: an object the stack no longer has must not linger for `kubectl apply`."""
    if not out_dir.is_dir():
        return
    for path in out_dir.rglob("*.yaml"):
        with path.open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
        if first.startswith(HEADER):
            path.unlink()


def write_manifests(plan: Plan, out_dir: Path) -> list[Path]:
    """Write every Kubernetes object of `plan` under `out_dir`; return the files, in plan order.

    Files a previous run wrote there are removed first; other files are left alone."""
    _remove_previous(out_dir)
    written: list[Path] = []
    seen: dict[Path, str] = {}
    for resource in plan.resources:
        obj = manifest(resource)
        if obj is None:
            continue
        relative = path_for(resource, obj)
        if relative in seen:
            raise ValueError(f"{resource.urn} and {seen[relative]} are the same object ({relative})")
        seen[relative] = resource.urn
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            f"# {resource.type} {resource.name}\n" + yaml.safe_dump(obj, sort_keys=False, default_flow_style=False),
            encoding="utf-8",
        )
        written.append(target)
    return written
