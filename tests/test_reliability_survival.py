"""Data that must survive: stateful resources are protected in prod, and a rename keeps them.

`STATEFUL` lists every resource type that holds data or an identity someone else depends on (a
key that encrypts data, a secret store, a log store, a model cache, an address a vendor has
allowlisted). On the shipped `prod` plan each is `protect` and `retainOnDelete`; on `dev` nothing
is; `protect_stateful: false` turns it off in prod. A rename with `previous_name` aliases the use
case's component to its former name, so Pulumi carries its resources over.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.reliability_support import stack_document, variant
from triplane.components.gateway import routes
from triplane.plan import Plan, PlannedResource
from triplane.stackfile import plan_stack
from triplane.stacks.gateway import upstream_key_secret
from triplane.stacks.spec import SpecError, validate_environment


def _always(resource: PlannedResource) -> bool:
    return True


def _external(resource: PlannedResource) -> bool:
    return resource.inputs.get("addressType") == "EXTERNAL"


def _model_server_namespace(resource: PlannedResource) -> bool:
    return (resource.parent or "").split("::")[2].endswith("triplane:selfmanaged:ModelServer")


STATEFUL: dict[str, tuple[str, Callable[[PlannedResource], bool]]] = {
    # type: (why it must survive, which resources of the type)
    "aws:kms/key:Key": ("encrypts data and logs: deleting it makes them unreadable", _always),
    "aws:cloudwatch/logGroup:LogGroup": ("audit, flow and invocation logs", _always),
    "aws:s3/bucket:Bucket": ("invocation logs", _always),
    "aws:s3/bucketV2:BucketV2": ("invocation logs", _always),
    "aws:secretsmanager/secret:Secret": ("a provider API key", _always),
    "aws:ec2/eip:Eip": ("an egress address the API vendor has allowlisted", _always),
    "aws:efs/fileSystem:FileSystem": ("the shared model cache", _always),
    "azure-native:resources:ResourceGroup": ("deleting it deletes every vault and workspace in it", _always),
    "azure-native:keyvault:Vault": ("keys and secrets", _always),
    "azure-native:keyvault:Key": ("encrypts the Azure OpenAI account and cluster secrets", _always),
    "azure-native:keyvault:Secret": ("a provider API key", _always),
    "azure-native:operationalinsights:Workspace": ("audit and firewall logs", _always),
    "azure-native:network:PublicIPAddress": ("an egress address the API vendor has allowlisted", _always),
    "gcp:kms/keyRing:KeyRing": ("holds the crypto keys", _always),
    "gcp:kms/cryptoKey:CryptoKey": ("encrypts secrets, logs and cluster secrets", _always),
    "gcp:secretmanager/secret:Secret": ("a provider API key", _always),
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": ("Vertex AI audit logs", _always),
    "gcp:compute/address:Address": ("an egress address the API vendor has allowlisted", _external),
    "kubernetes:core/v1:PersistentVolumeClaim": ("the model cache: hours of downloads", _always),
    "kubernetes:core/v1:Namespace": ("deleting it deletes the model cache claim in it", _model_server_namespace),
}
PROD_MUST_HAVE = {
    "aws:kms/key:Key",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:s3/bucket:Bucket",
    "aws:secretsmanager/secret:Secret",
    "azure-native:keyvault:Vault",
    "azure-native:keyvault:Key",
    "azure-native:operationalinsights:Workspace",
    "gcp:kms/cryptoKey:CryptoKey",
    "gcp:secretmanager/secret:Secret",
    "gcp:logging/projectBucketConfig:ProjectBucketConfig",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:Namespace",
}
"""Stateful types the shipped prod stack has: the test cannot pass by planning none of them."""


def stateful(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type in STATEFUL and STATEFUL[r.type][1](r)]


@functools.cache
def plan_of(stack: str) -> Plan:
    from tests.reliability_support import shipped_plan

    return shipped_plan(stack)


def test_prod_protects_and_retains_every_stateful_resource() -> None:
    plan = plan_of("prod")
    found = stateful(plan)
    assert {r.type for r in found} >= PROD_MUST_HAVE
    unguarded = [f"{r.type} {r.name}" for r in found if not (r.protect and r.retain_on_delete)]
    assert unguarded == []


def test_prod_protects_what_the_shipped_stack_does_not_plan() -> None:
    """prod, grown by an AKS cluster, an Azure SaaS key store and a Bedrock guardrail."""
    from tests.test_reliability_names import long_names_plan

    plan = long_names_plan()
    found = stateful(plan)
    assert {"azure-native:keyvault:Secret", "azure-native:network:PublicIPAddress",
            "azure-native:resources:ResourceGroup"} <= {r.type for r in found}  # fmt: skip
    assert [f"{r.type} {r.name}" for r in found if not (r.protect and r.retain_on_delete)] == []


def test_prod_protects_nothing_it_does_not_retain() -> None:
    assert [r.urn for r in plan_of("prod").resources if r.protect != r.retain_on_delete] == []


@pytest.mark.parametrize("stack", ["dev", "local"])
def test_dev_class_stacks_protect_nothing(stack: str) -> None:
    plan = plan_of(stack)
    assert stateful(plan), "the stack has stateful resources to leave unprotected"
    assert [r.urn for r in plan.resources if r.protect or r.retain_on_delete] == []


def test_protect_stateful_false_turns_protection_off_in_prod(tmp_path: Path) -> None:
    def unprotect(environment: dict[str, Any]) -> None:
        environment["protect_stateful"] = False

    plan = plan_stack(str(variant(tmp_path, "prod", unprotect)))
    assert len(stateful(plan)) == len(stateful(plan_of("prod")))
    assert [r.urn for r in plan.resources if r.protect or r.retain_on_delete] == []


def test_the_clouds_own_deletion_guards_are_on_everywhere() -> None:
    """Independent of the tier: soft delete, recovery and deletion windows the cloud enforces."""
    for stack in ("dev", "prod"):
        plan = plan_of(stack)
        for key in plan.by_type("aws:kms/key:Key"):
            assert key.inputs["deletionWindowInDays"] >= 30, key.name
        for secret in plan.by_type("aws:secretsmanager/secret:Secret"):
            assert secret.inputs["recoveryWindowInDays"] >= 7, secret.name
        for bucket in plan.by_type("aws:s3/bucket:Bucket"):
            assert not bucket.inputs.get("forceDestroy"), bucket.name
        for vault in plan.by_type("azure-native:keyvault:Vault"):
            assert vault.inputs["properties"]["enablePurgeProtection"] is True, vault.name


# --- renames ----------------------------------------------------------------------------------------

OLD, NEW = "support-drafts", "support-replies"


@functools.cache
def renamed_pair(directory: str) -> tuple[Plan, Plan]:
    """dev at the prod tier, before and after renaming its SaaS use case with `previous_name`."""

    def prod_tier(environment: dict[str, Any]) -> None:
        environment["tier"] = "prod"

    def renamed(environment: dict[str, Any]) -> None:
        prod_tier(environment)
        use_case = next(u for u in environment["use_cases"] if u["name"] == OLD)
        use_case["name"], use_case["previous_name"] = NEW, OLD

    before = plan_stack(str(variant(Path(directory) / "before", "dev", prod_tier)))
    after = plan_stack(str(variant(Path(directory) / "after", "dev", renamed)))
    return before, after


@pytest.fixture(scope="module")
def rename(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Plan]:
    return renamed_pair(str(tmp_path_factory.mktemp("rename")))


def descendants(plan: Plan, urn: str) -> list[PlannedResource]:
    found = []
    for child in plan.children(urn):
        found.append(child)
        found.extend(descendants(plan, child.urn))
    return found


def test_the_renamed_component_is_aliased_to_its_former_name(rename: tuple[Plan, Plan]) -> None:
    before, after = rename
    old = before.one("triplane:saas:SaasEgress", f"dev-{OLD}")
    new = after.one("triplane:saas:SaasEgress", f"dev-{NEW}")
    assert new.aliases == (old.urn,)
    assert old.aliases == ()
    assert [r.name for r in after.resources if old.urn in r.aliases] == [f"dev-{NEW}"]


def test_every_resource_of_the_renamed_use_case_maps_to_its_former_self(rename: tuple[Plan, Plan]) -> None:
    """Children inherit the parent's alias by name prefix: `dev-<new>-x` is found as `dev-<old>-x`."""
    before, after = rename
    old_root = before.one("triplane:saas:SaasEgress", f"dev-{OLD}")
    new_root = after.one("triplane:saas:SaasEgress", f"dev-{NEW}")
    old = {(r.type, r.name) for r in descendants(before, old_root.urn)}
    new = descendants(after, new_root.urn)
    assert len(new) == len(old) > 5
    for resource in new:
        assert resource.name == f"dev-{NEW}" or resource.name.startswith(f"dev-{NEW}-"), resource.name
        assert (resource.type, resource.name.replace(f"dev-{NEW}", f"dev-{OLD}", 1)) in old


