"""GcpNetwork: a private VPC for an environment's Google Cloud workloads.

Creates: a custom-mode VPC whose default internet route is deleted at creation (egress exists only
where the SaaS egress path adds it); one regional app subnetwork with Private Google Access and
flow logs, plus GKE pod and service secondary ranges when a GKE cluster will live there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute as gcp_compute

from triplane.components.network import layout
from triplane.components.network.refs import GcpNetworkRef

PODS_RANGE = "gke-pods"
SERVICES_RANGE = "gke-services"


@dataclass
class GcpNetworkArgs:
    project: str
    region: str
    cidr: str
    gke_ranges: bool = False


class GcpNetwork(pulumi.ComponentResource):
    ref: GcpNetworkRef
    network_id: pulumi.Output[str]

    def __init__(self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:network:GcpNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vpc = gcp_compute.Network(
            f"{name}-vpc",
            name=f"{name}-vpc",
            project=args.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            delete_default_routes_on_create=True,
            opts=child,
        )
        app_cidr = layout.block(args.cidr, layout.GCP_APP)
        secondary = (
            [
                gcp_compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=PODS_RANGE, ip_cidr_range=layout.block(args.cidr, layout.GCP_PODS, size=4)
                ),
                gcp_compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES_RANGE, ip_cidr_range=layout.block(args.cidr, layout.GCP_SERVICES)
                ),
            ]
            if args.gke_ranges
            else None
        )
        subnet = gcp_compute.Subnetwork(
            f"{name}-app",
            name=f"{name}-app",
            project=args.project,
            region=args.region,
            network=vpc.id,
            ip_cidr_range=app_cidr,
            private_ip_google_access=True,
            secondary_ip_ranges=secondary,
            log_config=gcp_compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
            ),
            opts=child,
        )
        self.network_id = vpc.id
        self.ref = GcpNetworkRef(
            project=args.project,
            region=args.region,
            network_id=vpc.id,
            subnetwork_id=subnet.id,
            application_cidrs=[app_cidr],
            pods_range_name=PODS_RANGE if args.gke_ranges else None,
            services_range_name=SERVICES_RANGE if args.gke_ranges else None,
            cidr=args.cidr,
        )
        self.register_outputs({"network_id": vpc.id, "subnetwork_id": subnet.id})
