"""Who may reach a cluster's API server from the internet: EKS, AKS and GKE authorized ranges.

One rule for all three clouds, shared with the stack spec (`kubernetes[].new.api_authorized_cidrs`):
a public range wider than /24 opens the control plane to too much of the internet. Private, carrier-NAT,
loopback and link-local space is never public. A wider range passes only when the policy config lists
that exact CIDR with its reason (`allowedWideRanges`), the same entry the spec accepts it by.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from .common import HIGH, Res, as_list, cis, get, resource_policy, truthy

POLICY = "cluster-api-authorized-ranges"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
NOT_PUBLIC = tuple(
    ipaddress.IPv4Network(cidr)
    for cidr in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
    )
)
"""Private, shared (carrier NAT), loopback and link-local space: never a source a public endpoint sees."""
MAX_PUBLIC_PREFIX = 24
"""Widest public block a cluster API may be opened to without a listed exception."""
ALLOWED_WIDE_RANGES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "default": [],
    "description": "Public ranges wider than /24 allowed anyway, each as its exact CIDR with the reason.",
    "items": {
        "type": "object",
        "properties": {"cidr": {"type": "string", "minLength": 9}, "reason": {"type": "string", "minLength": 10}},
        "required": ["cidr", "reason"],
        "additionalProperties": False,
    },
}


def is_public(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Whether a source range holds public addresses (0.0.0.0/0 does, 10.0.0.0/8 does not)."""
    if isinstance(network, ipaddress.IPv6Network):
        return not (network.is_private or network.is_link_local or network.is_loopback)
    return not any(network.subnet_of(block) for block in NOT_PUBLIC)


def allowed_wide_ranges(entries: Any) -> dict[str, str]:
    """`allowedWideRanges` as canonical CIDR -> reason; an entry without a CIDR or a reason is refused."""
    allowed: dict[str, str] = {}
    for index, entry in enumerate(as_list(entries)):
        where = f"{POLICY}.allowedWideRanges[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: must be {{\"cidr\": ..., \"reason\": ...}}")
        reason = str(entry.get("reason") or "").strip()
        if len(reason) < 10:
            raise ValueError(f"{where}: {entry.get('cidr')!r} has no reason; say why this range may reach the API")
        try:
            network = ipaddress.ip_network(str(entry.get("cidr")), strict=True)
        except ValueError as exc:
            raise ValueError(f"{where}.cidr: {entry.get('cidr')!r} is not a CIDR block ({exc})") from None
        allowed[str(network)] = reason
    return allowed


def range_problem(cidr: str, allowed: Mapping[str, str]) -> str | None:
    """Why `cidr` may not reach a cluster API (None: it may)."""
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return f"{cidr!r} is not a CIDR block"
    if not is_public(network):
        return None
    widest = MAX_PUBLIC_PREFIX if network.version == 4 else 48
    # The allowance names one range as written: `198.51.7.0/16` is not the allowed `198.51.0.0/16`.
    if network.prefixlen >= widest or cidr.strip() in allowed:
        return None
    return (
        f"{cidr} opens the API server to {network.num_addresses:,} public addresses; list the deploy runners' "
        f"egress, /{widest} or narrower, or allow this exact range with its reason in the policy config "
        f"({POLICY}.allowedWideRanges)"
    )


def _ranges(resource: Res) -> tuple[str, list[Any]] | None:
    """The field and the public ranges a cluster admits to its API (None: no public endpoint)."""
    props = resource.props
    if resource.type == EKS_CLUSTER:
        vpc = get(props, "vpcConfig") or {}
        if not truthy(vpc.get("endpointPublicAccess", True)):
            return None
        # An EKS public endpoint without publicAccessCidrs is open to 0.0.0.0/0.
        return "vpcConfig.publicAccessCidrs", as_list(vpc.get("publicAccessCidrs")) or ["0.0.0.0/0"]
    if resource.type == AKS_CLUSTER:
        profile = get(props, "apiServerAccessProfile") or {}
        if truthy(profile.get("enablePrivateCluster", False)):
            return None
        ranges = as_list(profile.get("authorizedIPRanges")) or ["0.0.0.0/0"]
        return "apiServerAccessProfile.authorizedIPRanges", ranges
    if resource.type == GKE_CLUSTER:
        blocks = as_list(get(props, "masterAuthorizedNetworksConfig.cidrBlocks"))
        return "masterAuthorizedNetworksConfig.cidrBlocks", [b.get("cidrBlock") for b in blocks if isinstance(b, dict)]
    return None


def _authorized_ranges(resource: Res, cfg: dict[str, Any]) -> Iterator[str]:
    found = _ranges(resource)
    if found is None:
        return
    field, ranges = found
    try:
        allowed = allowed_wide_ranges(cfg["allowedWideRanges"])
    except ValueError as exc:  # the schema cannot tell a CIDR from other text: say so on the resource
        yield f"the policy config is unusable, so no range wider than /{MAX_PUBLIC_PREFIX} is allowed: {exc}"
        allowed = {}
    for cidr in ranges:
        if cidr is None:
            continue
        problem = range_problem(str(cidr), allowed)
        if problem:
            yield f"{field}: {problem}"
    if resource.type == GKE_CLUSTER and truthy(
        get(resource.props, "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled", False)
    ):
        yield (
            "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled admits every Google Cloud public "
            "address to the API server: set it to false and list the deploy runners' egress"
        )


POLICIES = [
    resource_policy(
        name=POLICY,
        description="Cluster API servers (EKS, AKS, GKE) admit no public range wider than /24 unless the policy "
        "config allows that exact range with its reason.",
        types=[EKS_CLUSTER, AKS_CLUSTER, GKE_CLUSTER],
        check=_authorized_ranges,
        severity=HIGH,
        remediation="Narrow kubernetes[].new.api_authorized_cidrs to the deploy runners' egress (/24 or narrower), "
        "use api_access: private with deployer.private_cidrs, or list the exact range with its reason in "
        "allowedWideRanges.",
        references=[cis("EKS", "5.4.1"), cis("GKE", "5.6.3")],
        config={"allowedWideRanges": ALLOWED_WIDE_RANGES_SCHEMA},
        tags=["self-managed", "network"],
    ),
]
