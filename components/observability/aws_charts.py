"""AwsPrometheusCharts: the function that draws a cluster's managed Prometheus series on CloudWatch.

CloudWatch metric widgets read CloudWatch metrics only, so the dashboard's rows for model servers and
gateway routes on an EKS cluster are custom widgets (`aws.dashboard_body`) backed by this function
(`amp_chart.handler`), which queries the cluster's Amazon Managed Service for Prometheus workspace and
answers each panel as an SVG chart.

Creates, per workspace:
- a KMS key (rotated) that only CloudWatch Logs may use, for the function's log group alone, and that
  log group (`/aws/lambda/<function>`, retention set);
- a security group with no ingress and one egress rule: HTTPS to the VPC, where the `aps-workspaces`
  interface endpoint answers (`AwsManagedPrometheus`); when the stack holds the VPC's endpoints
  (`endpoints`), their security group admits this one on 443 (else the endpoints admit the application
  networks, which hold the app subnets the function runs in);
- a role only Lambda assumes (for this account), allowed `aps:QueryMetrics` on the workspace, the
  network interfaces Lambda manages for a function in a VPC (created in the function's subnets with its
  security group, changed only in its VPC; described anywhere, which IAM cannot narrow), and writing to
  its own log group;
- the function: Python 3.13 on arm64, the workspace's query URL in `AMP_QUERY_URL`, in the app subnets,
  20 s timeout, 5 reserved concurrent executions; no function URL and no resource policy, so only
  principals of this account allowed `lambda:InvokeFunction` on it (console users opening the dashboard)
  run it.

Lambda in a VPC and the permissions it needs: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses").
Querying a workspace: https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-onboard-query.html
(`aps:QueryMetrics`). Custom widgets call the function with the viewer's own credentials:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/add_custom_widget_dashboard_about.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import iam as aws_iam
from pulumi_aws import lambda_ as aws_lambda
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.keys import aws_key, log_key_policy
from triplane.components.naming import physical_name
from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.observability import amp_chart
from triplane.components.observability.aws_prometheus import workspace_arn
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

RUNTIME = "python3.13"
HANDLER = "amp_chart.handler"
QUERY_ACTION = "aps:QueryMetrics"
TIMEOUT_SECONDS = 20
RESERVED_CONCURRENCY = 5
MEMORY_MB = 256
ENI_ACTIONS = ("ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
ENI_DESCRIBE = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def query_url(region: str, workspace_id: str) -> str:
    """The workspace's range-query URL (the Prometheus-compatible API behind `aps-workspaces`)."""
    return f"https://aps-workspaces.{region}.amazonaws.com/workspaces/{workspace_id}/api/v1/query_range"


def log_group_name(function_name: str) -> str:
    """Where Lambda writes a function's logs by default."""
    return f"/aws/lambda/{function_name}"


def function_policy(
    *,
    workspace: str,
    region: str,
    account: str,
    vpc_id: str,
    subnet_ids: Sequence[str],
    security_group_id: str,
    log_group_arn: str,
    partition: str = "aws",
) -> str:
    """The function's only grants: query its workspace, the network interfaces Lambda manages for it in
    its VPC, and its own log streams."""
    ec2 = f"arn:{partition}:ec2:{region}:{account}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "QueryTheWorkspace", "Effect": "Allow", "Action": QUERY_ACTION, "Resource": workspace},
                {
                    "Sid": "CreateInterfacesInItsSubnets",
                    "Effect": "Allow",
                    "Action": "ec2:CreateNetworkInterface",
                    "Resource": [
                        f"{ec2}:network-interface/*",
                        *(f"{ec2}:subnet/{s}" for s in subnet_ids),
                        f"{ec2}:security-group/{security_group_id}",
                    ],
                },
                {
                    "Sid": "ManageInterfacesInItsVpc",
                    "Effect": "Allow",
                    "Action": list(ENI_ACTIONS),
                    "Resource": f"{ec2}:network-interface/*",
                    "Condition": {"ArnEquals": {"ec2:Vpc": f"{ec2}:vpc/{vpc_id}"}},
                },
                # Describe calls take no resource ARN: IAM accepts only "*" for them.
                {"Sid": "DescribeInterfaces", "Effect": "Allow", "Action": list(ENI_DESCRIBE), "Resource": "*"},
                {
                    "Sid": "WriteItsLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group_arn}:*",
                },
            ],
        }
    )


def handler_source() -> str:
    """The handler module's text, shipped as the function's code."""
    return Path(amp_chart.__file__).read_text(encoding="utf-8")


@dataclass(frozen=True)
class AwsPrometheusChartsArgs:
    prefix: str
    """Names the function, its role, key and log group (e.g. `<stack>-<cluster>`)."""
    region: str
    """The workspace's region: the function runs and signs there."""
    workspace_id: pulumi.Input[str]
    """`AwsManagedPrometheus.workspace_id` (or the platform's, by the contract)."""
    network: AwsNetworkRef
    """The cluster's VPC: the function runs in its app subnets, where the `aps-workspaces` endpoint is."""
    endpoints: AwsInterfaceEndpoints | None = None
    """The VPC's endpoints when this stack holds them: their security group admits the function's."""
    log_retention_days: int = 365
    tags: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False
    """Protect the log key and the log group with the logs they hold."""


