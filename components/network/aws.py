"""AwsNetwork: a private VPC for an environment's AWS workloads.

Creates: a VPC with DNS support and hostnames (interface endpoints' private DNS needs both);
one private app subnet and route table per zone (no route to the internet: egress is added only by
the SaaS egress firewall); the default security group stripped of every rule; VPC flow logs to a
KMS-encrypted CloudWatch log group, delivered by a role that can write only there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import iam as aws_iam
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.keys import aws_key, log_key_policy
from triplane.components.network import layout
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged


@dataclass
class AwsNetworkArgs:
    region: str
    cidr: str
    zones: Sequence[str]
    tags: dict[str, str] = field(default_factory=dict)
    flow_log_retention_days: int = 365
    protect_data: bool = False


class AwsNetwork(pulumi.ComponentResource):
    ref: AwsNetworkRef
    vpc_id: pulumi.Output[str]
    flow_log_group: pulumi.Output[str]

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:network:AwsNetwork", name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        data = stateful_opts(self, args.protect_data)

        vpc = aws_ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
            opts=child,
        )
        aws_ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], tags={"Name": f"{name}-default"},
            opts=child,
        )
        subnet_ids: list[pulumi.Output[str]] = []
        route_table_ids: list[pulumi.Output[str]] = []
        for index, zone in enumerate(args.zones):
            subnet = aws_ec2.Subnet(
                f"{name}-app-{zone}",
                vpc_id=vpc.id,
                cidr_block=layout.block(args.cidr, layout.AWS_APP + index),
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-app-{zone}", "kubernetes.io/role/internal-elb": "1"},
                opts=child,
            )
            table = aws_ec2.RouteTable(
                f"{name}-app-{zone}-rt", vpc_id=vpc.id, tags={"Name": f"{name}-app-{zone}"}, opts=child
            )
            aws_ec2.RouteTableAssociation(
                f"{name}-app-{zone}-rta", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            subnet_ids.append(subnet.id)
            route_table_ids.append(table.id)

        identity = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        log_group_name = f"/triplane/{name}/vpc-flow-logs"
        key = aws_key(
            f"{name}-logs-key",
            parent=self,
            description=f"Encrypts the VPC flow logs of {name}",
            policy=identity.account_id.apply(
                lambda account: log_key_policy(
                    account, args.region, [log_group_name], logs_sid="CloudWatchLogsForThisLogGroup"
                )
            ),
            protect=args.protect_data,
        )
        log_group = aws_cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=log_group_name,
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=key.arn,
            opts=data,
        )
        role = aws_iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=identity.account_id.apply(
                lambda account: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws_iam.RolePolicy(
            f"{name}-flow-logs-write",
            role=role.id,
            policy=log_group.arn.apply(lambda arn: json.dumps(_flow_log_write_policy(arn))),
            opts=child,
        )
        aws_ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=child,
        )

        self.vpc_id = vpc.id
        self.flow_log_group = log_group.name
        self.ref = AwsNetworkRef(
            region=args.region,
            vpc_id=vpc.id,
            app_subnet_ids=subnet_ids,
            application_cidrs=[layout.block(args.cidr, layout.AWS_APP + i) for i in range(len(args.zones))],
            private_route_table_ids=route_table_ids,
            zones=list(args.zones),
            cidr=args.cidr,
        )
        self.register_outputs({"vpc_id": vpc.id, "flow_log_group": log_group.name})




def _flow_log_write_policy(log_group_arn: str) -> dict[str, object]:
    """Create streams in, and write events to, this one log group (`<arn>:*` is the form IAM matches)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": f"{log_group_arn}:*",
            },
        ],
    }
