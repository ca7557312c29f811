"""Shared pieces of the environment spec: the strict base model and the name rules."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, WithJsonSchema

from triplane.components.saas.providers import check_host
from triplane.policies.taxonomy import CLASSIFICATIONS

DataClassification = Literal["public", "internal", "confidential", "restricted"]
Pattern = Literal["saas", "cloud-managed", "self-managed"]
"""Both literals spell out `triplane.policies.taxonomy`'s CLASSIFICATIONS and PATTERNS (a test checks)."""
Cloud = Literal["aws", "azure", "gcp"]
ManagedService = Literal["bedrock", "azure-openai", "vertex"]
"""A managed-model service a cloud-managed use case runs on."""

Host = Annotated[str, AfterValidator(check_host)]
"""A host or `*.` pattern for an egress allowlist: every such field of the spec is this type."""

CLASSIFICATION_RANK: dict[str, int] = {name: rank for rank, name in enumerate(CLASSIFICATIONS)}

# A use-case or environment name becomes part of every cloud resource name, so it follows the
# strictest rule among them: a DNS-1123 label (lowercase letters, digits, hyphens), short enough
# that "<environment>-<use case>-<role>" still fits the tight limits (Key Vault: 24 characters).
NAME_PATTERN = r"^[a-z]([a-z0-9-]*[a-z0-9])?$"
NAME_MIN, NAME_MAX = 2, 20


def name_problem(value: str) -> str | None:
    """Why `value` cannot start resource names, naming the cloud rule it breaks; None if it can."""
    from triplane.stacks.spec.errors import shown

    quoted = shown(value)
    if not NAME_MIN <= len(value) <= NAME_MAX:
        return (
            f"{quoted} has {len(value)} characters; use {NAME_MIN} to {NAME_MAX}, so that "
            "`<environment>-<use case>-<role>` fits the tightest cloud limits (GKE clusters: 40, "
            "Kubernetes labels: 63)"
        )
    if value != value.lower():
        return f"{quoted} has capitals; Kubernetes DNS-1123 labels and Google Cloud resource names are lowercase"
    bad = sorted(set(re.sub(r"[a-z0-9-]", "", value)))
    if bad:
        listed = " ".join(repr(c) for c in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        return (
            f"{quoted} contains {listed}; use lowercase letters, digits and hyphens only "
            "(Kubernetes DNS-1123 labels, Google Cloud resource names, S3 buckets)"
        )
    if not value[0].isalpha() or not value[0].isascii():
        return f"{quoted} must start with a letter (Google Cloud resource names and Key Vault names do)"
    if value.endswith("-"):
        return f"{quoted} must end with a letter or digit (Kubernetes DNS-1123 labels do)"
    if "--" in value:
        return (
            f"{quoted} has consecutive hyphens, which Azure Key Vault names refuse (and S3 reserves "
            "the `xn--` prefix); use single hyphens"
        )
    return None


def stack_name_problem(stack: str) -> str | None:
    """The stack's name starts every resource name, so it follows the same rule as a use case's."""
    problem = name_problem(stack)
    if problem is None:
        return None
    return (
        f"the stack name {problem}. The name comes from the file name (Pulumi.<stack>.yaml) and starts every "
        "resource name; rename the file (and the Pulumi stack)"
    )


def _check_name(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# The JSON Schema keeps the plain rule (for editors); validation explains which cloud rule failed.
Name = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[a-z](?!.*--)([a-z0-9-]*[a-z0-9])?$", "minLength": NAME_MIN,
         "maxLength": NAME_MAX}
    ),
]
ConfigKey = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$")]


class SpecModel(BaseModel):
    """Strict by default: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def is_name(value: str) -> bool:
    return re.fullmatch(NAME_PATTERN, value) is not None
