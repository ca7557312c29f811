"""The alerts' run-time path, proven from the plan: each reaches its channel, each rule its Prometheus.

dev's plan meets every need; each test takes one link away (CloudWatch's right to publish to the topic,
to use its key, an alarm named outside the topic's prefixes, the rules' label) and the need goes unmet.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.reliability_support import shipped_plan
from triplane.plan import Plan, PlannedResource
from triplane.runtime import paths
from triplane.stackfile import load_stack

TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


@pytest.fixture(scope="module")
def dev() -> tuple[Plan, dict[str, Any]]:
    return shipped_plan("dev"), load_stack("dev").config


def alert_needs(plan: Plan, config: dict[str, Any]) -> dict[str, str | None]:
    return {n.workload: n.path for n in paths(plan, config) if n.kind == "alerts"}


def changed(plan: Plan, type_: str, change: Callable[[PlannedResource], dict[str, Any] | None]) -> Plan:
    """`plan` with the inputs of every resource of `type_` replaced by `change(resource)` (None: kept)."""
    resources = []
    for resource in plan.resources:
        inputs = change(resource) if resource.type == type_ else None
        resources.append(resource if inputs is None else dataclasses.replace(resource, inputs=inputs))
    return dataclasses.replace(plan, resources=resources)


def statements_without(document: str, service_action: str) -> str:
    value = json.loads(document)
    value["Statement"] = [s for s in value["Statement"] if service_action not in json.dumps(s)]
    return json.dumps(value)


def test_dev_alerts_all_reach_their_channel(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    needs = alert_needs(plan, config)
    alarms = [w for w in needs if w.startswith("CloudWatch alarm")]
    rules = [w for w in needs if w.startswith("PrometheusRule")]
    assert len(alarms) == 5 and len(rules) == 2  # doc-search's alarms; code-review's and support-drafts' rules
    assert all(path is not None for path in needs.values()), needs
    assert all("let CloudWatch publish" in str(needs[w]) for w in alarms)
    assert all("ruleSelector" in str(needs[w]) for w in rules)


def test_a_topic_cloudwatch_may_not_publish_to_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    broken = changed(
        plan, TOPIC_POLICY, lambda r: {**r.inputs, "policy": statements_without(r.inputs["policy"], "sns:Publish")}
    )
    needs = alert_needs(broken, config)
    assert [w for w, path in needs.items() if path is None] == [w for w in needs if w.startswith("CloudWatch")]


def test_a_key_cloudwatch_may_not_use_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev

    def drop(resource: PlannedResource) -> dict[str, Any] | None:
        policy = resource.inputs.get("policy")
        if not isinstance(policy, str) or "cloudwatch.amazonaws.com" not in policy:
            return None
        return {**resource.inputs, "policy": statements_without(policy, "cloudwatch.amazonaws.com")}

    needs = alert_needs(changed(plan, KEY, drop), config)
    assert {w for w, path in needs.items() if path is None} == {w for w in needs if w.startswith("CloudWatch")}


def test_an_alarm_named_outside_the_topics_prefixes_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    renamed = changed(plan, ALARM, lambda r: {**r.inputs, "name": f"other-{r.inputs['name']}"})
    needs = alert_needs(renamed, config)
    assert {w for w, path in needs.items() if path is None} == {w for w in needs if w.startswith("CloudWatch")}


def test_a_rule_prometheus_does_not_select_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev

    def unlabel(resource: PlannedResource) -> dict[str, Any]:
        metadata = resource.inputs["metadata"]
        labels = {k: v for k, v in metadata["labels"].items() if k != "triplane.io/scrape"}
        return {**resource.inputs, "metadata": {**metadata, "labels": labels}}

    needs = alert_needs(changed(plan, RULE, unlabel), config)
    assert {w for w, path in needs.items() if path is None} == {w for w in needs if w.startswith("PrometheusRule")}
