"""The offline plan: every resource with the engine's view of it, in a documented, stable JSON form."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pulumi
import pytest

from triplane import plan as plan_module
from triplane.plan import PLAN_FORMAT, REDACTED, Plan, run_program
from triplane.stackfile import placeholder, plan_stack

RESOURCE_KEYS = {
    "urn",
    "type",
    "name",
    "custom",
    "parent",
    "inputs",
    "secretInputs",
    "dependencies",
    "protect",
    "retainOnDelete",
    "provider",
    "aliases",
    "ignoreChanges",
    "additionalSecretOutputs",
}


def test_plan_json_has_the_documented_shape(dev_plan: Plan) -> None:
    document = dev_plan.to_json()
    assert document["format"] == PLAN_FORMAT
    assert (document["project"], document["stack"]) == ("triplane", "dev")
    assert document["resources"][0]["type"] == "pulumi:pulumi:Stack"
    for resource in document["resources"]:
        assert set(resource) == RESOURCE_KEYS
        assert resource["urn"].startswith("urn:pulumi:dev::triplane::")
        assert resource["urn"].endswith(f"::{resource['name']}")
    assert set(document["outputs"]) == {"endpoints"}


def test_inputs_use_engine_property_names(dev_plan: Plan) -> None:
    vpc = dev_plan.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.40.0.0/16"
    assert vpc.inputs["enableDnsHostnames"] is True
    assert vpc.inputs["enableDnsSupport"] is True
    assert "cidr_block" not in vpc.inputs


def test_parents_dependencies_and_providers_are_urns(dev_plan: Plan) -> None:
    urns = {r.urn for r in dev_plan.resources}
    provider = dev_plan.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    for resource in dev_plan.resources:
        assert resource.parent is None or resource.parent in urns
        assert all(dep in urns for dep in resource.dependencies)
        if resource.provider:
            assert resource.provider.rsplit("::", 1)[0] in urns
    subnet = dev_plan.one("aws:ec2/subnet:Subnet", "app-us-east-1a")
    assert subnet.parent == dev_plan.one("triplane:network:AwsNetwork").urn
    assert dev_plan.one("aws:ec2/vpc:Vpc").urn in subnet.dependencies


def test_every_aws_resource_uses_the_one_configured_provider(dev_plan: Plan) -> None:
    provider = dev_plan.one("pulumi:providers:aws")
    custom = [r for r in dev_plan.resources if r.custom and r.type.startswith("aws:")]
    assert custom
    assert {r.provider.rsplit("::", 1)[0] for r in custom if r.provider} == {provider.urn}
    assert len(dev_plan.by_type("pulumi:providers:aws")) == 1


def test_secret_values_are_redacted_and_flagged(dev_plan: Plan) -> None:
    text = dev_plan.dumps()
    assert placeholder("triplane:openaiApiKey") not in text
    flagged = [r for r in dev_plan.to_json()["resources"] if r["secretInputs"]]
    assert flagged, "the API key must reach its secret store as a secret"
    for resource in flagged:
        for path in resource["secretInputs"]:
            value: object = resource["inputs"]
            for part in path.replace("]", "").replace("[", ".").split("."):
                value = value[int(part)] if isinstance(value, list) else value[part]  # type: ignore[index]
            assert value == REDACTED


def test_two_plans_of_a_stack_are_identical() -> None:
    assert plan_stack("dev").dumps() == plan_stack("dev").dumps()


def test_prod_plan_protects_stateful_resources(prod_plan: Plan) -> None:
    protected = Counter(r.type for r in prod_plan.resources if r.protect)
    assert protected["aws:kms/key:Key"] >= 1
    assert protected["aws:cloudwatch/logGroup:LogGroup"] >= 1
    for resource in prod_plan.resources:
        if resource.protect:
            assert resource.retain_on_delete, resource.urn


def test_dev_plan_protects_nothing(dev_plan: Plan) -> None:
    assert [r.urn for r in dev_plan.resources if r.protect] == []


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_endpoints_output_names_every_use_case(stack: str) -> None:
    from tests.conftest import planned
    from triplane.stackfile import load_stack

    plan = planned(stack)
    environment = load_stack(stack).environment()
    endpoints = plan.outputs["endpoints"]
    assert sorted(endpoints) == sorted(u.name for u in environment.use_cases)
    for use_case in environment.use_cases:
        endpoint = endpoints[use_case.name]
        assert endpoint["pattern"] == use_case.pattern
        assert endpoint["url"]
        assert endpoint["auth"]
    json.dumps(plan.to_json())


def test_type_aliases_are_shown_as_the_urns_they_stand_for(dev_plan: Plan) -> None:
    """The provider SDKs send an alias per former type in parts (pulumi-aws 7: Bucket was BucketV2)."""
    bucket = dev_plan.one("aws:s3/bucket:Bucket", "dev-bedrock-logging-bucket")
    former = bucket.urn.replace("$aws:s3/bucket:Bucket::", "$aws:s3/bucketV2:BucketV2::")
    assert former != bucket.urn
    assert set(bucket.aliases) == {former}


@pytest.mark.parametrize("drain", [True, False])
def test_a_failing_output_fails_the_run_and_the_next_run_starts_clean(drain: bool) -> None:
    def program() -> None:
        bucket = pulumi.CustomResource("aws:s3/bucketV2:BucketV2", "logs", {"bucket": "logs"})

        def fail(_: object) -> str:
            raise ValueError("the value is wrong")

        pulumi.export("broken", bucket.urn.apply(fail))

    with pytest.raises(Exception, match="the value is wrong"):
        run_program(program, stack="dev", drain=drain)

    def quiet() -> None:
        pulumi.CustomResource("aws:s3/bucketV2:BucketV2", "logs", {"bucket": "logs"})
        pulumi.log.warn("kept: a warning")
        pulumi.log.debug("dropped: debug chatter")

    plan = run_program(quiet, stack="dev", drain=drain)
    assert [r.type for r in plan.resources] == ["pulumi:pulumi:Stack", "aws:s3/bucketV2:BucketV2"]
    assert plan.logs == [("warning", "kept: a warning")]


def test_the_drain_leaves_nothing_for_the_sdk_to_wait_for() -> None:
    """After the drain, every registration and output the program started has finished."""
    left: list[list[asyncio.Task[object]]] = []

    async def program() -> None:
        bucket = pulumi.CustomResource("aws:s3/bucketV2:BucketV2", "logs", {"bucket": "logs"})
        chain = bucket.urn
        for _ in range(30):  # each apply starts only when the one before it has finished
            chain = chain.apply(lambda urn: urn)
        pulumi.export("chain", chain)
        await plan_module._drain()
        current = asyncio.current_task()
        left.append([task for task in asyncio.all_tasks() if task is not current and not task.done()])

    plan = run_program(program, stack="dev")
    assert left == [[]]
    assert plan.outputs["chain"] == plan.one("aws:s3/bucketV2:BucketV2").urn


def test_a_task_that_never_finishes_does_not_hold_up_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The drain gives up after a round with no progress; the SDK's wait decides the rest."""
    monkeypatch.setattr(plan_module, "DRAIN_PATIENCE", 0.05)

    def program() -> None:
        asyncio.get_event_loop().create_task(asyncio.Event().wait())
        pulumi.CustomResource("aws:s3/bucketV2:BucketV2", "logs", {"bucket": "logs"})

    start = time.monotonic()
    plan = run_program(program, stack="dev")
    assert time.monotonic() - start < 10
    assert [r.name for r in plan.resources if r.custom] == ["logs"]


def test_the_drain_changes_no_plan(local_plan: Plan) -> None:
    """The same stack run with the SDK alone waiting (the stock runtime) registers the same plan."""
    from triplane.stackfile import load_stack
    from triplane.stacks import program

    stack_file = load_stack("local")
    stock = run_program(
        program.main, stack=stack_file.name, config=stack_file.config, secret_keys=stack_file.secret_keys, drain=False
    )
    assert stock == local_plan
    assert stock.dumps() == local_plan.dumps()


def test_the_plan_command_prints_the_programs_warnings() -> None:
    from triplane.render import messages

    plan = Plan(project="triplane", stack="dev", resources=[],
                logs=[("info", "started"), ("warning", "no egress"), ("error", "broken")])
    assert messages(plan) == ["error: broken", "warning: no egress", "info: started"]
