"""The cloud-managed pattern: Bedrock, Azure OpenAI or Vertex AI over private networking only."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.spec.base import Cloud, SpecModel
from stacks.spec.use_case import UseCaseBase


class ManagedModel(SpecModel):
    id: str = Field(min_length=1, description="Bedrock model or inference-profile ID, Azure model name, Vertex model.")
    version: str | None = Field(default=None, description="Azure OpenAI model version, e.g. 2024-08-06.")
    sku: Literal["Standard", "GlobalStandard", "DataZoneStandard", "ProvisionedManaged"] | None = None
    capacity: int | None = Field(default=None, ge=1, le=10_000, description="Azure: thousands of tokens per minute.")


class CloudManagedUseCase(UseCaseBase):
    pattern: Literal["cloud-managed"]
    cloud: Cloud
    models: list[ManagedModel] = Field(min_length=1)
