"""What the spec refuses about monitoring, each refusal naming the stack file's field and the fix.

Thresholds are checked for range by the model, and against the use case's source by the environment
(`stacks.spec.monitoring.environment_problems`): a threshold no metric backs, a cost alarm without a
volume, alerts no one would receive, alerts on a SaaS use case nothing observes, a model server whose
metrics the cluster's Prometheus does not scrape, and monitoring set in a use-case stack.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from triplane.stackfile import load_stack
from triplane.stacks.observability import alerts_of
from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.errors import ENVIRONMENT_KEY
from triplane.stacks.spec.self_managed import SelfManagedUseCase
from triplane.stacks.stages import shared_settings, use_case_environment

SOURCE = "stacks/Pulumi.test.yaml"
CLOUD_KINDS = (
    "error_rate_percent, first_token_p95_seconds, latency_p95_seconds, throttles_per_5_minutes, token_burn_percent"
)
TGI_KINDS = "error_rate_percent, gpu_memory_percent, latency_p95_seconds, queue_depth, token_burn_percent"
VLLM_KINDS = (
    "error_rate_percent, first_token_p95_seconds, gpu_memory_percent, latency_p95_seconds, queue_depth, "
    "token_burn_percent"
)
NOT_SCRAPED = (
    "its alerts and dashboard read the server's metrics from the cluster's Prometheus, which scrapes what a "
    "ServiceMonitor names; set `monitoring: service-monitor` (the default with `monitoring` in the environment)"
)


def spec(stack: str) -> dict[str, Any]:
    """A shipped stack's `triplane:environment`, to change."""
    return copy.deepcopy(load_stack(stack).config[ENVIRONMENT_KEY])


def problems(value: dict[str, Any]) -> list[str]:
    """What validating `value` reports (nothing: it is accepted)."""
    try:
        validate_environment(value, SOURCE)
    except SpecError as error:
        assert error.source == SOURCE
        return error.problems
    return []


def at(value: dict[str, Any], name: str) -> tuple[int, dict[str, Any]]:
    """A use case of the spec by name, with its index."""
    [(index, use_case)] = [(i, u) for i, u in enumerate(value["use_cases"]) if u["name"] == name]
    return index, use_case


def with_alerts(stack: str, name: str, alerts: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    value = spec(stack)
    index, use_case = at(value, name)
    use_case["alerts"] = alerts
    return index, value


def test_the_shipped_stacks_are_accepted() -> None:
    for stack in ("dev", "prod", "prod-platform", "prod-apps", "prod-clinical"):
        assert problems(spec(stack)) == [], stack


# --- thresholds out of range -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "value", "message"),
    [
        ("claims-triage", "error_rate_percent", 0, "Input should be greater than 0"),
        ("claims-triage", "error_rate_percent", 100.5, "Input should be less than or equal to 100"),
        ("claims-triage", "throttles_per_5_minutes", 0, "Input should be greater than or equal to 1"),
        ("claims-triage", "throttles_per_5_minutes", 10**6 + 1, "Input should be less than or equal to 1000000"),
        ("claims-triage", "latency_p95_seconds", -1, "Input should be greater than 0"),
        ("claims-triage", "latency_p95_seconds", 3601, "Input should be less than or equal to 3600"),
        ("claims-triage", "first_token_p95_seconds", 0, "Input should be greater than 0"),
        ("claims-triage", "first_token_p95_seconds", 601, "Input should be less than or equal to 600"),
        ("patient-records", "queue_depth", 0, "Input should be greater than or equal to 1"),
        ("patient-records", "queue_depth", 10**5 + 1, "Input should be less than or equal to 100000"),
        ("patient-records", "gpu_memory_percent", 0, "Input should be greater than 0"),
        ("patient-records", "gpu_memory_percent", 101, "Input should be less than or equal to 100"),
        ("claims-triage", "token_burn_percent", 0, "Input should be greater than 0"),
        ("claims-triage", "token_burn_percent", 10_001, "Input should be less than or equal to 10000"),
        (
            "claims-triage",
            "latency_p95_seconds",
            "fast",
            "Input should be a valid number, unable to parse string as a number",
        ),
    ],
)
def test_a_threshold_out_of_range_is_refused(name: str, field: str, value: Any, message: str) -> None:
    index, changed = with_alerts("prod", name, {field: value})
    assert problems(changed) == [f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts.{field}: {message}"]


def test_the_bounds_themselves_are_accepted() -> None:
    _, changed = with_alerts("prod", "claims-triage", {
        "error_rate_percent": 100, "throttles_per_5_minutes": 1, "latency_p95_seconds": 3600,
        "first_token_p95_seconds": 600, "token_burn_percent": 10_000,
    })  # fmt: skip
    assert problems(changed) == []


def test_an_unknown_threshold_is_refused_with_the_spelling_hint() -> None:
    index, changed = with_alerts("prod", "claims-triage", {"latency_seconds": 4})
    assert problems(changed) == [
        f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts.latency_seconds: unknown key; check the spelling "
        "(see `triplane schema` for every allowed key)"
    ]


# --- thresholds no metric backs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "source", "can_set"),
    [
        ("claims-triage", "queue_depth", "Bedrock", CLOUD_KINDS),
        ("hr-assistant", "gpu_memory_percent", "Azure OpenAI", CLOUD_KINDS),
        ("product-search", "queue_depth", "Vertex AI", CLOUD_KINDS),
        ("patient-records", "first_token_p95_seconds", "Text Generation Inference", TGI_KINDS),
        ("patient-records", "throttles_per_5_minutes", "Text Generation Inference", TGI_KINDS),
        ("fraud-signals", "throttles_per_5_minutes", "vLLM", VLLM_KINDS),
    ],
)
def test_a_threshold_the_source_emits_no_metric_for_is_refused(
    name: str, field: str, source: str, can_set: str
) -> None:
    index, changed = with_alerts("prod", name, {field: 4})
    assert problems(changed) == [
        f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts.{field}: {source} emits no metric for it; remove it "
        f"(this use case can set: {can_set})"
    ]


