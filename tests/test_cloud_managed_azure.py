"""AzureOpenAIEndpoint under the mock runtime: account posture, deployments, private endpoint, RBAC, logs."""

from __future__ import annotations

import pytest

from tests.cloud_managed_support import AZURE_NETWORK, AZURE_PRINCIPAL, azure_plan
from triplane.components.cloud_managed import AzureOpenAIDeployment, AzureOpenAIEndpoint, AzureOpenAIEndpointArgs
from triplane.plan import Plan, PlannedResource, run_program
from triplane.stacks.clouds.azure import SUBSCRIPTION_ID as AZURE_SUBSCRIPTION_ID

ACCOUNT = "azure-native:cognitiveservices:Account"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return azure_plan()


def account(plan: Plan, name: str = "test-hr") -> PlannedResource:
    return plan.one(ACCOUNT, f"{name}-account")


def deployments(plan: Plan, name: str = "test-hr") -> list[PlannedResource]:
    return [r for r in plan.by_type(DEPLOYMENT) if r.name.startswith(f"{name}-")]


class TestAccount:
    def test_is_an_openai_account_with_a_custom_subdomain(self, plan: Plan) -> None:
        inputs = account(plan).inputs
        assert inputs["kind"] == "OpenAI"
        assert inputs["sku"] == {"name": "S0"}
        assert inputs["properties"]["customSubDomainName"] == "test-hr-openai"
        assert inputs["accountName"] == "test-hr-openai"

    def test_has_no_public_access_and_no_keys(self, plan: Plan) -> None:
        properties = account(plan).inputs["properties"]
        assert properties["publicNetworkAccess"] == "Disabled"
        assert properties["disableLocalAuth"] is True
        assert properties["networkAcls"] == {
            "defaultAction": "Deny", "bypass": "None", "ipRules": [], "virtualNetworkRules": []
        }  # fmt: skip
        assert properties["restrictOutboundNetworkAccess"] is True

    def test_outbound_allows_only_its_key_vault(self, plan: Plan) -> None:
        vault = plan.one("azure-native:keyvault:Vault").inputs["vaultName"]
        assert account(plan).inputs["properties"]["allowedFqdnList"] == [f"{vault}.vault.azure.net"]

    def test_encrypts_with_the_customer_managed_key(self, plan: Plan) -> None:
        inputs = account(plan).inputs
        assert inputs["identity"]["type"] == "SystemAssigned, UserAssigned"
        (assigned,) = inputs["identity"]["userAssignedIdentities"]
        assert assigned.endswith(
            "/resourceGroups/rg-ml/providers/Microsoft.Managedidentity/userAssignedIdentitys/test-hr-openai-cmk"
        )
        encryption = inputs["properties"]["encryption"]
        vault = plan.one("azure-native:keyvault:Vault").inputs["vaultName"]
        assert encryption["keySource"] == "Microsoft.KeyVault"
        assert encryption["keyVaultProperties"]["keyVaultUri"] == f"https://{vault}.vault.azure.net/"
        assert encryption["keyVaultProperties"]["keyName"] == "openai-cmk"
        assert encryption["keyVaultProperties"]["identityClientId"]

    def test_key_vault_is_private_with_purge_protection(self, plan: Plan) -> None:
        vault = plan.one("azure-native:keyvault:Vault")
        properties = vault.inputs["properties"]
        assert properties["enableRbacAuthorization"] is True
        assert properties["enablePurgeProtection"] is True
        assert properties["publicNetworkAccess"] == "Disabled"
        assert properties["networkAcls"]["defaultAction"] == "Deny"
        assert vault.protect and vault.retain_on_delete
        key = plan.one("azure-native:keyvault:Key").inputs["properties"]
        assert (key["kty"], key["keySize"]) == ("RSA", 3072)

    def test_key_access_is_granted_before_the_account_exists(self, plan: Plan) -> None:
        access = plan.one(ROLE_ASSIGNMENT, "-cmk-access")
        assert access.inputs["roleDefinitionId"].endswith("/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6")
        assert access.inputs["principalType"] == "ServicePrincipal"
        assert access.urn in account(plan).dependencies

    def test_microsoft_managed_keys_only_when_asked(self, plan: Plan) -> None:
        inputs = account(plan, "test-plain").inputs
        assert inputs["identity"] == {"type": "SystemAssigned"}
        assert "encryption" not in inputs["properties"]
        assert inputs["properties"]["allowedFqdnList"] == []
        assert inputs["properties"]["publicNetworkAccess"] == "Disabled"


