"""One builder per pattern: `build(use_case, ctx) -> Endpoint`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stacks.context import Endpoint, StackContext

Builder = Callable[[Any, StackContext], Endpoint]

BUILDERS: dict[str, Builder] = {}
