"""Providers, configured once per cloud in the stack and handed to components (never built inside)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native
import pulumi_gcp as gcp

from stacks.spec import Environment


@dataclass(frozen=True)
class Providers:
    aws: aws.Provider | None = None
    azure: azure_native.Provider | None = None
    gcp: gcp.Provider | None = None

    def for_cloud(self, cloud: str) -> pulumi.ProviderResource:
        provider = getattr(self, cloud)
        if provider is None:
            raise ValueError(f"no {cloud} provider: clouds.{cloud} is not configured")
        return provider


def build_providers(stack: str, environment: Environment) -> Providers:
    clouds = environment.clouds
    return Providers(
        aws=aws.Provider(f"{stack}-aws", region=clouds.aws.region) if clouds.aws else None,
        azure=azure_native.Provider(f"{stack}-azure", location=clouds.azure.location) if clouds.azure else None,
        gcp=(
            gcp.Provider(f"{stack}-gcp", project=clouds.gcp.project, region=clouds.gcp.region)
            if clouds.gcp
            else None
        ),
    )
