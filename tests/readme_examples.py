"""Reading the README files' fenced blocks, their markers, their commands and transcripts.

`tests/test_readme_examples.py` says what each marker means and checks each block; this module only
parses (fences, markers, shell commands, `$ ` transcripts) and compares (transcript lines, JSON
excerpts, merged stack-file fragments), so those rules are written once.
"""

from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README_FILES = ("README.md", "policies/README.md", "benchmarks/README.md")

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
EXAMPLE_MARKER = re.compile(r"^\s*<!--\s*example:\s*(?P<body>.*?)\s*-->\s*$")
CI_MARKER = re.compile(r"^\s*<!--\s*ci:(?P<name>[\w-]+)\s*-->\s*$")
MARKER_REACH = 2
"""A block's marker is on one of the two lines before its opening fence."""


@dataclass(frozen=True)
class Marker:
    kind: str
    """`run`, `output`, ...; `ci:<name>` for the blocks .ci/run executes."""
    args: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Block:
    file: str
    line: int
    """1-based line of the opening fence."""
    info: str
    text: str
    marker: Marker | None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def parse_marker(line: str) -> Marker | None:
    if found := CI_MARKER.match(line):
        return Marker(f"ci:{found['name']}")
    if found := EXAMPLE_MARKER.match(line):
        words = found["body"].split()
        if not words:
            return Marker("")
        options = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        return Marker(words[0], tuple(w for w in words[1:] if "=" not in w), options)
    return None


def blocks(file: str) -> list[Block]:
    """Every fenced block of a README file (indented ones in list items too), with its marker."""
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = i + 1
        while end < len(lines) and not re.fullmatch(rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*", lines[end]):
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[i + 1:end]]
        marker = None
        for back in range(1, MARKER_REACH + 1):
            if i - back >= 0 and (marker := parse_marker(lines[i - back])) is not None:
                break
        found.append(Block(file, i + 1, opening["info"].strip(), "\n".join(body) + "\n", marker))
        i = end + 1
    return found


def orphan_markers(file: str) -> list[int]:
    """1-based lines of markers that no fenced block follows within MARKER_REACH lines."""
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
    return [
        number
        for number, line in enumerate(lines, 1)
        if parse_marker(line) is not None
        and not any(FENCE.match(after) for after in lines[number:number + MARKER_REACH])
    ]


def all_blocks() -> list[Block]:
    return [block for file in README_FILES for block in blocks(file)]


# --- shell commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    """Program and arguments, with leading `NAME=value` assignments removed."""
    env: dict[str, str] = field(default_factory=dict)
    stdout_to: str | None = None
    """The file a trailing `> FILE` redirects standard output to."""

    @property
    def program(self) -> str:
        """`triplane`, `pulumi`, `python`...: the name, also for `.venv/bin/<name>`."""
        return Path(self.argv[0]).name if self.argv else ""

    def __str__(self) -> str:
        return shlex.join(self.argv)


def joined_lines(text: str) -> list[str]:
    """Lines with their `\\` continuations joined."""
    result: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        result.append(pending + line)
        pending = ""
    if pending:
        result.append(pending)
    return result


def commands(line: str) -> list[Command]:
    """The commands of one shell line: `#` comments dropped, split on `&&`, `> FILE` and `VAR=x` read."""
    words = shlex.split(line, comments=True)
    found: list[Command] = []
    while words:
        part = words[: words.index("&&")] if "&&" in words else words
        words = words[len(part) + 1:]
        env: dict[str, str] = {}
        while part and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", part[0]):
            name, _, value = part[0].partition("=")
            env[name] = value
            part = part[1:]
        stdout_to = None
        if len(part) >= 2 and part[-2] == ">":
            stdout_to, part = part[-1], part[:-2]
        if any(word in ("|", ">", ">>", "<", ";", "||") for word in part):
            raise ValueError(f"{line!r}: only `&&` and a trailing `> FILE` are understood")
        found.append(Command(tuple(part), env, stdout_to))
    return found


def shell_commands(text: str) -> list[Command]:
    return [command for line in joined_lines(text) if line.strip() for command in commands(line)]


@dataclass(frozen=True)
class Exchange:
    command: Command
    output: list[str]
    """The lines the README shows after the command, up to the next `$ `."""


def transcript(text: str) -> list[Exchange]:
    """A console block: `$ command` lines (with `\\` continuations), each followed by its output."""
    exchanges: list[Exchange] = []
    lines = text.splitlines()
    i = 0
    if lines and not lines[0].startswith("$ "):
        raise ValueError("a console block starts with `$ <command>`")
    while i < len(lines):
        command = lines[i][2:]
        while command.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command.rstrip()[:-1] + " " + lines[i].strip()
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        parsed = commands(command)
        if len(parsed) != 1:
            raise ValueError(f"{command!r}: one command per `$ ` line")
        exchanges.append(Exchange(parsed[0], output))
    return exchanges


# --- comparing ---------------------------------------------------------------------------------------

ELLIPSIS_LINE = "..."
PLACEHOLDERS = {"<64 hex digits>": "[0-9a-f]{64}"}
"""Text the README writes for a value that differs from run to run, and what it stands for."""


