"""Bad input, generated: every spec ends in a plan or one clear SpecError, never a traceback.

Hypothesis draws valid environments (which must validate: a refusal there is a false positive) and
valid environments broken in one place (which must be refused when the break is fatal, always with
one paragraph naming the field). A sample of small valid environments is planned end to end; a
refusal raised while the program runs must come before any resource but the providers.
Examples are derandomized and no example database is kept, so every run (and CI) sees the same.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability_specs import MUTATIONS, Mutation, broken, environments, secrets_of
from tests.reliability_support import plan_recorded, write_stack
from triplane.plan import STACK_TYPE
from triplane.stackfile import load_stack
from triplane.stacks.spec import Environment, SpecError, validate_environment

SOURCE = "stacks/Pulumi.hyp.yaml"
ROOT = "triplane:environment"
PROBLEM = re.compile(r"^(?:no `)?(triplane:environment(?:[.\[][^:\s`]*)?)(?::| must|`)")

FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PLANNED = settings(FAST, max_examples=10)


def problem_paths(error: SpecError) -> list[str]:
    paths = []
    for problem in error.problems:
        match = PROBLEM.match(problem)
        assert match, f"a problem must start with the field it is about: {problem!r}"
        paths.append(match.group(1).removeprefix(ROOT).lstrip("."))
    return paths


def related(found: str, mutated: str) -> bool:
    """One path is the other, or an ancestor of it (a union or model validator reports at its parent)."""
    if not found or not mutated:
        return True
    for shorter, longer in ((found, mutated), (mutated, found)):
        if longer == shorter or longer.startswith(shorter + ".") or longer.startswith(shorter + "["):
            return True
    return False


def assert_one_paragraph(error: SpecError, source: str = SOURCE) -> str:
    text = str(error)
    assert "\n" not in text and "\r" not in text, text
    assert text.startswith(f"{source}: "), text
    assert "Traceback" not in text
    # Long inputs are not echoed back in full: a refusal stays readable.
    assert len(text) < 1500 * max(1, len(error.problems)), text[:300]
    return text


def check_refusal(error: SpecError, mutation: Mutation, spec: dict[str, Any]) -> None:
    text = assert_one_paragraph(error)
    found = problem_paths(error)
    key = str(mutation.path[-1]) if mutation.path else ""
    assert any(related(path, mutation.dotted) for path in found) or (key and key in text), (
        f"{mutation.kind} at {mutation.dotted} was refused, but the message names {found}: {text}"
    )


@FAST
@given(environments())
def test_generated_environments_validate(spec: dict[str, Any]) -> None:
    environment = validate_environment(spec, SOURCE)
    assert isinstance(environment, Environment)
    assert [u.name for u in environment.use_cases] == [u["name"] for u in spec["use_cases"]]


@pytest.mark.parametrize("kind", MUTATIONS)
@settings(FAST, max_examples=30)
@given(data=st.data())
def test_broken_environments_end_in_a_clear_refusal(kind: str, data: st.DataObject) -> None:
    spec, mutation = data.draw(broken(kind))
    value = spec["value"] if mutation.kind == "root" else spec
    try:
        validate_environment(value, SOURCE)
    except SpecError as error:
        check_refusal(error, mutation, spec)
    else:
        assert not mutation.must_fail, f"{mutation.kind} at {mutation.dotted} was accepted"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@FAST
@given(json_values)
def test_any_value_at_all_ends_in_a_refusal(value: Any) -> None:
    with pytest.raises(SpecError) as caught:
        validate_environment(value, SOURCE)
    assert_one_paragraph(caught.value)


@FAST
@given(st.dictionaries(st.sampled_from(["owner", "cost_center", "tier", "clouds", "kubernetes", "use_cases",
                                        "protect_stateful"]), json_values, max_size=7))  # fmt: skip
def test_right_keys_wrong_values_end_in_a_refusal_or_an_environment(value: dict[str, Any]) -> None:
    try:
        validate_environment(value, SOURCE)
    except SpecError as error:
        assert_one_paragraph(error)


YAML_PIECES = st.sampled_from(
    ["config:", "\n", "  ", "\t", "triplane:environment:", " owner: a", "- ", "[", "]", "{", "}", ": ", "'", '"',
     "&a ", "*a", "!!python/object:os.system ", "secure: x", "---\n", "use_cases:", "# c", "\u00e9", "\x00"]
)  # fmt: skip


@FAST
@given(st.lists(YAML_PIECES | st.text(max_size=8), max_size=30).map("".join))
def test_any_stack_file_text_ends_in_a_refusal_or_an_environment(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "Pulumi.hyp.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_stack(str(path)).environment()
        except SpecError as error:
            assert_one_paragraph(error, source=str(path))


# --- planned end to end -----------------------------------------------------------------------------


def plan_in(directory: Path, spec: dict[str, Any], extra_secrets: tuple[str, ...] = ()) -> Any:
    config: dict[str, Any] = {ROOT: spec}
    for key in (*secrets_of(spec), *extra_secrets):
        config[key] = {"secure": "v1:placeholder"}
    path = write_stack(directory, "hyp", {"config": config})
    return plan_recorded(str(path))


@PLANNED
@given(environments(max_use_cases=2, max_clouds=1))
def test_small_valid_environments_plan_whole(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        try:
            plan, _ = plan_in(Path(directory), spec)
        except (SpecError, pulumi.RunError) as error:
            recorded = getattr(error, "recorded")  # noqa: B009 (set on the exception by plan_recorded)
            assert recorded.beyond_providers() == [], f"refused after creating {recorded.beyond_providers()}: {error}"
            raise AssertionError(f"a valid environment was refused while planning: {error}") from None
    endpoints = plan.outputs["endpoints"]
    assert sorted(endpoints) == sorted(u["name"] for u in spec["use_cases"])
    assert [r.type for r in plan.resources if r.parent is None] == [STACK_TYPE]


def test_a_secret_set_in_plain_text_is_refused_before_the_program_runs(tmp_path: Path) -> None:
    spec = {
        "owner": "platform-team",
        "cost_center": "cc-1",
        "clouds": {"aws": {"region": "us-east-1",
                           "network": {"new": {"cidr": "10.7.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}}}},
        "use_cases": [{"name": "drafts", "pattern": "saas", "data_classification": "internal", "cloud": "aws",
                       "provider": "openai", "api_key_secret": "openaiKey",
                       "allowed_principals": ["arn:aws:iam::123456789012:role/app"]}],
    }  # fmt: skip
    path = write_stack(tmp_path, "hyp", {"config": {ROOT: spec, "triplane:openaiKey": "sk-plain-0000"}})
    with pytest.raises(SpecError) as caught:
        plan_recorded(str(path))
    text = str(caught.value)
    assert "is stored in plain text" in text and "sk-plain-0000" not in text
    assert not hasattr(caught.value, "recorded"), "refused by the program, not before it"
