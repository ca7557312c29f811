"""The policy configuration of a check: the `--policy-pack-config` file, reconciled and validated.

What each policy runs with is, in order: its documented level and schema defaults, then `all` from
the file (every policy's level), then the policy's own entry (its level, and properties that
replace the defaults one by one). The result is validated against the policy's JSON schema
before anything runs, as the engine validates what it hands a pack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from triplane.check_result import GateError
from triplane.policies.common import EnforcementLevel, Policy

LEVELS = tuple(level.value for level in EnforcementLevel)


def load_policy_config(source: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """A policy config (the `--policy-pack-config` format): `{policy: level | {enforcementLevel, ...}}`."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where = "policy config"
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if text.strip() else {}
        except FileNotFoundError:
            raise GateError(f"{where}: no such policy config file") from None
        except json.JSONDecodeError as exc:
            raise GateError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise GateError(f"{where}: must be a JSON object mapping policy names to a level or settings")
    config: dict[str, Any] = {}
    for name, value in data.items():
        if name.startswith("$") or name.startswith("//"):
            continue  # `$schema`, `//` comments: documentation, not configuration
        if isinstance(value, str):
            if value not in LEVELS:
                raise GateError(f"{where}: {name}: {value!r} is not an enforcement level ({', '.join(LEVELS)})")
            config[name] = {"enforcementLevel": value}
        elif isinstance(value, dict):
            level = value.get("enforcementLevel")
            if level is not None and level not in LEVELS:
                raise GateError(f"{where}: {name}.enforcementLevel: {level!r} is not one of {', '.join(LEVELS)}")
            config[name] = dict(value)
        else:
            raise GateError(f"{where}: {name}: must be an enforcement level or an object")
    return config


def reconcile(policies: Sequence[Policy], config: Mapping[str, Any], pack: str = "") -> dict[str, dict[str, Any]]:
    """`{policy: {"enforcementLevel": ..., "properties": {...}}}` for every policy of a pack.

    Entries of `config` for policies outside `policies` are left alone (another pack's).
    Raises GateError naming every property that breaks its policy's schema.
    """
    result: dict[str, dict[str, Any]] = {
        p.name: {"enforcementLevel": p.meta.enforcement.value, "properties": p.meta.schema.defaults()}
        for p in policies
    }
    everything = config.get("all")
    if isinstance(everything, Mapping) and everything.get("enforcementLevel"):
        for defaults in result.values():
            defaults["enforcementLevel"] = everything["enforcementLevel"]
    for name, given in config.items():
        entry = result.get(name)
        if entry is None:
            continue
        if given.get("enforcementLevel"):
            entry["enforcementLevel"] = given["enforcementLevel"]
        entry["properties"].update({k: v for k, v in given.items() if k != "enforcementLevel"})
    errors = [f"{p.name}: {e}" for p in policies for e in schema_errors(p.meta.schema.json_schema(),
                                                                         result[p.name]["properties"])]
    if errors:
        raise GateError(f"policy config for pack {pack or 'the check'} is invalid: " + "; ".join(errors))
    return result


def schema_errors(schema: Mapping[str, Any], value: Any) -> list[str]:
    """Where `value` breaks `schema` (JSON Schema draft 7), each as `path: what is wrong`."""
    found = sorted(Draft7Validator(schema).iter_errors(value), key=lambda e: (_path(e.absolute_path), e.message))
    return [f"{_path(error.absolute_path) or '(root)'}: {error.message}" for error in found]


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
