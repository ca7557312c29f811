"""Human-readable views of a plan: a tree (use case -> component -> resources) and a summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from triplane.plan import STACK_TYPE, Plan, PlannedResource
from triplane.policies.monitoring import (
    AMP_RULES,
    AWS_ALARM,
    AZURE_ALERT,
    AZURE_PROMETHEUS_RULES,
    GCP_POLICY,
    PROMETHEUS_RULE,
    alerting_rules,
)
from triplane.policies.taxonomy import PATTERNS, SHARED
from triplane.stacks.spec import Environment


@dataclass(frozen=True)
class Ownership:
    """Which use case (or `shared`) each resource belongs to, by its top-level component."""

    use_case_of: dict[str, str]
    pattern_of: dict[str, str]

    @classmethod
    def of(cls, plan: Plan, environment: Environment) -> Ownership:
        by_component = {f"{plan.stack}-{u.name}": u for u in environment.use_cases}
        patterns: dict[str, str] = {u.name: u.pattern for u in environment.use_cases}
        top: dict[str, str] = {}
        for resource in parents_first(plan):
            parent = resource.parent
            if parent is None or parent.split("::")[2] == STACK_TYPE:
                owner = by_component.get(resource.name)
                top[resource.urn] = owner.name if owner else SHARED
            else:
                top[resource.urn] = top.get(parent, SHARED)
        return cls(use_case_of=top, pattern_of=patterns)

    def pattern(self, resource: PlannedResource) -> str:
        return self.pattern_of.get(self.use_case_of.get(resource.urn, SHARED), SHARED)


def parents_first(plan: Plan) -> list[PlannedResource]:
    """Every resource but the stack, each after its parent (a URN names only its parent's type, so the
    depth comes from walking the parent chain)."""
    parent_of = {r.urn: r.parent for r in plan.resources}
    depth: dict[str, int] = {}

    def depth_of(urn: str) -> int:
        if urn not in depth:
            parent = parent_of.get(urn)
            depth[urn] = 0 if parent is None or parent not in parent_of else depth_of(parent) + 1
        return depth[urn]

    resources = [r for r in plan.resources if r.type != STACK_TYPE]
    return sorted(resources, key=lambda r: (depth_of(r.urn), r.urn))


def tree(plan: Plan, environment: Environment) -> Tree:
    ownership = Ownership.of(plan, environment)
    root = Tree(f"[bold]{plan.project}-{plan.stack}[/bold]  ({len(plan.resources) - 1} resources)")
    use_cases = {u.name: u for u in environment.use_cases}
    groups: dict[str, Tree] = {}
    nodes: dict[str, Tree] = {}

    def group(name: str) -> Tree:
        if name not in groups:
            if name == SHARED:
                groups[name] = root.add("[bold]shared[/bold]  providers and networks")
            else:
                u = use_cases[name]
                groups[name] = root.add(
                    f"[bold]{name}[/bold]  {u.pattern}, {u.data_classification}"
                    + (f", {getattr(u, 'cloud', '')}" if getattr(u, "cloud", None) else "")
                )
        return groups[name]

    for name in [SHARED, *use_cases]:
        group(name)
    for resource in parents_first(plan):
        owner = ownership.use_case_of.get(resource.urn, SHARED)
        parent_node = nodes.get(resource.parent or "") or group(owner)
        label = f"{resource.type}  [dim]{resource.name}[/dim]"
        if resource.protect:
            label += "  [yellow]protected[/yellow]"
        nodes[resource.urn] = parent_node.add(label)
    return root


def summary(plan: Plan, environment: Environment) -> tuple[Table, Table]:
    ownership = Ownership.of(plan, environment)
    resources = [r for r in plan.resources if r.type != STACK_TYPE]
    by_type = Counter(r.type for r in resources)
    by_pattern = Counter(ownership.pattern(r) for r in resources)
    types = Table(title="Resources by type")
    types.add_column("type")
    types.add_column("count", justify="right")
    for type_, count in sorted(by_type.items()):
        types.add_row(type_, str(count))
    patterns = Table(title="Resources by pattern")
    patterns.add_column("pattern")
    patterns.add_column("use cases", justify="right")
    patterns.add_column("resources", justify="right")
    for pattern in (*PATTERNS, SHARED):
        count = sum(1 for u in environment.use_cases if u.pattern == pattern)
        patterns.add_row(pattern, "-" if pattern == SHARED else str(count), str(by_pattern.get(pattern, 0)))
    return types, patterns


WORKLOAD_SPECS = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
"""Where each workload kind keeps its pod spec."""


def workload_images(plan: Plan, environment: Environment) -> list[tuple[str, str, str]]:
    """(use case, workload, image reference) for every container of every use case's workloads."""
    ownership = Ownership.of(plan, environment)
    rows: list[tuple[str, str, str]] = []
    for resource in plan.resources:
        path = WORKLOAD_SPECS.get(resource.type)
        owner = ownership.use_case_of.get(resource.urn, SHARED)
        if path is None or owner == SHARED:
            continue
        spec: object = resource.inputs
        for key in path:
            spec = spec.get(key) if isinstance(spec, dict) else None
        if not isinstance(spec, dict):
            continue
        kind = resource.type.rsplit(":", 1)[1]
        for field in ("initContainers", "containers"):
            for container in spec.get(field) or []:
                if isinstance(container, dict) and isinstance(container.get("image"), str):
                    rows.append((owner, f"{kind}/{resource.name}", container["image"]))
    return sorted(set(rows))


