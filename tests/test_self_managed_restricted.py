"""Restricted data fills its cache only through a path that names hosts, and the pack holds it to that.

A NetworkPolicy cannot name a host: for a restricted use case the download or import Job gets out only
through an explicit proxy (its address alone), the egress firewall of a network Triplane creates, or the
cloud's private endpoint; the spec refuses anything else, and `k8s-restricted-egress-named-hosts` fails a
NetworkPolicy that lets pods of restricted data reach public addresses any other way.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_self_managed_spec import SOURCE, environment, only_problem, use_case
from triplane.components.tagging import k8s_labels, standard_tags
from triplane.gate import check_plan
from triplane.plan import Plan, PlannedResource
from triplane.policies.common import REGISTRY
from triplane.stacks.spec import validate_environment

PROXY = "http://10.0.0.10:3128"
EXISTING = {"name": "gpu", "existing": {"kubeconfig_context": "onprem", "registry": "upstream"}}


def restricted(**overrides: Any) -> dict[str, Any]:
    return use_case(data_classification="restricted", **overrides)


def on_existing_cluster(*use_cases: dict[str, Any]) -> dict[str, Any]:
    env = environment(*use_cases)
    env["kubernetes"] = [EXISTING]
    env["clouds"] = {}
    return env


def in_existing_network(cloud: str, *use_cases: dict[str, Any], **existing: Any) -> dict[str, Any]:
    env = environment(*use_cases, cloud=cloud)
    base: dict[str, Any] = {
        "aws": {"vpc_id": "vpc-0123456789abcdef0",
                "app_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]},
        "gcp": {"network": "projects/acme-genai-test/global/networks/corp",
                "subnetwork": "projects/acme-genai-test/regions/europe-west4/subnetworks/apps"},
    }[cloud]
    base["application_cidrs"] = ["10.0.0.0/20"]
    env["clouds"][cloud]["network"] = {"existing": {**base, **existing}}
    return env


# --- spec -----------------------------------------------------------------------------------------


def test_restricted_hub_download_on_an_existing_cluster_needs_a_proxy() -> None:
    message = only_problem(on_existing_cluster(restricted(weights={"source": "hub"})))
    assert message.startswith("triplane:environment.use_cases[0].weights.https_proxy: restricted data")
    assert "huggingface.co, *.huggingface.co and *.hf.co" in message and "existing-claim" in message


def test_the_same_download_of_internal_data_needs_no_proxy() -> None:
    validate_environment(on_existing_cluster(use_case(weights={"source": "hub"})), SOURCE)


def test_restricted_hub_download_through_a_named_proxy_is_accepted() -> None:
    parsed = validate_environment(on_existing_cluster(restricted(weights={"source": "hub", "https_proxy": PROXY})),
                                  SOURCE)
    assert parsed.use_cases[0].weights.proxy == ("10.0.0.10", 3128)  # type: ignore[union-attr]


def test_restricted_offline_or_prefilled_needs_no_path() -> None:
    validate_environment(on_existing_cluster(restricted(offline=True, cache={"existing_claim": "models"})), SOURCE)


def test_restricted_hub_download_behind_triplanes_firewall_is_accepted() -> None:
    validate_environment(environment(restricted()), SOURCE)


def test_restricted_hub_download_from_an_existing_network_needs_a_proxy() -> None:
    message = only_problem(in_existing_network("aws", restricted(weights={"source": "hub"})))
    assert "use_cases[0].weights.https_proxy: restricted data" in message
    assert "the aws network exists already" in message
    validate_environment(in_existing_network("aws", restricted(weights={"source": "hub", "https_proxy": PROXY})),
                         SOURCE)


@pytest.mark.parametrize(("proxy", "why"), [
    ("http://proxy.corp:3128", "not a proxy address"),
    ("https://10.0.0.10:3128", "not a proxy address"),
    ("http://10.0.0.10", "not a proxy address"),
    ("http://10.0.0.10:70000", "not a proxy address"),
    ("http://10.0.0.300:3128", "not a proxy address"),
    ("http://8.8.8.8:3128", "is not an address in your network"),
    ("http://169.254.169.254:80", "is not an address in your network"),
    ("http://127.0.0.1:3128", "is not an address in your network"),
    ("http://0.0.0.0:3128", "is not an address in your network"),
])
def test_a_proxy_is_a_private_address_and_port(proxy: str, why: str) -> None:
    message = only_problem(on_existing_cluster(restricted(weights={"source": "hub", "https_proxy": proxy})))
    assert "use_cases[0].weights.https_proxy" in message and why in message


def test_a_proxy_only_for_a_hub_download_outside_triplanes_network() -> None:
    message = only_problem(environment(restricted(weights={"source": "hub", "https_proxy": PROXY})))
    assert "weights.https_proxy: cluster 'gpu' is in a network Triplane creates" in message
    message = only_problem(environment(use_case(weights={"source": "s3://models/llama", "https_proxy": PROXY})))
    assert "https_proxy: only a hub download goes through a proxy" in message
    message = only_problem(on_existing_cluster(use_case(offline=True, cache={"existing_claim": "m"},
                                                        weights={"https_proxy": PROXY})))
    assert "weights.https_proxy: `offline: true` downloads nothing" in message


def test_restricted_bucket_import_needs_triplanes_network() -> None:
    s3 = {"source": "s3://models/llama"}
    validate_environment(environment(restricted(weights=s3)), SOURCE)
    message = only_problem(in_existing_network("aws", restricted(weights=s3)))
    assert message.startswith("triplane:environment.use_cases[0].weights.source: restricted data: the aws network")
    validate_environment(in_existing_network("aws", use_case(weights=s3)), SOURCE)


def test_restricted_gcs_import_in_an_existing_network_needs_the_googleapis_address() -> None:
    gs = {"source": "gs://models/llama"}
    message = only_problem(in_existing_network("gcp", restricted(weights=gs)))
    assert "clouds.gcp.network.existing.google_apis_address" in message
    validate_environment(in_existing_network("gcp", restricted(weights=gs), google_apis_address="10.30.255.2"),
                         SOURCE)


# --- the pack -------------------------------------------------------------------------------------

POLICY = "k8s-restricted-egress-named-hosts"
NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
HUB = "huggingface.co,*.huggingface.co,*.hf.co"
PUBLIC_443 = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12"]}}],
               "ports": [{"protocol": "TCP", "port": 443}]}]


def labels(classification: str, use_case: str = "vault") -> dict[str, str]:
    return k8s_labels(standard_tags(environment="test", owner="platform", cost_center="cc-1", use_case=use_case,
                                    data_classification=classification, pattern="self-managed"))


def resource(type_: str, name: str, inputs: dict[str, Any]) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:test::triplane::{type_}::{name}", type=type_, name=name, custom=True, parent=None,
        inputs=inputs, dependencies=(), protect=False, retain_on_delete=False, provider=None, aliases=(),
        ignore_changes=(), additional_secret_outputs=(),
    )


def policy(name: str, namespace: str, egress: list[dict[str, Any]], *, classification: str | None = "restricted",
           annotations: dict[str, str] | None = None) -> PlannedResource:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "annotations": annotations or {}}
    if classification is not None:
        meta["labels"] = labels(classification)
    return resource(NP, name, {"metadata": meta, "spec": {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "model-weights"}},
        "policyTypes": ["Egress"], "egress": egress}})


def firewall(*hosts: str) -> PlannedResource:
    return resource("aws:networkfirewall/ruleGroup:RuleGroup", "egress-allowlist", {"ruleGroup": {"rulesSource": {
        "rulesSourceList": {"generatedRulesType": "ALLOWLIST", "targetTypes": ["TLS_SNI", "HTTP_HOST"],
                            "targets": list(hosts)}}}})


VPC = resource("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.10.0.0/16"})


def fired(*resources: PlannedResource) -> set[str]:
    result = check_plan(Plan(project="triplane", stack="test", resources=list(resources)),
                        scope="kubernetes")
    return {v.resource_name or "" for v in result.violations if v.policy == POLICY}


def test_the_rule_is_mandatory() -> None:
    assert REGISTRY[POLICY].enforcement.value == "mandatory"


def test_restricted_public_egress_without_a_host_filtered_path_fails() -> None:
    assert fired(policy("vault-weights-egress", "vault", PUBLIC_443, annotations={
        "triplane.io/egress-path": "declared", "triplane.io/egress-hosts": HUB})) == {"vault-weights-egress"}
    # No annotation at all, and an allow-all rule (no `to`), are the same hole.
    assert fired(policy("vault-open", "vault", [{}])) == {"vault-open"}
    assert fired(policy("vault-v6", "vault", [{"to": [{"ipBlock": {"cidr": "::/0"}}]}])) == {"vault-v6"}


def test_non_restricted_public_egress_passes_whatever_its_name() -> None:
    assert fired(policy("restricted-weights-egress", "restricted", PUBLIC_443, classification="confidential")) == set()
    assert fired(policy("vault-weights-egress", "serving", PUBLIC_443, classification="internal")) == set()


def default_deny(namespace: str, *types: str) -> PlannedResource:
    return resource(NP, f"{namespace}-default-deny", {
        "metadata": {"name": "default-deny", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": list(types)}})


def test_an_unlabelled_policy_in_a_restricted_namespace_fails() -> None:
    namespace = resource("kubernetes:core/v1:Namespace", "vault-ns",
                         {"metadata": {"name": "vault", "labels": labels("restricted")}})
    deny = default_deny("vault", "Ingress", "Egress")
    assert fired(namespace, deny, policy("extra-egress", "vault", PUBLIC_443, classification=None)) \
        == {"extra-egress"}
    # The same policy in another namespace is not restricted data's.
    assert fired(namespace, deny, policy("extra-egress", "web", PUBLIC_443, classification=None)) == set()
    # policyTypes left out: a policy with egress rules still limits (and here opens) egress.
    implicit = resource(NP, "implicit", {"metadata": {"name": "implicit", "namespace": "vault"},
                                         "spec": {"podSelector": {}, "egress": [{}]}})
    assert fired(namespace, deny, implicit) == {"implicit"}


def test_a_restricted_namespace_denies_egress_by_default() -> None:
    namespace = resource("kubernetes:core/v1:Namespace", "vault-ns",
                         {"metadata": {"name": "vault", "labels": labels("restricted")}})
    assert fired(namespace, default_deny("vault", "Ingress")) == {"vault-ns"}
    # A policy named "default-deny" that selects some pods only is not a default.
    narrow = resource(NP, "vault-narrow", {"metadata": {"name": "default-deny", "namespace": "vault"}, "spec": {
        "podSelector": {"matchLabels": {"app": "tgi"}}, "policyTypes": ["Egress"]}})
    assert fired(namespace, narrow) == {"vault-ns"}
    assert fired(namespace, default_deny("vault", "Ingress", "Egress")) == set()
    # An internal namespace is not held to it.
    internal = resource("kubernetes:core/v1:Namespace", "web-ns",
                        {"metadata": {"name": "web", "labels": labels("internal")}})
    assert fired(internal, default_deny("web", "Ingress")) == set()


def test_a_classification_elsewhere_than_the_label_does_not_count() -> None:
    # "restricted" as a use-case name or an annotation is not the data classification.
    tricky = policy("weights-egress", "restricted", PUBLIC_443, classification=None,
                    annotations={"triplane.io/data-classification": "restricted"})
    named = resource(NP, "restricted", {"metadata": {"name": "restricted", "namespace": "web",
                                                     "labels": labels("internal", use_case="restricted")},
                                        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": PUBLIC_443}})
    assert fired(tricky, named) == set()


def test_restricted_egress_to_a_proxy_or_private_endpoint_passes() -> None:
    proxy = [{"to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}], "ports": [{"protocol": "TCP", "port": 3128}]}]
    through = {"triplane.io/egress-path": "proxy"}
    assert fired(policy("vault-weights-egress", "vault", proxy, annotations=through)) == set()


def test_restricted_egress_through_the_firewall_needs_the_network_and_its_allowlist() -> None:
    through = {"triplane.io/egress-path": "firewall", "triplane.io/egress-hosts": HUB}
    good = policy("vault-weights-egress", "vault", PUBLIC_443, annotations=through)
    assert fired(good, VPC, firewall("huggingface.co", ".huggingface.co", ".hf.co")) == set()
    # The word "firewall" alone is not a firewall: the stack must create the network...
    assert fired(good, firewall("huggingface.co", ".huggingface.co", ".hf.co")) == {"vault-weights-egress"}
    # ...and allow exactly the hosts the Job names (a look-alike domain is not the hub).
    assert fired(good, VPC, firewall("huggingface.co", ".huggingface.co.evil.io")) == {"vault-weights-egress"}


def test_a_private_range_wider_than_the_proxy_is_not_public() -> None:
    private = [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 443}]}]
    assert fired(policy("vault-import-egress", "vault", private, annotations={"triplane.io/egress-path": "private"})) \
        == set()


# --- the rendered resources -----------------------------------------------------------------------


def plan_of(env: dict[str, Any]) -> Plan:
    from triplane.plan import run_program
    from triplane.stacks import program

    return run_program(program.main, stack="st", config={"triplane:environment": env}, secret_keys=[])


def network_policies(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in plan.resources if r.type == NP}


def test_a_restricted_download_through_a_proxy_may_reach_the_proxy_alone() -> None:
    plan = plan_of(on_existing_cluster(restricted(weights={"source": "hub", "https_proxy": PROXY})))
    weights = network_policies(plan)["st-chat-weights-egress"]
    meta, spec = weights["metadata"], weights["spec"]
    assert meta["labels"]["triplane.io/data-classification"] == "restricted"
    assert meta["annotations"] == {"triplane.io/egress-path": "proxy", "triplane.io/egress-hosts": HUB}
    out = [rule for rule in spec["egress"] if any("ipBlock" in peer for peer in rule["to"])]
    assert out == [{"to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}], "ports": [{"protocol": "TCP", "port": 3128}]}]
    job = next(r for r in plan.resources if r.type == "kubernetes:batch/v1:Job")
    env = {e["name"]: e.get("value") for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["HTTPS_PROXY"] == env["https_proxy"] == PROXY
    assert fired(*plan.resources) == set()


def test_once_the_cache_is_filled_no_pod_keeps_a_way_out() -> None:
    """The download's policy selects the Job's pods, which the server's never match: the server keeps DNS."""
    plan = plan_of(on_existing_cluster(restricted(weights={"source": "hub", "https_proxy": PROXY})))
    selector = network_policies(plan)["st-chat-weights-egress"]["spec"]["podSelector"]["matchLabels"]
    server = next(r for r in plan.resources if r.type == "kubernetes:apps/v1:Deployment"
                  and r.inputs["metadata"]["labels"].get("app.kubernetes.io/component") == "model-server")
    pod_labels = server.inputs["spec"]["template"]["metadata"]["labels"]
    assert not all(pod_labels.get(k) == v for k, v in selector.items())
    for name, inputs in network_policies(plan).items():
        if name == "st-chat-weights-egress" or "Egress" not in inputs["spec"].get("policyTypes", []):
            continue
        rules = inputs["spec"].get("egress") or []
        assert all("ipBlock" not in peer for rule in rules for peer in rule.get("to", [])), name
