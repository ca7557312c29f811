"""`triplane recommend`, `triplane cost <stack>`, `triplane diagram <stack>` and `triplane dashboard <stack>`:
offline decision support.

Register on the main group with `register(cli)` (or `cli.add_command(...)` for each command).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from triplane.decide.prices import PriceError, Prices, load_prices

if TYPE_CHECKING:
    from triplane.decide.diagram import Rendered
from triplane.policies.taxonomy import CLASSIFICATIONS
from triplane.stacks.spec import Environment, SpecError

PRICES_HELP = "A JSON price file merged over the shipped sheet (same shape as triplane/decide/prices.json)."


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def read_stack(stack: str) -> tuple[str, Environment]:
    """The stack's name and validated environment (the one place that reads stack files here)."""
    from triplane.stackfile import load_stack

    stack_file = load_stack(stack)
    return stack_file.name, stack_file.whole_environment()


def _prices(path: Path | None) -> Prices:
    try:
        return load_prices(path)
    except PriceError as error:
        _fail(str(error))
        raise  # unreachable: _fail exits


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _tokens(value: float) -> str:
    if value >= 1e9:
        return f"{value / 1e9:,.2f}B"
    return f"{value / 1e6:,.1f}M"


def _sources(console: Console, prices: Prices, used: dict[str, dict[str, str]]) -> None:
    console.print(f"Prices as of {prices.as_of} ({', '.join(prices.files)}); sources:")
    for key, source in used.items():
        console.print(f"  {key}: {source['url']} (as of {source['as_of']})", highlight=False, soft_wrap=True)


# --- recommend ---------------------------------------------------------------------------------


def _facts_from(file: Path | None, flags: dict[str, Any]) -> Any:
    from triplane.decide.recommend import UseCaseFacts

    values: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            _fail(f"{file}: cannot read the facts file ({exc})")
        if not isinstance(loaded, dict):
            _fail(f"{file}: a facts file is a mapping of fact names to values")
        values.update(loaded)
    values.update({k: v for k, v in flags.items() if v not in (None, ())})
    try:
        return UseCaseFacts.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'facts'}: {e['msg']}" for e in exc.errors()
        )
        _fail(f"{file or 'flags'}: {problems}")


