"""Versions that expire, in one place and dated: Kubernetes releases and model IDs.

Kubernetes minor versions leave each cloud's standard support about 14 months (EKS, GKE) or 12
months (AKS) after they arrive, and model providers retire models on their own schedules. Each
table below says what was true on `AS_OF` and where it was read; refresh the date with the tables.
The stack spec refuses what these tables rule out, naming the replacement, before any resource.
"""

from __future__ import annotations

import difflib
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
        # Claude Haiku 3 retired 2026-04-20 (platform.claude.com release notes).
        "claude-3-haiku-20240307": "claude-haiku-4-5",
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


# ------------------------------------------------------------------------------------- model catalog

BEDROCK_MODELS: frozenset[str] = frozenset(
    {
        # Anthropic (platform.claude.com/docs/en/build-with-claude/claude-on-amazon-bedrock-legacy, base
        # Bedrock model IDs; Claude Opus 4.7 has no ARN-versioned ID there and is left out).
        "anthropic.claude-opus-4-6-v1",
        "anthropic.claude-sonnet-4-6",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-opus-4-5-20251101-v1:0",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-opus-4-20250514-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0",
        # Amazon (docs.aws.amazon.com/bedrock/latest/userguide/model-cards-amazon.html, model-ids.html).
        "amazon.nova-2-lite-v1:0",
        "amazon.nova-premier-v1:0",
        "amazon.nova-pro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-micro-v1:0",
        "amazon.titan-text-express-v1",
        "amazon.titan-text-premier-v1:0",
        "amazon.titan-embed-text-v2:0",
        # Meta, Mistral AI, Cohere, AI21 Labs, DeepSeek, OpenAI open weights (model-ids.html, model-parameters-
        # openai.html, the providers' model cards under docs.aws.amazon.com/bedrock/latest/userguide/model-cards-*,
        # and docs.mistral.ai/deployment/cloud/aws for Mistral's list; Mistral Large 3 and Ministral 3 are left
        # out until their IDs are read).
        "meta.llama3-1-8b-instruct-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
        "meta.llama3-1-405b-instruct-v1:0",
        "meta.llama3-2-11b-instruct-v1:0",
        "meta.llama3-2-90b-instruct-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "meta.llama4-scout-17b-instruct-v1:0",
        "meta.llama4-maverick-17b-instruct-v1:0",
        "mistral.mistral-large-2407-v1:0",
        "mistral.mistral-large-2402-v1:0",
        "mistral.mistral-small-2402-v1:0",
        "mistral.pixtral-large-2502-v1:0",
        "mistral.mixtral-8x7b-instruct-v0:1",
        "mistral.mistral-7b-instruct-v0:2",
        "cohere.command-r-v1:0",
        "cohere.command-r-plus-v1:0",
        "cohere.embed-english-v3",
        "cohere.embed-multilingual-v3",
        "cohere.embed-v4:0",
        "cohere.rerank-v3-5:0",
        "ai21.jamba-1-5-large-v1:0",
        "ai21.jamba-1-5-mini-v1:0",
        "deepseek.r1-v1:0",
        "openai.gpt-oss-120b-1:0",
        "openai.gpt-oss-20b-1:0",
    }
)
"""Bedrock foundation-model IDs (on-demand or profile-only, see PROFILE_ONLY_MODELS); an inference
profile ID is `<geography>.<one of these>`."""

AZURE_OPENAI_MODELS: dict[str, tuple[str, ...]] = {
    # learn.microsoft.com/azure/ai-foundry/openai/concepts/models and .../model-retirements (name, version).
    "gpt-5.1": ("2025-11-13",),
    "gpt-5": ("2025-08-07",),
    "gpt-5-mini": ("2025-08-07",),
    "gpt-5-nano": ("2025-08-07",),
    "gpt-4.1": ("2025-04-14",),
    "gpt-4.1-mini": ("2025-04-14",),
    "gpt-4.1-nano": ("2025-04-14",),
    "gpt-4o": ("2024-11-20", "2024-08-06", "2024-05-13"),
    "gpt-4o-mini": ("2024-07-18",),
    "o3": ("2025-04-16",),
    "o4-mini": ("2025-04-16",),
    "o3-mini": ("2025-01-31",),
    "o1": ("2024-12-17",),
    "text-embedding-3-large": ("1",),
    "text-embedding-3-small": ("1",),
    "text-embedding-ada-002": ("2",),
}
"""Azure OpenAI model name -> the versions a deployment may pin."""

