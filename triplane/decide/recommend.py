"""Which pattern fits a use case: rules over its facts, with the reasons and the exclusions spelled out.

Hard rules exclude a pattern (classification policy, air gap, residency, own weights). Soft rules
add or subtract points (skills, time to production, latency, customisation, cost at the declared
volume); the allowed pattern with the most points wins, ties going to the simpler pattern to run
(SaaS, then cloud-managed, then self-managed). When the only allowed pattern is one the team is not
equipped to run, the result says so as a conflict instead of pretending the constraints agree:
policy wins (the data's classification is not negotiable by the platform team), the recommendation
is that pattern, and the caveats name what has to be true before it goes live.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from triplane.decide import policy
from triplane.decide.cost import CLOUDS, Estimate, Traffic, break_even, cheapest, reference_estimates
from triplane.decide.prices import Prices
from triplane.stacks.clouds import SEAMS
from triplane.stacks.secrets import api_key_secret_for
from triplane.stacks.spec import Cloud, DataClassification, UseCase
from triplane.stacks.spec.cloud_managed import SERVICE_OF_CLOUD

Geography = Literal["us", "eu", "uk", "ch", "ca", "jp", "au", "in", "br", "kr", "sg"]

# Regions where each cloud's own managed model service runs, by geography (its seam's `regions`).
MANAGED_REGIONS: dict[str, Mapping[str, tuple[str, ...]]] = {
    cloud: seam.managed_models[SERVICE_OF_CLOUD[cloud]].regions for cloud, seam in SEAMS.items()
}

# "Clearly cheaper": at least this share below the runner-up, and at least this much a month.
CLEARLY_CHEAPER_SHARE = 0.30
CLEARLY_CHEAPER_AMOUNT = 200.0


def _every_cloud() -> list[Cloud]:
    return ["aws", "azure", "gcp"]


class UseCaseFacts(BaseModel):
    """What a platform team knows about a use case before it picks a pattern."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        default="my-use-case", pattern=r"^[a-z]([a-z0-9-]*[a-z0-9])?$", min_length=2, max_length=20
    )
    description: str = Field(default="", max_length=256)
    data_classification: DataClassification
    residency: Geography | None = Field(
        default=None, description="Geography the data must be processed in, e.g. eu."
    )
    air_gapped: bool = Field(default=False, description="No path to the internet or a cloud API at all.")
    clouds: list[Cloud] = Field(default_factory=_every_cloud, description="Clouds the organisation can deploy to.")
    input_tokens_per_month: int = Field(default=0, ge=0)
    output_tokens_per_month: int = Field(default=0, ge=0)
    latency_ms: int | None = Field(default=None, ge=1, description="Target p95 time to first token.")
    customisation: Literal["none", "fine-tuning", "own-weights"] = "none"
    ml_skills: Literal["none", "some", "strong"] = Field(
        default="some", description="In-house skills to run GPU serving: on-call, upgrades, capacity."
    )
    weeks_to_production: int | None = Field(default=None, ge=0)
    model_class: Literal["small", "medium", "large"] = Field(
        default="small", description="Capability needed: small (8B, mini), medium (70B), large (frontier)."
    )

    @property
    def traffic(self) -> Traffic | None:
        total = self.input_tokens_per_month + self.output_tokens_per_month
        return Traffic(self.input_tokens_per_month, self.output_tokens_per_month) if total else None


@dataclass(frozen=True)
class Finding:
    rule: str
    pattern: str
    effect: Literal["exclude", "prefer", "avoid"]
    points: int
    reason: str


