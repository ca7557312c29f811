"""Shared pieces of the environment spec: the strict base model and the name rules."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

DataClassification = Literal["public", "internal", "confidential", "restricted"]
Pattern = Literal["saas", "cloud-managed", "self-managed"]
Cloud = Literal["aws", "azure", "gcp"]

CLASSIFICATION_RANK: dict[str, int] = {"public": 0, "internal": 1, "confidential": 2, "restricted": 3}

# A use-case or environment name becomes part of every cloud resource name, so it follows the
# strictest rule among them: a DNS-1123 label (lowercase letters, digits, hyphens), short enough
# that "<environment>-<use case>-<role>" still fits the tight limits (Key Vault: 24 characters).
NAME_PATTERN = r"^[a-z]([a-z0-9-]*[a-z0-9])?$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, min_length=2, max_length=20)]
ConfigKey = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,63}$")]


class SpecModel(BaseModel):
    """Strict by default: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def is_name(value: str) -> bool:
    return re.fullmatch(NAME_PATTERN, value) is not None
