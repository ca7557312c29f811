"""`triplane check STACK`: plan a stack offline and run the policy pack against it.

Exit status: 0 when no mandatory policy fails, 1 when one does, 2 when the stack, the policy
configuration or the scope is invalid.
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
    "--scope",
    type=click.Choice(["aws", "azure", "gcp", "kubernetes"]),
    help="Run only one cloud's policies (with the Kubernetes and stack-level ones), or only the "
    "Kubernetes ones: what the pack's scopes/<scope>.json config does under the engine.",
)
@click.option(
    "--policy-config",
    "policy_config",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Policy config file (the --policy-pack-config format). Default: the project's "
    "policies/policy-config.json, else the packs' defaults.",
)
@click.option(
    "--platform-plan",
    "platform_plan",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A use-case stack's platform: read its outputs from this plan JSON instead of planning it first.",
)
def check(
    stack: str, as_json: bool, scope: str | None, policy_config: Path | None, platform_plan: Path | None
) -> None:
    """Check STACK (a name such as `dev`, or a stack file) against the policy pack, offline.

    The pack's policies run in-process on the plan, on the view of it the engine gives a policy
    pack under `pulumi preview --policy-pack`. Violations are grouped by use case and resource.
    """
    from triplane.gate import GateError, check_plan
    from triplane.stackfile import load_stack, plan_file

    try:
        stack_file = load_stack(stack)
        plan = plan_file(stack_file, stack_file.environment(), platform_plan)
        result = check_plan(
            plan,
            config=policy_config,
            scope=scope,
            stack_config=stack_file.config,
        )
    except (SpecError, GateError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(result.dumps() if as_json else result.render())
    sys.exit(result.exit_code)
