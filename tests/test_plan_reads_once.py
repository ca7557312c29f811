"""`triplane plan` reads the stack file once and validates the environment once, then plans that."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from triplane import stackfile
from triplane.cli import cli
from triplane.stacks import program
from triplane.stacks.spec import SpecError


def counting(calls: Counter[str], name: str, function: Any) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return function(*args, **kwargs)

    return counted


@pytest.mark.parametrize("command", [["plan", "local", "--quiet", "--json", "{out}"], ["check", "local", "--json"]])
def test_each_command_parses_and_validates_the_stack_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    calls: Counter[str] = Counter()
    monkeypatch.setattr(stackfile, "read_yaml", counting(calls, "read", stackfile.read_yaml))
    monkeypatch.setattr(stackfile, "validate_environment", counting(calls, "validate", stackfile.validate_environment))
    monkeypatch.setattr(program, "validate_environment", counting(calls, "validate", program.validate_environment))
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(cli, [part.format(out=out) for part in command])
    assert result.exit_code == 0, result.output
    assert calls == Counter({"read": 1, "validate": 1})
    assert '"endpoints"' in out.read_text() if command[0] == "plan" else '"resources": 18' in result.output


def test_the_program_still_validates_what_it_reads_under_pulumi_up() -> None:
    """Without an environment handed in (as `pulumi up` runs it), the program reads and checks its config."""
    from triplane.plan import run_program

    document = yaml.safe_load(stackfile.resolve("local")[1].read_text())
    environment = document["config"]["triplane:environment"]
    environment["use_cases"][0]["name"] = "Bad_Name"
    with pytest.raises(Exception, match="Bad_Name"):
        run_program(program.main, stack="local", config={"triplane:environment": environment})


def test_a_plan_of_a_file_checks_its_secrets_first(tmp_path: Path) -> None:
    document = yaml.safe_load(stackfile.resolve("dev")[1].read_text())
    document["config"] = {k: v for k, v in document["config"].items() if not isinstance(v, dict) or "secure" not in v}
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    loaded = stackfile.load_stack(str(path))
    with pytest.raises(SpecError) as caught:
        stackfile.plan_file(loaded, loaded.environment())
    assert "which is not set; set it with `pulumi config set --secret triplane:" in str(caught.value)
    assert str(caught.value).startswith(loaded.source)