class TestDeployments:
    def test_are_created_one_after_another(self, plan: Plan) -> None:
        chain = {d.inputs["deploymentName"]: d for d in deployments(plan)}
        assert sorted(chain) == ["embed", "gpt-4o", "mini"]
        policy = plan.one("azure-native:cognitiveservices:RaiPolicy")
        assert policy.urn in chain["gpt-4o"].dependencies
        assert chain["gpt-4o"].urn in chain["mini"].dependencies
        assert chain["mini"].urn in chain["embed"].dependencies
        assert chain["gpt-4o"].urn not in chain["embed"].dependencies  # a chain, not a fan-in

    def test_are_pinned_with_explicit_versions(self, plan: Plan) -> None:
        first = next(d.inputs for d in deployments(plan) if d.inputs["deploymentName"] == "gpt-4o")
        assert first["properties"]["model"] == {"format": "OpenAI", "name": "gpt-4o", "version": "2024-08-06"}
        assert first["properties"]["versionUpgradeOption"] == "NoAutoUpgrade"
        assert first["sku"] == {"name": "GlobalStandard", "capacity": 50}
        mini = next(d.inputs for d in deployments(plan) if d.inputs["deploymentName"] == "mini")
        assert mini["sku"] == {"name": "Standard", "capacity": 10}

    def test_use_the_content_filter(self, plan: Plan) -> None:
        policy = plan.one("azure-native:cognitiveservices:RaiPolicy").inputs
        assert all(d.inputs["properties"]["raiPolicyName"] == policy["raiPolicyName"] for d in deployments(plan))
        filters = policy["properties"]["contentFilters"]
        harms = {(f["name"], f["source"]): f for f in filters if "severityThreshold" in f}
        assert set(harms) == {
            (c, s) for c in ("Hate", "Sexual", "Violence", "Selfharm") for s in ("Prompt", "Completion")
        }
        assert {f["severityThreshold"] for f in harms.values()} == {"Low"}
        assert all(f["enabled"] and f["blocking"] for f in filters)
        names = {f["name"] for f in filters}
        assert {"Jailbreak", "Indirect Attack", "Protected Material Text", "Protected Material Code"} <= names

    def test_unpinned_deployments_follow_new_defaults_when_told(self, plan: Plan) -> None:
        (plain,) = deployments(plan, "test-plain")
        assert plain.inputs["properties"]["versionUpgradeOption"] == "OnceNewDefaultVersionAvailable"
        assert "version" not in plain.inputs["properties"]["model"]
        assert "raiPolicyName" not in plain.inputs["properties"]


