"""Every fenced block of README.md, policies/README.md and benchmarks/README.md is run or validated.

Each block is preceded, on one of the two lines before its opening fence, by a marker saying how it
is checked; a block without a known marker fails, naming its file and line:

- `<!-- ci:install -->`, `<!-- ci:test -->`, `<!-- ci:adoption -->`: commands `.ci/run` (or
  `.ci/adoption`, which it calls) reads from README.md and executes on a clean clone; here, only that
  one of them reads that marker.
- `<!-- example: run -->`: shell commands. `triplane ...` runs in-process (click's CliRunner) and must
  exit 0 (`exit=N`, or `exit=N,M,...` per command in order, for another status); `pulumi ...` cannot
  run here, so its subcommand and flags must be in PULUMI_COMMANDS, its `-s` stack must ship, its
  `--policy-pack` folder hold PulumiPolicy.yaml, its `--policy-pack-config` be a valid policy config,
  and `config set --secret triplane:<key>` name a secret a shipped stack refers to; `python -m <module>`
  must find the module, and every flag it is given must be in its `--help`; `cd <folder>` moves the
  next commands into a folder an earlier one made. Any other program fails: put it in a `ci:` block.
- `<!-- example: output -->`: a console transcript, `$ <command>` then what it prints. The command is
  checked as in `run` and what it prints must be what is shown: trailing whitespace and trailing blank
  lines do not count, a line `...` stands for any number of printed lines, `<64 hex digits>` for a
  digest, and everything else is exact, at a terminal COLUMNS wide (`columns=N` to change).
  `triplane pin` needs the registries: it runs with `triplane.pin.resolve` answering a digest of its
  own and the OCI index media type, so all but the network is the real command.
- `<!-- example: stack-file -->`: a whole stack file; its `triplane:environment` must validate.
- `<!-- example: spec-fragment <stack> [<place>] -->`: YAML laid over the shipped stack's environment at
  `<place>` (e.g. `kubernetes[0]`; default the whole value), mappings key by key and lists item by
  item, and validated, so a misspelled or misplaced key fails.
- `<!-- example: plan-json <stack> -->`: an excerpt of `triplane plan <stack> --json` (rules in
  `readme_examples.json_mismatch`: every key shown exists, with a value that fits).
- `<!-- example: policy-config [<file>] -->`: a `--policy-pack-config` file: every policy it names
  exists and its settings pass the policy's schema. With `<file>`, commands of the same README that
  name `<file>` read this block.
- `<!-- example: file <path> -->`: the whole of a repository file, which tests of its own run or
  validate (e.g. the Pulumi YAML program `tests/test_component_package.py` checks against the schema).
- `<!-- example: paths -->`: a layout listing; the path starting each entry exists, and every file or
  folder its description names exists in that folder (or from the root).

Commands run in a scratch directory that links every top-level entry of the repository, so relative
inputs read the repository and outputs (`--json`, `--k8s-out`, `diagrams/`) land in the scratch
directory; a command that writes into the repository fails. Stacks a transcript names that the
repository does not ship are staged from a shipped one with one edit (STAGED_STACKS). Each shipped
stack is planned once per session (conftest's `planned`). To add a kind, add a function to CHECKS.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import SHIPPED_STACKS, planned
from readme_examples import (
    MARKER_REACH,
    README_FILES,
    ROOT,
    Block,
    Command,
    all_blocks,
    json_mismatch,
    merged_at,
    orphan_markers,
    output_mismatch,
    shell_commands,
    transcript,
)

import triplane.pin
import triplane.stackfile
from triplane.cli import cli
from triplane.policies.packs import NAME, POLICIES
from triplane.policy_config import load_policy_config, reconcile
from triplane.stacks.secrets import secret_fields
from triplane.stacks.spec import validate_environment
from triplane.stacks.spec.errors import ENVIRONMENT_KEY

BLOCKS = all_blocks()
COLUMNS = 160
"""The terminal width transcripts are shown at (rich lays its tables out to it)."""

STAGED_STACKS: dict[str, tuple[str, str, Any]] = {
    "broken": ("dev", "use_cases[2].gpus", 1),
}
"""Stacks a transcript names: (shipped stack, key set in its environment, value)."""

PULUMI_COMMANDS: dict[tuple[str, ...], tuple[set[str], set[str]]] = {
    ("login",): ({"--local"}, set()),
    ("stack", "select"): ({"--create", "-c"}, {"-s", "--stack"}),
    ("stack", "init"): (set(), {"-s", "--stack"}),
    ("config", "set"): ({"--secret", "--plaintext"}, {"-s", "--stack"}),
    ("preview",): (set(), {"-s", "--stack", "--policy-pack", "--policy-pack-config"}),
    ("up",): ({"--yes", "-y"}, {"-s", "--stack", "--policy-pack", "--policy-pack-config"}),
    ("policy", "publish"): (set(), set()),
    ("state", "unprotect"): ({"--all", "--yes", "-y"}, {"-s", "--stack"}),
}
"""The Pulumi CLI subcommands examples may use: (flags, options taking a value), from its reference."""

MARKER_ARGS = {"spec-fragment": (1, 2), "plan-json": (1, 1), "policy-config": (0, 1), "file": (1, 1)}
"""Arguments a kind of marker takes (fewest, most); the others take none."""
MARKER_OPTIONS = {"run": {"exit"}, "output": {"exit", "columns"}}
"""`name=value` options a kind of marker takes; the others take none."""

STACK_FILE_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}
"""The top-level keys of a Pulumi stack settings file."""

REGISTRY_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", ".venv-oldest"}


def block_id(block: Block) -> str:
    return f"{block.where}:{block.marker.kind if block.marker else 'unmarked'}"


# --- the markers -------------------------------------------------------------------------------------


def test_every_block_has_a_known_marker() -> None:
    problems = [
        f"{block.where}: a ```{block.info} block needs a marker on one of the two lines above it "
        f"(<!-- example: {' | '.join(CHECKS)} -->, or <!-- ci:<name> --> for .ci/run)"
        for block in BLOCKS
        if block.marker is None
    ]
    for block in BLOCKS:
        marker = block.marker
        if marker is None or marker.kind.startswith("ci:"):
            continue
        if marker.kind not in CHECKS:
            problems.append(f"{block.where}: unknown marker {marker.kind!r}; known: {', '.join(CHECKS)}, ci:<name>")
            continue
        fewest, most = MARKER_ARGS.get(marker.kind, (0, 0))
        if not fewest <= len(marker.args) <= most:
            problems.append(f"{block.where}: {marker.kind} takes {fewest} to {most} arguments, not {marker.args}")
        if unknown := set(marker.options) - MARKER_OPTIONS.get(marker.kind, set()):
            problems.append(f"{block.where}: {marker.kind} has no option {', '.join(sorted(unknown))}")
        for name, value in marker.options.items():
            if not re.fullmatch(r"\d+(?:,\d+)*" if name == "exit" else r"\d+", value):
                problems.append(f"{block.where}: {name}={value} is not a number")
    assert not problems, "\n".join(problems)


def test_every_marker_is_on_a_block() -> None:
    problems = [f"{file}:{line}: a marker with no fenced block on the next {MARKER_REACH} lines"
                for file in README_FILES for line in orphan_markers(file)]
    assert not problems, "\n".join(problems)


def test_the_readme_files_have_blocks() -> None:
    for file in README_FILES:
        assert any(block.file == file for block in BLOCKS), f"{file}: no fenced block found"


# --- running commands --------------------------------------------------------------------------------


def repository_files() -> set[Path]:
    found = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        found.update(Path(folder, f) for f in files if not f.endswith(".pyc"))
    return found


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch directory that reads as the repository root; commands run in it."""
    for entry in ROOT.iterdir():
        if entry.name not in SKIP_DIRS:
            (tmp_path / entry.name).symlink_to(entry)
    monkeypatch.chdir(tmp_path)
    before = repository_files()
    yield tmp_path
    written = sorted(str(p.relative_to(ROOT)) for p in repository_files() - before)
    assert not written, f"an example wrote into the repository: {written}"


