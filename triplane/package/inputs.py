"""Checks and conversions every package component shares: plain values, tags, networks, names.

A package component is called from another language through the engine, so its inputs arrive as
plain values or as `pulumi.Output`s. Triplane's components compute with some of them (a region
builds ARNs, a CIDR list builds rules), so those must be known before deployment: the schema marks
them `plain`, and reading one that arrives as a resource output fails with an error that says so.
"""

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from triplane.components.tagging import standard_tags
from triplane.policies.taxonomy import ALLOWED_PATTERNS, CLASSIFICATIONS

GIVEN_TAGS = ("owner", "cost-center", "environment", "use-case", "data-classification")
"""The tags a caller states; `pattern` and `managed-by` come from the component."""


class PackageInputError(ValueError):
    """An input a package component cannot use, naming the component, the input and the fix."""

    def __init__(self, component: str, name: str, field: str, problem: str) -> None:
        super().__init__(f"triplane:index:{component} '{name}': input '{field}': {problem}")


class Inputs:
    """Reads one component's inputs (schema names in errors) and fails with a `PackageInputError`."""

    def __init__(self, component: str, name: str, args: Mapping[str, Any]) -> None:
        self.component = component
        self.name = name
        self.args = args

    def error(self, field: str, problem: str) -> PackageInputError:
        return PackageInputError(self.component, self.name, field, problem)

    def _plain(self, field: str, value: Any) -> Any:
        if isinstance(value, pulumi.Output):
            raise self.error(field, "must be a value known before deployment, not a resource output")
        return value

    def text(self, key: str, field: str, default: str | None = None, *, pattern: str | None = None,
             hint: str = "") -> str:
        value = self._plain(field, self.args.get(key, default))
        if not isinstance(value, str) or not value:
            raise self.error(field, f"give a non-empty string{hint and f' ({hint})'}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self.error(field, f"{value!r} is not valid{hint and f'; expected {hint}'}")
        return value

    def optional_text(self, key: str, field: str) -> str | None:
        return None if self.args.get(key) is None else self.text(key, field)

    def choice(self, key: str, field: str, options: Sequence[str], default: str) -> str:
        value = self.text(key, field, default)
        if value not in options:
            raise self.error(field, f"{value!r} is not one of {', '.join(options)}")
        return value

    def integer(self, key: str, field: str, default: int | None = None, *, minimum: int = 0) -> int:
        value = self._plain(field, self.args.get(key, default))
        if value is None:
            raise self.error(field, "give a whole number")
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise self.error(field, f"{value!r} is not a whole number")
        if value < minimum:
            raise self.error(field, f"{int(value)} is below the minimum {minimum}")
        return int(value)

    def flag(self, key: str, field: str, default: bool) -> bool:
        value = self._plain(field, self.args.get(key, default))
        if not isinstance(value, bool):
            raise self.error(field, f"{value!r} is not true or false")
        return value

    def strings(self, key: str, field: str, *, minimum: int = 0, pattern: str | None = None,
                hint: str = "") -> list[str]:
        value = self._plain(field, self.args.get(key) or [])
        if not isinstance(value, list | tuple):
            raise self.error(field, "give a list of non-empty strings")
        items = [self._plain(field, v) for v in value]
        if not all(isinstance(v, str) and v for v in items):
            raise self.error(field, "give a list of non-empty strings")
        if len(items) < minimum:
            raise self.error(field, f"list at least {minimum}{hint and f' ({hint})'}")
        if len(set(items)) != len(items):
            raise self.error(field, f"remove the repeated entries in {items}")
        for item in items:
            if pattern is not None and not re.fullmatch(pattern, item):
                raise self.error(field, f"{item!r} is not valid{hint and f'; expected {hint}'}")
        return items

    def inputs(self, key: str, field: str, *, minimum: int = 0) -> list[pulumi.Input[str]]:
        """A list whose length must be known now, of values that may be resource outputs (IDs)."""
        value = self._plain(field, self.args.get(key) or [])
        if not isinstance(value, list | tuple) or len(value) < minimum:
            raise self.error(field, f"list at least {minimum} ID(s)")
        return list(value)

    def mapping(self, key: str, field: str) -> dict[str, str]:
        value = self._plain(field, self.args.get(key) or {})
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise self.error(field, "give a map of strings to strings")
        return {str(k): v for k, v in value.items()}

    def private_cidrs(self, key: str, field: str) -> list[str]:
        """Application source ranges: private (RFC 1918 or unique local) networks only."""
        cidrs = self.strings(key, field, minimum=1, hint="the private ranges the application calls from")
        for cidr in cidrs:
            try:
                network = ipaddress.ip_network(cidr)
            except ValueError as e:
                raise self.error(field, f"{cidr!r} is not a CIDR block such as 10.0.0.0/16") from e
            if not network.is_private:
                raise self.error(field, f"{cidr} is not a private network; name the application's private ranges")
        return cidrs

    def tags(self, pattern: str) -> dict[str, str]:
        """Triplane's standard tags from the caller's `tags`, with `pattern` set by the component."""
        given = self.mapping("tags", "tags")
        missing = [k for k in GIVEN_TAGS if not given.get(k)]
        if missing:
            raise self.error("tags", f"add {', '.join(missing)} (every resource carries {', '.join(GIVEN_TAGS)})")
        classification = given["data-classification"]
        if classification not in CLASSIFICATIONS:
            known = ", ".join(CLASSIFICATIONS)
            raise self.error("tags", f"data-classification {classification!r} is not one of {known}")
        if pattern not in ALLOWED_PATTERNS[classification]:
            raise self.error(
                "tags",
                f"{classification} data may not use the {pattern} pattern (allowed: "
                f"{', '.join(ALLOWED_PATTERNS[classification])}); use another component or lower the classification",
            )
        extra = {k: v for k, v in given.items() if k not in (*GIVEN_TAGS, "pattern", "managed-by")}
        standard = standard_tags(
            environment=given["environment"],
            owner=given["owner"],
            cost_center=given["cost-center"],
            use_case=given["use-case"],
            data_classification=classification,
            pattern=pattern,
        )
        return {**extra, **standard}


AWS_REGION = r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d"