def _token_option(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    from triplane.decide.recommend import parse_tokens

    if value is None:
        return None
    try:
        return parse_tokens(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.option(
    "--facts",
    "facts_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML or JSON file of facts (flags override it).",
)
@click.option("--name", help="Use case name for the stack-file block.")
@click.option(
    "--classification",
    "data_classification",
    type=click.Choice(CLASSIFICATIONS),
)
@click.option(
    "--residency", help="Geography the data must stay in: us, eu, uk, ch, ca, jp, au, in, br, kr, sg."
)
@click.option("--air-gapped", is_flag=True, default=None, help="No network path to any model API.")
@click.option(
    "--cloud",
    "clouds",
    multiple=True,
    type=click.Choice(["aws", "azure", "gcp"]),
    help="A cloud the organisation can use (repeat; default all three).",
)
@click.option(
    "--input-tokens",
    "input_tokens_per_month",
    callback=_token_option,
    help="Prompt tokens per month, e.g. 300M.",
)
@click.option(
    "--output-tokens",
    "output_tokens_per_month",
    callback=_token_option,
    help="Completion tokens per month, e.g. 60M.",
)
@click.option("--latency-ms", type=int, help="Target p95 time to first token.")
@click.option("--customisation", type=click.Choice(["none", "fine-tuning", "own-weights"]))
@click.option(
    "--ml-skills", type=click.Choice(["none", "some", "strong"]), help="In-house skills to run GPU serving."
)
@click.option("--weeks", "weeks_to_production", type=int, help="Weeks until it must be in production.")
@click.option(
    "--model-class",
    type=click.Choice(["small", "medium", "large"]),
    help="Capability needed: small (8B, mini), medium (70B), large (frontier).",
)
@click.option(
    "--check",
    "check_stack",
    metavar="STACK",
    help="Instead: check an existing stack's use cases against the same rules.",
)
@click.option(
    "--prices", "prices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=PRICES_HELP
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def recommend(
    facts_file: Path | None, check_stack: str | None, prices_file: Path | None, as_json: bool, **flags: Any
) -> None:
    """Recommend saas, cloud-managed or self-managed for a use case, with reasons and a stack-file block."""
    from triplane.decide.recommend import recommend as decide

    prices = _prices(prices_file)
    if check_stack is not None:
        _check(check_stack, prices, as_json)
        return
    if flags.get("clouds") == ():
        flags.pop("clouds")
    else:
        flags["clouds"] = list(flags["clouds"])
    if facts_file is None and flags.get("data_classification") is None:
        _fail("give --classification (or a --facts file); see `triplane recommend --help`")
    facts = _facts_from(facts_file, flags)
    result = decide(facts, prices)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    console = Console()
    clouds = f" on {' or '.join(result.clouds)}" if result.clouds else ""
    if result.pattern == "self-managed":
        clouds = " on an existing on-premises cluster" if facts.air_gapped else f", a cluster{clouds}"
    console.print(f"[bold]Recommendation for {facts.name}: {result.pattern}{clouds}[/bold]")
    if result.regions:
        for cloud, regions in result.regions.items():
            console.print(f"  regions in {facts.residency} on {cloud}: {', '.join(regions)}")
    if result.conflict:
        console.print(f"[bold red]Conflict:[/bold red] {result.conflict}")
    console.print("Why:")
    for reason in result.reasons or ["no rule prefers it; it is the simplest allowed pattern"]:
        console.print(f"  + {reason}")
    against = [f for f in result.findings if f.pattern == result.pattern and f.effect == "avoid"]
    for finding in against:
        console.print(f"  - {finding.reason}")
    if result.exclusions:
        console.print("Excluded:")
        for pattern, reasons in result.exclusions.items():
            console.print(f"  {pattern}: {'; '.join(dict.fromkeys(reasons))}")
    others = [p for p in result.scores if p != result.pattern and p not in result.exclusions]
    for pattern in others:
        console.print(
            f"Also allowed: {pattern} (score {result.scores[pattern]} against "
            f"{result.scores[result.pattern]})"
        )
    if result.caveats:
        console.print("Caveats:")
        for caveat in result.caveats:
            console.print(f"  ! {caveat}")
    if facts.traffic is not None:
        table = Table(title=f"Monthly cost at {_tokens(facts.traffic.total)} tokens (reference models)")
        for column in ("pattern", "where", "model", "monthly"):
            table.add_column(column, justify="right" if column == "monthly" else "left")
        for pattern, estimate in result.costs.items():
            table.add_row(pattern, estimate.where, estimate.model, _money(estimate.monthly))
        console.print(table)
        if result.break_even_tokens is not None:
            console.print(
                f"Self-managed becomes cheaper above {_tokens(result.break_even_tokens)} tokens/month."
            )
    console.print("Paste into the stack file:")
    click.echo(result.use_case_yaml.rstrip())


def _check(stack: str, prices: Prices, as_json: bool) -> None:
    from triplane.decide.advisor import check_environment

    try:
        name, environment = read_stack(stack)
    except SpecError as error:
        _fail(str(error))
        return
    result = check_environment(environment, prices)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "stack": name,
                    "findings": [a.to_dict() for a in result.advice],
                    "without_volume": result.without_volume,
                },
                indent=2,
            )
        )
    else:
        console = Console()
        if not result.advice:
            console.print(
                f"{name}: every use case's pattern is allowed for its data, and none is clearly "
                "cheaper elsewhere at its declared volume."
            )
        for advice in result.advice:
            tag = (
                "[bold red]violation[/bold red]"
                if advice.severity == "violation"
                else "[yellow]advice[/yellow]"
            )
            console.print(f"{tag} {advice.use_case}: {advice.message}")
        if result.without_volume:
            console.print(f"No `volume` declared (cost not compared): {', '.join(result.without_volume)}")
    if result.violations:
        sys.exit(1)


# --- cost --------------------------------------------------------------------------------------