@dataclass
class Recommendation:
    facts: UseCaseFacts
    pattern: str
    clouds: list[str]
    """Clouds that qualify for the recommended pattern (for cloud-managed: where the service runs)."""
    scores: dict[str, int]
    findings: list[Finding]
    conflict: str | None
    caveats: list[str]
    costs: dict[str, Estimate]
    break_even_tokens: float | None
    use_case_yaml: str
    regions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def reasons(self) -> list[str]:
        return [f.reason for f in self.findings if f.pattern == self.pattern and f.effect == "prefer"]

    @property
    def exclusions(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for f in self.findings:
            if f.effect == "exclude":
                out.setdefault(f.pattern, []).append(f.reason)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "clouds": self.clouds,
            "regions": self.regions,
            "scores": self.scores,
            "reasons": self.reasons,
            "excluded": self.exclusions,
            "findings": [f.__dict__ for f in self.findings],
            "conflict": self.conflict,
            "caveats": self.caveats,
            "monthly_cost": {p: round(e.monthly, 2) for p, e in self.costs.items()},
            "break_even_tokens_per_month": None
            if self.break_even_tokens is None
            else round(self.break_even_tokens),
            "use_case_yaml": self.use_case_yaml,
        }


def qualifying_clouds(facts: UseCaseFacts) -> list[str]:
    """Clouds where cloud-managed can run for these facts: configured, and in the residency geography."""
    if facts.residency is None:
        return [str(c) for c in facts.clouds]
    return [str(c) for c in facts.clouds if MANAGED_REGIONS[c].get(facts.residency)]


@dataclass(frozen=True)
class Rule:
    """When `applies` holds for the facts, each effect becomes a finding.

    An effect is (pattern, effect, points, reason); the reason is a `str.format` template over the
    facts (`f`), the clouds where the managed service runs in the residency geography (`regional`)
    and the clouds configured (`configured`).
    """

    name: str
    applies: Callable[[UseCaseFacts], bool]
    effects: tuple[tuple[str, Literal["exclude", "prefer", "avoid"], int, str], ...]


def _weeks(facts: UseCaseFacts) -> int:
    return facts.weeks_to_production if facts.weeks_to_production is not None else 10**6


def _latency(facts: UseCaseFacts) -> int:
    return facts.latency_ms if facts.latency_ms is not None else 10**6


def _residency_in_reach(facts: UseCaseFacts) -> bool:
    return facts.residency is not None and not facts.air_gapped


