"""Monitoring: who is told when a use case misbehaves, and the thresholds that decide it.

`monitoring.notify` names the people the environment's alerts reach; Triplane creates one channel per
cloud for them (an SNS topic, an action group, a Cloud Monitoring notification channel). Each use case
may set its own `alerts` thresholds; what it leaves out takes its tier's default
(`triplane.components.observability.alerts.DEFAULTS`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from triplane.stacks.spec.base import SpecModel

EmailAddress = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
        max_length=254,
    ),
]


class Notify(SpecModel):
    email: list[EmailAddress] = Field(
        min_length=1,
        max_length=20,
        description="Addresses every alert of the environment is sent to (each confirms its subscription once "
        "on AWS).",
    )

    @field_validator("email")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for i, address in enumerate(value):
            if address.lower() in seen:
                raise ValueError(f"[{i}]: {address!r} is listed twice")
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
