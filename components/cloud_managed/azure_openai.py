"""`AzureOpenAIEndpoint`: an Azure OpenAI account reachable only through a private endpoint.

Creates:
- with a customer-managed key (the default): a user-assigned identity, a Key Vault (RBAC, purge
  protection, public access off) with an RSA key that rotates yearly, and the identity's
  "Key Vault Crypto Service Encryption User" role on the key; or uses the key given in `kms_key`;
- the Cognitive Services account (kind `OpenAI`, custom subdomain, public network access
  disabled, key auth disabled, network ACLs deny, outbound restricted to `allowed_outbound_fqdns`);
- an optional content-filter (RAI) policy, and the model deployments one after another (Azure
  answers 409 to concurrent deployment writes on one account);
- a private endpoint (`groupIds: account`) in the endpoint subnet that waits for the deployments
  (it fails while the account is still `Accepted`), and its DNS zone group in the shared
  `privatelink.openai.azure.com` zone;
- diagnostic settings (Audit, RequestResponse, AzureOpenAIRequestUsage, Trace, AllMetrics) to a
  Log Analytics workspace, created here unless `log_workspace_id` is given.

`grant_invoke(principal_id)` gives an Entra ID principal "Cognitive Services OpenAI User" on the account.

The customer-managed key, its vault and the identity that unwraps it are a part
(`AzureOpenAICustomerKey`; `SubComponent`): their resources keep the URNs they had as this
component's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization as azure_authorization
from pulumi_azure_native import cognitiveservices as azure_cognitiveservices
from pulumi_azure_native import keyvault as azure_keyvault
from pulumi_azure_native import managedidentity as azure_managedidentity
from pulumi_azure_native import monitor as azure_monitor
from pulumi_azure_native import network as azure_network
from pulumi_azure_native import operationalinsights as azure_operationalinsights

from triplane.components.cloud_managed._common import stable_guid
from triplane.components.cloud_managed.azure_openai_dns import AzureOpenAIPrivateDns, AzureOpenAIPrivateDnsArgs
from triplane.components.keys import azure_key
from triplane.components.naming import physical_name
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.references import PrivateDnsZoneReference
from triplane.components.saas.providers import checked_hosts
from triplane.components.stateful import stateful_opts
from triplane.components.subcomponent import SubComponent
from triplane.components.tagging import tagged

OPENAI_USER_ROLE = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
"""Cognitive Services OpenAI User: inference and reading deployments, no keys, no management."""
CRYPTO_SERVICE_ENCRYPTION_USER_ROLE = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
LOG_CATEGORIES = ("Audit", "RequestResponse", "AzureOpenAIRequestUsage", "Trace")
HARM_CATEGORIES = ("Hate", "Sexual", "Violence", "Selfharm")
_KEY_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.KeyVault/vaults/([^/]+)/keys/([^/]+)$"
)


@dataclass(frozen=True)
class AzureOpenAIDeployment:
    name: str
    """Deployment name the application calls (`/openai/deployments/<name>/...`)."""
    model: str
    version: str | None = None
    sku: str = "Standard"
    capacity: int = 10
    """Thousands of tokens per minute."""


@dataclass(frozen=True)
class AzureContentFilterArgs:
    severity_threshold: str = "Medium"
    """Block hate, sexual, violence and self-harm content at this level and above: Low, Medium or High."""
    prompt_shields: bool = True
    """Block jailbreak and indirect (document) prompt attacks."""
    protected_material: bool = True
    """Block completions that reproduce known protected text or code."""


@dataclass(frozen=True)
class AzureOpenAIEndpointArgs:
    network: AzureNetworkRef
    deployments: Sequence[AzureOpenAIDeployment]
    allowed_principals: Sequence[pulumi.Input[str]] = ()
    """Entra ID object IDs; the stack grants each one through `grant_invoke`."""
    kms_key: str | None = None
    """Resource ID of an existing Key Vault key; the component grants its identity use of it."""
    customer_managed_key: bool = True
    """False keeps Microsoft-managed keys (an explicit, policy-flagged choice)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False
    version_upgrade_option: str = "NoAutoUpgrade"
    content_filter: AzureContentFilterArgs | None = None
    allowed_outbound_fqdns: Sequence[str] = ()
    log_workspace_id: pulumi.Input[str] | None = None
    log_retention_days: int = 90
    private_dns: AzureOpenAIPrivateDns | PrivateDnsZoneReference | None = None
    """The VNet's shared `privatelink.openai.azure.com` zone; created here when not given."""


