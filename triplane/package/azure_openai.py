"""`AzureOpenAIPrivateAccount`: Triplane's `AzureOpenAIEndpoint` in a VNet the caller already has.

Builds the internal component from plain inputs: an Azure OpenAI account with public network access
and key authentication off, a customer-managed key (unless one is given), pinned model deployments
created one after another, a content-filter policy, a private endpoint with its private DNS zone,
and diagnostic logs. Each allowed principal gets "Cognitive Services OpenAI User" on the account.
"""

from typing import NotRequired, TypedDict

import pulumi

from triplane.components.cloud_managed.azure_openai import (
    AzureContentFilterArgs,
    AzureOpenAIDeployment,
    AzureOpenAIEndpoint,
    AzureOpenAIEndpointArgs,
)
from triplane.components.network.refs import AzureNetworkRef
from triplane.package.inputs import Inputs

UPGRADE_OPTIONS = ("NoAutoUpgrade", "OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired")
SKUS = ("Standard", "GlobalStandard", "DataZoneStandard", "ProvisionedManaged")
SEVERITIES = ("Low", "Medium", "High")
GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
AZURE_LOCATION = r"[a-z][a-z0-9]+"


class AzureOpenAIModelDeploymentArgs(TypedDict):
    """One model deployment on the account."""

    name: str
    """Deployment name the application calls (`/openai/deployments/<name>/...`)."""
    model: str
    """Model name, e.g. `gpt-4o`."""
    version: NotRequired[str]
    """Model version, e.g. `2024-11-20`; required while `versionUpgradeOption` is `NoAutoUpgrade` (the default)."""
    sku: NotRequired[str]
    """Standard (default), GlobalStandard, DataZoneStandard or ProvisionedManaged."""
    capacity: NotRequired[int]
    """Capacity in thousands of tokens per minute (default 10)."""


class AzureOpenAIPrivateAccountArgs(TypedDict):
    """Where the account goes, which models it deploys and who may call them."""

    location: str
    """Azure region of the VNet and the account, e.g. `swedencentral`."""
    resource_group_name: pulumi.Input[str]
    """Existing resource group that receives the account, its endpoint and its DNS zone."""
    vnet_id: pulumi.Input[str]
    """Resource ID of the existing VNet the private DNS zone is linked to."""
    endpoint_subnet_id: pulumi.Input[str]
    """Resource ID of the VNet's subnet for private endpoints (network policies enabled)."""
    deployments: list[AzureOpenAIModelDeploymentArgs]
    """Model deployments, created one after another (Azure refuses concurrent deployment writes)."""
    allowed_principals: NotRequired[list[str]]
    """Entra ID object IDs granted "Cognitive Services OpenAI User" on the account (key auth is off)."""
    kms_key: NotRequired[str]
    """Resource ID of an existing Key Vault key to encrypt with; a vault and a rotating key are created when omitted."""
    allowed_outbound_fqdns: NotRequired[list[str]]
    """Host names the account itself may reach (outbound access is otherwise refused)."""
    log_workspace_id: NotRequired[pulumi.Input[str]]
    """Log Analytics workspace for the diagnostic logs; one is created when omitted."""
    log_retention_days: NotRequired[int]
    """Retention of a workspace created here, in days (default 90)."""
    version_upgrade_option: NotRequired[str]
    (
        "NoAutoUpgrade (default: models stay at their pinned version), OnceNewDefaultVersionAvailable or "
        "OnceCurrentVersionExpired."
    )
    content_filter_severity: NotRequired[str]
    (
        "Block hate, sexual, violence and self-harm content at this level and above: Low, Medium (default) or "
        "High; prompt shields and protected-material filters are on."
    )
    protect_data: NotRequired[bool]
    """Protect the account, vault and key from deletion (for production)."""
    tags: dict[str, str]
    (
        "Tags for every resource: `owner`, `cost-center`, `environment`, `use-case` and `data-classification` "
        "(public, internal or confidential); `pattern` and `managed-by` are added."
    )


