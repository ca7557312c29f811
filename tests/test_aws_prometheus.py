"""Amazon Managed Service for Prometheus per cluster: the workspace and its logs are encrypted with a key
only the service (for this account) and CloudWatch Logs (for its log group) may use; the cluster's
Prometheus reaches it over the VPC's `aps-workspaces` endpoint as a Pod Identity role that may only
remote-write into that workspace; its alert manager sends every alert to the channel's topic, which
admits the service only when asked to; and each use case's rules are its PrometheusRule's groups."""

from __future__ import annotations

import json
from fnmatch import fnmatch
from typing import Any

import pulumi
import pytest
import yaml
from pulumi_aws import eks as aws_eks
from pulumi_aws import sns as aws_sns

from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints, AwsInterfaceEndpointsArgs
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.observability.alerts import GatewayRoute, ModelServer, MonitoredUseCase, use_case_alerts
from triplane.components.observability.aws import AwsAlertChannel, AwsAlertChannelArgs, key_policy, topic_policy
from triplane.components.observability.aws_prometheus import (
    AwsManagedPrometheus,
    AwsManagedPrometheusArgs,
    AwsPrometheusRules,
    AwsPrometheusRulesArgs,
    alert_manager_definition,
    remote_write_url,
    rule_file,
)
from triplane.components.observability.forwarding import PROMETHEUS_SERVICE_ACCOUNT
from triplane.components.observability.prometheus import rule, rules
from triplane.components.tagging import standard_tags
from triplane.plan import Plan, run_program
from triplane.policies.catalog import tag_argument
from triplane.stacks.clouds.aws import ACCOUNT_ID

REGION = "us-east-1"
TAGS = standard_tags(environment="prod", owner="ml-platform", cost_center="cc-42")
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:prod-platform-alerts"
NETWORK = AwsNetworkRef(
    region=REGION,
    vpc_id="vpc-0123456789abcdef0",
    app_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    application_cidrs=["10.20.0.0/20", "10.20.16.0/20"],
)
WORKSPACE_ID = "prod-gpu-amp-workspace-id"  # the mock's ID for resource `prod-gpu-amp-workspace`
WORKSPACE_ARN = f"arn:aws:aps:{REGION}:{ACCOUNT_ID}:workspace/{WORKSPACE_ID}"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:prod-gpu-amp-key"


def _use_cases() -> list[MonitoredUseCase]:
    server = ModelServer("gpu", "summarize", "summarizer", "vllm")
    gateway = GatewayRoute("gpu", "chat")
    return [
        MonitoredUseCase(
            "summarize",
            "self-managed",
            "internal",
            server,
            use_case_alerts("summarize", "vllm", "prod", {"latency_p95_seconds": 8}, tokens_per_month=9_000_000),
        ),
        MonitoredUseCase(
            "chat",
            "saas",
            "internal",
            gateway,
            use_case_alerts("chat", "gateway", "prod", {}, tokens_per_month=30_000_000),
        ),
    ]


# --- pure functions -------------------------------------------------------------------------------


def test_the_remote_write_url_is_the_workspace_endpoint_plus_the_remote_write_path() -> None:
    endpoint = f"https://aps-workspaces.{REGION}.amazonaws.com/workspaces/ws-1234/"
    assert remote_write_url(endpoint) == f"https://aps-workspaces.{REGION}.amazonaws.com/workspaces/ws-1234/api/v1/remote_write"
    assert remote_write_url(endpoint.rstrip("/")) == remote_write_url(endpoint)


