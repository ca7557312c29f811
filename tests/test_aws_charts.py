"""The chart function of a cluster's managed Prometheus: Python 3.13 in the VPC's app subnets, reaching only
the VPC on 443 (the endpoints admit it), its workspace's query URL fixed by the component, a role allowed to
query that workspace, manage its own network interfaces and write its own encrypted logs, and nothing
else: no function URL, no resource policy."""

from __future__ import annotations

import json

import pulumi
import pytest

from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints, AwsInterfaceEndpointsArgs
from triplane.components.network.refs import AwsNetworkRef
from triplane.components.observability import amp_chart
from triplane.components.observability.aws_charts import (
    AwsPrometheusCharts,
    AwsPrometheusChartsArgs,
    function_policy,
    query_url,
)
from triplane.components.tagging import standard_tags
from triplane.plan import Plan, run_program
from triplane.stacks.clouds.aws import ACCOUNT_ID

REGION = "us-east-1"
TAGS = standard_tags(environment="prod", owner="ml-platform", cost_center="cc-42")
NETWORK = AwsNetworkRef(
    region=REGION,
    vpc_id="vpc-0123456789abcdef0",
    app_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    application_cidrs=["10.20.0.0/20", "10.20.16.0/20"],
    cidr="10.20.0.0/16",
)
WORKSPACE_ID = "ws-0123abcd"
FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "/aws/lambda/prod-gpu-prometheus-charts"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}"


def _plan(network: AwsNetworkRef = NETWORK, endpoints: bool = True) -> Plan:
    def program() -> None:
        registry = (
            AwsInterfaceEndpoints("prod-endpoints", AwsInterfaceEndpointsArgs(network=network, tags=TAGS))
            if endpoints
            else None
        )
        if registry is not None:
            registry.endpoint("aps-workspaces")
        charts = AwsPrometheusCharts(
            "prod-gpu-charts",
            AwsPrometheusChartsArgs(
                prefix="prod-gpu",
                region=REGION,
                workspace_id=WORKSPACE_ID,
                network=network,
                endpoints=registry,
                tags=TAGS,
                protect=True,
            ),
        )
        pulumi.export("function_arn", charts.function_arn)

    return run_program(program, stack="ts")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return _plan()


def test_the_function_runs_the_shipped_handler_on_python_3_13(plan: Plan) -> None:
    function = plan.one(FUNCTION).inputs
    assert (function["runtime"], function["handler"], function["architectures"]) == (
        "python3.13", "amp_chart.handler", ["arm64"])
    assert (function["timeout"], function["reservedConcurrentExecutions"]) == (20, 5)
    assert function["name"] == "prod-gpu-prometheus-charts"
    assert plan.outputs["function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:prod-gpu-prometheus-charts"
    assets = function["code"]["assets"]
    assert set(assets) == {"amp_chart.py"}
    source = assets["amp_chart.py"]["text"]
    with open(amp_chart.__file__, encoding="utf-8") as shipped:
        assert source == shipped.read()
    assert "from triplane" not in source and "import triplane" not in source  # stands alone in the runtime


def test_the_workspace_url_is_set_by_the_component(plan: Plan) -> None:
    variables = plan.one(FUNCTION).inputs["environment"]["variables"]
    assert variables == {
        "AMP_QUERY_URL": f"https://aps-workspaces.{REGION}.amazonaws.com/workspaces/{WORKSPACE_ID}/api/v1/query_range"
    }
    assert query_url(REGION, WORKSPACE_ID) == variables["AMP_QUERY_URL"]


def test_it_runs_in_the_app_subnets_with_its_own_group_reaching_the_vpc_on_443_only(plan: Plan) -> None:
    function = plan.one(FUNCTION).inputs
    group = plan.one("aws:ec2/securityGroup:SecurityGroup", "prod-gpu-charts-sg")
    assert function["vpcConfig"] == {
        "subnetIds": list(NETWORK.app_subnet_ids), "securityGroupIds": [f"{group.name}-id"]}
    assert group.inputs["vpcId"] == NETWORK.vpc_id
    assert group.inputs["ingress"] == []
    [egress] = group.inputs["egress"]
    assert (egress["protocol"], egress["fromPort"], egress["toPort"], egress["cidrBlocks"]) == (
        "tcp", 443, 443, ["10.20.0.0/16"])


def test_the_endpoints_admit_the_function_on_443(plan: Plan) -> None:
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "from-prod-gpu-prometheus-charts")
    assert rule.inputs["referencedSecurityGroupId"] == "prod-gpu-charts-sg-id"
    assert rule.inputs["securityGroupId"] == "prod-endpoints-sg-id"
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)


