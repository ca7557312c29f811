"""Cloud-managed builder: a use case's spec -> its managed-model service's component.

Each cloud's seam (`stacks.clouds`) maps its services (Bedrock, Azure OpenAI, Vertex AI) to their
builders; what a cloud allows only once is shared there through `ctx.shared`.
"""

from __future__ import annotations

from triplane.stacks.clouds import SEAMS
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.spec.cloud_managed import CloudManagedUseCase

PATTERN = "cloud-managed"


def platform(use_case: CloudManagedUseCase, ctx: StackContext) -> None:
    """What the service's use cases share (a private link, a DNS zone, per-account settings)."""
    SEAMS[use_case.cloud].managed_models[use_case.service].platform(use_case, ctx)


def build(use_case: CloudManagedUseCase, ctx: StackContext) -> Endpoint:
    return SEAMS[use_case.cloud].managed_models[use_case.service].build(use_case, ctx)
