"""Turning validation failures into one paragraph a person can act on."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from triplane.stacks.spec.base import ManagedService, Pattern

_PATTERNS = set(Pattern.__args__)  # type: ignore[attr-defined]
_SERVICES = set(ManagedService.__args__)  # type: ignore[attr-defined]
ENVIRONMENT_KEY = "triplane:environment"


class SpecError(Exception):
    """Bad input: names the stack file, the field and the fix. Raised before any resource exists."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        problems = [_one_line(p) for p in self.problems]
        if len(problems) == 1:
            return f"{self.source}: {problems[0]}"
        listed = "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
        return f"{self.source}: {len(problems)} problems: {listed}"


def shown(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it: its repr, cut to `limit` characters so a refusal stays readable."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 14]}... ({len(str(value))} characters)"


def _one_line(text: str) -> str:
    """Control characters a user typed (a newline in a key or value) are shown escaped: one paragraph."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", lambda m: repr(m.group())[1:-1], text)


def field_path(loc: tuple[Any, ...]) -> str:
    """`('use_cases', 2, 'self-managed', 'gpu', 'count')` -> `use_cases[2].gpu.count`."""
    path = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(previous, int) and part in _PATTERNS:
            pass  # the discriminated-union tag pydantic inserts; the user never wrote it
        elif previous == "cloud-managed" and part in _SERVICES:
            pass  # the service tag of the cloud-managed union, likewise
        elif part in ("function-after", "function-before") or str(part).startswith("function-"):
            pass
        elif not re.fullmatch(r"[\w-]+", str(part)):
            path += f"[{json.dumps(str(part))}]"  # a key the user typed that is no identifier
        else:
            path += f".{part}" if path else str(part)
        previous = part
    return path


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    message = str(error["msg"])
    if kind == "extra_forbidden":
        return "unknown key; check the spelling (see `triplane schema` for every allowed key)"
    if kind == "missing":
        return "required, but missing"
    if kind == "union_tag_invalid":
        allowed = ", ".join(sorted(_PATTERNS))
        return f"unknown pattern {error.get('ctx', {}).get('tag')!r}; allowed: {allowed}"
    if kind == "union_tag_not_found":
        return "missing `pattern`; set one of " + ", ".join(sorted(_PATTERNS))
    if kind == "literal_error":
        return f"{shown(error['input'])} is not allowed; {message[0].lower()}{message[1:]}"
    return message.removeprefix("Value error, ")


def problems_from(exc: ValidationError, root: str = ENVIRONMENT_KEY) -> list[str]:
    problems = []
    for error in exc.errors():
        path = field_path(tuple(error["loc"]))
        message = _message(dict(error))
        # Cross-field checks name the field they are about, relative to the model that checks.
        head, sep, rest = message.partition(": ")
        if sep and re.fullmatch(r"[\w\[\].-]+", head):
            path, message = (f"{path}{'' if head.startswith('[') else '.'}{head}" if path else head), rest
        joiner = "" if path.startswith("[") else "."
        problems.append(f"{root}{joiner}{path}: {message}" if path else f"{root}: {message}")
    return problems


def validate_environment(value: Any, source: str) -> Any:
    """Validate a raw `triplane:environment` value; raise SpecError naming `source` on failure."""
    from triplane.stacks.spec.environment import Environment

    if value is None:
        raise SpecError(
            source,
            [f"no `{ENVIRONMENT_KEY}` setting; add it under `config:` (see stacks/Pulumi.dev.yaml for an example)"],
        )
    if not isinstance(value, dict):
        raise SpecError(source, [f"{ENVIRONMENT_KEY} must be a mapping, not {type(value).__name__}"])
    try:
        environment = Environment.model_validate(value)
    except ValidationError as exc:
        raise SpecError(source, problems_from(exc)) from None
    if problems := environment.cross_checks():
        raise SpecError(source, [f"{ENVIRONMENT_KEY}.{problem}" for problem in problems])
    return environment
