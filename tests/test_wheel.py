"""Adoption without a checkout: the built wheel alone runs `triplane new`, `plan` and `check` in an empty folder.

The wheel is installed into a fresh virtualenv with `--no-deps --no-index`; its dependencies come from the
test's own environment through a `.pth` line naming that site-packages folder. A folder named in a `.pth`
file is added to the path without processing the `.pth` files inside it, so the editable install of this
checkout stays invisible: only the wheel's `triplane` can be imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "triplane", "components", "stacks", "policies")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (an in-tree build would leave build/ in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "venv", ".venv")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("triplane-*.whl")
    return built


def test_the_wheel_holds_one_package_with_its_parts(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"triplane", wheel.name.split("-py3")[0] + ".dist-info"}
    for part in (
        "triplane/components/__init__.py",
        "triplane/stacks/program.py",
        "triplane/stacks/spec/environment.py",
        "triplane/components/observability/amp_chart.py",  # the chart function's code, shipped as its asset
        "triplane/policies/PulumiPolicy.yaml",
        "triplane/policies/__main__.py",
        "triplane/policies/requirements.txt",
        "triplane/decide/prices.json",
        "triplane/policy-config.json",
    ):
        assert part in names, part
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("triplane/policy-config.json").decode()
        assert shipped == (ROOT / "policies" / "policy-config.json").read_text()
        # Symlinks in the checkout are followed: every member is a regular file.
        assert all((info.external_attr >> 16) & 0o170000 in (0, 0o100000) for info in archive.infolist())


def test_an_installed_wheel_works_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # Nothing of the test's own path (a PYTHONPATH naming the checkout) may reach the new environment.
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)],
        check=True,
        capture_output=True,
        env=environment,
    )
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True, env=environment,
    ).stdout.strip())
    assert (site / "triplane" / "__init__.py").is_file()
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    work = tmp_path / "acme"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=work, env=environment, capture_output=True, text=True)

    where = run(str(python), "-c", "import triplane; print(triplane.__file__)")
    assert where.stdout.strip() == str(site / "triplane" / "__init__.py"), where.stderr
    triplane = str(env_dir / "bin" / "triplane")
    for command in (["new"], ["plan", "dev", "--quiet"], ["check", "dev"]):
        result = run(triplane, *command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
    for name in ("components", "stacks", "policies"):
        # -I: the project's own stacks/ and policies/ folders in the current folder are no packages of Triplane.
        missing = run(str(python), "-I", "-c", f"import {name}")
        assert missing.returncode == 1 and f"No module named '{name}'" in missing.stderr
    pack = Path(run(triplane, "policy-pack").stdout.strip())
    assert pack == site / "triplane" / "policies" and (pack / "PulumiPolicy.yaml").is_file()
    stack = work / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text().replace("data_classification:", "data_clasification:"))
    typo = run(triplane, "plan", "dev")
    assert typo.returncode == 2
    assert typo.stderr.startswith("error: stacks/Pulumi.dev.yaml: ") and "data_clasification" in typo.stderr
