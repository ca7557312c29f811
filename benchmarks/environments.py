"""Generated environments for the benchmark: N use cases, mixed patterns and clouds, valid specs.

Use cases rotate through every (pattern, cloud) pair whose pattern has a registered builder, so a
pattern that lands later joins the mix with no change here. Each use case varies a little (SaaS
provider, model, data classification) the way a real estate of teams would, and every value is one
the spec accepts: `environment()` validates its own output with `stacks.spec`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from triplane.stacks.secrets import secret_fields
from triplane.stacks.spec import validate_environment
from triplane.stacks.spec.errors import ENVIRONMENT_KEY

STACK = "bench"
"""The stack name of every generated environment (short, so physical names keep the use-case part)."""

CLOUDS = ("aws", "azure", "gcp")
PATTERNS = ("saas", "cloud-managed", "self-managed")
CLASSIFICATIONS = ("public", "internal", "confidential")
SAAS_PROVIDERS = {
    "openai": ["gpt-4o-mini"],
    "anthropic": ["claude-haiku-4-5"],
    "mistral": ["mistral-large-latest"],
    "cohere": ["command-r-plus-08-2024"],
    "gemini": ["gemini-3.5-flash"],
}
SAAS_PRINCIPALS = {
    "aws": lambda i: f"arn:aws:iam::123456789012:role/app-{i:04d}",
    "azure": lambda i: f"00000000-0000-0000-0000-{i:012d}",
    "gcp": lambda i: f"serviceAccount:app-{i:04d}@acme-genai-bench.iam.gserviceaccount.com",
}
MANAGED_MODELS: dict[str, list[dict[str, Any]]] = {
    "aws": [
        {"id": "anthropic.claude-3-5-haiku-20241022-v1:0"},
        {"id": "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
    ],
    "azure": [
        {"id": "gpt-4o", "version": "2024-08-06", "sku": "GlobalStandard", "capacity": 20},
        {"id": "gpt-4o-mini", "version": "2024-07-18"},
    ],
    "gcp": [{"id": "gemini-3.5-flash"}, {"id": "gemini-3.1-flash-lite"}],
}
"""Models every data classification's allowlist accepts (policies/policy-config.json), so the gate passes."""
GPUS_BY_CLOUD = {
    "aws": ("nvidia-l4", "nvidia-a10g"),
    "azure": ("nvidia-a10", "nvidia-a100-80gb"),
    "gcp": ("nvidia-l4", "nvidia-a100-40gb"),
}
"""One-GPU machines on each cloud; with two capacity types, a cluster's use cases spread over four
pools, so no pool outgrows the policy pack's default node-pool cap (10) even at 200 use cases."""
CAPACITY_TYPES = ("on-demand", "spot")
OPEN_MODELS = (
    ("mistralai/Mistral-7B-Instruct-v0.3", "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db"),
    ("meta-llama/Llama-3.1-8B-Instruct", "0e9e39f249a16976918f6564b8830bc894c89659"),
)
CIDRS = {"aws": "10.10.0.0/16", "azure": "10.20.0.0/16", "gcp": "10.30.0.0/16"}


def mix(patterns: tuple[str, ...]) -> list[tuple[str, str]]:
    """The (pattern, cloud) rotation: clouds vary fastest, so every pattern meets every cloud early."""
    return [(pattern, cloud) for pattern in PATTERNS if pattern in patterns for cloud in CLOUDS]


def registered_patterns() -> tuple[str, ...]:
    from triplane.stacks.patterns import PATTERNS as REGISTERED

    return tuple(p for p in PATTERNS if p in REGISTERED)


def use_case(index: int, pattern: str, cloud: str) -> dict[str, Any]:
    name = f"uc{index:04d}"
    common: dict[str, Any] = {
        "name": name,
        "description": f"Generated use case {index} ({pattern} on {cloud}).",
        "pattern": pattern,
        "data_classification": CLASSIFICATIONS[index % len(CLASSIFICATIONS)],
    }
    if pattern == "saas":
        provider = sorted(SAAS_PROVIDERS)[index % len(SAAS_PROVIDERS)]
        return {
            **common,
            "data_classification": "public" if index % 2 else "internal",
            "cloud": cloud,
            "provider": provider,
            "models": SAAS_PROVIDERS[provider],
            "api_key_secret": f"apiKey{index:04d}",
            "allowed_principals": [SAAS_PRINCIPALS[cloud](index)],
        }
    if pattern == "cloud-managed":
        models = MANAGED_MODELS[cloud]
        return {
            **common,
            "cloud": cloud,
            "models": [models[index % len(models)]],
            "allowed_principals": [SAAS_PRINCIPALS[cloud](index)],
        }
    model_id, revision = OPEN_MODELS[index % len(OPEN_MODELS)]
    nth_on_cloud = index // len(mix(PATTERNS))
    return {
        **common,
        "cluster": f"gpu-{cloud}",
        "model": {"id": model_id, "revision": revision},
        "gpu": {"type": GPUS_BY_CLOUD[cloud][nth_on_cloud % 2], "count": 1},
        "node_pool": {"capacity_type": CAPACITY_TYPES[nth_on_cloud // 2 % 2]},
        "tokens": {"max_total_tokens": 4096},
        "replicas": {"min": 1, "max": 1},
        "allowed_clients": {"namespaces": [f"team-{index:04d}"]},
    }


def environment(size: int, patterns: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The `triplane:environment` value with `size` use cases (validated before it is returned)."""
    chosen = registered_patterns() if patterns is None else patterns
    rotation = mix(chosen)
    if not rotation:
        raise ValueError("no pattern builder is registered; nothing to generate")
    value: dict[str, Any] = {
        "owner": "platform-team",
        "cost_center": "cc-4200",
        "tier": "dev",
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {"new": {"cidr": CIDRS["aws"], "zones": ["us-east-1a", "us-east-1b", "us-east-1c"]}},
            },
            "azure": {
                "location": "westeurope",
                "resource_group": "rg-triplane-bench",
                "network": {"new": {"cidr": CIDRS["azure"]}},
            },
            "gcp": {
                "project": "acme-genai-bench",
                "region": "europe-west4",
                "network": {"new": {"cidr": CIDRS["gcp"]}},
            },
        },
        "use_cases": [use_case(i, *rotation[i % len(rotation)]) for i in range(size)],
    }
    if "self-managed" in chosen:
        value["kubernetes"] = [
            {"name": f"gpu-{cloud}", "new": {"cloud": cloud, "deployer": {"private_cidrs": ["10.99.0.0/24"]}}}
            for cloud in CLOUDS
        ]
    validate_environment(value, f"generated environment of {size} use cases")
    return value


def secret_keys(value: dict[str, Any]) -> list[str]:
    """Every secret the environment names (use cases' and clouds'), once each, as the program checks them."""
    environment = validate_environment(value, "generated environment")
    return list(dict.fromkeys(f"triplane:{key}" for _, key in secret_fields(environment)))


def write_stack(directory: Path, size: int, patterns: tuple[str, ...] | None = None) -> Path:
    """A stack file exactly like a shipped one (secrets as `secure:` entries); returns its path."""
    value = environment(size, patterns)
    config: dict[str, Any] = {ENVIRONMENT_KEY: value}
    for key in secret_keys(value):
        config[key] = {"secure": "benchmark-placeholder"}
    path = directory / f"Pulumi.{STACK}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False), encoding="utf-8")
    return path
