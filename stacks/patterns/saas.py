"""The SaaS pattern: a use case calls an external AI API through its cloud's shared egress firewall.

Each cloud network gets ONE egress firewall (AWS Network Firewall, Azure Firewall, GCP Secure Web
Proxy), created when the first workload of that cloud needing it is built; its allowlist
(`stacks.egress`) is the sorted, de-duplicated union of every SaaS use case's hosts and every
other entry of that network, so the order in which use cases are built never changes it.

The firewall works by owning the network's egress routes, which Triplane can only do in a network
it creates. A SaaS use case on a cloud whose network is `existing` is therefore a spec error: the
key would be stored, but nothing would stop the workload from sending it anywhere, and Triplane
will not claim an egress allowlist it does not enforce. `environment_problems` reports this before
anything is registered; `build` refuses too, should it be reached anyway.
"""

from __future__ import annotations

from triplane.components.saas.saas_egress import SaasEgress, SaasEgressArgs
from triplane.stacks.clouds import SEAMS, NetworkRef
from triplane.stacks.clouds.aws import SAAS_ENDPOINTS as AWS_SAAS_ENDPOINTS
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.egress import allowed_hosts, egress_on, saas_use_cases
from triplane.stacks.secrets import require_secret
from triplane.stacks.spec import SaasUseCase

PATTERN = "saas"
__all__ = ["AWS_SAAS_ENDPOINTS", "PATTERN", "allowed_hosts", "build", "build_on", "platform", "saas_use_cases"]


def platform(use_case: SaasUseCase, ctx: StackContext) -> None:
    """The network, its egress firewall (allowing every SaaS use case's hosts) and the key stores' paths."""
    seam = SEAMS[use_case.cloud]
    network = seam.network(ctx)
    egress_on(ctx, use_case.cloud, network)
    seam.saas_paths(ctx, network)


def build(use_case: SaasUseCase, ctx: StackContext) -> Endpoint:
    return build_on(use_case, ctx, SEAMS[use_case.cloud].network(ctx))


def build_on(use_case: SaasUseCase, ctx: StackContext, network: NetworkRef) -> Endpoint:
    """`build` with the network already known (tests pass a literal network ref)."""
    cloud = use_case.cloud
    seam = SEAMS[cloud]
    egress = egress_on(ctx, cloud, network)
    store = seam.key_store(ctx, use_case, network)
    component = SaasEgress(
        ctx.prefix(use_case),
        SaasEgressArgs(
            base_url=use_case.base_url,
            hosts=use_case.hosts,
            api_key=require_secret(use_case.api_key_secret),
            network=network,
            egress=egress,
            allowed_principals=list(use_case.allowed_principals),
            external_rotation=use_case.key_rotation == "external",
            tags=ctx.tags(use_case),
            protect_data=ctx.protect_data,
            key_store=store,
        ),
        opts=ctx.component_opts(cloud, use_case),
    )
    return Endpoint(
        pattern=PATTERN,
        url=component.base_url,
        auth="api-key",
        identity=component.workload_identity,
        secret_ref=component.secret_ref,
        logs=seam.egress_logs(egress),
        egress_ips=component.egress_ips,
        proxy=component.proxy,
    )
