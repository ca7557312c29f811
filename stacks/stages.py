"""Platform and use-case stacks: how their specs meet, checked on both sides.

A platform stack (`use_case_stacks: [...]`) builds the shared pieces of the use cases of the stacks it
lists: it reads their stack files from the project's stack folder, so what a use case requests (an
allowlist entry, room on a GPU pool, an add-on) reaches the platform through the platform's own spec.
A use-case stack (`platform: <stack>`) holds use cases alone and runs them on the clouds and clusters
the platform exports (`stacks.contract`). Each side refuses what the other does not back: a use case
naming a cloud or cluster the platform lacks, a platform listing a stack that names another platform.
"""

from __future__ import annotations

from typing import Any

from triplane.stacks.spec import Environment, SpecError, validate_environment
from triplane.stacks.spec.errors import ENVIRONMENT_KEY


def platform_stack_name(platform: str) -> str:
    """The stack part of `platform` (`<stack>` or `<org>/<project>/<stack>`)."""
    return platform.rsplit("/", 1)[-1]


def other_project(platform: str) -> str | None:
    """The project `<org>/<project>/<stack>` names when it is not the project in use; None otherwise."""
    from triplane.project import current_project

    parts = platform.split("/")
    project = current_project()
    return parts[1] if len(parts) == 3 and project is not None and parts[1] != project.name else None


def shared_settings(platform: Environment) -> dict[str, Any]:
    """What a platform's spec gives its use-case stacks: its `clouds` and `kubernetes`, and its `monitoring`
    (their alerts go to its channels, and their model servers must be scraped)."""
    value = platform.model_dump(mode="json", include={"clouds", "kubernetes", "monitoring"}, exclude_unset=True)
    shared = {"clouds": value.get("clouds") or {}, "kubernetes": value.get("kubernetes") or []}
    if value.get("monitoring"):
        shared["monitoring"] = value["monitoring"]
    return shared


def _listed(names: list[str]) -> str:
    return ", ".join(names) or "none"


def boundary_problems(own: Environment, platform: str, platform_environment: dict[str, Any]) -> list[str]:
    """Use cases of a use-case stack naming a cloud or cluster its platform does not export."""
    clouds = sorted(platform_environment.get("clouds") or {})
    clusters = sorted(c["name"] for c in platform_environment.get("kubernetes") or [])
    problems = []
    for i, use_case in enumerate(own.use_cases):
        cloud = getattr(use_case, "cloud", None)
        if cloud is not None and cloud not in clouds:
            problems.append(
                f"{ENVIRONMENT_KEY}.use_cases[{i}].cloud: the platform stack {platform!r} has no {cloud} cloud; "
                f"it exports clouds: {_listed(clouds)}. Use one of them, or add clouds.{cloud} to the platform"
            )
        cluster = getattr(use_case, "cluster", None)
        if cluster is not None and cluster not in clusters:
            problems.append(
                f"{ENVIRONMENT_KEY}.use_cases[{i}].cluster: the platform stack {platform!r} has no cluster "
                f"{cluster!r}; it exports clusters: {_listed(clusters)}. Use one of them, or add it under the "
                "platform's `kubernetes`"
            )
    return problems


def use_case_environment(own: Environment, platform_environment: dict[str, Any], source: str) -> Environment:
    """A use-case stack's environment on its platform's clouds and clusters, validated as one.

    `platform_environment` is the contract's `environment` (the platform's `clouds`, `kubernetes`).
    Everything else (owner, cost center, tier, use cases) is the use-case stack's own.
    """
    assert own.platform is not None
    if problems := boundary_problems(own, own.platform, platform_environment):
        raise SpecError(source, problems)
    value = own.model_dump(mode="json", exclude_unset=True)
    value.pop("platform", None)
    value["clouds"] = platform_environment.get("clouds") or {}
    value["kubernetes"] = platform_environment.get("kubernetes") or []
    if platform_environment.get("monitoring"):
        value["monitoring"] = platform_environment["monitoring"]
    merged: Environment = validate_environment(value, source)
    return merged


def served_environment(platform: Environment, stack: str, source: str) -> Environment:
    """A platform stack's environment with the use cases of every stack it serves, each stack checked
    (it names this platform back; its use cases fit the platform's clouds and clusters)."""
    from triplane.stackfile import load_stack

    value = platform.model_dump(mode="json", exclude_unset=True)
    value.pop("use_case_stacks", None)
    shared = shared_settings(platform)
    use_cases: list[dict[str, Any]] = []
    owner: dict[str, str] = {}
    for i, name in enumerate(platform.use_case_stacks):
        field = f"{ENVIRONMENT_KEY}.use_case_stacks[{i}]"
        try:
            stack_file = load_stack(name)
        except SpecError as error:
            raise SpecError(source, [f"{field}: {problem}" for problem in error.problems]) from None
        own = stack_file.environment()
        if own.platform is None or platform_stack_name(own.platform) != stack:
            named = f"names the platform {own.platform!r}" if own.platform else "names no platform"
            raise SpecError(
                source,
                [f"{field}: the stack {name!r} ({stack_file.source}) {named}; add `platform: {stack}` to its "
                 f"{ENVIRONMENT_KEY}, or remove it from this list"],
            )
        checked = use_case_environment(own, shared, stack_file.source)
        for j, use_case in enumerate(checked.use_cases):
            if use_case.name in owner:
                raise SpecError(
                    stack_file.source,
                    [f"{ENVIRONMENT_KEY}.use_cases[{j}].name: {use_case.name!r} is also a use case of the stack "
                     f"{owner[use_case.name]!r}, served by the same platform {stack!r}; rename one of them"],
                )
            owner[use_case.name] = name
        use_cases.extend(checked.model_dump(mode="json", exclude_unset=True).get("use_cases") or [])
    value["use_cases"] = use_cases
    served: Environment = validate_environment(value, source)
    return served


def check_against_local_platform(own: Environment, stack: str, source: str) -> None:
    """Before anything is registered under `pulumi up`: when the platform is a stack of this project,
    its stack file is read and the use-case stack checked against it (its clouds and clusters, and that
    it serves this stack), so a mistake stops the run with the file and field, as in a single stack. A
    platform of another project is checked when its contract arrives through the stack reference."""
    from triplane.project import current_project
    from triplane.stackfile import load_stack

    assert own.platform is not None
    project = current_project()
    name = platform_stack_name(own.platform)
    if project is None or other_project(own.platform) is not None or not project.stack_path(name).is_file():
        return
    platform_file = load_stack(name)
    platform = platform_file.environment()
    if stack not in platform.use_case_stacks:
        raise SpecError(
            source,
            [f"{ENVIRONMENT_KEY}.platform: the platform stack {name!r} ({platform_file.source}) does not serve "
             f"{stack!r} (it serves: {_listed(list(platform.use_case_stacks))}); add {stack!r} to its "
             "use_case_stacks"],
        )
    use_case_environment(own, shared_settings(platform), source)
