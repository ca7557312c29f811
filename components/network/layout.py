"""How a network's block is divided: sixteen equal blocks, each with a fixed role per cloud.

A /16 gives sixteen /20s. Fixed positions keep subnets stable as features are switched on later
(adding SaaS egress never renumbers the app subnets), and make overlap impossible by construction.
"""

from __future__ import annotations

import ipaddress

BLOCKS = 16

# AWS: three zones at most, so each tier takes three consecutive blocks.
AWS_APP = 0          # 0, 1, 2   private app subnets (workloads, EKS nodes, interface endpoints)
AWS_FIREWALL = 6     # 6, 7, 8   Network Firewall endpoints
AWS_PUBLIC = 9       # 9, 10, 11 NAT gateways (the only subnets with a route to the internet gateway)

# Azure: one block per subnet.
AZURE_APP = 0
AZURE_ENDPOINTS = 1
AZURE_AKS = 2
AZURE_FIREWALL = 3   # AzureFirewallSubnet
AZURE_FIREWALL_MANAGEMENT = 4

# Google Cloud.
GCP_APP = 0
GCP_PROXY_ONLY = 1   # REGIONAL_MANAGED_PROXY subnet for Secure Web Proxy
GCP_SERVICES = 2     # GKE services secondary range
GCP_PODS = 8         # 8..11 GKE pods secondary range (four blocks)
GCP_PSC = 15         # Private Service Connect address for Google APIs (outside every subnet)


def block(cidr: str, index: int, size: int = 1) -> str:
    """The `index`-th sixteenth of `cidr`, widened to `size` consecutive blocks (a power of two)."""
    network = ipaddress.IPv4Network(cidr)
    prefix = network.prefixlen + 4 - (size.bit_length() - 1)
    step = 2 ** (32 - network.prefixlen - 4)
    first = ipaddress.IPv4Address(int(network.network_address) + index * step)
    return str(ipaddress.IPv4Network(f"{first}/{prefix}"))


def psc_address(cidr: str) -> str:
    """A single address for the Google APIs PSC endpoint, in the reserved last block."""
    return str(ipaddress.IPv4Network(block(cidr, GCP_PSC)).network_address + 2)


def app_subnets(cloud: str, cidr: str, zones: int) -> list[str]:
    """The application subnets of a new network: one per zone on AWS, one on Azure and Google Cloud."""
    if cloud == "aws":
        return [block(cidr, AWS_APP + i) for i in range(zones)]
    return [block(cidr, AZURE_APP if cloud == "azure" else GCP_APP)]
