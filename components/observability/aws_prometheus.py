"""Amazon Managed Service for Prometheus for an EKS cluster Triplane creates: it keeps the series the
cluster's Prometheus forwards, evaluates the cluster's alerting rules and notifies the channel.

`AwsManagedPrometheus` (one per cluster) creates:
- a KMS key (rotated) that encrypts the workspace and its log group: account administration, CloudWatch
  Logs for that log group only, and principals of this account using it through the service
  (`kms:ViaService` `aps.<region>.amazonaws.com`, `kms:CallerAccount`) to describe it, create the
  grants the service works with, and make and read data keys (Encryption at rest,
  https://docs.aws.amazon.com/prometheus/latest/userguide/encryption-at-rest-Amazon-Service-Prometheus.html);
- a log group under `/aws/vendedlogs/` (the prefix AWS suggests for vended logs, so one resource policy
  with a wildcard admits their delivery) for the rule evaluation and alert manager logs, encrypted with
  that key; the workspace's
  `logging_configuration` names it by its ARN ending in `:*` (CreateLoggingConfiguration, `logGroupArn`);
- the workspace, encrypted with the key;
- the private path: the VPC's `aps-workspaces` interface endpoint (`com.amazonaws.<region>.aps-workspaces`,
  the Prometheus-compatible APIs remote write uses; https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-and-interface-VPC.html)
  from the network's `AwsInterfaceEndpoints`, with private DNS, so `aps-workspaces.<region>.amazonaws.com`
  resolves inside the VPC;
- the forwarder's identity: a role only EKS Pod Identity assumes, allowed `aps:RemoteWrite` on this
  workspace and nothing else, associated with the Prometheus service account (`monitoring` /
  `PROMETHEUS_SERVICE_ACCOUNT`);
- the alert manager definition: every alert to the channel's SNS topic (`sns_configs` with `topic_arn`
  and a `sigv4` region, which the service requires; no `api_url` or `http_config`, which it refuses;
  https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-alertmanager-receiver-config.html), a short
  ASCII subject (SNS replaces a non-ASCII subject and truncates one over 100 characters;
  https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-alertmanager-receiver-validation-truncation.html).
  The channel must admit the service (`AwsAlertChannelArgs.prometheus`).

Its `forwarding` is what the cluster's Prometheus sets: remote write to the workspace's
`prometheus_endpoint` (`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`) plus
`api/v1/remote_write`, signed with SigV4 in the workspace's region. Prometheus signs with
github.com/prometheus/sigv4, whose round tripper loads the AWS SDK for Go v2 default configuration
(`config.LoadDefaultConfig`); that chain's container credentials provider reads
`AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, which the EKS Pod
Identity webhook sets on the pod (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-minimum-sdk.html).

`AwsPrometheusRules` puts the cluster's alerting rules (`prometheus.rules()`, one PrometheusRule per use
case) into the workspace, one rule groups namespace per use case whose data is a Prometheus rules file
(`groups:`, https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-ruler-rulesfile.html).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import yaml
from pulumi_aws import amp as aws_amp
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import eks as aws_eks
from pulumi_aws import iam as aws_iam
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.keys import aws_key, log_key_policy
from triplane.components.naming import physical_name
from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints
from triplane.components.observability.alerts import USE_CASE_TAG
from triplane.components.observability.forwarding import PROMETHEUS_SERVICE_ACCOUNT, PrometheusForwarding
from triplane.components.self_managed.addons import MONITORING_NAMESPACE
from triplane.components.self_managed.weights_import import POD_IDENTITY_TRUST
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

ENDPOINT_SERVICE = "aps-workspaces"
"""The interface endpoint service of the Prometheus-compatible APIs (remote write, query)."""
REMOTE_WRITE_PATH = "api/v1/remote_write"
REMOTE_WRITE_ACTION = "aps:RemoteWrite"
LOG_GROUP_PREFIX = "/aws/vendedlogs/prometheus/"
RECEIVER = "triplane-channel"
SUBJECT = "[{{ .Status | toUpper }}] {{ .GroupLabels.use_case }}: {{ .GroupLabels.alertname }}"
"""ASCII, one line, short: the use case and the alert (`prometheus.ALERT_NAMES`) a notification is about."""
GROUP_BY = ("alertname", "use_case")
"""One notification per alert of a use case (the rules label each alert with its `use_case`)."""


def log_group_name(prefix: str) -> str:
    return f"{LOG_GROUP_PREFIX}{prefix}"


def workspace_key_policy(account: str, region: str, log_group: str, partition: str = "aws") -> str:
    """The workspace key's policy: account administration, CloudWatch Logs for the workspace's log group,
    and this account's principals using the key through the service alone."""
    policy = json.loads(log_key_policy(account, region, [log_group], logs_sid="WorkspaceLogs", partition=partition))
    policy["Statement"].append(
        {
            "Sid": "ThroughManagedPrometheus",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": f"aps.{region}.amazonaws.com", "kms:CallerAccount": account}
            },
        }
    )
    return json.dumps(policy)


