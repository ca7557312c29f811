"""Which patterns a data classification allows: one table, used by `recommend`, `cost` and the advisor.

The line is drawn where data leaves infrastructure the organisation controls:
- SaaS sends prompts to a third party's API over the internet (through the egress firewall);
- cloud-managed keeps traffic on the cloud provider's private network, but the provider operates the
  model service that processes it;
- self-managed runs open models on GPUs the organisation operates (its cloud account or its own site).
"""

from __future__ import annotations

PATTERNS = ("saas", "cloud-managed", "self-managed")

ALLOWED: dict[str, tuple[str, ...]] = {
    "public": PATTERNS,
    "internal": PATTERNS,
    "confidential": ("cloud-managed", "self-managed"),
    "restricted": ("self-managed",),
}

WHY_NOT: dict[tuple[str, str], str] = {
    ("confidential", "saas"): (
        "confidential data may not be sent to a third-party API outside the organisation's cloud accounts"
    ),
    ("restricted", "saas"): (
        "restricted data may not be sent to a third-party API outside the organisation's cloud accounts"
    ),
    ("restricted", "cloud-managed"): (
        "restricted data stays on infrastructure the organisation operates; a managed model service is "
        "operated by the cloud provider"
    ),
}


def allowed(classification: str, pattern: str) -> bool:
    return pattern in ALLOWED[classification]


def why_not(classification: str, pattern: str) -> str:
    return WHY_NOT[(classification, pattern)]
