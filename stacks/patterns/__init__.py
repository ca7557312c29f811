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

Builder = Callable[[Any, StackContext], Endpoint]


@dataclass(frozen=True)
class PatternParts:
    platform: Callable[[Any, StackContext], None]
    """The shared pieces the use case needs (the platform stack's part)."""
    build: Builder
    """The use case's own component and its endpoint (the use-case stack's part)."""


PATTERNS: dict[str, PatternParts] = {}
BUILDERS: dict[str, Builder] = {}
"""Pattern -> its use-case part (the platform part must have run, or the shared pieces be references)."""

from triplane.stacks.patterns import cloud_managed as _cloud_managed  # noqa: E402
from triplane.stacks.patterns import saas as _saas  # noqa: E402  (patterns register after PATTERNS exists)
from triplane.stacks.patterns import self_managed as _self_managed  # noqa: E402

PATTERNS["saas"] = PatternParts(_saas.platform, _saas.build)
PATTERNS["cloud-managed"] = PatternParts(_cloud_managed.platform, _cloud_managed.build)
PATTERNS["self-managed"] = PatternParts(_self_managed.platform, _self_managed.build)
BUILDERS.update({name: parts.build for name, parts in PATTERNS.items()})