def workspace_arn(region: str, account: str, workspace_id: str, partition: str = "aws") -> str:
    """A workspace's ARN (`*` for every workspace of the account in the region)."""
    return f"arn:{partition}:aps:{region}:{account}:workspace/{workspace_id}"


def remote_write_policy(workspace_arn: str) -> str:
    """The forwarder's one permission: write samples into this workspace."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "RemoteWriteOnly", "Effect": "Allow", "Action": REMOTE_WRITE_ACTION, "Resource": workspace_arn}
            ],
        }
    )


def remote_write_url(prometheus_endpoint: str) -> str:
    """The remote write URL of a workspace whose `prometheus_endpoint` is `.../workspaces/<id>/`."""
    return prometheus_endpoint.rstrip("/") + "/" + REMOTE_WRITE_PATH


def remote_write(url: pulumi.Input[str], region: str) -> list[dict[str, Any]]:
    """`prometheusSpec.remoteWrite` (prometheus-operator `RemoteWriteSpec`): the URL, signed with SigV4
    in the workspace's region by the pod's own credentials (no keys, profile or role to assume)."""
    return [{"url": url, "sigv4": {"region": region}}]


def alert_manager_definition(topic_arn: str, region: str) -> str:
    """The workspace's alert manager definition: every alert to the channel's topic, grouped per alert
    and use case, resolved ones too. The topic must be in the workspace's `region`: the channel admits
    the workspaces of its own region only, and the SNS call is signed there."""
    parts = topic_arn.split(":")
    if len(parts) < 6 or parts[2] != "sns" or parts[3] != region:
        raise ValueError(
            f"the alert channel's topic {topic_arn!r} is not an SNS topic in {region}, the workspace's region: "
            "give the cluster's managed Prometheus a channel (AwsAlertChannel) of the cluster's region"
        )
    config = {
        "route": {"receiver": RECEIVER, "group_by": list(GROUP_BY)},
        "receivers": [
            {
                "name": RECEIVER,
                "sns_configs": [
                    {
                        "topic_arn": topic_arn,
                        "sigv4": {"region": region},
                        "subject": SUBJECT,
                        "send_resolved": True,
                    }
                ],
            }
        ],
    }
    body = yaml.safe_dump(config, sort_keys=False, width=1000)
    return "alertmanager_config: |\n" + textwrap.indent(body, "  ")


def rule_file(body: Mapping[str, Any]) -> str:
    """A PrometheusRule (`prometheus.rules()`) as the Prometheus rules file a rule groups namespace holds:
    exactly its `spec.groups`, written as JSON (which is YAML), so the policy pack reads it with no YAML
    parser of its own."""
    return json.dumps({"groups": body["spec"]["groups"]}, indent=2)


def rule_use_case(body: Mapping[str, Any]) -> str:
    """The use case a PrometheusRule's alerts watch (each rule's `use_case` label)."""
    found = {rule["labels"]["use_case"] for group in body["spec"]["groups"] for rule in group["rules"]}
    if len(found) != 1:
        raise ValueError(f"{body['metadata']['name']}: a rule file watches one use case, not {sorted(found)}")
    return str(found.pop())


def rule_namespace(body: Mapping[str, Any]) -> str:
    """The rule groups namespace of a use case: its PrometheusRule's name (`triplane-<use case>`)."""
    return str(body["metadata"]["name"])


@dataclass(frozen=True)
class AwsManagedPrometheusArgs:
    prefix: str
    """Names the workspace, its key's alias, its log group and the forwarder's role: one per cluster
    (e.g. `<stack>-<cluster>`)."""
    region: str
    """The cluster's region: the workspace, the endpoint and the SigV4 signatures are there."""
    cluster_name: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    """The channel's SNS topic (`AwsAlertChannel.topic_arn`, or the platform stack's by reference), made
    with `prometheus=True` so the service may publish to it."""
    endpoints: AwsInterfaceEndpoints | None
    """The cluster network's interface endpoints: the workspace is reached through `aps-workspaces`
    (None: the network's own endpoints, which its `service_endpoints: declared` says exist)."""
    pod_identity_agent: pulumi.Resource | None = None
    """The cluster's Pod Identity agent add-on: the association is honoured only once it runs."""
    channel_ready: Sequence[pulumi.Resource] = ()
    """What the topic's publishers wait for (`AlertChannelReference.ready`: its policy)."""
    log_retention_days: int = 365
    tags: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False
    """Protect the key and the log group with the data they hold."""


