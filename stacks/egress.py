"""The egress allowlist of each cloud network, derived from the spec, and the one firewall enforcing it.

A network Triplane creates has no way out but its egress firewall (AWS Network Firewall, Azure
Firewall, Google Cloud's Secure Web Proxy), built once per network as soon as anything needs to get
out. What may get out is one list of entries, each a host with the use case that needs it and why:

- the provider API hosts of every SaaS use case in that cloud;
- the Hugging Face hub hosts of every self-managed service whose weights a Job downloads on a
  cluster Triplane creates in that network (`weights.source: hub` only: a bucket import reaches its
  bucket over the cloud's private path and adds nothing here);
- what a cloud's own services need out (its seam's `egress_sources`): Entra ID's sign-in host for an
  Azure blob import, whose workload identity exchanges its token there (no private endpoint for it);
- what a deploy runner Triplane creates in the network reaches: GitHub, Pulumi, and the hosts its spec
  lists (`deployer.runner.egress_hosts`), and the control planes of the environment's clouds, which
  its deploys call (`components.deploy_runner.control_planes`).

- the registry hosts of the images a cluster Triplane creates in the network puts on its GPU nodes
  that the cloud's pull-through cache cannot front (its seam's `cached_registries`): NVIDIA's
  registry for the GPU metrics exporter on EKS, whose cache has no nvcr.io upstream.

Each source is one function below and one line in `SOURCES`. The firewall names the owners in its
rules' descriptions, so the plan shows who needs each host. Every entry, whatever its source, passes
`check_host`: no wildcard over a public suffix or a shared hosting domain gets out.

An existing network's egress is not Triplane's to route, and an existing cluster's path out is its
own: there the stack states where the weights come from (`weights.source`), and the spec refuses
SaaS use cases (see `stacks.patterns.saas`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from triplane.components.deploy_runner.azure import UBUNTU_HOSTS
from triplane.components.deploy_runner.control_planes import control_plane_hosts
from triplane.components.deploy_runner.github import GITHUB_HOSTS, PULUMI_HOSTS
from triplane.components.images import pull_hosts
from triplane.components.saas.providers import check_host
from triplane.components.saas.saas_egress import EgressFirewall
from triplane.components.self_managed.weights import HUB_HOSTS
from triplane.stacks.clouds import SEAMS, NetworkRef
from triplane.stacks.clouds.azure import ENTRA_HOSTS, imports_through_firewall
from triplane.stacks.clouds.seam import EgressEntry
from triplane.stacks.clusters import gpu_node_images
from triplane.stacks.context import StackContext
from triplane.stacks.spec import Environment, SaasUseCase
from triplane.stacks.spec.self_managed import SelfManagedUseCase, in_new_network

__all__ = [
    "ENTRA_HOSTS",
    "SOURCES",
    "EgressEntry",
    "allowed_hosts",
    "downloads_through_firewall",
    "egress_allowlist",
    "egress_for",
    "egress_on",
    "imports_through_firewall",
    "runner_entries",
    "saas_use_cases",
]


def saas_use_cases(environment: Environment, cloud: str) -> list[SaasUseCase]:
    return [u for u in environment.use_cases if isinstance(u, SaasUseCase) and u.cloud == cloud]


def saas_entries(environment: Environment, cloud: str) -> Iterable[EgressEntry]:
    for use_case in saas_use_cases(environment, cloud):
        for host in use_case.hosts:
            yield EgressEntry(host, use_case.name, f"{use_case.provider} API")


def downloads_through_firewall(environment: Environment, use_case: SelfManagedUseCase) -> str | None:
    """The cloud whose egress firewall a service's weights download goes through (None: not Triplane's)."""
    if use_case.weights_source != "hub":
        return None
    cluster = next((c for c in environment.kubernetes if c.name == use_case.cluster), None)
    if cluster is None or cluster.new is None or not in_new_network(environment, cluster):
        return None
    return cluster.new.cloud


def hub_entries(environment: Environment, cloud: str) -> Iterable[EgressEntry]:
    seen: set[str] = set()
    for use_case in environment.use_cases:
        if not isinstance(use_case, SelfManagedUseCase) or use_case.service_name in seen:
            continue
        seen.add(use_case.service_name)
        if downloads_through_firewall(environment, use_case) == cloud:
            for host in HUB_HOSTS:
                yield EgressEntry(host, use_case.service_name, f"model weights of {use_case.model.id}")


def cloud_entries(environment: Environment, cloud: str) -> Iterable[EgressEntry]:
    """What the cloud's own services need out (its seam's `egress_sources`)."""
    for source in SEAMS[cloud].egress_sources:
        yield from source(environment)


def runner_entries(environment: Environment, cloud: str) -> Iterable[EgressEntry]:
    """What a deploy runner Triplane creates in this cloud's network reaches: GitHub, Pulumi, and its own list."""
    for cluster in environment.kubernetes:
        runner = cluster.new.deployer.runner if cluster.new is not None and cluster.new.cloud == cloud else None
        if runner is None:
            continue
        owner = f"{cluster.name} deploy runner"
        for host in GITHUB_HOSTS:
            yield EgressEntry(host, owner, "GitHub Actions")
        for host in PULUMI_HOSTS:
            yield EgressEntry(host, owner, "Pulumi CLI, plugins and Cloud")
        for host in DISTRIBUTION_HOSTS.get(cloud, ()):
            yield EgressEntry(host, owner, "operating system packages")
        for host in control_plane_hosts(regions(environment), gke_dns_endpoint(environment)):
            yield EgressEntry(host, owner, "cloud control plane")
        for host in runner.egress_hosts:
            yield EgressEntry(host, owner, "deployer.runner.egress_hosts")


