"""Wildcards over shared hosting: refused in the spec, in the derived allowlist and by the egress policies.

`*.s3.amazonaws.com`, `*.blob.core.windows.net` or `*.co.uk` in an egress allowlist is a path out to
any tenant's bucket, storage account or site. Exact hosts under those suffixes, and wildcards under
one owner's domain, are what the fix asks for, so they must pass.
"""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import pytest

from tests.cloud_managed_support import AWS_NETWORK, AZURE_NETWORK, GCP_NETWORK
from triplane.components.cloud_managed import AzureOpenAIDeployment, AzureOpenAIEndpoint, AzureOpenAIEndpointArgs
from triplane.components.images import UPSTREAM_HOSTS
from triplane.components.saas.egress_aws import AwsEgressFirewall, AwsEgressFirewallArgs
from triplane.components.saas.egress_azure import AzureEgressFirewall, AzureEgressFirewallArgs
from triplane.components.saas.egress_gcp import GcpEgressProxy, GcpEgressProxyArgs
from triplane.components.saas.providers import CATALOG, check_host
from triplane.components.self_managed.weights import HUB_HOSTS
from triplane.gate import GateResult, check_plan
from triplane.plan import Plan, PlannedResource, run_program
from triplane.policies.common import broad_domain
from triplane.policies.host_patterns import SHARED_DOMAINS, public_suffixes, wildcard_problem
from triplane.stackfile import load_stack
from triplane.stacks import egress
from triplane.stacks.egress import ENTRA_HOSTS, EgressEntry, egress_allowlist
from triplane.stacks.spec import SaasUseCase, SpecError, validate_environment
from triplane.stacks.spec.cloud_managed import CloudManagedUseCase

SOURCE = "stacks/Pulumi.test.yaml"

HOLES = [
    "*.co.uk",
    "*.s3.amazonaws.com",
    "*.s3.eu-west-1.amazonaws.com",
    "*.blob.core.windows.net",
    "*.github.io",
    "*.web.app",
    "*.googleapis.com",
    "*.cloudfront.net",
    "*.azureedge.net",
    "*.ngrok-free.app",
    # Not on the Public Suffix List: the shared hosting domains.
    "*.amazonaws.com",
    "*.dkr.ecr.us-east-1.amazonaws.com",
    "*.core.windows.net",
    "*.dfs.core.windows.net",
    "*.windows.net",
    "*.openai.azure.com",
    "*.vault.azure.net",
    "*.azurecr.io",
    "*.storage.googleapis.com",
    "*.googleusercontent.com",
    "*.r2.cloudflarestorage.com",
    "*.usw2.devtunnels.ms",
    "*.loca.lt",
]
"""Wildcards whose names any tenant can own."""

PROVOCATIONS = [
    "mybucket.s3.amazonaws.com",
    "mybucket.s3.eu-west-1.amazonaws.com",
    "acmemodels.blob.core.windows.net",
    "contoso-chat.openai.azure.com",
    "contoso-keys.vault.azure.net",
    "models.storage.googleapis.com",
    "generativelanguage.googleapis.com",
    "acme.github.io",
    "api.openai.com",
    "*.openai.com",
    "*.example.co.uk",
    "*.huggingface.co",
    "*.hf.co",
    "*.notamazonaws.com",
    "*.amazonaws.com.example.ai",
    "*.windows.net.example.ai",
    "*.cdn.example.ai",
]
"""Exact hosts under those suffixes and single-owner wildcards that look like them: all allowed."""


# ----------------------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("pattern", HOLES)
def test_wildcards_over_shared_hosting_are_refused_with_the_fix(pattern: str) -> None:
    problem = wildcard_problem(pattern)
    assert problem is not None
    base = pattern.removeprefix("*.")
    assert problem.startswith(f"spans {base}, ")
    assert "any other tenant's bucket, storage account or site" in problem
    assert problem.endswith(f"name the exact host(s) instead, e.g. <name>.{base}")
    with pytest.raises(ValueError) as caught:
        check_host(pattern)
    assert str(caught.value) == f"{pattern!r} {problem}"


@pytest.mark.parametrize("pattern", PROVOCATIONS)
def test_exact_hosts_and_single_owner_wildcards_pass(pattern: str) -> None:
    assert wildcard_problem(pattern) is None
    assert check_host(pattern) == pattern
    assert broad_domain(pattern) is None


