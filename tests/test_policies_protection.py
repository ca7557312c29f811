"""`stateful-resources-protected` follows the environment's tier, not the stack's name."""

from __future__ import annotations

import json
from typing import Any

from triplane.policies.common import Res, checking_stack
from triplane.policies.stack import PROTECTED_TYPES_DEFAULT, _stateful_protected

CONFIG: dict[str, Any] = {"protectedStacks": ["prod", "production"], "statefulTypes": PROTECTED_TYPES_DEFAULT}
VAULT = Res(type="azure-native:keyvault:Vault", name="live-vault", urn="urn:pulumi:live::triplane::v::live-vault",
            props={}, protect=False)


def findings(stack: str, environment: dict[str, Any], vault: Res = VAULT) -> list[str]:
    with checking_stack(stack, {"triplane:environment": json.dumps(environment)}):
        return list(_stateful_protected(vault, CONFIG))


def test_a_prod_tier_under_another_stack_name_must_protect_even_when_it_opts_out() -> None:
    [message] = findings("live", {"tier": "prod", "protect_stateful": False})
    assert "its tier is prod" in message and "protect=True" in message


def test_protect_stateful_in_a_dev_tier_is_held_to_it() -> None:
    [message] = findings("staging", {"tier": "staging", "protect_stateful": True})
    assert "it sets protect_stateful" in message


def test_a_stack_the_config_names_is_protected_whatever_its_tier() -> None:
    [message] = findings("production", {"tier": "dev"})
    assert "the policy config names it" in message


def test_unprotected_dev_and_protected_prod_pass() -> None:
    assert findings("dev", {"tier": "dev"}) == []
    protected = Res(type=VAULT.type, name=VAULT.name, urn=VAULT.urn, props={}, protect=True)
    assert findings("live", {"tier": "prod"}, protected) == []
