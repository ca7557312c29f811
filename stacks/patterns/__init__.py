"""One builder per pattern: `build(use_case, ctx) -> Endpoint`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stacks.context import Endpoint, StackContext

Builder = Callable[[Any, StackContext], Endpoint]

BUILDERS: dict[str, Builder] = {}

from stacks.patterns import saas as _saas  # noqa: E402  (each pattern registers after BUILDERS exists)

BUILDERS["saas"] = _saas.build