def test_each_firewall_spelling_of_a_wildcard_is_judged_alike() -> None:
    """Network Firewall writes `.x`, Azure Firewall also `*x`; both span x."""
    for spelling in (".s3.amazonaws.com", "*s3.amazonaws.com", "*.S3.AmazonAWS.com."):
        assert wildcard_problem(spelling) == wildcard_problem("*.s3.amazonaws.com")
    assert wildcard_problem(".example.co.uk") is None


def test_the_reason_names_the_public_suffix_or_the_shared_domain() -> None:
    assert "s3.amazonaws.com, a public suffix (Public Suffix List)" in str(wildcard_problem("*.s3.amazonaws.com"))
    core = str(wildcard_problem("*.core.windows.net"))
    assert core.startswith("spans core.windows.net, under windows.net, which hosts the storage accounts")
    bucket = str(wildcard_problem("*.storage.googleapis.com"))
    assert bucket.startswith("spans storage.googleapis.com, which hosts the Cloud Storage buckets of every project")


@pytest.mark.parametrize("domain", sorted(SHARED_DOMAINS))
def test_each_shared_domain_is_one_the_list_misses_and_nothing_above_it_escapes(domain: str) -> None:
    psl = public_suffixes()
    assert not psl.is_public(domain), f"{domain} is on the Public Suffix List: drop it from SHARED_DOMAINS"
    # Its parent is a public suffix, so a wildcard above the shared domain is caught by the list.
    parent = domain.split(".", 1)[1]
    assert psl.is_public(parent)
    assert wildcard_problem(f"*.{parent}") is not None


def test_the_bundled_list_is_read_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the Public Suffix List must come from the installed package, not the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    public_suffixes.cache_clear()
    try:
        assert wildcard_problem("*.s3.amazonaws.com") is not None
        assert public_suffixes() is public_suffixes()  # parsed once
    finally:
        public_suffixes.cache_clear()


# ----------------------------------------------------------------------------------------- the spec


def saas_environment(hosts: list[str], base_url: str) -> dict[str, Any]:
    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
            }
        },
        "use_cases": [
            {
                "name": "chat",
                "pattern": "saas",
                "data_classification": "internal",
                "cloud": "aws",
                "provider": "custom",
                "custom_provider": {"base_url": base_url, "hosts": hosts},
                "api_key_secret": "partnerKey",
                "allowed_principals": ["arn:aws:iam::123456789012:role/app"],
            }
        ],
    }


def azure_openai_environment(fqdns: list[str]) -> dict[str, Any]:
    return {
        "owner": "ml-platform",
        "cost_center": "cc-1234",
        "clouds": {
            "azure": {"location": "westeurope", "resource_group": "rg-ml", "network": {"new": {"cidr": "10.30.0.0/16"}}}
        },
        "use_cases": [
            {
                "name": "hr",
                "pattern": "cloud-managed",
                "data_classification": "confidential",
                "cloud": "azure",
                "models": [{"id": "gpt-4o"}],
                "azure_openai": {"allowed_outbound_fqdns": fqdns},
            }
        ],
    }


