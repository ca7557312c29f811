"""Benchmark: offline plan and policy-gate speed as environments grow, against the bare SDK's floor.

    python -m benchmarks.run                      # 10, 50 and 200 use cases; writes benchmarks/results.json
    python -m benchmarks.run --sizes 10 --repeat 1 --no-gate

For each size an environment is generated (`benchmarks.environments`: every registered pattern on
every cloud, valid against `stacks.spec`) and written as a stack file. Then, in one process:

- plan: `triplane.stackfile.plan_stack` on that file, exactly what `triplane plan` runs (read the
  file, validate, run the program under the mock runtime);
- floor: the same resources registered again by the bare SDK under the same mocks, on the stock
  runtime (`benchmarks.floor`: the SDK's own wait, no Triplane code); its recorded requests are
  checked to equal the plan's;
- gate: `triplane.gate.check_plan` on the plan with the stack's settings, as `triplane check` runs it
  (every policy of the `triplane` pack, in-process);
- the longest chain of dependent resources (`benchmarks.chain`) and the explicit dependencies.

Each timing is the best of `--repeat` runs (the machine is shared; the best run is the one least
disturbed). Shipped stacks get their longest chain too. Results print as a table and go to JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import environments  # noqa: E402
from benchmarks.chain import longest_chain, redundant_dependencies  # noqa: E402
from benchmarks.floor import Captured, capturing, differences, run_floor  # noqa: E402
from triplane.plan import STACK_TYPE, Plan  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results.json"
DEFAULT_SIZES = (10, 50, 200)
FORMAT = "triplane-benchmark/1"
T = TypeVar("T")


class Timeout(Exception):
    """A run took longer than `--timeout` seconds (a hang is reported, not waited out)."""


@contextlib.contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise Timeout(f"{what} did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def timed(fn: Callable[[], T], seconds: float, what: str) -> tuple[float, T]:
    gc.collect()  # start each run from the same heap; no run pays for the previous one's garbage
    start = time.perf_counter()
    with deadline(seconds, what):
        result = fn()
    return time.perf_counter() - start, result


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for name in ("pulumi", "pulumi-aws", "pulumi-azure-native", "pulumi-gcp", "pulumi-kubernetes", "pulumi-policy"):
        with contextlib.suppress(PackageNotFoundError):
            packages[name] = version(name)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
        "commit": commit or None,
    }


def import_seconds() -> float:
    """Cold start: importing the program and the plan runtime in a fresh interpreter."""
    code = (
        "import time; t = time.perf_counter(); import stacks.program, triplane.stackfile; "
        "print(time.perf_counter() - t)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def resources(plan: Plan) -> int:
    return sum(1 for r in plan.resources if r.type != STACK_TYPE)


def chain_summary(plan: Plan) -> dict[str, Any]:
    chain = longest_chain(plan)
    return {"length": chain.length, "chain": chain.describe(plan)}


def explicit_summary(plan: Plan, captured: Captured) -> dict[str, Any]:
    """Dependencies no input carries (`depends_on`), by (dependent type -> dependency type).

    `redundant` are the explicit ones already implied by the resource's other waits: they never
    lengthen a chain, but say nothing the graph does not already say.
    """
    types = {r.urn: r.type for r in plan.resources}
    pairs = {(r.urn, dep) for r in plan.resources for dep in captured.explicit_dependencies(r)}
    explicit: Counter[str] = Counter(f"{types[urn]} -> {types.get(dep, dep)}" for urn, dep in pairs)
    redundant: Counter[str] = Counter(
        f"{types[urn]} -> {types.get(dep, dep)}" for urn, dep in redundant_dependencies(plan) if (urn, dep) in pairs
    )
    return {"explicit": dict(sorted(explicit.items())), "redundant": dict(sorted(redundant.items()))}


def paired_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median, over rounds, of one measurement over the other taken in the same round.

    Each round runs plan, floor and gate back to back, so a slow spell of the machine stretches all
    of them; a ratio within a round cancels it, where the ratio of two best times, each from a
    different round, would not.
    """
    return round(statistics.median(n / d for n, d in zip(numerators, denominators, strict=True)), 3)


