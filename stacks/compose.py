"""From an environment spec to components: shared networks first, then one component per use case.

Each pattern has a builder in `stacks.patterns` that takes a use case and the stack context and
returns the `Endpoint` the application calls. Shared pieces (a cloud's network, a region's egress
firewall) come from `StackContext.shared`, so they are created once however many use cases use them.
"""

from __future__ import annotations

import pulumi

from triplane.stacks.clouds import SEAMS
from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.patterns import BUILDERS


def compose(ctx: StackContext) -> dict[str, Endpoint]:
    """Register every resource of the environment; return each use case's endpoint."""
    for seam in SEAMS.values():
        seam.prepare(ctx)
    for cloud, seam in SEAMS.items():
        if getattr(ctx.environment.clouds, cloud) is not None:
            seam.network(ctx)
            seam.api_paths(ctx)
    endpoints: dict[str, Endpoint] = {}
    for use_case in ctx.environment.use_cases:
        endpoints[use_case.name] = BUILDERS[use_case.pattern](use_case, ctx)
    return endpoints


def export_endpoints(endpoints: dict[str, Endpoint]) -> None:
    pulumi.export("endpoints", {name: endpoint.as_output() for name, endpoint in endpoints.items()})