VERTEX_MODELS: frozenset[str] = frozenset(
    {
        # Google (docs.cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions; a stable Gemini
        # version may be pinned as `<model>@<nnn>`).
        "gemini-3.5-flash",
        "gemini-3.1-pro-preview",
        "gemini-3.1-flash-lite",
        "gemini-3-flash-preview",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-embedding-001",
        "text-embedding-005",
        # Anthropic partner models (platform.claude.com/docs/en/build-with-claude/claude-on-vertex-ai).
        "claude-opus-4-8",
        "claude-opus-4-7",
        "claude-opus-4-6",
        "claude-sonnet-4-6",
        "claude-sonnet-4-5@20250929",
        "claude-opus-4-5@20251101",
        "claude-haiku-4-5@20251001",
        "claude-opus-4-1@20250805",
        "claude-sonnet-4@20250514",
        "claude-opus-4@20250514",
    }
)
"""Vertex AI publisher model names (without the `publishers/<publisher>/models/` path)."""

SAAS_MODELS: dict[str, frozenset[str]] = {
    # OpenAI (platform.openai.com/docs/models; the `ModelIdsShared` list of github.com/openai/openai-openapi).
    "openai": frozenset(
        {
            "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.4-mini-2026-03-17", "gpt-5.4-nano-2026-03-17",
            "gpt-5.2", "gpt-5.2-2025-12-11", "gpt-5.2-pro", "gpt-5.2-pro-2025-12-11",
            "gpt-5.1", "gpt-5.1-2025-11-13",
            "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5-2025-08-07", "gpt-5-mini-2025-08-07", "gpt-5-nano-2025-08-07",
            "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
            "gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14",
            "o3", "o3-2025-04-16", "o4-mini", "o4-mini-2025-04-16", "o3-mini", "o3-mini-2025-01-31",
            "gpt-4o", "gpt-4o-2024-11-20", "gpt-4o-2024-08-06", "gpt-4o-mini", "gpt-4o-mini-2024-07-18",
            "text-embedding-3-large", "text-embedding-3-small",
        }
    ),
    # Anthropic (platform.claude.com/docs/en/about-claude/models/overview: IDs and their aliases).
    "anthropic": frozenset(
        {
            "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-sonnet-4-6",
            "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-opus-4-5", "claude-opus-4-5-20251101",
            "claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-opus-4-1", "claude-opus-4-1-20250805",
        }
    ),
    # Cohere (docs.cohere.com/docs/models).
    "cohere": frozenset(
        {
            "command-a-03-2025", "command-a-reasoning-08-2025", "command-a-vision-07-2025",
            "command-a-translate-08-2025", "command-r7b-12-2024", "command-r-plus-08-2024", "command-r-08-2024",
            "embed-v4.0", "embed-english-v3.0", "embed-multilingual-v3.0",
            "rerank-v4.0-pro", "rerank-v4.0-fast", "rerank-v3.5",
        }
    ),
    # Mistral AI (docs.mistral.ai/getting-started/models: API endpoint names and `-latest` aliases).
    "mistral": frozenset(
        {
            "mistral-large-latest", "mistral-large-2411", "mistral-medium-latest", "mistral-medium-2508",
            "mistral-small-latest", "magistral-medium-latest", "magistral-medium-2509", "magistral-small-latest",
            "codestral-latest", "codestral-2508", "devstral-medium-latest", "devstral-medium-2507",
            "devstral-small-latest", "ministral-8b-latest", "ministral-3b-latest", "pixtral-large-latest",
            "mistral-embed",
        }
    ),
    # Gemini API (ai.google.dev/gemini-api/docs/models; 2.5 and older are retired, see RETIRED_MODELS).
    "gemini": frozenset(
        {
            "gemini-3.5-flash", "gemini-3.1-pro-preview", "gemini-3.1-flash-lite", "gemini-3-flash-preview",
            "gemini-embedding-001",
        }
    ),
}  # fmt: skip
"""SaaS provider -> the model IDs its API serves."""

