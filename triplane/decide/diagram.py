"""The architecture picture of an environment, drawn with matplotlib (SVG and PNG, no system tools).

What it shows: each network (cloud, region, address blocks) or existing cluster; the three pattern
groups as bands; each use case's path from the application subnet to its model (firewall to a SaaS
API, interface endpoint / private endpoint / Private Service Connect to a managed model, the
in-cluster service in front of self-managed GPUs); and each use case's data classification.

The content is built first as plain data (`build`), so it can be checked without drawing; `render`
lays it out on a fixed grid of columns (networks, use cases, network path, model) and rows.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from components.network import layout
from stacks.spec import CloudManagedUseCase, Environment, SaasUseCase, SelfManagedUseCase
from triplane.decide.policy import PATTERNS

CLASSIFICATION_COLOURS = {
    "public": "#2e7d32",
    "internal": "#1565c0",
    "confidential": "#ef6c00",
    "restricted": "#c62828",
}
PATTERN_TITLES = {"saas": "SaaS", "cloud-managed": "Cloud-managed", "self-managed": "Self-managed"}
PATTERN_FILL = {"saas": "#fff8e1", "cloud-managed": "#e3f2fd", "self-managed": "#f3e5f5"}
CLOUD_TITLES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud"}
KUBERNETES = {"aws": "EKS", "azure": "AKS", "gcp": "GKE"}
SECRET_STORES = {"aws": "Secrets Manager", "azure": "Key Vault", "gcp": "Secret Manager"}


@dataclass(frozen=True)
class NetworkBox:
    key: str
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    use_case: str
    pattern: str
    classification: str
    network: str
    """The `NetworkBox.key` the application calls from."""
    path: str
    path_lines: tuple[str, ...]
    model: str
    model_lines: tuple[str, ...]
    external: bool = False
    """The model is outside the organisation's network (a SaaS API on the internet)."""


@dataclass
class Diagram:
    title: str
    networks: list[NetworkBox] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    def rows_of(self, pattern: str) -> list[Row]:
        return [r for r in self.rows if r.pattern == pattern]


def _aws_network(environment: Environment) -> NetworkBox | None:
    aws = environment.clouds.aws
    if aws is None:
        return None
    if aws.network.new is not None:
        cidr = aws.network.new.cidr
        subnets = [layout.block(cidr, layout.AWS_APP + i) for i in range(len(aws.network.new.zones))]
        lines: tuple[str, ...] = (
            f"VPC {cidr} (new)",
            "app subnets " + ", ".join(subnets),
            "zones " + ", ".join(aws.network.new.zones),
        )
    else:
        existing = aws.network.existing
        assert existing is not None
        lines = (f"VPC {existing.vpc_id} (existing)", "apps " + ", ".join(existing.application_cidrs))
    return NetworkBox("aws", f"AWS {aws.region}", lines)


def _azure_network(environment: Environment) -> NetworkBox | None:
    azure = environment.clouds.azure
    if azure is None:
        return None
    if azure.network.new is not None:
        cidr = azure.network.new.cidr
        lines: tuple[str, ...] = (
            f"VNet {cidr} (new)",
            f"app subnet {layout.block(cidr, layout.AZURE_APP)}",
            f"endpoints {layout.block(cidr, layout.AZURE_ENDPOINTS)}",
        )
    else:
        existing = azure.network.existing
        assert existing is not None
        lines = (
            f"VNet {existing.vnet_id.rsplit('/', 1)[-1]} (existing)",
            "apps " + ", ".join(existing.application_cidrs),
        )
    return NetworkBox("azure", f"Azure {azure.location}", (*lines, f"group {azure.resource_group}"))


