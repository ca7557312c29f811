"""The private paths to the clouds' own APIs, created once per project or network.

- Google Cloud: every API a planned resource needs is enabled in its project before the resource
  (`components.gcp_apis`), and every Google Cloud network gets the private googleapis path
  (Private Google Access on its subnets, Private Service Connect and the `googleapis.com.` zone),
  whatever patterns use it: workloads read secrets, pull images and call Vertex AI through it.
- AWS: one registry of interface endpoints per VPC (`AwsInterfaceEndpoints`), shared by every
  component that needs one, because two private-DNS endpoints of one service in one VPC conflict.
"""

from __future__ import annotations

from triplane.components.cloud_managed.google_apis_psc import GoogleApisPrivateAccess, GoogleApisPrivateAccessArgs
from triplane.components.gcp_apis import ProjectApis, enable_apis_for_stack
from triplane.components.network.aws_endpoints import AwsInterfaceEndpoints, AwsInterfaceEndpointsArgs
from triplane.components.network.refs import AwsNetworkRef, GcpNetworkRef
from triplane.stacks.context import StackContext
from triplane.stacks.spec.cloud_managed import VertexUseCase


def register_gcp_apis(ctx: StackContext) -> dict[str, ProjectApis]:
    """From here on, every Google Cloud resource waits for the APIs it needs (registered once per stack).

    Returns the project -> `ProjectApis` registry (empty without Google Cloud).
    """
    gcp = ctx.environment.clouds.gcp
    if gcp is None:
        return {}
    project = gcp.project
    return ctx.shared(
        ("gcp-apis", "registry"),
        lambda: enable_apis_for_stack(project, f"{ctx.stack}-gcp-apis", opts=ctx.opts("gcp")),
    )


def _vertex_use_cases(ctx: StackContext) -> list[VertexUseCase]:
    return [u for u in ctx.environment.use_cases if isinstance(u, VertexUseCase)]


def google_apis_for(ctx: StackContext, network: GcpNetworkRef) -> GoogleApisPrivateAccess | None:
    """The network's private googleapis path, or None for an existing network without a known address.

    The bundle is `vpc-sc` when a Vertex use case sets a perimeter (or asks for it), else `all-apis`;
    a network Triplane did not create needs an address: a Vertex use case's `psc_address`, or the
    network's `google_apis_address` (without either, it is assumed to resolve googleapis privately).
    """
    vertex = _vertex_use_cases(ctx)
    target = next((u.vertex_settings.target for u in vertex), "all-apis")
    address = next((u.vertex_settings.psc_address for u in vertex if u.vertex_settings.psc_address), None)
    gcp = ctx.environment.clouds.gcp
    if address is None and gcp is not None and gcp.network.existing is not None:
        address = gcp.network.existing.google_apis_address
    if network.cidr is None and address is None:
        return None
    return ctx.shared(
        ("cloud-managed", "googleapis-psc", "gcp"),
        lambda: GoogleApisPrivateAccess(
            f"{ctx.stack}-googleapis",
            GoogleApisPrivateAccessArgs(network=network, target=target, address=address, tags=ctx.tags()),
            opts=ctx.opts("gcp"),
        ),
    )


def aws_interface_endpoints(ctx: StackContext, network: AwsNetworkRef) -> AwsInterfaceEndpoints:
    """The VPC's one registry of interface endpoints."""
    return ctx.shared(
        ("aws-interface-endpoints", "aws"),
        lambda: AwsInterfaceEndpoints(
            f"{ctx.stack}-aws-endpoints",
            AwsInterfaceEndpointsArgs(network=network, tags=ctx.tags()),
            opts=ctx.opts("aws"),
        ),
    )
