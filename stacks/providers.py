"""Providers, configured once per cloud in the stack and handed to components (never built inside)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from triplane.stacks.spec import Environment


@dataclass(frozen=True)
class Providers:
    by_cloud: Mapping[str, pulumi.ProviderResource] = field(default_factory=dict)
    """Cloud name -> its provider, for every cloud under `clouds`."""

    def for_cloud(self, cloud: str) -> pulumi.ProviderResource:
        provider = self.by_cloud.get(cloud)
        if provider is None:
            raise ValueError(f"no {cloud} provider: clouds.{cloud} is not configured")
        return provider


def build_providers(stack: str, environment: Environment) -> Providers:
    from triplane.stacks.clouds import SEAMS  # the seams build with a StackContext, which holds these providers

    built = {cloud: seam.provider(stack, environment) for cloud, seam in SEAMS.items()}
    return Providers({cloud: provider for cloud, provider in built.items() if provider is not None})
