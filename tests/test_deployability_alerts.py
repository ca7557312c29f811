"""The alerts' run-time path, proven from the plan: each reaches its channel, each rule its Prometheus.

dev's and prod's plans meet every need; each test takes one link away (CloudWatch's or AMP's right to
publish to the topic, to use its key, an alarm named outside the topic's prefixes, the workspace's
alert manager, the forwarder's identity, an action group, the rules' label) and the need goes unmet.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.reliability_support import shipped_plan, variant
from triplane.mocks import CloudMocks
from triplane.plan import Plan, PlannedResource, run_program
from triplane.runtime import paths
from triplane.stackfile import load_stack
from triplane.stacks import program

TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
ALERT_MANAGER = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
FUNCTION = "aws:lambda/function:Function"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
FEDERATED = "azure-native:managedidentity:FederatedIdentityCredential"
ACTION_GROUP = "azure-native:monitor:ActionGroup"


@pytest.fixture(scope="module")
def dev() -> tuple[Plan, dict[str, Any]]:
    return shipped_plan("dev"), load_stack("dev").config


@pytest.fixture(scope="module")
def prod() -> tuple[Plan, dict[str, Any]]:
    return shipped_plan("prod"), load_stack("prod").config


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, dict[str, Any]]:
    """local with monitoring: an existing cluster, whose own Prometheus evaluates its PrometheusRules."""

    def monitored(environment: dict[str, Any]) -> None:
        environment["monitoring"] = {"notify": {"email": ["oncall@example.com"]}}

    stack = load_stack(str(variant(tmp_path_factory.mktemp("local"), "local", monitored)))
    plan = run_program(
        program.main, stack=stack.name, config=stack.config, secret_keys=stack.secret_keys, mocks=CloudMocks(stack.name)
    )
    return plan, stack.config


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
    rules = [w for w in needs if w.startswith("AMP rule groups namespace")]
    forwarders = [w for w in needs if w.endswith("(remote write)")]
    # doc-search's alarms; code-review's and support-drafts' rules on the EKS cluster's workspace, which its
    # Prometheus writes to
    assert len(alarms) == 5 and len(rules) == 2 and len(forwarders) == 1
    assert len(needs) == 8 and all(path is not None for path in needs.values()), needs
    assert all("let CloudWatch publish" in str(needs[w]) for w in alarms)
    assert all("let AMP publish" in str(needs[w]) for w in rules)
    assert "EKS Pod Identity association" in str(needs[forwarders[0]])


def test_prod_alerts_all_reach_their_channel(prod: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = prod
    needs = alert_needs(plan, config)
    assert all(path is not None for path in needs.values()), needs
    kinds = sorted({w.split(" prod-")[0] for w in needs})
    assert kinds == ["AMP rule groups namespace", "Azure Prometheus rule group", "Azure metric alert",
                     "Cloud Monitoring policy", "CloudWatch alarm", "Prometheus of Helm release"]
    [azure_forwarder] = [p for w, p in needs.items() if w.startswith("Prometheus of Helm release prod-gpu-azure")]
    assert str(azure_forwarder).startswith("federated credential")


def test_a_topic_cloudwatch_may_not_publish_to_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    broken = changed(
        plan, TOPIC_POLICY, lambda r: {**r.inputs, "policy": statements_without(r.inputs["policy"], "sns:Publish")}
    )
    needs = alert_needs(broken, config)
    assert [w for w, path in needs.items() if path is None] == [
        w for w in needs if w.startswith(("CloudWatch", "AMP"))
    ]


def test_a_topic_amp_may_not_publish_to_is_no_path_for_the_rules_alone(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    broken = changed(
        plan, TOPIC_POLICY, lambda r: {**r.inputs, "policy": statements_without(r.inputs["policy"], "aps.amazonaws")}
    )
    needs = alert_needs(broken, config)
    assert [w for w, path in needs.items() if path is None] == [w for w in needs if w.startswith("AMP")]


def test_a_workspace_without_an_alert_manager_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    gone = dataclasses.replace(plan, resources=[r for r in plan.resources if r.type != ALERT_MANAGER])
    needs = alert_needs(gone, config)
    assert [w for w, path in needs.items() if path is None] == [w for w in needs if w.startswith("AMP")]


def test_a_forwarder_without_its_identity_is_no_path(prod: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = prod
    for identity, cluster in ((POD_IDENTITY, "gpu-aws"), (FEDERATED, "gpu-azure")):
        gone = dataclasses.replace(plan, resources=[r for r in plan.resources if r.type != identity])
        needs = alert_needs(gone, config)
        assert [w for w, path in needs.items() if path is None] == [
            f"Prometheus of Helm release prod-{cluster}-addons-prometheus-operator (remote write)"
        ]


def test_a_disabled_action_group_is_no_path_for_azure_rules(prod: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = prod
    needs = alert_needs(changed(plan, ACTION_GROUP, lambda r: {**r.inputs, "enabled": False}), config)
    assert {w for w, path in needs.items() if path is None} == {w for w in needs if w.startswith("Azure")}


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


def test_a_rule_prometheus_does_not_select_is_no_path(local: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = local
    assert alert_needs(plan, config) and all(path is not None for path in alert_needs(plan, config).values())

    def unlabel(resource: PlannedResource) -> dict[str, Any]:
        metadata = resource.inputs["metadata"]
        labels = {k: v for k, v in metadata["labels"].items() if k != "triplane.io/scrape"}
        return {**resource.inputs, "metadata": {**metadata, "labels": labels}}

    needs = alert_needs(changed(plan, RULE, unlabel), config)
    assert {w for w, path in needs.items() if path is None} == {w for w in needs if w.startswith("PrometheusRule")}


# --- dashboards ------------------------------------------------------------------------------------

PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"


def dashboard_needs(plan: Plan, config: dict[str, Any]) -> dict[tuple[str, str], str | None]:
    return {(n.workload, n.what): n.path for n in paths(plan, config) if n.kind == "dashboards"}


def test_devs_chart_function_reaches_the_eks_workspace_and_may_query_it(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    function = "chart function dev-gpu-prometheus-charts-function"
    assert dashboard_needs(plan, config) == {
        (f"{function} (network path)", "a private path to its managed Prometheus"):
            "its VPC's aps-workspaces endpoint dev-aws-endpoints-aps-workspaces",
        (f"{function} (query grant)", "a role allowed aps:QueryMetrics on its workspace"):
            "role policy dev-gpu-prometheus-charts-grants",
    }


def test_prods_dashboards_reach_the_eks_and_aks_workspaces(prod: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = prod
    needs = dashboard_needs(plan, config)
    assert all(path is not None for path in needs.values()), needs
    assert needs[(
        "Azure workbook prod-azure-monitoring-workbook",
        "a query path to Azure Monitor workspace prod-gpu-azure-prometheus-workspace",
    )] == "private endpoint prod-gpu-azure-prometheus-query-pe (public query access is off)"
    assert sorted(w for w, _ in needs if w.startswith("chart function")) == [
        "chart function prod-gpu-aws-prometheus-charts-function (network path)",
        "chart function prod-gpu-aws-prometheus-charts-function (query grant)",
    ]


def test_a_workspace_without_its_query_endpoint_is_no_path(prod: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = prod
    endpoints = [r for r in plan.resources if r.type == PRIVATE_ENDPOINT]
    query_endpoints = [
        r.urn for r in endpoints if r.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["prometheusMetrics"]
    ]
    assert len(query_endpoints) == 1
    gone = dataclasses.replace(plan, resources=[r for r in plan.resources if r.urn not in query_endpoints])
    assert [w for (w, _), path in dashboard_needs(gone, config).items() if path is None] == [
        "Azure workbook prod-azure-monitoring-workbook"
    ]


def chart_unmet(plan: Plan, config: dict[str, Any]) -> list[str]:
    return sorted(w for (w, _), path in dashboard_needs(plan, config).items() if path is None)


def test_a_chart_function_outside_the_vpc_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    outside = changed(plan, FUNCTION, lambda r: {k: v for k, v in r.inputs.items() if k != "vpcConfig"})
    assert chart_unmet(outside, config) == ["chart function dev-gpu-prometheus-charts-function (network path)"]


def test_a_vpc_without_the_aps_workspaces_endpoint_is_no_path_for_the_chart_function(
    dev: tuple[Plan, dict[str, Any]],
) -> None:
    plan, config = dev
    kept = [r for r in plan.resources
            if not (r.type == ENDPOINT and r.inputs.get("serviceName", "").endswith(".aps-workspaces"))]
    gone = dataclasses.replace(plan, resources=kept)
    assert "chart function dev-gpu-prometheus-charts-function (network path)" in chart_unmet(gone, config)


def test_a_chart_function_whose_role_may_not_query_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev
    broken = changed(
        plan, ROLE_POLICY, lambda r: {**r.inputs, "policy": statements_without(r.inputs["policy"], "aps:QueryMetrics")}
    )
    assert chart_unmet(broken, config) == ["chart function dev-gpu-prometheus-charts-function (query grant)"]


def test_a_chart_function_allowed_another_workspace_is_no_path(dev: tuple[Plan, dict[str, Any]]) -> None:
    plan, config = dev

    def elsewhere(resource: PlannedResource) -> dict[str, Any] | None:
        if "aps:QueryMetrics" not in resource.inputs["policy"]:
            return None
        return {**resource.inputs, "policy": resource.inputs["policy"].replace("workspace/", "workspace/other-")}

    assert chart_unmet(changed(plan, ROLE_POLICY, elsewhere), config) == [
        "chart function dev-gpu-prometheus-charts-function (query grant)"]
