"""Shared fixtures: each shipped stack is planned once per test session and reused."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from triplane.plan import Plan  # noqa: E402
from triplane.stackfile import plan_stack  # noqa: E402

SHIPPED_STACKS = ("dev", "prod", "local")


def without_gateway(environment: dict[str, Any]) -> dict[str, Any]:
    """A shipped environment (a stack file's `triplane:environment`, as read) less its AI gateway and
    the consumers and fallbacks that only a gateway uses: for tests that plan a part of a stack."""
    environment.pop("gateway", None)
    for use_case in environment.get("use_cases", []):
        use_case.pop("consumers", None)
        use_case.pop("fallback", None)
    return environment


@functools.cache
def planned(stack: str) -> Plan:
    return plan_stack(stack)


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return planned("dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return planned("prod")


@pytest.fixture(scope="session")
def local_plan() -> Plan:
    return planned("local")


@pytest.fixture(scope="session", params=SHIPPED_STACKS)
def shipped_plan(request: pytest.FixtureRequest) -> Plan:
    return planned(request.param)
