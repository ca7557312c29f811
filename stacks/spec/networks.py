"""Where each cloud's workloads live: a network Triplane creates, or one that already exists."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from triplane.stacks.spec.base import ConfigKey, SpecModel

AwsRegion = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]
AzureLocation = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{2,30}$")]
GcpRegion = Annotated[str, StringConstraints(pattern=r"^[a-z]+-[a-z]+\d$")]
GcpProject = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]

PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def private_address(value: str | None) -> str | None:
    """An unused internal IPv4 address (a Private Service Connect endpoint's), or None."""
    if value is None:
        return None
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address") from None
    if not address.is_private:
        raise ValueError(f"{value} is not a private address; use an unused internal IP outside every subnet")
    return value


def private_cidr(value: str) -> str:
    """A CIDR block inside RFC 1918 private space, written in canonical form."""
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR block such as 10.20.0.0/16 ({exc})") from None
    if not isinstance(network, ipaddress.IPv4Network) or not any(
        network.subnet_of(r) for r in PRIVATE_RANGES
    ):
        raise ValueError(
            f"{value} is not an RFC 1918 private network: use a block inside 10.0.0.0/8, 172.16.0.0/12 "
            "or 192.168.0.0/16"
        )
    return str(network)


class NewNetwork(SpecModel):
    """A network Triplane creates and owns; its subnets are carved from `cidr` (see network layout)."""

    cidr: str = Field(description="Private IPv4 block, /16 to /20, e.g. 10.20.0.0/16.")
    zones: list[str] = Field(
        default_factory=list,
        description="Availability zones for subnets (AWS: at least two, e.g. us-east-1a, us-east-1b).",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        cidr = private_cidr(value)
        prefix = ipaddress.ip_network(cidr).prefixlen
        if not 16 <= prefix <= 20:
            raise ValueError(f"{cidr} is a /{prefix}: use a /16 to /20 so every subnet tier fits")
        return cidr


class _ExistingBase(SpecModel):
    application_cidrs: list[str] = Field(
        min_length=1,
        description="Private CIDR blocks of the application workloads allowed to reach model endpoints.",
    )

    @field_validator("application_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        return [private_cidr(v) for v in values]


class ExistingAwsNetwork(_ExistingBase):
    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    app_subnet_ids: list[Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        min_length=2, description="Private subnets in at least two zones, for workloads and endpoints."
    )


class ExistingAzureNetwork(_ExistingBase):
    vnet_id: str = Field(
        pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+$"
    )
    app_subnet_id: str = Field(pattern=r"^/subscriptions/.+/subnets/[^/]+$")
    endpoint_subnet_id: str = Field(pattern=r"^/subscriptions/.+/subnets/[^/]+$")


class ExistingGcpNetwork(_ExistingBase):
    network: str = Field(pattern=r"^projects/[^/]+/global/networks/[^/]+$")
    subnetwork: str = Field(pattern=r"^projects/[^/]+/regions/[^/]+/subnetworks/[^/]+$")
    google_apis_address: str | None = Field(
        default=None,
        description=(
            "An unused internal IP outside every subnet: Triplane then creates the network's private "
            "googleapis path (Private Service Connect and the `googleapis.com.` zone). Leave it out when the "
            "network already resolves googleapis.com privately (a network takes one zone of that name)."
        ),
    )

    @field_validator("google_apis_address")
    @classmethod
    def _private_address(cls, value: str | None) -> str | None:
        return private_address(value)


class _NetworkChoice(SpecModel):
    new: NewNetwork | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> _NetworkChoice:
        chosen = [k for k in ("new", "existing") if getattr(self, k, None) is not None]
        if len(chosen) != 1:
            raise ValueError("set exactly one of `new` (Triplane creates the network) or `existing`")
        return self


class AwsNetworkSpec(_NetworkChoice):
    existing: ExistingAwsNetwork | None = None


class AzureNetworkSpec(_NetworkChoice):
    existing: ExistingAzureNetwork | None = None


class GcpNetworkSpec(_NetworkChoice):
    existing: ExistingGcpNetwork | None = None


class AwsImageCache(SpecModel):
    """Credentials ECR's pull-through cache needs for the upstreams that require them."""

    docker_hub_secret: ConfigKey = Field(
        default="dockerHubCredentials",
        description=(
            "Config key of a secret holding Docker Hub credentials as JSON "
            '{"username": ..., "accessToken": ...} (a Docker Hub access token).'
        ),
    )
    ghcr_secret: ConfigKey = Field(
        default="ghcrCredentials",
        description=(
            "Config key of a secret holding GitHub Container Registry credentials as JSON "
            '{"username": ..., "accessToken": ...} (a token with read:packages).'
        ),
    )


class AwsCloud(SpecModel):
    region: AwsRegion
    network: AwsNetworkSpec
    image_cache: AwsImageCache = Field(
        default_factory=AwsImageCache,
        description="ECR pull-through cache of the public registries, created with the first EKS cluster.",
    )

    @model_validator(mode="after")
    def _zones(self) -> AwsCloud:
        new = self.network.new
        if new is not None:
            if len(new.zones) < 2:
                raise ValueError("network.new.zones: list at least two availability zones, e.g. "
                                 f"[{self.region}a, {self.region}b]")
            if len(new.zones) > 3:
                raise ValueError("network.new.zones: at most three zones are supported")
            wrong = [z for z in new.zones if not (z.startswith(self.region) and len(z) == len(self.region) + 1)]
            if wrong:
                raise ValueError(f"network.new.zones: {wrong} are not zones of {self.region} "
                                 f"(expected names like {self.region}a)")
        return self


class AzureCloud(SpecModel):
    location: AzureLocation
    resource_group: str = Field(pattern=r"^[-\w.()]{1,89}[-\w()]$", description="Created unless the network exists.")
    network: AzureNetworkSpec


class GcpImageCache(SpecModel):
    """Optional credentials for Artifact Registry's remote repositories (anonymous pulls are rate-limited)."""

    docker_hub_secret: ConfigKey | None = Field(
        default=None,
        description=(
            'Config key of a secret holding Docker Hub credentials as JSON {"username": ..., "accessToken": ...}.'
        ),
    )
    ghcr_secret: ConfigKey | None = Field(
        default=None,
        description=(
            'Config key of a secret holding GHCR credentials as JSON {"username": ..., "accessToken": ...}.'
        ),
    )


class GcpCloud(SpecModel):
    project: GcpProject
    region: GcpRegion
    network: GcpNetworkSpec
    image_cache: GcpImageCache = Field(
        default_factory=GcpImageCache,
        description=(
            "Artifact Registry remote repositories of the public registries, created with the first GKE cluster."
        ),
    )


class Clouds(SpecModel):
    aws: AwsCloud | None = None
    azure: AzureCloud | None = None
    gcp: GcpCloud | None = None
