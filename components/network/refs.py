"""What a component needs to know about a network, whether Triplane created it or it already existed.

Components take one of these as their `network` argument, so a created network and an existing one
are interchangeable; the check between the two happens once, in the stack composition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi


class SubnetSequence:
    """The subnets Triplane writes into one Azure VNet, in order.

    Azure rejects concurrent writes to a VNet's subnets (AnotherOperationInProgress), so each new
    subnet, whichever component adds it, waits for the one added before it.
    """

    def __init__(self, last: pulumi.Resource | None = None) -> None:
        self.last = last

    def after(self) -> list[pulumi.Resource]:
        """What the next subnet must wait for (its `depends_on`)."""
        return [self.last] if self.last is not None else []

    def add(self, subnet: pulumi.Resource) -> None:
        self.last = subnet


@dataclass(frozen=True)
class AwsNetworkRef:
    region: str
    vpc_id: pulumi.Input[str]
    app_subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets, one per zone (at least two zones), where workloads and interface endpoints live."""
    application_cidrs: Sequence[str]
    """Sources allowed to reach model endpoints."""
    private_route_table_ids: Sequence[pulumi.Input[str]] = ()
    """Route tables of the app subnets (empty for an existing network: its routing is not Triplane's)."""
    zones: Sequence[str] = ()
    cidr: str | None = None
    """The VPC block when Triplane created it; None for an existing network."""


@dataclass(frozen=True)
class AzureNetworkRef:
    location: str
    resource_group_name: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    vnet_name: pulumi.Input[str]
    app_subnet_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]
    """Subnet for private endpoints (network policies enabled, so NSGs apply to them)."""
    application_cidrs: Sequence[str]
    app_route_table_name: pulumi.Input[str] | None = None
    """Route table of the app subnet, for egress routes (None for an existing network)."""
    app_route_table_id: pulumi.Input[str] | None = None
    """The same route table's ID: other subnets of workloads (AKS nodes) egress through it too."""
    subnets: SubnetSequence = field(default_factory=SubnetSequence)
    """Where a component adding a subnet to this VNet takes its place in line."""
    cidr: str | None = None


@dataclass(frozen=True)
class GcpNetworkRef:
    project: str
    region: str
    network_id: pulumi.Input[str]
    """`projects/<p>/global/networks/<n>`."""
    subnetwork_id: pulumi.Input[str]
    application_cidrs: Sequence[str]
    pods_range_name: str | None = None
    """Secondary range of the subnetwork for GKE pods (None when no GKE cluster is created)."""
    services_range_name: str | None = None
    cidr: str | None = None