def test_the_alert_manager_sends_every_alert_to_the_topic_signed_in_its_region() -> None:
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:prod-platform-alerts"
    definition = yaml.safe_load(alert_manager_definition(topic, "eu-west-1"))
    assert set(definition) == {"alertmanager_config"}
    config = yaml.safe_load(definition["alertmanager_config"])
    route = config["route"]
    assert set(route) == {"receiver", "group_by"}  # no matchers, no sub-routes: every alert
    [receiver] = config["receivers"]
    assert receiver["name"] == route["receiver"]
    assert set(receiver) == {"name", "sns_configs"}  # SNS is the only receiver the service supports
    [sns] = receiver["sns_configs"]
    assert sns["topic_arn"] == topic and sns["sigv4"] == {"region": "eu-west-1"}
    assert sns["send_resolved"] is True
    assert "api_url" not in sns and "http_config" not in sns  # the service refuses both
    assert route["group_by"] == ["alertname", "use_case"]
    assert sns["subject"].isascii() and "\n" not in sns["subject"]
    assert "{{ .GroupLabels.use_case }}" in sns["subject"] and "{{ .GroupLabels.alertname }}" in sns["subject"]


def test_a_topic_in_another_region_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="a channel \\(AwsAlertChannel\\) of the cluster's region"):
        alert_manager_definition(TOPIC_ARN, "eu-west-1")


def test_each_rule_file_is_exactly_the_prometheus_rules_groups() -> None:
    bodies = rules(_use_cases())
    assert len(bodies) == 2
    for body, use_case in zip(bodies, _use_cases(), strict=True):
        parsed = yaml.safe_load(rule_file(body))
        assert parsed == {"groups": body["spec"]["groups"]}
        [group] = parsed["groups"]
        assert group["name"] == f"triplane-{use_case.name}"
        assert len(group["rules"]) == len(use_case.alerts)
        for loaded, alert in zip(group["rules"], use_case.alerts, strict=True):
            expected = rule(alert, use_case.target)
            assert loaded["alert"] == expected["alert"]
            assert loaded["expr"] == expected["expr"]
            assert loaded.get("for") == expected.get("for")
            assert loaded["labels"] == expected["labels"] and loaded["labels"]["use_case"] == use_case.name
            assert loaded["annotations"] == expected["annotations"]


def test_a_held_alert_keeps_its_for_and_its_threshold() -> None:
    [summarize, _] = rules(_use_cases())
    loaded = yaml.safe_load(rule_file(summarize))["groups"][0]["rules"]
    replicas = next(r for r in loaded if r["labels"]["triplane_alert"] == "no-ready-replicas")
    assert replicas["for"] == "5m"
    assert replicas["expr"] == 'absent(up{namespace="summarize",job="summarizer-metrics"} == 1)'
    latency = next(r for r in loaded if r["labels"]["triplane_alert"] == "latency")
    assert latency["expr"].endswith("> 8") and "for" not in latency


# --- the channel, asked to admit the service ------------------------------------------------------