RULES: tuple[Rule, ...] = (
    # Which pattern each classification favours (the policy's exclusions come first, see below).
    Rule("classification", lambda f: f.data_classification == "restricted", (
        ("self-managed", "prefer", 1, "restricted data: the only pattern where the organisation operates the model"),
    )),
    Rule("classification", lambda f: f.data_classification == "confidential", (
        ("cloud-managed", "prefer", 1,
         "confidential data stays on private endpoints inside the organisation's cloud account"),
    )),
    Rule("classification", lambda f: f.data_classification == "internal", (
        ("cloud-managed", "prefer", 1, "internal data: private endpoints and cloud IAM, no API key to rotate"),
    )),
    Rule("classification", lambda f: f.data_classification == "public", (
        ("saas", "prefer", 1, "public data: the widest model choice with the least to run"),
    )),
    # Air gap (hard).
    Rule("air-gap", lambda f: f.air_gapped, (
        ("saas", "exclude", 0, "air-gapped: no network path to a model API exists"),
        ("cloud-managed", "exclude", 0, "air-gapped: no network path to a model API exists"),
        ("self-managed", "prefer", 2, "air-gapped: serve an open model on an existing on-premises cluster, "
         "weights pre-loaded (HF_HUB_OFFLINE=1)"),
    )),
    # Residency (hard for SaaS; cloud-managed only where a region qualifies).
    Rule("residency", _residency_in_reach, (
        ("saas", "exclude", 0, "residency {f.residency}: a SaaS API's processing region is the vendor's; "
         "the network path cannot pin it"),
    )),
    Rule("residency", lambda f: _residency_in_reach(f) and bool(qualifying_clouds(f)), (
        ("cloud-managed", "prefer", 1, "residency {f.residency}: the managed service runs in-region on {regional}"),
    )),
    Rule("residency", lambda f: _residency_in_reach(f) and not qualifying_clouds(f), (
        ("cloud-managed", "exclude", 0, "residency {f.residency}: no managed model region there on {configured}"),
    )),
    Rule("clouds", lambda f: not f.clouds and not f.air_gapped, (
        ("cloud-managed", "exclude", 0, "no cloud configured"),
    )),
    # Customisation.
    Rule("customisation", lambda f: f.customisation == "own-weights", (
        ("saas", "exclude", 0, "own weights: a hosted API serves only the vendor's catalog models"),
        ("cloud-managed", "exclude", 0, "own weights: a hosted API serves only the vendor's catalog models"),
        ("self-managed", "prefer", 2, "own weights: serve exactly the weights you trained"),
    )),
    Rule("customisation", lambda f: f.customisation == "fine-tuning", (
        ("self-managed", "prefer", 1, "fine-tuning: open weights can be tuned and served without a hosting fee"),
        ("cloud-managed", "prefer", 1, "fine-tuning: Bedrock, Azure OpenAI and Vertex AI tune in-account (hosting "
         "or provisioned throughput is billed separately)"),
    )),
    # Skills.
    Rule("skills", lambda f: f.ml_skills == "none", (
        ("self-managed", "avoid", -3, "no ML operations skills: nobody to run GPU nodes, serving, upgrades and "
         "on-call"),
    )),
    Rule("skills", lambda f: f.ml_skills == "some", (
        ("self-managed", "avoid", -1, "some ML operations skills: self-managed serving is a stretch"),
    )),
    Rule("skills", lambda f: f.ml_skills == "strong", (
        ("self-managed", "prefer", 1, "strong ML operations skills: full control of models and capacity"),
    )),
    # Time to production.
    Rule("time", lambda f: _weeks(f) <= 4, (
        ("self-managed", "avoid", -2, "{f.weeks_to_production} weeks to production: GPU quota, cluster and "
         "serving tuning rarely fit"),
        ("saas", "prefer", 1, "{f.weeks_to_production} weeks to production: an API key and an egress rule"),
    )),
    Rule("time", lambda f: 4 < _weeks(f) <= 12, (
        ("self-managed", "avoid", -1, "{f.weeks_to_production} weeks to production: tight for GPU serving"),
    )),
    # Latency.
    Rule("latency", lambda f: _latency(f) <= 200, (
        ("saas", "avoid", -2, "p95 first token within {f.latency_ms} ms: an internet API through an egress "
         "firewall on shared capacity cannot promise it"),
        ("self-managed", "prefer", 1, "p95 first token within {f.latency_ms} ms: dedicated GPUs next to the app"),
    )),
    Rule("latency", lambda f: 200 < _latency(f) <= 500, (
        ("saas", "avoid", -1, "p95 first token within {f.latency_ms} ms: the internet path adds variance"),
    )),
)  # fmt: skip
"""Every rule but the classification policy's exclusions and cost (`cost_findings`), in report order."""


def rule_findings(facts: UseCaseFacts) -> list[Finding]:
    """Every rule that fires for the facts, cost aside (see `cost_findings`)."""
    cls = facts.data_classification
    found = [
        Finding("classification", pattern, "exclude", 0, policy.why_not(cls, pattern))
        for pattern in policy.PATTERNS
        if not policy.allowed(cls, pattern)
    ]
    words = {"f": facts, "regional": ", ".join(qualifying_clouds(facts)),
             "configured": ", ".join(facts.clouds) or "any configured cloud"}  # fmt: skip
    for rule in RULES:
        if rule.applies(facts):
            found += [Finding(rule.name, p, effect, points, reason.format(**words))
                      for p, effect, points, reason in rule.effects]  # fmt: skip
    return found


def _reference_costs(facts: UseCaseFacts, prices: Prices) -> dict[str, Estimate]:
    clouds: list[str] = [str(c) for c in facts.clouds] or list(CLOUDS)
    managed = qualifying_clouds(facts) or clouds
    out: dict[str, Estimate] = {}
    for pattern, candidates in (("saas", clouds), ("cloud-managed", managed), ("self-managed", clouds)):
        best = cheapest(
            reference_estimates(prices, pattern, facts.model_class, candidates, facts.traffic, clouds[0])
        )
        if best is not None:
            out[pattern] = best
    return out