def _gcp_network(environment: Environment) -> NetworkBox | None:
    gcp = environment.clouds.gcp
    if gcp is None:
        return None
    if gcp.network.new is not None:
        cidr = gcp.network.new.cidr
        lines: tuple[str, ...] = (
            f"VPC {cidr} (new)",
            f"app subnet {layout.block(cidr, layout.GCP_APP)}",
            f"PSC address {layout.psc_address(cidr)}",
        )
    else:
        existing = gcp.network.existing
        assert existing is not None
        lines = (
            f"VPC {existing.network.rsplit('/', 1)[-1]} (existing)",
            "apps " + ", ".join(existing.application_cidrs),
        )
    return NetworkBox("gcp", f"Google Cloud {gcp.region}", (*lines, f"project {gcp.project}"))


def _row(environment: Environment, use_case: object) -> Row:
    if isinstance(use_case, SaasUseCase):
        path = {
            "aws": "Network Firewall + NAT",
            "azure": "Azure Firewall",
            "gcp": "Secure Web Proxy + Cloud NAT",
        }
        hosts = tuple(getattr(use_case, "hosts", ()))
        return Row(
            use_case.name,
            "saas",
            use_case.data_classification,
            use_case.cloud,
            f"egress: {path[use_case.cloud]}",
            (
                "TLS allowlist " + ", ".join(hosts) if hosts else "TLS allowlist of the provider's hosts",
                f"API key in {SECRET_STORES[use_case.cloud]}",
            ),
            f"{use_case.provider} API (internet)",
            tuple(use_case.models) or ("models not listed",),
            external=True,
        )
    if isinstance(use_case, CloudManagedUseCase):
        models = tuple(m.id + (f" ({m.sku})" if m.sku else "") for m in use_case.models)
        if use_case.cloud == "aws":
            region = environment.clouds.aws.region if environment.clouds.aws else ""
            return Row(
                use_case.name,
                "cloud-managed",
                use_case.data_classification,
                "aws",
                "interface endpoint (PrivateLink)",
                (f"com.amazonaws.{region}.bedrock-runtime", "IAM auth"),
                "Amazon Bedrock",
                models,
            )
        if use_case.cloud == "azure":
            return Row(
                use_case.name,
                "cloud-managed",
                use_case.data_classification,
                "azure",
                "private endpoint",
                ("privatelink.openai.azure.com", "Entra ID auth"),
                "Azure OpenAI",
                models,
            )
        return Row(
            use_case.name,
            "cloud-managed",
            use_case.data_classification,
            "gcp",
            "Private Service Connect",
            ("googleapis.com private zone", "Google IAM auth"),
            "Vertex AI",
            models,
        )
    assert isinstance(use_case, SelfManagedUseCase)
    cluster = environment.cluster(use_case.cluster)
    engine = (
        str(getattr(use_case, "engine", "tgi")).upper()
        if getattr(use_case, "engine", "tgi") == "tgi"
        else "vLLM"
    )
    exposure = str(getattr(use_case, "exposure", "cluster-ip"))
    network: str
    if cluster.new is not None:
        network = cluster.new.cloud
        where = f"{KUBERNETES[network]} cluster {cluster.name}"
    else:
        network = f"cluster:{cluster.name}"
        where = f"existing cluster {cluster.name}"
    service = "internal load balancer" if exposure == "internal-load-balancer" else "ClusterIP service"
    return Row(
        use_case.name,
        "self-managed",
        use_case.data_classification,
        network,
        f"{engine} {service}",
        (where, "NetworkPolicy: allowed clients only"),
        use_case.model.id.rsplit("/", 1)[-1],
        (
            f"{use_case.gpu.count} x {use_case.gpu.type}",
            f"replicas {use_case.replicas.min}-{use_case.replicas.max}",
        ),
    )


