"""One naming rule for every cloud resource: `<environment>-<use case>-<role>`, fitted to the cloud.

Clouds limit names differently (a Key Vault takes 24 characters, a PSC forwarding rule 20 lowercase
letters and digits, a Kubernetes object a 63-character DNS label). A name that does not fit is
shortened deterministically: cut, then a short hash of the full name, so it stays unique and stable
across runs. Nothing random.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    max_length: int
    min_length: int = 1
    lowercase: bool = True
    separators: str = "-"
    """Characters kept between words; an empty string squeezes them out (`ab12`)."""
    first: str = "a-z"
    """Character class the name must start with."""


RULES: dict[str, NameRule] = {
    "default": NameRule(max_length=63),
    "k8s": NameRule(max_length=63),
    "iam_role": NameRule(max_length=64, lowercase=False),
    "s3_bucket": NameRule(max_length=63, min_length=3, first="a-z0-9"),
    "kms_alias": NameRule(max_length=250, separators="-/_"),
    "key_vault": NameRule(max_length=24, min_length=3),
    "azure_subdomain": NameRule(max_length=64, min_length=2),
    "azure_storage": NameRule(max_length=24, min_length=3, separators="", first="a-z0-9"),
    "acr": NameRule(max_length=50, min_length=5, separators="", first="a-z0-9"),
    "gcp": NameRule(max_length=63),
    "gcp_service_account": NameRule(max_length=30, min_length=6),
    "gcp_psc": NameRule(max_length=20, separators=""),
    "gke": NameRule(max_length=40),
    "bedrock_guardrail": NameRule(max_length=50),
    # Azure Monitor workspaces, data collection endpoints and rules (Azure's own templates cut them to 44).
    "azure_monitor": NameRule(max_length=44, min_length=3),
}


def physical_name(*parts: str, kind: str = "default") -> str:
    """The cloud name for `parts` joined by hyphens, fitted to the rule for `kind`."""
    rule = RULES[kind]
    full = "-".join(p for p in parts if p)
    text = full.lower() if rule.lowercase else full
    allowed = "a-zA-Z0-9" if not rule.lowercase else "a-z0-9"
    sep = re.escape(rule.separators)
    text = re.sub(f"[^{allowed}{sep}]+", rule.separators[:1], text)
    text = text.strip(rule.separators) if rule.separators else text
    if not re.match(f"[{rule.first}]", text[:1] or "-"):
        text = "t" + text
    if len(text) <= rule.max_length and len(text) >= rule.min_length:
        return text
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    joiner = rule.separators[:1]
    keep = rule.max_length - len(digest) - len(joiner)
    head = text[:keep].rstrip(rule.separators) if rule.separators else text[:keep]
    return f"{head}{joiner}{digest}" if len(text) > rule.max_length else f"{text}{joiner}{digest}"
