"""BedrockEndpoint under the mock runtime: endpoints, security group, policies, guardrail, logging."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from tests.cloud_managed_support import (
    APP_ROLE,
    AWS_NETWORK,
    HAIKU,
    SONNET_PROFILE,
    aws_plan,
    statements,
)
from triplane.components.cloud_managed import BedrockEndpoint, BedrockEndpointArgs
from triplane.components.network.refs import AwsNetworkRef
from triplane.plan import Plan, PlannedResource, run_program
from triplane.stacks.clouds.aws import ACCOUNT_ID as AWS_ACCOUNT_ID

REGION = AWS_NETWORK.region
HAIKU_ARN = f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"
PROFILE_ARN = f"arn:aws:bedrock:{REGION}:{AWS_ACCOUNT_ID}:inference-profile/{SONNET_PROFILE}"
ROUTED_ARNS = [
    f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
    for region in ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3")
]
"""Every region the EU inference profile routes to, never a wildcard region."""
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


@pytest.fixture(scope="module")
def plan() -> Plan:
    return aws_plan()


def endpoint(plan: Plan, service: str) -> PlannedResource:
    return plan.one("aws:ec2/vpcEndpoint:VpcEndpoint", f"-privatelink-{service}")


def by_sid(text: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements(text)}


class TestEndpoints:
    def test_runtime_endpoint_is_private_interface_in_region(self, plan: Plan) -> None:
        inputs = endpoint(plan, "bedrock-runtime").inputs
        assert inputs["serviceName"] == "com.amazonaws.eu-west-1.bedrock-runtime"
        assert inputs["vpcEndpointType"] == "Interface"
        assert inputs["privateDnsEnabled"] is True
        assert inputs["vpcId"] == AWS_NETWORK.vpc_id
        assert inputs["subnetIds"] == list(AWS_NETWORK.app_subnet_ids)

    def test_only_requested_services_get_endpoints(self, plan: Plan) -> None:
        services = sorted(r.inputs["serviceName"] for r in plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint"))
        assert services == [
            "com.amazonaws.eu-west-1.bedrock-agent-runtime",
            "com.amazonaws.eu-west-1.bedrock-runtime",
        ]

    def test_endpoints_use_only_the_dedicated_security_group(self, plan: Plan) -> None:
        group = plan.one("aws:ec2/securityGroup:SecurityGroup")
        for resource in plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
            assert resource.inputs["securityGroupIds"] == [f"{group.name}-id"]
        assert group.inputs["vpcId"] == AWS_NETWORK.vpc_id
        assert "ingress" not in group.inputs and "egress" not in group.inputs

    def test_security_group_admits_https_from_the_application_only(self, plan: Plan) -> None:
        rules = plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        assert {(r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"]) for r in rules} == {
            ("tcp", 443, 443)
        }
        cidrs = sorted(r.inputs["cidrIpv4"] for r in rules if "cidrIpv4" in r.inputs)
        assert cidrs == sorted(AWS_NETWORK.application_cidrs)
        groups = [r.inputs["referencedSecurityGroupId"] for r in rules if "referencedSecurityGroupId" in r.inputs]
        assert groups == ["sg-0123456789abcdef0"]
        assert not plan.by_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        assert all(r.inputs.get("cidrIpv4") != "0.0.0.0/0" and "cidrIpv6" not in r.inputs for r in rules)

    def test_runtime_endpoint_policy_admits_the_principal_to_its_models(self, plan: Plan) -> None:
        policy = by_sid(endpoint(plan, "bedrock-runtime").inputs["policy"])
        assert set(policy) == {"UseCase0Invoke", "UseCase0InvokeRouted", "UseCase0ApplyGuardrail"}
        for statement in policy.values():
            assert statement["Effect"] == "Allow"
            assert statement["Principal"] == {"AWS": [APP_ROLE]}
        assert policy["UseCase0Invoke"]["Action"] == INVOKE
        assert policy["UseCase0Invoke"]["Resource"] == [HAIKU_ARN, PROFILE_ARN]
        assert policy["UseCase0InvokeRouted"]["Resource"] == ROUTED_ARNS
        assert policy["UseCase0InvokeRouted"]["Condition"] == {
            "ArnEquals": {"bedrock:InferenceProfileArn": [PROFILE_ARN]}
        }
        assert policy["UseCase0ApplyGuardrail"]["Action"] == "bedrock:ApplyGuardrail"
        assert policy["UseCase0ApplyGuardrail"]["Resource"] == f"arn:aws:bedrock:{REGION}:{AWS_ACCOUNT_ID}:guardrail/*"

    def test_agent_runtime_policy_is_scoped_to_this_account_and_region(self, plan: Plan) -> None:
        policy = by_sid(endpoint(plan, "bedrock-agent-runtime").inputs["policy"])
        assert policy["UseCase0InvokeAgents"]["Resource"] == f"arn:aws:bedrock:{REGION}:{AWS_ACCOUNT_ID}:agent-alias/*"
        assert all(s["Principal"] == {"AWS": [APP_ROLE]} for s in policy.values())

    def test_url_is_the_private_dns_name_of_the_runtime(self, plan: Plan) -> None:
        assert plan.outputs["chat"]["url"] == "https://bedrock-runtime.eu-west-1.amazonaws.com"


class TestInvokePolicy:
    def test_allows_exactly_invoke_on_the_model_arns_with_the_guardrail(self, plan: Plan) -> None:
        policy = by_sid(plan.one("aws:iam/policy:Policy", "-invoke").inputs["policy"])
        guardrail = plan.outputs["chat"]["guardrail"]
        assert guardrail == f"arn:aws:bedrock:{REGION}:{AWS_ACCOUNT_ID}:guardrail/test-chat-guardrail-id:1"
        allowed = policy["InvokeAllowedModels"]
        assert (allowed["Effect"], allowed["Action"], allowed["Resource"]) == (
            "Allow",
            INVOKE,
            [HAIKU_ARN, PROFILE_ARN],
        )
        assert allowed["Condition"] == {"StringEquals": {"bedrock:GuardrailIdentifier": guardrail}}
        routed = policy["InvokeThroughInferenceProfiles"]
        assert routed["Resource"] == ROUTED_ARNS
        assert routed["Condition"] == {
            "ArnEquals": {"bedrock:InferenceProfileArn": [PROFILE_ARN]},
            "StringEquals": {"bedrock:GuardrailIdentifier": guardrail},
        }

    def test_denies_requests_that_skip_the_guardrail(self, plan: Plan) -> None:
        policy = by_sid(plan.one("aws:iam/policy:Policy", "-invoke").inputs["policy"])
        deny = policy["DenyWithoutTheGuardrail"]
        assert deny["Effect"] == "Deny" and deny["Action"] == INVOKE
        assert deny["Resource"] == [HAIKU_ARN, PROFILE_ARN, *ROUTED_ARNS]
        assert deny["Condition"] == {
            "StringNotEquals": {"bedrock:GuardrailIdentifier": plan.outputs["chat"]["guardrail"]}
        }

    def test_grants_nothing_else(self, plan: Plan) -> None:
        policy = statements(plan.one("aws:iam/policy:Policy", "-invoke").inputs["policy"])
        actions = {
            a
            for s in policy
            if s["Effect"] == "Allow"
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert actions == {*INVOKE, "bedrock:ApplyGuardrail", "kms:Decrypt"}
        assert all(s["Resource"] != "*" for s in policy)
        decrypt = next(s for s in policy if s["Action"] == "kms:Decrypt")
        assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"bedrock.{REGION}.amazonaws.com"}}

    def test_grant_attaches_the_policy_to_the_role(self, plan: Plan) -> None:
        attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        assert attachment.inputs["role"] == "chat-app"
        assert attachment.inputs["policyArn"].endswith(
            ":policy/" + plan.one("aws:iam/policy:Policy", "-invoke").inputs["name"]
        )


class TestGuardrail:
    def test_filters_and_encryption(self, plan: Plan) -> None:
        inputs = plan.one("aws:bedrock/guardrail:Guardrail").inputs
        filters = {f["type"]: f for f in inputs["contentPolicyConfig"]["filtersConfigs"]}
        assert set(filters) == {"SEXUAL", "VIOLENCE", "HATE", "INSULTS", "MISCONDUCT", "PROMPT_ATTACK"}
        assert filters["HATE"]["inputStrength"] == filters["HATE"]["outputStrength"] == "HIGH"
        assert (filters["PROMPT_ATTACK"]["inputStrength"], filters["PROMPT_ATTACK"]["outputStrength"]) == (
            "HIGH",
            "NONE",
        )
        assert inputs["topicPolicyConfig"]["topicsConfigs"][0]["type"] == "DENY"
        assert inputs["wordPolicyConfig"]["managedWordListsConfigs"] == [{"type": "PROFANITY"}]
        assert inputs["wordPolicyConfig"]["wordsConfigs"] == [{"text": "project-bluebird"}]
        pii = inputs["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]
        assert {(p["type"], p["action"]) for p in pii} == {
            ("EMAIL", "ANONYMIZE"),
            ("US_SOCIAL_SECURITY_NUMBER", "BLOCK"),
        }
        key = plan.one("aws:kms/key:Key", "-guardrail-key")
        assert inputs["kmsKeyArn"] == f"arn:aws:kms:{REGION}:{AWS_ACCOUNT_ID}:key/{key.name}-key-id"
        assert key.inputs["enableKeyRotation"] is True and key.protect

    def test_published_version_is_kept(self, plan: Plan) -> None:
        version = plan.one("aws:bedrock/guardrailVersion:GuardrailVersion")
        assert version.inputs["skipDestroy"] is True
        assert version.inputs["guardrailArn"].endswith(":guardrail/test-chat-guardrail-id")


class TestInvocationLogging:
    def test_configuration_sends_everything_to_both_destinations(self, plan: Plan) -> None:
        config = plan.one("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration")
        logging = config.inputs["loggingConfig"]
        assert logging["textDataDeliveryEnabled"] and logging["imageDataDeliveryEnabled"]
        assert logging["cloudwatchConfig"]["logGroupName"] == "/triplane/bedrock/test-chat-logging"
        assert logging["cloudwatchConfig"]["roleArn"]
        assert (
            logging["cloudwatchConfig"]["largeDataDeliveryS3Config"]["bucketName"] == logging["s3Config"]["bucketName"]
        )
        waits_for = {plan.get(urn).name for urn in config.dependencies}
        assert {"test-chat-logging-bucket-policy", "test-chat-logging-delivery-policy"} <= waits_for

    def test_delivery_role_trusts_bedrock_of_this_account_and_region_only(self, plan: Plan) -> None:
        (trust,) = statements(plan.one("aws:iam/role:Role", "-delivery-role").inputs["assumeRolePolicy"])
        assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
        assert trust["Condition"] == {
            "StringEquals": {"aws:SourceAccount": AWS_ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{AWS_ACCOUNT_ID}:*"},
        }
        (write,) = statements(plan.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
        assert write["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert write["Resource"] == (
            f"arn:aws:logs:{REGION}:{AWS_ACCOUNT_ID}:log-group:/triplane/bedrock/test-chat-logging:log-stream:*"
        )

    def test_bucket_is_private_encrypted_and_kept(self, plan: Plan) -> None:
        bucket = plan.one("aws:s3/bucket:Bucket")
        assert bucket.protect and bucket.retain_on_delete
        assert "forceDestroy" not in bucket.inputs or bucket.inputs["forceDestroy"] is False
        block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
        assert all(
            block[k] is True
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
        rule = plan.one(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        ).inputs["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith(f"arn:aws:kms:{REGION}:")
        ownership = plan.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
        assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"

    def test_bucket_policy_scopes_bedrock_by_source_and_denies_plain_http(self, plan: Plan) -> None:
        policy = by_sid(plan.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
        bucket = plan.one("aws:s3/bucket:Bucket").inputs["bucket"]
        deliver = policy["BedrockDeliversLogs"]
        assert (deliver["Action"], deliver["Resource"]) == ("s3:PutObject", f"arn:aws:s3:::{bucket}/bedrock/*")
        assert deliver["Condition"]["StringEquals"] == {"aws:SourceAccount": AWS_ACCOUNT_ID}
        assert deliver["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{AWS_ACCOUNT_ID}:*"}
        assert policy["DenyPlainHttp"]["Effect"] == "Deny"
        assert policy["DenyPlainHttp"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert not [s for s in policy.values() if s["Effect"] == "Allow" and s["Principal"] == "*"]

    def test_log_group_is_encrypted_with_retention(self, plan: Plan) -> None:
        group = plan.one("aws:cloudwatch/logGroup:LogGroup")
        assert group.inputs["retentionInDays"] == 365
        assert group.inputs["kmsKeyId"] == plan.one("aws:kms/key:Key", "-logging-key").name.join(
            (f"arn:aws:kms:{REGION}:{AWS_ACCOUNT_ID}:key/", "-key-id")
        )
        assert group.protect

    def test_key_lets_logs_use_it_for_this_log_group_only(self, plan: Plan) -> None:
        policy = by_sid(plan.one("aws:kms/key:Key", "-logging-key").inputs["policy"])
        logs = policy["LogsUseForThisLogGroup"]
        assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
        assert logs["Condition"] == {
            "StringEquals": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:aws:logs:{REGION}:{AWS_ACCOUNT_ID}:log-group:/triplane/bedrock/test-chat-logging"
                )
            }
        }
        assert policy["BedrockWritesLogObjects"]["Condition"]["StringEquals"] == {"aws:SourceAccount": AWS_ACCOUNT_ID}

    def test_logs_output_names_both_places(self, plan: Plan) -> None:
        bucket = plan.one("aws:s3/bucket:Bucket").inputs["bucket"]
        assert plan.outputs["chat"]["logs"] == (
            f"arn:aws:logs:{REGION}:{AWS_ACCOUNT_ID}:log-group:/triplane/bedrock/test-chat-logging, "
            f"s3://{bucket}/bedrock/invocations/"
        )


def _expect_failure(args: BedrockEndpointArgs, grant: str | None = None) -> str:
    def program() -> None:
        component = BedrockEndpoint("bad", args)
        if grant is not None:
            component.grant_invoke(grant)

    with pytest.raises(Exception) as raised:  # the SDK wraps the component's ValueError
        run_program(program, stack="test")
    return str(raised.value)


def test_rejects_a_single_zone() -> None:
    one_zone = AwsNetworkRef(
        region="us-east-1", vpc_id="vpc-0123456789abcdef0", app_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa"],
        application_cidrs=["10.0.0.0/20"],
    )  # fmt: skip
    assert "at least two availability zones" in _expect_failure(BedrockEndpointArgs(network=one_zone, models=[HAIKU]))


def test_refuses_to_grant_a_principal_the_endpoint_policy_refuses() -> None:
    args = BedrockEndpointArgs(network=AWS_NETWORK, models=[HAIKU], allowed_principals=[APP_ROLE])
    message = _expect_failure(args, grant=f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/other")
    assert "not in allowed_principals" in message


def test_no_principals_means_this_account_only() -> None:
    def program() -> None:
        component = BedrockEndpoint("open", BedrockEndpointArgs(network=AWS_NETWORK, models=[HAIKU]))
        pulumi.export("url", component.url)

    plan = run_program(program, stack="test")
    (statement,) = statements(plan.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs["policy"])
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{AWS_ACCOUNT_ID}:root"}
    assert statement["Resource"] == [HAIKU_ARN]
    assert not plan.by_type("aws:bedrock/guardrail:Guardrail")
    assert "Condition" not in json.loads(plan.one("aws:iam/policy:Policy").inputs["policy"])["Statement"][0]
