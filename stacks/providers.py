"""Providers, configured once per cloud in the stack and handed to components (never built inside)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_aws import provider as aws_provider
from pulumi_azure_native import provider as azure_provider
from pulumi_gcp import provider as gcp_provider

from stacks.spec import Environment


@dataclass(frozen=True)
class Providers:
    aws: aws_provider.Provider | None = None
    azure: azure_provider.Provider | None = None
    gcp: gcp_provider.Provider | None = None

    def for_cloud(self, cloud: str) -> pulumi.ProviderResource:
        provider = getattr(self, cloud)
        if provider is None:
            raise ValueError(f"no {cloud} provider: clouds.{cloud} is not configured")
        return provider


def build_providers(stack: str, environment: Environment) -> Providers:
    clouds = environment.clouds
    return Providers(
        aws=aws_provider.Provider(f"{stack}-aws", region=clouds.aws.region) if clouds.aws else None,
        azure=azure_provider.Provider(f"{stack}-azure", location=clouds.azure.location) if clouds.azure else None,
        gcp=(
            gcp_provider.Provider(f"{stack}-gcp", project=clouds.gcp.project, region=clouds.gcp.region)
            if clouds.gcp
            else None
        ),
    )
