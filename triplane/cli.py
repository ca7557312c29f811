"""The `triplane` command: plan, check and explain an environment offline."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from triplane.scaffold import CLOUDS, PATTERNS
from triplane.stacks.spec import Environment, SpecError


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="triplane")
@click.option(
    "--cwd",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Run as if started in DIR, like `pulumi --cwd`: the project is the one of DIR or its nearest parent.",
)
def cli(cwd: Path | None) -> None:
    """Plan, check and explain Triplane environments offline: no Pulumi CLI, credentials or network.

    Commands work on the Pulumi project of the current folder (the nearest `Pulumi.yaml` upward), reading
    its stack files from its `stackConfigDir`, as `pulumi` does. `triplane new` starts one.
    """
    if cwd is not None:
        os.chdir(cwd)


@cli.command()
@click.argument("stack")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the machine-readable plan (see README, 'Plan JSON') to this file.")
@click.option("--k8s-out", "k8s_out", type=click.Path(file_okay=False, path_type=Path),
              help="Write every Kubernetes object the stack would create, one YAML file per object.")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@click.option("--platform-plan", "platform_plan", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A use-case stack's platform: read its outputs from this plan JSON (`triplane plan <platform> "
              "--json FILE`) instead of planning the platform stack first.")
def plan(stack: str, json_path: Path | None, k8s_out: Path | None, quiet: bool, platform_plan: Path | None) -> None:
    """Plan STACK (a name such as `dev`, or a stack file) under the mock runtime."""
    from triplane import render
    from triplane.stackfile import load_stack, plan_file

    try:
        stack_file = load_stack(stack)
        environment = stack_file.environment()
        result = plan_file(stack_file, environment, platform_plan)
    except SpecError as error:
        fail(str(error))
        return
    console = Console()
    if quiet:
        for table in render.summary(result, environment):
            console.print(table)
        render.print_messages(console, result)
    else:
        render.print_plan(console, result, environment)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(result.dumps() + "\n", encoding="utf-8")
        console.print(f"plan written to {json_path}")
    if k8s_out is not None:
        from triplane.k8s_out import write_manifests

        written = write_manifests(result, k8s_out)
        console.print(f"{len(written)} Kubernetes manifests written to {k8s_out}")


@cli.command()
@click.argument("stack")
@click.option("--endpoint", "endpoints", multiple=True, metavar="HOST=URL",
              help="Read HOST's images from another distribution API root (a mirror), e.g. "
              "ghcr.io=https://mirror.corp/ghcr. Repeatable.")
def pin(stack: str, endpoints: tuple[str, ...]) -> None:
    """Resolve the digest of each self-managed use case's image and print the `image:` block to pin it.

    The stack file is not changed: copy each printed block under its use case.
    """
    from triplane.pin import PinError, pin_environment
    from triplane.stackfile import load_stack

    roots: dict[str, str] = {}
    for entry in endpoints:
        host, equals, url = entry.partition("=")
        if not equals or not host or not url.startswith(("https://", "http://")):
            fail(f"--endpoint {entry!r}: write HOST=URL, e.g. ghcr.io=https://mirror.corp/ghcr")
        roots[host] = url
    try:
        environment = load_stack(stack).whole_environment()
        pins = pin_environment(environment, roots)
    except SpecError as error:
        fail(str(error))
        return
    except PinError as error:
        fail(f"cannot pin {stack}: {error}")
        return
    if not pins:
        click.echo(f"{stack} has no self-managed use case: no image to pin")
        return
    for found in pins:
        click.echo(f"# {found.field}  ({found.use_case}: {found.image.upstream}, {found.media_type or 'manifest'})")
        click.echo(found.block())
        click.echo()


@cli.command("new")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--env", "env", help="Stack (environment) name; default dev.")
@click.option("--cloud", "clouds", multiple=True, type=click.Choice(CLOUDS), help="A cloud to use (repeatable).")
@click.option("--pattern", "patterns", multiple=True, type=click.Choice(PATTERNS), help="A pattern (repeatable).")
@click.option("--force", is_flag=True, help="Overwrite files that exist (without it nothing is ever overwritten).")
def new(directory: Path | None, env: str | None, clouds: tuple[str, ...], patterns: tuple[str, ...],
        force: bool) -> None:
    """Start a Triplane environment in DIRECTORY (default: here): an empty folder or a Python Pulumi project.

    Writes Pulumi.yaml (unless the project has one), __main__.py, a commented stack file, the policy
    config, requirements.txt pinned to this Triplane and a CI workflow. Files the project already has
    are kept (--force replaces them); only the stack file must be new. Without flags, a terminal is
    asked for the choices; otherwise one AWS cloud-managed use case in the stack `dev`.
    """
    from triplane.scaffold import DEFAULT_CLOUDS, DEFAULT_PATTERNS, Choice, ScaffoldError, plan_new, write_new

    target = directory or Path.cwd()
    if env is None and not clouds and not patterns and sys.stdin.isatty():
        env = click.prompt("Environment (stack) name", default="dev")
        clouds = _ask("Clouds", CLOUDS, DEFAULT_CLOUDS)
        patterns = _ask("Patterns", PATTERNS, DEFAULT_PATTERNS)
    try:
        choice = Choice.of(env or "dev", clouds, patterns)
        if target.exists() and not target.is_dir():
            raise ScaffoldError(f"{target}: not a folder")
        target.mkdir(parents=True, exist_ok=True)
        files = plan_new(target, choice)
        written = write_new(target, files, force)
    except (ScaffoldError, SpecError) as error:
        fail(str(error))
        return
    for note in files.notes:
        click.echo(note)
    for path in written:
        click.echo(f"wrote {target / path}")
    where = "" if directory is None else f"cd {directory} && "
    click.echo(f"next: {where}triplane plan {choice.env} && triplane check {choice.env}")


def _ask(label: str, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
    answer: str = click.prompt(f"{label} ({', '.join(allowed)}; comma-separated)", default=",".join(default))
    return tuple(part.strip() for part in answer.split(",") if part.strip())


@cli.command("policy-pack")
def policy_pack() -> None:
    """Print the folder of the installed `triplane` policy pack (the one holding PulumiPolicy.yaml).

    For `pulumi preview --policy-pack "$(triplane policy-pack)"` and
    `pulumi policy publish "$(triplane policy-pack)"` without a checkout of Triplane.
    """
    from triplane import policies

    click.echo(Path(policies.__file__).parent)


@cli.command()
@click.option("--use-cases-of", "platform", metavar="PLATFORM",
              help="Print only the use-case stacks PLATFORM serves, as a JSON list (a CI matrix).")
def stacks(platform: str | None) -> None:
    """List the project's stacks with their stage: single, platform (and the stacks it serves) or use-case.

    Deploy a platform stack first, then its use-case stacks (in parallel: they share nothing but it).
    """
    from triplane.stackfile import load_stack, stack_names

    rows: list[dict[str, Any]] = []
    try:
        for name in stack_names():
            environment = load_stack(name).environment()
            rows.append({"name": name, "stage": environment.kind, "platform": environment.platform,
                         "use_case_stacks": list(environment.use_case_stacks)})
    except SpecError as error:
        fail(str(error))
        return
    if platform is None:
        click.echo(json.dumps(rows, indent=2))
        return
    found = next((row for row in rows if row["name"] == platform), None)
    if found is None or found["stage"] != "platform":
        platforms = ", ".join(str(row["name"]) for row in rows if row["stage"] == "platform") or "none"
        fail(f"--use-cases-of {platform}: not a platform stack of this project (platform stacks: {platforms})")
        return
    click.echo(json.dumps(found["use_case_stacks"]))


@cli.command("first-deploy")
@click.argument("stack")
@click.option("--targets", is_flag=True, help="Print the target URNs alone, one per line (for CI).")
def first_deploy(stack: str, targets: bool) -> None:
    """Print the `pulumi up` that creates STACK's cloud resources alone (networks, clusters, access grants,
    caches, deploy runners), from anywhere, for a first deploy before the clusters' way in is reachable.

    Everything created through a cluster's Kubernetes API, or depending on it, is left to the next,
    full `pulumi up`, run from where the clusters' way in allows (a deploy runner: `deployer.runner`).
    """
    from triplane.first_deploy import cloud_first, command
    from triplane.stackfile import load_stack, plan_file

    try:
        stack_file = load_stack(stack)
        result = plan_file(stack_file, stack_file.environment())
    except SpecError as error:
        fail(str(error))
        return
    click.echo("\n".join(cloud_first(result)) if targets else command(result))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of `triplane:environment`, for editors that validate stack files."""
    document = Environment.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "triplane:environment"
    click.echo(json.dumps(document, indent=2, sort_keys=True))


def _register_commands() -> None:
    from triplane.check_cli import check
    from triplane.decide.cli import cost, dashboard, diagram, recommend

    for command in (check, recommend, cost, diagram, dashboard):
        cli.add_command(command)


_register_commands()


def main() -> None:
    cli()
