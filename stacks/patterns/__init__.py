"""One builder per pattern: `build(use_case, ctx) -> Endpoint`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from triplane.stacks.context import Endpoint, StackContext

Builder = Callable[[Any, StackContext], Endpoint]

BUILDERS: dict[str, Builder] = {}

from triplane.stacks.patterns.saas import build as _build_saas  # noqa: E402  (patterns register after BUILDERS exists)

BUILDERS["saas"] = _build_saas

from triplane.stacks.patterns import cloud_managed as _cloud_managed  # noqa: E402

BUILDERS["cloud-managed"] = _cloud_managed.build

from triplane.stacks.patterns import self_managed as _self_managed  # noqa: E402

BUILDERS["self-managed"] = _self_managed.build
