"""EcrPullThroughCache: the AWS account's private cache of the public registries Triplane pulls from.

Nodes in a VPC without internet reach ECR over its `ecr.api` / `ecr.dkr` interface endpoints and S3
gateway endpoint (created by `EksCluster`); ECR itself fetches from upstream. Creates: a KMS key
(rotation on) for the upstream credentials and the cached repositories; one pull-through cache rule
per upstream (registry.k8s.io, Quay, ECR Public, Docker Hub, GitHub Container Registry), the last two
with their credentials in Secrets Manager under `ecr-pullthroughcache/` (the only prefix ECR's
service-linked role may read); per upstream a repository creation template (KMS encryption with the
key, untagged images expired) and the role ECR uses to apply it. `grant_pull` lets a node role fill
the cache. ECR cannot front nvcr.io: those images stay upstream (see `images.PullThroughCache`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ecr as aws_ecr
from pulumi_aws import iam as aws_iam
from pulumi_aws import secretsmanager as aws_secretsmanager
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.images import PullThroughCache
from triplane.components.keys import aws_key, aws_key_policy
from triplane.components.naming import physical_name
from triplane.components.stateful import stateful_opts
from triplane.components.tagging import tagged

UPSTREAMS: dict[str, tuple[str, str]] = {
    "registry.k8s.io": ("k8s", "registry.k8s.io"),
    "quay.io": ("quay", "quay.io"),
    "public.ecr.aws": ("ecrpublic", "public.ecr.aws"),
    "docker.io": ("dockerhub", "registry-1.docker.io"),
    "ghcr.io": ("ghcr", "ghcr.io"),
}
"""Upstream host -> (the upstream's short name, upstream registry URL ECR expects). A rule's prefix is
`<environment>-<short name>`: prefixes are unique per account and region, which environments share."""
NEEDS_CREDENTIALS = ("docker.io", "ghcr.io")
"""ECR accepts rules for these upstreams only with credentials."""
SECRET_PREFIX = "ecr-pullthroughcache/"
UNTAGGED_DAYS = 14


@dataclass
class EcrPullThroughCacheArgs:
    region: str
    environment: str
    """Starts every repository prefix (at most 20 characters, so a prefix fits ECR's 30)."""
    credentials: Mapping[str, pulumi.Input[str]]
    """Upstream host (docker.io, ghcr.io) -> secret JSON `{"username": ..., "accessToken": ...}`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False


def lifecycle_policy() -> str:
    """Untagged images (a re-pulled tag's previous content) expire; pinned versions stay cached."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images after {UNTAGGED_DAYS} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": UNTAGGED_DAYS,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


def key_policy(account: str, region: str) -> str:
    """Administrators manage the key; ECR's pull-through service-linked role decrypts the credentials.

    The role may not exist yet when the key is created (ECR makes it with the first rule), and a key
    policy naming a missing role is rejected: it is matched by `aws:PrincipalArn` instead.
    """
    service_role = (
        f"arn:aws:iam::{account}:role/aws-service-role/pullthroughcache.ecr.amazonaws.com/"
        "AWSServiceRoleForECRPullThroughCache"
    )
    return aws_key_policy(
        account,
        [
            {
                "Sid": "PullThroughCacheReadsCredentials",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "aws:PrincipalArn": service_role,
                        "kms:CallerAccount": account,
                        "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                    }
                },
            },
        ],
    )


def _ecr_trust(account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecr.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            ],
        }
    )


def prefixes(environment: str) -> dict[str, str]:
    """Upstream host -> this environment's ECR repository prefix for it."""
    return {host: f"{environment}-{short}" for host, (short, _) in UPSTREAMS.items()}


def repository_arns(account: str, region: str, environment: str) -> list[str]:
    return [f"arn:aws:ecr:{region}:{account}:repository/{prefix}/*" for prefix in prefixes(environment).values()]


def template_role_policy(account: str, region: str, environment: str, key_arn: str) -> str:
    """What ECR needs to create a cached repository from a template with a KMS key."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "CreateCachedRepositories",
                    "Effect": "Allow",
                    "Action": ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"],
                    "Resource": repository_arns(account, region, environment),
                },
                {
                    "Sid": "EncryptWithCacheKey",
                    "Effect": "Allow",
                    "Action": ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
                    "Resource": key_arn,
                },
            ],
        }
    )


def node_pull_policy(account: str, region: str, environment: str) -> str:
    """Beyond pulling (AmazonEC2ContainerRegistryPullOnly): fill the cache on a first pull, cached prefixes only."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "FillPullThroughCache",
                    "Effect": "Allow",
                    "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                    "Resource": repository_arns(account, region, environment),
                }
            ],
        }
    )