class AzureOpenAIPrivateAccount(pulumi.ComponentResource):
    (
        "An Azure OpenAI account reachable only through a private endpoint in an existing VNet, with Entra ID "
        "authentication only, a customer-managed key, pinned deployments and diagnostic logs."
    )

    url: pulumi.Output[str]
    """`https://<subdomain>.openai.azure.com/`, once the private endpoint's DNS records exist."""
    account_id: pulumi.Output[str]
    """Resource ID of the Cognitive Services account."""
    logs: pulumi.Output[str]
    """The Log Analytics workspace receiving the account's logs."""

    def __init__(
        self, name: str, args: AzureOpenAIPrivateAccountArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("triplane:index:AzureOpenAIPrivateAccount", name, None, opts)
        given = Inputs("AzureOpenAIPrivateAccount", name, args)
        upgrade = given.choice("version_upgrade_option", "versionUpgradeOption", UPGRADE_OPTIONS, "NoAutoUpgrade")
        deployments = [
            _deployment(given, i, d, pinned=upgrade == "NoAutoUpgrade")
            for i, d in enumerate(given.inputs("deployments", "deployments", minimum=1))
        ]
        vnet_id = args["vnet_id"]
        # The account reaches the VNet only through its private endpoint and the DNS zone's link: the
        # application's subnet and ranges play no part (callers are admitted by Entra ID role).
        network = AzureNetworkRef(
            location=given.text(
                "location", "location", pattern=AZURE_LOCATION, hint="an Azure region such as swedencentral"
            ),
            resource_group_name=args["resource_group_name"],
            vnet_id=vnet_id,
            vnet_name=pulumi.Output.from_input(vnet_id).apply(lambda v: v.rsplit("/", 1)[-1]),
            app_subnet_id=args["endpoint_subnet_id"],
            endpoint_subnet_id=args["endpoint_subnet_id"],
            application_cidrs=(),
        )
        principals = given.strings("allowed_principals", "allowedPrincipals", pattern=GUID,
                                   hint="an Entra ID object ID (a GUID)")
        kms_key = given.optional_text("kms_key", "kmsKey")
        account = AzureOpenAIEndpoint(
            name,
            AzureOpenAIEndpointArgs(
                network=network,
                deployments=deployments,
                allowed_principals=principals,
                kms_key=kms_key,
                tags=given.tags("cloud-managed"),
                protect_data=given.flag("protect_data", "protectData", False),
                version_upgrade_option=upgrade,
                content_filter=AzureContentFilterArgs(
                    severity_threshold=given.choice(
                        "content_filter_severity", "contentFilterSeverity", SEVERITIES, "Medium"
                    )
                ),
                allowed_outbound_fqdns=given.strings("allowed_outbound_fqdns", "allowedOutboundFqdns"),
                log_workspace_id=args.get("log_workspace_id"),
                log_retention_days=given.integer("log_retention_days", "logRetentionDays", 90, minimum=30),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for principal in principals:
            account.grant_invoke(principal)
        self.url = account.url
        self.account_id = account.account_id
        self.logs = account.logs
        self.register_outputs({"url": self.url, "account_id": self.account_id, "logs": self.logs})


def _deployment(given: Inputs, index: int, raw: object, *, pinned: bool) -> AzureOpenAIDeployment:
    """One deployment from its input map (schema names), checked."""
    field = f"deployments[{index}]"
    if not isinstance(raw, dict):
        raise given.error(field, "give a map with name, model and version")
    entry = Inputs(given.component, given.name, raw)
    version = entry.optional_text("version", f"{field}.version")
    if pinned and version is None:
        raise given.error(f"{field}.version", "pin the model version (versionUpgradeOption is NoAutoUpgrade)")
    return AzureOpenAIDeployment(
        name=entry.text("name", f"{field}.name", pattern=r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}",
                        hint="2-64 letters, digits, '.', '_' or '-'"),
        model=entry.text("model", f"{field}.model"),
        version=version,
        sku=entry.choice("sku", f"{field}.sku", SKUS, "Standard"),
        capacity=entry.integer("capacity", f"{field}.capacity", 10, minimum=1),
    )