def test_a_rename_never_silently_replaces_stateful_data(rename: tuple[Plan, Plan]) -> None:
    """Whatever a rename changes in a stateful resource (a cloud name that embeds the use case's name
    forces a replacement), the resource is protected at the prod tier, so the update stops instead."""
    before, after = rename
    old = {(r.type, r.name): r for r in before.resources}
    changed = []
    for resource in stateful(after):
        former = old.get((resource.type, resource.name.replace(f"dev-{NEW}", f"dev-{OLD}", 1)))
        assert former is not None, resource.name
        inputs = {k: v for k, v in resource.inputs.items() if k not in ("tags", "labels")}
        if inputs != {k: v for k, v in former.inputs.items() if k not in ("tags", "labels")}:
            changed.append(resource)
    assert all(r.protect and r.retain_on_delete for r in changed), [r.name for r in changed]


def test_other_use_cases_do_not_move_when_one_is_renamed(rename: tuple[Plan, Plan]) -> None:
    before, after = rename

    def outside(plan: Plan, name: str) -> set[str]:
        root = plan.one("triplane:saas:SaasEgress", f"dev-{name}")
        inside = {root.urn, *(r.urn for r in descendants(plan, root.urn)), *gateway_objects(plan, name)}
        return {r.urn for r in plan.resources if r.urn not in inside}

    # The gateway's objects of the use case are named after it, as the model name applications send is:
    # they are stateless, and come again under the new name.
    assert gateway_objects(before, OLD) and gateway_objects(after, NEW)

    assert outside(before, OLD) == outside(after, NEW)


