"""Monitoring: who is told when a use case misbehaves, and the thresholds that decide it.

`monitoring.notify` names the people the environment's alerts reach; Triplane creates one channel per
cloud for them (an SNS topic, an action group, a Cloud Monitoring notification channel). Each use case
may set its own `alerts` thresholds; what it leaves out takes its tier's default
(`triplane.components.observability.alerts.DEFAULTS`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, cast

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, field_validator

from triplane.components.observability.alerts import KINDS, THRESHOLD_FIELDS, Source
from triplane.stacks.spec.base import SpecModel

if TYPE_CHECKING:
    from triplane.stacks.spec.environment import Environment
    from triplane.stacks.spec.use_case import UseCaseBase

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def _email(address: str) -> str:
    if not EMAIL.fullmatch(address):
        raise ValueError(f"{address!r} is not an email address; write it as name@example.com")
    return address


EmailAddress = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_email),
    WithJsonSchema({"type": "string", "pattern": EMAIL.pattern, "maxLength": 254}),
]
"""The JSON Schema keeps the pattern (for editors); validation says what is wrong and how to write it."""


class Notify(SpecModel):
    email: list[EmailAddress] = Field(
        min_length=1,
        max_length=20,
        description="Addresses every alert of the environment is sent to (each confirms its subscription once on AWS).",
    )

    @field_validator("email")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for i, address in enumerate(value):
            if address.lower() in seen:
                raise ValueError(f"[{i}]: {address!r} is listed twice; list each address once")
            seen.add(address.lower())
        return value


class Monitoring(SpecModel):
    notify: Notify = Field(description="Who the environment's alerts reach.")


class AlertThresholds(SpecModel):
    """A use case's alert thresholds; each one left out takes the tier's default."""

    error_rate_percent: float | None = Field(
        default=None, gt=0, le=100, description="Server errors as a share of requests over 5 minutes."
    )
    throttles_per_5_minutes: int | None = Field(
        default=None, ge=1, le=10**6, description="Requests refused for quota or capacity in 5 minutes."
    )
    latency_p95_seconds: float | None = Field(
        default=None, gt=0, le=3600, description="95th percentile of the whole request's duration over 5 minutes."
    )
    first_token_p95_seconds: float | None = Field(
        default=None,
        gt=0,
        le=600,
        description="95th percentile of the time to the first token over 5 minutes, where the pattern measures it.",
    )
    queue_depth: int | None = Field(
        default=None, ge=1, le=10**5, description="Self-managed: requests waiting per replica, for 10 minutes."
    )
    gpu_memory_percent: float | None = Field(
        default=None, gt=0, le=100, description="Self-managed: GPU memory used, for 10 minutes."
    )
    token_burn_percent: float | None = Field(
        default=None,
        gt=0,
        le=10_000,
        description="Tokens in a day, as a share of a day's part of the declared `volume` (a 30-day month): "
        "the cost alarm.",
    )


def source_of(use_case: UseCaseBase, environment: Environment) -> Source | None:
    """Where a use case's signals are born (None: nowhere Triplane can read them).

    A SaaS provider reports nothing to us; its calls are observed only by the AI gateway in front of it.
    """
    service = getattr(use_case, "service", None)
    if service is not None:
        return cast(Source, service)
    engine = getattr(use_case, "engine", None)
    if engine is not None:
        return cast(Source, engine)
    return "gateway" if environment.gateway is not None else None


def environment_problems(environment: Environment) -> list[str]:
    """Thresholds a use case's signals cannot back, and alerts that would reach no one."""
    problems = []
    for i, use_case in enumerate(environment.use_cases):
        given = sorted(use_case.alerts.model_fields_set)
        field = f"use_cases[{i}].alerts"
        if given and environment.monitoring is None:
            problems.append(f"{field}: no one would be told; add `monitoring.notify` to the environment")
            continue
        source = source_of(use_case, environment)
        if source is None:
            if given:
                problems.append(
                    f"{field}: a SaaS provider reports no metrics to us; its calls are observed at the AI gateway, "
                    "so put the use case behind one (`gateway`) or remove `alerts`"
                )
            continue
        backed = {THRESHOLD_FIELDS[kind] for kind in KINDS[source] if kind in THRESHOLD_FIELDS}
        for name in given:
            if name not in backed:
                problems.append(
                    f"{field}.{name}: {SOURCE_NAMES[source]} emits no metric for it; remove it (this use case "
                    f"can set: {', '.join(sorted(backed))})"
                )
        if "token_burn_percent" in given and use_case.volume is None:
            problems.append(
                f"{field}.token_burn_percent: the alarm compares a day's tokens with the declared monthly "
                "`volume`; declare `volume` or remove token_burn_percent"
            )
        if environment.monitoring is not None and source in ("tgi", "vllm") and not _scraped(use_case):
            problems.append(
                f"use_cases[{i}].monitoring: its alerts and dashboard read the server's metrics from the "
                "cluster's Prometheus, which scrapes what a ServiceMonitor names; set `monitoring: service-monitor` "
                "(the default with `monitoring` in the environment)"
            )
    return problems


def _scraped(use_case: UseCaseBase) -> bool:
    """Whether Triplane's Prometheus scrapes the server (a ServiceMonitor: asked for, or autoscaled)."""
    from triplane.stacks.spec.self_managed import SelfManagedUseCase, addons_needed

    return isinstance(use_case, SelfManagedUseCase) and "prometheus-operator" in addons_needed([use_case])


SOURCE_NAMES: dict[str, str] = {
    "bedrock": "Bedrock",
    "azure-openai": "Azure OpenAI",
    "vertex": "Vertex AI",
    "tgi": "Text Generation Inference",
    "vllm": "vLLM",
    "gateway": "the AI gateway",
}
