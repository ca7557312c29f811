"""The provider SDKs stay type-checked without mypy analysing all of them.

Each provider SDK's top-level `__init__.py` imports every service subpackage under
`typing.TYPE_CHECKING`, so `import pulumi_aws as aws` makes mypy read the whole SDK (minutes and
~20 GB for the four). pyproject.toml therefore skips the SDKs as a whole and follows only the
submodules the project imports (`from pulumi_aws import ec2 as aws_ec2`). Two ways to lose type
checking silently are caught here: importing an SDK's top-level package (its members would be
`Any`), and importing a submodule that the mypy overrides do not follow (likewise `Any`).
"""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDKS = ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "pulumi_kubernetes")
PROJECT_DIRS = ("triplane", "components", "stacks", "policies", "benchmarks", "tests")
# Followed without being imported by the project, as the types of what it imports: the object metadata
# every Kubernetes resource takes, and the nested arguments of the AWS, Google Cloud and Kubernetes
# `Provider` classes (mypy config only: the project never imports these private modules).
TYPE_DEPENDENCIES = {
    "pulumi_kubernetes.meta",
    "pulumi_aws._inputs",
    "pulumi_aws._enums",
    "pulumi_gcp._inputs",
    "pulumi_kubernetes._inputs",
}


def _sdk(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in SDKS else None


def _project_files() -> Iterator[Path]:
    for folder in PROJECT_DIRS:
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield ROOT / "__main__.py"


def _sdk_imports() -> Iterator[tuple[Path, int, str, str | None]]:
    """(file, line, module, imported name or None for `import module`) of every SDK import."""
    for path in _project_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _sdk(alias.name):
                        yield path, node.lineno, alias.name, None
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _sdk(node.module):
                for alias in node.names:
                    yield path, node.lineno, node.module, alias.name


def _is_package(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{module} is not installed"
    return spec.submodule_search_locations is not None


def _followed_submodule(module: str, name: str) -> str:
    """The SDK module whose types an import brings in: `from pulumi_aws import ec2` -> `pulumi_aws.ec2`,
    `from pulumi_aws.get_partition import get_partition_output` -> `pulumi_aws.get_partition`."""
    if "." in module:
        return ".".join(module.split(".")[:2])
    return f"{module}.{name}"


def _overrides() -> dict[str, set[str]]:
    """follow_imports value -> the module patterns given it in pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for override in config["tool"]["mypy"].get("overrides", []):
        if "follow_imports" not in override:
            continue
        modules = override["module"]
        modules = [modules] if isinstance(modules, str) else modules
        found.setdefault(override["follow_imports"], set()).update(modules)
    return found


def test_no_module_imports_a_provider_sdk_as_a_whole() -> None:
    whole = [
        f"{path.relative_to(ROOT)}:{line}: " + (f"import {module}" if name is None else f"from {module} import *")
        for path, line, module, name in _sdk_imports()
        if name in (None, "*")
    ]
    assert not whole, (
        "import the SDK submodules you use (`from pulumi_aws import ec2 as aws_ec2`), not the package: "
        "mypy skips the SDK packages as a whole (see [tool.mypy] in pyproject.toml)\n" + "\n".join(whole)
    )


def test_from_imports_name_modules_or_public_members() -> None:
    """`from pulumi_x import name` must name a submodule (its types come from following it), and a
    member must come from its defining public module, never a private `_module`."""
    wrong = []
    for path, line, module, name in _sdk_imports():
        if name is None or name == "*":
            continue  # the test above
        where = f"{path.relative_to(ROOT)}:{line}: from {module} import {name}"
        if "." not in module:
            if name.startswith("_") or importlib.util.find_spec(f"{module}.{name}") is None:
                wrong.append(where + " (not a submodule)")
        elif any(part.startswith("_") for part in module.split(".")):
            wrong.append(where + " (a private module)")
    assert not wrong, "\n".join(wrong)


def test_every_imported_sdk_submodule_is_followed_by_mypy() -> None:
    overrides = _overrides()
    skipped = overrides.get("skip", set())
    followed = overrides.get("normal", set())
    for sdk in SDKS:
        assert {sdk, f"{sdk}.*"} <= skipped, f"pyproject.toml must skip {sdk} and {sdk}.* in [[tool.mypy.overrides]]"

    imported = {
        _followed_submodule(module, name) for _, _, module, name in _sdk_imports() if name not in (None, "*")
    }
    missing = []
    for submodule in sorted(imported | TYPE_DEPENDENCIES):
        wanted = {submodule, f"{submodule}.*"} if _is_package(submodule) else {submodule}
        missing += sorted(wanted - followed)
    assert not missing, (
        "add these to the follow_imports = \"normal\" override in pyproject.toml, or mypy treats them as Any: "
        + ", ".join(f'"{pattern}"' for pattern in missing)
    )

    wanted_modules = imported | TYPE_DEPENDENCIES
    stale = sorted(p for p in followed if _sdk(p) and p.removesuffix(".*") not in wanted_modules)
    assert not stale, f"followed by mypy but no longer imported: {stale}"
