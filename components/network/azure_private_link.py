"""A private endpoint in the VNet's endpoint subnet, and the private DNS zone that resolves to it.

One builder for every Azure service Triplane reaches privately through a zone it creates itself
(the image cache's registry, a storage account's blobs): the zone, its link to the VNet (no auto
registration), the endpoint for one group of the target, and the endpoint's DNS zone group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network as azure_network
from pulumi_azure_native import privatedns as azure_privatedns

from triplane.components.naming import physical_name


@dataclass(frozen=True)
class PrivateLinkService:
    """What differs between services: their `privatelink.*` zone, the target's group, the name stems."""

    zone: str
    """e.g. privatelink.azurecr.io."""
    group_id: str
    """The target sub-resource (`registry`, `blob`); it also names the connection and the zone group."""
    zone_config: str
    """The zone group's config name."""
    stem: str
    """Stem of the link's and the endpoint's Azure names (`<base>-<stem>-link`, `<base>-<stem>-pe`)."""


@dataclass(frozen=True)
class EndpointSubnet:
    """Where the endpoint and the zone live."""

    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]


def private_endpoint_with_dns(
    name: str,
    azure_base: str,
    service: PrivateLinkService,
    target_id: pulumi.Input[str],
    where: EndpointSubnet,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> azure_network.PrivateDnsZoneGroup:
    """`<name>-zone`, `<name>-zone-link`, `<name>-pe` and `<name>-pe-dns`; Azure names from `azure_base`.

    Returns the zone group: it exists once the endpoint does and the zone is linked, so a workload that
    waits for it resolves the service's private address.
    """
    zone = azure_privatedns.PrivateZone(
        f"{name}-zone",
        private_zone_name=service.zone,
        resource_group_name=where.resource_group_name,
        location="global",
        tags=dict(tags),
        opts=opts,
    )
    link = azure_privatedns.VirtualNetworkLink(
        f"{name}-zone-link",
        virtual_network_link_name=physical_name(azure_base, f"{service.stem}-link"),
        private_zone_name=zone.name.apply(lambda _: service.zone),
        resource_group_name=where.resource_group_name,
        location="global",
        virtual_network={"id": where.vnet_id},
        registration_enabled=False,
        tags=dict(tags),
        opts=opts,
    )
    endpoint = azure_network.PrivateEndpoint(
        f"{name}-pe",
        resource_group_name=where.resource_group_name,
        location=where.location,
        private_endpoint_name=physical_name(azure_base, f"{service.stem}-pe"),
        subnet={"id": where.subnet_id},
        private_link_service_connections=[
            {"name": service.group_id, "private_link_service_id": target_id, "group_ids": [service.group_id]}
        ],
        tags=dict(tags),
        opts=opts,
    )
    return azure_network.PrivateDnsZoneGroup(
        f"{name}-pe-dns",
        resource_group_name=where.resource_group_name,
        private_endpoint_name=endpoint.name,
        private_dns_zone_group_name=service.group_id,
        private_dns_zone_configs=[{"name": service.zone_config, "private_dns_zone_id": zone.id}],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[link])),
    )


__all__ = ["EndpointSubnet", "PrivateLinkService", "private_endpoint_with_dns"]
