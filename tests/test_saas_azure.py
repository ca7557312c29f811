"""SaaS egress on Azure: Key Vault behind a private endpoint, the workload identity, and Azure Firewall."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triplane.components.network.refs import AzureNetworkRef
from triplane.components.saas.secret_store import KEY_VAULT_SECRETS_USER, MANAGED_IDENTITY_OPERATOR
from triplane.plan import Plan, is_secret, reveal, run_program
from triplane.stacks.clouds.azure import FIREWALL_PRIVATE_IP as AZURE_FIREWALL_PRIVATE_IP
from triplane.stacks.clouds.azure import OBJECT_ID as AZURE_OBJECT_ID
from triplane.stacks.clouds.azure import SUBSCRIPTION_ID as AZURE_SUBSCRIPTION_ID
from triplane.stacks.compose import export_endpoints
from triplane.stacks.context import StackContext
from triplane.stacks.patterns.saas import build_on
from triplane.stacks.providers import build_providers
from triplane.stacks.spec import validate_environment

SOURCE = "stacks/Pulumi.test.yaml"
PLANTED = {"openaiKey": "sk-PLANTED-azure-openai-41c2", "mistralKey": "PLANTED-mistral-77d0e3"}
OPERATOR = "33333333-3333-3333-3333-333333333333"
VNET = f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet"
NETWORK = AzureNetworkRef(
    location="westeurope",
    resource_group_name="rg-test",
    vnet_id=VNET,
    vnet_name="vnet",
    app_subnet_id=f"{VNET}/subnets/app",
    endpoint_subnet_id=f"{VNET}/subnets/private-endpoints",
    application_cidrs=["10.20.0.0/20"],
    app_route_table_name="test-app-rt",
    cidr="10.20.0.0/16",
)


def environment() -> dict[str, Any]:
    def saas(name: str, provider: str, key: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "pattern": "saas",
            "data_classification": "internal",
            "cloud": "azure",
            "provider": provider,
            "api_key_secret": key,
            "allowed_principals": [OPERATOR],
            **extra,
        }

    return {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "clouds": {
            "azure": {
                "location": "westeurope",
                "resource_group": "rg-test",
                "network": {"new": {"cidr": "10.20.0.0/16"}},
            }
        },
        "use_cases": [
            saas("chat", "openai", "openaiKey"),
            saas("legal", "mistral", "mistralKey", key_rotation="external"),
        ],
    }


@pytest.fixture(scope="module")
def plan() -> Plan:
    def program() -> None:
        spec = validate_environment(environment(), SOURCE)
        ctx = StackContext(stack="test", source=SOURCE, environment=spec, providers=build_providers("test", spec))
        export_endpoints({u.name: build_on(u, ctx, NETWORK) for u in spec.use_cases})

    return run_program(
        program,
        stack="test",
        config={f"triplane:{k}": v for k, v in PLANTED.items()},
        secret_keys=[f"triplane:{k}" for k in PLANTED],
    )


def endpoints(plan: Plan) -> dict[str, Any]:
    return reveal(plan.outputs["endpoints"])


def test_one_firewall_with_https_to_exactly_the_provider_fqdns(plan: Plan) -> None:
    assert len(plan.by_type("azure-native:network:AzureFirewall")) == 1
    group = plan.one("azure-native:network:FirewallPolicyRuleCollectionGroup").inputs
    [collection] = group["ruleCollections"]
    assert collection["ruleCollectionType"] == "FirewallPolicyFilterRuleCollection"
    assert collection["action"] == {"type": "Allow"}
    rules = collection["rules"]
    # One rule per use case, named after it, so the plan shows who needs each host.
    assert sorted(fqdn for rule in rules for fqdn in rule["targetFqdns"]) == ["api.mistral.ai", "api.openai.com"]
    for rule in rules:
        assert rule["ruleType"] == "ApplicationRule"
        assert rule["description"].startswith(f"Egress for {rule['name']} (")
        assert rule["protocols"] == [{"protocolType": "Https", "port": 443}]
        assert rule["sourceAddresses"] == ["10.20.0.0/20", "10.20.32.0/20"]
        assert "targetUrls" not in rule and "fqdnTags" not in rule
    firewall = plan.one("azure-native:network:AzureFirewall").inputs
    assert firewall["sku"] == {"name": "AZFW_VNet", "tier": "Standard"}
    assert firewall["firewallPolicy"]["id"].endswith("/test-egress-policy")
    assert plan.one("azure-native:network:FirewallPolicy").inputs["threatIntelMode"] == "Deny"


def test_firewall_subnet_static_ip_and_default_route(plan: Plan) -> None:
    subnet = plan.one("azure-native:network:Subnet").inputs
    assert subnet["subnetName"] == "AzureFirewallSubnet"
    assert subnet["virtualNetworkName"] == "vnet"
    assert subnet["addressPrefix"] == "10.20.48.0/20"
    ip = plan.one("azure-native:network:PublicIPAddress").inputs
    assert ip["publicIPAllocationMethod"] == "Static"
    assert ip["sku"]["name"] == "Standard"
    route = plan.one("azure-native:network:Route").inputs
    assert route == {
        "resourceGroupName": "rg-test",
        "routeTableName": "test-app-rt",
        "routeName": "default-via-egress-firewall",
        "addressPrefix": "0.0.0.0/0",
        "nextHopType": "VirtualAppliance",
        "nextHopIpAddress": AZURE_FIREWALL_PRIVATE_IP,
    }
    assert endpoints(plan)["chat"]["egress_ips"] == ["198.51.100.10"]


def test_firewall_and_vaults_log_to_log_analytics(plan: Plan) -> None:
    settings = {r.name: r.inputs for r in plan.by_type("azure-native:monitor:DiagnosticSetting")}
    firewall = settings["test-egress-diagnostics"]
    assert firewall["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert firewall["metrics"] == [{"category": "AllMetrics", "enabled": True}]
    assert firewall["workspaceId"].endswith("/workspaces/test-egress-logs")
    assert firewall["resourceUri"].endswith("/test-egress-firewall")
    for name in ("chat", "legal"):
        assert settings[f"test-{name}-vault-diagnostics"]["logs"] == [{"categoryGroup": "audit", "enabled": True}]
        assert settings[f"test-{name}-vault-diagnostics"]["workspaceId"] == firewall["workspaceId"]


def test_vault_is_private_rbac_only_and_purge_protected(plan: Plan) -> None:
    for name in ("chat", "legal"):
        vault = plan.one("azure-native:keyvault:Vault", f"test-{name}-vault").inputs
        props = vault["properties"]
        assert props["enableRbacAuthorization"] is True
        assert props["enablePurgeProtection"] is True
        assert props["enableSoftDelete"] is True
        assert props["publicNetworkAccess"] == "Disabled"
        assert props["networkAcls"] == {"defaultAction": "Deny", "bypass": "None"}
        assert "accessPolicies" not in props
        assert 3 <= len(vault["vaultName"]) <= 24
        endpoint = plan.one("azure-native:network:PrivateEndpoint", f"test-{name}-vault-pe").inputs
        [connection] = endpoint["privateLinkServiceConnections"]
        assert connection["groupIds"] == ["vault"]
        assert endpoint["subnet"] == {"id": NETWORK.endpoint_subnet_id}
        group = plan.one("azure-native:network:PrivateDnsZoneGroup", f"test-{name}-vault-dns").inputs
        [config] = group["privateDnsZoneConfigs"]
        assert config["privateDnsZoneId"].endswith("/privatelink.vaultcore.azure.net")


def test_one_vaultcore_zone_linked_to_the_vnet(plan: Plan) -> None:
    zone = plan.one("azure-native:privatedns:PrivateZone").inputs
    assert zone["privateZoneName"] == "privatelink.vaultcore.azure.net"
    link = plan.one("azure-native:privatedns:VirtualNetworkLink").inputs
    assert link["virtualNetwork"] == {"id": VNET}
    assert link["registrationEnabled"] is False


def test_only_the_workload_identity_reads_the_secret(plan: Plan) -> None:
    assignments = plan.by_type("azure-native:authorization:RoleAssignment")
    readers = [a.inputs for a in assignments if a.inputs["roleDefinitionId"].endswith(KEY_VAULT_SECRETS_USER)]
    assert len(readers) == 2
    for reader in readers:
        assert reader["principalId"] == AZURE_OBJECT_ID  # the mock's user-assigned identity
        assert reader["principalType"] == "ServicePrincipal"
        assert reader["roleDefinitionId"] == (
            f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{KEY_VAULT_SECRETS_USER}"
        )
        assert "/secrets/" in reader["scope"]  # the secret itself, not the vault or the group
    operators = [a.inputs for a in assignments if a.inputs["roleDefinitionId"].endswith(MANAGED_IDENTITY_OPERATOR)]
    assert [o["principalId"] for o in operators] == [OPERATOR, OPERATOR]
    assert sorted(o["scope"].rsplit("/", 1)[-1] for o in operators) == ["test-chat-workload", "test-legal-workload"]
    assert len(assignments) == len(readers) + len(operators)


def test_secret_value_is_secret_and_external_rotation_ignores_it(plan: Plan) -> None:
    chat = plan.one("azure-native:keyvault:Secret", "test-chat-api-key")
    legal = plan.one("azure-native:keyvault:Secret", "test-legal-api-key")
    assert "properties.value" in chat.secret_paths()
    assert is_secret(chat.inputs["properties"]["value"])
    assert chat.ignore_changes == ()
    assert legal.ignore_changes == ("properties.value",)
    text = json.dumps(plan.to_json())
    for value in PLANTED.values():
        assert value not in text
        assert value not in json.dumps(plan.outputs)


def test_endpoint_references_the_secret_uri_and_client_id(plan: Plan) -> None:
    chat = endpoints(plan)["chat"]
    secret = plan.one("azure-native:keyvault:Secret", "test-chat-api-key").inputs
    assert secret["secretName"] == "api-key"
    assert chat["secret_ref"] == f"https://{secret['vaultName']}.vault.azure.net/secrets/api-key"
    assert chat["identity"] == AZURE_OBJECT_ID
    assert chat["url"] == "https://api.openai.com/v1"
    assert "proxy" not in chat


def test_existing_vnet_without_route_table_is_refused() -> None:
    from triplane.components.saas.egress_azure import AzureEgressFirewall, AzureEgressFirewallArgs

    existing = AzureNetworkRef(
        location="westeurope",
        resource_group_name="rg-test",
        vnet_id=VNET,
        vnet_name="vnet",
        app_subnet_id=f"{VNET}/subnets/app",
        endpoint_subnet_id=f"{VNET}/subnets/private-endpoints",
        application_cidrs=["10.20.0.0/20"],
    )

    def program() -> None:
        AzureEgressFirewall("x", AzureEgressFirewallArgs(network=existing, hosts=["api.openai.com"]))

    with pytest.raises(ValueError, match="not created by Triplane"):
        run_program(program, stack="test")
