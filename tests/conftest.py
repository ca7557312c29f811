"""Shared fixtures: each shipped stack is planned once per test session and reused."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from triplane.plan import Plan  # noqa: E402
from triplane.stackfile import plan_stack  # noqa: E402

SHIPPED_STACKS = ("dev", "prod", "local")


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
