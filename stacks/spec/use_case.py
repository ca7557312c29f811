"""What every use case declares, whatever its pattern."""

from __future__ import annotations

from pydantic import Field

from stacks.spec.base import DataClassification, Name, SpecModel


class UseCaseBase(SpecModel):
    name: Name = Field(description="Lowercase letters, digits and hyphens; part of every resource name.")
    description: str = Field(default="", max_length=256)
    data_classification: DataClassification
    allowed_principals: list[str] = Field(
        default_factory=list,
        description="Who may call the model: AWS role ARNs, Azure principal object IDs, or GCP IAM members.",
    )
