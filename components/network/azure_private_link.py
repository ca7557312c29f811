"""A private endpoint in the VNet's endpoint subnet, and the private DNS zones that resolve to it.

One builder for every Azure service Triplane reaches privately through zones it creates itself
(the image cache's registry, a storage account's blobs, Azure Monitor's private link scope): each
zone, its link to the VNet (no auto registration), the endpoint for one group of the target, and the
endpoint's DNS zone group. `private_endpoint_with_dns` is the one-zone case; services answering on
several domains (Azure Monitor: five) use `private_endpoint_with_zones`, which can also put records
into zones the VNet already has (a VNet links only one zone of a name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    zone, link = linked_zone(name, service.zone, physical_name(azure_base, f"{service.stem}-link"), where, tags, opts)
    return _endpoint(
        name,
        physical_name(azure_base, f"{service.stem}-pe"),
        service.group_id,
        target_id,
        [{"name": service.zone_config, "private_dns_zone_id": zone.id}],
        [link],
        where,
        tags,
        opts,
    )


def _endpoint(
    name: str,
    azure_name: str,
    group_id: str,
    target_id: pulumi.Input[str],
    configs: Sequence[azure_network.PrivateDnsZoneConfigArgsDict],
    links: Sequence[pulumi.Resource],
    where: EndpointSubnet,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> azure_network.PrivateDnsZoneGroup:
    """`<name>-pe` to `group_id` of `target_id`, and `<name>-pe-dns` writing its records into `configs`'
    zones once `links` (their VNet links) exist."""
    endpoint = azure_network.PrivateEndpoint(
        f"{name}-pe",
        resource_group_name=where.resource_group_name,
        location=where.location,
        private_endpoint_name=azure_name,
        subnet={"id": where.subnet_id},
        private_link_service_connections=[
            {"name": group_id, "private_link_service_id": target_id, "group_ids": [group_id]}
        ],
        tags=dict(tags),
        opts=opts,
    )
    return azure_network.PrivateDnsZoneGroup(
        f"{name}-pe-dns",
        resource_group_name=where.resource_group_name,
        private_endpoint_name=endpoint.name,
        private_dns_zone_group_name=group_id,
        private_dns_zone_configs=list(configs),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(links))),
    )


def linked_zone(
    name: str,
    zone_name: str,
    link_name: str,
    where: EndpointSubnet,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[azure_privatedns.PrivateZone, azure_privatedns.VirtualNetworkLink]:
    """`<name>-zone` and its link to the VNet, `<name>-zone-link` (Azure name `link_name`)."""
    zone = azure_privatedns.PrivateZone(
        f"{name}-zone",
        private_zone_name=zone_name,
        resource_group_name=where.resource_group_name,
        location="global",
        tags=dict(tags),
        opts=opts,
    )
    link = azure_privatedns.VirtualNetworkLink(
        f"{name}-zone-link",
        virtual_network_link_name=link_name,
        private_zone_name=zone.name.apply(lambda _: zone_name),
        resource_group_name=where.resource_group_name,
        location="global",
        virtual_network={"id": where.vnet_id},
        registration_enabled=False,
        tags=dict(tags),
        opts=opts,
    )
    return zone, link


@dataclass(frozen=True)
class PrivateDnsZone:
    """One of the zones a private endpoint's records go in."""

    zone: str
    """e.g. privatelink.monitor.azure.com."""
    stem: str
    """Names the zone's resources (`<name>-<stem>-zone`, `<base>-<stem>-link`) and its config in the group."""


MAX_ZONES_PER_GROUP = 5
"""A private DNS zone group holds at most five zones (Azure Private Endpoint DNS integration)."""


def private_endpoint_with_zones(
    name: str,
    azure_base: str,
    group_id: str,
    zones: Sequence[PrivateDnsZone],
    target_id: pulumi.Input[str],
    where: EndpointSubnet,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    existing_zone_ids: Mapping[str, pulumi.Input[str]] | None = None,
) -> azure_network.PrivateDnsZoneGroup:
    """A private endpoint to `group_id` of `target_id` whose zone group writes its records into every
    zone of `zones`: `<name>-<stem>-zone` and `<name>-<stem>-zone-link` for each zone created here,
    `<name>-pe` and `<name>-pe-dns`; Azure names from `azure_base`.

    `existing_zone_ids` (zone name -> resource ID) are zones the VNet already links, which get the
    records instead of a new zone of the same name. Returns the zone group, which exists once the
    endpoint does and every created zone is linked.
    """
    existing = dict(existing_zone_ids or {})
    if not 0 < len(zones) <= MAX_ZONES_PER_GROUP:
        raise ValueError(f"{name}: a private DNS zone group holds 1 to {MAX_ZONES_PER_GROUP} zones, not {len(zones)}")
    unknown = sorted(set(existing) - {z.zone for z in zones})
    if unknown:
        raise ValueError(f"{name}: existing zones {unknown} are not zones of group {group_id!r}")
    configs: list[azure_network.PrivateDnsZoneConfigArgsDict] = []
    links: list[pulumi.Resource] = []
    for each in zones:
        zone_id = existing.get(each.zone)
        if zone_id is None:
            zone, link = linked_zone(
                f"{name}-{each.stem}", each.zone, physical_name(azure_base, f"{each.stem}-link"), where, tags, opts
            )
            zone_id = zone.id
            links.append(link)
        configs.append({"name": each.stem, "private_dns_zone_id": zone_id})
    azure_name = physical_name(azure_base, f"{group_id}-pe")
    return _endpoint(name, azure_name, group_id, target_id, configs, links, where, tags, opts)


__all__ = [
    "MAX_ZONES_PER_GROUP",
    "EndpointSubnet",
    "PrivateDnsZone",
    "PrivateLinkService",
    "linked_zone",
    "private_endpoint_with_dns",
    "private_endpoint_with_zones",
]
