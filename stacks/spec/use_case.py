"""What every use case declares, whatever its pattern."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from triplane.stacks.spec.base import DataClassification, Name, SpecModel
from triplane.stacks.spec.gateway import GatewayConsumer
from triplane.stacks.spec.monitoring import AlertThresholds

if TYPE_CHECKING:
    from triplane.stacks.spec.environment import Environment


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
    consumers: list[GatewayConsumer] = Field(
        default_factory=list,
        description="With a `gateway`: who calls this use case through it, how they authenticate and how many "
        "tokens they may spend per minute and per day.",
    )
    fallback: Name | None = Field(
        default=None,
        description="With a `gateway`: the use case whose backend takes this one's requests when its own fails; "
        "only one its classification allows (never SaaS for confidential data, none for restricted).",
    )
    alerts: AlertThresholds = Field(
        default_factory=AlertThresholds,
        description="With `monitoring`: this use case's alert thresholds; each one left out takes the tier's default.",
    )
    previous_name: Name | None = Field(
        default=None,
        description=(
            "After a rename: the former name. The use case's component gets a Pulumi alias to it, so its "
            "resources are carried over instead of deleted and created again (see README, Reliability)."
        ),
    )

    @model_validator(mode="after")
    def _renamed(self) -> UseCaseBase:
        if self.previous_name == self.name:
            raise ValueError("previous_name: is the current name; remove it, or set the name the use case had")
        return self


def rename_problems(environment: Environment) -> list[str]:
    """A former name must not be another use case's name, nor claimed twice: each alias maps one component."""
    current = {u.name: i for i, u in enumerate(environment.use_cases)}
    claimed: dict[str, int] = {}
    problems = []
    for i, use_case in enumerate(environment.use_cases):
        previous = use_case.previous_name
        if previous is None:
            continue
        if getattr(use_case, "pattern", None) == "self-managed":
            problems.append(
                f"use_cases[{i}].previous_name: not supported for self-managed use cases yet: their Kubernetes "
                "namespace and model cache are named after the use case, so a rename serves from a new namespace; "
                "keep the name (the description can change)"
            )
            continue
        if previous in current:
            problems.append(
                f"use_cases[{i}].previous_name: {previous!r} is the name of use_cases[{current[previous]}]; "
                "two components cannot both be that use case's resources"
            )
        elif previous in claimed:
            problems.append(
                f"use_cases[{i}].previous_name: {previous!r} is already claimed by use_cases[{claimed[previous]}]"
            )
        claimed.setdefault(previous, i)
    return problems
