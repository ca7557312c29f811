"""Composition: one shared network per cloud, one component per use case, names and tags from one place."""

from __future__ import annotations

from collections import Counter

from tests.conftest import planned
from triplane.components.tagging import REQUIRED_TAGS
from triplane.plan import Plan
from triplane.stackfile import load_stack


def test_one_network_per_cloud_however_many_use_cases(prod_plan: Plan) -> None:
    environment = load_stack("prod").environment()
    aws_use_cases = [u for u in environment.use_cases if getattr(u, "cloud", None) == "aws"]
    assert len(aws_use_cases) >= 2
    types = Counter(r.type for r in prod_plan.resources)
    assert types["triplane:network:AwsNetwork"] == 1
    assert types["triplane:network:AzureNetwork"] == 1
    assert types["triplane:network:GcpNetwork"] == 1
    assert types["aws:ec2/vpc:Vpc"] == 1
    assert types["azure-native:network:VirtualNetwork"] == 1
    assert types["gcp:compute/network:Network"] == 1


def test_networks_use_the_layout_blocks(prod_plan: Plan) -> None:
    subnets = sorted(r.inputs["cidrBlock"] for r in prod_plan.by_type("aws:ec2/subnet:Subnet")
                     if "-app-" in r.name)
    assert subnets == ["10.10.0.0/20", "10.10.16.0/20", "10.10.32.0/20"]
    azure_subnets = prod_plan.by_type("azure-native:network:Subnet")
    azure = {r.inputs["subnetName"]: r.inputs["addressPrefix"] for r in azure_subnets}
    assert azure["app"] == "10.20.0.0/20"
    assert azure["private-endpoints"] == "10.20.16.0/20"
    gcp_subnet = prod_plan.one("gcp:compute/subnetwork:Subnetwork", "prod-gcp-app")
    assert gcp_subnet.inputs["ipCidrRange"] == "10.30.0.0/20"
    assert gcp_subnet.inputs["privateIpGoogleAccess"] is True


def test_one_component_per_use_case_named_by_the_prefix_rule(prod_plan: Plan) -> None:
    environment = load_stack("prod").environment()
    top = {r.name for r in prod_plan.resources if r.parent == prod_plan.resources[0].urn}
    for use_case in environment.use_cases:
        assert f"prod-{use_case.name}" in top, use_case.name


def test_network_children_are_private(prod_plan: Plan) -> None:
    for subnet in prod_plan.by_type("aws:ec2/subnet:Subnet"):
        if "-app-" in subnet.name:
            assert subnet.inputs["mapPublicIpOnLaunch"] is False
    default_sg = prod_plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg.inputs["ingress"] == [] and default_sg.inputs["egress"] == []
    flow_log = prod_plan.one("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL"
    for subnet in prod_plan.by_type("azure-native:network:Subnet"):
        if subnet.inputs["subnetName"] in ("app", "private-endpoints"):
            assert subnet.inputs["defaultOutboundAccess"] is False
    assert prod_plan.one("gcp:compute/network:Network").inputs["deleteDefaultRoutesOnCreate"] is True


def test_aws_and_azure_resources_carry_the_required_tags() -> None:
    for stack in ("dev", "prod"):
        plan = planned(stack)
        for resource in plan.resources:
            tags = resource.inputs.get("tags")
            if resource.custom and isinstance(tags, dict) and resource.type.split(":")[0] in ("aws", "azure-native"):
                missing = [k for k in REQUIRED_TAGS if k not in tags]
                assert not missing, f"{resource.urn} lacks {missing}"
                assert tags["environment"] == stack
