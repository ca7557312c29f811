"""The self-managed pattern: open models served on GPUs the organisation controls."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.spec.base import ConfigKey, Name, SpecModel
from stacks.spec.use_case import UseCaseBase


class OpenModel(SpecModel):
    id: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="Hugging Face model ID, e.g. meta-llama/Llama-3.1-8B-Instruct.")
    revision: str = Field(default="main", description="Commit SHA or tag; pin it in production.")


class Gpu(SpecModel):
    type: str = Field(description="GPU model, e.g. nvidia-l4, nvidia-a10g, nvidia-a100-80gb, nvidia-h100-80gb.")
    count: int = Field(ge=1, le=8, description="GPUs per serving pod (TGI --num-shard).")


class Replicas(SpecModel):
    min: int = Field(default=1, ge=0, le=100)
    max: int = Field(default=1, ge=1, le=100)


class SelfManagedUseCase(UseCaseBase):
    pattern: Literal["self-managed"]
    cluster: Name = Field(description="Name of a cluster under `kubernetes`.")
    model: OpenModel
    gpu: Gpu
    replicas: Replicas = Field(default_factory=Replicas)
    hf_token_secret: ConfigKey | None = Field(
        default=None, description="Stack config key holding a Hugging Face token, for gated models."
    )