class AwsManagedPrometheus(pulumi.ComponentResource):
    """A cluster's Amazon Managed Service for Prometheus workspace, reached privately, written to by the
    cluster's Prometheus alone, alerting the channel."""

    workspace_id: pulumi.Output[str]
    workspace_arn: pulumi.Output[str]
    forwarding: PrometheusForwarding
    """For `ClusterAddonsArgs.forwarding`."""

    def __init__(self, name: str, args: AwsManagedPrometheusArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AwsManagedPrometheus", name, None, tagged(opts, args.tags))
        if args.log_retention_days <= 0:
            raise ValueError(f"{name}: log_retention_days must be positive (days the workspace's logs are kept)")
        child = pulumi.ResourceOptions(parent=self)
        region = args.region
        account = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        logs = log_group_name(args.prefix)
        key = aws_key(
            f"{name}-key",
            parent=self,
            description=f"Managed Prometheus workspace and its logs ({args.prefix})",
            policy=account.apply(lambda a: workspace_key_policy(a, region, logs)),
            protect=args.protect,
            alias=physical_name(args.prefix, "prometheus", kind="kms_alias"),
        )
        log_group = aws_cloudwatch.LogGroup(
            f"{name}-logs",
            name=logs,
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn,
            opts=stateful_opts(self, args.protect),
        )
        workspace = aws_amp.Workspace(
            f"{name}-workspace",
            alias=physical_name(args.prefix, "prometheus"),
            kms_key_arn=key.arn,
            logging_configuration={"log_group_arn": log_group.arn.apply(lambda arn: f"{arn}:*")},
            opts=child,
        )
        endpoint = args.endpoints.endpoint(ENDPOINT_SERVICE) if args.endpoints is not None else None

        role = aws_iam.Role(
            f"{name}-forwarder-role",
            name=physical_name(args.prefix, "prometheus-write", kind="iam_role"),
            description="The cluster's Prometheus: remote write into its managed Prometheus workspace",
            assume_role_policy=POD_IDENTITY_TRUST,
            max_session_duration=3600,
            opts=child,
        )
        grant = aws_iam.RolePolicy(
            f"{name}-forwarder-write",
            role=role.id,
            policy=workspace.arn.apply(remote_write_policy),
            opts=child,
        )
        association = aws_eks.PodIdentityAssociation(
            f"{name}-forwarder-identity",
            cluster_name=args.cluster_name,
            namespace=MONITORING_NAMESPACE,
            service_account=PROMETHEUS_SERVICE_ACCOUNT,
            role_arn=role.arn,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[args.pod_identity_agent] if args.pod_identity_agent is not None else []
            ),
        )
        aws_amp.AlertManagerDefinition(
            f"{name}-alert-manager",
            workspace_id=workspace.id,
            definition=pulumi.Output.from_input(args.topic_arn).apply(
                lambda arn: alert_manager_definition(arn, region)
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.channel_ready)),
        )
        self.workspace_id = workspace.id
        self.workspace_arn = workspace.arn
        self.forwarding = PrometheusForwarding(
            remote_write=remote_write(workspace.prometheus_endpoint.apply(remote_write_url), region),
            depends_on=[grant, association, *([endpoint] if endpoint is not None else [])],
        )
        self.register_outputs({"workspace_id": self.workspace_id, "workspace_arn": self.workspace_arn})


@dataclass(frozen=True)
class AwsPrometheusRulesArgs:
    workspace_id: pulumi.Input[str]
    """`AwsManagedPrometheus.workspace_id` of the cluster the rules watch."""
    rules: Sequence[Mapping[str, Any]]
    """What `prometheus.rules(...)` rendered for the use cases of this cluster (one per use case)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsPrometheusRules(pulumi.ComponentResource):
    """The cluster's alerting rules, evaluated by its managed Prometheus workspace: a rule groups
    namespace per use case."""

    namespaces: dict[str, aws_amp.RuleGroupNamespace]
    """By use case's PrometheusRule name."""

    def __init__(self, name: str, args: AwsPrometheusRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AwsPrometheusRules", name, None, tagged(opts, args.tags))
        names = [rule_namespace(body) for body in args.rules]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"{name}: rules {duplicated} are given twice; pass each use case's PrometheusRule once")
        self.namespaces = {
            rule_namespace(body): aws_amp.RuleGroupNamespace(
                f"{name}-{rule_namespace(body)}",
                name=rule_namespace(body),
                workspace_id=args.workspace_id,
                data=rule_file(body),
                tags={**args.tags, USE_CASE_TAG: rule_use_case(body)},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for body in args.rules
        }
        self.register_outputs({"namespaces": sorted(self.namespaces)})


__all__ = [
    "AwsManagedPrometheus",
    "AwsManagedPrometheusArgs",
    "AwsPrometheusRules",
    "AwsPrometheusRulesArgs",
    "alert_manager_definition",
    "remote_write",
    "remote_write_policy",
    "remote_write_url",
    "rule_file",
    "workspace_arn",
    "workspace_key_policy",
]
