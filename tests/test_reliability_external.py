"""Checks no one here wrote: parliament on every IAM document, kubernetes-validate on every manifest.

Both run over every shipped stack. IAM documents are found wherever a resource input holds one
(not only where a component author thought to look) and linted with the reasoned exemptions of
`tests/cloud_managed_support.py`, plus the ones below, each with its reason. The plans use mocks
whose ARNs have the services' real shapes, so the linter can match resources to actions.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import parliament
import pytest
import yaml

from tests.cloud_managed_support import EXEMPTIONS, lint
from tests.reliability_support import SHIPPED_STACKS, plan_with_arns, ref, shipped_plan
from tests.test_self_managed_manifests import CUSTOM_RESOURCES, schema_version
from triplane.k8s_out import write_manifests
from triplane.plan import Plan
from triplane.stackfile import load_stack
from triplane.stacks.spec import Environment

KINDS: dict[tuple[str, str], str] = {
    # (resource type, input path): what the document is, which decides the exemptions that apply
    ("aws:iam/role:Role", "assumeRolePolicy"): "trust",
    ("aws:iam/role:Role", "inlinePolicies[].policy"): "identity",
    ("aws:iam/policy:Policy", "policy"): "identity",
    ("aws:iam/rolePolicy:RolePolicy", "policy"): "identity",
    ("aws:kms/key:Key", "policy"): "key",
    ("aws:s3/bucketPolicy:BucketPolicy", "policy"): "resource",
    ("aws:ec2/vpcEndpoint:VpcEndpoint", "policy"): "resource",
    ("aws:secretsmanager/secretPolicy:SecretPolicy", "policy"): "secret",
    ("aws:efs/fileSystemPolicy:FileSystemPolicy", "policy"): "resource",
    ("aws:sns/topicPolicy:TopicPolicy", "policy"): "resource",
}


def _secret_policy_resource(finding: Any) -> bool:
    # A Secrets Manager resource policy is attached to one secret; there `"Resource": "*"` means
    # that secret (the form AWS documents for secret policies), not every secret in the account.
    return finding.issue == "RESOURCE_STAR"


def _pull_through_import_resource(finding: Any) -> bool:
    # ECR documents scoping `ecr:BatchImportUpstreamImage` to the cache's repositories
    # (`arn:aws:ecr:<region>:<account>:repository/<prefix>/*`, user guide "Granting registry
    # permissions for pull through cache"); parliament's bundled action database gives it no
    # resource type and so asks for "*".
    return finding.issue == "RESOURCE_MISMATCH" and all(
        item["action"] == "ecr:BatchImportUpstreamImage" for item in finding.detail
    )


EXTRA_EXEMPTIONS: dict[str, tuple[Callable[[Any], bool], ...]] = {
    "secret": (_secret_policy_resource, *EXEMPTIONS["resource"]),
    "identity": (_pull_through_import_resource, *EXEMPTIONS["identity"]),
}


def lint_any(kind: str, text: str) -> list[Any]:
    if kind in EXTRA_EXEMPTIONS:
        findings = parliament.analyze_policy_string(text).findings
        return [f for f in findings if not any(exempt(f) for exempt in EXTRA_EXEMPTIONS[kind])]
    return lint(kind, text)


def _documents(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        try:
            document = json.loads(value)
        except ValueError:
            return
        if isinstance(document, dict) and "Statement" in document:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _documents(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _documents(item, f"{path}[]")


def iam_documents(plan: Plan) -> list[tuple[str, str, str, str]]:
    """(resource name, type, input path, JSON text) of every IAM policy document in any input."""
    return [
        (r.name, r.type, path, text) for r in plan.resources for path, text in _documents(r.inputs, "")
    ]


@functools.cache
def arn_plan(stack: str) -> Plan:
    return plan_with_arns(stack, region="us-east-1")


PENDING: dict[tuple[str, str, str], str] = {
    # (component type, resource type, parliament issue): the fix, and whose it is. Real findings go here,
    # reported, not exempt: the test fails once they are gone, so the entry goes with the fix.
}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_iam_document_passes_parliament(stack: str) -> None:
    plan = arn_plan(stack)
    documents = iam_documents(plan)
    unclassified = sorted({(t, p) for _, t, p, _ in documents} - set(KINDS))
    assert unclassified == [], "classify these documents in KINDS (trust, identity, key, resource, secret)"
    components = {r.name: r.urn.split("::")[2].split("$")[0] for r in plan.resources}
    findings: dict[str, list[str]] = {}
    pending: set[tuple[str, str, str]] = set()
    for name, type_, path, text in documents:
        for finding in lint_any(KINDS[(type_, path)], text):
            key = (components[name], type_, finding.issue)
            if key in PENDING:
                pending.add(key)
            else:
                findings.setdefault(f"{name} {path}", []).append(f"{finding.issue}: {finding.detail}")
    assert findings == {}
    expected = {k for k in PENDING if any(t == k[1] and components[n] == k[0] for n, t, _, _ in documents)}
    assert pending == expected, "fixed: remove these entries from PENDING"


def test_iam_documents_of_every_pattern_were_linted() -> None:
    kinds: set[str] = set()
    owners: set[str] = set()
    for stack in SHIPPED_STACKS:
        plan = arn_plan(stack)
        for name, type_, path, _ in iam_documents(plan):
            kinds.add(KINDS[(type_, path)])
            owners.add(next(r.urn.split("::")[2].split("$")[0] for r in plan.resources if r.name == name))
    assert {"trust", "identity", "key", "resource", "secret"} <= kinds
    for component in ("triplane:network:AwsNetwork", "triplane:saas:", "triplane:cloudmanaged:",
                      "triplane:selfmanaged:"):  # fmt: skip
        assert any(owner.startswith(component) for owner in owners), component


def test_the_exemptions_still_let_real_findings_through() -> None:
    def document(action: str) -> str:
        statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
                     "Action": action, "Resource": "*"}  # fmt: skip
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    assert lint_any("secret", document("secretsmanager:GetSecretValue")) == []
    assert [f.issue for f in lint_any("secret", document("secretsmanager:GetSecretVaule"))] == ["UNKNOWN_ACTION"]
    assert "RESOURCE_STAR" in [f.issue for f in lint_any("identity", document("secretsmanager:GetSecretValue"))]


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_no_document_allows_everyone_unconditionally(stack: str) -> None:
    """Parliament does not judge principals: an Allow for `*` needs a condition that narrows it."""
    for name, _, _, text in iam_documents(arn_plan(stack)):
        statements = json.loads(text)["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement["Effect"] == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"}):
                assert statement.get("Condition"), name


# --- Kubernetes manifests ---------------------------------------------------------------------------


def variants() -> dict[str, tuple[Plan, Environment]]:
    """Every shipped stack, each grown by a use case per pattern, and prod with the longest names."""
    from tests.test_reliability_determinism import grown
    from tests.test_reliability_names import LONG_STACK, long_names_environment, long_names_plan

    found = {}
    for stack in SHIPPED_STACKS:
        environment = load_stack(ref(stack)).environment()
        found[stack] = (shipped_plan(stack), environment)
        plan, _ = grown(stack)
        found[f"{stack}-grown"] = (plan, grown_environment(stack))
    found[LONG_STACK] = (long_names_plan(), long_names_environment())
    return found


def grown_environment(stack: str) -> Environment:
    from tests.reliability_support import stack_document
    from tests.test_reliability_determinism import with_added
    from triplane.stacks.spec import validate_environment

    environment = stack_document(stack)["config"]["triplane:environment"]
    with_added(environment)
    result: Environment = validate_environment(environment, stack)
    return result


def test_every_kubernetes_manifest_passes_kubernetes_validate_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kubernetes-validate, strict, over every object of every variant, against each cluster's declared
    version (the self-managed tests' approach, `schema_version`). An object rendered with the same
    bytes in several variants is validated once."""
    # The validator reads its JSON schema from disk on every call; read each one once.
    utils = kubernetes_validate.utils
    monkeypatch.setattr(utils, "schema_contents", functools.cache(utils.schema_contents))
    unique: dict[tuple[str, str], Path] = {}
    for label, (plan, environment) in variants().items():
        out = tmp_path / label
        versions = {f"{plan.stack}-{c.name}-k8s": c.version for c in environment.kubernetes}
        for path in write_manifests(plan, out):
            body = path.read_text(encoding="utf-8").split("\n", 1)[1]  # less the `# <type> <name>` line
            unique.setdefault((schema_version(versions[path.relative_to(out).parts[0]]), body), path)
    problems = []
    checked = 0
    for (version, body), path in sorted(unique.items()):
        obj = yaml.load(body, Loader=yaml.CSafeLoader)
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{path.relative_to(tmp_path)}: {'.'.join(map(str, error.path))}: {error.message}")
        checked += 1
    assert problems == []
    assert checked > 40
