"""The words every Triplane environment is described in, defined once.

Data classifications, serving patterns, which patterns each classification allows, and the tags
every taggable resource carries. The policy packs (which import nothing outside `policies`), the
spec, the components and the `triplane` command all read them from here.
"""

from __future__ import annotations

CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
"""Least to most sensitive."""

PATTERNS = ("saas", "cloud-managed", "self-managed")

ALLOWED_PATTERNS: dict[str, tuple[str, ...]] = {
    "public": PATTERNS,
    "internal": PATTERNS,
    "confidential": ("cloud-managed", "self-managed"),
    "restricted": ("self-managed",),
}
"""Classification -> the patterns that may serve it: data stays where the organisation controls it.

SaaS sends prompts to a third party's API; cloud-managed keeps traffic on the cloud provider's
private network but the provider runs the model; self-managed runs on GPUs the organisation operates.
The policy config's `allowedPatterns` defaults to this table and may tighten or widen it.
"""

REQUIRED_TAGS = ("owner", "cost-center", "environment", "use-case", "data-classification", "pattern")

SHARED = "shared"
"""The `use-case` and `pattern` value of resources that serve several use cases (networks, firewalls)."""
