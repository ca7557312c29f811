"""SaaS egress on AWS: Secrets Manager with a CMK, the workload role, and the shared Network Firewall."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triplane.components.network.refs import AwsNetworkRef
from triplane.plan import Plan, is_secret, reveal, run_program
from triplane.stacks.clouds.aws import ACCOUNT_ID as AWS_ACCOUNT_ID
from triplane.stacks.clouds.aws import DEPLOYER_ROLE_ARN as AWS_DEPLOYER_ROLE_ARN
from triplane.stacks.compose import export_endpoints
from triplane.stacks.context import StackContext
from triplane.stacks.patterns.saas import build_on
from triplane.stacks.providers import build_providers
from triplane.stacks.spec import validate_environment

SOURCE = "stacks/Pulumi.test.yaml"
PLANTED = {
    "openaiKey": "sk-PLANTED-openai-0b7e61d2",
    "anthropicKey": "sk-ant-PLANTED-anthropic-5c9d",
    "partnerKey": "PLANTED-partner-9911aa",
}
APP_ROLE = f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/chat-app"
DEPLOYER = AWS_DEPLOYER_ROLE_ARN  # the role of the session that deploys, not the session
NETWORK = AwsNetworkRef(
    region="us-east-1",
    vpc_id="vpc-0123456789abcdef0",
    app_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    application_cidrs=["10.40.0.0/20", "10.40.16.0/20"],
    private_route_table_ids=["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"],
    zones=["us-east-1a", "us-east-1b"],
    cidr="10.40.0.0/16",
)


def environment(tier: str = "dev") -> dict[str, Any]:
    def saas(name: str, provider: str, key: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "pattern": "saas",
            "data_classification": "internal",
            "cloud": "aws",
            "provider": provider,
            "api_key_secret": key,
            "allowed_principals": [APP_ROLE],
            **extra,
        }

    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "tier": tier,
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
            }
        },
        "use_cases": [
            saas("chat", "openai", "openaiKey"),
            saas("drafts", "anthropic", "anthropicKey", key_rotation="external"),
            saas("summaries", "openai", "openaiKey"),
            saas(
                "partner",
                "custom",
                "partnerKey",
                custom_provider={
                    "base_url": "https://api.partner.example/v1",
                    "hosts": ["api.partner.example", "*.cdn.partner.example"],
                },
            ),
        ],
    }


def plan_for(env: dict[str, Any], stack: str = "test") -> Plan:
    def program() -> None:
        spec = validate_environment(env, SOURCE)
        ctx = StackContext(stack=stack, source=SOURCE, environment=spec, providers=build_providers(stack, spec))
        export_endpoints({u.name: build_on(u, ctx, NETWORK) for u in spec.use_cases})

    return run_program(
        program,
        stack=stack,
        config={f"triplane:{k}": v for k, v in PLANTED.items()},
        secret_keys=[f"triplane:{k}" for k in PLANTED],
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_for(environment())


def endpoints(plan: Plan) -> dict[str, Any]:
    return reveal(plan.outputs["endpoints"])


def policy(resource: Any, key: str = "policy") -> Any:
    return json.loads(resource.inputs[key])


def leaves(value: Any, path: str = "", secret: bool = False) -> Any:
    """(path, leaf, inside a secret envelope) for every leaf of a recorded input tree."""
    if is_secret(value):
        yield from leaves(value.get("value"), path, True)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else key, secret)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]", secret)
    else:
        yield path, value, secret


# ------------------------------------------------------------------------------ the shared firewall


def test_one_firewall_serves_every_use_case_and_allows_exactly_their_hosts(plan: Plan) -> None:
    assert len(plan.by_type("aws:networkfirewall/firewall:Firewall")) == 1
    group = plan.one("aws:networkfirewall/ruleGroup:RuleGroup").inputs
    assert group["type"] == "STATEFUL"
    source = group["ruleGroup"]["rulesSource"]["rulesSourceList"]
    assert source["generatedRulesType"] == "ALLOWLIST"
    assert source["targetTypes"] == ["TLS_SNI", "HTTP_HOST"]
    # Sorted, de-duplicated (two openai use cases), the wildcard in Network Firewall's spelling.
    assert source["targets"] == [".cdn.partner.example", "api.anthropic.com", "api.openai.com", "api.partner.example"]
    assert group["ruleGroup"]["statefulRuleOptions"] == {"ruleOrder": "STRICT_ORDER"}


def test_policy_drops_and_alerts_on_everything_else(plan: Plan) -> None:
    fw_policy = plan.one("aws:networkfirewall/firewallPolicy:FirewallPolicy").inputs["firewallPolicy"]
    assert fw_policy["statefulEngineOptions"]["ruleOrder"] == "STRICT_ORDER"
    assert fw_policy["statefulDefaultActions"] == ["aws:drop_established", "aws:alert_established"]
    assert fw_policy["statelessDefaultActions"] == ["aws:forward_to_sfe"]
    assert fw_policy["statelessFragmentDefaultActions"] == ["aws:forward_to_sfe"]
    refs = fw_policy["statefulRuleGroupReferences"]
    assert len(refs) == 1 and refs[0]["resourceArn"].endswith(":test-egress-allowlist")


def test_firewall_sits_in_its_own_subnets_and_logs_alert_and_flow_to_encrypted_groups(plan: Plan) -> None:
    firewall = plan.one("aws:networkfirewall/firewall:Firewall").inputs
    subnets = {r.name: r.inputs for r in plan.by_type("aws:ec2/subnet:Subnet")}
    assert [m["subnetId"] for m in firewall["subnetMappings"]] == [
        "test-egress-firewall-us-east-1a-id",
        "test-egress-firewall-us-east-1b-id",
    ]
    assert subnets["test-egress-firewall-us-east-1a"]["cidrBlock"] == "10.40.96.0/20"
    assert subnets["test-egress-firewall-us-east-1b"]["cidrBlock"] == "10.40.112.0/20"
    assert subnets["test-egress-public-us-east-1a"]["cidrBlock"] == "10.40.144.0/20"
    assert all(s["mapPublicIpOnLaunch"] is False for s in subnets.values())

    logging = plan.one("aws:networkfirewall/loggingConfiguration:LoggingConfiguration").inputs
    configs = logging["loggingConfiguration"]["logDestinationConfigs"]
    assert {(c["logType"], c["logDestinationType"], c["logDestination"]["logGroup"]) for c in configs} == {
        ("ALERT", "CloudWatchLogs", "/triplane/test-egress/network-firewall/alert"),
        ("FLOW", "CloudWatchLogs", "/triplane/test-egress/network-firewall/flow"),
    }
    key = plan.one("aws:kms/key:Key", "test-egress-logs-key")
    assert key.inputs["enableKeyRotation"] is True
    for group in plan.by_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["kmsKeyId"] == f"arn:aws:kms:us-east-1:{AWS_ACCOUNT_ID}:test-egress-logs-key"
    statements = {s["Sid"]: s for s in policy(key)["Statement"]}
    assert statements["CloudWatchLogsForFirewallLogs"]["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}


def test_static_egress_ips_one_nat_per_zone(plan: Plan) -> None:
    eips = plan.by_type("aws:ec2/eip:Eip")
    nats = plan.by_type("aws:ec2/natGateway:NatGateway")
    assert len(eips) == 2 and all(e.inputs["domain"] == "vpc" for e in eips)
    assert sorted(n.inputs["allocationId"] for n in nats) == [
        "eipalloc-test-egress-eip-us-east-1a",
        "eipalloc-test-egress-eip-us-east-1b",
    ]
    assert endpoints(plan)["chat"]["egress_ips"] == ["203.0.113.10", "203.0.113.10"]


def test_routes_send_app_traffic_through_the_firewall_endpoint_of_its_zone(plan: Plan) -> None:
    routes = {r.name: r.inputs for r in plan.by_type("aws:ec2/route:Route")}
    for index, zone in enumerate(["us-east-1a", "us-east-1b"]):
        endpoint = f"vpce-test-egress-firewall-{index}"
        app = routes[f"test-egress-app-{zone}-egress"]
        assert app == {
            "routeTableId": NETWORK.private_route_table_ids[index],
            "destinationCidrBlock": "0.0.0.0/0",
            "vpcEndpointId": endpoint,
        }
        back = routes[f"test-egress-public-{zone}-return"]
        assert back["destinationCidrBlock"] == NETWORK.application_cidrs[index]
        assert back["vpcEndpointId"] == endpoint
        assert routes[f"test-egress-firewall-{zone}-nat"]["natGatewayId"] == f"test-egress-nat-{zone}-id"
        assert routes[f"test-egress-public-{zone}-internet"]["gatewayId"] == "test-egress-igw-id"
    # Nothing else routes to the internet: only the public subnets reach the internet gateway.
    assert sorted(n for n, r in routes.items() if "gatewayId" in r) == [
        "test-egress-public-us-east-1a-internet",
        "test-egress-public-us-east-1b-internet",
    ]


# ----------------------------------------------------------------------------------- the API keys


def test_each_key_is_encrypted_with_its_own_rotating_cmk(plan: Plan) -> None:
    for name in ("chat", "drafts", "summaries", "partner"):
        key = plan.one("aws:kms/key:Key", f"test-{name}-key")
        assert key.inputs["enableKeyRotation"] is True
        secret = plan.one("aws:secretsmanager/secret:Secret", f"test-{name}-api-key")
        assert secret.inputs["kmsKeyId"] == f"arn:aws:kms:us-east-1:{AWS_ACCOUNT_ID}:test-{name}-key"
        role_arn = endpoints(plan)[name]["identity"]
        statements = {s["Sid"]: s for s in policy(key)["Statement"]}
        decrypt = statements["WorkloadDecryptViaSecretsManager"]
        assert decrypt["Principal"] == {"AWS": role_arn}
        assert decrypt["Action"] == "kms:Decrypt"
        assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
        assert set(statements) == {"AccountAdministration", "WorkloadDecryptViaSecretsManager"}


def test_resource_policy_lets_only_the_workload_read(plan: Plan) -> None:
    for name in ("chat", "drafts"):
        role_arn = endpoints(plan)[name]["identity"]
        resource = plan.one("aws:secretsmanager/secretPolicy:SecretPolicy", f"test-{name}-api-key-policy")
        assert resource.inputs["blockPublicPolicy"] is True
        statements = {s["Sid"]: s for s in policy(resource)["Statement"]}
        assert statements["WorkloadReads"]["Effect"] == "Allow"
        assert statements["WorkloadReads"]["Principal"] == {"AWS": role_arn}
        deny = statements["NobodyElseReads"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
        assert deny["Action"] == "secretsmanager:GetSecretValue"
        # Only the workload and the deploying identity (the provider reads the version back) are exempt.
        assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": sorted([role_arn, DEPLOYER])}}


def test_workload_role_is_assumable_by_the_allowed_principals_only(plan: Plan) -> None:
    role = plan.one("aws:iam/role:Role", "test-chat-workload")
    trust = policy(role, "assumeRolePolicy")
    assert trust["Statement"] == [
        {
            "Sid": "AllowedPrincipalsAssume",
            "Effect": "Allow",
            "Principal": {"AWS": [APP_ROLE]},
            "Action": "sts:AssumeRole",
        }
    ]
    access = policy(plan.one("aws:iam/rolePolicy:RolePolicy", "test-chat-workload-read"))
    read = access["Statement"][0]
    assert read["Resource"] == f"arn:aws:secretsmanager:us-east-1:{AWS_ACCOUNT_ID}:test-chat-api-key"
    assert read["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]


def test_external_rotation_ignores_the_stored_value_and_pulumi_rotation_does_not(plan: Plan) -> None:
    drafts = plan.one("aws:secretsmanager/secretVersion:SecretVersion", "test-drafts-api-key-value")
    chat = plan.one("aws:secretsmanager/secretVersion:SecretVersion", "test-chat-api-key-value")
    assert drafts.ignore_changes == ("secretString",)
    assert chat.ignore_changes == ()


def test_the_key_flows_only_into_secret_inputs_and_never_into_the_plan_json(plan: Plan) -> None:
    for config_key, value in PLANTED.items():
        holders = [
            (resource.name, path, secret)
            for resource in plan.resources
            for path, leaf, secret in leaves(resource.inputs)
            if isinstance(leaf, str) and value in leaf
        ]
        assert holders, f"{config_key} reached no resource"
        assert all(secret for _, _, secret in holders), holders
        for name, path, _ in holders:
            assert path == "secretString" and name.endswith("-api-key-value")
            assert path in plan.get(next(r.urn for r in plan.resources if r.name == name)).secret_paths()
    text = json.dumps(plan.to_json())
    outputs = json.dumps(plan.outputs)
    logs = json.dumps(plan.logs)
    for value in PLANTED.values():
        assert value not in text and value not in outputs and value not in logs
    version = plan.to_json()["resources"]
    chat = next(r for r in version if r["name"] == "test-chat-api-key-value")
    assert chat["secretInputs"] == ["secretString"] and chat["inputs"]["secretString"] == "[secret]"


def test_endpoint_names_url_secret_reference_identity_and_logs(plan: Plan) -> None:
    chat = endpoints(plan)["chat"]
    assert chat["pattern"] == "saas" and chat["auth"] == "api-key"
    assert chat["url"] == "https://api.openai.com/v1"
    assert chat["secret_ref"] == f"arn:aws:secretsmanager:us-east-1:{AWS_ACCOUNT_ID}:test-chat-api-key"
    assert chat["identity"] == f"arn:aws:iam:us-east-1:{AWS_ACCOUNT_ID}:test-chat-workload"
    assert chat["logs"] == "/triplane/test-egress/network-firewall/alert"
    assert endpoints(plan)["partner"]["url"] == "https://api.partner.example/v1"


def test_nothing_is_protected_in_dev_and_stateful_children_are_in_prod(plan: Plan) -> None:
    assert not any(r.protect for r in plan.resources)
    prod = plan_for(environment("prod"))
    for type_, name in [
        ("aws:kms/key:Key", "test-chat-key"),
        ("aws:secretsmanager/secret:Secret", "test-chat-api-key"),
        ("aws:cloudwatch/logGroup:LogGroup", "test-egress-alert-logs"),
    ]:
        resource = prod.one(type_, name)
        assert resource.protect and resource.retain_on_delete, name
    assert all(e.protect for e in prod.by_type("aws:ec2/eip:Eip"))
    assert prod.one("aws:networkfirewall/firewall:Firewall").inputs["deleteProtection"] is True


def test_existing_vpc_is_refused_by_the_firewall() -> None:
    from triplane.components.saas.egress_aws import AwsEgressFirewall, AwsEgressFirewallArgs

    existing = AwsNetworkRef(
        region="us-east-1",
        vpc_id="vpc-0123456789abcdef0",
        app_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        application_cidrs=["10.0.0.0/20"],
    )

    def program() -> None:
        AwsEgressFirewall("x", AwsEgressFirewallArgs(network=existing, hosts=["api.openai.com"]))

    with pytest.raises(ValueError, match="not created by Triplane"):
        run_program(program, stack="test")


def test_a_use_case_whose_hosts_the_firewall_does_not_allow_is_refused() -> None:
    from triplane.components.saas.egress_aws import AwsEgressFirewall, AwsEgressFirewallArgs
    from triplane.components.saas.saas_egress import SaasEgress, SaasEgressArgs

    def program() -> None:
        firewall = AwsEgressFirewall("fw", AwsEgressFirewallArgs(network=NETWORK, hosts=["api.openai.com"]))
        SaasEgress(
            "drafts",
            SaasEgressArgs(
                base_url="https://api.anthropic.com",
                hosts=["api.anthropic.com"],
                api_key="unused",
                network=NETWORK,
                egress=firewall,
                allowed_principals=[APP_ROLE],
            ),
        )

    with pytest.raises(ValueError, match=r"does not allow api\.anthropic\.com"):
        run_program(program, stack="test")
