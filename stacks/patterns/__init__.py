"""One pattern per use-case kind, in two parts.

`platform(use_case, ctx)` builds (once, through `StackContext.shared`) what the use case shares with
others: networks' egress firewalls, private paths, clusters, GPU pools, per-account settings. It runs
in a platform stack, or in a single stack. `build(use_case, ctx) -> Endpoint` builds the use case's
own component and takes the shared pieces through the same accessors, so in a use-case stack, where
they are references to the platform stack's outputs, it runs unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from triplane.stacks.context import Endpoint, StackContext
from triplane.stacks.patterns import cloud_managed, saas, self_managed


@dataclass(frozen=True)
class PatternParts:
    platform: Callable[[Any, StackContext], None]
    """The shared pieces the use case needs (the platform stack's part)."""
    build: Callable[[Any, StackContext], Endpoint]
    """The use case's own component and its endpoint (the use-case stack's part; the platform part must
    have run, or the shared pieces be references)."""


PATTERNS: dict[str, PatternParts] = {
    "saas": PatternParts(saas.platform, saas.build),
    "cloud-managed": PatternParts(cloud_managed.platform, cloud_managed.build),
    "self-managed": PatternParts(self_managed.platform, self_managed.build),
}
