"""Print `name==version` for the lowest version of every direct dependency that pyproject.toml admits.

Installed with these as constraints, the project runs on the oldest releases it claims to support,
so a lower bound that no longer works fails CI instead of a user's first plan.
"""

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement


def lowest(requirement: str) -> str:
    parsed = Requirement(requirement)
    floors = [spec.version for spec in parsed.specifier if spec.operator in (">=", "==", "~=")]
    if not floors:
        sys.exit(f"pyproject.toml: {requirement!r} has no lower bound; give it one (>=)")
    return f"{parsed.name}=={floors[0]}"


if __name__ == "__main__":
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    print("\n".join(lowest(requirement) for requirement in project["dependencies"]))
