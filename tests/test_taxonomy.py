"""Classifications, patterns, the allowed-patterns table and the required tags exist once."""

from __future__ import annotations

from typing import get_args

from triplane.decide import policy as decide_policy
from triplane.policies import stack as stack_policies
from triplane.policies import taxonomy
from triplane.stacks.spec import DataClassification, Pattern
from triplane.stacks.spec.base import CLASSIFICATION_RANK


def test_the_spec_literals_list_the_taxonomy_in_order() -> None:
    assert get_args(DataClassification) == taxonomy.CLASSIFICATIONS
    assert get_args(Pattern) == taxonomy.PATTERNS
    assert CLASSIFICATION_RANK == {"public": 0, "internal": 1, "confidential": 2, "restricted": 3}


def test_the_policy_default_and_the_advisor_read_one_table() -> None:
    assert decide_policy.ALLOWED is taxonomy.ALLOWED_PATTERNS
    assert stack_policies.ALLOWED_PATTERNS_DEFAULT == {
        "public": ["saas", "cloud-managed", "self-managed"],
        "internal": ["saas", "cloud-managed", "self-managed"],
        "confidential": ["cloud-managed", "self-managed"],
        "restricted": ["self-managed"],
    }
    assert set(taxonomy.ALLOWED_PATTERNS) == set(taxonomy.CLASSIFICATIONS)
    for patterns in taxonomy.ALLOWED_PATTERNS.values():
        assert set(patterns) <= set(taxonomy.PATTERNS)


def test_every_refused_pair_has_a_reason_and_no_allowed_pair_has_one() -> None:
    refused = {
        (classification, pattern)
        for classification in taxonomy.CLASSIFICATIONS
        for pattern in taxonomy.PATTERNS
        if not decide_policy.allowed(classification, pattern)
    }
    assert refused == set(decide_policy.WHY_NOT)
