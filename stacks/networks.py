"""One network per cloud: created by Triplane or referenced if it exists, decided here and only here."""

from __future__ import annotations

from typing import Any

from components.network.aws import AwsNetwork, AwsNetworkArgs
from components.network.azure import AzureNetwork, AzureNetworkArgs
from components.network.gcp import GcpNetwork, GcpNetworkArgs
from components.network.refs import AwsNetworkRef, AzureNetworkRef, GcpNetworkRef
from stacks.context import StackContext

NetworkRef = AwsNetworkRef | AzureNetworkRef | GcpNetworkRef


def network_for(ctx: StackContext, cloud: str) -> Any:
    """The environment's network in `cloud`, created on first use and shared afterwards."""
    return ctx.shared(("network", cloud), lambda: _build(ctx, cloud))


def _build(ctx: StackContext, cloud: str) -> NetworkRef:
    clouds = ctx.environment.clouds
    name = f"{ctx.stack}-{cloud}"
    tags = ctx.tags()
    if cloud == "aws" and clouds.aws is not None:
        settings = clouds.aws.network
        if settings.existing is not None:
            return AwsNetworkRef(
                region=clouds.aws.region,
                vpc_id=settings.existing.vpc_id,
                app_subnet_ids=list(settings.existing.app_subnet_ids),
                application_cidrs=list(settings.existing.application_cidrs),
            )
        assert settings.new is not None
        return AwsNetwork(
            name,
            AwsNetworkArgs(
                region=clouds.aws.region,
                cidr=settings.new.cidr,
                zones=settings.new.zones,
                tags=tags,
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("aws"),
        ).ref
    if cloud == "azure" and clouds.azure is not None:
        azure = clouds.azure
        if azure.network.existing is not None:
            existing = azure.network.existing
            return AzureNetworkRef(
                location=azure.location,
                resource_group_name=azure.resource_group,
                vnet_id=existing.vnet_id,
                vnet_name=existing.vnet_id.rsplit("/", 1)[-1],
                app_subnet_id=existing.app_subnet_id,
                endpoint_subnet_id=existing.endpoint_subnet_id,
                application_cidrs=list(existing.application_cidrs),
            )
        assert azure.network.new is not None
        return AzureNetwork(
            name,
            AzureNetworkArgs(
                location=azure.location,
                resource_group=azure.resource_group,
                cidr=azure.network.new.cidr,
                tags=tags,
                protect_data=ctx.protect_data,
            ),
            opts=ctx.opts("azure"),
        ).ref
    if cloud == "gcp" and clouds.gcp is not None:
        gcp_settings = clouds.gcp
        if gcp_settings.network.existing is not None:
            existing_gcp = gcp_settings.network.existing
            return GcpNetworkRef(
                project=gcp_settings.project,
                region=gcp_settings.region,
                network_id=existing_gcp.network,
                subnetwork_id=existing_gcp.subnetwork,
                application_cidrs=list(existing_gcp.application_cidrs),
            )
        assert gcp_settings.network.new is not None
        gke = any(c.new is not None and c.new.cloud == "gcp" for c in ctx.environment.kubernetes)
        return GcpNetwork(
            name,
            GcpNetworkArgs(
                project=gcp_settings.project,
                region=gcp_settings.region,
                cidr=gcp_settings.network.new.cidr,
                gke_ranges=gke,
            ),
            opts=ctx.opts("gcp"),
        ).ref
    raise ValueError(f"clouds.{cloud} is not configured")