def spec_error(document: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as caught:
        validate_environment(document, SOURCE)
    return str(caught.value)


def test_a_custom_provider_wildcard_over_s3_is_refused_naming_the_field() -> None:
    message = spec_error(saas_environment(["api.partner.ai", "*.s3.amazonaws.com"], "https://api.partner.ai/v1"))
    assert message.startswith(
        f"{SOURCE}: triplane:environment.use_cases[0].custom_provider.hosts[1]: '*.s3.amazonaws.com' spans "
        "s3.amazonaws.com, a public suffix"
    )
    assert "name the exact host(s) instead, e.g. <name>.s3.amazonaws.com" in message


def test_a_custom_provider_may_name_its_bucket_host() -> None:
    env = validate_environment(
        saas_environment(["mybucket.s3.amazonaws.com", "*.example.co.uk"], "https://mybucket.s3.amazonaws.com"),
        SOURCE,
    )
    chat = env.use_cases[0]
    assert isinstance(chat, SaasUseCase)
    assert chat.hosts == ("mybucket.s3.amazonaws.com", "*.example.co.uk")


def test_azure_openai_outbound_fqdns_go_through_the_same_rule() -> None:
    message = spec_error(azure_openai_environment(["contoso-keys.vault.azure.net", "*.vault.azure.net"]))
    assert message.startswith(
        f"{SOURCE}: triplane:environment.use_cases[0].azure_openai.allowed_outbound_fqdns[1]: "
        "'*.vault.azure.net' spans vault.azure.net, under azure.net, which hosts the Key Vaults"
    )
    assert "allowed_outbound_fqdns[0]: 'https://x.vault.azure.net' is not a host name" in spec_error(
        azure_openai_environment(["https://x.vault.azure.net"])
    )
    env = validate_environment(azure_openai_environment(["Contoso-Keys.vault.azure.net"]), SOURCE)
    hr = env.use_cases[0]
    assert isinstance(hr, CloudManagedUseCase) and hr.azure_openai is not None
    assert hr.azure_openai.allowed_outbound_fqdns == ["contoso-keys.vault.azure.net"]


def test_the_azure_openai_component_refuses_a_wildcard_from_a_hand_written_program() -> None:
    def program() -> None:
        AzureOpenAIEndpoint("hr", AzureOpenAIEndpointArgs(
            network=AZURE_NETWORK, deployments=[AzureOpenAIDeployment("mini", "gpt-4o-mini", "2024-07-18")],
            allowed_outbound_fqdns=["*.blob.core.windows.net"]))

    with pytest.raises(Exception, match=r"hr: allowed_outbound_fqdns: '\*\.blob\.core\.windows\.net' spans"):
        run_program(program, stack="test")


def build_firewall(cloud: str, hosts: list[str]) -> None:
    if cloud == "aws":
        network = dataclasses.replace(AWS_NETWORK, private_route_table_ids=["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbb"])
        AwsEgressFirewall("egress", AwsEgressFirewallArgs(network=network, hosts=hosts))
    elif cloud == "azure":
        network = dataclasses.replace(AZURE_NETWORK, app_route_table_name="rt-app")
        AzureEgressFirewall("egress", AzureEgressFirewallArgs(network=network, hosts=hosts))
    else:
        GcpEgressProxy("egress", GcpEgressProxyArgs(network=GCP_NETWORK, hosts=hosts))


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_each_egress_firewall_component_refuses_a_shared_hosting_wildcard(cloud: str) -> None:
    """A program that builds the firewall by hand, past the spec, is refused before any rule exists."""
    with pytest.raises(Exception, match=r"egress: hosts: '\*\.s3\.amazonaws\.com' spans s3\.amazonaws\.com"):
        run_program(lambda: build_firewall(cloud, ["api.openai.com", "*.s3.amazonaws.com"]), stack="test")
    plan = run_program(lambda: build_firewall(cloud, ["mybucket.s3.amazonaws.com", "*.openai.com"]), stack="test")
    assert plan.resources


def test_every_source_of_the_derived_allowlist_passes_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """A source that is not spec input (a constant, a catalog) is checked as the allowlist is built."""
    environment = validate_environment(saas_environment(["api.partner.ai"], "https://api.partner.ai"), SOURCE)

    def storage(_environment: Any, _cloud: str) -> list[EgressEntry]:
        return [EgressEntry("*.blob.core.windows.net", "chat", "model weights")]

    monkeypatch.setattr(egress, "SOURCES", (*egress.SOURCES, storage))
    with pytest.raises(ValueError) as caught:
        egress_allowlist(environment, "aws")
    assert str(caught.value).startswith(
        "the egress allowlist entry of chat (model weights): '*.blob.core.windows.net' spans blob.core.windows.net"
    )


def test_shipped_hosts_pass_the_rule() -> None:
    shipped = [
        *(host for provider in CATALOG.values() for host in provider.hosts),
        *HUB_HOSTS,
        *ENTRA_HOSTS,
        *(host for hosts in UPSTREAM_HOSTS.values() for host in hosts),
    ]
    assert [check_host(host) for host in shipped] == shipped


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_shipped_stacks_allowlists_pass_the_rule(stack: str) -> None:
    environment = load_stack(stack).environment()
    for cloud in ("aws", "azure", "gcp"):
        for entry in egress_allowlist(environment, cloud):
            assert wildcard_problem(entry.host) is None, (stack, cloud, entry)


# ------------------------------------------------------------------------------------- the policies


def resource(type_: str, name: str, inputs: dict[str, Any]) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:test::triplane::{type_}::{name}", type=type_, name=name, custom=True, parent=None,
        inputs=inputs, dependencies=(), protect=False, retain_on_delete=False, provider=None, aliases=(),
        ignore_changes=(), additional_secret_outputs=(),
    )


