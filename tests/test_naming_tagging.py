"""Names fit every cloud's rule deterministically; tags and labels come from one place."""

from __future__ import annotations

import re

import pytest

from triplane.components.naming import RULES, physical_name
from triplane.components.tagging import REQUIRED_TAGS, gcp_labels, k8s_labels, standard_tags


def test_short_names_are_kept_as_written() -> None:
    assert physical_name("prod", "hr-assistant", "kv", kind="key_vault") == "prod-hr-assistant-kv"
    assert physical_name("dev", "rag", "psc", kind="gcp_psc") == "devragpsc"


def test_long_names_are_cut_with_a_stable_hash() -> None:
    name = physical_name("prod", "customer-support-assistant", "kv", kind="key_vault")
    assert name == "prod-customer-sup-b4e937"
    assert len(name) == 24
    assert physical_name("prod", "customer-support-assistant", "kv", kind="key_vault") == name
    other = physical_name("prod", "customer-support-assistane", "kv", kind="key_vault")
    assert other != name and other.startswith("prod-customer-sup-")


def test_characters_outside_the_rule_are_replaced() -> None:
    assert physical_name("Dev", "x_y", kind="s3_bucket") == "dev-x-y"
    assert physical_name("dev", "a", "b", kind="azure_storage") == "devab"


def test_names_that_must_start_with_a_letter_do() -> None:
    assert physical_name("9lives", kind="gcp").startswith("t9lives")


@pytest.mark.parametrize("kind", sorted(RULES))
@pytest.mark.parametrize(
    "parts", [("dev", "x"), ("production", "a-very-long-use-case-name", "component-role-suffix" * 4)]
)
def test_every_rule_holds_for_short_and_long_names(kind: str, parts: tuple[str, ...]) -> None:
    rule = RULES[kind]
    name = physical_name(*parts, kind=kind)
    assert rule.min_length <= len(name) <= rule.max_length
    allowed = "a-z0-9" if rule.lowercase else "a-zA-Z0-9"
    assert re.fullmatch(f"[{rule.first}][{allowed}{re.escape(rule.separators)}]*", name), name


def test_standard_tags_carry_every_required_key() -> None:
    tags = standard_tags(
        environment="prod",
        owner="platform-team",
        cost_center="cc-4200",
        use_case="hr-assistant",
        data_classification="confidential",
        pattern="cloud-managed",
    )
    assert set(REQUIRED_TAGS) <= set(tags)
    assert tags["use-case"] == "hr-assistant"
    assert tags["managed-by"] == "triplane"


def test_shared_resources_are_tagged_shared() -> None:
    tags = standard_tags(environment="dev", owner="o", cost_center="c")
    assert tags["use-case"] == tags["pattern"] == tags["data-classification"] == "shared"


def test_gcp_labels_are_normalised() -> None:
    labels = gcp_labels({"Owner": "Platform Team@Acme", "cost-center": "CC.4200"})
    assert labels == {"owner": "platform_team_acme", "cost-center": "cc_4200"}


def test_k8s_labels_are_prefixed_and_valid() -> None:
    labels = k8s_labels({"owner": "platform team", "use-case": "hr-assistant"})
    assert labels == {"triplane.io/owner": "platform_team", "triplane.io/use-case": "hr-assistant"}
