"""Bedrock model invocation logging: one setting per account and region, so one of these per region.

Creates:
- a KMS key (unless `kms_key` is given) whose policy lets CloudWatch Logs use it for this log group
  only and Bedrock use it for this account and region only;
- `cloudwatch`: an encrypted log group with retention, and the delivery role Bedrock assumes
  (trusted only for this account and region) with `logs:CreateLogStream`/`PutLogEvents` on it;
- `s3`: a bucket with public access blocked, owner-enforced objects, SSE-KMS, versioning,
  expiry, and a policy that denies plain HTTP and lets only Bedrock of this account and region
  write under its prefix; large CloudWatch payloads go there too;
- the `InvocationLoggingConfiguration` itself, after the policies that make delivery possible.

Several use cases in one region share it: the stack builds it once per region with the union of
their destinations and the longest retention. It replaces any setting made outside Triplane.

The log group and the delivery role are a part (`BedrockLogDelivery`; `SubComponent`): their
resources keep the URNs they had as this component's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import bedrockmodel as aws_bedrockmodel
from pulumi_aws import cloudwatch as aws_cloudwatch
from pulumi_aws import iam as aws_iam
from pulumi_aws import s3 as aws_s3
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.cloud_managed._common import policy_json
from triplane.components.keys import account_administration, aws_key
from triplane.components.naming import physical_name
from triplane.components.stateful import stateful_opts
from triplane.components.subcomponent import SubComponent
from triplane.components.tagging import tagged

DESTINATIONS = ("cloudwatch", "s3")
S3_PREFIX = "bedrock/invocations"
LARGE_DATA_PREFIX = "bedrock/large-data"


@dataclass(frozen=True)
class BedrockInvocationLoggingArgs:
    region: str
    destinations: Sequence[str] = DESTINATIONS
    retention_days: int = 365
    kms_key: pulumi.Input[str] | None = None
    """An existing key ARN; its policy must already admit CloudWatch Logs and Bedrock."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False