def rule_group(name: str, targets: list[str]) -> PlannedResource:
    """A Network Firewall domain-list rule group, as `AwsEgressFirewall` writes it."""
    return resource("aws:networkfirewall/ruleGroup:RuleGroup", name, {
        "name": name, "type": "STATEFUL", "capacity": 1000,
        "ruleGroup": {
            "rulesSource": {"rulesSourceList": {
                "generatedRulesType": "ALLOWLIST", "targetTypes": ["TLS_SNI", "HTTP_HOST"], "targets": targets}},
            "statefulRuleOptions": {"ruleOrder": "STRICT_ORDER"},
        },
    })


def rule_collection_group(name: str, rules: list[dict[str, Any]]) -> PlannedResource:
    """An Azure Firewall policy's rule collection group, as `AzureEgressFirewall` writes it."""
    return resource("azure-native:network:FirewallPolicyRuleCollectionGroup", name, {
        "resourceGroupName": "rg-net", "firewallPolicyName": "fw-policy", "ruleCollectionGroupName": "saas-egress",
        "priority": 200,
        "ruleCollections": [{
            "ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "allow-ai-apis", "priority": 100,
            "action": {"type": "Allow"}, "rules": rules}],
    })


def app_rule(name: str, fqdns: list[str], urls: list[str] | None = None) -> dict[str, Any]:
    return {"ruleType": "ApplicationRule", "name": name, "sourceAddresses": ["10.20.0.0/22"],
            "protocols": [{"protocolType": "Https", "port": 443}], "targetFqdns": fqdns,
            **({"targetUrls": urls, "terminateTLS": True} if urls else {})}


def openai_account(name: str, fqdns: list[str]) -> PlannedResource:
    return resource("azure-native:cognitiveservices:Account", name, {
        "kind": "OpenAI", "accountName": name, "sku": {"name": "S0"},
        "properties": {"restrictOutboundNetworkAccess": True, "allowedFqdnList": fqdns},
    })


def swp_rule(name: str, matcher: str) -> PlannedResource:
    """A Secure Web Proxy rule, as `GcpEgressProxy` writes it (`swp_session_matcher`)."""
    return resource("gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule", name, {
        "name": name, "location": "europe-west4", "gatewaySecurityPolicy": "egress-policy", "enabled": True,
        "priority": 1000, "basicProfile": "ALLOW", "sessionMatcher": matcher,
    })


def ngfw_rule(name: str, action: str, fqdns: list[str]) -> PlannedResource:
    return resource("gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule", name, {
        "firewallPolicy": "egress", "priority": 1000, "direction": "EGRESS", "action": action,
        "match": {"destFqdns": fqdns, "layer4Configs": [{"ipProtocol": "tcp", "ports": ["443"]}]},
    })


EGRESS_POLICIES = {
    "aws-egress-allowlist", "azure-egress-allowlist", "azure-openai-outbound-restricted", "gcp-egress-allowlist"}

HOLES_IN_FIREWALLS = {
    # resource name -> (policy, the field and entry its message names)
    "s3-rule-group": (
        "aws-egress-allowlist", "ruleGroup.rulesSource.rulesSourceList.targets entry '.s3.amazonaws.com'"),
    "aws-rule-group": ("aws-egress-allowlist", "targets entry '.amazonaws.com' spans amazonaws.com"),
    "blob-rule-collection-group": (
        "azure-egress-allowlist", "ruleCollections[0].rules[1].targetFqdns allows '*.blob.core.windows.net'"),
    "pages-rule-collection-group": (
        "azure-egress-allowlist", "ruleCollections[0].rules[0].targetUrls allows '*.github.io/releases'"),
    "storage-network-rule": (
        "azure-egress-allowlist", "ruleCollections[0].rules[0].destinationFqdns allows '*.core.windows.net'"),
    "classic-firewall": (
        "azure-egress-allowlist", "applicationRuleCollections[0].rules[0].targetFqdns allows '*.web.app'"),
    "vault-openai": ("azure-openai-outbound-restricted", "allowedFqdnList entry '*.vault.azure.net'"),
    "gcs-swp-rule": ("gcp-egress-allowlist", "sessionMatcher allows '.storage.googleapis.com'"),
    "undotted-swp-rule": ("gcp-egress-allowlist", "sessionMatcher allows '*amazonaws.com'"),
    "r2-ngfw-rule": ("gcp-egress-allowlist", "match.destFqdns allows '*.r2.cloudflarestorage.com'"),
    "co-uk-ngfw-policy": ("gcp-egress-allowlist", "rules[1].match.destFqdns allows '*.co.uk'"),
}


