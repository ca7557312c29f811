"""The policy reference table in policies/README.md, generated from the policies themselves.

`python -m triplane.policies.docs` prints it; a test fails when the README's copy is out of date.
"""

from __future__ import annotations

import json

from .common import REGISTRY, Meta
from .packs import SCOPES

BEGIN = "<!-- policy-table:begin -->"
END = "<!-- policy-table:end -->"


def _config(meta: Meta) -> str:
    settings = {k: v.get("default") for k, v in meta.schema.properties.items() if k != "exemptions"}
    if not settings:
        return "exemptions"
    return "; ".join(f"`{k}` = `{json.dumps(v, separators=(',', ':'))}`" for k, v in settings.items()) + "; exemptions"


def _scopes(name: str) -> str:
    return ", ".join(scope for scope, policies in SCOPES.items() if any(p.name == name for p in policies))


def table() -> str:
    rows = [
        "| Policy | Checks | Level | Severity | Reference | Config (defaults) | Scopes |",
        "|---|---|---|---|---|---|---|",
    ]
    for meta in sorted(REGISTRY.values(), key=lambda m: m.name):
        references = ", ".join(f"{r.framework} {r.id}" if r.framework != "Checkov" else r.id for r in meta.references)
        rows.append(
            f"| `{meta.name}` | {meta.description} | {meta.enforcement.value} | {meta.severity.value} | "
            f"{references or '-'} | {_config(meta)} | {_scopes(meta.name)} |"
        )
    return "\n".join([BEGIN, *rows, END])


if __name__ == "__main__":
    print(table())
