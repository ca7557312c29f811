"""The SaaS pattern: the application calls an external AI API through a controlled egress path."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, HttpUrl, StringConstraints, model_validator

from triplane.components.saas.providers import CATALOG, CUSTOM, host_matches
from triplane.components.versions import model_problem, retired_replacement
from triplane.stacks.spec.base import Cloud, ConfigKey, Host, SpecModel
from triplane.stacks.spec.use_case import UseCaseBase

if TYPE_CHECKING:
    from triplane.stacks.spec.environment import Environment

ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$")]

PROVIDERS = (*sorted(CATALOG), CUSTOM)

# Who may act as the use case's workload identity, per cloud (see `allowed_principals`).
_PRINCIPALS: dict[str, tuple[re.Pattern[str], str]] = {
    "aws": (
        re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)$"),
        "an IAM role or user ARN such as arn:aws:iam::123456789012:role/app",
    ),
    "azure": (
        re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        "an Entra ID object ID (a GUID)",
    ),
    "gcp": (
        re.compile(r"^(user|serviceAccount|group|principal|principalSet):\S+$"),
        "an IAM member such as serviceAccount:app@project.iam.gserviceaccount.com or "
        "serviceAccount:project.svc.id.goog[namespace/ksa]",
    ),
}


class CustomProvider(SpecModel):
    """An API the catalog does not know: its hosts are declared here and allowlisted as written."""

    base_url: HttpUrl = Field(description="HTTPS base URL the client calls, e.g. https://api.example.ai/v1.")
    hosts: list[Host] = Field(
        min_length=1,
        max_length=20,
        description="FQDNs the workload may reach, e.g. api.example.ai; at most one leading `*.` label.",
    )
    docs_url: HttpUrl | None = None

    @model_validator(mode="after")
    def _base_url_allowed(self) -> CustomProvider:
        if self.base_url.scheme != "https":
            raise ValueError(f"base_url: {self.base_url} is not HTTPS; the egress allowlist only passes TLS (443)")
        host = (self.base_url.host or "").lower()
        if not any(host_matches(pattern, host) for pattern in self.hosts):
            raise ValueError(
                f"base_url: its host {host} is not among `hosts` ({', '.join(self.hosts)}); add it, or the "
                "firewall would block the very API this use case calls"
            )
        return self


class SaasUseCase(UseCaseBase):
    pattern: Literal["saas"]
    cloud: Cloud = Field(description="Where the workload runs: its key store and egress firewall live there.")
    provider: str = Field(description="openai, anthropic, cohere, mistral, gemini, or `custom`.")
    custom_provider: CustomProvider | None = None
    models: list[ModelName] = Field(default_factory=list, description="Models the use case calls, e.g. gpt-4o-mini.")
    allow_unlisted_model: bool = Field(
        default=False,
        description="true: accept model IDs of the provider's own families that Triplane's dated catalog does "
        "not list yet (a newer model); flagged by the policy pack.",
    )
    api_key_secret: ConfigKey = Field(
        description="Stack config key holding the API key: `pulumi config set --secret triplane:<key>`."
    )
    key_rotation: Literal["pulumi", "external"] = Field(
        default="pulumi",
        description="`external`: the key is rotated outside Pulumi and later runs leave the stored value alone.",
    )

    @model_validator(mode="after")
    def _provider(self) -> SaasUseCase:
        if self.provider not in PROVIDERS:
            raise ValueError(
                f"provider: {self.provider!r} is not a known provider; use one of "
                f"{', '.join(PROVIDERS)} (`custom` with a `custom_provider` block for any other API)"
            )
        if self.provider == CUSTOM and self.custom_provider is None:
            raise ValueError("custom_provider: required when provider is `custom`: give its base_url and hosts")
        if self.provider != CUSTOM and self.custom_provider is not None:
            raise ValueError(
                f"custom_provider: only for provider `custom`; {self.provider}'s hosts come from the "
                "catalog, so remove this block"
            )
        for i, model in enumerate(self.models):
            if (replacement := retired_replacement(self.provider, model)) is not None:
                raise ValueError(f"models[{i}]: {model} is retired by {self.provider}; use {replacement}")
            if self.provider != CUSTOM and (
                problem := model_problem(self.provider, model, allow_unlisted=self.allow_unlisted_model)
            ):
                raise ValueError(f"models[{i}]: {problem}")
        return self

    @model_validator(mode="after")
    def _principals(self) -> SaasUseCase:
        pattern, example = _PRINCIPALS[self.cloud]
        if not self.allowed_principals:
            raise ValueError(
                f"allowed_principals: list who runs the workload ({example}); only they can use the "
                "identity that reads the API key"
            )
        for principal in self.allowed_principals:
            if not pattern.match(principal):
                raise ValueError(f"allowed_principals: {principal!r} is not {example}")
        return self

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts the workload may reach: the catalog's, or the custom provider's."""
        if self.custom_provider is not None:
            return tuple(self.custom_provider.hosts)
        return CATALOG[self.provider].hosts

    @property
    def base_url(self) -> str:
        if self.custom_provider is not None:
            return str(self.custom_provider.base_url)
        return CATALOG[self.provider].base_url


def environment_problems(environment: Environment) -> list[str]:
    """SaaS use cases whose egress Triplane cannot enforce, as `field.path: message` lines."""
    problems = []
    for index, use_case in enumerate(environment.use_cases):
        if not isinstance(use_case, SaasUseCase):
            continue
        settings = getattr(environment.clouds, use_case.cloud)
        if settings is not None and settings.network.existing is not None:
            problems.append(
                f"use_cases[{index}].cloud: SaaS egress is enforced by a firewall that owns "
                f"the network's egress routes, and clouds.{use_case.cloud}.network is `existing` (not Triplane's "
                f"to route); use `network.new` for {use_case.cloud}, or serve this use case from a cloud whose "
                "network Triplane creates"
            )
    return problems