@click.command()
@click.argument("stack")
@click.option(
    "--prices", "prices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=PRICES_HELP
)
@click.option("--spot", is_flag=True, help="Price every self-managed GPU node at spot rates.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cost(stack: str, prices_file: Path | None, spot: bool, as_json: bool) -> None:
    """Estimate STACK's monthly cost per use case, against the other patterns, with the break-even volume."""
    from triplane.decide.cost import estimate_environment

    prices = _prices(prices_file)
    try:
        name, environment = read_stack(stack)
    except SpecError as error:
        _fail(str(error))
        return
    result = estimate_environment(environment, name, prices, spot=spot)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # a file or pipe gets the whole table, not an 80-column squeeze
    table = Table(title=f"{name}: estimated monthly cost ({prices.data['currency']})")
    for column in (
        "use case",
        "pattern",
        "data",
        "volume/month",
        "estimate",
        "other patterns, same volume",
        "self-managed cheaper above",
    ):
        table.add_column(
            column,
            justify="right" if column in ("estimate", "volume/month") else "left",
            overflow="fold",
            min_width=34 if column.startswith("other") else None,
        )
    for use_case in result.use_cases:
        current = use_case.current
        estimate = _money(current.monthly)
        if current.pattern == "self-managed" and current.low is not None and current.high is not None:
            estimate += f"\n(range {_money(current.low)}-{_money(current.high)})"
        if current.missing:
            estimate += "\n(incomplete)"
        others = "\n".join(
            f"{a.pattern} {_money(a.monthly)}: {a.where}, {a.model.rsplit('/', 1)[-1]}"
            + ("" if a.allowed else " (not allowed)")
            for a in use_case.alternatives
        )
        if use_case.break_even_tokens is not None:
            point = f"{_tokens(use_case.break_even_tokens)} tokens"
        elif use_case.break_even_between is None:
            point = "n/a (no allowed token-priced pattern)"
        else:
            point = "never, at these prices"
        volume = _tokens(use_case.traffic.total) if use_case.traffic else "not declared"
        table.add_row(
            use_case.name, current.pattern, use_case.data_classification, volume, estimate, others, point
        )
    console.print(table)
    shared = Table(title="Shared infrastructure")
    shared.add_column("item")
    shared.add_column("monthly", justify="right")
    shared.add_column("how")
    for line in result.shared:
        shared.add_row(line.item, _money(line.monthly), line.detail)
    if result.shared:
        console.print(shared)
    console.print(f"[bold]Total: {_money(result.total)} per month[/bold]")
    notes = [(u.name, n) for u in result.use_cases for n in (*u.current.notes, *u.current.missing)]
    for use_case_name, note in notes:
        console.print(f"  note {use_case_name}: {note}", highlight=False, markup=False)
    _sources(console, prices, result.sources_used())


# --- diagram -----------------------------------------------------------------------------------


def _wrote(result: Rendered) -> None:
    """What a drawing command wrote, one line each, and what it could not (on stderr)."""
    for path in result.written:
        click.echo(f"wrote {path}")
    for note in result.notes:
        click.echo(f"note: {note}", err=True)


def _picture_options(stem: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`--out` and `--format` of a command that draws a picture through D2 into `<out>/<stem>.*`."""

    def add(command: Callable[..., None]) -> Callable[..., None]:
        command = click.option(
            "--format",
            "formats",
            multiple=True,
            type=click.Choice(["svg", "png"]),
            help="Formats to write (repeat; default both).",
        )(command)
        return click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("diagrams"),
            show_default=True,
            help=f"Directory for {stem}.d2 (the D2 source), {stem}.svg and {stem}.png.",
        )(command)

    return add


@click.command()
@click.argument("stack")
@_picture_options("<stack>")
def diagram(stack: str, out_dir: Path, formats: tuple[str, ...]) -> None:
    """Draw STACK's networks, pattern groups and each use case's path to its model (D2: SVG and PNG)."""
    from triplane.decide.diagram import DiagramError, d2_source, render

    try:
        name, environment = read_stack(stack)
    except SpecError as error:
        _fail(str(error))
        return
    try:
        result = render(d2_source(environment, name), out_dir / name, formats or ("svg", "png"))
    except DiagramError as error:
        _fail(str(error))
        return
    _wrote(result)


# --- dashboard ---------------------------------------------------------------------------------


@click.command()
@click.argument("stack")
@_picture_options("<stack>-dashboard")
def dashboard(stack: str, out_dir: Path, formats: tuple[str, ...]) -> None:
    """Draw STACK's monitoring dashboards from their planned definitions: a row per use case, a panel per
    signal, alert thresholds (D2: SVG and PNG)."""
    from triplane.decide.dashboard import DashboardError, d2_source, plan_dashboards
    from triplane.decide.diagram import DiagramError, render

    try:
        name, found = plan_dashboards(stack)
        result = render(d2_source(found, name), out_dir / f"{name}-dashboard", formats or ("svg", "png"))
    except (SpecError, DashboardError, DiagramError) as error:
        _fail(str(error))
        return
    _wrote(result)


def register(group: click.Group) -> None:
    """Add the four commands to the `triplane` group."""
    for command in (recommend, cost, diagram, dashboard):
        group.add_command(command)
