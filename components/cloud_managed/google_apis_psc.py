"""Private Service Connect for Google APIs, and the private DNS that sends `*.googleapis.com` to it.

Creates:
- an internal global address (`purpose: PRIVATE_SERVICE_CONNECT`) on the VPC;
- a global forwarding rule to the `all-apis` or `vpc-sc` bundle (no load-balancing scheme);
- a private `googleapis.com.` zone visible only to the VPC, with `private.googleapis.com.` (or
  `restricted.googleapis.com.` for `vpc-sc`) pointing at the address and `*.googleapis.com.` a
  CNAME to it, so the SDKs' default hostnames stay on the private path.

One per VPC: a network takes one private zone of a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import compute as gcp_compute
from pulumi_gcp import dns as gcp_dns

from triplane.components.naming import physical_name
from triplane.components.network.layout import psc_address
from triplane.components.network.refs import GcpNetworkRef
from triplane.components.tagging import tagged

TARGETS = {"all-apis": "private.googleapis.com.", "vpc-sc": "restricted.googleapis.com."}


@dataclass(frozen=True)
class GoogleApisPrivateAccessArgs:
    network: GcpNetworkRef
    target: str = "all-apis"
    """`all-apis`, or `vpc-sc` (only services VPC Service Controls supports, for use with a perimeter)."""
    address: str | None = None
    """The endpoint's internal IP; defaults to the reserved PSC address of a network Triplane created."""
    tags: Mapping[str, str] = field(default_factory=dict)


class GoogleApisPrivateAccess(pulumi.ComponentResource):
    address: pulumi.Output[str]
    ready: pulumi.Output[str]
    """The wildcard record's name, known once the address, rule and DNS records all exist."""

    def __init__(
        self, name: str, args: GoogleApisPrivateAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("triplane:cloudmanaged:GoogleApisPrivateAccess", name, None, tagged(opts, args.tags))
        if args.target not in TARGETS:
            raise ValueError(f"{name}: target must be one of {sorted(TARGETS)}, not {args.target!r}")
        network = args.network
        ip = args.address or (psc_address(network.cidr) if network.cidr else None)
        if ip is None:
            raise ValueError(
                f"{name}: an existing network needs an explicit address for the Google APIs endpoint "
                "(an unused internal IP outside every subnet)"
            )
        child = pulumi.ResourceOptions(parent=self)
        vip = TARGETS[args.target]

        address = gcp_compute.GlobalAddress(
            f"{name}-address",
            name=physical_name(name, "googleapis", kind="gcp"),
            project=network.project,
            address=ip,
            address_type="INTERNAL",
            purpose="PRIVATE_SERVICE_CONNECT",
            network=network.network_id,
            opts=child,
        )
        rule = gcp_compute.GlobalForwardingRule(
            f"{name}-rule",
            name=physical_name(name, "apis", kind="gcp_psc"),
            project=network.project,
            target=args.target,
            network=network.network_id,
            ip_address=address.id,
            load_balancing_scheme="",
            opts=child,
        )
        zone = gcp_dns.ManagedZone(
            f"{name}-zone",
            name=physical_name(name, "googleapis", kind="gcp"),
            project=network.project,
            dns_name="googleapis.com.",
            description="Google APIs over Private Service Connect",
            visibility="private",
            private_visibility_config={"networks": [{"network_url": network.network_id}]},
            opts=child,
        )
        gcp_dns.RecordSet(
            f"{name}-vip",
            project=network.project,
            managed_zone=zone.name,
            name=vip,
            type="A",
            ttl=300,
            rrdatas=[address.address],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[rule]),
        )
        wildcard = gcp_dns.RecordSet(
            f"{name}-wildcard",
            project=network.project,
            managed_zone=zone.name,
            name="*.googleapis.com.",
            type="CNAME",
            ttl=300,
            rrdatas=[vip],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[rule]),
        )
        self.address = address.address
        self.ready = pulumi.Output.all(wildcard.name, rule.id).apply(lambda v: str(v[0]))
        self.register_outputs({"address": self.address, "ready": self.ready})