ALERT_RULES = ("aws:amp/ruleGroupNamespace:RuleGroupNamespace", "azure-native:alertsmanagement:PrometheusRuleGroup")
"""Rule files a managed Prometheus evaluates, one per use case, tagged with it and named after it."""


def gateway_objects(plan: Plan, use_case: str) -> set[str]:
    """The AI gateway's Kubernetes objects of one use case (its route objects and its upstream key), and
    the rules its alerts are evaluated by."""
    found = set()
    for resource in plan.resources:
        metadata = resource.inputs.get("metadata") if resource.type.startswith("kubernetes:") else None
        gateway_object = isinstance(metadata, dict) and (
            metadata.get("labels", {}).get(routes.USE_CASE_LABEL) == use_case
            or metadata.get("name") == upstream_key_secret(use_case)
        )
        rule_file = resource.type in ALERT_RULES and resource.inputs.get("tags", {}).get("use-case") == use_case
        if gateway_object or rule_file:
            found.add(resource.urn)
    return found


RENAME_REFUSALS = {
    "its own name": (
        lambda cases: cases[0].update(previous_name=cases[0]["name"]),
        "use_cases[0].previous_name: is the current name",
    ),
    "another use case's name": (
        lambda cases: cases[0].update(previous_name=cases[1]["name"]),
        "use_cases[0].previous_name: 'doc-search' is the name of use_cases[1]",
    ),
    "claimed twice": (
        lambda cases: (cases[0].update(previous_name="old-name"), cases[1].update(previous_name="old-name")),
        "use_cases[1].previous_name: 'old-name' is already claimed by use_cases[0]",
    ),
    "a self-managed use case": (
        lambda cases: cases[2].update(previous_name="old-review"),
        "use_cases[2].previous_name: not supported for self-managed use cases yet",
    ),
}


@pytest.mark.parametrize("case", sorted(RENAME_REFUSALS))
def test_a_rename_that_cannot_map_one_to_one_is_refused(case: str) -> None:
    environment = stack_document("dev")["config"]["triplane:environment"]
    assert [u["pattern"] for u in environment["use_cases"]] == ["saas", "cloud-managed", "self-managed"]
    change, expected = RENAME_REFUSALS[case]
    change(environment["use_cases"])
    with pytest.raises(SpecError) as caught:
        validate_environment(environment, "stacks/Pulumi.dev.yaml")
    assert f"triplane:environment.{expected}" in str(caught.value)
