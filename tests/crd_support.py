"""The pinned CRDs and their validator in `../shared`, for tests that check rendered custom resources.

CI lays `shared/` out next to the checkout; elsewhere the tests that need it skip, saying why.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
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


FIXTURES = Path(__file__).resolve().parent / "crds"
"""CRDs `../shared` does not carry (tests/crds/README.md): the ones a cloud installs itself."""


def validate_crs(folder: Path) -> subprocess.CompletedProcess[str]:
    """`validate-crs` over the YAML files in `folder`, strictly against the pinned CRDs and the fixtures."""
    assert SHARED is not None
    with tempfile.TemporaryDirectory() as crds:
        for release in [*(SHARED / "crds").iterdir(), *FIXTURES.iterdir()]:
            if release.is_dir():
                (Path(crds) / release.name).symlink_to(release, target_is_directory=True)
        return subprocess.run(
            [sys.executable, str(SHARED / "tools" / "validate-crs"), "--crds", crds, str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
