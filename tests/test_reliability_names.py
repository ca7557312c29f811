"""Names a cloud would reject are caught at plan time, or shortened deterministically to fit.

Two layers. The spec refuses a use-case, cluster or stack name that cannot start resource names,
saying which cloud rule it breaks. Every physical name the plan then produces is checked against
the rule of its resource kind (`CLOUD_RULES`), on every shipped stack and on a variant of prod
where the stack, every use case and every cluster have the longest names the spec allows: names
derived from them must still fit, shortened by `components.naming` where a kind is tight.
"""

from __future__ import annotations

import copy
import functools
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reliability_support import SHIPPED_STACKS, shipped_plan, stack_document, write_stack
from triplane.components.naming import RULES, physical_name
from triplane.plan import Plan, PlannedResource
from triplane.stackfile import plan_stack
from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.base import NAME_MAX, name_problem, stack_name_problem

# --- the spec's name rule -----------------------------------------------------------------------------

REFUSED = {
    "Chat": "has capitals; Kubernetes DNS-1123 labels and Google Cloud resource names are lowercase",
    "chat_bot": "contains '_'; use lowercase letters, digits and hyphens only",
    "chat.bot": "contains '.'",
    "chät": "contains 'ä'",
    "1chat": "must start with a letter (Google Cloud resource names and Key Vault names do)",
    "-chat": "must start with a letter",
    "chat-": "must end with a letter or digit (Kubernetes DNS-1123 labels do)",
    "chat--bot": "has consecutive hyphens, which Azure Key Vault names refuse",
    "xn--chat": "has consecutive hyphens",
    "c": "has 1 characters; use 2 to 20",
    "a" * 21: "has 21 characters; use 2 to 20",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_name_no_cloud_takes_is_refused_with_the_rule_it_breaks(name: str) -> None:
    problem = name_problem(name)
    assert problem is not None and REFUSED[name] in problem


@pytest.mark.parametrize("name", ["ab", "chat", "chat-bot-2", "a1-b2-c3", "a" * NAME_MAX])
def test_names_every_cloud_takes_are_accepted(name: str) -> None:
    assert name_problem(name) is None
    assert stack_name_problem(name) is None


def test_the_refusal_names_the_field() -> None:
    spec = {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "kubernetes": [{"name": "Gpu_Pool", "existing": {"kubeconfig_context": "kind", "registry": "upstream"}}],
    }
    with pytest.raises(SpecError) as caught:
        validate_environment(spec, "stacks/Pulumi.test.yaml")
    assert str(caught.value) == (
        "stacks/Pulumi.test.yaml: triplane:environment.kubernetes[0].name: 'Gpu_Pool' has capitals; "
        "Kubernetes DNS-1123 labels and Google Cloud resource names are lowercase"
    )


def test_a_stack_name_no_cloud_takes_is_refused() -> None:
    problem = stack_name_problem("EU_prod")
    assert problem is not None
    assert problem.startswith("the stack name 'EU_prod' has capitals")
    assert "rename the file (and the Pulumi stack)" in problem


# --- physical names -----------------------------------------------------------------------------------

LABEL = r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
AZURE_NETWORK_NAME = (r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?", "Azure network resources: 1-80 characters")
CLOUD_RULES: dict[str, dict[str, tuple[str, str]]] = {
    # type: {input: (full-match pattern, the cloud's rule)}
    "aws:s3/bucket:Bucket": {
        "bucket": (r"(?!xn--|sthree-)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", "S3 buckets: 3-63 lowercase, no xn--"),
    },
    "aws:iam/role:Role": {"name": (r"[\w+=,.@-]{1,64}", "IAM role names: 64 characters")},
    "aws:iam/policy:Policy": {"name": (r"[\w+=,.@-]{1,128}", "IAM policy names: 128 characters")},
    "aws:kms/alias:Alias": {"name": (r"alias/(?!aws/)[A-Za-z0-9/_-]{1,250}", "KMS aliases")},
    "aws:secretsmanager/secret:Secret": {"name": (r"[\w/+=.@-]{1,512}", "Secrets Manager names")},
    "aws:cloudwatch/logGroup:LogGroup": {"name": (r"[\w#/.-]{1,512}", "CloudWatch log group names")},
    "aws:networkfirewall/firewall:Firewall": {"name": (r"[A-Za-z0-9-]{1,128}", "Network Firewall names")},
    "aws:networkfirewall/firewallPolicy:FirewallPolicy": {"name": (r"[A-Za-z0-9-]{1,128}", "policy names")},
    "aws:networkfirewall/ruleGroup:RuleGroup": {"name": (r"[A-Za-z0-9-]{1,128}", "rule group names")},
    "aws:bedrock/guardrail:Guardrail": {"name": (r"[0-9A-Za-z_-]{1,50}", "Bedrock guardrail names: 50")},
    "aws:eks/cluster:Cluster": {"name": (r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}", "EKS cluster names: 100")},
    "aws:eks/nodeGroup:NodeGroup": {"nodeGroupName": (r"[0-9A-Za-z][A-Za-z0-9_-]{0,62}", "node groups: 63")},
    "azure-native:keyvault:Vault": {
        "vaultName": (r"[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]", "Key Vault: 3-24, no --"),
    },
    "azure-native:cognitiveservices:Account": {
        "accountName": (r"[A-Za-z0-9][A-Za-z0-9_.-]{1,63}", "Cognitive Services accounts: 2-64"),
    },
    "azure-native:operationalinsights:Workspace": {
        "workspaceName": (r"[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]", "Log Analytics workspaces: 4-63"),
    },
    "azure-native:managedidentity:UserAssignedIdentity": {
        "resourceName": (r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}", "managed identities: 3-128"),
    },
    "azure-native:network:VirtualNetwork": {"virtualNetworkName": AZURE_NETWORK_NAME},
    "azure-native:network:NetworkSecurityGroup": {"networkSecurityGroupName": AZURE_NETWORK_NAME},
    "azure-native:network:RouteTable": {"routeTableName": AZURE_NETWORK_NAME},
    "azure-native:network:PrivateEndpoint": {"privateEndpointName": AZURE_NETWORK_NAME},
    "azure-native:network:PublicIPAddress": {"publicIpAddressName": AZURE_NETWORK_NAME},
    "azure-native:network:AzureFirewall": {"azureFirewallName": AZURE_NETWORK_NAME},
    "azure-native:network:FirewallPolicy": {"firewallPolicyName": AZURE_NETWORK_NAME},
    "azure-native:containerservice:ManagedCluster": {
        "resourceName": (r"[A-Za-z0-9][A-Za-z0-9_-]{0,61}[A-Za-z0-9]", "AKS clusters: 63"),
    },
    "azure-native:containerservice:AgentPool": {"agentPoolName": (r"[a-z][a-z0-9]{0,11}", "AKS pools: 12")},
    "gcp:compute/network:Network": {"name": (LABEL, "Google Cloud resource names: RFC 1035, 63")},
    "gcp:compute/subnetwork:Subnetwork": {"name": (LABEL, "Google Cloud resource names")},
    "gcp:compute/firewall:Firewall": {"name": (LABEL, "Google Cloud resource names")},
    "gcp:compute/router:Router": {"name": (LABEL, "Google Cloud resource names")},
    "gcp:compute/routerNat:RouterNat": {"name": (LABEL, "Google Cloud resource names")},
    "gcp:compute/address:Address": {"name": (LABEL, "Google Cloud resource names")},
    "gcp:compute/globalAddress:GlobalAddress": {"name": (LABEL, "Google Cloud resource names")},
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": {
        "name": (r"[a-z][a-z0-9]{0,19}", "a Google APIs endpoint: 1-20 lowercase letters and digits"),
    },
    "gcp:dns/managedZone:ManagedZone": {"name": (LABEL, "Cloud DNS zones")},
    "gcp:serviceaccount/account:Account": {"accountId": (r"[a-z][-a-z0-9]{4,28}[a-z0-9]", "accounts: 6-30")},
    "gcp:kms/keyRing:KeyRing": {"name": (r"[A-Za-z0-9_-]{1,63}", "key rings: 63")},
    "gcp:kms/cryptoKey:CryptoKey": {"name": (r"[A-Za-z0-9_-]{1,63}", "crypto keys: 63")},
    "gcp:secretmanager/secret:Secret": {"secretId": (r"[A-Za-z0-9_-]{1,255}", "secret IDs: 255")},
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": {
        "bucketId": (r"[A-Za-z0-9-][A-Za-z0-9_-]{0,99}", "log buckets: 100, no leading _"),
    },
    "gcp:container/cluster:Cluster": {"name": (r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", "GKE clusters: 40")},
    "gcp:container/nodePool:NodePool": {"name": (r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", "GKE node pools: 40")},
}
K8S_LABEL_NAMED = ("kubernetes:core/v1:Namespace", "kubernetes:core/v1:Service")
"""Objects whose names must be DNS-1123 labels (63); every other object takes a DNS-1123 subdomain."""
SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"


def _get(inputs: dict[str, Any], key: str) -> Any:
    value: Any = inputs
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def violations(plan: Plan) -> Iterator[str]:
    for resource in plan.resources:
        yield from _resource_violations(resource)


def _resource_violations(resource: PlannedResource) -> Iterator[str]:
    for key, (pattern, rule) in CLOUD_RULES.get(resource.type, {}).items():
        value = _get(resource.inputs, key)
        if isinstance(value, str) and not re.fullmatch(pattern, value):
            yield f"{resource.type} {resource.name}: {key} {value!r} breaks the rule ({rule})"
    if resource.type.startswith("kubernetes:") and resource.custom:
        metadata = resource.inputs.get("metadata") or {}
        name = metadata.get("name")
        if isinstance(name, str):
            limit, pattern = (63, LABEL) if resource.type in K8S_LABEL_NAMED else (253, SUBDOMAIN)
            if len(name) > limit or not re.fullmatch(pattern, name):
                yield f"{resource.type} {resource.name}: metadata.name {name!r} is no DNS-1123 name ({limit})"
        namespace = metadata.get("namespace")
        if isinstance(namespace, str) and not re.fullmatch(LABEL, namespace):
            yield f"{resource.type} {resource.name}: namespace {namespace!r} is no DNS-1123 label"
        for key, value in (metadata.get("labels") or {}).items():
            if not (isinstance(value, str) and len(value) <= 63 and re.fullmatch(LABEL_VALUE, value)):
                yield f"{resource.type} {resource.name}: label {key}={value!r} breaks the label-value rule"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_physical_name_in_a_shipped_stack_fits_its_cloud(stack: str) -> None:
    assert list(violations(shipped_plan(stack))) == []


LONG_STACK = "platform-eu-west-one"


def longest(name: str, index: int) -> str:
    """A name of the spec's maximum length that stays unique: the original, padded."""
    stem = f"{name[:14].rstrip('-')}-{index}"
    return (stem + "-" + "z" * NAME_MAX)[:NAME_MAX]


EXTRA_USE_CASES: list[dict[str, Any]] = [
    # What prod lacks, so that every kind in CLOUD_RULES is planned: an AKS cluster with a GPU pool, an
    # Azure SaaS key vault and firewall, and a Bedrock guardrail.
    {"name": "aks-served", "pattern": "self-managed", "data_classification": "confidential",
     "cluster": "gpu-azure", "gpu": {"type": "nvidia-a10", "count": 1}, "tokens": {"max_total_tokens": 8192},
     "model": {"id": "mistralai/Mistral-7B-Instruct-v0.3", "revision": "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db"},
     "allowed_clients": {"namespaces": ["apps"]}},
    {"name": "azure-saas", "pattern": "saas", "data_classification": "internal", "cloud": "azure",
     "provider": "openai", "api_key_secret": "azureOpenaiKey",
     "allowed_principals": ["33333333-3333-4333-8333-333333333333"]},
    {"name": "guarded", "pattern": "cloud-managed", "data_classification": "confidential", "cloud": "aws",
     "models": [{"id": "anthropic.claude-3-5-haiku-20241022-v1:0"}], "bedrock": {"guardrail": {}}},
]  # fmt: skip


def long_names_environment() -> Environment:
    result: Environment = validate_environment(long_names_document()["config"]["triplane:environment"], LONG_STACK)
    return result


@functools.cache
def long_names_plan() -> Plan:
    with tempfile.TemporaryDirectory() as directory:
        return plan_stack(str(write_stack(Path(directory), LONG_STACK, long_names_document())))


def long_names_document() -> dict[str, Any]:
    document = stack_document("prod")
    document["config"]["triplane:azureOpenaiKey"] = {"secure": "v1:placeholder"}
    environment = document["config"]["triplane:environment"]
    if not any(c["name"] == "gpu-azure" for c in environment["kubernetes"]):
        inside = {"private_cidrs": ["10.99.0.0/24"]}
        environment["kubernetes"].append({"name": "gpu-azure", "new": {"cloud": "azure", "deployer": inside}})
    environment["use_cases"].extend(copy.deepcopy(EXTRA_USE_CASES))
    clusters = {c["name"]: longest(c["name"], i) for i, c in enumerate(environment["kubernetes"])}
    for cluster in environment["kubernetes"]:
        cluster["name"] = clusters[cluster["name"]]
    for index, use_case in enumerate(environment["use_cases"]):
        use_case["name"] = longest(use_case["name"], index)
        if "cluster" in use_case:
            use_case["cluster"] = clusters[use_case["cluster"]]
    return document


def test_the_longest_names_the_spec_allows_still_fit_every_cloud() -> None:
    assert len(LONG_STACK) == NAME_MAX
    plan = long_names_plan()
    assert all(len(u) == NAME_MAX for u in plan.outputs["endpoints"])
    assert list(violations(plan)) == []


def test_every_rule_is_checked_on_some_resource() -> None:
    """A rule whose type or input no planned resource has is a typo, or a kind nobody plans any more."""
    plans = [long_names_plan(), *(shipped_plan(stack) for stack in SHIPPED_STACKS)]
    unused = [
        f"{type_} {key}"
        for type_, keys in CLOUD_RULES.items()
        for key in keys
        if not any(isinstance(_get(r.inputs, key), str) for plan in plans for r in plan.by_type(type_))
    ]
    assert unused == []


def test_the_checks_would_catch_a_name_that_does_not_fit() -> None:
    vault = PlannedResource(
        urn="urn", type="azure-native:keyvault:Vault", name="x", custom=True, parent=None,
        inputs={"vaultName": "platform-eu-west-one-hr-kv"}, dependencies=(), protect=False,
        retain_on_delete=False, provider=None, aliases=(), ignore_changes=(), additional_secret_outputs=(),
    )  # fmt: skip
    assert [v.split(": ", 1)[1] for v in _resource_violations(vault)] == [
        "vaultName 'platform-eu-west-one-hr-kv' breaks the rule (Key Vault: 3-24, no --)"
    ]


NAME_PARTS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_. ", min_size=1, max_size=40), min_size=1, max_size=4
)


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(kind=st.sampled_from(sorted(RULES)), parts=NAME_PARTS)
def test_physical_names_are_shortened_deterministically_to_fit(kind: str, parts: list[str]) -> None:
    rule = RULES[kind]
    name = physical_name(*parts, kind=kind)
    assert name == physical_name(*parts, kind=kind)
    assert rule.min_length <= len(name) <= rule.max_length, name
    assert re.match(f"[{rule.first}]", name[0]), name
    allowed = ("a-z0-9" if rule.lowercase else "a-zA-Z0-9") + re.escape(rule.separators)
    assert re.fullmatch(f"[{allowed}]+", name), name
    if rule.separators:
        assert name[-1] not in rule.separators, name