def build(environment: Environment, stack: str) -> Diagram:
    diagram = Diagram(title=f"Triplane environment {stack} ({environment.tier}, owner {environment.owner})")
    for box in (_aws_network(environment), _azure_network(environment), _gcp_network(environment)):
        if box is not None:
            diagram.networks.append(box)
    for cluster in environment.kubernetes:
        if cluster.existing is not None:
            diagram.networks.append(
                NetworkBox(
                    f"cluster:{cluster.name}",
                    f"Existing cluster {cluster.name}",
                    (
                        f"kubeconfig context {cluster.existing.kubeconfig_context}",
                        f"Kubernetes {cluster.version}",
                    ),
                )
            )
    diagram.rows = [_row(environment, u) for u in environment.use_cases]
    used = {r.network for r in diagram.rows}
    # An existing cluster no use case runs on adds nothing to the picture.
    diagram.networks = [n for n in diagram.networks if not n.key.startswith("cluster:") or n.key in used]
    return diagram


# --- drawing -----------------------------------------------------------------------------------

COLUMNS = {"network": (0.3, 4.1), "use_case": (4.8, 7.6), "path": (8.3, 11.9), "model": (12.6, 16.2)}
WIDTH = 16.5
ROW = 1.15
BAND_HEADER = 0.45
BAND_GAP = 0.25
TOP = 1.0
BOTTOM = 0.9


def _wrap(text: str, width: int = 44) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)) or text


def _box(
    ax: object,
    x0: float,
    x1: float,
    y: float,
    h: float,
    title: str,
    lines: tuple[str, ...],
    face: str = "white",
    edge: str = "#424242",
    dashed: bool = False,
    stripe: str | None = None,
) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    ax.add_patch(
        FancyBboxPatch(
            (x0, y - h / 2),
            x1 - x0,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=face,
            edgecolor=edge,
            linewidth=1.0,
            linestyle="--" if dashed else "-",
        )
    )
    if stripe is not None:
        ax.add_patch(Rectangle((x0, y - h / 2), 0.12, h, facecolor=stripe, edgecolor="none"))
    body = "\n".join(_wrap(line) for line in lines)
    ax.text(
        x0 + 0.2,
        y + h / 2 - 0.1,
        title,
        fontsize=8.5,
        fontweight="bold",
        va="top",
        ha="left",
        color="#212121",
    )
    ax.text(
        x0 + 0.2, y + h / 2 - 0.32, body, fontsize=7, va="top", ha="left", color="#424242", linespacing=1.25
    )


def _arrow(ax: object, x0: float, y0: float, x1: float, y1: float, colour: str = "#616161") -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    ax.add_patch(
        FancyArrowPatch(
            (x0, y0),
            (x1, y1),
            arrowstyle="-|>",
            mutation_scale=10,
            color=colour,
            linewidth=1.0,
            shrinkA=0,
            shrinkB=0,
        )
    )


