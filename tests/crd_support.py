"""The pinned CRDs and their validator in `../shared`, for tests that check rendered custom resources.

CI lays `shared/` out next to the checkout; elsewhere the tests that need it skip, saying why.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _shared() -> Path | None:
    """The `shared` folder next to the checkout (or an ancestor of it), as CI lays it out."""
    for parent in Path(__file__).resolve().parents[1].parents:
        if (parent / "shared" / "crds").is_dir():
            return parent / "shared"
    return None


SHARED = _shared()
needs_shared = pytest.mark.skipif(
    SHARED is None, reason="../shared (CRDs and validate-crs) is not next to the checkout"
)


def validate_crs(folder: Path) -> subprocess.CompletedProcess[str]:
    """`validate-crs` over the YAML files in `folder`, strictly against the pinned CRDs."""
    assert SHARED is not None
    return subprocess.run(
        [sys.executable, str(SHARED / "tools" / "validate-crs"), str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
