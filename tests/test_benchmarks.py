"""The benchmark harness: generated environments, the longest chain, the floor, and one tiny run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import environments, run
from benchmarks.chain import longest_chain, ordered, redundant_dependencies, waits_for
from triplane.plan import Plan, PlannedResource
from triplane.stacks.spec import validate_environment

STACK = "chain"


def res(
    type_: str,
    name: str,
    parent: str | None = None,
    dependencies: tuple[str, ...] = (),
    provider: str | None = None,
) -> PlannedResource:
    prefix = f"urn:pulumi:{STACK}::triplane::"
    return PlannedResource(
        urn=f"{prefix}{type_}::{name}",
        type=type_,
        name=name,
        custom=not type_.startswith(("triplane:", "pulumi:pulumi:")),
        parent=parent,
        inputs={},
        dependencies=dependencies,
        protect=False,
        retain_on_delete=False,
        provider=provider,
        aliases=(),
        ignore_changes=(),
        additional_secret_outputs=(),
    )


def hand_built() -> tuple[Plan, dict[str, PlannedResource]]:
    """provider -> vpc -> subnet; a component waiting on the subnet; its children; a parallel branch.

    vpc (1) -> subnet (2) -> [component `app` depends on subnet] -> role (3) -> policy (4), whose
    child `attachment` (parent edge from a custom resource) is 5. `bucket` hangs off the vpc alone,
    and `log` depends on vpc and subnet (the vpc edge is redundant: the subnet already waits for it).
    """
    stack = res("pulumi:pulumi:Stack", f"triplane-{STACK}")
    provider = res("pulumi:providers:aws", "aws", parent=stack.urn)
    ref = f"{provider.urn}::aws-provider-id"
    vpc = res("aws:ec2/vpc:Vpc", "vpc", parent=stack.urn, provider=ref)
    subnet = res("aws:ec2/subnet:Subnet", "subnet", parent=stack.urn, dependencies=(vpc.urn,), provider=ref)
    app = res("triplane:test:App", "app", parent=stack.urn, dependencies=(subnet.urn,))
    role = res("aws:iam/role:Role", "role", parent=app.urn, provider=ref)
    policy = res("aws:iam/policy:Policy", "policy", parent=app.urn, dependencies=(role.urn,), provider=ref)
    attachment = res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attachment", parent=policy.urn)
    bucket = res("aws:s3/bucket:Bucket", "bucket", parent=stack.urn, dependencies=(vpc.urn,), provider=ref)
    log = res("aws:cloudwatch/logGroup:LogGroup", "log", parent=stack.urn, dependencies=(vpc.urn, subnet.urn))
    every = [stack, provider, vpc, subnet, app, role, policy, attachment, bucket, log]
    # Registration order must not matter: hand them over children first.
    plan = Plan(project="triplane", stack=STACK, resources=list(reversed(every)))
    return plan, {r.name.removeprefix("triplane-"): r for r in every}


def test_longest_chain_counts_cloud_resources_through_parents_and_components() -> None:
    plan, r = hand_built()
    chain = longest_chain(plan)
    assert chain.length == 5
    assert chain.urns == tuple(r[n].urn for n in ("vpc", "subnet", "role", "policy", "attachment"))
    assert chain.describe(plan)[0] == "aws:ec2/vpc:Vpc vpc"
    # The component, the provider and the stack pass ordering on but take no time of their own.
    assert r["app"].urn not in chain.urns
    assert r["aws"].urn not in chain.urns


def test_a_component_without_its_dependency_no_longer_delays_its_children() -> None:
    plan, r = hand_built()
    free_app = res("triplane:test:App", "app", parent=r["chain"].urn)
    plan.resources = [free_app if x.urn == free_app.urn else x for x in plan.resources]
    assert longest_chain(plan).length == 3  # role -> policy -> attachment; vpc -> subnet is 2


def test_waits_and_redundant_dependencies() -> None:
    plan, r = hand_built()
    assert waits_for(r["subnet"]) == [r["chain"].urn, r["aws"].urn, r["vpc"].urn]
    assert redundant_dependencies(plan) == [(r["log"].urn, r["vpc"].urn)]
    positions = {x.urn: i for i, x in enumerate(ordered(plan.resources))}
    assert positions[r["vpc"].urn] < positions[r["subnet"].urn] < positions[r["app"].urn] < positions[r["role"].urn]


def test_a_cycle_is_refused() -> None:
    a = res("aws:ec2/vpc:Vpc", "a", dependencies=("urn:pulumi:chain::triplane::aws:ec2/vpc:Vpc::b",))
    b = res("aws:ec2/vpc:Vpc", "b", dependencies=(a.urn,))
    with pytest.raises(ValueError, match="cycle"):
        longest_chain(Plan(project="triplane", stack=STACK, resources=[a, b]))
    assert longest_chain(Plan(project="triplane", stack=STACK)).length == 0


def test_paired_ratio_is_the_median_of_each_rounds_ratio() -> None:
    # Round 2's fast floor would make best/best 2.0 / 1.0 = 2.0; round by round the plan is 1.1x.
    assert run.paired_ratio([2.2, 2.0, 2.4], [2.0, 1.0, 2.2]) == pytest.approx(1.1, abs=0.01)
    with pytest.raises(ValueError):
        run.paired_ratio([1.0, 2.0], [1.0])


def test_generated_environments_mix_every_pattern_and_cloud_and_validate() -> None:
    value = environments.environment(9, environments.PATTERNS)
    pairs = {(u["pattern"], u.get("cloud") or u["cluster"].removeprefix("gpu-")) for u in value["use_cases"]}
    assert pairs == {(p, c) for p in environments.PATTERNS for c in environments.CLOUDS}
    assert [c["name"] for c in value["kubernetes"]] == ["gpu-aws", "gpu-azure", "gpu-gcp"]
    assert len(validate_environment(value, "test").use_cases) == 9
    without = environments.environment(4, ("saas",))
    assert "kubernetes" not in without
    assert {u["pattern"] for u in without["use_cases"]} == {"saas"}
    assert environments.secret_keys(without) == [f"triplane:apiKey{i:04d}" for i in range(4)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    report = run.main(
        ["--sizes", "1", "2", "--repeat", "1", "--patterns", "saas", "--no-shipped", "--no-import-time", "--no-warm-up",
         "--timeout", "120", "--out", str(out)]
    )
    return report, out


def ratio_of(numerator: float, denominator: float) -> Any:
    """`numerator / denominator`, allowing for the report rounding both times and the ratio to 1 ms / 0.001."""
    ratio = numerator / denominator
    return pytest.approx(ratio, rel=0.01, abs=0.0005 + 0.0005 * (1 + ratio) / denominator)


def test_tiny_run_measures_plan_floor_and_gate(tiny: tuple[dict[str, Any], Path]) -> None:
    report, out = tiny
    assert json.loads(out.read_text(encoding="utf-8")) == report
    assert report["format"] == "triplane-benchmark/1"
    assert report["machine"]["nproc"] >= 1 and report["machine"]["python"].startswith("3.")
    one, two = report["sizes"]
    assert (one["use_cases"], two["use_cases"]) == (1, 2)
    assert one["patterns"] == ["saas"]
    assert 0 < one["resources"] < two["resources"]
    for size in (one, two):
        assert size["floor_same_requests"] is True, size["floor_mismatches"]
        assert set(size["seconds"]) == {"plan", "floor", "gate"}
        assert all(v > 0 for v in size["seconds"].values())
        # One round: the paired ratio is that round's plan time over its floor time.
        assert size["plan_to_floor"] == ratio_of(size["seconds"]["plan"], size["seconds"]["floor"])
        assert size["gate_to_plan"] == ratio_of(size["seconds"]["gate"], size["seconds"]["plan"])
        assert size["gate"]["mandatory"] == []
        assert size["longest_chain"]["length"] == len(size["longest_chain"]["chain"]) > 1
    assert set(report["per_resource_growth"]) == {"plan", "floor", "gate"}
