"""Secrets named by the spec (`*_secret` fields) must be set, and set as secrets, before anything runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pulumi
from pulumi.runtime.config import is_config_secret

from triplane.stacks.spec import Environment, SpecError
from triplane.stacks.spec.errors import ENVIRONMENT_KEY


def api_key_secret_for(use_case: str) -> str:
    """The config key suggested for a use case's API key: `support-drafts` -> `supportDraftsApiKey`."""
    first, *rest = use_case.split("-")
    return first + "".join(part.capitalize() for part in rest) + "ApiKey"


def secret_fields(environment: Environment) -> Iterator[tuple[str, str]]:
    """(field path, config key) for every secret the environment refers to."""
    from triplane.stacks.clouds import SEAMS  # the seams read secrets through `require_secret` below

    for seam in SEAMS.values():
        yield from seam.image_cache_secrets(environment)
    for i, cluster in enumerate(environment.kubernetes):
        runner = cluster.new.deployer.runner if cluster.new is not None else None
        if runner is not None:
            yield f"kubernetes[{i}].new.deployer.runner.token_secret", runner.token_secret
    if environment.gateway is not None:
        yield "gateway.tls.certificate_secret", environment.gateway.tls.certificate_secret
        yield "gateway.tls.key_secret", environment.gateway.tls.key_secret
    for i, use_case in enumerate(environment.use_cases):
        for j, consumer in enumerate(use_case.consumers):
            if consumer.key_secret is not None:
                yield f"use_cases[{i}].consumers[{j}].key_secret", consumer.key_secret
        for field_name in type(use_case).model_fields:
            if field_name.endswith("_secret"):
                key = getattr(use_case, field_name)
                if key is not None:
                    yield f"use_cases[{i}].{field_name}", key


class ConfigView(Protocol):
    """Where the stack's settings are read: the running program's config, or a stack file read offline."""

    def is_set(self, key: str) -> bool:
        """The full key (`triplane:openaiApiKey`) has a value."""
        ...

    def is_secret(self, key: str) -> bool:
        """The full key's value is stored encrypted (`secure:`)."""
        ...


class RuntimeConfig:
    """The config of the running Pulumi program (`pulumi up`, or the mock runtime)."""

    def is_set(self, key: str) -> bool:
        namespace, _, name = key.partition(":")
        return pulumi.Config(namespace).get(name) is not None

    def is_secret(self, key: str) -> bool:
        return is_config_secret(key)


def check_secrets(environment: Environment, source: str, stack: str, config: ConfigView | None = None) -> None:
    """Every secret the environment names is set, and set encrypted: one paragraph naming each that is not.

    `config` defaults to the running program's; `triplane plan` passes the stack file it read, so the
    same check runs before the program starts.
    """
    view = config or RuntimeConfig()
    problems = []
    for path, key in secret_fields(environment):
        full = f"triplane:{key}"
        command = f"`pulumi config set --secret {full} -s {stack}`"
        named = f"{ENVIRONMENT_KEY}.{path}"
        if not view.is_set(full):
            problems.append(f"{named} names the secret `{full}`, which is not set; set it with {command}")
        elif not view.is_secret(full):
            problems.append(f"`{full}` (named by {named}) is stored in plain text; store it encrypted with {command}")
    if problems:
        raise SpecError(source, problems)


def require_secret(key: str) -> pulumi.Output[str]:
    """The secret's value, always marked secret (check_secrets has already proved it is set)."""
    return pulumi.Config("triplane").require_secret(key)
