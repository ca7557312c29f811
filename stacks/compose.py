"""From an environment spec to components: the platform's shared pieces, then each use case's own.

Each pattern (`stacks.patterns`) has a platform part, which builds what a use case shares with
others through `StackContext.shared` (created once however many use cases use them), and a use-case
part, which builds the use case's own component and returns the `Endpoint` the application calls.
A single stack runs both, use case by use case; a platform stack runs the platform parts of every
use case it serves; a use-case stack runs the use-case parts on references to the platform's pieces.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from triplane.stacks.clouds import SEAMS
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.patterns import PATTERNS


def prepare_use_cases(ctx: StackContext) -> None:
    """What must be in place before any cloud resource of the stack (Google Cloud: its API registry)."""
    for seam in SEAMS.values():
        seam.prepare(ctx)


def compose_networks(ctx: StackContext) -> None:
    """What every cloud of the environment gets, whatever its use cases: its network and API paths."""
    prepare_use_cases(ctx)
    for cloud, seam in SEAMS.items():
        if getattr(ctx.environment.clouds, cloud) is not None:
            seam.network(ctx)
            seam.api_paths(ctx)


def compose(ctx: StackContext) -> dict[str, Endpoint]:
    """Register every resource of a single stack; return each use case's endpoint."""
    compose_networks(ctx)
    if ctx.environment.monitoring is not None:
        from triplane.stacks import observability  # the monitoring components load only when there is some

        observability.channels(ctx, [ctx.stack])  # before the clusters, whose managed Prometheus notifies them
    endpoints: dict[str, Endpoint] = {}
    for use_case in ctx.environment.use_cases:
        parts = PATTERNS[use_case.pattern]
        parts.platform(use_case, ctx)
        endpoints[use_case.name] = parts.build(use_case, ctx)
    if ctx.environment.monitoring is not None:
        observability.observe(ctx, endpoints)
    if ctx.environment.gateway is not None:
        from triplane.stacks.gateway import front  # the gateway's components load only when there is one

        endpoints = front(ctx, endpoints)
    return endpoints


def compose_platform(ctx: StackContext, serves: Sequence[str]) -> None:
    """Register a platform stack's resources: the shared pieces of every use case of the stacks it serves
    (`serves`), and the alert channels their alerts notify."""
    compose_networks(ctx)
    if ctx.environment.monitoring is not None:
        from triplane.stacks import observability

        observability.channels(ctx, serves)  # before the clusters, whose managed Prometheus notifies them
    for use_case in ctx.environment.use_cases:
        PATTERNS[use_case.pattern].platform(use_case, ctx)


def compose_use_cases(ctx: StackContext) -> dict[str, Endpoint]:
    """Register a use-case stack's own components (its context holds the platform's references), and
    their alerts on the platform's channels."""
    endpoints = {u.name: PATTERNS[u.pattern].build(u, ctx) for u in ctx.environment.use_cases}
    if ctx.environment.monitoring is not None:
        from triplane.stacks import observability

        observability.observe(ctx, endpoints)
    return endpoints


def export_endpoints(endpoints: dict[str, Endpoint]) -> None:
    pulumi.export("endpoints", {name: endpoint.as_output() for name, endpoint in endpoints.items()})
