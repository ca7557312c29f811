"""Tags and labels from one place: owner, cost center, environment, use case, classification, pattern.

AWS and Azure take the tags as they are; Google Cloud labels and Kubernetes labels have stricter
character rules, so each gets its own normalisation of the same values.
"""

from __future__ import annotations

import re

from policies.taxonomy import REQUIRED_TAGS, SHARED

__all__ = ["REQUIRED_TAGS", "SHARED", "gcp_labels", "k8s_labels", "standard_tags"]


def standard_tags(
    *,
    environment: str,
    owner: str,
    cost_center: str,
    use_case: str = SHARED,
    data_classification: str = SHARED,
    pattern: str = SHARED,
) -> dict[str, str]:
    return {
        "owner": owner,
        "cost-center": cost_center,
        "environment": environment,
        "use-case": use_case,
        "data-classification": data_classification,
        "pattern": pattern,
        "managed-by": "triplane",
    }


def gcp_labels(tags: dict[str, str]) -> dict[str, str]:
    """GCP labels: lowercase letters, digits, `_` and `-`; keys start with a letter; 63 characters."""

    def clean(text: str) -> str:
        return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]

    return {clean(k): clean(v) for k, v in tags.items()}


def k8s_labels(tags: dict[str, str]) -> dict[str, str]:
    """Kubernetes labels under the `triplane.io/` prefix; values fitted to the label-value rule."""

    def value(text: str) -> str:
        cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:63]
        return cleaned.strip("_.-")

    return {f"triplane.io/{k}": value(v) for k, v in tags.items()}
