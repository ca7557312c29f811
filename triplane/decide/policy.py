"""Which patterns a data classification allows, for `recommend`, `cost` and the advisor.

The table is `triplane.policies.taxonomy.ALLOWED_PATTERNS`, the one the policy packs enforce by default; this
module adds why each refused pair is refused.
"""

from __future__ import annotations

from triplane.policies.taxonomy import ALLOWED_PATTERNS as ALLOWED
from triplane.policies.taxonomy import PATTERNS

__all__ = ["ALLOWED", "PATTERNS", "allowed", "why_not"]

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