def test_an_existing_network_is_reached_by_its_vpc_block_and_endpoints_held_elsewhere_get_no_rule() -> None:
    existing = AwsNetworkRef(
        region=REGION, vpc_id="vpc-existing", app_subnet_ids=["subnet-1", "subnet-2"], application_cidrs=["10.9.0.0/20"]
    )
    plan = _plan(existing, endpoints=False)
    [egress] = plan.one("aws:ec2/securityGroup:SecurityGroup").inputs["egress"]
    assert egress["cidrBlocks"] == ["10.0.0.0/16"]  # the mock's answer to ec2:getVpc for the VPC
    assert not plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")


def test_the_role_may_query_its_workspace_manage_its_interfaces_and_write_its_logs_only(plan: Plan) -> None:
    role = plan.one("aws:iam/role:Role").inputs
    assert json.loads(role["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    assert plan.one(FUNCTION).inputs["role"] == f"arn:aws:iam:us-east-1:{ACCOUNT_ID}:prod-gpu-charts-role"
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy == json.loads(function_policy(
        workspace=f"arn:aws:aps:{REGION}:{ACCOUNT_ID}:workspace/{WORKSPACE_ID}",
        region=REGION,
        account=ACCOUNT_ID,
        vpc_id=NETWORK.vpc_id,
        subnet_ids=list(NETWORK.app_subnet_ids),
        security_group_id="prod-gpu-charts-sg-id",
        log_group_arn=f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{LOG_GROUP}",
    ))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["QueryTheWorkspace"] == {
        "Sid": "QueryTheWorkspace", "Effect": "Allow", "Action": "aps:QueryMetrics",
        "Resource": f"arn:aws:aps:{REGION}:{ACCOUNT_ID}:workspace/{WORKSPACE_ID}"}
    assert by_sid["CreateInterfacesInItsSubnets"]["Resource"] == [
        f"{EC2}:network-interface/*",
        f"{EC2}:subnet/subnet-0aaaaaaaaaaaaaaaa",
        f"{EC2}:subnet/subnet-0bbbbbbbbbbbbbbbb",
        f"{EC2}:security-group/prod-gpu-charts-sg-id"]
    assert by_sid["ManageInterfacesInItsVpc"]["Condition"] == {
        "ArnEquals": {"ec2:Vpc": f"{EC2}:vpc/{NETWORK.vpc_id}"}}
    assert by_sid["DescribeInterfaces"]["Action"] == ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    assert by_sid["WriteItsLogs"] == {
        "Sid": "WriteItsLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{LOG_GROUP}:*"}
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.endswith("*") for a in actions)
    assert not plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    grant = plan.one("aws:iam/rolePolicy:RolePolicy")
    assert grant.urn in plan.one(FUNCTION).dependencies  # its interfaces are created as the role


def test_its_logs_are_kept_encrypted_with_a_key_only_logs_may_use_for_them(plan: Plan) -> None:
    logs = plan.one("aws:cloudwatch/logGroup:LogGroup")
    key = plan.one("aws:kms/key:Key")
    assert logs.inputs["name"] == LOG_GROUP and logs.inputs["retentionInDays"] == 365 and logs.protect
    assert logs.inputs["kmsKeyId"] == f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:prod-gpu-charts-key"
    assert key.inputs["enableKeyRotation"] is True and key.protect
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert set(statements) == {"AccountAdministration", "ChartFunctionLogs"}
    assert statements["ChartFunctionLogs"]["Condition"] == {"StringEquals": {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{LOG_GROUP}"}}
    assert plan.one(FUNCTION).inputs["loggingConfig"] == {"logFormat": "Text", "logGroup": LOG_GROUP}


def test_nobody_else_may_call_it(plan: Plan) -> None:
    assert not plan.by_type("aws:lambda/functionUrl:FunctionUrl")
    assert not plan.by_type("aws:lambda/permission:Permission")
    assert plan.one(FUNCTION).inputs["tags"]["owner"] == "ml-platform"


def test_a_network_without_app_subnets_is_refused() -> None:
    bare = AwsNetworkRef(region=REGION, vpc_id="vpc-1", app_subnet_ids=[], application_cidrs=[])
    with pytest.raises(Exception, match="no app subnets to run the chart function in"):
        _plan(bare, endpoints=False)

