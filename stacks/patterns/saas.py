"""The SaaS pattern: a use case calls an external AI API through its cloud's shared egress firewall.

Each cloud network gets ONE egress firewall (AWS Network Firewall, Azure Firewall, GCP Secure Web
Proxy), created when the first workload of that cloud needing it is built; its allowlist
(`stacks.egress`) is the sorted, de-duplicated union of every SaaS use case's hosts and every
other entry of that network, so the order in which use cases are built never changes it.

The firewall works by owning the network's egress routes, which Triplane can only do in a network
it creates. A SaaS use case on a cloud whose network is `existing` is therefore a spec error: the
key would be stored, but nothing would stop the workload from sending it anywhere, and Triplane
will not claim an egress allowlist it does not enforce. `environment_problems` reports this before
anything is registered; `build` refuses too, should it be reached anyway.
"""

from __future__ import annotations

import hashlib
from typing import Any

from components.naming import physical_name
from components.network.refs import AwsNetworkRef, AzureNetworkRef
from components.saas.egress_aws import AwsEgressFirewall
from components.saas.egress_azure import AzureEgressFirewall
from components.saas.saas_egress import EgressFirewall, SaasEgress, SaasEgressArgs
from components.saas.secret_store import VAULT_DNS_ZONE, AzureVaultDnsZone, AzureVaultDnsZoneArgs
from stacks.cloud_apis import aws_interface_endpoints
from stacks.context import Endpoint, StackContext
from stacks.egress import allowed_hosts, egress_on, saas_use_cases
from stacks.secrets import require_secret
from stacks.spec import SaasUseCase

PATTERN = "saas"
AWS_SAAS_ENDPOINTS = ("secretsmanager", "sts")
"""Interface endpoints every AWS SaaS workload needs: its API key and its role's credentials."""
__all__ = ["AWS_SAAS_ENDPOINTS", "PATTERN", "allowed_hosts", "build", "build_on", "saas_use_cases"]


def build(use_case: SaasUseCase, ctx: StackContext) -> Endpoint:
    from stacks.networks import network_for

    return build_on(use_case, ctx, network_for(ctx, use_case.cloud))


def build_on(use_case: SaasUseCase, ctx: StackContext, network: Any) -> Endpoint:
    """`build` with the network already known (tests pass a literal network ref)."""
    cloud = use_case.cloud
    egress: EgressFirewall = egress_on(ctx, cloud, network)
    vault_dns_zone_id = None
    if isinstance(network, AwsNetworkRef):
        # The workload reads its key and assumes its role from subnets without internet (the firewall
        # drops the public endpoints): both APIs answer inside the VPC.
        endpoints = aws_interface_endpoints(ctx, network)
        for service in AWS_SAAS_ENDPOINTS:
            endpoints.endpoint(service)
    if isinstance(network, AzureNetworkRef):
        zone = ctx.shared(
            ("private-dns-zone", "azure", VAULT_DNS_ZONE),
            lambda: AzureVaultDnsZone(
                f"{ctx.prefix()}-vaultcore",
                AzureVaultDnsZoneArgs(network=network, tags=ctx.tags()),
                opts=ctx.opts("azure"),
            ),
        )
        vault_dns_zone_id = zone.zone_id
    name = ctx.prefix(use_case)
    component = SaasEgress(
        name,
        SaasEgressArgs(
            cloud=cloud,
            base_url=use_case.base_url,
            hosts=use_case.hosts,
            api_key=require_secret(use_case.api_key_secret),
            network=network,
            egress=egress,
            allowed_principals=list(use_case.allowed_principals),
            external_rotation=use_case.key_rotation == "external",
            tags=ctx.tags(use_case),
            protect_data=ctx.protect_data,
            vault_name=_vault_name(ctx, use_case) if cloud == "azure" else None,
            vault_dns_zone_id=vault_dns_zone_id,
        ),
        opts=ctx.component_opts(cloud, use_case),
    )
    logs = None
    if isinstance(egress, AwsEgressFirewall):
        logs = egress.alert_log_group
    elif isinstance(egress, AzureEgressFirewall):
        logs = egress.log_workspace_id
    return Endpoint(
        pattern=PATTERN,
        url=component.base_url,
        auth="api-key",
        identity=component.workload_identity,
        secret_ref=component.secret_ref,
        logs=logs,
        egress_ips=component.egress_ips,
        proxy=component.proxy,
    )


def _vault_name(ctx: StackContext, use_case: SaasUseCase) -> str:
    """Key Vault names are global: a short digest of the resource group keeps two tenants' `dev-chat` apart."""
    azure = ctx.environment.clouds.azure
    scope = f"{azure.resource_group}/{azure.location}" if azure else ""
    digest = hashlib.sha256(scope.encode()).hexdigest()[:5]
    return physical_name(ctx.stack, use_case.name, digest, kind="key_vault")
