"""Every security claim in README.md names the tests that hold it, and every test it names exists.

The README's "Security claims and the tests that hold them" table maps each claim to pytest node ids
(`tests/<file>.py::<test>`, `tests/<file>.py::<Class>::<test>`, optionally with a `[case]` written in
the file). A renamed or deleted test breaks this test, so a claim never points at nothing. Found by
reading the test files' syntax trees: nothing is imported or run.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SECTION = "## Security claims and the tests that hold them"
NODE_ID = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)+)(\[[^\]`]+\])?`")
TEST_FILE = re.compile(r"`(tests/[\w/*]+\.py)`")


@functools.cache
def node_ids(path: str) -> frozenset[str]:
    """The node ids pytest would collect from a test file: `name` and `Class::name`, without parameters."""
    tree = ast.parse((ROOT / path).read_text(), filename=path)
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            found.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test"):
                    found.add(f"{node.name}::{item.name}")
    return frozenset(found)


@functools.cache
def strings_in(path: str) -> frozenset[str]:
    """The string constants of a test file: where the values of its parametrized cases are written."""
    tree = ast.parse((ROOT / path).read_text(), filename=path)
    return frozenset(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def missing(text: str) -> list[str]:
    """Each node id in `text` that names no test (a file that is not there, or no such function in it)."""
    problems = []
    for match in NODE_ID.finditer(text):
        path, names = match.group(1), match.group(2).removeprefix("::")
        if not (ROOT / path).is_file():
            problems.append(f"{match.group(0)}: no file {path}")
        elif names not in node_ids(path):
            problems.append(f"{match.group(0)}: {path} has no test {names}")
        elif match.group(3) and match.group(3)[1:-1] not in strings_in(path):
            problems.append(f"{match.group(0)}: {path} writes no case {match.group(3)[1:-1]!r}")
    return problems


def claims_table(text: str) -> list[tuple[str, str]]:
    """The (claim, held by) rows of the section's table."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|") or set(line) <= {"|", "-", " ", ":"}:
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 2, f"a row of the claims table has {len(cells)} cells, not 2: {line}"
        rows.append((cells[0], cells[1]))
    assert rows and rows[0] == ("claim", "held by"), "the claims table starts with the header `claim | held by`"
    return rows[1:]


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text()


def test_every_claim_names_at_least_one_test(readme: str) -> None:
    rows = claims_table(readme)
    assert len(rows) >= 25
    for claim, held_by in rows:
        assert claim, f"a row names tests but no claim: {held_by}"
        assert NODE_ID.search(held_by), f"claim {claim!r} names no test"
        # Everything in the cell is a node id: a typo in one cannot hide as plain text.
        leftover = NODE_ID.sub("", held_by).replace(",", "").strip()
        assert leftover == "", f"claim {claim!r}: {leftover!r} is not a test node id"


def test_every_test_the_readme_names_exists(readme: str) -> None:
    assert len(list(NODE_ID.finditer(readme))) >= 50
    assert missing(readme) == []


def test_every_test_file_the_readme_names_exists(readme: str) -> None:
    for match in TEST_FILE.finditer(readme):
        pattern = match.group(1)
        assert list(ROOT.glob(pattern)), f"README names {pattern}, which matches no file"


def test_a_renamed_or_deleted_test_is_caught() -> None:
    assert missing("`tests/test_readme_claims.py::test_a_renamed_or_deleted_test_is_caught`") == []
    assert (
        missing(
            "`tests/test_cloud_managed_aws.py::TestEndpoints::test_url_is_the_private_dns_name_of_the_runtime`"
            " `tests/test_policies_rules.py::test_policy_fires_on_bad_resource[k8s-run-as-non-root]`"
        )
        == []
    )
    assert missing("`tests/test_readme_claims.py::test_that_was_renamed`") == [
        "`tests/test_readme_claims.py::test_that_was_renamed`: tests/test_readme_claims.py has no test "
        "test_that_was_renamed"
    ]
    unknown_case = "`tests/test_policies_rules.py::test_policy_fires_on_bad_resource[k8s-run-as-root]`"
    assert missing(unknown_case) == [f"{unknown_case}: tests/test_policies_rules.py writes no case 'k8s-run-as-root'"]
    assert missing("`tests/test_gone.py::test_x`") == ["`tests/test_gone.py::test_x`: no file tests/test_gone.py"]
    # A method is named through its class; a helper that pytest would not collect is no test.
    assert missing("`tests/test_cloud_managed_aws.py::test_url_is_the_private_dns_name_of_the_runtime`")
    assert missing("`tests/test_readme_claims.py::missing`")
