"""The first deploy from outside a private network: cloud resources first, Kubernetes objects after."""

from __future__ import annotations

import shlex

import pytest
from click.testing import CliRunner

from triplane.cli import cli
from triplane.first_deploy import cloud_first, command, in_cluster
from triplane.plan import STACK_TYPE, Plan
from triplane.stackfile import plan_stack


@pytest.fixture(scope="module")
def platform() -> Plan:
    return plan_stack("prod-platform")


def test_the_first_run_is_closed_under_dependencies_and_touches_no_cluster_api(platform: Plan) -> None:
    first = set(cloud_first(platform))
    by_urn = {r.urn: r for r in platform.resources}
    stack = next(r.urn for r in platform.resources if r.type == STACK_TYPE)
    for urn in first:
        resource = by_urn[urn]
        assert not resource.type.startswith("kubernetes:") and resource.type != "pulumi:providers:kubernetes", urn
        for needed in (*resource.dependencies, *([resource.parent] if resource.parent else [])):
            assert needed in first or needed == stack, f"{urn} needs {needed}, which the first run leaves out"
        if resource.provider:
            assert resource.provider_urn in first, urn
    # Everything else is a Kubernetes object, a Kubernetes provider, or what depends on them.
    rest = {r.urn for r in platform.resources} - first - {stack}
    assert rest == in_cluster(platform)
    assert {by_urn[u].type for u in rest} >= {"pulumi:providers:kubernetes", "kubernetes:helm.sh/v3:Release"}


def test_the_first_run_creates_the_clusters_and_the_deployers_access(platform: Plan) -> None:
    types = {r.type for r in platform.resources if r.urn in set(cloud_first(platform))}
    assert {"aws:eks/cluster:Cluster", "aws:eks/accessEntry:AccessEntry", "aws:eks/nodeGroup:NodeGroup",
            "azure-native:containerservice:ManagedCluster", "gcp:container/cluster:Cluster",
            "aws:ec2/vpc:Vpc", "aws:networkfirewall/firewall:Firewall"} <= types


def test_the_command_targets_exactly_that_set(platform: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    words = shlex.split(command(platform))
    assert words[:4] == ["pulumi", "up", "-s", "prod-platform"]
    assert words[4::2] == ["--target"] * len(cloud_first(platform))
    assert words[5::2] == cloud_first(platform)
    result = CliRunner().invoke(cli, ["first-deploy", "prod-platform"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == command(platform)
