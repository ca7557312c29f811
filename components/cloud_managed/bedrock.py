"""`BedrockEndpoint`: one use case's private, least-privilege access to Amazon Bedrock models.

Creates:
- the private network path (a `BedrockPrivateLink`) unless a shared one is passed in;
- model invocation logging (a `BedrockInvocationLogging`) unless a shared one is passed in;
- optionally a guardrail (content, prompt-attack, topic, word and PII filters) encrypted with a
  KMS key, and a published version of it;
- an IAM managed policy with exactly `bedrock:InvokeModel` and `InvokeModelWithResponseStream` on
  the use case's model ARNs (built from region and account), which, with a guardrail, only allows
  requests that name that guardrail version (`bedrock:GuardrailIdentifier`) and denies all others.

`grant_invoke(principal_arn)` attaches that policy to an IAM role or user of this account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import bedrock as aws_bedrock
from pulumi_aws import iam as aws_iam
from pulumi_aws.get_caller_identity import get_caller_identity_output

from triplane.components.cloud_managed._common import (
    BEDROCK_INVOKE_ACTIONS,
    bedrock_model_resources,
    iam_name_from_arn,
    policy_json,
    routed_condition,
)
from triplane.components.cloud_managed.bedrock_logging import BedrockInvocationLogging, BedrockInvocationLoggingArgs
from triplane.components.cloud_managed.bedrock_private_link import (
    RUNTIME,
    BedrockAccess,
    BedrockPrivateLink,
    BedrockPrivateLinkArgs,
)
from triplane.components.keys import account_administration, aws_key
from triplane.components.naming import physical_name
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.references import BedrockLoggingReference, BedrockPrivateLinkReference
from triplane.components.tagging import tagged

CONTENT_FILTERS = ("SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT")


@dataclass(frozen=True)
class DeniedTopic:
    name: str
    definition: str
    examples: Sequence[str] = ()


@dataclass(frozen=True)
class BedrockGuardrailArgs:
    content_filter_strength: str = "HIGH"
    """LOW, MEDIUM or HIGH for sexual, violence, hate, insults and misconduct, on input and output."""
    prompt_attack_strength: str = "HIGH"
    denied_topics: Sequence[DeniedTopic] = ()
    blocked_words: Sequence[str] = ()
    profanity_filter: bool = True
    pii_entities: Mapping[str, str] = field(default_factory=dict)
    """PII entity type (EMAIL, US_SOCIAL_SECURITY_NUMBER, ...) -> BLOCK or ANONYMIZE."""
    blocked_input_message: str = "This request was blocked by the organisation's content policy."
    blocked_output_message: str = "The response was blocked by the organisation's content policy."


@dataclass(frozen=True)
class BedrockEndpointArgs:
    network: AwsNetworkRef
    models: Sequence[str]
    """Bedrock model IDs (`anthropic.claude-3-haiku-20240307-v1:0`) or inference profiles (`us.anthropic...`)."""
    allowed_principals: Sequence[str] = ()
    """IAM role/user ARNs the endpoint policy admits; empty admits this account's principals."""
    kms_key: pulumi.Input[str] | None = None
    """Key ARN for the guardrail (and for logging this component creates itself); else a CMK is created."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    guardrail: BedrockGuardrailArgs | None = None
    services: Sequence[str] = ()
    """More endpoints besides bedrock-runtime: `bedrock`, `bedrock-agent`, `bedrock-agent-runtime`."""
    allowed_security_group_ids: Sequence[pulumi.Input[str]] = ()
    private_link: BedrockPrivateLink | BedrockPrivateLinkReference | None = None
    """A VPC's shared endpoints (AWS allows one private-DNS endpoint per service and VPC)."""
    invocation_logging: BedrockInvocationLogging | BedrockLoggingReference | None = None
    """The region's shared logging (one setting per account and region)."""
    logging_destinations: Sequence[str] = ("cloudwatch", "s3")
    """For logging created here (no `invocation_logging`); empty turns it off (an explicit choice)."""