def render(diagram: Diagram, out: Path, formats: tuple[str, ...] = ("svg", "png")) -> list[Path]:
    """Draw `diagram` to `out` with each format's suffix; returns the files written."""
    bands: list[tuple[str, list[Row]]] = [(p, diagram.rows_of(p)) for p in PATTERNS]
    height = TOP + BOTTOM + sum(BAND_HEADER + max(1, len(rows)) * ROW + BAND_GAP for _, rows in bands)
    figure = Figure(figsize=(WIDTH, height))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(0, height)
    ax.axis("off")

    ax.text(0.3, height - 0.35, diagram.title, fontsize=13, fontweight="bold", va="center")
    for key, (x0, x1) in COLUMNS.items():
        label = {
            "network": "Networks",
            "use_case": "Use cases",
            "path": "Path from the app subnet",
            "model": "Model",
        }[key]
        ax.text((x0 + x1) / 2, height - 0.8, label, fontsize=9, ha="center", va="center", color="#616161")

    # Pattern bands, top to bottom, each with its rows.
    centres: dict[str, float] = {}
    y = height - TOP
    for pattern, rows in bands:
        band_height = BAND_HEADER + max(1, len(rows)) * ROW
        x0, x1 = COLUMNS["use_case"][0] - 0.25, COLUMNS["model"][1] + 0.15
        ax.add_patch(
            FancyBboxPatch(
                (x0, y - band_height),
                x1 - x0,
                band_height,
                boxstyle="round,pad=0.0,rounding_size=0.12",
                facecolor=PATTERN_FILL[pattern],
                edgecolor="#bdbdbd",
                linewidth=0.8,
            )
        )
        ax.text(
            x0 + 0.15,
            y - 0.22,
            f"{PATTERN_TITLES[pattern]} pattern",
            fontsize=9.5,
            fontweight="bold",
            va="center",
            color="#37474f",
        )
        if not rows:
            ax.text(
                (x0 + x1) / 2,
                y - BAND_HEADER - ROW / 2,
                "no use case in this environment",
                fontsize=8,
                ha="center",
                va="center",
                color="#9e9e9e",
                style="italic",
            )
        for i, row in enumerate(rows):
            cy = y - BAND_HEADER - (i + 0.5) * ROW
            centres[row.use_case] = cy
            colour = CLASSIFICATION_COLOURS[row.classification]
            box = ROW - 0.25
            _box(
                ax,
                *COLUMNS["use_case"],
                cy,
                box,
                row.use_case,
                (f"data: {row.classification}",),
                stripe=colour,
                edge=colour,
            )
            _box(ax, *COLUMNS["path"], cy, box, row.path, row.path_lines)
            _box(
                ax,
                *COLUMNS["model"],
                cy,
                box,
                row.model,
                row.model_lines,
                dashed=row.external,
                face="#fafafa" if row.external else "white",
            )
            _arrow(ax, COLUMNS["use_case"][1], cy, COLUMNS["path"][0], cy)
            _arrow(ax, COLUMNS["path"][1], cy, COLUMNS["model"][0], cy, colour)
        y -= band_height + BAND_GAP

    # Networks in the left column, each level with the use cases calling from it where space allows.
    if diagram.networks:
        box_height = 1.5
        top, bottom = height - TOP - box_height / 2, BOTTOM + box_height / 2
        wanted = []
        for i, network in enumerate(diagram.networks):
            ys = [centres[r.use_case] for r in diagram.rows if r.network == network.key]
            wanted.append((sum(ys) / len(ys) if ys else top - i * (box_height + 0.3), i))
        placed: dict[int, float] = {}
        floor = top
        for y_wanted, i in sorted(wanted, reverse=True):
            placed[i] = min(y_wanted, floor)
            floor = placed[i] - box_height - 0.3
        overflow = bottom - min(placed.values())
        if overflow > 0:
            placed = {i: y + overflow for i, y in placed.items()}
        for i, network in enumerate(diagram.networks):
            ny = placed[i]
            _box(ax, *COLUMNS["network"], ny, box_height, network.title, network.lines, face="#eceff1")
            for row in diagram.rows:
                if row.network == network.key:
                    _arrow(ax, COLUMNS["network"][1], ny, COLUMNS["use_case"][0], centres[row.use_case], "#90a4ae")

    # Legend: classification colours and what a dashed box means.
    lx = 0.3
    ax.text(lx, 0.45, "Data classification:", fontsize=8, va="center", color="#424242")
    lx += 1.55
    for name, colour in CLASSIFICATION_COLOURS.items():
        ax.add_patch(Rectangle((lx, 0.36), 0.18, 0.18, facecolor=colour, edgecolor="none"))
        ax.text(lx + 0.25, 0.45, name, fontsize=8, va="center", color="#424242")
        lx += 1.35
    ax.text(
        lx + 0.3,
        0.45,
        "Dashed box: outside the organisation's network (reached through the egress firewall)",
        fontsize=8,
        va="center",
        color="#424242",
    )

    written: list[Path] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        target = out.with_suffix(f".{fmt}")
        metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {}
        # SVG text stays text (searchable, smaller); a fixed salt keeps ids stable run to run.
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "triplane"}):
            figure.savefig(target, format=fmt, dpi=110, metadata=metadata)
        written.append(target)
    return written