def cost_findings(costs: dict[str, Estimate], allowed: list[str], traffic: Traffic | None) -> list[Finding]:
    """The cheapest allowed pattern earns points when it is clearly cheaper than the next one."""
    if traffic is None:
        return []
    ranked = sorted((costs[p].monthly, p) for p in allowed if p in costs)
    if len(ranked) < 2:
        return []
    (low, best), (next_cost, runner_up) = ranked[0], ranked[1]
    saving = next_cost - low
    if saving >= CLEARLY_CHEAPER_AMOUNT and saving >= CLEARLY_CHEAPER_SHARE * next_cost:
        return [
            Finding(
                "cost",
                best,
                "prefer",
                3,
                f"at {traffic.total / 1e6:,.0f}M tokens/month: ${low:,.0f} against ${next_cost:,.0f} "
                f"for {runner_up}",
            )
        ]
    return []


# Example identities for the pasted block; the header comment says to replace them.
EXAMPLE_PRINCIPALS = {cloud: seam.example_principal for cloud, seam in SEAMS.items()}


def use_case_block(facts: UseCaseFacts, pattern: str, clouds: list[str], prices: Prices) -> str:
    """A `use_cases:` entry to paste into a stack file; it validates against the environment spec."""
    reference = prices.reference(facts.model_class)
    block: dict[str, Any] = {"name": facts.name}
    if facts.description:
        block["description"] = facts.description
    block["pattern"] = pattern
    block["data_classification"] = facts.data_classification
    cloud = clouds[0] if clouds else (facts.clouds[0] if facts.clouds else "aws")
    if pattern == "saas":
        block["cloud"] = cloud
        block["provider"] = reference["saas"]["provider"]
        block["models"] = [reference["saas"]["model"]]
        block["api_key_secret"] = api_key_secret_for(facts.name)
        block["allowed_principals"] = [EXAMPLE_PRINCIPALS[cloud]]
        replace = "allowed_principals"
    elif pattern == "cloud-managed":
        block["cloud"] = cloud
        block["models"] = [{"id": reference["cloud-managed"][cloud]}]
        block["allowed_principals"] = [EXAMPLE_PRINCIPALS[cloud]]
        replace = "allowed_principals"
    else:
        gpu_type, gpus = reference["self-managed"]["gpu"][cloud]
        block["cluster"] = "onprem" if facts.air_gapped else "gpu"
        block["model"] = {"id": reference["self-managed"]["model"], "revision": "main"}
        block["gpu"] = {"type": gpu_type, "count": int(gpus)}
        replicas = _replicas_for(facts, prices, cloud)
        block["replicas"] = {"min": 1, "max": replicas}
        if replicas > 1:
            block["cache"] = {"access_mode": "ReadWriteMany"}
        if facts.air_gapped:
            block["offline"] = True
            block.setdefault("cache", {})["existing_claim"] = "model-cache"
        elif reference["self-managed"]["model"].startswith("meta-llama/"):
            block["hf_token_secret"] = "huggingfaceToken"
        block["allowed_clients"] = {"namespaces": [facts.name]}
        replace = "allowed_clients"
    if facts.traffic is not None:
        block["volume"] = {
            "input_tokens_per_month": facts.input_tokens_per_month,
            "output_tokens_per_month": facts.output_tokens_per_month,
        }
    text = yaml.safe_dump([block], sort_keys=False, default_flow_style=False)
    TypeAdapter(UseCase).validate_python(yaml.safe_load(text)[0])
    return f"# Under `use_cases:`. Replace the example {replace} with your workload's.\n{text}"


def _replicas_for(facts: UseCaseFacts, prices: Prices, cloud: str) -> int:
    """Replicas the volume needs running at once, at least one (the reference deployment's sizing)."""
    estimates = reference_estimates(prices, "self-managed", facts.model_class, [cloud], facts.traffic, cloud)
    estimate = estimates[0]
    if facts.traffic is None or estimate.curve is None or estimate.missing:
        return 1
    per_replica_month = estimate.curve.floor  # one replica (or node) all month
    return max(1, min(100, math.ceil(estimate.curve.slope * facts.traffic.total / per_replica_month)))