class AwsPrometheusCharts(pulumi.ComponentResource):
    """A function in the cluster's VPC that charts its managed Prometheus series for CloudWatch custom widgets."""

    function_arn: pulumi.Output[str]
    function_name: pulumi.Output[str]

    def __init__(self, name: str, args: AwsPrometheusChartsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:observability:AwsPrometheusCharts", name, None, tagged(opts, args.tags))
        if args.log_retention_days <= 0:
            raise ValueError(f"{name}: log_retention_days must be positive (days the function's logs are kept)")
        network = args.network
        if not network.app_subnet_ids:
            raise ValueError(f"{name}: the network has no app subnets to run the chart function in")
        child = pulumi.ResourceOptions(parent=self)
        region = args.region
        account = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        function_name = physical_name(args.prefix, "prometheus-charts")
        logs = log_group_name(function_name)
        key = aws_key(
            f"{name}-key",
            parent=self,
            description=f"Logs of the managed Prometheus chart function ({args.prefix})",
            policy=account.apply(lambda a: log_key_policy(a, region, [logs], logs_sid="ChartFunctionLogs")),
            protect=args.protect,
            alias=physical_name(args.prefix, "prometheus-charts", kind="kms_alias"),
        )
        log_group = aws_cloudwatch.LogGroup(
            f"{name}-logs",
            name=logs,
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn,
            opts=stateful_opts(self, args.protect),
        )
        vpc_cidr: pulumi.Input[str] = (
            network.cidr
            if network.cidr is not None
            else aws_ec2.get_vpc_output(id=network.vpc_id, opts=pulumi.InvokeOutputOptions(parent=self)).cidr_block
        )
        group_name = physical_name(args.prefix, "prometheus-charts")
        self.security_group = aws_ec2.SecurityGroup(
            f"{name}-sg",
            name=group_name,
            description="The managed Prometheus chart function: HTTPS to the VPC's aps-workspaces endpoint only",
            vpc_id=network.vpc_id,
            ingress=[],
            egress=[
                {
                    "description": "HTTPS to the VPC (the aps-workspaces interface endpoint)",
                    "protocol": "tcp",
                    "from_port": 443,
                    "to_port": 443,
                    "cidr_blocks": [vpc_cidr],
                }
            ],
            tags={"Name": group_name},
            opts=child,
        )
        if args.endpoints is not None:
            args.endpoints.allow_security_group(
                f"{args.prefix}-prometheus-charts",
                self.security_group.id,
                "HTTPS from the managed Prometheus chart function",
            )
        role = aws_iam.Role(
            f"{name}-role",
            name=physical_name(args.prefix, "prometheus-charts", kind="iam_role"),
            description="The managed Prometheus chart function: query the cluster's workspace, nothing else",
            assume_role_policy=LAMBDA_TRUST,
            max_session_duration=3600,
            opts=child,
        )
        grant = aws_iam.RolePolicy(
            f"{name}-grants",
            role=role.id,
            policy=pulumi.Output.all(
                account,
                args.workspace_id,
                network.vpc_id,
                pulumi.Output.all(*network.app_subnet_ids),
                self.security_group.id,
            ).apply(
                lambda v: function_policy(
                    workspace=workspace_arn(region, v[0], v[1]),
                    region=region,
                    account=v[0],
                    vpc_id=v[2],
                    subnet_ids=v[3],
                    security_group_id=v[4],
                    log_group_arn=f"arn:aws:logs:{region}:{v[0]}:log-group:{logs}",
                )
            ),
            opts=child,
        )
        function = aws_lambda.Function(
            f"{name}-function",
            name=function_name,
            description="Draws the cluster's managed Prometheus series for the CloudWatch dashboard",
            runtime=RUNTIME,
            architectures=["arm64"],
            handler=HANDLER,
            code=pulumi.AssetArchive({"amp_chart.py": pulumi.StringAsset(handler_source())}),
            role=role.arn,
            timeout=TIMEOUT_SECONDS,
            memory_size=MEMORY_MB,
            reserved_concurrent_executions=RESERVED_CONCURRENCY,
            environment={
                "variables": {
                    amp_chart.QUERY_URL_VARIABLE: pulumi.Output.from_input(args.workspace_id).apply(
                        lambda workspace: query_url(region, workspace)
                    )
                }
            },
            vpc_config={"subnet_ids": list(network.app_subnet_ids), "security_group_ids": [self.security_group.id]},
            logging_config={"log_format": "Text", "log_group": log_group.name},
            # The grants first: Lambda creates the function's network interfaces as its role.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[grant, log_group]),
        )
        self.function_arn = function.arn
        self.function_name = function.name
        self.register_outputs({"function_arn": self.function_arn})


__all__ = [
    "AwsPrometheusCharts",
    "AwsPrometheusChartsArgs",
    "function_policy",
    "query_url",
]