def test_every_unbacked_threshold_of_a_use_case_is_named() -> None:
    index, changed = with_alerts(
        "prod", "claims-triage", {"queue_depth": 4, "gpu_memory_percent": 90, "latency_p95_seconds": 10}
    )
    field = f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts"
    assert problems(changed) == [
        f"{field}.gpu_memory_percent: Bedrock emits no metric for it; remove it (this use case can set: {CLOUD_KINDS})",
        f"{field}.queue_depth: Bedrock emits no metric for it; remove it (this use case can set: {CLOUD_KINDS})",
    ]


def test_token_burn_needs_a_declared_volume() -> None:
    value = spec("prod")
    index, use_case = at(value, "hr-assistant")
    del use_case["volume"]
    use_case["alerts"] = {"token_burn_percent": 120}
    assert problems(value) == [
        f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts.token_burn_percent: the alarm compares a day's tokens with "
        "the declared monthly `volume`; declare `volume` or remove token_burn_percent"
    ]
    # Without the threshold, the use case is accepted and simply has no cost alarm.
    del use_case["alerts"]
    assert problems(value) == []
    kinds = {a.kind for a in alerts_of(Environment.model_validate(value))["hr-assistant"][1]}
    assert kinds == {"error-rate", "throttling", "latency", "first-token"}


# --- alerts that would reach no one, or watch nothing ------------------------------------------------


def test_alerts_without_monitoring_notify_are_refused() -> None:
    index, value = with_alerts("prod", "claims-triage", {"latency_p95_seconds": 12})
    del value["monitoring"]
    assert problems(value) == [
        f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts: no one would be told; add `monitoring.notify` to the environment"
    ]


def test_alerts_on_a_saas_use_case_outside_a_gateway_are_refused() -> None:
    index, value = with_alerts("prod", "marketing-copy", {"error_rate_percent": 3})
    assert problems(value) == [
        f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts: a SaaS provider reports no metrics to us; its calls are "
        "observed at the AI gateway, so put the use case behind one (`gateway`) or remove `alerts`"
    ]


def test_alerts_on_a_saas_use_case_behind_the_gateway_are_accepted() -> None:
    _, value = with_alerts("dev", "support-drafts", {"error_rate_percent": 3, "throttles_per_5_minutes": 9})
    assert problems(value) == []
    alerts = {a.kind: a for a in alerts_of(Environment.model_validate(value))["support-drafts"][1]}
    assert (alerts["error-rate"].threshold, alerts["error-rate"].origin) == (3, "spec")
    assert (alerts["latency"].threshold, alerts["latency"].origin) == (120, "tier default")


# --- a model server the cluster's Prometheus must scrape ---------------------------------------------


@pytest.mark.parametrize("choice", ["annotations", "none"])
def test_a_model_server_not_scraped_by_a_service_monitor_is_refused(choice: str) -> None:
    value = spec("prod")
    index, use_case = at(value, "contract-drafts")
    use_case["monitoring"] = choice
    assert problems(value) == [f"{ENVIRONMENT_KEY}.use_cases[{index}].monitoring: {NOT_SCRAPED}"]


