"""One transformation tags every cloud resource a component makes (`components.tagging.tagged`)."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_aws import ec2 as aws_ec2
from pulumi_gcp import storage as gcp_storage

from triplane.components.tagging import gcp_labels, tag_transformation, tagged
from triplane.plan import Plan, run_program

TAGS = {"owner": "Platform Team", "use-case": "chat", "managed-by": "triplane"}


def transformed(type_: str, props: dict[str, Any]) -> dict[str, Any] | None:
    args = pulumi.ResourceTransformationArgs(None, type_, "r", props, pulumi.ResourceOptions())  # type: ignore[arg-type]
    result = tag_transformation(TAGS)(args)
    return None if result is None else dict(result.props)


def test_cloud_resources_get_the_tags_under_their_own() -> None:
    assert transformed("aws:ec2/vpc:Vpc", {"cidr_block": "10.0.0.0/16"}) == {"cidr_block": "10.0.0.0/16", "tags": TAGS}
    own = transformed("aws:ec2/vpc:Vpc", {"tags": {"Name": "vpc", "owner": "someone"}})
    assert own == {"tags": {**TAGS, "Name": "vpc", "owner": "someone"}}
    assert transformed("azure-native:network:VirtualNetwork", {"tags": None}) == {"tags": TAGS}


def test_google_cloud_gets_labels_in_the_argument_its_type_uses() -> None:
    assert transformed("gcp:storage/bucket:Bucket", {}) == {"labels": gcp_labels(TAGS)}
    assert gcp_labels(TAGS)["owner"] == "platform_team"
    assert transformed("gcp:container/cluster:Cluster", {}) == {"resource_labels": gcp_labels(TAGS)}


def test_what_takes_no_tags_is_left_alone() -> None:
    assert transformed("kubernetes:core/v1:Namespace", {"metadata": {"labels": {"a": "b"}}}) is None
    assert transformed("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r"}) is None
    rule = {"target": "all-apis", "network": "n"}
    assert transformed("gcp:compute/globalForwardingRule:GlobalForwardingRule", rule) is None
    regional = transformed("gcp:compute/globalForwardingRule:GlobalForwardingRule", {"target": "proxy"})
    assert regional == {"target": "proxy", "labels": gcp_labels(TAGS)}
    assert transformed("aws:ec2/vpc:Vpc", {"tags": dict(TAGS)}) is None


class Outer(pulumi.ComponentResource):
    def __init__(self, name: str, tags: dict[str, str], inner_tags: dict[str, str]) -> None:
        super().__init__("test:tags:Outer", name, None, tagged(None, tags))
        aws_ec2.Vpc(f"{name}-vpc", cidr_block="10.0.0.0/16", opts=pulumi.ResourceOptions(parent=self))
        Inner(f"{name}-inner", inner_tags, pulumi.ResourceOptions(parent=self))


class Inner(pulumi.ComponentResource):
    def __init__(self, name: str, tags: dict[str, str], opts: pulumi.ResourceOptions) -> None:
        super().__init__("test:tags:Inner", name, None, tagged(opts, tags))
        child = pulumi.ResourceOptions(parent=self)
        aws_ec2.Vpc(f"{name}-vpc", cidr_block="10.1.0.0/16", tags={"Name": "inner"}, opts=child)
        gcp_storage.Bucket(f"{name}-bucket", location="EU", opts=child)
        # Tags that are an Output are the resource's own decision: left whole.
        aws_ec2.Vpc(f"{name}-computed", tags=pulumi.Output.from_input({"a": "b"}), opts=child)


def test_each_resource_carries_its_nearest_components_tags() -> None:
    def program() -> None:
        Outer("o", {"use-case": "outer"}, {"use-case": "inner", "owner": "Team A"})
        aws_ec2.Vpc("loose", cidr_block="10.2.0.0/16")

    plan: Plan = run_program(program, stack="t")
    inputs = {r.name: r.inputs for r in plan.resources}
    assert inputs["o-vpc"]["tags"] == {"use-case": "outer"}
    assert inputs["o-inner-vpc"]["tags"] == {"use-case": "inner", "owner": "Team A", "Name": "inner"}
    assert inputs["o-inner-bucket"]["labels"] == {"use-case": "inner", "owner": "team_a"}
    assert inputs["o-inner-computed"]["tags"] == {"a": "b"}
    assert "tags" not in inputs["loose"]
