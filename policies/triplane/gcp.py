"""Google Cloud policies: Vertex AI over Private Service Connect, IAM, KMS, Secret Manager, GKE, egress.

Property names are the engine's as the Google Cloud provider registers them: a global address's
`purpose` and `addressType`, a crypto key's `rotationPeriod`, a node pool's
`autoscaling.totalMaxNodeCount` and `networkConfig.enablePrivateNodes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .common import (
    CAP_SCHEMA,
    CRITICAL,
    HIGH,
    MEDIUM,
    Res,
    as_list,
    broad_domain,
    cap_for,
    checkov,
    cis,
    get,
    is_public_cidr,
    json_document,
    known,
    platform_stack,
    resource_policy,
    stack_policy,
    truthy,
)

GLOBAL_ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
GLOBAL_FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule"
MANAGED_ZONE = "gcp:dns/managedZone:ManagedZone"
SERVICE = "gcp:projects/service:Service"
IAM_MEMBER_TYPES = (
    "gcp:projects/iAMMember:IAMMember",
    "gcp:organizations/iAMMember:IAMMember",
    "gcp:folder/iAMMember:IAMMember",
)
IAM_BINDING_TYPES = (
    "gcp:projects/iAMBinding:IAMBinding",
    "gcp:organizations/iAMBinding:IAMBinding",
    "gcp:folder/iAMBinding:IAMBinding",
)
IAM_POLICY_TYPES = (
    "gcp:projects/iAMPolicy:IAMPolicy",
    "gcp:organizations/iAMPolicy:IAMPolicy",
    "gcp:folder/iAMPolicy:IAMPolicy",
)
SECRET = "gcp:secretmanager/secret:Secret"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SWP_RULE = "gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule"
FIREWALL = "gcp:compute/firewall:Firewall"
FIREWALL_POLICY_RULES = (
    "gcp:compute/firewallPolicyRule:FirewallPolicyRule",
    "gcp:compute/networkFirewallPolicyRule:NetworkFirewallPolicyRule",
    "gcp:compute/regionNetworkFirewallPolicyRule:RegionNetworkFirewallPolicyRule",
)
FIREWALL_POLICIES_WITH_RULES = (
    "gcp:compute/firewallPolicyWithRules:FirewallPolicyWithRules",
    "gcp:compute/networkFirewallPolicyWithRules:NetworkFirewallPolicyWithRules",
    "gcp:compute/regionNetworkFirewallPolicyWithRules:RegionNetworkFirewallPolicyWithRules",
)
ALLOWING_ACTIONS = ("allow", "apply_security_profile_group")
"""Cloud NGFW rule actions that let a matching flow through."""
AIPLATFORM = "aiplatform.googleapis.com"
GOOGLE_APIS_BUNDLES = ("all-apis", "vpc-sc")
_EXACT_HOST = re.compile(r"^\s*host\(\)\s*==\s*'([^']+)'\s*$")
_SUFFIX_HOST = re.compile(r"^\s*host\(\)\.endsWith\('([^']+)'\)\s*$")


def _duration_seconds(value: str) -> float | None:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", value.strip())
    return float(match.group(1)) if match else None


# --- Vertex AI -----------------------------------------------------------------------------------


def _vertex_psc(resources: list[Res], _cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    users = [r for r in resources if r.type.startswith("triplane:cloudmanaged:Vertex")]
    users += [r for r in resources if r.type == SERVICE and r.props.get("service") == AIPLATFORM]
    if not users or platform_stack() is not None:
        return  # a use-case stack reaches Vertex AI through its platform's Private Service Connect path
    anchor = users[0].urn
    addresses = [
        r for r in resources
        if r.type == GLOBAL_ADDRESS
        and r.props.get("purpose") == "PRIVATE_SERVICE_CONNECT"
        and r.props.get("addressType") == "INTERNAL"
    ]
    rules = [r for r in resources if r.type == GLOBAL_FORWARDING_RULE and r.props.get("target") in GOOGLE_APIS_BUNDLES]
    zones = [
        r for r in resources
        if r.type == MANAGED_ZONE
        and r.props.get("dnsName") == "googleapis.com."
        and r.props.get("visibility") == "private"
    ]
    if not addresses:
        yield (
            "Vertex AI is used but no internal global address with purpose PRIVATE_SERVICE_CONNECT exists",
            anchor,
        )
    if not rules:
        yield "Vertex AI is used but no global forwarding rule targets all-apis or vpc-sc", anchor
    for rule in rules:
        if rule.props.get("loadBalancingScheme", "") not in ("", None):
            yield "a Google APIs forwarding rule must have an empty loadBalancingScheme", rule.urn
        if not rule.props.get("network"):
            yield "the Google APIs forwarding rule names no VPC network", rule.urn
    if not zones:
        yield (
            "Vertex AI is used but no private googleapis.com. DNS zone sends the API names to the PSC address",
            anchor,
        )


def _roles_granted(resource: Res) -> list[tuple[str, list[str]]]:
    if resource.type in IAM_MEMBER_TYPES:
        return [(str(resource.props.get("role", "")), [str(resource.props.get("member", ""))])]
    if resource.type in IAM_BINDING_TYPES:
        return [(str(resource.props.get("role", "")), [str(m) for m in as_list(resource.props.get("members"))])]
    document = json_document(resource.props.get("policyData"), "policyData")
    if not isinstance(document, dict):
        return []
    return [
        (str(b.get("role", "")), [str(m) for m in as_list(b.get("members"))])
        for b in as_list(document.get("bindings"))
        if isinstance(b, dict)
    ]


def _no_primitive_roles(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    forbidden = {str(r) for r in cfg["forbiddenRoles"]}
    for role, members in _roles_granted(resource):
        if role in forbidden:
            who = ", ".join(known(m, "member") for m in members) or "nobody"
            yield f"grants the basic role {role} to {who}: grant a predefined role such as roles/aiplatform.user"


def _secret_cmek(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    replication = get(resource.props, "replication") or {}
    auto = replication.get("auto")
    managed = replication.get("userManaged")
    if auto is not None and not get(auto, "customerManagedEncryption.kmsKeyName"):
        yield "replication.auto has no customerManagedEncryption.kmsKeyName: the secret uses Google-managed keys"
    if managed is not None:
        replicas = as_list(managed.get("replicas"))
        bare = [r.get("location") for r in replicas if not get(r, "customerManagedEncryption.kmsKeyName")]
        if bare:
            yield f"replicas in {bare} have no customerManagedEncryption.kmsKeyName"
    if auto is None and managed is None:
        yield "no replication is set"


def _kms_rotation(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    if get(resource.props, "purpose", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return  # only symmetric encryption keys rotate automatically
    period = get(resource.props, "rotationPeriod")
    limit = int(cfg["maxRotationDays"]) * 86400
    if not period:
        yield "rotationPeriod is not set: the key never rotates"
        return
    seconds = _duration_seconds(str(period))
    if seconds is None or seconds > limit:
        yield f"rotationPeriod is {period}: rotate at least every {cfg['maxRotationDays']} days ({limit}s)"


def _gke_private_nodes(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if resource.type == CLUSTER:
        if not truthy(get(resource.props, "privateClusterConfig.enablePrivateNodes", False)):
            yield "privateClusterConfig.enablePrivateNodes is not true: nodes get public addresses"
    elif resource.type == NODE_POOL:
        value = get(resource.props, "networkConfig.enablePrivateNodes")
        if value is not None and not truthy(value):
            yield "networkConfig.enablePrivateNodes is false: this pool's nodes get public addresses"


def _node_pool_cap(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    cap = cap_for(resource.name, cfg)
    autoscaling = get(resource.props, "autoscaling") or {}
    zones = max(1, len(as_list(get(resource.props, "nodeLocations"))))
    if autoscaling.get("totalMaxNodeCount") is not None:
        size, field = float(autoscaling["totalMaxNodeCount"]), "autoscaling.totalMaxNodeCount"
    elif autoscaling.get("maxNodeCount") is not None:
        size, field = float(autoscaling["maxNodeCount"]) * zones, "autoscaling.maxNodeCount x zones"
    elif get(resource.props, "nodeCount") is not None:
        size, field = float(get(resource.props, "nodeCount")) * zones, "nodeCount x zones"
    else:
        return
    if size > cap:
        yield f"{field} is {int(size)}, above the cap of {cap} nodes per pool"


def _egress_allowlist(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if resource.type == SWP_RULE:
        if get(resource.props, "basicProfile") != "ALLOW":
            return
        matcher = str(known(get(resource.props, "sessionMatcher") or "", "sessionMatcher"))
        suffix = _SUFFIX_HOST.match(matcher)
        match = _EXACT_HOST.match(matcher) or suffix
        if match is None:
            yield f"sessionMatcher {matcher!r} is not host() == '<host>' or host().endsWith('.<domain>')"
            return
        host = match.group(1)
        if match is suffix and not host.startswith("."):
            host = f"*{host}"  # endsWith without a dot also matches other names ending in the same letters
        problem = broad_domain(host)
        if problem:
            yield f"sessionMatcher allows {host!r}, which {problem}"
    elif resource.type in FIREWALL_POLICY_RULES:
        yield from _fqdn_rule(resource.props, "match.destFqdns")
    elif resource.type in FIREWALL_POLICIES_WITH_RULES:
        for index, rule in enumerate(as_list(get(resource.props, "rules"))):
            yield from _fqdn_rule(rule, f"rules[{index}].match.destFqdns")
    elif resource.type == FIREWALL:
        direction = get(resource.props, "direction", "INGRESS")
        if direction != "EGRESS" or not as_list(get(resource.props, "allows")):
            return
        ranges = as_list(get(resource.props, "destinationRanges"))
        if not ranges or any(is_public_cidr(r) for r in ranges):
            yield "the egress firewall rule allows every destination: egress must go through the allowlist proxy"


def _fqdn_rule(rule: Any, where: str) -> Iterator[str]:
    """A Cloud NGFW rule letting traffic out to FQDNs: each must name one owner's host."""
    if str(get(rule, "action") or "").lower() not in ALLOWING_ACTIONS:
        return
    for fqdn in as_list(get(rule, "match.destFqdns")):
        problem = broad_domain(str(known(fqdn, where)))
        if problem:
            yield f"{where} allows {fqdn!r}, which {problem}"