class EcrPullThroughCache(pulumi.ComponentResource):
    registry: pulumi.Output[str]
    """`<account>.dkr.ecr.<region>.amazonaws.com`."""
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: EcrPullThroughCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:imagecache:EcrPullThroughCache", name, None, tagged(opts, args.tags))
        missing = [host for host in NEEDS_CREDENTIALS if host not in args.credentials]
        if missing:
            raise ValueError(f"{name}: ECR caches {', '.join(missing)} only with credentials; pass them")
        child = pulumi.ResourceOptions(parent=self)
        data = stateful_opts(self, args.protect_data)
        tags = dict(args.tags)
        region = args.region
        account = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id

        key = aws_key(
            f"{name}-key",
            parent=self,
            description=f"Upstream registry credentials and cached images of {name}",
            policy=account.apply(lambda a: key_policy(a, region)),
            protect=args.protect_data,
        )
        template_role = aws_iam.Role(
            f"{name}-template-role",
            name=physical_name(name, "ecr-templates", kind="iam_role"),
            description=f"ECR creates the cached repositories of {name} with it",
            assume_role_policy=account.apply(_ecr_trust),
            opts=child,
        )
        template_policy = aws_iam.RolePolicy(
            f"{name}-template-policy",
            role=template_role.id,
            policy=pulumi.Output.all(account, key.arn).apply(
                lambda v: template_role_policy(v[0], region, args.environment, v[1])
            ),
            opts=child,
        )

        self.prefixes = prefixes(args.environment)
        for host, (short, upstream_url) in UPSTREAMS.items():
            prefix = self.prefixes[host]
            template = aws_ecr.RepositoryCreationTemplate(
                f"{name}-{short}-template",
                prefix=prefix,
                description=f"Repositories caching {host}",
                applied_fors=["PULL_THROUGH_CACHE"],
                custom_role_arn=template_role.arn,
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": key.arn}],
                image_tag_mutability="MUTABLE",
                lifecycle_policy=lifecycle_policy(),
                resource_tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[template_policy]),
            )
            after: list[pulumi.Resource] = [template]
            credential_arn: pulumi.Input[str] | None = None
            if host in args.credentials:
                secret = aws_secretsmanager.Secret(
                    f"{name}-{short}-credentials",
                    name=f"{SECRET_PREFIX}{physical_name(name, short)}",
                    description=f"Credentials ECR uses to pull from {host}",
                    kms_key_id=key.arn,
                    recovery_window_in_days=30 if args.protect_data else 7,
                    opts=data,
                )
                version = aws_secretsmanager.SecretVersion(
                    f"{name}-{short}-credentials-value",
                    secret_id=secret.id,
                    secret_string=pulumi.Output.secret(args.credentials[host]),
                    opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret_string"]),
                )
                after.append(version)
                credential_arn = secret.arn
            aws_ecr.PullThroughCacheRule(
                f"{name}-{short}",
                ecr_repository_prefix=prefix,
                upstream_registry_url=upstream_url,
                credential_arn=credential_arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )

        self._account = account
        self._region = region
        self._environment = args.environment
        self.kms_key_arn = key.arn
        self.registry = account.apply(lambda a: f"{a}.dkr.ecr.{region}.amazonaws.com")
        self.register_outputs({"registry": self.registry, "kms_key_arn": key.arn})

    def grant_pull(self, name: str, node_role_arn: pulumi.Input[str]) -> aws_iam.RolePolicy:
        """Let a node role fill the cache on first pull (pulling itself comes from the pull-only policy)."""
        return aws_iam.RolePolicy(
            name,
            role=pulumi.Output.from_input(node_role_arn).apply(lambda arn: arn.rsplit("/", 1)[-1]),
            policy=self._account.apply(lambda a: node_pull_policy(a, self._region, self._environment)),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def source(self) -> PullThroughCache:
        """The `ImageSource` of a cluster pulling through this cache."""
        return PullThroughCache(root=self.registry, prefixes=self.prefixes)