def _conflict(
    facts: UseCaseFacts, pattern: str, allowed: list[str], findings: list[Finding]
) -> tuple[str | None, list[str]]:
    """A conflict: policy leaves one pattern, and soft rules say the team cannot run it well."""
    against = [f for f in findings if f.pattern == pattern and f.effect == "avoid" and f.points <= -2]
    caveats: list[str] = []
    if pattern == "self-managed" and facts.ml_skills != "strong":
        caveats.append(
            "use a managed Kubernetes service (EKS, AKS or GKE with managed GPU node pools, as "
            "Triplane creates) rather than hand-built nodes"
        )
    if len(allowed) != 1 or not against:
        return None, caveats
    excluded_by = sorted({f.rule for f in findings if f.effect == "exclude"})
    rules = f"the {' and '.join(excluded_by)} rule{'s leave' if len(excluded_by) > 1 else ' leaves'}"
    message = (
        f"no pattern satisfies every constraint: {rules} only {pattern}, "
        f"but {'; '.join(f.reason for f in against)}"
    )
    caveats += [
        "policy wins: the data's classification is not the platform team's to relax",
        "before go-live: name an owner for GPU serving (on-call, model and driver upgrades, capacity), or "
        "contract a partner who runs it",
        "or ask the data owner whether a de-identified subset could be classified lower, which would open "
        "cloud-managed",
    ]
    return message, caveats


def recommend(facts: UseCaseFacts, prices: Prices) -> Recommendation:
    findings = rule_findings(facts)
    excluded = {f.pattern for f in findings if f.effect == "exclude"}
    allowed = [p for p in policy.PATTERNS if p not in excluded]
    if not allowed:  # cannot happen with the rules above (nothing excludes self-managed); kept honest
        raise ValueError("every pattern is excluded")
    costs = _reference_costs(facts, prices)
    findings += cost_findings(costs, allowed, facts.traffic)
    scores = {p: sum(f.points for f in findings if f.pattern == p) for p in policy.PATTERNS}
    pattern = max(allowed, key=lambda p: (scores[p], -policy.PATTERNS.index(p)))
    if pattern == "cloud-managed":
        clouds = qualifying_clouds(facts)
    elif pattern == "self-managed" and facts.air_gapped:
        clouds = []
    else:
        clouds = list(facts.clouds)
    regions = (
        {c: list(MANAGED_REGIONS[c].get(facts.residency, ())) for c in clouds} if facts.residency else {}
    )
    conflict, caveats = _conflict(facts, pattern, allowed, findings)
    if facts.air_gapped:
        caveats.append(
            "air-gapped: declare the cluster under `kubernetes` with `existing:` and pre-load the "
            "model into the serving cache"
        )
    point = None
    token_side = [costs[p] for p in ("saas", "cloud-managed") if p in costs and p in allowed]
    if "self-managed" in costs and token_side:
        cheaper = min(token_side, key=lambda e: e.monthly)
        if cheaper.curve is not None and costs["self-managed"].curve is not None:
            point = break_even(cheaper.curve, costs["self-managed"].curve)
    # The block deploys where the recommended pattern was priced cheapest.
    priced_at = costs[pattern].where if pattern in costs else None
    where = sorted(clouds or list(facts.clouds), key=lambda c: c != priced_at)
    block = use_case_block(facts, pattern, where, prices)
    return Recommendation(
        facts=facts,
        pattern=pattern,
        clouds=clouds,
        scores=scores,
        findings=findings,
        conflict=conflict,
        caveats=caveats,
        costs={p: costs[p] for p in allowed if p in costs},
        break_even_tokens=point,
        use_case_yaml=block,
        regions=regions,
    )


def parse_tokens(text: str) -> int:
    """`250M`, `1.5B`, `40k`, `1e9` or `1000000` -> a token count."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kKmMbB]?)\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a token count such as 250M, 1.5B or 40000")
    scale = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9}[match.group(2).lower()]
    return round(float(match.group(1)) * scale)