SERVICE_TITLES = {
    "bedrock": "Amazon Bedrock", "azure": "Azure OpenAI", "vertex": "Vertex AI", "openai": "OpenAI",
    "anthropic": "Anthropic", "cohere": "Cohere", "mistral": "Mistral AI", "gemini": "Gemini API",
}  # fmt: skip


@dataclass(frozen=True)
class Family:
    vendor: str
    label: str
    pattern: re.Pattern[str]
    services: tuple[str, ...]
    """Where the family is offered: SaaS providers first, then managed services."""
    bedrock_vendor: str = ""
    """The vendor prefix its Bedrock IDs carry (`anthropic.` for claude)."""


FAMILIES: tuple[Family, ...] = (
    Family("Anthropic", "claude", re.compile(r"^claude"), ("anthropic", "bedrock", "vertex"), "anthropic"),
    # gpt-oss is OpenAI's open-weight family, served by others too (Bedrock): not owned here.
    Family(
        "OpenAI", "gpt / o-series",
        re.compile(r"^(gpt-(?!oss)|chatgpt-|o[1-9](-|$)|text-embedding-3|text-embedding-ada|codex-)"),
        ("openai", "azure"),
    ),
    Family("Google", "gemini", re.compile(r"^gemini"), ("gemini", "vertex")),
    Family(
        "Cohere", "command / embed / rerank", re.compile(r"^(command|embed-|rerank-)"), ("cohere", "bedrock"), "cohere"
    ),
    Family(
        "Mistral AI", "mistral",
        re.compile(r"^(mistral|mixtral|codestral|magistral|ministral|devstral|pixtral)"),
        ("mistral", "bedrock", "vertex"), "mistral",
    ),
    Family("Amazon", "nova / titan", re.compile(r"^(nova|titan)"), ("bedrock",), "amazon"),
    Family("Meta", "llama", re.compile(r"^llama"), ("bedrock", "vertex"), "meta"),
)  # fmt: skip
"""Who owns each model family and which services offer it: an ID of a family its service does not
offer is refused, naming where it is offered."""

_GEOGRAPHY = re.compile(rf"^(?:{'|'.join(re.escape(g) for g in (*GEOGRAPHY_REGIONS, GLOBAL))})\.")
_VERTEX_STABLE = re.compile(r"^(?P<base>.+)@\d{3}$")


def _bare_name(service: str, model_id: str) -> str:
    """The model's own name, as the family patterns read it (no vendor, profile, publisher or version)."""
    name = model_id
    if service == "bedrock":
        name = _GEOGRAPHY.sub("", name).partition(".")[2] or name
    if service == "vertex":
        name = name.rsplit("/", 1)[-1].split("@")[0]
    return name


def family_of(service: str, model_id: str) -> Family | None:
    name = _bare_name(service, model_id)
    return next((f for f in FAMILIES if f.pattern.match(name)), None)


def _where(family: Family) -> str:
    saas = [s for s in family.services if s in SAAS_MODELS]
    managed = [SERVICE_TITLES[s] for s in family.services if s not in SAAS_MODELS]
    parts = [f"use provider {saas[0]}"] if saas else []
    if managed:
        parts.append(("or " if saas else "use ") + " / ".join(managed))
    return ", ".join(parts)


def listed_models(service: str) -> frozenset[str]:
    """Every model ID the catalog lists for `service`."""
    if service == "bedrock":
        return BEDROCK_MODELS
    if service == "azure":
        return frozenset(AZURE_OPENAI_MODELS)
    if service == "vertex":
        return VERTEX_MODELS
    return SAAS_MODELS[service]