class AzureOpenAIEndpoint(pulumi.ComponentResource):
    """A private Azure OpenAI account with pinned deployments, Entra ID auth only, and logs on."""

    url: pulumi.Output[str]
    """`https://<subdomain>.openai.azure.com/`, once the private endpoint's DNS records exist."""
    account_id: pulumi.Output[str]
    logs: pulumi.Output[str]
    """The Log Analytics workspace receiving the account's logs."""

    def __init__(self, name: str, args: AzureOpenAIEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:cloudmanaged:AzureOpenAIEndpoint", name, None, tagged(opts, args.tags))
        if not args.deployments:
            raise ValueError(f"{name}: list at least one model deployment")
        names = [d.name for d in args.deployments]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: deployment names must be unique, got {names}")
        if args.version_upgrade_option == "NoAutoUpgrade":
            unpinned = [d.name for d in args.deployments if not d.version]
            if unpinned:
                raise ValueError(f"{name}: NoAutoUpgrade needs a model version for deployments {unpinned}")
        self._name = name
        self._grants: dict[str, azure_authorization.RoleAssignment] = {}
        network = args.network
        group = network.resource_group_name
        client = azure_authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self._subscription = client.subscription_id
        subdomain = physical_name(name, "openai", kind="azure_subdomain")

        identity: azure_cognitiveservices.IdentityArgsDict = {
            "type": azure_cognitiveservices.ResourceIdentityType.SYSTEM_ASSIGNED
        }
        encryption: azure_cognitiveservices.EncryptionArgsDict | None = None
        outbound = list(checked_hosts(name, "allowed_outbound_fqdns", args.allowed_outbound_fqdns))
        account_depends: list[pulumi.Resource] = []
        if args.customer_managed_key or args.kms_key is not None:
            key_access, identity, encryption, vault_host = self._customer_key(name, args, client.tenant_id)
            account_depends.append(key_access)
            outbound = list(checked_hosts(name, "allowed_outbound_fqdns", [*outbound, vault_host]))

        properties: azure_cognitiveservices.AccountPropertiesArgsDict = {
            "custom_sub_domain_name": subdomain,
            "public_network_access": "Disabled",
            "disable_local_auth": True,
            "network_acls": {"default_action": "Deny", "bypass": "None", "ip_rules": [], "virtual_network_rules": []},
            "restrict_outbound_network_access": True,
            "allowed_fqdn_list": outbound,
        }
        if encryption is not None:
            properties["encryption"] = encryption
        self.account = azure_cognitiveservices.Account(
            f"{name}-account",
            account_name=subdomain,
            resource_group_name=group,
            location=network.location,
            kind="OpenAI",
            sku={"name": "S0"},
            identity=identity,
            properties=properties,
            opts=pulumi.ResourceOptions(parent=self, depends_on=account_depends),
        )

        account_name = _name_of(self.account, subdomain)
        self.deployments = self._deployments(name, args, account_name)
        private_endpoint, zone_group = self._private_endpoint(name, args)
        diagnostics, workspace_id = self._diagnostics(name, args)
        self.url = pulumi.Output.all(zone_group.id, private_endpoint.id).apply(
            lambda _: f"https://{subdomain}.openai.azure.com/"
        )
        self.account_id = self.account.id
        self.logs = pulumi.Output.all(diagnostics.id, workspace_id).apply(lambda v: str(v[1]))
        self.register_outputs({"url": self.url, "account_id": self.account_id, "logs": self.logs})

    def _customer_key(
        self, name: str, args: AzureOpenAIEndpointArgs, tenant_id: pulumi.Output[str]
    ) -> tuple[
        azure_authorization.RoleAssignment,
        azure_cognitiveservices.IdentityArgsDict,
        azure_cognitiveservices.EncryptionArgsDict,
        str,
    ]:
        """The customer-managed key (the given one, or a new private vault and key), the identity the
        account unwraps it with and that identity's grant. Returns the grant, the account's identity and
        encryption settings, and the vault's host (which the account must be allowed to reach)."""
        part = SubComponent("triplane:cloudmanaged:AzureOpenAICustomerKey", f"{name}-customer-key", self)
        network = args.network
        group = network.resource_group_name
        child = pulumi.ResourceOptions(parent=part)
        stateful = stateful_opts(part, args.protect_data)
        key_identity = azure_managedidentity.UserAssignedIdentity(
            f"{name}-cmk-identity",
            resource_name_=physical_name(name, "openai-cmk"),
            resource_group_name=group,
            location=network.location,
            opts=child,
        )
        if args.kms_key is not None:
            match = _KEY_ID.match(args.kms_key)
            if match is None:
                raise ValueError(f"{name}: kms_key must be a Key Vault key resource ID, got {args.kms_key!r}")
            vault_name, key_name = match.group(1), match.group(2)
            key_scope: pulumi.Input[str] = args.kms_key
            vault_uri: pulumi.Input[str] = f"https://{vault_name}.vault.azure.net/"
            vault_host = f"{vault_name}.vault.azure.net"
        else:
            vault_name = physical_name(name, "kv", kind="key_vault")
            vault = azure_keyvault.Vault(
                f"{name}-vault",
                vault_name=vault_name,
                resource_group_name=group,
                location=network.location,
                properties={
                    "tenant_id": tenant_id,
                    "sku": {"family": azure_keyvault.SkuFamily.A, "name": azure_keyvault.SkuName.STANDARD},
                    "enable_rbac_authorization": True,
                    "enable_purge_protection": True,
                    "enable_soft_delete": True,
                    "soft_delete_retention_in_days": 90,
                    "public_network_access": "Disabled",
                    # Trusted Azure services (Cognitive Services unwrapping its key) still pass.
                    "network_acls": {"default_action": "Deny", "bypass": "AzureServices"},
                },
                opts=stateful,
            )
            key_name = "openai-cmk"
            key = azure_key(
                f"{name}-key",
                parent=part,
                resource_group_name=group,
                vault_name=_name_of(vault, vault_name),
                key_name=key_name,
                protect=args.protect_data,
            )
            key_scope = key.id
            vault_uri = _name_of(vault, f"https://{vault_name}.vault.azure.net/")
            vault_host = f"{vault_name}.vault.azure.net"
        key_access = azure_authorization.RoleAssignment(
            f"{name}-cmk-access",
            role_assignment_name=stable_guid(name, "cmk", CRYPTO_SERVICE_ENCRYPTION_USER_ROLE),
            scope=key_scope,
            role_definition_id=self._role(CRYPTO_SERVICE_ENCRYPTION_USER_ROLE),
            principal_id=key_identity.principal_id,
            principal_type="ServicePrincipal",
            description=f"{name}: Azure OpenAI wraps its data keys with this key",
            opts=child,
        )
        identity: azure_cognitiveservices.IdentityArgsDict = {
            "type": azure_cognitiveservices.ResourceIdentityType.SYSTEM_ASSIGNED_USER_ASSIGNED,
            "user_assigned_identities": [key_identity.id],
        }
        encryption: azure_cognitiveservices.EncryptionArgsDict = {
            "key_source": "Microsoft.KeyVault",
            "key_vault_properties": {
                "key_name": key_name,
                "key_vault_uri": vault_uri,
                "identity_client_id": key_identity.client_id,
            },
        }
        part.register_outputs({})
        return key_access, identity, encryption, vault_host

    def _deployments(
        self, name: str, args: AzureOpenAIEndpointArgs, account_name: pulumi.Input[str]
    ) -> list[azure_cognitiveservices.Deployment]:
        """The content filter, if any, and the model deployments, one after another (the account
        takes one change at a time)."""
        group = args.network.resource_group_name
        child = pulumi.ResourceOptions(parent=self)
        rai_policy_name: str | None = None
        previous: pulumi.Resource | None = None
        deployment_resource: azure_cognitiveservices.Deployment
        if args.content_filter is not None:
            rai_policy_name = physical_name(name, "content-filter")
            previous = azure_cognitiveservices.RaiPolicy(
                f"{name}-content-filter",
                rai_policy_name=rai_policy_name,
                account_name=account_name,
                resource_group_name=group,
                properties=_content_filter(args.content_filter),
                opts=child,
            )
        deployments: list[azure_cognitiveservices.Deployment] = []
        for deployment in args.deployments:
            model: azure_cognitiveservices.DeploymentModelArgsDict = {"format": "OpenAI", "name": deployment.model}
            if deployment.version:
                model["version"] = deployment.version
            deployment_properties: azure_cognitiveservices.DeploymentPropertiesArgsDict = {
                "model": model,
                "version_upgrade_option": args.version_upgrade_option,
            }
            if rai_policy_name is not None:
                deployment_properties["rai_policy_name"] = rai_policy_name
            deployment_resource = azure_cognitiveservices.Deployment(
                f"{name}-deployment-{deployment.name}",
                deployment_name=deployment.name,
                account_name=account_name,
                resource_group_name=group,
                sku={"name": deployment.sku, "capacity": deployment.capacity},
                properties=deployment_properties,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous is not None else []),
            )
            deployments.append(deployment_resource)
            previous = deployment_resource
        return deployments

    def _private_endpoint(
        self, name: str, args: AzureOpenAIEndpointArgs
    ) -> tuple[azure_network.PrivateEndpoint, azure_network.PrivateDnsZoneGroup]:
        """The account's private endpoint (after the last deployment) and its DNS record."""
        network = args.network
        group = network.resource_group_name
        child = pulumi.ResourceOptions(parent=self)
        private_dns = args.private_dns or AzureOpenAIPrivateDns(
            f"{name}-dns", AzureOpenAIPrivateDnsArgs(network=network, tags=args.tags), opts=child
        )
        endpoint_name = physical_name(name, "openai-pe")
        private_endpoint = azure_network.PrivateEndpoint(
            f"{name}-private-endpoint",
            private_endpoint_name=endpoint_name,
            resource_group_name=group,
            location=network.location,
            subnet={"id": network.endpoint_subnet_id},
            custom_network_interface_name=f"{endpoint_name}-nic",
            private_link_service_connections=[
                {
                    "name": f"{endpoint_name}-account",
                    "private_link_service_id": self.account.id,
                    "group_ids": ["account"],
                }
            ],
            # The account accepts a private endpoint only once it has left `Accepted`; the last
            # deployment finishing is the reliable sign.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.deployments)),
        )
        zone_group = azure_network.PrivateDnsZoneGroup(
            f"{name}-dns-zone-group",
            private_dns_zone_group_name="default",
            private_endpoint_name=_name_of(private_endpoint, endpoint_name),
            resource_group_name=group,
            private_dns_zone_configs=[{"name": "openai", "private_dns_zone_id": private_dns.zone_id}],
            opts=child,
        )
        return private_endpoint, zone_group

    def _diagnostics(
        self, name: str, args: AzureOpenAIEndpointArgs
    ) -> tuple[azure_monitor.DiagnosticSetting, pulumi.Input[str]]:
        """Every log category and the metrics to the given workspace, or to a new one."""
        network = args.network
        group = network.resource_group_name
        child = pulumi.ResourceOptions(parent=self)
        stateful = stateful_opts(self, args.protect_data)
        workspace_id: pulumi.Input[str]
        if args.log_workspace_id is None:
            workspace = azure_operationalinsights.Workspace(
                f"{name}-logs",
                workspace_name=physical_name(name, "openai-logs"),
                resource_group_name=group,
                location=network.location,
                sku={"name": "PerGB2018"},
                retention_in_days=args.log_retention_days,
                features={"disable_local_auth": True, "enable_log_access_using_only_resource_permissions": True},
                opts=stateful,
            )
            workspace_id = workspace.id
        else:
            workspace_id = args.log_workspace_id
        diagnostics = azure_monitor.DiagnosticSetting(
            f"{name}-diagnostics",
            name="triplane-openai",
            resource_uri=self.account.id,
            workspace_id=workspace_id,
            log_analytics_destination_type="Dedicated",
            logs=[{"category": category, "enabled": True} for category in LOG_CATEGORIES],
            metrics=[{"category": "AllMetrics", "enabled": True}],
            opts=child,
        )
        return diagnostics, workspace_id

    def _role(self, role_id: str) -> pulumi.Output[str]:
        return self._subscription.apply(
            lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
        )

    def grant_invoke(self, principal_id: str) -> azure_authorization.RoleAssignment:
        """ "Cognitive Services OpenAI User" on this account for an Entra ID object ID."""
        if principal_id in self._grants:
            return self._grants[principal_id]
        grant = azure_authorization.RoleAssignment(
            f"{self._name}-grant-{principal_id}",
            role_assignment_name=stable_guid(self._name, "invoke", principal_id),
            scope=self.account.id,
            role_definition_id=self._role(OPENAI_USER_ROLE),
            principal_id=principal_id,
            description=f"{self._name}: call the model deployments",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._grants[principal_id] = grant
        return grant


def _content_filter(settings: AzureContentFilterArgs) -> azure_cognitiveservices.RaiPolicyPropertiesArgsDict:
    filters: list[azure_cognitiveservices.RaiPolicyContentFilterArgsDict] = [
        {
            "name": category,
            "enabled": True,
            "blocking": True,
            "severity_threshold": settings.severity_threshold,
            "source": source,
        }
        for category in HARM_CATEGORIES
        for source in ("Prompt", "Completion")
    ]
    if settings.prompt_shields:
        filters += [
            {"name": "Jailbreak", "enabled": True, "blocking": True, "source": "Prompt"},
            {"name": "Indirect Attack", "enabled": True, "blocking": True, "source": "Prompt"},
        ]
    if settings.protected_material:
        filters += [
            {"name": "Protected Material Text", "enabled": True, "blocking": True, "source": "Completion"},
            {"name": "Protected Material Code", "enabled": True, "blocking": True, "source": "Completion"},
        ]
    return {"base_policy_name": "Microsoft.DefaultV2", "mode": "Default", "content_filters": filters}


def _name_of(resource: pulumi.CustomResource, name: str) -> pulumi.Output[str]:
    """`name`, known once `resource` exists: children refer to a parent by the name we gave it."""
    return resource.id.apply(lambda _: name)