def _firewall_public_ingress(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if get(resource.props, "direction", "INGRESS") != "INGRESS" or truthy(get(resource.props, "disabled", False)):
        return
    if not as_list(get(resource.props, "allows")):
        return
    sources = as_list(get(resource.props, "sourceRanges"))
    public = [s for s in sources if is_public_cidr(s)]
    if public:
        yield f"sourceRanges {public} admit the whole internet"


POLICIES = [
    stack_policy(
        name="gcp-vertex-private-service-connect",
        description="Vertex AI is reached through Private Service Connect for Google APIs, with private DNS.",
        check=_vertex_psc,
        severity=HIGH,
        remediation="Create an INTERNAL global address (purpose PRIVATE_SERVICE_CONNECT), a global forwarding "
        "rule to all-apis or vpc-sc with load_balancing_scheme='', and a private googleapis.com. zone "
        "(Triplane's GoogleApisPrivateAccess).",
        tags=["cloud-managed", "network"],
    ),
    resource_policy(
        name="gcp-no-basic-roles",
        description="No IAM grant of the basic roles owner or editor (service accounts least of all).",
        types=[*IAM_MEMBER_TYPES, *IAM_BINDING_TYPES, *IAM_POLICY_TYPES],
        check=_no_primitive_roles,
        severity=CRITICAL,
        remediation="Grant predefined roles scoped to the task (roles/aiplatform.user to call Vertex AI).",
        references=[checkov("CKV_GCP_117"), cis("Google Cloud Platform Foundation", "1.5")],
        config={
            "forbiddenRoles": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["roles/owner", "roles/editor"],
                "description": "Roles no binding may grant.",
            }
        },
        tags=["cloud-managed", "iam"],
    ),
    resource_policy(
        name="gcp-secret-customer-managed-key",
        description="Secret Manager secrets are encrypted with a customer-managed Cloud KMS key in every replica.",
        types=[SECRET],
        check=_secret_cmek,
        severity=HIGH,
        remediation="Use user_managed replication with customer_managed_encryption.kms_key_name on each replica.",
        tags=["saas", "secrets", "encryption"],
    ),
    resource_policy(
        name="gcp-kms-key-rotation",
        description="Cloud KMS encryption keys rotate at least every configured number of days.",
        types=[CRYPTO_KEY],
        check=_kms_rotation,
        severity=MEDIUM,
        remediation="Set rotation_period, e.g. '7776000s' (90 days).",
        references=[checkov("CKV_GCP_43")],
        config={"maxRotationDays": {"type": "integer", "minimum": 1, "default": 90,
                                    "description": "Longest allowed rotation period in days."}},
        tags=["secrets", "encryption"],
    ),
    resource_policy(
        name="gcp-gke-private-nodes",
        description="GKE nodes have no public IP addresses.",
        types=[CLUSTER, NODE_POOL],
        check=_gke_private_nodes,
        severity=HIGH,
        remediation="Set private_cluster_config.enable_private_nodes=True on the cluster and do not turn "
        "network_config.enable_private_nodes off on node pools.",
        references=[checkov("CKV_GCP_64"), checkov("CKV_GCP_25")],
        tags=["self-managed", "network"],
    ),
    resource_policy(
        name="gcp-node-pool-size-cap",
        description="GKE node pools cannot grow beyond the configured number of nodes (cost guard).",
        types=[NODE_POOL],
        check=_node_pool_cap,
        severity=MEDIUM,
        remediation="Lower autoscaling.total_max_node_count, or raise the cap for this pool in the policy "
        "config with a reason.",
        config=CAP_SCHEMA,
        tags=["self-managed", "cost"],
    ),
    resource_policy(
        name="gcp-egress-allowlist",
        description="Egress goes through the proxy's host allowlist: exact or subdomain rules (none over shared "
        "hosting), no open egress rules.",
        types=[SWP_RULE, FIREWALL, *FIREWALL_POLICY_RULES, *FIREWALL_POLICIES_WITH_RULES],
        check=_egress_allowlist,
        severity=HIGH,
        remediation="Write one ALLOW rule per provider host (host() == 'api.example.ai'), and no subdomain rule "
        "over a public suffix or shared hosting domain (name the bucket's host); egress firewall rules "
        "allow only the proxy and Google APIs' private addresses, and deny the rest.",
        tags=["saas", "network"],
    ),
    resource_policy(
        name="gcp-firewall-no-public-ingress",
        description="VPC firewall rules admit nothing from 0.0.0.0/0.",
        types=[FIREWALL],
        check=_firewall_public_ingress,
        severity=CRITICAL,
        remediation="Limit source_ranges to the application networks (and Google's health-check ranges).",
        references=[checkov("CKV_GCP_106"), checkov("CKV2_GCP_12")],
        tags=["network"],
    ),
]
