"""Every IAM policy document the cloud-managed components emit passes parliament.

Parliament reads every document as an identity policy and its action database is a snapshot;
`cloud_managed_support.EXEMPTIONS` lists, with the reason for each, the few findings that are
wrong for a document of that kind. Anything else parliament reports fails the test.
"""

from __future__ import annotations

import json

import parliament
import pytest

from tests.cloud_managed_support import aws_plan, lint, policy_documents, statements
from tests.test_cloud_managed_stack import stack_plan
from triplane.plan import Plan


@pytest.fixture(scope="module", params=["component", "stack"])
def plan(request: pytest.FixtureRequest) -> Plan:
    return aws_plan() if request.param == "component" else stack_plan()


def test_every_policy_document_passes_parliament(plan: Plan) -> None:
    documents = policy_documents(plan)
    assert {kind for _, kind, _ in documents} == {"identity", "trust", "key", "resource"}
    findings = {name: [f"{f.issue}: {f.detail}" for f in lint(kind, text)] for name, kind, text in documents}
    assert {name: found for name, found in findings.items() if found} == {}


def test_the_linter_still_catches_a_broad_policy() -> None:
    broad = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}
    )
    assert [f.issue for f in lint("identity", broad)] == ["RESOURCE_STAR"]
    assert parliament.analyze_policy_string(broad).findings


def test_no_document_allows_everyone(plan: Plan) -> None:
    for name, _, text in policy_documents(plan):
        for statement in statements(text):
            if statement["Effect"] == "Allow":
                assert statement.get("Principal") != "*", name
                assert statement.get("Principal") != {"AWS": "*"}, name
                assert statement["Action"] not in ("*", "bedrock:*"), name


def test_every_endpoint_service_was_linted() -> None:
    names = {name for name, _, _ in policy_documents(stack_plan())}
    for service in ("bedrock", "bedrock-agent", "bedrock-agent-runtime", "bedrock-runtime"):
        assert f"prod-bedrock-privatelink-{service}" in names