def test_with_monitoring_a_model_server_defaults_to_a_service_monitor() -> None:
    value = spec("prod")
    _, use_case = at(value, "contract-drafts")
    assert "monitoring" not in use_case
    [server] = [u for u in Environment.model_validate(value).use_cases if u.name == "contract-drafts"]
    assert isinstance(server, SelfManagedUseCase) and server.monitoring == "service-monitor"
    del value["monitoring"]
    [server] = [u for u in Environment.model_validate(value).use_cases if u.name == "contract-drafts"]
    assert isinstance(server, SelfManagedUseCase) and server.monitoring == "annotations"
    assert problems(value) == []


def test_an_autoscaled_server_is_scraped_whatever_its_monitoring_says() -> None:
    """KEDA reads the queue from Prometheus, so an autoscaled server has a ServiceMonitor regardless."""
    value = spec("prod")
    _, use_case = at(value, "patient-records")
    assert "autoscaling" in use_case
    use_case["monitoring"] = "annotations"
    assert problems(value) == []


# --- where monitoring is set -------------------------------------------------------------------------


def test_monitoring_in_a_use_case_stack_is_refused() -> None:
    value = spec("prod-apps")
    value["monitoring"] = {"notify": {"email": ["apps-oncall@example.com"]}}
    assert problems(value) == [
        f"{ENVIRONMENT_KEY}.monitoring: a use-case stack uses its platform's (prod-platform); move `monitoring` to "
        "the platform stack's file, or remove `platform` to make this a single stack"
    ]


def test_a_use_case_stacks_alerts_are_checked_on_its_platforms_monitoring() -> None:
    platform = load_stack("prod-platform").environment()
    index, value = with_alerts("prod-apps", "claims-triage", {"queue_depth": 4})
    own = validate_environment(value, SOURCE)
    with pytest.raises(SpecError) as refused:
        use_case_environment(own, shared_settings(platform), SOURCE)
    assert refused.value.problems == [
        f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts.queue_depth: Bedrock emits no metric for it; remove it "
        f"(this use case can set: {CLOUD_KINDS})"
    ]
    # Without the platform's monitoring, its alerts would reach no one.
    settings = shared_settings(platform)
    del settings["monitoring"]
    index, value = with_alerts("prod-apps", "claims-triage", {"latency_p95_seconds": 12})
    with pytest.raises(SpecError) as refused:
        use_case_environment(validate_environment(value, SOURCE), settings, SOURCE)
    assert refused.value.problems == [
        f"{ENVIRONMENT_KEY}.use_cases[{index}].alerts: no one would be told; add `monitoring.notify` to the environment"
    ]


# --- who is told ---------------------------------------------------------------------------------------


def notify(emails: Any) -> dict[str, Any]:
    value = spec("prod")
    value["monitoring"] = {"notify": {"email": emails}}
    return value


def test_monitoring_needs_someone_to_notify() -> None:
    value = spec("prod")
    value["monitoring"] = {}
    assert problems(value) == [f"{ENVIRONMENT_KEY}.monitoring.notify: required, but missing"]
    assert problems(notify([])) == [
        f"{ENVIRONMENT_KEY}.monitoring.notify.email: List should have at least 1 item after validation, not 0"
    ]
    assert problems(notify([f"person{i}@example.com" for i in range(21)])) == [
        f"{ENVIRONMENT_KEY}.monitoring.notify.email: List should have at most 20 items after validation, not 21"
    ]


def test_a_duplicate_address_is_refused() -> None:
    [problem] = problems(notify(["oncall@example.com", "OnCall@example.com"]))
    assert problem.startswith(f"{ENVIRONMENT_KEY}.monitoring.notify.email")
    assert "'OnCall@example.com' is listed twice" in problem  # compared ignoring case


def test_a_duplicate_address_names_its_index_and_the_fix() -> None:
    assert problems(notify(["oncall@example.com", "OnCall@example.com"])) == [
        f"{ENVIRONMENT_KEY}.monitoring.notify.email[1]: 'OnCall@example.com' is listed twice; list each address once"
    ]


def test_a_malformed_address_is_refused() -> None:
    found = problems(notify(["oncall@example.com", "not-an-address", "someone@localhost"]))
    assert [p.split(": ", 1)[0] for p in found] == [
        f"{ENVIRONMENT_KEY}.monitoring.notify.email[1]",
        f"{ENVIRONMENT_KEY}.monitoring.notify.email[2]",
    ]


def test_a_malformed_address_says_what_to_write() -> None:
    assert problems(notify(["oncall@example.com", "not-an-address", "someone@localhost"])) == [
        f"{ENVIRONMENT_KEY}.monitoring.notify.email[1]: 'not-an-address' is not an email address; write it as "
        "name@example.com",
        f"{ENVIRONMENT_KEY}.monitoring.notify.email[2]: 'someone@localhost' is not an email address; write it as "
        "name@example.com",
    ]
