"""What every use case declares, whatever its pattern."""

from __future__ import annotations

from pydantic import Field

from stacks.spec.base import DataClassification, Name, SpecModel


class Volume(SpecModel):
    """Expected traffic; `triplane cost` prices it and `triplane recommend --check` compares patterns with it."""

    input_tokens_per_month: int = Field(ge=0, le=10**15, description="Prompt tokens sent per month.")
    output_tokens_per_month: int = Field(ge=0, le=10**15, description="Completion tokens received per month.")


class UseCaseBase(SpecModel):
    name: Name = Field(description="Lowercase letters, digits and hyphens; part of every resource name.")
    description: str = Field(default="", max_length=256)
    data_classification: DataClassification
    allowed_principals: list[str] = Field(
        default_factory=list,
        description="Who may call the model: AWS role ARNs, Azure principal object IDs, or GCP IAM members.",
    )
    volume: Volume | None = Field(
        default=None, description="Expected tokens per month, for cost estimates and pattern advice."
    )
