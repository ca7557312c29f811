"""Which policies each pack serves (`triplane check` runs them in-process; `policies.adapter` serves them).

- `triplane`: every policy (AWS, Azure, Google Cloud, Kubernetes and stack-level).
- `triplane-aws`, `triplane-azure`, `triplane-gcp`: one cloud's policies, the cluster API range rule and the
  stack-level ones.
- `triplane-kubernetes`: the Kubernetes (self-managed serving) policies only.

Enable `triplane`, or one cloud pack plus `triplane-kubernetes`; two cloud packs together would run
the stack-level policies twice.
"""

from __future__ import annotations

from pathlib import Path

from . import aws, azure, cluster_api, deployability, gcp, kubernetes, stack
from .common import Policy

PACKS_DIR = Path(__file__).resolve().parent
RUNTIME_KUBERNETES = [deployability.POLICIES[kind] for kind in deployability.KUBERNETES_KINDS]
RUNTIME_CLOUD = [deployability.POLICIES[kind] for kind in deployability.CLOUD_KINDS]
PACK_POLICIES: dict[str, list[Policy]] = {
    "triplane": [
        *aws.POLICIES, *azure.POLICIES, *gcp.POLICIES, *cluster_api.POLICIES, *kubernetes.POLICIES,
        *stack.POLICIES, *RUNTIME_KUBERNETES, *RUNTIME_CLOUD,
    ],
    "triplane-aws": [*aws.POLICIES, *cluster_api.POLICIES, *stack.POLICIES, *RUNTIME_CLOUD],
    "triplane-azure": [*azure.POLICIES, *cluster_api.POLICIES, *stack.POLICIES, *RUNTIME_CLOUD],
    "triplane-gcp": [*gcp.POLICIES, *cluster_api.POLICIES, *stack.POLICIES, *RUNTIME_CLOUD],
    "triplane-kubernetes": [*kubernetes.POLICIES, *RUNTIME_KUBERNETES],
}
DESCRIPTIONS = {
    "triplane": "Every Triplane policy: cloud-managed, self-managed and SaaS safeguards on all clouds.",
    "triplane-aws": "Triplane policies for AWS (Bedrock, Secrets Manager, Network Firewall, EKS) and the stack.",
    "triplane-azure": "Triplane policies for Azure (Azure OpenAI, Key Vault, Azure Firewall, AKS) and the stack.",
    "triplane-gcp": "Triplane policies for Google Cloud (Vertex AI, Secret Manager, Secure Web Proxy, GKE) "
    "and the stack.",
    "triplane-kubernetes": "Triplane policies for model servers on Kubernetes.",
}


def pack_dir(name: str) -> Path:
    return PACKS_DIR / name


def pack_version(path: Path) -> str | None:
    """The version in a pack folder's PulumiPolicy.yaml (what the engine reports for Python packs)."""
    try:
        for line in (path / "PulumiPolicy.yaml").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "version" and not line.startswith(" "):
                return value.strip().strip("'\"")
    except OSError:
        return None
    return None
