"""Compare the plans of the same stacks made under two sets of dependency versions.

Each argument pair is two plan JSON files. They must register the same resources with the same
inputs, dependencies and options. `additionalSecretOutputs` is the one field that may differ: it
is the provider SDK's own list of output properties it keeps secret, which grows as the provider
adds fields.
"""

import json
import sys
from pathlib import Path
from typing import Any


def comparable(path: str) -> dict[str, Any]:
    plan = json.loads(Path(path).read_text())
    for resource in plan["resources"]:
        resource.pop("additionalSecretOutputs", None)
    return plan


def differences(left: Any, right: Any, where: str = "") -> list[str]:
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right)):
            found += differences(left.get(key), right.get(key), f"{where}.{key}" if where else key)
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [d for i, (a, b) in enumerate(zip(left, right, strict=True)) for d in differences(a, b, f"{where}[{i}]")]
    return [] if left == right else [f"{where}: {json.dumps(left)[:160]} != {json.dumps(right)[:160]}"]


if __name__ == "__main__":
    failed = False
    if len(sys.argv) % 2 == 0:
        sys.exit("usage: same_plans.py OLDEST NEWEST [OLDEST NEWEST ...]")
    for oldest, newest in zip(sys.argv[1::2], sys.argv[2::2], strict=True):
        found = differences(comparable(oldest), comparable(newest))
        if found:
            failed = True
            print(f"{oldest} and {newest} differ in {len(found)} places:", *found[:20], sep="\n  ")
    sys.exit(1 if failed else 0)