def closest_models(service: str, model_id: str, count: int = 3) -> list[str]:
    """The listed IDs nearest to `model_id` (same family first), for an error message."""
    listed = listed_models(service)
    family = family_of(service, model_id)
    same = sorted(m for m in listed if family is not None and family_of(service, m) == family)
    candidates = same or sorted(listed)
    return difflib.get_close_matches(model_id, candidates, n=count, cutoff=0.0)


def is_listed(service: str, model_id: str) -> bool:
    """Whether `model_id` is in the catalog: profiles by the model they route to, Vertex `@nnn` versions
    by their model, Vertex publisher paths by their model name."""
    if service == "bedrock":
        return _GEOGRAPHY.sub("", model_id) in BEDROCK_MODELS
    if service == "vertex":
        name = model_id.rsplit("/", 1)[-1]
        stable = _VERTEX_STABLE.match(name)
        return name in VERTEX_MODELS or (stable is not None and stable["base"] in VERTEX_MODELS)
    return model_id in listed_models(service)


def model_problem(service: str, model_id: str, *, allow_unlisted: bool = False) -> str | None:
    """Why `model_id` is not a model `service` offers (as of AS_OF), naming what to use; or None.

    Retired IDs are left to `retired_replacement` (callers report them with the replacement). An ID of
    another vendor's family is refused whatever `allow_unlisted` says; an unlisted ID of the right
    family passes only with `allow_unlisted` (a newer model than this catalog).
    """
    title = SERVICE_TITLES[service]
    family = family_of(service, model_id)
    if retired_replacement(service, model_id) is not None or (
        service == "vertex" and retired_replacement(service, _bare_name(service, model_id)) is not None
    ):
        return None
    if family is not None and service not in family.services:
        owner = next(iter(family.services))
        owned = ", ".join(closest_models(owner, _bare_name(service, model_id))) if owner in SAAS_MODELS else ""
        return (
            f"{model_id}: {family.label} models are {family.vendor}'s and {title} does not serve them: "
            f"{_where(family)}" + (f" (closest {owner} IDs: {owned})" if owned else "")
        )
    vendor = _GEOGRAPHY.sub("", model_id).partition(".")[0] if service == "bedrock" else ""
    if family is not None and family.bedrock_vendor and vendor and vendor != family.bedrock_vendor:
        return (
            f"{model_id}: {family.label} models are {family.vendor}'s, published on Amazon Bedrock as "
            f"{family.bedrock_vendor}.<model>, not {vendor}.<model>"
        )
    if is_listed(service, model_id):
        return None
    if allow_unlisted:
        if service in SAAS_MODELS and family is None:
            own = " or ".join(f.label for f in FAMILIES if service in f.services)
            return (
                f"{model_id} is not named like any {title} model ({own}); `allow_unlisted_model` admits only newer "
                f"IDs of {title}'s own families"
            )
        return None
    near = closest_models(service, model_id)
    profile = _GEOGRAPHY.match(model_id) if service == "bedrock" else None
    if profile is not None:
        near = [f"{profile.group(0)}{m}" for m in closest_models(service, _GEOGRAPHY.sub("", model_id))]
    return (
        f"{model_id} is not in the {title} model catalog (as of {AS_OF}); closest: {', '.join(near)}. Use one of "
        "them, or set `allow_unlisted_model: true` on the use case for a model newer than the catalog"
    )


def azure_version_problem(model: str, version: str) -> str | None:
    """Why `version` is not a version of Azure OpenAI `model` in the catalog, or None."""
    versions = AZURE_OPENAI_MODELS.get(model)
    if versions is None or version in versions:
        return None
    return (
        f"{version} is not a version of {model} in the Azure OpenAI model catalog (as of {AS_OF}); use "
        f"{' or '.join(versions)}, or set `allow_unlisted_model: true` on the use case for a newer version"
    )
