"""The advisory check over an existing environment, on the same rules as `recommend`.

Two findings: a use case whose data classification forbids its pattern (a policy violation), and a
use case whose declared volume makes another allowed pattern clearly cheaper (advice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from triplane.decide import policy
from triplane.decide.cost import use_case_cost
from triplane.decide.prices import Prices
from triplane.decide.recommend import CLEARLY_CHEAPER_AMOUNT, CLEARLY_CHEAPER_SHARE
from triplane.stacks.spec import Environment


@dataclass(frozen=True)
class Advice:
    use_case: str
    severity: Literal["violation", "advice"]
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"use_case": self.use_case, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class Check:
    advice: list[Advice]
    without_volume: list[str]
    """Use cases that declare no `volume`, so no cost advice could be given for them."""

    @property
    def violations(self) -> list[Advice]:
        return [a for a in self.advice if a.severity == "violation"]


def check_environment(environment: Environment, prices: Prices) -> Check:
    found: list[Advice] = []
    without_volume: list[str] = []
    for use_case in environment.use_cases:
        cls, pattern = use_case.data_classification, use_case.pattern
        if not policy.allowed(cls, pattern):
            allowed = " or ".join(policy.ALLOWED[cls])
            found.append(
                Advice(
                    use_case.name,
                    "violation",
                    f"{pattern} is not allowed for {cls} data: {policy.why_not(cls, pattern)}; "
                    f"move it to {allowed}",
                )
            )
        if use_case.volume is None:
            without_volume.append(use_case.name)
            continue
        costs = use_case_cost(environment, use_case, prices)
        if costs.current.missing:
            continue
        now = costs.current.monthly
        for alternative in costs.alternatives:
            if not alternative.allowed or alternative.missing:
                continue
            saving = now - alternative.monthly
            if saving >= CLEARLY_CHEAPER_AMOUNT and saving >= CLEARLY_CHEAPER_SHARE * now:
                tokens = costs.traffic.total if costs.traffic else 0
                found.append(
                    Advice(
                        use_case.name,
                        "advice",
                        f"at {tokens / 1e6:,.0f}M tokens/month, {alternative.label} would cost about "
                        f"${alternative.monthly:,.0f}/month against ${now:,.0f} as {pattern} "
                        f"({saving / now:.0%} less)",
                    )
                )
    return Check(advice=found, without_volume=without_volume)
