"""One network per cloud: created by Triplane or referenced if it exists, decided by the cloud's seam."""

from __future__ import annotations

from triplane.stacks.clouds import SEAMS, NetworkRef
from triplane.stacks.context import StackContext

__all__ = ["NetworkRef", "network_for"]


def network_for(ctx: StackContext, cloud: str) -> NetworkRef:
    """The environment's network in `cloud`, created on first use and shared afterwards."""
    if cloud not in SEAMS:
        raise ValueError(f"clouds.{cloud} is not configured")
    return SEAMS[cloud].network(ctx)