def _workspace_arn(workspace_id: str, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:aps:{region}:{account}:workspace/{workspace_id}"


def test_the_topic_admits_this_accounts_workspaces_of_its_region_only_when_asked() -> None:
    plain = json.loads(topic_policy(TOPIC_ARN, ACCOUNT_ID, REGION, ["prod-apps"]))["Statement"]
    assert [s["Sid"] for s in plain] == ["CloudWatchAlarmsPublish", "DenyPlainHttp"]
    asked = json.loads(topic_policy(TOPIC_ARN, ACCOUNT_ID, REGION, ["prod-apps"], prometheus=True))["Statement"]
    assert [s["Sid"] for s in asked] == ["CloudWatchAlarmsPublish", "PrometheusAlertManagerPublishes", "DenyPlainHttp"]
    aps = asked[1]
    assert (aps["Effect"], aps["Principal"]) == ("Allow", {"Service": "aps.amazonaws.com"})
    assert (aps["Action"], aps["Resource"]) == (["sns:Publish", "sns:GetTopicAttributes"], TOPIC_ARN)
    assert aps["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    pattern = aps["Condition"]["ArnLike"]["aws:SourceArn"]
    assert pattern == f"arn:aws:aps:{REGION}:{ACCOUNT_ID}:workspace/*"
    assert fnmatch(_workspace_arn("ws-1234"), pattern)
    assert not fnmatch(_workspace_arn("ws-1234", region="eu-west-1"), pattern)
    assert not fnmatch(_workspace_arn("ws-1234", account="999999999999"), pattern)
    assert asked[0] == plain[0] and asked[2] == plain[1]


def test_the_key_lets_the_service_encrypt_only_when_asked() -> None:
    plain = json.loads(key_policy(ACCOUNT_ID))["Statement"]
    assert [s["Sid"] for s in plain] == ["AccountAdministration", "CloudWatchAlarmsEncryptNotifications"]
    asked = json.loads(key_policy(ACCOUNT_ID, prometheus=True))["Statement"]
    assert asked[:2] == plain
    [aps] = asked[2:]
    assert aps["Principal"] == {"Service": "aps.amazonaws.com"}
    assert aps["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert aps["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def _channel(prometheus: bool) -> Plan:
    def program() -> None:
        AwsAlertChannel(
            "prod-aws-alerts",
            AwsAlertChannelArgs(
                prefix="prod-platform",
                region=REGION,
                emails=("oncall@example.com",),
                alarm_prefixes=("prod-apps",),
                tags=TAGS,
                prometheus=prometheus,
            ),
        )

    return run_program(program, stack="ts")


def test_a_channel_asked_for_prometheus_admits_it_on_the_topic_and_the_key() -> None:
    plain, asked = _channel(False), _channel(True)
    plain_policy = json.loads(plain.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    asked_policy = json.loads(asked.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    assert "PrometheusAlertManagerPublishes" not in {s["Sid"] for s in plain_policy["Statement"]}
    assert "PrometheusAlertManagerPublishes" in {s["Sid"] for s in asked_policy["Statement"]}
    plain_key = json.loads(plain.one("aws:kms/key:Key").inputs["policy"])
    asked_key = json.loads(asked.one("aws:kms/key:Key").inputs["policy"])
    assert "PrometheusAlertManagerEncryptsNotifications" not in {s["Sid"] for s in plain_key["Statement"]}
    assert "PrometheusAlertManagerEncryptsNotifications" in {s["Sid"] for s in asked_key["Statement"]}
    assert plain_policy == json.loads(topic_policy(
        f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:prod-aws-alerts-topic", ACCOUNT_ID, REGION, ["prod-apps"]))


# --- the component ------------------------------------------------------------------------------


def _managed(**overrides: Any) -> tuple[AwsManagedPrometheus, aws_eks.Addon]:
    agent = aws_eks.Addon(
        "gpu-pod-identity-agent", cluster_name="prod-gpu-cluster", addon_name="eks-pod-identity-agent"
    )
    endpoints = AwsInterfaceEndpoints("prod-endpoints", AwsInterfaceEndpointsArgs(network=NETWORK, tags=TAGS))
    args: dict[str, Any] = {
        "prefix": "prod-gpu",
        "region": REGION,
        "cluster_name": "prod-gpu-cluster",
        "topic_arn": TOPIC_ARN,
        "endpoints": endpoints,
        "pod_identity_agent": agent,
        "tags": TAGS,
        "protect": True,
    }
    return AwsManagedPrometheus("prod-gpu-amp", AwsManagedPrometheusArgs(**{**args, **overrides})), agent


SEEN: dict[str, Any] = {}


def _plan(**overrides: Any) -> Plan:
    def program() -> None:
        managed, agent = _managed(**overrides)
        SEEN["forwarding"] = managed.forwarding
        SEEN["agent"] = agent
        [entry] = managed.forwarding.remote_write
        pulumi.export("remote_write_url", entry["url"])
        pulumi.export("sigv4", entry["sigv4"])
        pulumi.export("workspace_id", managed.workspace_id)
        pulumi.export("workspace_arn", managed.workspace_arn)
        AwsPrometheusRules(
            "prod-gpu-rules",
            AwsPrometheusRulesArgs(workspace_id=managed.workspace_id, rules=rules(_use_cases()), tags=TAGS),
        )

    return run_program(program, stack="ts")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _plan()


def test_the_workspace_is_encrypted_with_a_rotated_protected_key_and_logs_to_an_encrypted_group(plan: Plan) -> None:
    key = plan.one("aws:kms/key:Key", "prod-gpu-amp-key")
    assert key.inputs["enableKeyRotation"] is True and key.protect
    assert plan.one("aws:kms/alias:Alias").inputs["name"] == "alias/prod-gpu-prometheus"
    logs = plan.one("aws:cloudwatch/logGroup:LogGroup", "prod-gpu-amp-logs")
    assert logs.inputs["name"] == "/aws/vendedlogs/prometheus/prod-gpu"
    assert logs.inputs["kmsKeyId"] == KEY_ARN and logs.inputs["retentionInDays"] == 365 and logs.protect
    workspace = plan.one("aws:amp/workspace:Workspace", "prod-gpu-amp-workspace").inputs
    assert workspace["kmsKeyArn"] == KEY_ARN
    assert workspace["alias"] == "prod-gpu-prometheus"
    log_group_arn = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:prod-gpu-amp-logs"  # the mock's ARN
    assert workspace["loggingConfiguration"] == {"logGroupArn": f"{log_group_arn}:*"}


def test_the_key_admits_the_service_for_this_account_and_logs_for_its_group_only(plan: Plan) -> None:
    statements = {s["Sid"]: s for s in json.loads(plan.one("aws:kms/key:Key").inputs["policy"])["Statement"]}
    assert set(statements) == {"AccountAdministration", "WorkspaceLogs", "ThroughManagedPrometheus"}
    aps = statements["ThroughManagedPrometheus"]
    assert aps["Principal"] == {"AWS": "*"}
    assert aps["Action"] == ["kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt"]
    assert aps["Condition"] == {
        "StringEquals": {"kms:ViaService": f"aps.{REGION}.amazonaws.com", "kms:CallerAccount": ACCOUNT_ID}
    }
    logs = statements["WorkspaceLogs"]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"] == {"StringEquals": {
        "kms:EncryptionContext:aws:logs:arn":
            f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/vendedlogs/prometheus/prod-gpu"}}


def test_the_forwarder_is_a_pod_identity_role_that_may_only_remote_write_into_its_workspace(plan: Plan) -> None:
    role = plan.one("aws:iam/role:Role", "prod-gpu-amp-forwarder-role").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                      "Action": ["sts:AssumeRole", "sts:TagSession"]}]
    assert role["name"] == "prod-gpu-prometheus-write"
    [policy] = plan.by_type("aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == "prod-gpu-amp-forwarder-role-id"
    [statement] = json.loads(policy.inputs["policy"])["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
        "Allow", "aps:RemoteWrite", WORKSPACE_ARN)
    assert not plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def test_the_association_is_the_prometheus_service_account_in_monitoring_after_the_agent(plan: Plan) -> None:
    association = plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "prod-gpu-amp-forwarder-identity")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "monitoring", PROMETHEUS_SERVICE_ACCOUNT)
    assert association.inputs["clusterName"] == "prod-gpu-cluster"
    assert association.inputs["roleArn"] == f"arn:aws:iam:us-east-1:{ACCOUNT_ID}:prod-gpu-amp-forwarder-role"
    agent = plan.one("aws:eks/addon:Addon", "gpu-pod-identity-agent")
    assert agent.urn in association.dependencies


def test_the_private_path_is_the_aps_workspaces_endpoint_with_private_dns(plan: Plan) -> None:
    endpoint = plan.one("aws:ec2/vpcEndpoint:VpcEndpoint", "prod-endpoints-aps-workspaces").inputs
    assert endpoint["serviceName"] == f"com.amazonaws.{REGION}.aps-workspaces"
    assert (endpoint["vpcEndpointType"], endpoint["privateDnsEnabled"]) == ("Interface", True)
    assert endpoint["subnetIds"] == list(NETWORK.app_subnet_ids)


def test_prometheus_writes_to_the_workspace_url_signed_in_its_region_after_its_grant_and_path(plan: Plan) -> None:
    assert plan.outputs["remote_write_url"] == (
        f"https://aps-workspaces.{REGION}.amazonaws.com/workspaces/{WORKSPACE_ID}/api/v1/remote_write")
    assert plan.outputs["sigv4"] == {"region": REGION}
    assert (plan.outputs["workspace_id"], plan.outputs["workspace_arn"]) == (WORKSPACE_ID, WORKSPACE_ARN)
    forwarding = SEEN["forwarding"]
    assert not forwarding.service_account_annotations and not forwarding.pod_labels  # Pod Identity needs neither
    waited = {type(r).__name__ for r in forwarding.depends_on}
    assert waited == {"RolePolicy", "PodIdentityAssociation", "VpcEndpoint"}


def test_the_alert_manager_notifies_the_channels_topic(plan: Plan) -> None:
    definition = plan.one("aws:amp/alertManagerDefinition:AlertManagerDefinition", "prod-gpu-amp-alert-manager")
    assert definition.inputs["workspaceId"] == WORKSPACE_ID
    assert definition.inputs["definition"] == alert_manager_definition(TOPIC_ARN, REGION)
    config = yaml.safe_load(yaml.safe_load(definition.inputs["definition"])["alertmanager_config"])
    assert config["receivers"][0]["sns_configs"][0]["topic_arn"] == TOPIC_ARN


def test_one_rule_namespace_per_use_case_holding_its_rule_file(plan: Plan) -> None:
    namespaces = plan.by_type("aws:amp/ruleGroupNamespace:RuleGroupNamespace")
    bodies = {b["metadata"]["name"]: b for b in rules(_use_cases())}
    assert sorted(n.inputs["name"] for n in namespaces) == ["triplane-chat", "triplane-summarize"]
    for namespace in namespaces:
        assert namespace.inputs["workspaceId"] == WORKSPACE_ID
        groups = bodies[namespace.inputs["name"]]["spec"]["groups"]
        assert yaml.safe_load(namespace.inputs["data"]) == {"groups": groups}


def test_every_taggable_resource_carries_the_tags(plan: Plan) -> None:
    given = {"gpu-pod-identity-agent"}  # the cluster's, made outside these components
    taggable = [r for r in plan.resources if r.custom and tag_argument(r.type) and r.name not in given]
    assert {"aws:amp/workspace:Workspace", "aws:amp/ruleGroupNamespace:RuleGroupNamespace",
            "aws:eks/podIdentityAssociation:PodIdentityAssociation", "aws:iam/role:Role",
            "aws:cloudwatch/logGroup:LogGroup", "aws:kms/key:Key"} <= {r.type for r in taggable}
    shared = {k: v for k, v in TAGS.items() if k != "use-case"}
    for resource in taggable:
        assert shared.items() <= resource.inputs["tags"].items(), resource.name
        # A rule groups namespace names the use case its alerts watch; everything else is shared.
        expected = resource.inputs["name"].removeprefix("triplane-") if resource.type.endswith("RuleGroupNamespace") \
            else TAGS["use-case"]
        assert resource.inputs["tags"]["use-case"] == expected, resource.name


def test_the_alert_manager_waits_for_the_channel_it_is_given() -> None:
    def program() -> None:
        _managed(channel_ready=[aws_sns.TopicPolicy("channel-policy", arn=TOPIC_ARN, policy="{}")])

    plan = run_program(program, stack="ts")
    definition = plan.one("aws:amp/alertManagerDefinition:AlertManagerDefinition")
    assert plan.one("aws:sns/topicPolicy:TopicPolicy", "channel-policy").urn in definition.dependencies


def test_the_same_use_case_twice_is_refused() -> None:
    [body, _] = rules(_use_cases())
    with pytest.raises(Exception, match=r"rules \['triplane-summarize'\] are given twice"):
        run_program(lambda: AwsPrometheusRules("r", AwsPrometheusRulesArgs(workspace_id="ws", rules=[body, body])),
                    stack="ts")
