"""Azure policies: Azure OpenAI accounts, Key Vaults, AKS node pools, the egress firewall.

Property names are Azure Native's engine names: an account's `properties.publicNetworkAccess`,
`properties.networkAcls.defaultAction`, `identity.type`; a vault's `properties.enablePurgeProtection`;
an agent pool's `enableNodePublicIP` and `maxCount`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .common import (
    ADVISORY,
    CAP_SCHEMA,
    CRITICAL,
    HIGH,
    LOW,
    MEDIUM,
    Res,
    as_list,
    broad_domain,
    cap_for,
    checkov,
    get,
    is_public_cidr,
    known,
    resource_policy,
    stack_policy,
    truthy,
)

ACCOUNT = "azure-native:cognitiveservices:Account"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
VAULT = "azure-native:keyvault:Vault"
AGENT_POOL = "azure-native:containerservice:AgentPool"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
RULE_COLLECTION_GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup"
AZURE_FIREWALL = "azure-native:network:AzureFirewall"
OPENAI_KINDS = ("OpenAI", "AIServices")
REQUIRED_LOG_CATEGORIES_DEFAULT = ["Audit", "RequestResponse"]


def is_openai(resource: Res) -> bool:
    return resource.type == ACCOUNT and resource.props.get("kind") in OPENAI_KINDS


def _same(value: Any, expected: str) -> bool:
    return isinstance(value, str) and value.lower() == expected.lower()


# --- Azure OpenAI --------------------------------------------------------------------------------


def _openai_public_access(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not is_openai(resource):
        return
    value = get(resource.props, "properties.publicNetworkAccess")
    if not _same(value, "Disabled"):
        yield f"properties.publicNetworkAccess is {value!r}: the account answers on the internet"


def _openai_local_auth(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not is_openai(resource):
        return
    if not truthy(get(resource.props, "properties.disableLocalAuth", False)):
        yield "properties.disableLocalAuth is not true: API keys work alongside Entra ID"


def _openai_network_acls(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not is_openai(resource):
        return
    acls = get(resource.props, "properties.networkAcls") or {}
    if not _same(acls.get("defaultAction"), "Deny"):
        yield f"properties.networkAcls.defaultAction is {acls.get('defaultAction')!r}: it must be Deny"
    public = [r.get("value") for r in as_list(acls.get("ipRules")) if is_public_cidr(r.get("value"))]
    if public:
        yield f"properties.networkAcls.ipRules admit {public}"


def _openai_identity(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not is_openai(resource):
        return
    kind = str(get(resource.props, "identity.type") or "None")
    if "Assigned" not in kind:
        yield f"identity.type is {kind!r}: give the account a system- or user-assigned managed identity"


def _openai_outbound(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not is_openai(resource):
        return
    if not truthy(get(resource.props, "properties.restrictOutboundNetworkAccess", False)):
        yield (
            "properties.restrictOutboundNetworkAccess is not true: the account may send data to any host; "
            "restrict it and list the needed hosts in allowedFqdnList"
        )
    for fqdn in as_list(get(resource.props, "properties.allowedFqdnList")):
        problem = broad_domain(str(known(fqdn, "properties.allowedFqdnList")))
        if problem:
            yield f"properties.allowedFqdnList entry {fqdn!r} {problem}"


def _openai_cmk(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not is_openai(resource):
        return
    source = get(resource.props, "properties.encryption.keySource")
    if not _same(source, "Microsoft.KeyVault"):
        yield "properties.encryption does not use a customer-managed key (keySource Microsoft.KeyVault)"


def _diagnostics_for(target: Res, settings: list[Res]) -> list[Res]:
    found = []
    for setting in settings:
        uri = setting.props.get("resourceUri")
        if target.urn in setting.dependencies or (
            isinstance(uri, str) and uri.lower().endswith(f"/{str(target.props.get('accountName', '')).lower()}")
            and target.props.get("accountName")
        ):
            found.append(setting)
    return found


def _openai_diagnostics(resources: list[Res], cfg: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    settings = [r for r in resources if r.type == DIAGNOSTIC_SETTING]
    required = [str(c) for c in cfg["requiredCategories"]]
    for account in (r for r in resources if is_openai(r)):
        mine = _diagnostics_for(account, settings)
        if not mine:
            yield "no diagnostic setting sends this account's logs anywhere", account.urn
            continue
        enabled: set[str] = set()
        groups: set[str] = set()
        for setting in mine:
            if not (setting.props.get("workspaceId") or setting.props.get("storageAccountId")
                    or setting.props.get("eventHubAuthorizationRuleId")):
                yield f"diagnostic setting {setting.name} has no destination", account.urn
            for log in as_list(setting.props.get("logs")):
                if truthy(log.get("enabled", False)):
                    if log.get("category"):
                        enabled.add(str(log["category"]))
                    if log.get("categoryGroup"):
                        groups.add(str(log["categoryGroup"]).lower())
        if "alllogs" in groups:
            continue
        missing = [c for c in required if c not in enabled and not (c == "Audit" and "audit" in groups)]
        if missing:
            yield f"diagnostic settings do not enable the log categories {missing}", account.urn


# --- Key Vault -----------------------------------------------------------------------------------


def _vault_purge_protection(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not truthy(get(resource.props, "properties.enablePurgeProtection", False)):
        yield "properties.enablePurgeProtection is not true: a deleted vault and its secrets can be purged at once"


def _vault_soft_delete(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    if not truthy(get(resource.props, "properties.enableSoftDelete", True)):
        yield "properties.enableSoftDelete is false"
    days = get(resource.props, "properties.softDeleteRetentionInDays")
    if days is not None and float(days) < int(cfg["minimumRetentionDays"]):
        yield f"properties.softDeleteRetentionInDays is {int(float(days))}, below {cfg['minimumRetentionDays']}"


def _vault_rbac(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if not truthy(get(resource.props, "properties.enableRbacAuthorization", False)):
        yield "properties.enableRbacAuthorization is not true: access policies grant vault-wide access"
    if as_list(get(resource.props, "properties.accessPolicies")):
        yield "properties.accessPolicies is set: use Azure RBAC role assignments scoped to the secret"


def _vault_public_access(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    value = get(resource.props, "properties.publicNetworkAccess")
    if not _same(value, "Disabled"):
        yield f"properties.publicNetworkAccess is {value!r}: reach the vault through a private endpoint only"
    acls = get(resource.props, "properties.networkAcls") or {}
    if not _same(acls.get("defaultAction"), "Deny"):
        yield f"properties.networkAcls.defaultAction is {acls.get('defaultAction')!r}: it must be Deny"


# --- AKS -----------------------------------------------------------------------------------------


def _pools(resource: Res) -> list[tuple[str, dict[str, Any]]]:
    if resource.type == AGENT_POOL:
        return [("", resource.props)]
    return [
        (f"agentPoolProfiles[{i}].", pool)
        for i, pool in enumerate(as_list(get(resource.props, "agentPoolProfiles")))
    ]


def _node_no_public_ip(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    for prefix, pool in _pools(resource):
        if truthy(pool.get("enableNodePublicIP", False)):
            yield f"{prefix}enableNodePublicIP is true: every node gets a public address"


def _pool_cap(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    cap = cap_for(resource.name, cfg)
    for prefix, pool in _pools(resource):
        size = pool.get("maxCount") if truthy(pool.get("enableAutoScaling", False)) else pool.get("count")
        size = pool.get("maxCount", size) if size is None else size
        if size is not None and float(size) > cap:
            field = "maxCount" if truthy(pool.get("enableAutoScaling", False)) else "count"
            yield f"{prefix}{field} is {int(float(size))}, above the cap of {cap} nodes per pool"


def _aks_api(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    profile = get(resource.props, "apiServerAccessProfile") or {}
    if truthy(profile.get("enablePrivateCluster", False)):
        return
    ranges = as_list(profile.get("authorizedIPRanges"))
    if not ranges or any(is_public_cidr(r) for r in ranges):
        yield (
            "the cluster API answers on the internet to anyone: set apiServerAccessProfile.enablePrivateCluster, "
            "or authorizedIPRanges to the administering networks"
        )


# --- egress firewall -----------------------------------------------------------------------------


def _egress_allowlist(resource: Res, _cfg: dict[str, Any]) -> Iterator[str]:
    if resource.type == RULE_COLLECTION_GROUP:
        for c_index, collection in enumerate(as_list(get(resource.props, "ruleCollections"))):
            if not _same(get(collection, "action.type"), "Allow"):
                continue
            for r_index, rule in enumerate(as_list(collection.get("rules"))):
                where = f"ruleCollections[{c_index}].rules[{r_index}]"
                if rule.get("ruleType") == "ApplicationRule":
                    for key in ("targetFqdns", "targetUrls"):
                        for fqdn in as_list(rule.get(key)):
                            problem = broad_domain(str(fqdn).split("/")[0])
                            if problem:
                                yield f"{where}.{key} allows {fqdn!r}, which {problem}"
                    if as_list(rule.get("webCategories")):
                        yield f"{where} allows whole web categories: list the hosts instead"
                elif rule.get("ruleType") == "NetworkRule":
                    destinations = as_list(rule.get("destinationAddresses"))
                    public = [d for d in destinations if is_public_cidr(d)]
                    if public:
                        yield f"{where} allows traffic to {public}: egress would bypass the host allowlist"
                    for fqdn in as_list(rule.get("destinationFqdns")):
                        problem = broad_domain(str(fqdn))
                        if problem:
                            yield f"{where}.destinationFqdns allows {fqdn!r}, which {problem}"
    elif resource.type == AZURE_FIREWALL:
        for c_index, collection in enumerate(as_list(get(resource.props, "applicationRuleCollections"))):
            if not _same(get(collection, "action.type"), "Allow"):
                continue
            for r_index, rule in enumerate(as_list(collection.get("rules"))):
                for fqdn in as_list(rule.get("targetFqdns")):
                    problem = broad_domain(str(fqdn))
                    if problem:
                        yield (
                            f"applicationRuleCollections[{c_index}].rules[{r_index}].targetFqdns allows {fqdn!r}, "
                            f"which {problem}"
                        )


POLICIES = [
    resource_policy(
        name="azure-openai-public-network-disabled",
        description="Azure OpenAI accounts refuse public network access.",
        types=[ACCOUNT],
        check=_openai_public_access,
        severity=CRITICAL,
        remediation="Set properties.public_network_access='Disabled' and reach the account through a private "
        "endpoint (group 'account', zone privatelink.openai.azure.com).",
        references=[checkov("CKV_AZURE_134")],
        tags=["cloud-managed", "network"],
    ),
    resource_policy(
        name="azure-openai-local-auth-disabled",
        description="Azure OpenAI accounts accept Entra ID tokens only, no API keys.",
        types=[ACCOUNT],
        check=_openai_local_auth,
        severity=HIGH,
        remediation="Set properties.disable_local_auth=True and grant callers 'Cognitive Services OpenAI User'.",
        references=[checkov("CKV_AZURE_236")],
        tags=["cloud-managed", "iam"],
    ),
    resource_policy(
        name="azure-openai-network-acls-deny",
        description="Azure OpenAI network ACLs deny by default and admit no public addresses.",
        types=[ACCOUNT],
        check=_openai_network_acls,
        severity=HIGH,
        remediation="Set properties.network_acls={'default_action': 'Deny', 'ip_rules': []}.",
        tags=["cloud-managed", "network"],
    ),
    resource_policy(
        name="azure-openai-managed-identity",
        description="Azure OpenAI accounts have a managed identity.",
        types=[ACCOUNT],
        check=_openai_identity,
        severity=MEDIUM,
        remediation="Set identity={'type': 'SystemAssigned'} (or UserAssigned with the identity IDs).",
        references=[checkov("CKV_AZURE_238")],
        tags=["cloud-managed", "iam"],
    ),
    resource_policy(
        name="azure-openai-outbound-restricted",
        description="Azure OpenAI accounts may only reach the hosts listed in allowedFqdnList.",
        types=[ACCOUNT],
        check=_openai_outbound,
        severity=HIGH,
        remediation="Set properties.restrict_outbound_network_access=True and allowed_fqdn_list to the exact "
        "hosts the account needs (its Key Vault, for a customer-managed key).",
        references=[checkov("CKV_AZURE_247")],
        tags=["cloud-managed", "network"],
    ),
    resource_policy(
        name="azure-openai-customer-managed-key",
        description="Azure OpenAI accounts encrypt data with a customer-managed key.",
        types=[ACCOUNT],
        check=_openai_cmk,
        severity=LOW,
        enforcement=ADVISORY,
        remediation="Set properties.encryption with key_source 'Microsoft.KeyVault' and a Key Vault key the "
        "account's identity may use.",
        references=[checkov("CKV2_AZURE_22")],
        tags=["cloud-managed", "encryption"],
    ),
    stack_policy(
        name="azure-openai-diagnostic-settings",
        description="Every Azure OpenAI account sends its audit and request logs to a destination.",
        check=_openai_diagnostics,
        severity=HIGH,
        remediation="Add a monitor.DiagnosticSetting on the account with a workspace_id and the categories "
        "Audit, RequestResponse, AzureOpenAIRequestUsage, Trace (or the allLogs group) and AllMetrics.",
        config={
            "requiredCategories": {
                "type": "array",
                "items": {"type": "string"},
                "default": REQUIRED_LOG_CATEGORIES_DEFAULT,
                "description": "Log categories every account must enable.",
            }
        },
        tags=["cloud-managed", "logging"],
    ),
    resource_policy(
        name="azure-key-vault-purge-protection",
        description="Key Vaults have purge protection on.",
        types=[VAULT],
        check=_vault_purge_protection,
        severity=HIGH,
        remediation="Set properties.enable_purge_protection=True (it cannot be turned off again).",
        references=[checkov("CKV_AZURE_110"), checkov("CKV_AZURE_42")],
        tags=["secrets"],
    ),
    resource_policy(
        name="azure-key-vault-soft-delete",
        description="Key Vaults keep deleted objects recoverable for the configured number of days.",
        types=[VAULT],
        check=_vault_soft_delete,
        severity=MEDIUM,
        remediation="Leave properties.enable_soft_delete on and set soft_delete_retention_in_days (90).",
        references=[checkov("CKV_AZURE_111")],
        config={"minimumRetentionDays": {"type": "integer", "minimum": 7, "maximum": 90, "default": 30,
                                         "description": "Shortest acceptable soft-delete retention."}},
        tags=["secrets"],
    ),
    resource_policy(
        name="azure-key-vault-rbac",
        description="Key Vaults authorise with Azure RBAC, not vault access policies.",
        types=[VAULT],
        check=_vault_rbac,
        severity=MEDIUM,
        remediation="Set properties.enable_rbac_authorization=True, drop access_policies, and assign "
        "'Key Vault Secrets User' on the secret to the workload identity only.",
        tags=["secrets", "iam"],
    ),
    resource_policy(
        name="azure-key-vault-no-public-access",
        description="Key Vaults refuse public network access and deny by default.",
        types=[VAULT],
        check=_vault_public_access,
        severity=HIGH,
        remediation="Set properties.public_network_access='Disabled' and network_acls.default_action='Deny'; "
        "reach the vault through a private endpoint (privatelink.vaultcore.azure.net).",
        references=[checkov("CKV_AZURE_189"), checkov("CKV_AZURE_109")],
        tags=["secrets", "network"],
    ),
    resource_policy(
        name="azure-nodes-no-public-ip",
        description="AKS node pools give nodes no public IP.",
        types=[AGENT_POOL, MANAGED_CLUSTER],
        check=_node_no_public_ip,
        severity=HIGH,
        remediation="Set enable_node_public_ip=False on every agent pool.",
        references=[checkov("CKV_AZURE_143")],
        tags=["self-managed", "network"],
    ),
    resource_policy(
        name="azure-node-pool-size-cap",
        description="AKS node pools cannot grow beyond the configured number of nodes (cost guard).",
        types=[AGENT_POOL, MANAGED_CLUSTER],
        check=_pool_cap,
        severity=MEDIUM,
        remediation="Lower max_count (count without autoscaling), or raise the cap for this pool in the policy "
        "config with a reason.",
        config=CAP_SCHEMA,
        tags=["self-managed", "cost"],
    ),
    resource_policy(
        name="azure-aks-api-not-public",
        description="The AKS API server is private, or reachable only from named networks.",
        types=[MANAGED_CLUSTER],
        check=_aks_api,
        severity=HIGH,
        remediation="Set api_server_access_profile.enable_private_cluster=True, or authorized_ip_ranges to the "
        "administering networks.",
        references=[checkov("CKV_AZURE_115"), checkov("CKV_AZURE_6")],
        tags=["self-managed", "network"],
    ),
    resource_policy(
        name="azure-egress-allowlist",
        description="The egress firewall allows named hosts only: no wildcard hosts or wildcards over shared "
        "hosting, no categories or open network rules.",
        types=[RULE_COLLECTION_GROUP, AZURE_FIREWALL],
        check=_egress_allowlist,
        severity=HIGH,
        remediation="Allow HTTPS to the provider hosts with application rules (target_fqdns), with no wildcard "
        "over a public suffix or shared hosting domain (name the storage account's host); keep network "
        "rules to private destinations.",
        tags=["saas", "network"],
    ),
]