class BedrockEndpoint(pulumi.ComponentResource):
    """Private Bedrock access for one use case: endpoint path, guardrail, invoke policy, logging."""

    url: pulumi.Output[str]
    invoke_policy_arn: pulumi.Output[str]
    guardrail_identifier: pulumi.Output[str] | None
    """`<guardrail ARN>:<version>`: what callers pass as the guardrail and what the policy requires."""
    logs: pulumi.Output[str] | None
    """Where invocations are recorded; None only when logging was explicitly turned off."""

    def __init__(self, name: str, args: BedrockEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:cloudmanaged:BedrockEndpoint", name, None, tagged(opts, args.tags))
        if not args.models:
            raise ValueError(f"{name}: list at least one model")
        self._name = name
        self._allowed = {str(p) for p in args.allowed_principals}
        self._grants: dict[str, pulumi.Resource] = {}
        region = args.network.region
        account = get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id

        private_link = args.private_link or BedrockPrivateLink(
            f"{name}-privatelink",
            BedrockPrivateLinkArgs(
                network=args.network,
                access=[BedrockAccess(args.models, args.allowed_principals, guardrail=args.guardrail is not None)],
                services=[RUNTIME, *args.services],
                allowed_security_group_ids=args.allowed_security_group_ids,
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        logging = args.invocation_logging
        if logging is None and args.logging_destinations:
            logging = BedrockInvocationLogging(
                f"{name}-logging",
                BedrockInvocationLoggingArgs(
                    region=region,
                    destinations=args.logging_destinations,
                    kms_key=args.kms_key,
                    tags=args.tags,
                    protect_data=args.protect_data,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        guardrail_identifier: pulumi.Output[str] | None = None
        guardrail_arn: pulumi.Output[str] | None = None
        key_arn: pulumi.Output[str] | None = None
        if args.guardrail is not None:
            key_arn, guardrail_arn, guardrail_identifier = self._guardrail(name, args, args.guardrail, account)

        statements = pulumi.Output.all(account, guardrail_arn, guardrail_identifier, key_arn).apply(
            lambda v: _invoke_statements(region, v[0], list(args.models), v[1], v[2], v[3])
        )
        self.invoke_policy = aws_iam.Policy(
            f"{name}-invoke",
            name=physical_name(name, "bedrock-invoke", kind="iam_role"),
            description=f"Invoke the Bedrock models of {name}, and nothing else",
            policy=policy_json(statements),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.url = private_link.runtime_url
        self.invoke_policy_arn = self.invoke_policy.arn
        self.guardrail_identifier = guardrail_identifier
        self.logs = logging.logs if logging is not None else None
        outputs: dict[str, Any] = {"url": self.url, "invoke_policy_arn": self.invoke_policy_arn}
        if self.logs is not None:
            outputs["logs"] = self.logs
        if guardrail_identifier is not None:
            outputs["guardrail_identifier"] = guardrail_identifier
        self.register_outputs(outputs)

    def _guardrail(
        self, name: str, args: BedrockEndpointArgs, guardrail_args: BedrockGuardrailArgs, account: pulumi.Output[str]
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
        """The guardrail under the given key (or a new one) and its published version. Returns the key's
        ARN, the guardrail's ARN and the identifier (ARN and version) the invoke policy requires."""
        if args.kms_key is None:
            key = aws_key(
                f"{name}-guardrail-key",
                parent=self,
                description=f"Bedrock guardrail ({name})",
                # The account administers the key; IAM policies (the invoke policy below) decide use.
                policy=policy_json([account.apply(account_administration)]),
                protect=args.protect_data,
            )
            key_arn = key.arn
        else:
            key_arn = pulumi.Output.from_input(args.kms_key)
        guardrail = aws_bedrock.Guardrail(
            f"{name}-guardrail",
            name=physical_name(name, "guardrail", kind="bedrock_guardrail"),
            description=f"Content, prompt-attack, topic, word and PII filters for {name}",
            blocked_input_messaging=guardrail_args.blocked_input_message,
            blocked_outputs_messaging=guardrail_args.blocked_output_message,
            kms_key_arn=key_arn,
            **_guardrail_policies(guardrail_args),
            opts=pulumi.ResourceOptions(parent=self),
        )
        version = aws_bedrock.GuardrailVersion(
            f"{name}-guardrail-version",
            guardrail_arn=guardrail.guardrail_arn,
            description="Published by Triplane; the invoke policy requires this version",
            skip_destroy=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key_arn, guardrail.guardrail_arn, pulumi.Output.concat(guardrail.guardrail_arn, ":", version.version)

    def grant_invoke(self, principal_arn: str) -> pulumi.Resource:
        """Attach the invoke policy to an IAM role or user (of this account) named by its ARN.

        The endpoint policy admits only `allowed_principals` (when any are listed), so granting
        anyone else would give a permission the network path then refuses: that is an error.
        """
        if self._allowed and principal_arn not in self._allowed:
            raise ValueError(
                f"{self._name}: {principal_arn} is not in allowed_principals, so the endpoint policy "
                "would refuse its requests; add it to allowed_principals"
            )
        if principal_arn in self._grants:
            return self._grants[principal_arn]
        kind, iam_name = iam_name_from_arn(principal_arn)
        resource_name = f"{self._name}-grant-{kind}-{iam_name}"
        opts = pulumi.ResourceOptions(parent=self)
        grant: pulumi.Resource
        if kind == "role":
            grant = aws_iam.RolePolicyAttachment(
                resource_name, role=iam_name, policy_arn=self.invoke_policy.arn, opts=opts
            )
        else:
            grant = aws_iam.UserPolicyAttachment(
                resource_name, user=iam_name, policy_arn=self.invoke_policy.arn, opts=opts
            )
        self._grants[principal_arn] = grant
        return grant


def _invoke_statements(
    region: str,
    account: str,
    model_ids: list[str],
    guardrail_arn: str | None,
    guardrail_identifier: str | None,
    key_arn: str | None,
) -> list[dict[str, Any]]:
    direct, profiles, routed = bedrock_model_resources(region, account, model_ids)
    require_guardrail: dict[str, Any] = (
        {"StringEquals": {"bedrock:GuardrailIdentifier": guardrail_identifier}} if guardrail_identifier else {}
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": "InvokeAllowedModels",
            "Effect": "Allow",
            "Action": list(BEDROCK_INVOKE_ACTIONS),
            "Resource": direct + profiles,
            **({"Condition": require_guardrail} if require_guardrail else {}),
        },
    ]
    if routed:
        statements.append(
            {
                "Sid": "InvokeThroughInferenceProfiles",
                "Effect": "Allow",
                "Action": list(BEDROCK_INVOKE_ACTIONS),
                "Resource": routed,
                "Condition": {**routed_condition(profiles), **require_guardrail},
            }
        )
    if guardrail_arn and guardrail_identifier:
        statements.append(
            {
                "Sid": "ApplyTheGuardrail",
                "Effect": "Allow",
                "Action": "bedrock:ApplyGuardrail",
                "Resource": guardrail_arn,
            }
        )
        statements.append(
            {
                "Sid": "DenyWithoutTheGuardrail",
                "Effect": "Deny",
                "Action": list(BEDROCK_INVOKE_ACTIONS),
                "Resource": direct + profiles + routed,
                "Condition": {"StringNotEquals": {"bedrock:GuardrailIdentifier": guardrail_identifier}},
            }
        )
        if key_arn:
            statements.append(
                {
                    "Sid": "DecryptTheGuardrailThroughBedrock",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": key_arn,
                    "Condition": {"StringEquals": {"kms:ViaService": f"bedrock.{region}.amazonaws.com"}},
                }
            )
    return statements


def _guardrail_policies(guardrail: BedrockGuardrailArgs) -> dict[str, Any]:
    strength = guardrail.content_filter_strength
    filters: list[dict[str, Any]] = [
        {"type": kind, "input_strength": strength, "output_strength": strength} for kind in CONTENT_FILTERS
    ]
    # Prompt attacks are judged on input only; Bedrock requires the output strength to be NONE.
    filters.append(
        {"type": "PROMPT_ATTACK", "input_strength": guardrail.prompt_attack_strength, "output_strength": "NONE"}
    )
    policies: dict[str, Any] = {"content_policy_config": {"filters_configs": filters}}
    if guardrail.denied_topics:
        policies["topic_policy_config"] = {
            "topics_configs": [
                {"name": t.name, "definition": t.definition, "examples": list(t.examples), "type": "DENY"}
                for t in guardrail.denied_topics
            ]
        }
    words: dict[str, Any] = {}
    if guardrail.blocked_words:
        words["words_configs"] = [{"text": w} for w in guardrail.blocked_words]
    if guardrail.profanity_filter:
        words["managed_word_lists_configs"] = [{"type": "PROFANITY"}]
    if words:
        policies["word_policy_config"] = words
    if guardrail.pii_entities:
        policies["sensitive_information_policy_config"] = {
            "pii_entities_configs": [
                {"type": kind, "action": action} for kind, action in sorted(guardrail.pii_entities.items())
            ]
        }
    return policies