DISTRIBUTION_HOSTS: dict[str, tuple[str, ...]] = {"azure": UBUNTU_HOSTS}
"""A runner machine's package mirrors out of the network (Amazon Linux reaches its own over the VPC's S3
gateway endpoint)."""


def image_entries(environment: Environment, cloud: str) -> Iterable[EgressEntry]:
    """The registries the GPU nodes of clusters Triplane creates in this cloud's network pull from
    directly: those of their images the cloud's cache cannot front."""
    cached = SEAMS[cloud].cached_registries
    for cluster in environment.kubernetes:
        if cluster.new is None or cluster.new.cloud != cloud or not in_new_network(environment, cluster):
            continue
        for image in gpu_node_images(environment, cluster):
            if image.host not in cached:
                for host in pull_hosts(image.host):
                    yield EgressEntry(host, f"cluster {cluster.name}", f"image {image.repository}")


def regions(environment: Environment) -> dict[str, str]:
    """The region of each cloud the environment uses (`{cloud: region}`)."""
    clouds = environment.clouds
    found = {}
    if clouds.aws is not None:
        found["aws"] = clouds.aws.region
    if clouds.azure is not None:
        found["azure"] = clouds.azure.location
    if clouds.gcp is not None:
        found["gcp"] = clouds.gcp.region
    return found


def gke_dns_endpoint(environment: Environment) -> bool:
    return any(c.new is not None and c.new.api_access == "dns-endpoint" for c in environment.kubernetes)


SOURCES: tuple[Callable[[Environment, str], Iterable[EgressEntry]], ...] = (
    saas_entries,
    hub_entries,
    cloud_entries,
    runner_entries,
    image_entries,
)
"""Every kind of workload that needs a host outside the network: one function each."""


def egress_allowlist(environment: Environment, cloud: str) -> list[EgressEntry]:
    """Every entry of `cloud`'s network allowlist, sorted, de-duplicated: build order never changes it."""
    return sorted({checked(entry) for source in SOURCES for entry in source(environment, cloud)})


def checked(entry: EgressEntry) -> EgressEntry:
    """`entry` once its host passed `check_host`, the one rule for every allowlist entry."""
    try:
        host = check_host(entry.host)
    except ValueError as error:
        raise ValueError(f"the egress allowlist entry of {entry.owner} ({entry.reason}): {error}") from None
    return EgressEntry(host, entry.owner, entry.reason)


def allowed_hosts(environment: Environment, cloud: str) -> list[str]:
    return sorted({entry.host for entry in egress_allowlist(environment, cloud)})


def owners_by_host(entries: Iterable[EgressEntry]) -> dict[str, list[str]]:
    """Host -> `owner (reason)` lines, what the firewall's rule descriptions show."""
    owners: dict[str, list[str]] = {}
    for entry in sorted(entries):
        owners.setdefault(entry.host, []).append(f"{entry.owner} ({entry.reason})")
    return owners


def egress_for(ctx: StackContext, cloud: str) -> EgressFirewall:
    """The network's egress firewall, created once when the first workload needing it is built."""
    return ctx.shared(("egress", cloud), lambda: _build(ctx, cloud, SEAMS[cloud].network(ctx)))


def egress_on(ctx: StackContext, cloud: str, network: NetworkRef) -> EgressFirewall:
    """`egress_for` with the network already known (tests pass a literal network ref)."""
    return ctx.shared(("egress", cloud), lambda: _build(ctx, cloud, network))


def _build(ctx: StackContext, cloud: str, network: NetworkRef) -> EgressFirewall:
    entries = egress_allowlist(ctx.environment, cloud)
    return SEAMS[cloud].egress(ctx, network, sorted({entry.host for entry in entries}), owners_by_host(entries))