def print_images(console: Console, plan: Plan, environment: Environment) -> None:
    """The image every use case's pods and Jobs pull (a digest shows as `@sha256:...`), one line each and
    never folded, so a reference can be compared or copied whole."""
    rows = workload_images(plan, environment)
    if not rows:
        return
    console.print("Images by use case", style="bold")
    for use_case, workload, image in rows:
        console.print(f"  {use_case}  {workload}  {image}", markup=False, highlight=False, soft_wrap=True)


ALERT_TYPES = {
    AWS_ALARM: ("CloudWatch alarm", "tags", "alarmDescription"),
    AZURE_ALERT: ("Azure metric alert", "tags", "description"),
    GCP_POLICY: ("Cloud Monitoring policy", "userLabels", "documentation.content"),
}
"""Cloud alert types: what to call them, where they keep the `use-case`/`alert` tags, and their summary."""
PROMETHEUS_WHERE = {
    PROMETHEUS_RULE: "PrometheusRule (the cluster's own Prometheus; no channel)",
    AMP_RULES: "Amazon Managed Prometheus rule (its alert manager, to the SNS topic)",
    AZURE_PROMETHEUS_RULES: "Azure Monitor Prometheus rule (the action group)",
}
"""Where a Prometheus alerting rule is evaluated and whom it tells: the cloud's managed Prometheus notifies
the environment's channel; an existing cluster's own Prometheus evaluates rules it has no channel for."""


def _at(value: object, path: str) -> object:
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def planned_alerts(plan: Plan) -> list[tuple[str, str, str, str]]:
    """(use case, alert kind, where it is evaluated, what it watches) for every alert in the plan."""
    rows: list[tuple[str, str, str, str]] = []
    for resource in plan.resources:
        if resource.type in ALERT_TYPES:
            what, tags_field, summary = ALERT_TYPES[resource.type]
            tags = resource.inputs.get(tags_field) or {}
            rows.append(
                (str(tags.get("use-case")), str(tags.get("alert")), what, str(_at(resource.inputs, summary) or ""))
            )
        elif resource.type in PROMETHEUS_WHERE:
            for rule in alerting_rules(resource.type, resource.inputs):
                labels = rule.get("labels") or {}
                rows.append(
                    (
                        str(labels.get("use_case")),
                        str(labels.get("triplane_alert")),
                        PROMETHEUS_WHERE[resource.type],
                        str(_at(rule, "annotations.summary") or ""),
                    )
                )
    return sorted(rows)


def print_alerts(console: Console, plan: Plan) -> None:
    """Each use case's alerts as planned: kind, where it is evaluated and what it watches, one line each."""
    rows = planned_alerts(plan)
    if not rows:
        return
    console.print("Alerts by use case", style="bold")
    for use_case, kind, where, summary in rows:
        console.print(f"  {use_case}  {kind}  {where}: {summary}", markup=False, highlight=False, soft_wrap=True)


def messages(plan: Plan) -> list[str]:
    """What the program told the user (warnings and errors first, then information), one line each."""
    order = {"error": 0, "warning": 1, "info": 2}
    ranked = sorted(plan.logs, key=lambda entry: order.get(entry[0], 3))
    return [f"{level}: {message}" for level, message in ranked if level in order]


def print_messages(console: Console, plan: Plan) -> None:
    for line in messages(plan):
        style = "red" if line.startswith("error") else "yellow" if line.startswith("warning") else "dim"
        console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def print_plan(console: Console, plan: Plan, environment: Environment) -> None:
    console.print(tree(plan, environment))
    for table in summary(plan, environment):
        console.print(table)
    print_images(console, plan, environment)
    print_alerts(console, plan)
    print_messages(console, plan)
