"""The environment: one stack's clouds, networks, clusters and use cases, validated as a whole."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, field_validator, model_validator

from triplane.components.network import layout
from triplane.stacks.spec.base import SpecModel
from triplane.stacks.spec.cloud_managed import CloudManagedSpec
from triplane.stacks.spec.clusters import KubernetesCluster
from triplane.stacks.spec.gateway import AIGateway, host_problem
from triplane.stacks.spec.monitoring import Monitoring
from triplane.stacks.spec.networks import Clouds
from triplane.stacks.spec.saas import SaasUseCase
from triplane.stacks.spec.self_managed import SelfManagedUseCase, check_environment

STACK_NAME = r"[A-Za-z0-9][\w.-]*"
STACK_REFERENCE = rf"(?:{STACK_NAME}/{STACK_NAME}/)?{STACK_NAME}"
"""A stack of this project, or `<org>/<project>/<stack>` (what `pulumi.StackReference` takes)."""

UseCase = Annotated[SaasUseCase | CloudManagedSpec | SelfManagedUseCase, Discriminator("pattern")]


class Environment(SpecModel):
    """The value of the `triplane:environment` stack setting."""

    owner: str = Field(min_length=2, max_length=63, description="Team or address that owns the environment.")
    cost_center: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
    tier: Literal["dev", "staging", "prod"] = Field(
        default="dev", description="`prod` protects stateful resources from deletion unless told otherwise."
    )
    protect_stateful: bool | None = Field(
        default=None, description="Protect keys, vaults, log stores and caches; defaults to true in prod."
    )
    clouds: Clouds = Field(default_factory=Clouds)
    kubernetes: list[KubernetesCluster] = Field(default_factory=list)
    use_cases: list[UseCase] = Field(default_factory=list)
    gateway: AIGateway | None = Field(
        default=None,
        description="The AI gateway: one private OpenAI-compatible endpoint in front of every use case, on one of "
        "the environment's clusters.",
    )
    monitoring: Monitoring | None = Field(
        default=None,
        description="Alerts and dashboards for every use case, on each cloud's own monitoring, and who is told.",
    )
    platform: str | None = Field(
        default=None,
        description="Makes this a use-case stack: the platform stack whose clouds and clusters its use cases "
        "use (`<stack>` of this project, or `<org>/<project>/<stack>`).",
    )
    use_case_stacks: list[str] = Field(
        default_factory=list,
        description="Makes this a platform stack: the use-case stacks (of this project) it builds the shared "
        "pieces for, sized for their use cases.",
    )

    @model_validator(mode="before")
    @classmethod
    def _scraped_when_monitored(cls, value: Any) -> Any:
        """With `monitoring`, a model server left at the default is scraped by a ServiceMonitor: its
        alerts and dashboard read what the cluster's Prometheus scrapes (an explicit choice stays, and
        is refused if it is not scraped)."""
        if not isinstance(value, dict) or not value.get("monitoring") or not isinstance(value.get("use_cases"), list):
            return value
        use_cases = [
            {**u, "monitoring": "service-monitor"}
            if isinstance(u, dict) and u.get("pattern") == "self-managed" and "monitoring" not in u
            else u
            for u in value["use_cases"]
        ]
        return {**value, "use_cases": use_cases}

    @field_validator("platform")
    @classmethod
    def _platform_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(STACK_REFERENCE, value):
            raise ValueError(
                f"{value!r} is not a stack name: write the platform stack's name (`prod-platform`, a stack of "
                "this project) or its full name (`<org>/<project>/<stack>`)"
            )
        return value

    @field_validator("use_case_stacks")
    @classmethod
    def _stack_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(STACK_NAME, name):
                raise ValueError(
                    f"{name!r} is not a stack name of this project: list the use-case stacks' names (`prod-apps`)"
                )
        return value

    @property
    def kind(self) -> str:
        """`platform`, `use-case` or `single` (one stack holding everything)."""
        if self.use_case_stacks:
            return "platform"
        return "use-case" if self.platform is not None else "single"

    @property
    def protects_stateful(self) -> bool:
        return self.tier == "prod" if self.protect_stateful is None else self.protect_stateful

    def cross_checks(self) -> list[str]:
        """Checks a pattern makes across use cases or against the tier, as `field.path: message` lines."""
        from triplane.stacks.spec import cloud_managed, gateway, monitoring, saas
        from triplane.stacks.spec.use_case import rename_problems

        if self.platform is not None:
            return []  # checked with the platform's clouds and clusters (`stacks.stages`)
        return [
            *saas.environment_problems(self),
            *cloud_managed.environment_problems(self),
            *gateway.environment_problems(self),
            *monitoring.environment_problems(self),
            *rename_problems(self),
        ]

    def cluster(self, name: str) -> KubernetesCluster:
        return next(c for c in self.kubernetes if c.name == name)

    @model_validator(mode="after")
    def _consistent(self) -> Environment:
        _unique("use_cases", [u.name for u in self.use_cases])
        _unique("kubernetes", [c.name for c in self.kubernetes])
        if self.gateway is not None and self.kind != "single":
            raise ValueError(
                "gateway: the AI gateway is built in a single stack (its routes, consumer keys and client "
                f"policy are one set per Gateway), and this is a {self.kind} stack; put the gateway and the use "
                "cases behind it in one stack"
            )
        if _stage_problems(self):
            return self
        for i, cluster in enumerate(self.kubernetes):
            if cluster.new is not None and getattr(self.clouds, cluster.new.cloud) is None:
                raise ValueError(
                    f"kubernetes[{i}].new.cloud: {cluster.new.cloud} is not configured; add clouds.{cluster.new.cloud}"
                )
        _one_new_cluster_per_cloud(self.kubernetes)
        _one_place_to_deploy_from(self)
        if self.gateway is not None:
            _gateway_host(self, self.gateway)
        clusters = {c.name for c in self.kubernetes}
        for i, use_case in enumerate(self.use_cases):
            cloud = getattr(use_case, "cloud", None)
            if cloud is not None and getattr(self.clouds, cloud) is None:
                raise ValueError(f"use_cases[{i}].cloud: {cloud} is not configured; add clouds.{cloud}")
            if isinstance(use_case, SelfManagedUseCase) and use_case.cluster not in clusters:
                known = ", ".join(sorted(clusters)) or "none declared"
                raise ValueError(
                    f"use_cases[{i}].cluster: no cluster named {use_case.cluster!r} under `kubernetes` ({known})"
                )
        _no_overlap(self.clouds)
        check_environment(self)
        return self


def _stage_problems(environment: Environment) -> bool:
    """A use-case stack has its use cases alone (its clouds and clusters are the platform's, checked with
    them); a platform stack has no use cases of its own. True: the checks against clouds wait."""
    if environment.platform is not None:
        if environment.use_case_stacks:
            raise ValueError(
                "use_case_stacks: a use-case stack (it names a `platform`) serves no other stacks; "
                "remove one of the two"
            )
        for field in ("clouds", "kubernetes", "monitoring"):
            if field in environment.model_fields_set:
                raise ValueError(
                    f"{field}: a use-case stack uses its platform's ({environment.platform}); move `{field}` "
                    "to the platform stack's file, or remove `platform` to make this a single stack"
                )
        return True
    if environment.use_case_stacks:
        _unique_names("use_case_stacks", environment.use_case_stacks)
        if environment.use_cases:
            raise ValueError(
                "use_cases: a platform stack's use cases live in its use-case stacks (`use_case_stacks`); "
                "move these to one of them, or remove `use_case_stacks` to make this a single stack"
            )
    return False


def _unique_names(field: str, names: list[str]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{field}[{i}]: {name!r} is listed twice")
        seen.add(name)


def _unique(field: str, names: list[str]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{field}[{i}].name: {name!r} is used twice; names must be unique")
        seen.add(name)


def _one_new_cluster_per_cloud(clusters: list[KubernetesCluster]) -> None:
    """A new cluster takes fixed parts of the stack's network (the AKS subnet, the GKE secondary ranges,
    the EKS interface endpoints with private DNS): a second one on the same cloud would collide."""
    first: dict[str, str] = {}
    for i, cluster in enumerate(clusters):
        if cluster.new is None:
            continue
        cloud = cluster.new.cloud
        if cloud in first:
            raise ValueError(
                f"kubernetes[{i}].new.cloud: cluster {first[cloud]!r} already creates the {cloud} cluster of this "
                f"stack's network, and {cluster.name!r} would take the same subnets and endpoints; point its use "
                f"cases at {first[cloud]!r} (it gets a GPU pool per GPU type and capacity), or declare "
                f"{cluster.name!r} under `existing`"
            )
        first[cloud] = cluster.name


def _gateway_host(environment: Environment, gateway: AIGateway) -> None:
    cluster = next((c for c in environment.kubernetes if c.name == gateway.cluster), None)
    if cluster is None:
        known = ", ".join(c.name for c in environment.kubernetes) or "none declared"
        raise ValueError(f"gateway.cluster: no cluster named {gateway.cluster!r} under `kubernetes` ({known})")
    problem = host_problem(cluster)
    if problem is not None:
        raise ValueError(f"gateway.cluster: {problem}")


def _one_place_to_deploy_from(environment: Environment) -> None:
    """One `pulumi up` runs in one place: a stack with a deploy runner reaches every private API from it.

    A runner reaches its own network's cluster; a private cluster in another network is reached only
    over a connection between the networks, which the stack states by listing the runner's subnets in
    that cluster's `deployer.private_cidrs`.
    """
    runners = [(i, c) for i, c in enumerate(environment.kubernetes) if c.new is not None and c.new.deployer.runner]
    if not runners:
        return
    first, cluster = runners[0]
    assert cluster.new is not None
    for i, other in runners[1:]:
        raise ValueError(
            f"kubernetes[{i}].new.deployer.runner: {cluster.name!r} already creates this stack's deploy runner, and "
            f"one `pulumi up` runs in one place; reach {other.name!r} from that runner over a connection between the "
            f"networks (list its subnets in `deployer.private_cidrs`), or move {other.name!r} to a stack of its own"
        )
    settings = getattr(environment.clouds, cluster.new.cloud)
    if settings.network.new is None:
        raise ValueError(
            f"kubernetes[{first}].new.deployer.runner: the runner's only way out is the egress firewall Triplane "
            f"builds in a network it creates, and clouds.{cluster.new.cloud}.network is existing; run a runner of "
            "your own there and list its range in `deployer.private_cidrs`"
        )
    ranges = layout.app_subnets(cluster.new.cloud, settings.network.new.cidr, len(settings.network.new.zones))
    for i, other in enumerate(environment.kubernetes):
        if other is cluster or other.new is None or other.new.api_access != "private":
            continue
        declared = [ipaddress.ip_network(c) for c in other.new.deployer.private_cidrs]
        if not all(any(ipaddress.ip_network(r).subnet_of(d) for d in declared) for r in ranges):  # type: ignore[arg-type]
            raise ValueError(
                f"kubernetes[{i}].new.deployer.private_cidrs: this stack deploys from the runner of {cluster.name!r} "
                f"({', '.join(ranges)}), and {other.name!r}'s API is private; list those ranges if its network is "
                f"connected to the {cluster.new.cloud} network (VPN, peering), or give it a way in that needs no "
                "connection (`api_access: dns-endpoint` on gcp, `authorized-networks`)"
            )


def _no_overlap(clouds: Clouds) -> None:
    """Networks must not overlap: they are peered, routed or VPN'd together sooner or later."""
    blocks: list[tuple[str, ipaddress.IPv4Network]] = []
    for cloud in ("aws", "azure", "gcp"):
        settings = getattr(clouds, cloud)
        if settings is None:
            continue
        network = settings.network
        if network.new is not None:
            blocks.append((f"clouds.{cloud}.network.new.cidr", ipaddress.IPv4Network(network.new.cidr)))
    for i, (field_a, block_a) in enumerate(blocks):
        for field_b, block_b in blocks[i + 1 :]:
            if block_a.overlaps(block_b):
                raise ValueError(
                    f"{field_b}: {block_b} overlaps {block_a} ({field_a}); give each network its own block"
                )
