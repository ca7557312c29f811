"""Which policies each pack serves, and serving one (what a pack's `__main__.py` calls).

- `triplane`: every policy (AWS, Azure, Google Cloud, Kubernetes and stack-level).
- `triplane-aws`, `triplane-azure`, `triplane-gcp`: one cloud's policies plus the stack-level ones.
- `triplane-kubernetes`: the Kubernetes (self-managed serving) policies only.

Enable `triplane`, or one cloud pack plus `triplane-kubernetes`; two cloud packs together would run
the stack-level policies twice.
"""

from __future__ import annotations

from pathlib import Path

from pulumi_policy import Policy, PolicyPack

from policies import aws, azure, gcp, kubernetes, stack

PACKS_DIR = Path(__file__).resolve().parent
PACK_POLICIES: dict[str, list[Policy]] = {
    "triplane": [*aws.POLICIES, *azure.POLICIES, *gcp.POLICIES, *kubernetes.POLICIES, *stack.POLICIES],
    "triplane-aws": [*aws.POLICIES, *stack.POLICIES],
    "triplane-azure": [*azure.POLICIES, *stack.POLICIES],
    "triplane-gcp": [*gcp.POLICIES, *stack.POLICIES],
    "triplane-kubernetes": list(kubernetes.POLICIES),
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


def serve(name: str) -> None:
    """Start the pack's analyzer server, print its port and block (as the engine expects)."""
    PolicyPack(name=name, policies=PACK_POLICIES[name], description=DESCRIPTIONS[name])