def bench_size(size: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from triplane.gate import check_plan
    from triplane.stackfile import load_stack, plan_stack

    directory = workdir / f"size-{size}"
    directory.mkdir(parents=True, exist_ok=True)
    path = environments.write_stack(directory, size, args.patterns)
    stack_file = load_stack(str(path))
    samples: dict[str, list[float]] = {"plan": [], "floor": [], "gate": []}
    plan: Plan | None = None
    captured: Captured | None = None
    mismatched: list[str] = []
    gate_result = None
    plan_once = functools.partial(plan_stack, str(path))
    for round_ in range(args.repeat):
        with capturing() if captured is None else contextlib.nullcontext(captured) as captured:
            seconds, current = timed(plan_once, args.timeout, f"plan of {size} use cases")
        plan = current
        samples["plan"].append(seconds)
        seconds, replayed = timed(functools.partial(run_floor, current, captured), args.timeout, f"floor of {size}")
        samples["floor"].append(seconds)
        if round_ == 0:
            mismatched = differences(current, replayed)
        if not args.no_gate:
            gate_once = functools.partial(check_plan, current, stack_config=stack_file.config)
            seconds, gate_result = timed(gate_once, args.timeout, f"gate of {size}")
            samples["gate"].append(seconds)
    assert plan is not None and captured is not None
    count = resources(plan)
    best = {key: min(values) for key, values in samples.items() if values}
    result: dict[str, Any] = {
        "use_cases": size,
        "patterns": sorted({u["pattern"] for u in environments.environment(size, args.patterns)["use_cases"]}),
        "resources": count,
        "seconds": {key: round(value, 3) for key, value in best.items()},
        "samples": {key: [round(v, 3) for v in values] for key, values in samples.items() if values},
        "resources_per_second": {key: round(count / value, 1) for key, value in best.items()},
        "ms_per_resource": {key: round(1000 * value / count, 2) for key, value in best.items()},
        "plan_to_floor": paired_ratio(samples["plan"], samples["floor"]),
        "floor_same_requests": not mismatched,
        "floor_mismatches": mismatched[:20],
        "longest_chain": chain_summary(plan),
        "dependencies": explicit_summary(plan, captured),
    }
    if "gate" in best and gate_result is not None:
        result["gate_to_plan"] = paired_ratio(samples["gate"], samples["plan"])
        result["gate"] = {
            "violations": len(gate_result.violations),
            "mandatory": [f"{v.policy}: {v.resource_name}" for v in gate_result.mandatory][:20],
        }
    return result


def bench_shipped(args: argparse.Namespace) -> dict[str, Any]:
    from triplane.stackfile import plan_stack, stack_names

    shipped: dict[str, Any] = {}
    for name in stack_names():
        try:
            seconds, plan = timed(functools.partial(plan_stack, name), args.timeout, f"plan of stack {name}")
        except Exception as error:  # reported per stack; the others still run
            shipped[name] = {"error": f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"}
            continue
        shipped[name] = {
            "resources": resources(plan),
            "seconds": round(seconds, 3),
            "longest_chain": chain_summary(plan),
        }
    return shipped


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| use cases | resources | plan s | plan res/s | floor s | floor res/s | plan/floor | "
        "gate s | gate res/s | gate/plan | longest chain |"
    )
    lines = [head, "|" + "|".join("---:" for _ in range(head.count("|") - 1)) + "|"]
    for r in results:
        s, rps = r["seconds"], r["resources_per_second"]
        gate = (
            f"{s['gate']:.2f} | {rps['gate']:.0f} | {r['gate_to_plan']:.2f}" if "gate" in s else "- | - | -"
        )
        lines.append(
            f"| {r['use_cases']} | {r['resources']} | {s['plan']:.2f} | {rps['plan']:.0f} | {s['floor']:.2f} | "
            f"{rps['floor']:.0f} | {r['plan_to_floor']:.2f} | {gate} | {r['longest_chain']['length']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="use cases per environment")
    parser.add_argument(
        "--repeat", type=int, default=5, help="rounds per size; the best time and the median paired ratio are reported"
    )
    parser.add_argument("--patterns", nargs="+", choices=environments.PATTERNS, help="default: every registered one")
    parser.add_argument("--no-gate", action="store_true", help="skip the policy gate")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed first plan (smoke tests)")
    parser.add_argument("--no-import-time", action="store_true", help="skip timing a cold import")
    parser.add_argument("--no-shipped", action="store_true", help="skip the shipped stacks' longest chains")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before one run counts as hung")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON result (default benchmarks/results.json)")
    args = parser.parse_args(argv)
    args.patterns = tuple(args.patterns) if args.patterns else environments.registered_patterns()
    args.repeat = max(1, args.repeat)

    report: dict[str, Any] = {
        "format": FORMAT,
        "machine": machine(),
        "patterns": list(args.patterns),
        "import_seconds": None if args.no_import_time else round(import_seconds(), 3),
    }
    print(f"machine: {report['machine']['nproc']} x {report['machine']['cpu']}, Python {report['machine']['python']}")
    cold = report["import_seconds"]
    print(f"patterns: {', '.join(args.patterns)}" + (f"; cold import of the program: {cold:.2f} s" if cold else ""))
    from triplane.stackfile import plan_stack

    with tempfile.TemporaryDirectory(prefix="triplane-bench-") as work:
        workdir = Path(work)
        # Warm up: every (pattern, cloud) once, so lazily imported SDK modules are loaded before timing.
        if not args.no_warm_up:
            warm = environments.write_stack(workdir, len(environments.mix(args.patterns)), args.patterns)
            with deadline(args.timeout, "warm-up plan"):
                plan_stack(str(warm))
        results = []
        for size in args.sizes:
            result = bench_size(size, args, workdir)
            results.append(result)
            print(
                f"{size:>4} use cases: {result['resources']} resources, plan {result['seconds']['plan']:.2f} s, "
                f"floor {result['seconds']['floor']:.2f} s, gate {result['seconds'].get('gate', float('nan')):.2f} s",
                flush=True,
            )
    report["sizes"] = results
    if results:
        first, last = results[0], results[-1]
        report["per_resource_growth"] = {
            key: round(last["ms_per_resource"][key] / first["ms_per_resource"][key], 3)
            for key in first["ms_per_resource"]
        }
    if not args.no_shipped:
        report["shipped"] = bench_shipped(args)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")

    print()
    print(table(results))
    if "per_resource_growth" in report:
        growth = report["per_resource_growth"]
        print(
            f"\ntime per resource, {results[-1]['use_cases']} vs {results[0]['use_cases']} use cases: "
            + ", ".join(f"{k} x{v:.2f}" for k, v in growth.items())
        )
    for name, entry in report.get("shipped", {}).items():
        if "error" in entry:
            print(f"stack {name}: {entry['error']}")
        else:
            print(f"stack {name}: {entry['resources']} resources, longest chain {entry['longest_chain']['length']}")
    print(f"\nwrote {args.out}")
    return report


if __name__ == "__main__":
    main()
