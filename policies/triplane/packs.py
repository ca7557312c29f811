"""The policy pack `triplane`, and the scopes a team can narrow it to.

The pack serves every policy; each only looks at the resource types it knows, so one pack gates an
environment on any mix of clouds. A team that owns one cloud narrows it with a scope: the policy
config in `scopes/<scope>.json` (the `--policy-pack-config` format, used as the start of the
project's own config) disables every policy outside the scope.

- `aws`, `azure`, `gcp`: that cloud's policies, the Kubernetes ones (its model servers), the cluster
  API range rule and the stack-level ones.
- `kubernetes`: the Kubernetes (self-managed serving and AI gateway) policies only, for existing clusters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import ai_gateway, aws, azure, cluster_api, deployability, gcp, kubernetes, monitoring, stack, stages
from .common import Policy

NAME = "triplane"
DESCRIPTION = "Every Triplane policy: cloud-managed, self-managed and SaaS safeguards on all clouds."
PACK_DIR = Path(__file__).resolve().parent
SCOPES_DIR = PACK_DIR / "scopes"

RUNTIME_KUBERNETES = [deployability.POLICIES[kind] for kind in deployability.KUBERNETES_KINDS]
RUNTIME_CLOUD = [deployability.POLICIES[kind] for kind in deployability.CLOUD_KINDS]
KUBERNETES = [*kubernetes.POLICIES, *ai_gateway.POLICIES, *monitoring.POLICIES, *RUNTIME_KUBERNETES]
SHARED = [*cluster_api.POLICIES, *stack.POLICIES, *stages.POLICIES, *RUNTIME_CLOUD]
POLICIES: list[Policy] = [
    *aws.POLICIES, *azure.POLICIES, *gcp.POLICIES, *cluster_api.POLICIES, *kubernetes.POLICIES,
    *ai_gateway.POLICIES, *stack.POLICIES, *stages.POLICIES, *monitoring.POLICIES, *RUNTIME_KUBERNETES,
    *RUNTIME_CLOUD,
]  # fmt: skip
SCOPES: dict[str, list[Policy]] = {
    "aws": [*aws.POLICIES, *KUBERNETES, *SHARED],
    "azure": [*azure.POLICIES, *KUBERNETES, *SHARED],
    "gcp": [*gcp.POLICIES, *KUBERNETES, *SHARED],
    "kubernetes": KUBERNETES,
}


def scope_config(scope: str) -> dict[str, Any]:
    """The policy config that narrows the pack to `scope`: every other policy disabled."""
    kept = {p.name for p in SCOPES[scope]}
    return {p.name: "disabled" for p in POLICIES if p.name not in kept}


def scope_file(scope: str) -> Path:
    return SCOPES_DIR / f"{scope}.json"


def scope_text(scope: str) -> str:
    """What `scopes/<scope>.json` holds (tests/test_policies_metadata.py keeps the files equal to it)."""
    return json.dumps(scope_config(scope), indent=2, sort_keys=True) + "\n"


def pack_version(path: Path = PACK_DIR) -> str | None:
    """The version in the pack folder's PulumiPolicy.yaml (what the engine reports for Python packs)."""
    try:
        for line in (path / "PulumiPolicy.yaml").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "version" and not line.startswith(" "):
                return value.strip().strip("'\"")
    except OSError:
        return None
    return None


if __name__ == "__main__":
    for name in SCOPES:
        scope_file(name).write_text(scope_text(name), encoding="utf-8")
