"""A broken stack file stops `triplane plan` with one paragraph naming the file and the fix, exit 2.

Each case is a real file on disk run through the real command (click's runner): YAML that does not
parse, a key written twice, no `triplane:environment`, a secret named but not set or set in plain
text, a stack name no cloud accepts, and so on. None may end in a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from triplane.cli import cli

SAAS: dict[str, Any] = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "clouds": {"aws": {"region": "us-east-1",
                       "network": {"new": {"cidr": "10.7.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}}}},
    "use_cases": [{"name": "drafts", "pattern": "saas", "data_classification": "internal", "cloud": "aws",
                   "provider": "openai", "api_key_secret": "openaiKey",
                   "allowed_principals": ["arn:aws:iam::123456789012:role/app"]}],
}  # fmt: skip


def dumped(config: dict[str, object]) -> str:
    return yaml.safe_dump({"config": config}, sort_keys=False)


CASES: dict[str, tuple[str, str, str]] = {
    # case: (file name, text, what the message must say)
    "unparsable YAML": (
        "Pulumi.broken.yaml",
        "config:\n  triplane:environment:\n    owner: [platform-team\n    tier: dev\n",
        "is not valid YAML at line",
    ),
    "tab indentation": (
        "Pulumi.broken.yaml",
        "config:\n\ttriplane:environment: {}\n",
        "is not valid YAML at line 2, column 1",
    ),
    "a key twice": (
        "Pulumi.broken.yaml",
        "config:\n  triplane:environment:\n    owner: a-team\n    owner: b-team\n",
        "the key `owner` appears twice in one mapping (first at line 3)",
    ),
    "empty file": ("Pulumi.broken.yaml", "", "has no `config:` mapping"),
    "config is a list": ("Pulumi.broken.yaml", "config:\n  - triplane:environment\n", "has no `config:` mapping"),
    "no environment": (
        "Pulumi.broken.yaml",
        dumped({"aws:region": "us-east-1"}),
        "no `triplane:environment` setting; add it under `config:`",
    ),
    "environment is a string": (
        "Pulumi.broken.yaml",
        dumped({"triplane:environment": "dev"}),
        "triplane:environment must be a mapping, not str",
    ),
    "environment is encrypted": (
        "Pulumi.broken.yaml",
        dumped({"triplane:environment": {"secure": "v1:abc"}}),
        "triplane:environment is encrypted (`secure:`), so it cannot be read offline",
    ),
    "secret not set": (
        "Pulumi.broken.yaml",
        dumped({"triplane:environment": SAAS}),
        "triplane:environment.use_cases[0].api_key_secret names the secret `triplane:openaiKey`, which is not set; "
        "set it with `pulumi config set --secret triplane:openaiKey -s broken`",
    ),
    "secret in plain text": (
        "Pulumi.broken.yaml",
        dumped({"triplane:environment": SAAS, "triplane:openaiKey": "sk-live-0123456789"}),
        "`triplane:openaiKey` (named by triplane:environment.use_cases[0].api_key_secret) is stored in plain text",
    ),
    "unknown key": (
        "Pulumi.broken.yaml",
        dumped({"triplane:environment": {**SAAS, "use_cases": [{**SAAS["use_cases"][0], "modle": "x"}]}}),
        "triplane:environment.use_cases[0].modle: unknown key",
    ),
    "stack name with capitals": (
        "Pulumi.Prod_EU.yaml",
        dumped({"triplane:environment": SAAS}),
        "the stack name 'Prod_EU' has capitals",
    ),
    "stack name too long": (
        "Pulumi.production-europe-west.yaml",
        dumped({"triplane:environment": SAAS}),
        "the stack name 'production-europe-west' has 22 characters; use 2 to 20",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_stack_file_gives_one_paragraph(case: str, tmp_path: Path) -> None:
    name, text, expected = CASES[case]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.output.startswith(f"error: {path}: "), result.output
    assert result.output.count("\n") == 1, result.output
    assert expected in result.output, result.output
    assert "sk-live-0123456789" not in result.output


def test_a_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.binary.yaml"
    path.write_bytes(b"config:\n  owner: \xff\xfe\x00\n")
    result = CliRunner().invoke(cli, ["plan", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {path}: cannot be read (UnicodeDecodeError"), result.output
    assert result.output.count("\n") == 1


def test_an_unknown_stack_lists_the_known_ones() -> None:
    result = CliRunner().invoke(cli, ["plan", "staging"])
    assert result.exit_code == 2
    assert "Pulumi.staging.yaml: no such stack file; known stacks: dev, local, prod" in result.output
    assert result.output.count("\n") == 1


def test_a_broken_file_registers_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal comes before the program runs: nothing, not even the stack, is registered."""
    import triplane.plan
    from triplane.stackfile import plan_stack
    from triplane.stacks.spec import SpecError

    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text(dumped({"triplane:environment": SAAS}), encoding="utf-8")
    registered: list[str] = []
    original = triplane.plan._RecordingMonitor.RegisterResource

    def spy(self: Any, request: Any) -> Any:
        registered.append(request.type)
        return original(self, request)

    monkeypatch.setattr(triplane.plan._RecordingMonitor, "RegisterResource", spy)
    with pytest.raises(SpecError, match="which is not set"):
        plan_stack(str(path))
    assert registered == []
