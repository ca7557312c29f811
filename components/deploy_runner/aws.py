"""AwsDeployRunner: a GitHub Actions runner on a private EC2 instance, the way in to a private EKS API.

One instance in an app subnet of the environment VPC, with:

- no public address and a security group with no inbound rule at all; administrators reach it
  through Session Manager (the `ssm`, `ssmmessages` and `ec2messages` interface endpoints), never SSH;
- an instance role that may do three things: be managed by Session Manager, read the one secret
  holding the GitHub token, and decrypt it through Secrets Manager. Deploys themselves run as the
  workflow's own OIDC role (`deployer.principal`), never as the instance;
- the GitHub token in a Secrets Manager secret encrypted with the runner's customer-managed key,
  readable by the instance role (and the deployer, whose provider reads the version back) alone;
- the root volume encrypted with the same key, IMDSv2 required with a hop limit of one (containers
  on the host cannot reach the instance's credentials);
- egress on 443 only, which the VPC routes through the environment's egress firewall.

The AMI is the latest Amazon Linux 2023 when the instance is created; later AMI releases do not
replace it (`ignore_changes`), because a deploy running on the runner must never replace the machine
it runs on. The OS patches itself through `dnf` (repositories on S3, through the VPC's S3 gateway).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2 as aws_ec2
from pulumi_aws import iam as aws_iam
from pulumi_aws import secretsmanager as aws_secretsmanager
from pulumi_aws import ssm as aws_ssm
from pulumi_aws import vpc as aws_vpc
from pulumi_aws.get_caller_identity import get_caller_identity_output
from pulumi_aws.get_partition import get_partition_output

from triplane.components.deploy_runner.github import RunnerRegistration, install_script
from triplane.components.keys import aws_key
from triplane.components.naming import physical_name
from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.saas.secret_store import secret_key_policy, secret_reader_policy, secret_resource_policy
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged
from triplane.policies.runner_hosts import AWS_RUNNER_COMPONENT

DEFAULT_INSTANCE_TYPE = "t3.large"
"""Two vCPUs and 8 GiB: `pulumi up` with the cloud providers wants the memory."""

AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
"""The public SSM parameter AWS keeps pointing at the latest Amazon Linux 2023 AMI."""

SESSION_MANAGER_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages")
"""Interface endpoints Session Manager needs in a VPC with no path to the public AWS endpoints."""

RUNNER_ENDPOINTS = (*SESSION_MANAGER_ENDPOINTS, "secretsmanager", "sts")
"""Every AWS API the runner machine and its jobs call: Session Manager, the token, OIDC role sessions."""

AL2023_PACKAGES = "dnf install -y --setopt=install_weak_deps=False krb5-libs zlib libicu openssl-libs git-core"
"""The runner's native dependencies and git, by their Amazon Linux 2023 names."""


@dataclass(frozen=True)
class AwsDeployRunnerArgs:
    network: AwsNetworkRef
    registration: RunnerRegistration
    github_token: pulumi.Input[str]
    """The GitHub token that may create runner registration tokens: a secret Output."""
    interface_endpoints: AwsInterfaceEndpoints | None
    """The VPC's endpoint registry; None when the VPC already has the endpoints (`service_endpoints`)."""
    instance_type: str = DEFAULT_INSTANCE_TYPE
    volume_size_gb: int = 40
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False