@contextlib.contextmanager
def shipped_plans_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`plan_file` answers a shipped, unchanged stack with the session's plan of it."""
    real = triplane.stackfile.plan_file
    busy = []

    def plan_file(stack_file: triplane.stackfile.StackFile, environment: Any, platform_plan: Any = None) -> Any:
        shipped = ROOT / "stacks" / f"Pulumi.{stack_file.name}.yaml"
        if busy or stack_file.name not in SHIPPED_STACKS or stack_file.path.read_bytes() != shipped.read_bytes():
            return real(stack_file, environment, platform_plan)
        busy.append(True)
        try:
            return planned(stack_file.name)
        finally:
            busy.pop()

    with monkeypatch.context() as patch:
        patch.setattr(triplane.stackfile, "plan_file", plan_file)
        yield


def stage_stacks(names: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stacks the repository does not ship, written next to copies of the shipped ones."""
    staged = [name for name in names if name in STAGED_STACKS]
    if not staged:
        return
    # The scratch project gets a Pulumi.yaml and a stacks/ folder of its own (not links into the
    # repository), so the project found there holds the staged stacks next to the shipped ones.
    (workdir / "Pulumi.yaml").unlink()
    (workdir / "Pulumi.yaml").write_bytes((ROOT / "Pulumi.yaml").read_bytes())
    folder = workdir / "stacks"
    folder.unlink()
    folder.mkdir()
    for path in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        (folder / path.name).write_bytes(path.read_bytes())
    for name in staged:
        base, key, value = STAGED_STACKS[name]
        document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{base}.yaml").read_text())
        *parents, last = re.findall(r"[A-Za-z_]\w*|\d+", key)
        node = document["config"][ENVIRONMENT_KEY]
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        node[last] = value
        (folder / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def fake_resolve(image: Any, endpoints: Any = None) -> tuple[str, str]:
    """`triplane.pin.resolve` without the network: a digest of the reference, the OCI index type."""
    return f"sha256:{hashlib.sha256(f'{image.host}/{image.repository}:{image.tag}'.encode()).hexdigest()}", \
        REGISTRY_MEDIA_TYPE


def run_triplane(command: Command, workdir: Path, monkeypatch: pytest.MonkeyPatch, columns: int) -> Any:
    args = list(command.argv[1:])
    with monkeypatch.context() as patch, shipped_plans_once(patch):
        stage_stacks(args, workdir, patch)
        if args[:1] == ["pin"]:
            patch.setattr(triplane.pin, "resolve", fake_resolve)
        # Rich lays out to COLUMNS and, with no terminal and nothing forcing one, prints no escape codes.
        env: dict[str, str | None] = {"COLUMNS": str(columns), "FORCE_COLOR": None, "TTY_COMPATIBLE": None}
        result = CliRunner().invoke(cli, args, env={**env, **command.env})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"`{command}` raised {result.exception!r}") from result.exception
    if command.stdout_to is not None:
        target = Path.cwd() / command.stdout_to
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.stdout)
    return result


def check_pulumi(command: Command) -> None:
    words = list(command.argv[1:])
    subcommand = next((key for key in sorted(PULUMI_COMMANDS, key=len, reverse=True)
                       if tuple(words[: len(key)]) == key), None)
    assert subcommand is not None, f"`{command}`: no such Pulumi subcommand here (PULUMI_COMMANDS)"
    flags, valued = PULUMI_COMMANDS[subcommand]
    rest = words[len(subcommand):]
    values: dict[str, str] = {}
    positional: list[str] = []
    while rest:
        word = rest.pop(0)
        if word in valued:
            assert rest, f"`{command}`: {word} needs a value"
            values[word] = rest.pop(0)
        elif word.startswith("-"):
            assert word in flags, f"`{command}`: pulumi {' '.join(subcommand)} takes no {word}"
        else:
            positional.append(word)
    stacks = [values.get("-s") or values.get("--stack")]
    if subcommand in (("stack", "select"), ("stack", "init")):
        stacks.append(positional[0] if positional else None)
    for stack in filter(None, stacks):
        assert (ROOT / "stacks" / f"Pulumi.{stack}.yaml").is_file(), f"`{command}`: no stack file for {stack!r}"
    if pack := values.get("--policy-pack"):
        assert (Path.cwd() / pack / "PulumiPolicy.yaml").is_file(), f"`{command}`: {pack} is not a policy pack folder"
    if config := values.get("--policy-pack-config"):
        check_policy_config(json.loads((Path.cwd() / config).read_text()), f"`{command}`")
    if subcommand == ("config", "set"):
        assert positional, f"`{command}`: names no key"
        namespace, _, key = positional[0].partition(":")
        assert namespace == "triplane", f"`{command}`: Triplane reads only `triplane:` keys"
        if "--secret" in words:
            named = {name for stack in SHIPPED_STACKS
                     for _, name in secret_fields(triplane.stackfile.load_stack(stack).environment())}
            assert key in named, f"`{command}`: no shipped stack names the secret {key!r} (they name {sorted(named)})"


_HELP: dict[str, str] = {}


def check_python_module(command: Command) -> None:
    args = list(command.argv[1:])
    assert args[:1] == ["-m"] and len(args) >= 2, f"`{command}`: only `python -m <module>` is checked"
    module = args[1]
    assert importlib.util.find_spec(module) is not None, f"`{command}`: no module {module}"
    if module not in _HELP:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, f"`python -m {module} --help` failed: {done.stderr}"
        _HELP[module] = done.stdout
    for flag in (word.split("=")[0] for word in args[2:] if word.startswith("-")):
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", _HELP[module]), \
            f"`{command}`: {module} has no {flag} (see `python -m {module} --help`)"


def check_command(command: Command, expected_exit: int, workdir: Path, monkeypatch: pytest.MonkeyPatch,
                  columns: int = COLUMNS) -> Any:
    """Check one command as its program allows; for `triplane`, the result of running it."""
    if command.program == "triplane":
        result = run_triplane(command, workdir, monkeypatch, columns)
        assert result.exit_code == expected_exit, (
            f"`{command}` exited {result.exit_code}, the README implies {expected_exit}:\n{result.output}"
        )
        return result
    assert expected_exit == 0, f"`{command}`: an exit status other than 0 is checked only for triplane"
    if command.program == "cd":
        assert len(command.argv) == 2, f"`{command}`: cd takes one folder"
        target = (Path.cwd() / command.argv[1]).resolve()
        assert target.is_dir() and target.is_relative_to(workdir.resolve()), \
            f"`{command}`: not a folder an earlier command of the block made"
        monkeypatch.chdir(target)
    elif command.program == "pulumi":
        check_pulumi(command)
    elif command.program in ("python", "python3"):
        check_python_module(command)
    else:
        raise AssertionError(f"`{command}`: no check for {command.program!r} (run it from a ci: block)")
    return None


def exits(block: Block, count: int) -> list[int]:
    given = [int(code) for code in block.marker.options.get("exit", "0").split(",")] if block.marker else [0]
    if len(given) == 1:
        return given * count
    assert len(given) == count, f"{block.where}: exit= lists {len(given)} codes for {count} commands"
    return given


def provide_files(block: Block, commands: list[Command], workdir: Path) -> None:
    """Files the README names in commands and gives as a marked block (`policy-config <file>`)."""
    named = {word for command in commands for word in command.argv}
    for other in BLOCKS:
        marker = other.marker
        if other.file == block.file and marker and marker.kind == "policy-config" and marker.args[:1] \
                and marker.args[0] in named:
            (workdir / marker.args[0]).write_text(other.text)


# --- the kinds of block ------------------------------------------------------------------------------


def check_run(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = shell_commands(block.text)
    assert commands, f"{block.where}: no command"
    provide_files(block, commands, workdir)
    for command, code in zip(commands, exits(block, len(commands)), strict=True):
        check_command(command, code, workdir, monkeypatch)


def check_output(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exchanges = transcript(block.text)
    provide_files(block, [e.command for e in exchanges], workdir)
    columns = int(block.marker.options.get("columns", COLUMNS)) if block.marker else COLUMNS
    for exchange, code in zip(exchanges, exits(block, len(exchanges)), strict=True):
        assert exchange.command.program in ("triplane", "cd"), f"{block.where}: a transcript shows triplane commands"
        result = check_command(exchange.command, code, workdir, monkeypatch, columns)
        if result is None:
            shown = [line for line in exchange.output if line.strip()]
            assert not shown, f"{block.where}: `{exchange.command}` prints nothing"
            continue
        problem = output_mismatch(exchange.output, result.output)
        assert problem is None, f"{block.where}: `{exchange.command}`: {problem}; it printed:\n{result.output}"


def check_stack_file(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = yaml.safe_load(block.text)
    assert isinstance(document, dict) and "config" in document and set(document) <= STACK_FILE_KEYS, \
        f"{block.where}: a stack file has `config:` and only {', '.join(sorted(STACK_FILE_KEYS))}"
    for key in document["config"]:
        assert key.startswith("triplane:"), f"{block.where}: {key}: Triplane reads only `triplane:` keys"
    validate_environment(document["config"].get(ENVIRONMENT_KEY), block.where)


def check_spec_fragment(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert block.marker and block.marker.args, f"{block.where}: spec-fragment names the stack it belongs in"
    stack, where = block.marker.args[0], (block.marker.args[1] if len(block.marker.args) > 1 else "")
    fragment = yaml.safe_load(block.text)
    environment = triplane.stackfile.load_stack(stack).config[ENVIRONMENT_KEY]
    validate_environment(merged_at(environment, where, fragment), f"{block.where} (in {stack} at {where or 'the top'})")


def check_plan_json(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert block.marker and block.marker.args, f"{block.where}: plan-json names the stack it was taken from"
    shown = json.loads(block.text)
    real = json.loads(planned(block.marker.args[0]).dumps())
    assert shown.get("format") == real["format"], f"{block.where}: format {shown.get('format')!r} is {real['format']!r}"
    problem = json_mismatch(shown, real)
    assert problem is None, f"{block.where}: {problem}"


def check_policy_config(config: Any, where: str) -> None:
    known = {policy.name for policy in POLICIES}
    unknown = sorted(set(config) - known - {"all"} - {k for k in config if k.startswith(("$", "//"))})
    assert not unknown, f"{where}: no policy named {', '.join(unknown)}"
    reconcile(POLICIES, load_policy_config(config), NAME)


def check_policy_config_block(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_policy_config(json.loads(block.text), block.where)


NAMED_PATH = re.compile(r"(?<![\w.:/<-])((?:[\w-]+/)+(?:[\w.-]+)?|[\w-]+\.(?:py|json|yaml|yml|toml|md|txt))(?![\w<>])")


def check_paths(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entries: list[tuple[str, str]] = []
    for line in block.text.splitlines():
        if line.strip() and not line[0].isspace():
            path, _, description = line.partition(" ")
            entries.append((path, description))
        elif line.strip():
            assert entries, f"{block.where}: a description before any path"
            entries[-1] = (entries[-1][0], entries[-1][1] + " " + line.strip())
    problems = []
    for path, description in entries:
        folder = ROOT / path
        if not folder.exists():
            problems.append(f"{path}: no such file or folder")
            continue
        for name in NAMED_PATH.findall(description):
            name = name.rstrip("/")
            if not ((ROOT / name).exists() or (folder / name).exists()):
                problems.append(f"{path}: its description names {name}, which is not under {path}")
    assert not problems, f"{block.where}: " + "; ".join(problems)


def check_ci(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert block.marker is not None
    name = block.marker.kind.removeprefix("ci:")
    assert block.file == "README.md", f"{block.where}: .ci/run reads ci: blocks from README.md only"
    scripts = "".join((ROOT / ".ci" / script).read_text() for script in ("run", "adoption"))
    assert re.search(rf"\.ci/readme-command {re.escape(name)}\b", scripts), \
        f"{block.where}: neither .ci/run nor .ci/adoption runs ci:{name}"


def check_file(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert block.marker is not None
    path = ROOT / block.marker.args[0]
    assert path.is_file(), f"{block.where}: {block.marker.args[0]} is not a file of the repository"
    assert block.text.strip() == path.read_text().strip(), f"{block.where}: differs from {block.marker.args[0]}"


CHECKS: dict[str, Callable[[Block, Path, pytest.MonkeyPatch], None]] = {
    "run": check_run,
    "output": check_output,
    "stack-file": check_stack_file,
    "spec-fragment": check_spec_fragment,
    "plan-json": check_plan_json,
    "policy-config": check_policy_config_block,
    "paths": check_paths,
    "file": check_file,
}


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker is not None], ids=block_id)
def test_example(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert block.marker is not None
    if block.marker.kind.startswith("ci:"):
        check_ci(block, workdir, monkeypatch)
        return
    check = CHECKS.get(block.marker.kind)
    assert check is not None, f"{block.where}: unknown marker {block.marker.kind!r}"
    check(block, workdir, monkeypatch)