def _line_pattern(line: str) -> str:
    pattern = re.escape(line)
    for shown, meaning in PLACEHOLDERS.items():
        pattern = pattern.replace(re.escape(shown), meaning)
    return pattern


def output_mismatch(shown: list[str], printed: str) -> str | None:
    """None when `printed` is what the README shows, else where they part.

    Trailing whitespace and trailing blank lines are ignored on both sides; a line that is `...`
    alone (any indentation) stands for any number of printed lines, zero included; a placeholder of
    PLACEHOLDERS stands for its value; every other line must be printed exactly, in order.
    """
    expected = [line.rstrip() for line in shown]
    actual = [line.rstrip() for line in printed.splitlines()]
    while expected and not expected[-1]:
        expected.pop()
    while actual and not actual[-1]:
        actual.pop()
    regex = "".join(
        r"(?:[^\n]*\n)*?" if line.strip() == ELLIPSIS_LINE else _line_pattern(line) + r"\n" for line in expected
    )
    if re.fullmatch(regex, "".join(line + "\n" for line in actual)):
        return None
    # Name the first shown line that cannot be placed, for the failure message.
    position = 0
    for number, line in enumerate(expected, 1):
        if line.strip() == ELLIPSIS_LINE:
            continue
        pattern = re.compile(_line_pattern(line))
        for index in range(position, len(actual)):
            if pattern.fullmatch(actual[index]):
                position = index + 1
                break
        else:
            return f"shown output line {number} {line!r} is not printed (in that order)"
    return "the printed output has lines the README neither shows nor elides with `...`"


def json_mismatch(shown: Any, real: Any, path: str = "$") -> str | None:
    """None when the JSON excerpt `shown` fits `real`, else the first place where it does not.

    Objects: every key shown exists, its value fitting (a key `...` only tells the reader that more
    follow). Arrays: `[]` means empty; otherwise each shown item fits a different real item.
    Strings: equal, or `...` inside stands for any text. Other values: equal, of the same JSON type.
    """
    if isinstance(shown, dict):
        if not isinstance(real, dict):
            return f"{path}: shown an object, the plan has {type(real).__name__}"
        for key, value in shown.items():
            if key == ELLIPSIS_LINE:
                continue
            if key not in real:
                return f"{path}.{key}: no such key (the plan has {', '.join(sorted(real))})"
            if (problem := json_mismatch(value, real[key], f"{path}.{key}")) is not None:
                return problem
        return None
    if isinstance(shown, list):
        if not isinstance(real, list):
            return f"{path}: shown an array, the plan has {type(real).__name__}"
        if not shown:
            return None if not real else f"{path}: shown empty, the plan has {len(real)} items"
        unused = list(range(len(real)))
        for number, item in enumerate(shown):
            problems = [(i, json_mismatch(item, real[i], f"{path}[{i}]")) for i in unused]
            fits = [i for i, problem in problems if problem is None]
            if not fits:
                named = [p for i, p in problems if isinstance(item, dict) and isinstance(real[i], dict)
                         and "name" in item and real[i].get("name") == item["name"]]
                return named[0] if named else f"{path}[{number}]: fits no item of the plan's array"
            unused.remove(fits[0])
        return None
    if isinstance(shown, str) and isinstance(real, str):
        pattern = ".*".join(re.escape(part) for part in shown.split(ELLIPSIS_LINE))
        return None if re.fullmatch(pattern, real, re.DOTALL) else f"{path}: shown {shown!r}, the plan has {real!r}"
    if type(shown) is not type(real) or shown != real:
        return f"{path}: shown {shown!r}, the plan has {real!r}"
    return None


PLACE_STEP = re.compile(r"(?P<key>[A-Za-z_][\w-]*)|\[(?P<index>\d+)\]|\.")
"""One step of a place in a document: `kubernetes[0].existing`."""


def merged_at(document: Any, where: str, fragment: Any) -> Any:
    """A copy of `document` with `fragment` merged (see `merged`) into the value at `where`."""
    if not re.fullmatch(r"(?:[A-Za-z_][\w-]*|\[\d+\]|\.)*", where):
        raise ValueError(f"{where!r} is not a place such as `kubernetes[0].existing`")
    result = copy.deepcopy(document)
    steps = [s["key"] if s["key"] is not None else int(s["index"]) for s in PLACE_STEP.finditer(where)
             if s["key"] is not None or s["index"] is not None]
    if not steps:
        return merged(result, fragment)
    container = result
    for step in steps[:-1]:
        container = container[step]
    container[steps[-1]] = merged(container[steps[-1]], fragment)
    return result


def merged(base: Any, fragment: Any) -> Any:
    """`fragment` laid over `base`: mappings key by key, lists item by item (extra items appended)."""
    if isinstance(base, dict) and isinstance(fragment, dict):
        result = dict(base)
        for key, value in fragment.items():
            result[key] = merged(base[key], value) if key in base else copy.deepcopy(value)
        return result
    if isinstance(base, list) and isinstance(fragment, list):
        return [merged(base[i], item) if i < len(base) else copy.deepcopy(item) for i, item in enumerate(fragment)] \
            + copy.deepcopy(base[len(fragment):])
    return copy.deepcopy(fragment)
