"""The SaaS pattern: the application calls an external AI API through a controlled egress path."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl

from stacks.spec.base import Cloud, ConfigKey, SpecModel
from stacks.spec.use_case import UseCaseBase


class CustomProvider(SpecModel):
    """An API the catalog does not know: its hosts are declared here and allowlisted as written."""

    base_url: HttpUrl
    hosts: list[str] = Field(min_length=1, description="FQDNs the workload may reach, e.g. api.example.ai.")


class SaasUseCase(UseCaseBase):
    pattern: Literal["saas"]
    cloud: Cloud = Field(description="Where the workload runs: its key store and egress firewall live there.")
    provider: str = Field(description="openai, anthropic, cohere, mistral, gemini, or `custom`.")
    custom_provider: CustomProvider | None = None
    models: list[str] = Field(default_factory=list, description="Models the use case calls, e.g. gpt-4o-mini.")
    api_key_secret: ConfigKey = Field(
        description="Stack config key holding the API key: `pulumi config set --secret triplane:<key>`."
    )
    key_rotation: Literal["pulumi", "external"] = Field(
        default="pulumi",
        description="`external`: the key is rotated outside Pulumi and later runs leave the stored value alone.",
    )