def firewall_plan() -> Plan:
    resources = [
        # Holes: one wildcard over shared hosting among good entries.
        rule_group("s3-rule-group", ["api.openai.com", ".s3.amazonaws.com"]),
        rule_group("aws-rule-group", [".amazonaws.com"]),
        rule_collection_group("blob-rule-collection-group", [
            app_rule("chat", ["api.anthropic.com"]), app_rule("weights", ["*.blob.core.windows.net"])]),
        rule_collection_group("pages-rule-collection-group", [app_rule("docs", [], urls=["*.github.io/releases"])]),
        rule_collection_group("storage-network-rule", [{
            "ruleType": "NetworkRule", "name": "storage", "ipProtocols": ["TCP"], "sourceAddresses": ["10.20.0.0/22"],
            "destinationPorts": ["443"], "destinationFqdns": ["*.core.windows.net"]}]),
        resource("azure-native:network:AzureFirewall", "classic-firewall", {
            "resourceGroupName": "rg-net", "sku": {"name": "AZFW_VNet", "tier": "Standard"},
            "applicationRuleCollections": [{"name": "apps", "priority": 100, "action": {"type": "Allow"}, "rules": [
                {"name": "site", "sourceAddresses": ["10.20.0.0/22"], "targetFqdns": ["*.web.app"],
                 "protocols": [{"protocolType": "Https", "port": 443}]}]}]}),
        openai_account("vault-openai", ["contoso-keys.vault.azure.net", "*.vault.azure.net"]),
        swp_rule("gcs-swp-rule", "host().endsWith('.storage.googleapis.com')"),
        swp_rule("undotted-swp-rule", "host().endsWith('amazonaws.com')"),
        ngfw_rule("r2-ngfw-rule", "allow", ["*.r2.cloudflarestorage.com"]),
        resource("gcp:compute/regionNetworkFirewallPolicyWithRules:RegionNetworkFirewallPolicyWithRules",
                 "co-uk-ngfw-policy", {"region": "europe-west4", "rules": [
                     {"priority": 1000, "action": "allow", "direction": "EGRESS",
                      "match": {"destFqdns": ["api.openai.com"]}},
                     {"priority": 1001, "action": "allow", "direction": "EGRESS", "match": {"destFqdns": ["*.co.uk"]}},
                 ]}),
        # Provocations: exact hosts under the same suffixes, single-owner wildcards, a deny rule.
        rule_group("fine-rule-group", ["mybucket.s3.amazonaws.com", "api.openai.com", ".openai.com",
                                       ".example.co.uk", ".huggingface.co", "huggingface.co"]),
        rule_collection_group("fine-rule-collection-group", [
            app_rule("apis", ["acmemodels.blob.core.windows.net", "contoso-chat.openai.azure.com", "*.openai.com",
                              "*.example.co.uk", "login.microsoftonline.com"])]),
        openai_account("fine-openai", ["contoso-keys.vault.azure.net"]),
        swp_rule("fine-swp-exact", "host() == 'models.storage.googleapis.com'"),
        swp_rule("fine-swp-suffix", "host().endsWith('.hf.co')"),
        ngfw_rule("fine-ngfw-rule", "allow", ["generativelanguage.googleapis.com", "mybucket.s3.amazonaws.com"]),
        ngfw_rule("deny-ngfw-rule", "deny", ["*.googleapis.com"]),
    ]
    return Plan(project="triplane", stack="test", resources=resources)


@pytest.fixture(scope="module")
def gate() -> GateResult:
    return check_plan(firewall_plan(), config={})


def test_every_firewall_hole_is_a_mandatory_violation_naming_the_entry(gate: GateResult) -> None:
    found = {(v.policy, v.resource_name): v for v in gate.violations if v.policy in EGRESS_POLICIES}
    for name, (policy, text) in HOLES_IN_FIREWALLS.items():
        violation = found.get((policy, name))
        assert violation is not None, f"{policy} missed {name}: {sorted(found)}"
        assert text in violation.message, violation.message
        assert "name the exact host(s) instead" in violation.message
        assert violation.enforcement == "mandatory"


def test_exact_hosts_and_single_owner_wildcards_in_firewalls_pass(gate: GateResult) -> None:
    flagged = {v.resource_name for v in gate.violations if v.policy in EGRESS_POLICIES}
    assert flagged == set(HOLES_IN_FIREWALLS)
    # One hole per resource: the good entries beside it are not reported.
    reports = [v for v in gate.violations if v.policy in EGRESS_POLICIES]
    assert len(reports) == len(HOLES_IN_FIREWALLS), [v.message for v in reports]