class AwsDeployRunner(pulumi.ComponentResource):
    """A runner inside the VPC, with no inbound path and an identity limited to its own token."""

    security_group_id: pulumi.Output[str]
    """The runner's security group: the source the EKS cluster security group admits on 443."""
    role_arn: pulumi.Output[str]
    instance_id: pulumi.Output[str]
    secret_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AwsDeployRunnerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(AWS_RUNNER_COMPONENT, name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        network = args.network
        identity = get_caller_identity_output(opts=invoke)
        partition = get_partition_output(opts=invoke).partition
        deployer = aws_iam.get_session_context_output(arn=identity.arn, opts=invoke).issuer_arn

        role = aws_iam.Role(
            f"{name}-instance",
            name=physical_name(name, "runner", kind="iam_role"),
            description=f"The deploy runner {name}: Session Manager and its GitHub token, nothing else",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            max_session_duration=3600,
            opts=child,
        )
        aws_iam.RolePolicyAttachment(
            f"{name}-session-manager",
            role=role.name,
            policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/AmazonSSMManagedInstanceCore"),
            opts=child,
        )
        key = aws_key(
            f"{name}-key",
            parent=self,
            description=f"Encrypts the deploy runner {name}'s GitHub token and disk",
            policy=pulumi.Output.all(partition, identity.account_id, role.arn).apply(
                lambda v: secret_key_policy(v[0], v[1], network.region, v[2])
            ),
            protect=args.protect_data,
            alias=physical_name(name, "runner", kind="kms_alias"),
        )
        secret = aws_secretsmanager.Secret(
            f"{name}-github-token",
            name=physical_name(name, "github-token"),
            description=f"GitHub token the deploy runner {name} registers itself with",
            kms_key_id=key.arn,
            recovery_window_in_days=7,
            opts=stateful_opts(self, args.protect_data),
        )
        aws_secretsmanager.SecretVersion(
            f"{name}-github-token-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(args.github_token),
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret_string"]),
        )
        aws_secretsmanager.SecretPolicy(
            f"{name}-github-token-policy",
            secret_arn=secret.arn,
            block_public_policy=True,
            policy=pulumi.Output.all(role.arn, deployer).apply(
                lambda v: json.dumps(secret_resource_policy(v[0], v[1]))
            ),
            opts=child,
        )
        aws_iam.RolePolicy(
            f"{name}-read-token",
            role=role.id,
            policy=pulumi.Output.all(secret.arn, key.arn).apply(
                lambda v: json.dumps(secret_reader_policy(v[0], v[1], network.region))
            ),
            opts=child,
        )
        profile = aws_iam.InstanceProfile(
            f"{name}-profile", name=physical_name(name, "runner", kind="iam_role"), role=role.name, opts=child
        )

        group = aws_ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=network.vpc_id,
            description=f"Deploy runner {name}: no inbound; HTTPS out through the egress firewall",
            opts=child,
        )
        aws_vpc.SecurityGroupEgressRule(
            f"{name}-https-out",
            security_group_id=group.id,
            description="HTTPS to GitHub, the AWS endpoints and the cluster API (filtered by the egress firewall)",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )
        if args.interface_endpoints is not None:
            for service in RUNNER_ENDPOINTS:
                args.interface_endpoints.endpoint(service)

        ami = aws_ssm.get_parameter_output(name=AL2023_AMI_PARAMETER, opts=invoke).value
        script = secret.arn.apply(
            lambda arn: install_script(
                args.registration,
                f"aws secretsmanager get-secret-value --region {network.region} --secret-id {arn} \\\n"
                "  --query SecretString --output text | sed 's/^/Authorization: Bearer /'",
                AL2023_PACKAGES,
            )
        )
        instance = aws_ec2.Instance(
            f"{name}-instance",
            ami=ami,
            instance_type=args.instance_type,
            subnet_id=network.app_subnet_ids[0],
            vpc_security_group_ids=[group.id],
            associate_public_ip_address=False,
            iam_instance_profile=profile.name,
            metadata_options={"http_tokens": "required", "http_endpoint": "enabled", "http_put_response_hop_limit": 1},
            root_block_device={
                "encrypted": True,
                "kms_key_id": key.arn,
                "volume_size": args.volume_size_gb,
                "volume_type": "gp3",
                "delete_on_termination": True,
            },
            monitoring=True,
            user_data=script,
            user_data_replace_on_change=True,
            tags={"Name": physical_name(name, "runner")},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["ami"]),
        )
        self.security_group_id = group.id
        self.role_arn = role.arn
        self.instance_id = instance.id
        self.secret_arn = secret.arn
        self.register_outputs(
            {"securityGroupId": group.id, "roleArn": role.arn, "instanceId": instance.id, "secretArn": secret.arn}
        )


__all__ = [
    "AL2023_AMI_PARAMETER",
    "DEFAULT_INSTANCE_TYPE",
    "RUNNER_ENDPOINTS",
    "AwsDeployRunner",
    "AwsDeployRunnerArgs",
]