class BedrockInvocationLogging(pulumi.ComponentResource):
    """Records every Bedrock request and response of the account in one region, encrypted."""

    kms_key_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str] | None
    bucket_name: pulumi.Output[str] | None
    logs: pulumi.Output[str]
    """Where the records go: the log group ARN and/or `s3://bucket/prefix/`, comma-separated."""

    def __init__(
        self, name: str, args: BedrockInvocationLoggingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("triplane:cloudmanaged:BedrockInvocationLogging", name, None, tagged(opts, args.tags))
        destinations = [d for d in DESTINATIONS if d in set(args.destinations)]
        unknown = sorted(set(args.destinations) - set(DESTINATIONS))
        if unknown or not destinations:
            raise ValueError(
                f"{name}: destinations must be one or both of {list(DESTINATIONS)}, not {list(args.destinations)}"
            )
        region = args.region
        account = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        log_group_name = f"/triplane/bedrock/{name}"
        log_group_arn = account.apply(lambda a: f"arn:aws:logs:{region}:{a}:log-group:{log_group_name}")
        bedrock_source = account.apply(lambda a: f"arn:aws:bedrock:{region}:{a}:*")

        if args.kms_key is None:
            key = aws_key(
                f"{name}-key",
                parent=self,
                description=f"Bedrock invocation logs ({name})",
                policy=_key_policy(account, region, log_group_arn, bedrock_source),
                protect=args.protect_data,
                alias=physical_name(name, "bedrock-logs", kind="kms_alias"),
            )
            kms_key_arn: pulumi.Output[str] = key.arn
        else:
            kms_key_arn = pulumi.Output.from_input(args.kms_key)

        depends: list[pulumi.Resource] = []
        cloudwatch_config: (
            aws_bedrockmodel.InvocationLoggingConfigurationLoggingConfigCloudwatchConfigArgsDict | None
        ) = None
        s3_config: aws_bedrockmodel.InvocationLoggingConfigurationLoggingConfigS3ConfigArgsDict | None = None
        log_group: aws_cloudwatch.LogGroup | None = None
        bucket_name: pulumi.Output[str] | None = None

        if "s3" in destinations:
            bucket, bucket_ready = self._bucket(name, args, account, bedrock_source, kms_key_arn)
            bucket_name = bucket.bucket
            depends += bucket_ready
            s3_config = {"bucket_name": bucket.id, "key_prefix": S3_PREFIX}

        if "cloudwatch" in destinations:
            log_group, role, log_group_ready = self._log_group(
                name, args, log_group_name, log_group_arn, account, bedrock_source, kms_key_arn
            )
            depends += log_group_ready
            cloudwatch_config = {"log_group_name": log_group.name, "role_arn": role.arn}
            if s3_config is not None:
                cloudwatch_config["large_data_delivery_s3_config"] = {
                    "bucket_name": s3_config["bucket_name"],
                    "key_prefix": LARGE_DATA_PREFIX,
                }

        logging_config: aws_bedrockmodel.InvocationLoggingConfigurationLoggingConfigArgsDict = {
            "text_data_delivery_enabled": True,
            "image_data_delivery_enabled": True,
            "embedding_data_delivery_enabled": True,
            "video_data_delivery_enabled": True,
        }
        if cloudwatch_config is not None:
            logging_config["cloudwatch_config"] = cloudwatch_config
        if s3_config is not None:
            logging_config["s3_config"] = s3_config
        self.configuration = aws_bedrockmodel.InvocationLoggingConfiguration(
            f"{name}-configuration",
            logging_config=logging_config,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

        places: list[pulumi.Output[str]] = []
        if log_group is not None:
            places.append(log_group_arn)
        if bucket_name is not None:
            places.append(bucket_name.apply(lambda b: f"s3://{b}/{S3_PREFIX}/"))
        self.kms_key_arn = kms_key_arn
        self.log_group_name = log_group.name if log_group is not None else None
        self.bucket_name = bucket_name
        self.logs = pulumi.Output.all(self.configuration.id, *places).apply(lambda values: ", ".join(values[1:]))
        self.register_outputs({"kms_key_arn": self.kms_key_arn, "logs": self.logs})

    def _bucket(
        self,
        name: str,
        args: BedrockInvocationLoggingArgs,
        account: pulumi.Output[str],
        bedrock_source: pulumi.Output[str],
        kms_key_arn: pulumi.Output[str],
    ) -> tuple[aws_s3.Bucket, list[pulumi.Resource]]:
        """The log bucket (owner-enforced, private, SSE-KMS, versioned, expiring, HTTPS only, Bedrock of
        this account and region writing under `bedrock/`) and what delivery to it waits for."""
        stateful = stateful_opts(self, args.protect_data)
        bucket = aws_s3.Bucket(
            f"{name}-bucket",
            bucket=account.apply(lambda a: physical_name(name, "bedrock-logs", a, kind="s3_bucket")),
            opts=stateful,
        )
        bucket_arn = bucket.bucket.apply(lambda b: f"arn:aws:s3:::{b}")
        child = pulumi.ResourceOptions(parent=self)
        ownership = aws_s3.BucketOwnershipControls(
            f"{name}-bucket-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        public = aws_s3.BucketPublicAccessBlock(
            f"{name}-bucket-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        encryption = aws_s3.BucketServerSideEncryptionConfiguration(
            f"{name}-bucket-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        aws_s3.BucketVersioning(
            f"{name}-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws_s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-invocation-logs",
                    "status": "Enabled",
                    "filter": {"prefix": "bedrock/"},
                    "expiration": {"days": args.retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 30},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=child,
        )
        bucket_policy = aws_s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=bucket.id,
            policy=_bucket_policy(bucket_arn, account, bedrock_source),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public, ownership]),
        )
        return bucket, [bucket_policy, encryption]

    def _log_group(
        self,
        name: str,
        args: BedrockInvocationLoggingArgs,
        log_group_name: str,
        log_group_arn: pulumi.Output[str],
        account: pulumi.Output[str],
        bedrock_source: pulumi.Output[str],
        kms_key_arn: pulumi.Output[str],
    ) -> tuple[aws_cloudwatch.LogGroup, aws_iam.Role, list[pulumi.Resource]]:
        """The encrypted log group, the delivery role Bedrock of this account and region assumes, and
        what delivery waits for."""
        part = SubComponent("triplane:cloudmanaged:BedrockLogDelivery", f"{name}-log-delivery", self)
        stateful = stateful_opts(part, args.protect_data)
        log_group = aws_cloudwatch.LogGroup(
            f"{name}-log-group",
            name=log_group_name,
            retention_in_days=args.retention_days,
            kms_key_id=kms_key_arn,
            opts=stateful,
        )
        role = aws_iam.Role(
            f"{name}-delivery-role",
            name=physical_name(name, "bedrock-logs", kind="iam_role"),
            description="Bedrock delivers model invocation logs to CloudWatch Logs",
            assume_role_policy=policy_json(
                [
                    {
                        "Sid": "BedrockOfThisAccountAndRegion",
                        "Effect": "Allow",
                        "Principal": {"Service": "bedrock.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": account},
                            "ArnLike": {"aws:SourceArn": bedrock_source},
                        },
                    }
                ]
            ),
            opts=pulumi.ResourceOptions(parent=part),
        )
        role_policy = aws_iam.RolePolicy(
            f"{name}-delivery-policy",
            role=role.id,
            policy=policy_json(
                [
                    {
                        "Sid": "WriteInvocationLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": log_group_arn.apply(lambda a: f"{a}:log-stream:*"),
                    }
                ]
            ),
            opts=pulumi.ResourceOptions(parent=part),
        )
        part.register_outputs({})
        return log_group, role, [role_policy, log_group]


def _key_policy(
    account: pulumi.Output[str], region: str, log_group_arn: pulumi.Output[str], bedrock_source: pulumi.Output[str]
) -> pulumi.Output[str]:
    """CloudWatch Logs may use the key for this log group only; Bedrock of this account and region
    may make data keys for the log objects."""
    return policy_json(
        [
            account.apply(account_administration),
            {
                "Sid": "LogsUseForThisLogGroup",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
            },
            {
                "Sid": "LogsDescribe",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
            {
                "Sid": "BedrockWritesLogObjects",
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": "kms:GenerateDataKey",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": bedrock_source},
                },
            },
        ]
    )


def _bucket_policy(
    bucket_arn: pulumi.Output[str], account: pulumi.Output[str], bedrock_source: pulumi.Output[str]
) -> pulumi.Output[str]:
    """HTTPS only; Bedrock of this account and region alone writes, under `bedrock/`."""
    return policy_json(
        [
            {
                "Sid": "DenyPlainHttp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, bucket_arn.apply(lambda a: f"{a}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "BedrockDeliversLogs",
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": bucket_arn.apply(lambda a: f"{a}/bedrock/*"),
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": bedrock_source},
                },
            },
        ]
    )
