"""AWS policies: Bedrock over PrivateLink, keys and secrets, logs, egress, EKS nodes.

Property names are the engine's (camelCase), as the AWS provider registers them: a VPC endpoint's
`privateDnsEnabled`, a node group's `scalingConfig.maxSize`, a KMS key's `enableKeyRotation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .common import (
    ADVISORY,
    CAP_SCHEMA,
    CRITICAL,
    HIGH,
    LOW,
    MEDIUM,
    Res,
    as_list,
    broad_domain,
    cap_for,
    checkov,
    get,
    is_public_cidr,
    json_document,
    known,
    platform_stack,
    resource_policy,
    stack_policy,
    statements,
    truthy,
)

VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
IAM_POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
KMS_KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
INVOCATION_LOGGING = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
RULE_GROUP = "aws:networkfirewall/ruleGroup:RuleGroup"
FIREWALL_POLICY = "aws:networkfirewall/firewallPolicy:FirewallPolicy"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"
EKS_CLUSTER = "aws:eks/cluster:Cluster"

_BEDROCK_SERVICE = re.compile(r"^com\.amazonaws\.[a-z0-9-]+\.bedrock(-[a-z-]+)?$")
INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
_MODEL_ARN = re.compile(
    r"^arn:aws[\w-]*:bedrock:[a-z0-9-*]*:\d{0,12}:"
    r"(foundation-model|inference-profile|application-inference-profile|provisioned-model|custom-model|"
    r"imported-model|prompt-router|default-prompt-router)/(?P<id>.+)$"
)
UNSCOPED_ACTIONS_DEFAULT = [
    "bedrock:ListFoundationModels",
    "bedrock:ListInferenceProfiles",
    "bedrock:ListAgents",
    "bedrock:ListKnowledgeBases",
    "bedrock:ListGuardrails",
    "bedrock:ListCustomModels",
    "bedrock:RetrieveAndGenerate",
]
"""Bedrock actions that take no resource-level permission: `Resource: "*"` is their only form."""


def is_bedrock_endpoint(resource: Res) -> bool:
    service = resource.props.get("serviceName")
    return isinstance(service, str) and bool(_BEDROCK_SERVICE.match(service))


def _actions(statement: dict[str, Any]) -> list[str]:
    return [str(a) for a in as_list(statement.get("Action"))]


def _bedrock_problems(document: Any, unscoped: list[str], where: str) -> Iterator[str]:
    """Wildcard Bedrock actions, `Resource: "*"` on scoped actions, invoke on anything but models."""
    if isinstance(document, dict) and "__invalid__" in document:
        yield f"{where} is not valid JSON"
        return
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid") or f"statement {index}"
        actions = _actions(statement)
        bedrock = [a for a in actions if a == "*" or a.lower().startswith("bedrock:")]
        if "NotAction" in statement:
            excluded = [str(a).lower() for a in as_list(statement.get("NotAction"))]
            if not any(a in ("*", "bedrock:*") for a in excluded):
                yield f"{where} {sid} uses NotAction: it allows every Bedrock action not listed"
            continue
        if not bedrock:
            continue
        wild = [a for a in bedrock if "*" in a or "?" in a]
        if wild:
            yield f"{where} {sid} allows wildcard actions {wild}: list the Bedrock actions by name"
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        if "NotResource" in statement:
            yield f"{where} {sid} uses NotResource: it applies to every resource except those listed"
        scoped = [a for a in bedrock if a not in unscoped and "*" not in a]
        if "*" in resources and scoped:
            yield f"{where} {sid} allows {scoped} on Resource \"*\": name the model or resource ARNs"
        invokes = [a for a in bedrock if a in INVOKE_ACTIONS]
        if invokes:
            for arn in resources:
                match = _MODEL_ARN.match(arn)
                if arn == "*":
                    continue  # reported above
                if match is None:
                    yield f"{where} {sid} allows {invokes} on {arn}, which is not a model ARN"
                elif "*" in match.group("id") or "?" in match.group("id"):
                    yield f"{where} {sid} allows {invokes} on every model matching {arn}: name each model"


# --- Bedrock -------------------------------------------------------------------------------------


def _endpoint_private_dns(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not is_bedrock_endpoint(resource):
        return
    kind = get(resource.props, "vpcEndpointType", "Gateway")
    if kind != "Interface":
        yield f"vpcEndpointType is {kind!r}: Bedrock is reached through an Interface endpoint"
    if not truthy(get(resource.props, "privateDnsEnabled", False)):
        yield "privateDnsEnabled is not true: SDKs would resolve the public Bedrock host and leave the VPC"


def _endpoint_security_group(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not is_bedrock_endpoint(resource):
        return
    groups = get(resource.props, "securityGroupIds") or []
    if not groups:
        yield (
            "securityGroupIds is empty: the endpoint gets the VPC's default security group; attach a "
            "dedicated group that admits HTTPS from the application only"
        )


def _endpoint_policy(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    if not is_bedrock_endpoint(resource):
        return
    document = json_document(resource.props.get("policy"), "policy")
    if document is None:
        yield "no endpoint policy: the default policy allows every action on every resource"
        return
    yield from _bedrock_problems(document, list(cfg["unscopedActions"]), "endpoint policy")


def _iam_least_privilege(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    document = json_document(resource.props.get("policy"), "policy")
    if document is None:
        return
    yield from _bedrock_problems(document, list(cfg["unscopedActions"]), "policy")


def _bedrock_used(resources: list[Res]) -> list[Res]:
    users = [r for r in resources if r.type == VPC_ENDPOINT and is_bedrock_endpoint(r)]
    users += [r for r in resources if r.type.startswith("triplane:cloudmanaged:Bedrock")]
    return users


def _invocation_logging(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    users = _bedrock_used(resources)
    if not users or platform_stack() is not None:
        return  # a use-case stack's Bedrock calls are logged by its platform's account-wide setting
    configs = [r for r in resources if r.type == INVOCATION_LOGGING]
    if not configs:
        yield (
            "Bedrock is used but no model invocation logging is configured "
            f"({INVOCATION_LOGGING} is missing): requests and responses would go unrecorded",
            users[0].urn,
        )
        return
    for config in configs:
        logging = get(config.props, "loggingConfig") or {}
        cloudwatch = logging.get("cloudwatchConfig") or {}
        s3 = logging.get("s3Config") or {}
        if not cloudwatch and not s3:
            yield "loggingConfig names neither cloudwatchConfig nor s3Config: nothing is delivered", config.urn
        if cloudwatch and not cloudwatch.get("roleArn"):
            yield "cloudwatchConfig has no roleArn: Bedrock cannot deliver to CloudWatch Logs without one", config.urn
        if not truthy(logging.get("textDataDeliveryEnabled", False)):
            yield "textDataDeliveryEnabled is not true: prompts and completions are not recorded", config.urn


# --- keys, secrets, logs, buckets ----------------------------------------------------------------


def _kms_rotation(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    spec = get(resource.props, "customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    usage = get(resource.props, "keyUsage", "ENCRYPT_DECRYPT")
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return  # AWS rotates only symmetric encryption keys
    if not truthy(get(resource.props, "enableKeyRotation", False)):
        yield "enableKeyRotation is not true: the key material never rotates"


def _secret_cmk(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    key = get(resource.props, "kmsKeyId")
    if not key:
        yield "kmsKeyId is not set: the secret is encrypted with the AWS-managed key, not a customer-managed one"
    elif isinstance(key, str) and key.startswith("alias/aws/"):
        yield f"kmsKeyId is {key}, an AWS-managed key: use a customer-managed key"


def _log_group_encrypted(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not get(resource.props, "kmsKeyId"):
        yield "kmsKeyId is not set: log events are encrypted with a service key, not a customer-managed one"


def _log_group_retention(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    days = get(resource.props, "retentionInDays")
    minimum = int(cfg["minimumDays"])
    if days in (None, 0):
        yield "retentionInDays is not set: logs are kept forever, at a cost, with no decision recorded"
    elif float(days) < minimum:
        yield f"retentionInDays is {int(float(days))}: keep logs at least {minimum} days"


def _depends_on(resource: Res, target: Res) -> bool:
    return target.urn in resource.dependencies


def _buckets(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    blocks = [r for r in resources if r.type == PUBLIC_ACCESS_BLOCK]
    encryptions = [r for r in resources if r.type in BUCKET_ENCRYPTION]
    for bucket in (r for r in resources if r.type in BUCKET_TYPES):
        block = next((b for b in blocks if _depends_on(b, bucket)), None)
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if block is None:
            yield "no BucketPublicAccessBlock for this bucket: it can be made public", bucket.urn
        else:
            off = [f for f in flags if not truthy(block.props.get(f, False))]
            if off:
                yield f"the bucket's public access block leaves {off} off", bucket.urn
        encryption = next((e for e in encryptions if _depends_on(e, bucket)), None)
        rules = as_list(encryption.props.get("rules")) if encryption is not None else []
        algorithms = [get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") for rule in rules]
        if not any(a in ("aws:kms", "aws:kms:dsse") for a in algorithms):
            yield "the bucket is not encrypted with KMS by default (no SSE-KMS configuration)", bucket.urn
        if truthy(bucket.props.get("forceDestroy", False)):
            yield "forceDestroy is true: deleting the stack would delete every object in it", bucket.urn


# --- network -------------------------------------------------------------------------------------


def _public_ingress(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    props = resource.props
    if resource.type == SECURITY_GROUP:
        for index, rule in enumerate(as_list(props.get("ingress"))):
            cidrs = [*as_list(rule.get("cidrBlocks")), *as_list(rule.get("ipv6CidrBlocks"))]
            public = [c for c in cidrs if is_public_cidr(c)]
            if public:
                yield f"ingress[{index}] admits {public} on ports {rule.get('fromPort')}-{rule.get('toPort')}"
    elif resource.type == INGRESS_RULE:
        for key in ("cidrIpv4", "cidrIpv6"):
            if is_public_cidr(props.get(key)):
                yield f"{key} is {props[key]}: the rule admits the whole internet"
    elif resource.type == SG_RULE and props.get("type") == "ingress":
        cidrs = [*as_list(props.get("cidrBlocks")), *as_list(props.get("ipv6CidrBlocks"))]
        public = [c for c in cidrs if is_public_cidr(c)]
        if public:
            yield f"the ingress rule admits {public}"


def _egress_allowlist(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if resource.type == RULE_GROUP:
        source_list = get(resource.props, "ruleGroup.rulesSource.rulesSourceList")
        if not source_list:
            return
        if source_list.get("generatedRulesType") != "ALLOWLIST":
            yield f"generatedRulesType is {source_list.get('generatedRulesType')!r}: egress rules must be an ALLOWLIST"
        for target in as_list(source_list.get("targets")):
            problem = broad_domain(str(known(target, "targets")))
            if problem:
                yield f"ruleGroup.rulesSource.rulesSourceList.targets entry {target!r} {problem}"
    elif resource.type == FIREWALL_POLICY:
        defaults = [str(a) for a in as_list(get(resource.props, "firewallPolicy.statefulDefaultActions"))]
        if not any(a in ("aws:drop_strict", "aws:drop_established") for a in defaults):
            yield (
                "statefulDefaultActions has no drop action: traffic matching no rule passes; use "
                "aws:drop_established (strict rule order) so only the allowlist gets out"
            )
        stateless = [str(a) for a in as_list(get(resource.props, "firewallPolicy.statelessDefaultActions"))]
        if stateless and "aws:forward_to_sfe" not in stateless:
            yield "statelessDefaultActions do not forward to the stateful engine: the allowlist is bypassed"


# --- EKS -----------------------------------------------------------------------------------------


def _node_no_public_ip(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if resource.type == NODE_GROUP:
        remote = get(resource.props, "remoteAccess")
        if remote:
            if not as_list(remote.get("sourceSecurityGroupIds")):
                yield "remoteAccess without sourceSecurityGroupIds opens SSH on the nodes to 0.0.0.0/0"
            else:
                yield "remoteAccess enables SSH to the nodes: use SSM Session Manager instead"
    elif resource.type == LAUNCH_TEMPLATE:
        for index, interface in enumerate(as_list(get(resource.props, "networkInterfaces"))):
            if truthy(interface.get("associatePublicIpAddress", False)):
                yield f"networkInterfaces[{index}].associatePublicIpAddress is true: nodes get public addresses"
    elif resource.type == SUBNET and truthy(get(resource.props, "mapPublicIpOnLaunch", False)):
        yield "mapPublicIpOnLaunch is true: every instance started here gets a public address"


def _node_group_cap(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    size = get(resource.props, "scalingConfig.maxSize")
    if size is None:
        return
    cap = cap_for(resource.name, cfg)
    if float(size) > cap:
        yield f"scalingConfig.maxSize is {int(float(size))}, above the cap of {cap} nodes per pool"


def _eks_endpoint(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    vpc = get(resource.props, "vpcConfig") or {}
    public = vpc.get("endpointPublicAccess", True)  # the API's default is public
    if not truthy(public):
        return
    cidrs = as_list(vpc.get("publicAccessCidrs"))
    if not cidrs or any(is_public_cidr(c) for c in cidrs):
        yield (
            "the cluster API is public to 0.0.0.0/0: set vpcConfig.endpointPublicAccess to false, or "
            "publicAccessCidrs to the networks that administer it"
        )


def _eks_secrets_encryption(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    configs = as_list(get(resource.props, "encryptionConfig"))
    covered = any("secrets" in as_list(c.get("resources")) and get(c, "provider.keyArn") for c in configs)
    if not covered:
        yield "encryptionConfig does not envelope-encrypt Kubernetes secrets with a KMS key"


UNSCOPED_SCHEMA = {
    "unscopedActions": {
        "type": "array",
        "items": {"type": "string"},
        "default": UNSCOPED_ACTIONS_DEFAULT,
        "description": "Bedrock actions without resource-level permissions, allowed on Resource \"*\".",
    }
}

POLICIES = [
    resource_policy(
        name="aws-bedrock-endpoint-private-dns",
        description="Bedrock VPC endpoints are Interface endpoints with private DNS on.",
        types=[VPC_ENDPOINT],
        check=_endpoint_private_dns,
        severity=HIGH,
        remediation="Create the endpoint with vpc_endpoint_type='Interface' and private_dns_enabled=True "
        "(the VPC needs enable_dns_support and enable_dns_hostnames).",
        tags=["cloud-managed", "network"],
    ),
    resource_policy(
        name="aws-bedrock-endpoint-security-group",
        description="Bedrock VPC endpoints carry a dedicated security group, never the VPC default.",
        types=[VPC_ENDPOINT],
        check=_endpoint_security_group,
        severity=MEDIUM,
        remediation="Pass security_group_ids with a group admitting TCP 443 from the application CIDRs only.",
        tags=["cloud-managed", "network"],
    ),
    resource_policy(
        name="aws-bedrock-endpoint-policy",
        description="Bedrock endpoint policies allow named actions on named models, never bedrock:* or Resource \"*\".",
        types=[VPC_ENDPOINT],
        check=_endpoint_policy,
        severity=HIGH,
        remediation="Give the endpoint a policy allowing bedrock:InvokeModel and "
        "bedrock:InvokeModelWithResponseStream on the use case's foundation-model / inference-profile ARNs.",
        references=[checkov("CKV_AWS_355")],
        config=UNSCOPED_SCHEMA,
        tags=["cloud-managed", "iam"],
    ),
    resource_policy(
        name="aws-bedrock-iam-least-privilege",
        description="IAM policies granting Bedrock name the actions and the model ARNs "
        "(no bedrock:*, no Resource \"*\").",
        types=list(IAM_POLICY_TYPES),
        check=_iam_least_privilege,
        severity=CRITICAL,
        remediation="List bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream and the model ARNs "
        "arn:aws:bedrock:<region>::foundation-model/<id> (and inference-profile ARNs) explicitly.",
        references=[checkov("CKV_AWS_355"), checkov("CKV_AWS_63")],
        config=UNSCOPED_SCHEMA,
        tags=["cloud-managed", "iam"],
    ),
    stack_policy(
        name="aws-bedrock-invocation-logging",
        description="A stack that uses Bedrock configures model invocation logging with a delivery role.",
        check=_invocation_logging,
        severity=HIGH,
        remediation="Add aws.bedrockmodel.InvocationLoggingConfiguration with a cloudwatch_config (log group "
        "and role_arn) and/or s3_config, text_data_delivery_enabled=True (Triplane's BedrockInvocationLogging).",
        tags=["cloud-managed", "logging"],
    ),
    resource_policy(
        name="aws-kms-key-rotation",
        description="Customer-managed KMS keys rotate their key material.",
        types=[KMS_KEY],
        check=_kms_rotation,
        severity=MEDIUM,
        remediation="Set enable_key_rotation=True on the key.",
        references=[checkov("CKV_AWS_7")],
        tags=["secrets", "encryption"],
    ),
    resource_policy(
        name="aws-secret-customer-managed-key",
        description="Secrets Manager secrets are encrypted with a customer-managed KMS key.",
        types=[SECRET],
        check=_secret_cmk,
        severity=HIGH,
        remediation="Set kms_key_id to a customer-managed key whose policy admits only the workload role.",
        references=[checkov("CKV_AWS_149")],
        tags=["saas", "secrets", "encryption"],
    ),
    resource_policy(
        name="aws-log-group-encrypted",
        description="CloudWatch log groups are encrypted with a customer-managed KMS key.",
        types=[LOG_GROUP],
        check=_log_group_encrypted,
        severity=MEDIUM,
        remediation="Set kms_key_id to a key whose policy lets logs.<region>.amazonaws.com use it for this group.",
        references=[checkov("CKV_AWS_158")],
        tags=["logging", "encryption"],
    ),
    resource_policy(
        name="aws-log-group-retention",
        description="CloudWatch log groups keep logs for a set period, at least the configured minimum.",
        types=[LOG_GROUP],
        check=_log_group_retention,
        severity=LOW,
        enforcement=ADVISORY,
        remediation="Set retention_in_days (365 or more for audit trails).",
        references=[checkov("CKV_AWS_338"), checkov("CKV_AWS_66")],
        config={"minimumDays": {"type": "integer", "minimum": 1, "default": 365,
                                "description": "Shortest acceptable retention in days."}},
        tags=["logging"],
    ),
    stack_policy(
        name="aws-s3-bucket-secure",
        description="S3 buckets block public access, encrypt with KMS by default and are not force-destroyed.",
        check=_buckets,
        severity=HIGH,
        remediation="Add a BucketPublicAccessBlock with all four flags true and a "
        "BucketServerSideEncryptionConfiguration with sse_algorithm 'aws:kms'; leave force_destroy off.",
        references=[checkov("CKV2_AWS_6"), checkov("CKV_AWS_145")],
        tags=["logging", "encryption"],
    ),
    resource_policy(
        name="aws-security-group-no-public-ingress",
        description="Security groups admit nothing from 0.0.0.0/0 or ::/0.",
        types=[SECURITY_GROUP, INGRESS_RULE, SG_RULE],
        check=_public_ingress,
        severity=CRITICAL,
        remediation="Admit the application CIDRs or security groups only; model endpoints are never public.",
        references=[checkov("CKV_AWS_277")],
        tags=["network"],
    ),
    resource_policy(
        name="aws-egress-allowlist",
        description="The egress firewall allows listed domains only, none spanning shared hosting, and drops "
        "everything else.",
        types=[RULE_GROUP, FIREWALL_POLICY],
        check=_egress_allowlist,
        severity=HIGH,
        remediation="Use a stateful domain-list rule group with generated_rules_type='ALLOWLIST' naming the "
        "provider hosts (no '.domain' entry over a public suffix or shared hosting domain: name the bucket's "
        "host), strict rule order, and stateful_default_actions ['aws:drop_established'].",
        tags=["saas", "network"],
    ),
    resource_policy(
        name="aws-nodes-no-public-ip",
        description="EKS nodes get no public IP and no SSH from the internet.",
        types=[NODE_GROUP, LAUNCH_TEMPLATE, SUBNET],
        check=_node_no_public_ip,
        severity=HIGH,
        remediation="Run node groups in private subnets (map_public_ip_on_launch=False), without remote_access "
        "and without associate_public_ip_address in the launch template.",
        references=[checkov("CKV_AWS_100"), checkov("CKV_AWS_130")],
        tags=["self-managed", "network"],
    ),
    resource_policy(
        name="aws-node-group-size-cap",
        description="EKS node groups cannot grow beyond the configured number of nodes (cost guard).",
        types=[NODE_GROUP],
        check=_node_group_cap,
        severity=MEDIUM,
        remediation="Lower scaling_config.max_size, or raise the cap for this pool in the policy config "
        "with a reason.",
        config=CAP_SCHEMA,
        tags=["self-managed", "cost"],
    ),
    resource_policy(
        name="aws-eks-endpoint-not-public",
        description="The EKS API endpoint is private, or public only to named networks.",
        types=[EKS_CLUSTER],
        check=_eks_endpoint,
        severity=HIGH,
        remediation="Set vpc_config.endpoint_public_access=False (with endpoint_private_access=True), or list "
        "the administering networks in public_access_cidrs.",
        references=[checkov("CKV_AWS_38"), checkov("CKV_AWS_39")],
        tags=["self-managed", "network"],
    ),
    resource_policy(
        name="aws-eks-secrets-encryption",
        description="EKS envelope-encrypts Kubernetes secrets with a KMS key.",
        types=[EKS_CLUSTER],
        check=_eks_secrets_encryption,
        severity=HIGH,
        remediation="Set encryption_config={'provider': {'key_arn': <key>}, 'resources': ['secrets']}.",
        references=[checkov("CKV_AWS_58")],
        tags=["self-managed", "encryption"],
    ),
]
