"""Secrets named by the spec (`*_secret` fields) must be set, and set as secrets, before anything runs."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
from pulumi.runtime.config import is_config_secret

from stacks.spec import Environment, SpecError


def secret_fields(environment: Environment) -> Iterator[tuple[str, str]]:
    """(field path, config key) for every secret the environment refers to."""
    aws = environment.clouds.aws
    if aws is not None and any(c.new is not None and c.new.cloud == "aws" for c in environment.kubernetes):
        # ECR caches Docker Hub and GHCR only with credentials.
        yield "clouds.aws.image_cache.docker_hub_secret", aws.image_cache.docker_hub_secret
        yield "clouds.aws.image_cache.ghcr_secret", aws.image_cache.ghcr_secret
    gcp = environment.clouds.gcp
    if gcp is not None and any(c.new is not None and c.new.cloud == "gcp" for c in environment.kubernetes):
        for field_name in ("docker_hub_secret", "ghcr_secret"):
            key = getattr(gcp.image_cache, field_name)
            if key is not None:
                yield f"clouds.gcp.image_cache.{field_name}", key
    for i, use_case in enumerate(environment.use_cases):
        for field_name in type(use_case).model_fields:
            if field_name.endswith("_secret"):
                key = getattr(use_case, field_name)
                if key is not None:
                    yield f"use_cases[{i}].{field_name}", key


def check_secrets(environment: Environment, source: str) -> None:
    config = pulumi.Config("triplane")
    problems = []
    for path, key in secret_fields(environment):
        full = f"triplane:{key}"
        stack = source.removeprefix("stacks/Pulumi.").removesuffix(".yaml")
        if config.get(key) is None:
            problems.append(
                f"triplane:environment.{path} names the secret `{full}`, which is not set; set it with "
                f"`pulumi config set --secret {full} -s {stack}`"
            )
        elif not is_config_secret(full):
            problems.append(
                f"`{full}` (named by triplane:environment.{path}) is stored in plain text; store it "
                f"encrypted with `pulumi config set --secret {full} -s {stack}`"
            )
    if problems:
        raise SpecError(source, problems)


def require_secret(key: str) -> pulumi.Output[str]:
    """The secret's value, always marked secret (check_secrets has already proved it is set)."""
    return pulumi.Config("triplane").require_secret(key)
