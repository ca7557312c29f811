"""The private DNS zone that makes Azure OpenAI accounts resolve to their private endpoints.

Creates the `privatelink.openai.azure.com` zone and its link to the VNet (no auto-registration).
A VNet can link only one zone of a name, so every Azure OpenAI account in the VNet shares one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import privatedns as azure_privatedns

from triplane.components.naming import physical_name
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.tagging import tagged

OPENAI_ZONE = "privatelink.openai.azure.com"


@dataclass(frozen=True)
class AzureOpenAIPrivateDnsArgs:
    network: AzureNetworkRef
    tags: Mapping[str, str] = field(default_factory=dict)


class AzureOpenAIPrivateDns(pulumi.ComponentResource):
    zone_id: pulumi.Output[str]
    """The zone's resource ID, available once the VNet link exists (so records resolve)."""

    def __init__(self, name: str, args: AzureOpenAIPrivateDnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:cloudmanaged:AzureOpenAIPrivateDns", name, None, tagged(opts, args.tags))
        zone = azure_privatedns.PrivateZone(
            f"{name}-zone",
            private_zone_name=OPENAI_ZONE,
            resource_group_name=args.network.resource_group_name,
            location="global",
            opts=pulumi.ResourceOptions(parent=self),
        )
        link = azure_privatedns.VirtualNetworkLink(
            f"{name}-link",
            virtual_network_link_name=physical_name(name, "openai-link"),
            private_zone_name=zone.id.apply(lambda _: OPENAI_ZONE),
            resource_group_name=args.network.resource_group_name,
            location="global",
            virtual_network={"id": args.network.vnet_id},
            registration_enabled=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.zone_id = pulumi.Output.all(zone.id, link.id).apply(lambda ids: ids[0])
        self.register_outputs({"zone_id": self.zone_id})
