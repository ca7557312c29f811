"""Versions that expire, in one place and dated: Kubernetes releases and model IDs.

Kubernetes minor versions leave each cloud's standard support about 14 months (EKS, GKE) or 12
months (AKS) after they arrive, and model providers retire models on their own schedules. Each
table below says what was true on `AS_OF` and where it was read; refresh the date with the tables.
The stack spec refuses what these tables rule out, naming the replacement, before any resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AS_OF = "2026-12-05"

# ------------------------------------------------------------------------------------- Kubernetes

KUBERNETES_STANDARD_SUPPORT: dict[str, dict[str, str]] = {
    # EKS: 14 months of standard support after the EKS release. 1.34 ended on 2026-12-02; 1.35 runs to
    # 2027-03-27 (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html, endoflife.date/amazon-eks);
    # 1.36 is the newest EKS version named by that guide.
    "aws": {"1.35": "2027-03-27", "1.36": "2027-08"},
    # AKS: 12 months after AKS GA. 1.35 GA 2026-03 (Azure/AKS release 2026-03-05), 1.36 GA 2026-07
    # (learn.microsoft.com/azure/aks/supported-kubernetes-versions; az aks get-versions, 2026-07-29).
    "azure": {"1.35": "2027-03", "1.36": "2027-07"},
    # GKE: about 14 months after the version reaches the Regular channel; Regular offers 1.33-1.36 with
    # 1.35 as the default for new clusters (docs.cloud.google.com/kubernetes-engine/docs/release-notes,
    # release-schedule); 1.33 and 1.34 have left standard support by AS_OF.
    "gcp": {"1.35": "2027-02", "1.36": "2027-06"},
}
"""Cloud -> minor version -> end of standard support (month, or day where the vendor publishes one)."""

DEFAULT_KUBERNETES = "1.35"
"""In standard support on EKS, AKS and GKE on AS_OF, with the longest documented runway on all three."""


def kubernetes_problem(cloud: str, version: str) -> str | None:
    """Why `version` cannot be used for a new cluster on `cloud`, or None."""
    supported = KUBERNETES_STANDARD_SUPPORT[cloud]
    if version in supported:
        return None
    listed = ", ".join(sorted(supported, key=lambda v: tuple(int(p) for p in v.split("."))))
    service = {"aws": "EKS", "azure": "AKS", "gcp": "GKE"}[cloud]
    return (
        f"Kubernetes {version} is not in {service} standard support (as of {AS_OF}); use one of {listed} "
        f"(default {DEFAULT_KUBERNETES})"
    )


# ---------------------------------------------------------------------------- Bedrock inference profiles

GEOGRAPHY_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
    "eu": ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"),
    "apac": (
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-4",
    ),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "ca": ("ca-central-1", "ca-west-1"),
    "us-gov": ("us-gov-east-1", "us-gov-west-1"),
}  # fmt: skip
"""Geography prefix of a cross-region inference profile -> the regions it may route to (source regions
and destinations are the same set; docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html)."""

GLOBAL = "global"
"""A `global.` profile routes to every commercial region: IAM names its models with an empty region."""

PROFILE_ONLY_MODELS: dict[str, tuple[str, ...]] = {
    "anthropic.claude-sonnet-4-5-20250929-v1:0": ("us", "eu", "jp", "au", "global"),
    "anthropic.claude-haiku-4-5-20251001-v1:0": ("us", "eu", "jp", "au", "global"),
    "anthropic.claude-opus-4-1-20250805-v1:0": ("us",),
    "amazon.nova-premier-v1:0": ("us",),
}
"""Bedrock models with no on-demand throughput of their own: they are invoked only through a
cross-region inference profile, `<geography>.<model id>` (geographies that offer one listed)."""


@dataclass(frozen=True)
class InferenceProfile:
    profile_id: str
    geography: str
    model_id: str
    """The foundation model it routes to."""

    def routed_regions(self) -> tuple[str, ...]:
        """Regions whose foundation model the profile may invoke; `("",)` for a global profile."""
        return ("",) if self.geography == GLOBAL else GEOGRAPHY_REGIONS.get(self.geography, ())


_PROFILE = re.compile(rf"^({'|'.join(re.escape(g) for g in (*GEOGRAPHY_REGIONS, GLOBAL))})\.(.+)$")


def inference_profile(model_id: str) -> InferenceProfile | None:
    """The cross-region inference profile `model_id` names, or None for a foundation-model ID."""
    match = _PROFILE.match(model_id)
    return InferenceProfile(model_id, match.group(1), match.group(2)) if match else None


def geography_of(region: str) -> str | None:
    """The geography whose profiles a caller in `region` may use (`us-east-1` -> `us`)."""
    for geography in ("us-gov", "us", "eu", "ca"):
        if region in GEOGRAPHY_REGIONS[geography]:
            return geography
    if region in GEOGRAPHY_REGIONS["apac"]:
        return "apac"
    return None


def bedrock_model_problem(model_id: str, region: str) -> str | None:
    """Why `model_id` does not work as written from `region`, naming the ID to use instead; or None."""
    replacement = retired_replacement("bedrock", model_id)
    if replacement is not None:
        return f"{model_id} is retired on Amazon Bedrock (as of {AS_OF}); use {replacement}"
    profile = inference_profile(model_id)
    if profile is None:
        geographies = PROFILE_ONLY_MODELS.get(model_id)
        if geographies is None:
            return None
        geography = geography_of(region)
        prefix = geography if geography in geographies else GLOBAL if GLOBAL in geographies else geographies[0]
        return (
            f"{model_id} has no on-demand throughput in {region}: it is invoked through a cross-region "
            f"inference profile; use {prefix}.{model_id}"
        )
    if profile.geography == GLOBAL:
        return None
    regions = GEOGRAPHY_REGIONS.get(profile.geography, ())
    if region not in regions:
        usable = geography_of(region)
        fix = f"use {usable}.{profile.model_id} or global.{profile.model_id}" if usable else (
            f"use global.{profile.model_id}"
        )
        return f"{model_id} is a {profile.geography} inference profile, which {region} cannot call; {fix}"
    return None


# ------------------------------------------------------------------------------------ retired models

RETIRED_MODELS: dict[str, dict[str, str]] = {
    # Amazon Bedrock: Claude 3.5 Sonnet (v1 and v2) and Claude 3.7 Sonnet are past end of life.
    "bedrock": {
        "anthropic.claude-3-5-sonnet-20240620-v1:0": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-3-5-sonnet-20241022-v2:0": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-3-5-sonnet-20240620-v1:0": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    },
    # Anthropic API (platform.claude.com model deprecations): 3.5 Sonnet retired 2025-10-22, 3.7 Sonnet
    # 2026-02-19, Sonnet 4 and Opus 4 2026-06-15.
    "anthropic": {
        "claude-3-5-sonnet-20240620": "claude-sonnet-4-6",
        "claude-3-5-sonnet-20241022": "claude-sonnet-4-6",
        "claude-3-7-sonnet-20250219": "claude-sonnet-4-6",
        "claude-sonnet-4-20250514": "claude-sonnet-4-6",
        "claude-opus-4-20250514": "claude-sonnet-4-6",
    },
    # Gemini API: Gemini 1.5 retired 2025-09-24, 2.0 Flash in 2026, 2.5 Pro and Flash on 2026-12-01.
    "gemini": {
        "gemini-1.5-*": "gemini-3.5-flash",
        "gemini-2.0-*": "gemini-3.5-flash",
        "gemini-2.5-pro": "gemini-3.5-flash",
        "gemini-2.5-flash": "gemini-3.5-flash",
    },
    # Vertex AI (cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions): Gemini 1.5 retired
    # 2025-09-24, gemini-2.0-flash-001 2026-02-05, gemini-2.0-flash-lite-001 2026-02-25.
    "vertex": {
        "gemini-1.5-*": "gemini-3.5-flash",
        "gemini-1.0-*": "gemini-3.5-flash",
        "gemini-2.0-*": "gemini-3.5-flash",
    },
}
"""Service -> retired model ID (or `*` glob) -> the current model to use instead."""


def retired_replacement(service: str, model_id: str) -> str | None:
    """The model to use instead of a retired `model_id` on `service`, or None if it is not retired."""
    for pattern, replacement in RETIRED_MODELS.get(service, {}).items():
        if model_id == pattern or (pattern.endswith("*") and model_id.startswith(pattern[:-1])):
            return replacement
    return None
