"""`triplane check STACK`: plan a stack offline and run the policy packs against it.

Exit status: 0 when no mandatory policy fails, 1 when one does, 2 when the stack, the policy
configuration or a pack name is invalid.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from triplane.stacks.spec import SpecError


@click.command("check")
@click.argument("stack")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (format triplane-check/1).")
@click.option(
    "--pack",
    "packs",
    multiple=True,
    metavar="NAME",
    help="Policy pack to run: triplane (default), triplane-aws, triplane-azure, triplane-gcp, "
    "triplane-kubernetes, or the path of one of their folders. Repeatable.",
)
@click.option(
    "--policy-config",
    "policy_config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Policy config file (the --policy-pack-config format). Default: the project's "
    "policies/policy-config.json, else the packs' defaults.",
)
def check(stack: str, as_json: bool, packs: tuple[str, ...], policy_config: Path | None) -> None:
    """Check STACK (a name such as `dev`, or a stack file) against the policy packs, offline.

    The packs' policies run in-process on the plan, on the view of it the engine gives a policy
    pack under `pulumi preview --policy-pack`. Violations are grouped by use case and resource.
    """
    from triplane.gate import DEFAULT_PACKS, GateError, check_plan
    from triplane.stackfile import load_stack, plan_file

    try:
        stack_file = load_stack(stack)
        plan = plan_file(stack_file, stack_file.environment())
        result = check_plan(
            plan,
            packs=packs or DEFAULT_PACKS,
            config=policy_config,
            stack_config=stack_file.config,
        )
    except (SpecError, GateError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(result.dumps() if as_json else result.render())
    sys.exit(result.exit_code)