class TestPrivateEndpoint:
    def test_connects_the_account_group_in_the_endpoint_subnet(self, plan: Plan) -> None:
        endpoint = plan.one("azure-native:network:PrivateEndpoint", "test-hr-private-endpoint").inputs
        assert endpoint["subnet"] == {"id": AZURE_NETWORK.endpoint_subnet_id}
        (connection,) = endpoint["privateLinkServiceConnections"]
        assert connection["groupIds"] == ["account"]
        assert connection["privateLinkServiceId"].endswith("/accounts/test-hr-openai")

    def test_waits_for_every_deployment(self, plan: Plan) -> None:
        endpoint = plan.one("azure-native:network:PrivateEndpoint", "test-hr-private-endpoint")
        assert {d.urn for d in deployments(plan)} <= set(endpoint.dependencies)

    def test_dns_zone_is_linked_to_the_vnet_without_registration(self, plan: Plan) -> None:
        zone = plan.one("azure-native:privatedns:PrivateZone", "test-hr-dns-zone").inputs
        assert zone["privateZoneName"] == "privatelink.openai.azure.com"
        assert zone["location"] == "global"
        link = plan.one("azure-native:privatedns:VirtualNetworkLink", "test-hr-dns-link").inputs
        assert link["virtualNetwork"] == {"id": AZURE_NETWORK.vnet_id}
        assert link["registrationEnabled"] is False

    def test_zone_group_registers_the_endpoint_in_the_zone(self, plan: Plan) -> None:
        group = plan.one("azure-native:network:PrivateDnsZoneGroup", "test-hr-dns-zone-group").inputs
        (config,) = group["privateDnsZoneConfigs"]
        assert config["privateDnsZoneId"].endswith("/privateZones/privatelink.openai.azure.com")

    def test_url_waits_for_dns(self, plan: Plan) -> None:
        assert plan.outputs["hr"]["url"] == "https://test-hr-openai.openai.azure.com/"


class TestAccessAndLogs:
    def test_grant_is_openai_user_on_the_account_only(self, plan: Plan) -> None:
        grant = plan.one(ROLE_ASSIGNMENT, f"-grant-{AZURE_PRINCIPAL}").inputs
        assert grant["roleDefinitionId"] == (
            f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
            "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
        )
        assert grant["principalId"] == AZURE_PRINCIPAL
        assert grant["scope"].endswith("/accounts/test-hr-openai")

    def test_role_assignment_names_are_stable_guids(self, plan: Plan) -> None:
        import uuid

        for assignment in plan.by_type(ROLE_ASSIGNMENT):
            assert str(uuid.UUID(assignment.inputs["roleAssignmentName"])) == assignment.inputs["roleAssignmentName"]
        assert azure_plan() is plan  # cached: the program ran once

    def test_diagnostics_send_every_category_to_log_analytics(self, plan: Plan) -> None:
        setting = plan.one("azure-native:monitor:DiagnosticSetting", "test-hr-diagnostics").inputs
        assert [log["category"] for log in setting["logs"]] == [
            "Audit", "RequestResponse", "AzureOpenAIRequestUsage", "Trace"
        ]  # fmt: skip
        assert all(log["enabled"] for log in setting["logs"])
        assert setting["metrics"] == [{"category": "AllMetrics", "enabled": True}]
        assert setting["workspaceId"].endswith("/workspaces/test-hr-openai-logs")
        assert setting["resourceUri"].endswith("/accounts/test-hr-openai")

    def test_workspace_is_protected_and_key_free(self, plan: Plan) -> None:
        workspace = plan.one("azure-native:operationalinsights:Workspace")
        assert workspace.protect
        assert workspace.inputs["features"]["disableLocalAuth"] is True
        assert plan.outputs["hr"]["logs"].endswith(
            "/providers/Microsoft.Operationalinsights/workspaces/test-hr-openai-logs"
        )

    def test_existing_workspace_is_used_as_given(self, plan: Plan) -> None:
        setting = plan.one("azure-native:monitor:DiagnosticSetting", "test-plain-diagnostics").inputs
        assert setting["workspaceId"].endswith("/workspaces/central")
        assert len(plan.by_type("azure-native:operationalinsights:Workspace")) == 1


def test_pinning_without_a_version_is_refused() -> None:
    def program() -> None:
        AzureOpenAIEndpoint(
            "bad", AzureOpenAIEndpointArgs(network=AZURE_NETWORK, deployments=[AzureOpenAIDeployment("m", "gpt-4o")])
        )

    with pytest.raises(Exception, match="NoAutoUpgrade needs a model version"):
        run_program(program, stack="test")
