"""Cost arithmetic against hand-computed cases (prices from the shipped sheet, quoted in each test)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from pulumi_kubernetes import provider as k8s_provider

from triplane.components.gateway.install import AIGatewayInstall, AIGatewayInstallArgs
from triplane.components.self_managed import gpu_metrics
from triplane.decide.cost import (
    AI_GATEWAY_CONTROLLER,
    REDIS,
    Curve,
    Traffic,
    break_even,
    estimate_environment,
    firewalled_clouds,
    gateway_pods,
    monitoring_lines,
    open_model_class,
    self_managed_estimate,
    shared_lines,
    token_estimate,
    use_case_cost,
)
from triplane.decide.prices import load_prices
from triplane.plan import run_program
from triplane.stackfile import load_stack
from triplane.stacks.clouds import SEAMS
from triplane.stacks.spec import Environment, validate_environment

PRICES = load_prices()
WIRE_GB_PER_TOKEN = 4 * 1.5 / 1e9  # bytes_per_token x wire_overhead
LOG_GB_PER_TOKEN = 4 * 2.0 / 1e9  # bytes_per_token x log_overhead


def test_sheet_quotes_the_prices_these_cases_use() -> None:
    assert PRICES.token_price("saas", "openai", "gpt-4o-mini").input == 0.15  # type: ignore[union-attr]
    assert PRICES.token_price("saas", "openai", "gpt-4o-mini").output == 0.60  # type: ignore[union-attr]
    assert PRICES.instance("aws", "g6.2xlarge").on_demand == 0.9776  # type: ignore[union-attr]
    assert PRICES.instance("aws", "g6.2xlarge").spot == 0.45  # type: ignore[union-attr]
    assert PRICES.instance("gcp", "g2-standard-8").on_demand == 0.8536  # type: ignore[union-attr]
    assert PRICES.hours == 730


def test_saas_tokens_egress_processing_and_secret() -> None:
    estimate = token_estimate(
        PRICES,
        pattern="saas",
        vendor="openai",
        cloud="aws",
        model_id="gpt-4o-mini",
        traffic=Traffic(100_000_000, 20_000_000),
    )
    lines = {line.item: line.monthly for line in estimate.lines}
    assert lines["tokens gpt-4o-mini"] == pytest.approx(100 * 0.15 + 20 * 0.60)  # 27.00
    assert lines["firewall processing"] == pytest.approx(0.72 * 0.065)  # 120M tokens = 0.72 GB
    assert lines["nat gateway processing"] == pytest.approx(0.72 * 0.045)
    assert lines["API key secret"] == 0.40
    assert lines["encryption key"] == 1.00
    assert estimate.monthly == pytest.approx(27 + 0.0468 + 0.0324 + 0.40 + 1.00)
    assert not estimate.missing


def test_model_versions_and_inference_profiles_find_their_price() -> None:
    assert PRICES.token_price("saas", "openai", "gpt-4o-2024-08-06").model == "gpt-4o"  # type: ignore[union-attr]
    profile = PRICES.token_price("cloud-managed", "aws", "eu.anthropic.claude-3-5-haiku-20241022-v1:0")
    assert profile is not None and profile.model == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert PRICES.token_price("cloud-managed", "gcp", "gemini-1.5-pro-002").model == "gemini-1.5-pro"  # type: ignore[union-attr]
    assert PRICES.token_price("saas", "openai", "gpt-4o-mini-turbo-9000") is None


def test_azure_data_zone_premium_private_endpoint_and_logs() -> None:
    estimate = token_estimate(
        PRICES,
        pattern="cloud-managed",
        vendor="azure",
        cloud="azure",
        model_id="gpt-4o",
        traffic=Traffic(10_000_000, 2_000_000),
        sku="DataZoneStandard",
    )
    lines = {line.item: line.monthly for line in estimate.lines}
    assert lines["tokens gpt-4o"] == pytest.approx((10 * 2.50 + 2 * 10.00) * 1.1)  # 49.50
    assert lines["private endpoint"] == pytest.approx(0.01 * 730)
    assert lines["invocation log ingestion"] == pytest.approx(12e6 * LOG_GB_PER_TOKEN * 2.30)
    assert lines["private endpoint processing"] == pytest.approx(12e6 * WIRE_GB_PER_TOKEN * 0.01)
    assert estimate.monthly == pytest.approx(49.5 + 7.30 + 0.2208 + 0.00072)


def test_azure_provisioned_throughput_is_priced_by_ptu_hours_not_tokens() -> None:
    estimate = token_estimate(
        PRICES,
        pattern="cloud-managed",
        vendor="azure",
        cloud="azure",
        model_id="gpt-4o",
        traffic=Traffic(10_000_000, 2_000_000),
        sku="ProvisionedManaged",
        capacity=50,
    )
    lines = {line.item: line.monthly for line in estimate.lines}
    assert lines["provisioned throughput"] == pytest.approx(50 * 2.00 * 730)  # 73,000
    assert not any(item.startswith("tokens") for item in lines)


def _l4(
    traffic: Traffic | None,
    min_replicas: int = 1,
    max_replicas: int = 2,
    spot: bool = False,
    cloud: str | None = "aws",
):
    return self_managed_estimate(
        PRICES,
        cloud=cloud,
        cluster="gpu",
        model_id="mistralai/Mistral-7B-Instruct-v0.3",
        gpu_type="nvidia-l4",
        gpus=1,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        traffic=traffic,
        spot=spot,
    )


def test_self_managed_low_volume_pays_for_min_replicas() -> None:
    # 120M tokens, 1/6 output: effective = 1/6 + 5/6 x 0.1 = 0.25; capacity 600 x 3600 x 0.5 / 0.25 = 4.32M/h
    # -> 27.8 replica-hours, far below one replica all month: 1 x g6.2xlarge x $0.9776 x 730 h.
    estimate = _l4(Traffic(100_000_000, 20_000_000))
    assert estimate.monthly == pytest.approx(0.9776 * 730)  # 713.648
    assert estimate.low == pytest.approx(713.648)
    assert estimate.high == pytest.approx(2 * 713.648)
    assert "g6.2xlarge" in estimate.lines[0].item


def test_self_managed_volume_between_min_and_max_pays_for_replica_hours() -> None:
    # 3.6B tokens / 4.32M per replica-hour = 833.3 replica-hours x $0.9776
    estimate = _l4(Traffic(3_000_000_000, 600_000_000))
    assert estimate.monthly == pytest.approx(3.6e9 / 4.32e6 * 0.9776)  # 814.67


def test_self_managed_volume_beyond_max_is_capped_and_said() -> None:
    # 7.2B tokens need 1,666.7 replica-hours (2.3 replicas all month); max 2 replicas = 1,460 h.
    estimate = _l4(Traffic(6_000_000_000, 1_200_000_000))
    assert estimate.monthly == pytest.approx(2 * 0.9776 * 730)
    assert any("about 3 replicas" in note for note in estimate.notes)


def test_self_managed_spot_and_scale_to_zero() -> None:
    assert _l4(Traffic(100_000_000, 20_000_000), spot=True).monthly == pytest.approx(0.45 * 730)
    idle = _l4(None, min_replicas=0)
    assert idle.monthly == 0
    assert idle.low == 0
    busy = _l4(Traffic(100_000_000, 20_000_000), min_replicas=0)
    assert busy.monthly == pytest.approx(0.9776 * 730)
    assert any("min 0 replicas" in note for note in busy.notes)


def test_existing_cluster_priced_as_cheapest_cloud_equivalent_or_own_rate(tmp_path: Path) -> None:
    estimate = _l4(Traffic(100_000_000, 20_000_000), cloud=None)
    assert estimate.where == "existing cluster gpu"
    assert estimate.monthly == pytest.approx(0.8536 * 730)  # GCP g2-standard-8 is the cheapest L4 node
    assert any("cloud equivalent" in note for note in estimate.notes)
    override = tmp_path / "own.json"
    override.write_text(json.dumps({"as_of": "2025-10-01", "existing": {"nvidia-l4": {"hourly": 0.5}}}))
    own = load_prices(override)
    estimate = self_managed_estimate(
        own,
        cloud=None,
        cluster="onprem",
        model_id="mistralai/Mistral-7B-Instruct-v0.3",
        gpu_type="nvidia-l4",
        gpus=1,
        min_replicas=1,
        max_replicas=1,
        traffic=Traffic(1_000, 1_000),
    )
    assert estimate.monthly == pytest.approx(0.5 * 730)
    assert estimate.lines[0].source == "override"


def test_eight_gpu_only_machines_cost_a_whole_node() -> None:
    # A100 80GB on AWS exists only as p4de.24xlarge (8 GPUs): one 1-GPU replica still rents the node.
    estimate = self_managed_estimate(
        PRICES,
        cloud="aws",
        cluster="gpu",
        model_id="meta-llama/Llama-3.1-8B-Instruct",
        gpu_type="nvidia-a100-80gb",
        gpus=1,
        min_replicas=1,
        max_replicas=8,
        traffic=None,
    )
    assert estimate.monthly == pytest.approx(40.9657 * 730)
    assert estimate.high == pytest.approx(40.9657 * 730)  # eight replicas share that node


def test_unpriced_model_is_reported_not_zeroed() -> None:
    estimate = token_estimate(
        PRICES,
        pattern="saas",
        vendor="openai",
        cloud="aws",
        model_id="gpt-unknown",
        traffic=Traffic(1_000_000, 1_000_000),
    )
    assert estimate.missing and "gpt-unknown" in estimate.missing[0]


def test_break_even_on_simple_curves() -> None:
    # flat region: 10 + 2T >= 100 at T = 45 (self-managed floor holds until T = 100)
    assert break_even(Curve(10, 0, 2), Curve(0, 100, 1)) == pytest.approx(45)
    # linear region: 3T >= 100 + 2T at T = 100 (flat region would need 66.7 > 50)
    assert break_even(Curve(0, 0, 3), Curve(100, 100, 2)) == pytest.approx(100)
    # tokens cheaper per unit than GPUs at full use: never
    assert break_even(Curve(10, 0, 0.5), Curve(0, 100, 1)) is None
    # self-managed cheaper even at zero volume
    assert break_even(Curve(500, 0, 1), Curve(0, 100, 1)) == 0


def test_break_even_between_haiku_and_an_l4_replica() -> None:
    mix = Traffic(100_000_000, 20_000_000)
    haiku = token_estimate(
        PRICES,
        pattern="saas",
        vendor="anthropic",
        cloud="aws",
        model_id="claude-3-5-haiku-20241022",
        traffic=mix,
    )
    l4 = _l4(mix)
    assert haiku.curve is not None and l4.curve is not None
    per_token = (100 / 120 * 0.80 + 20 / 120 * 4.00) / 1e6 + WIRE_GB_PER_TOKEN * (0.065 + 0.045)
    expected = (0.9776 * 730 - 1.40) / per_token  # about 534M tokens/month
    assert break_even(haiku.curve, l4.curve) == pytest.approx(expected, rel=1e-6)
    assert 5.3e8 < expected < 5.4e8


def test_gpt_4o_mini_is_never_beaten_by_one_l4_at_list_prices() -> None:
    mix = Traffic(100_000_000, 20_000_000)
    mini = token_estimate(PRICES, pattern="saas", vendor="openai", cloud="aws", model_id="gpt-4o-mini", traffic=mix)
    # $0.2257/M tokens against $0.9776 / 4.32M = $0.2263/M tokens on the GPU
    l4 = _l4(mix).curve
    assert mini.curve is not None and l4 is not None
    assert break_even(mini.curve, l4) is None


def test_model_class_from_catalog_declared_size_or_name() -> None:
    assert open_model_class("meta-llama/Llama-3.1-70B-Instruct") == ("medium", False)
    assert open_model_class("acme/house-model", parameters=400) == ("large", False)
    assert open_model_class("acme/Thing-3B") == ("small", False)
    assert open_model_class("acme/house-model") == ("small", True)


ENVIRONMENT = {
    "owner": "platform-team",
    "cost_center": "cc-1",
    "clouds": {
        "aws": {
            "region": "us-east-1",
            "network": {"new": {"cidr": "10.40.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
        },
    },
    "kubernetes": [{"name": "gpu", "new": {"cloud": "aws", "deployer": {"private_cidrs": ["10.99.0.0/24"]}}}],
    "use_cases": [
        {
            "name": "drafts",
            "pattern": "saas",
            "data_classification": "internal",
            "cloud": "aws",
            "provider": "openai",
            "models": ["gpt-4o-mini"],
            "api_key_secret": "openaiApiKey",
            "allowed_principals": ["arn:aws:iam::123456789012:role/app"],
            "volume": {"input_tokens_per_month": 100_000_000, "output_tokens_per_month": 20_000_000},
        },
        {
            "name": "search",
            "pattern": "cloud-managed",
            "data_classification": "confidential",
            "cloud": "aws",
            "models": [{"id": "anthropic.claude-3-5-haiku-20241022-v1:0"}],
        },
        {
            "name": "review",
            "pattern": "self-managed",
            "data_classification": "restricted",
            "cluster": "gpu",
            "model": {"id": "mistralai/Mistral-7B-Instruct-v0.3"},
            "gpu": {"type": "nvidia-l4", "count": 1},
            "replicas": {"min": 1, "max": 1},
            "allowed_clients": {"namespaces": ["review"]},
            "node_pool": {"capacity_type": "spot"},
        },
    ],
}


@pytest.fixture(scope="module")
def environment():
    return validate_environment(ENVIRONMENT, "test.yaml")


def test_shared_infrastructure_once_per_environment(environment) -> None:
    lines = {line.item: line.monthly for line in shared_lines(environment, PRICES)}
    assert lines == pytest.approx(
        {
            "aws egress: Network Firewall endpoint per zone": 2 * 0.395 * 730,  # 576.70
            "aws egress: per NAT gateway (one per zone)": 2 * 0.045 * 730,  # 65.70
            "aws bedrock-runtime interface endpoint": 2 * 0.01 * 730,  # 14.60
            "cluster gpu: EKS cluster, standard support": 0.10 * 730,  # 73.00
            "cluster gpu: 2 x m5.large system node": 2 * 0.096 * 730,  # 140.16
        }
    )


@pytest.mark.parametrize(("stack", "clouds"), [
    ("dev", ["aws"]),  # SaaS, a hub download and the GPU metrics exporter's image
    ("prod", ["aws", "azure", "gcp"]),  # Azure: contract-drafts' hub download, the forwarder's Entra sign-in
    ("local", []),  # an existing cluster: its way out is its own
])  # fmt: skip
def test_every_network_with_an_egress_allowlist_prices_its_firewall(stack: str, clouds: list[str]) -> None:
    environment = load_stack(stack).environment()
    assert firewalled_clouds(environment) == clouds
    items = [line.item for line in shared_lines(environment, PRICES)]
    assert sorted({item.split(" ")[0] for item in items if " egress: " in item}) == clouds


def test_environment_total_and_sources(environment) -> None:
    result = estimate_environment(environment, "test", PRICES)
    by_name = {u.name: u for u in result.use_cases}
    assert by_name["drafts"].current.monthly == pytest.approx(28.4792)
    assert by_name["review"].current.monthly == pytest.approx(0.45 * 730)  # node_pool.capacity_type: spot
    assert by_name["search"].current.monthly == pytest.approx(1.00)  # no volume: the CMK only
    shared = 576.70 + 65.70 + 14.60 + 73.00 + 140.16
    assert result.total == pytest.approx(28.4792 + 0.45 * 730 + 1.00 + shared)
    sources = result.sources_used()
    assert sources["openai"]["url"].startswith("https://openai.com/")
    assert {"ec2", "aws-network-firewall", "aws-eks", "triplane-estimate"} <= set(sources)
    document = result.to_dict()
    assert document["prices_as_of"] == PRICES.as_of
    assert json.loads(json.dumps(document)) == document


def test_alternatives_respect_classification(environment) -> None:
    review = use_case_cost(environment, environment.use_cases[2], PRICES)
    patterns = {a.pattern: a for a in review.alternatives}
    assert set(patterns) == {"saas", "cloud-managed"}
    assert not patterns["saas"].allowed and not patterns["cloud-managed"].allowed
    assert review.break_even_tokens is None and review.break_even_between is None
    drafts = use_case_cost(environment, environment.use_cases[0], PRICES)
    assert {a.pattern for a in drafts.alternatives} == {"cloud-managed", "self-managed"}
    assert all(a.allowed for a in drafts.alternatives)
    self_managed = next(a for a in drafts.alternatives if a.pattern == "self-managed")
    # the small reference deployment at the same volume: one L4 replica, cheapest on the only cloud
    assert self_managed.monthly == pytest.approx(0.9776 * 730)
    assert math.isclose(self_managed.low or 0, 0.9776 * 730)


# --- the AI gateway -----------------------------------------------------------------------------


def with_gateway(drop: tuple[str, ...] = (), **changes: object) -> Environment:
    """dev's stack with a gateway on its EKS cluster: one API-key consumer on every use case, a JWT
    consumer on code-review, and support-drafts falling back to doc-search."""
    data = load_stack("dev").environment().model_dump(mode="json", exclude_unset=True)
    data["gateway"] = {
        "cluster": "gpu",
        "hostname": "ai.dev.example.internal",
        "tls": {"certificate_secret": "gatewayCert", "key_secret": "gatewayKey"},
        "identity_provider": {"issuer": "https://login.example.com/", "jwks_uri": "https://login.example.com/keys"},
    }
    data["use_cases"] = [u for u in data["use_cases"] if u["name"] not in drop]
    for use_case in data["use_cases"]:
        use_case["consumers"] = [
            {
                "name": "support-app",
                "key_secret": "supportAppKey",
                "tokens_per_minute": 20_000,
                "tokens_per_day": 2_000_000,
            }
        ]
        if use_case["name"] == "code-review":
            use_case["consumers"].append(
                {"name": "review-bot", "auth": "jwt", "tokens_per_minute": 5_000, "tokens_per_day": 500_000}
            )
        if use_case["name"] == "support-drafts":
            use_case["fallback"] = "doc-search"
    data.update(changes)
    return Environment.model_validate(data)


# dev's volumes: 150M + 240M + 60M tokens a month, 4 bytes x 1.5 on the wire each.
DEV_GATEWAY_GB = 450e6 * WIRE_GB_PER_TOKEN  # 2.70 GB
GATEWAY_ASKS = "2 proxies, Envoy Gateway, AI gateway controller, rate limit and Redis request 0.52 vCPU and 1.56 GiB"


def test_gateway_pods_sum_triplane_requests_and_vendor_defaults() -> None:
    pods = {p.what: (p.pods, p.cpu, p.memory, p.said_by) for p in gateway_pods()}
    assert pods == {
        "Envoy proxy": (2, 0.1, 0.25, "set in install.py"),
        "its shutdown manager": (2, 0.01, 32 / 1024, "Envoy Gateway default"),
        "Envoy Gateway": (1, 0.1, 0.25, "chart default"),
        "AI gateway controller": (1, 0.05, 0.125, "set in install.py"),
        "rate limit": (1, 0.1, 0.5, "Envoy Gateway default"),
        "Redis": (1, 0.05, 0.125, "set in install.py"),
    }
    assert sum(n * cpu for n, cpu, _, _ in pods.values()) == pytest.approx(0.52)
    assert sum(n * memory for n, _, memory, _ in pods.values()) == pytest.approx(1600 / 1024)


def test_requests_restated_in_cost_are_the_ones_the_gateway_deploys() -> None:
    """Requests cost.py restates (install.py builds them inside the component or as Outputs), and the
    proxies' it reads, against the planned gateway."""

    def program() -> None:
        provider = k8s_provider.Provider("t-k8s", context="ctx")
        AIGatewayInstall(
            "t-gw",
            AIGatewayInstallArgs(
                hostname="ai.internal.example.com",
                tls_certificate="chain",
                tls_private_key="key",
                source_ranges=["10.20.0.0/16"],
                load_balancer_annotations=dict(SEAMS["aws"].load_balancer_annotations),
                provider=provider,
            ),
        )

    plan = run_program(program, stack="ts")
    redis = plan.one("kubernetes:apps/v1:Deployment", "t-gw-redis").inputs["spec"]["template"]["spec"]
    assert redis["containers"][0]["resources"]["requests"] == {"cpu": REDIS[0], "memory": REDIS[1]}
    controller = plan.one("kubernetes:helm.sh/v3:Release", "t-gw-ai-gateway").inputs["values"]["controller"]
    assert controller["resources"]["requests"] == dict(zip(("cpu", "memory"), AI_GATEWAY_CONTROLLER, strict=True))
    proxy = plan.one("kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "t-gw-envoyproxy").inputs["spec"]
    deployment = proxy["provider"]["kubernetes"]["envoyDeployment"]
    assert deployment["replicas"] == 2
    assert deployment["container"]["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}


def without_gateway_env() -> Environment:
    """dev as it would be with no gateway (its consumers then unused)."""
    return load_stack("dev").environment().model_copy(update={"gateway": None})


ROUTE_SAMPLES = 60 * 87_600 / 1e6 * 0.09  # a gateway route's series every 30 s, at AMP's $0.09 a million
DEV_SERVER_SAMPLES = (45 + 3) * 2 * 175_200 / 1e6 * 0.09  # code-review: TGI's and its GPU's series at 2 replicas


def test_gateway_on_dev_adds_its_load_balancer_and_runs_on_the_system_nodes() -> None:
    environment = with_gateway()
    lines = {line.item: line for line in shared_lines(environment, PRICES)}
    plain = {line.item for line in shared_lines(without_gateway_env(), PRICES)}
    added = {item: lines[item].monthly for item in set(lines) - plain}
    assert added == pytest.approx(
        {
            "AI gateway: internal Network Load Balancer": 0.0225 * 730,  # 16.425
            "AI gateway: load balancer data": DEV_GATEWAY_GB * 0.006,  # 2.70 GB -> 0.0162
            "AI gateway pods on cluster gpu's system nodes": 0.0,
        }
    )
    assert plain <= set(lines)
    # dev has monitoring: behind the gateway support-drafts (SaaS) is observed, and the cluster's Prometheus
    # forwards its route's series (about 60, every 30 s) to the managed Prometheus beside code-review's.
    samples = "cluster gpu: managed Prometheus samples"
    without = {line.item: line for line in shared_lines(without_gateway_env(), PRICES)}
    assert lines[samples].monthly - without[samples].monthly == pytest.approx(ROUTE_SAMPLES)
    assert lines["AI gateway: internal Network Load Balancer"].source == "aws-elb"
    assert lines["AI gateway: load balancer data"].detail == "2.70 GB (every use case's volume) x $0.006/GB"
    pods = lines["AI gateway pods on cluster gpu's system nodes"]
    assert pods.source == "ai-gateway-requests"
    assert pods.detail == (
        f"no extra node cost: {GATEWAY_ASKS} (13% of the CPU, 10% of the memory of the 2 x m5.large above); "
        "a full pool grows by a node (max 3) at $70.08/month"
    )
    result = estimate_environment(environment, "dev", PRICES)
    before = estimate_environment(without_gateway_env(), "dev", PRICES)
    assert result.total == pytest.approx(before.total + 16.425 + 0.0162 + ROUTE_SAMPLES)
    sources = result.sources_used()
    assert sources["aws-elb"]["url"] == "https://aws.amazon.com/elasticloadbalancing/pricing/"
    assert sources["ai-gateway-requests"]["as_of"] == "2026-12-06"


def test_gateway_alone_on_a_cluster_pays_for_the_cluster() -> None:
    """Without a self-managed use case the cluster is there for the gateway: its fee and nodes count."""
    environment = with_gateway(drop=("code-review",))
    lines = {line.item: line.monthly for line in shared_lines(environment, PRICES)}
    assert lines["cluster gpu: EKS cluster, standard support"] == pytest.approx(0.10 * 730)
    assert lines["cluster gpu: 2 x m5.large system node"] == pytest.approx(2 * 0.096 * 730)
    assert lines["AI gateway: load balancer data"] == pytest.approx(390e6 * WIRE_GB_PER_TOKEN * 0.006)


def test_gateway_on_an_existing_cluster_prices_its_cloud_load_balancer_not_its_nodes() -> None:
    base = with_gateway()
    use_cases = base.model_dump(mode="json", exclude_unset=True)["use_cases"]
    use_cases[2]["weights"] = {"source": "hub"}
    environment = with_gateway(
        kubernetes=[{"name": "gpu", "existing": {"kubeconfig_context": "ctx", "cloud": "aws", "registry": "upstream"}}],
        use_cases=use_cases,
    )
    lines = [line for line in shared_lines(environment, PRICES) if line.item.startswith("AI gateway")]
    assert [(line.item, round(line.monthly, 4)) for line in lines] == [
        ("AI gateway: internal Network Load Balancer", 16.425),
        ("AI gateway: load balancer data", 0.0162),
        ("AI gateway pods on existing cluster gpu", 0.0),
    ]
    assert lines[2].detail == f"not priced (your nodes): {GATEWAY_ASKS}"


def test_gateway_load_balancer_prices_per_cloud() -> None:
    fixed = {cloud: PRICES.fixed(cloud, "gateway_load_balancer") for cloud in ("aws", "azure", "gcp")}
    quoted = {cloud: (f.hourly, f.per_gb) for cloud, f in fixed.items()}
    # NLB-hour + NLCU per GB; Standard LB first 5 rules + data processed; first 5 forwarding rules + data processed.
    assert quoted == {"aws": (0.0225, 0.006), "azure": (0.025, 0.005), "gcp": (0.025, 0.008)}
    assert {f.source for f in fixed.values()} == {
        "aws-elb",
        "azure-load-balancer",
        "gcp-load-balancing",
    }


# --- monitoring ---------------------------------------------------------------------------------

NOTIFY = {"notify": {"email": ["oncall@example.com", "ml-platform@example.com"]}}
PROD_VOLUME = {"input_tokens_per_month": 300_000_000, "output_tokens_per_month": 60_000_000}


def prod_variant(monitoring: bool = True, volumes: bool = True, **models: list[dict[str, object]]) -> Environment:
    """prod with `monitoring` (two addresses) and the same volume on every use case, or without either
    (prod's file declares both); `models` replaces a use case's models by name. Its model servers are
    scraped through a ServiceMonitor, as monitoring needs."""
    data = load_stack("prod").environment().model_dump(mode="json", exclude_unset=True)
    if monitoring:
        data["monitoring"] = NOTIFY
    else:
        data.pop("monitoring", None)
    for use_case in data["use_cases"]:
        if volumes:
            use_case["volume"] = PROD_VOLUME
        else:
            use_case.pop("volume", None)
        if use_case["pattern"] == "self-managed":
            use_case["monitoring"] = "service-monitor"
        if use_case["name"] in models:
            use_case["models"] = models[use_case["name"]]
    return Environment.model_validate(data)


def monitoring_items(environment: Environment) -> list[tuple[str, float, str]]:
    return [(x.item, round(x.monthly, 4), x.source) for x in monitoring_lines(environment, PRICES)]


def test_sheet_quotes_the_monitoring_prices() -> None:
    quoted = {
        ("aws", "alarm_metric"): 0.10,  # standard-resolution alarm metric
        ("aws", "dashboard"): 3.00,
        ("aws", "alert_topic"): 0.0,  # no monthly fee; deliveries past the free tier only
        ("azure", "metric_alert_series"): 0.10,  # per monitored time series
        ("azure", "action_group"): 0.0,
        ("azure", "dashboard"): 0.0,
        ("gcp", "alert_condition"): 1.50,
        ("gcp", "notification_channel"): 0.0,
        ("gcp", "dashboard"): 0.0,
    }
    assert {key: PRICES.fixed(*key).monthly for key in quoted} == quoted
    condition = PRICES.data["fixed"]["gcp"]["alert_condition"]
    assert (condition["per_million_series"], condition["evaluation_seconds"]) == (0.35, 30)
    assert "first 10 alarm metrics" in PRICES.data["fixed"]["aws"]["alarm_metric"]["note"]
    assert "first 3 dashboards" in PRICES.data["fixed"]["aws"]["dashboard"]["note"]
    chart = PRICES.data["fixed"]["aws"]["chart_function"]
    assert chart["monthly"] == 0.0
    assert chart["note"].startswith("negligible: the CloudWatch custom widgets call it, billed per call")
    assert PRICES.source("aws-lambda") == {"url": "https://aws.amazon.com/lambda/pricing/", "as_of": "2026-12-06"}
    assert "first 10 time series" in PRICES.data["fixed"]["azure"]["metric_alert_series"]["note"]
    assert {key: PRICES.source(key) for key in ("aws-cloudwatch-2026-12", "aws-sns", "azure-monitor-2026-12")} == {
        "aws-cloudwatch-2026-12": {"url": "https://aws.amazon.com/cloudwatch/pricing/", "as_of": "2026-12-06"},
        "aws-sns": {"url": "https://aws.amazon.com/sns/pricing/", "as_of": "2026-12-06"},
        "azure-monitor-2026-12": {"url": "https://azure.microsoft.com/pricing/details/monitor/", "as_of": "2026-12-06"},
    }
    assert PRICES.source("gcp-monitoring") == {
        "url": "https://cloud.google.com/stackdriver/pricing",
        "as_of": "2026-12-06",
    }


# prod's observable use cases at the prod tier with a volume: claims-triage (Bedrock, one model), hr-assistant
# (Azure OpenAI, one deployment), product-search (Vertex AI, one model): error rate, throttling, latency,
# first token and token burn each. The model servers (min replicas >= 1, so each has no-ready-replicas):
# patient-records (TGI on EKS, 6), fraud-signals (vLLM on GKE, 7: GKE's own exporter feeds the GPU memory
# alert) and contract-drafts (TGI on AKS, 6). dcgm-exporter runs where Triplane installs it: EKS and AKS.
# Its SaaS use cases have no gateway in front of them, so nothing observes them.
GCP_EVALUATIONS = 730 * 3600 / 30  # 87,600 runs of each condition's query a month
PROD_MONITORING = [
    ("aws monitoring: alert topic encryption key", 1.00, "aws-kms"),
    ("aws monitoring: SNS topic, 2 email subscriptions", 0.0, "aws-sns"),
    # error rate 2 metrics (server errors, invocations) + 1 + 1 + 1 + token burn 2 (input, output) = 7
    ("aws monitoring: 5 CloudWatch alarms", 0.70, "aws-cloudwatch-2026-12"),
    ("aws monitoring: 1 CloudWatch dashboard", 3.00, "aws-cloudwatch-2026-12"),
    ("azure monitoring: action group, 2 email receivers", 0.0, "azure-monitor-2026-12"),
    ("azure monitoring: 5 metric alert rules", 0.50, "azure-monitor-2026-12"),  # one time series each
    ("azure monitoring: 1 workbook", 0.0, "azure-monitor-2026-12"),
    ("gcp monitoring: 2 email notification channels", 0.0, "gcp-monitoring"),
    ("gcp monitoring: 5 alert policies", 7.50, "gcp-monitoring"),
    ("gcp monitoring: time series returned to alert conditions", 0.1533, "gcp-monitoring"),  # 5 x 87,600 x $0.35/M
    ("gcp monitoring: 1 dashboard", 0.0, "gcp-monitoring"),
    # Each cluster's managed Prometheus: the aps-workspaces endpoint in 3 zones, the AKS VNet's Azure Monitor
    # private link endpoint; the samples of the series the alerts read at most replicas (TGI 45 a replica,
    # vLLM 62, 3 a GPU forwarded from dcgm-exporter), every 15 s forwarded or every 30 s by GKE's collectors.
    ("aws monitoring: managed Prometheus private path", 21.90, "aws-privatelink"),
    ("azure monitoring: managed Prometheus private path", 7.30, "azure-private-link"),
    ("cluster gpu-aws: managed Prometheus samples", 0.0, "aws-prometheus"),  # (45 + 3) x 4 x 175,200 x $0.09/M
    ("cluster gpu-aws: managed Prometheus, 1 customer managed key", 1.00, "aws-kms"),
    # The CloudWatch dashboard draws it through a chart function: per call, and its logs' key.
    ("cluster gpu-aws: dashboard charts, 1 Lambda chart function", 0.0, "aws-lambda"),
    ("cluster gpu-aws: dashboard charts, 1 customer managed key", 1.00, "aws-kms"),
    ("cluster gpu-aws: dcgm-exporter on each GPU node", 0.0, "dcgm-exporter-requests"),
    ("cluster gpu-gcp: managed Prometheus samples", 0.0, "gcp-monitoring"),  # 62 x 3 x 87,600 x $0.06/M
    ("cluster gpu-gcp: 7 PromQL alert policies", 0.0, "gcp-monitoring"),  # 7 x ($1.50 + 87,600 x $0.35/M)
    ("cluster gpu-azure: managed Prometheus samples", 0.0, "azure-monitor-2026-12"),  # 48 x 175,200 x $0.016/M
    ("cluster gpu-azure: managed Prometheus private query endpoint", 7.30, "azure-private-link"),  # the workbook's
    ("cluster gpu-azure: dcgm-exporter on each GPU node", 0.0, "dcgm-exporter-requests"),
]
SAMPLES = {
    "cluster gpu-aws: managed Prometheus samples": (45 + 3) * 4 * 175_200 / 1e6 * 0.09,
    "cluster gpu-gcp: managed Prometheus samples": 62 * 3 * 87_600 / 1e6 * 0.06,
    "cluster gpu-gcp: 7 PromQL alert policies": 7 * (1.50 + 87_600 / 1e6 * 0.35),
    "cluster gpu-azure: managed Prometheus samples": (45 + 3) * 175_200 / 1e6 * 0.016,
}
PROD_MONITORING = [(item, round(SAMPLES.get(item, value), 4), source) for item, value, source in PROD_MONITORING]
PROD_MONITORING_MONTHLY = (
    1.00 + 0.70 + 3.00 + 0.50 + 7.50 + 0.1533 + 21.90 + 7.30 + 1.00 + 1.00 + 7.30 + sum(SAMPLES.values())
)


def test_prod_with_monitoring_and_volumes_prices_every_channel_alert_and_dashboard() -> None:
    environment = prod_variant()
    assert monitoring_items(environment) == PROD_MONITORING
    result = estimate_environment(environment, "prod", PRICES)
    without = estimate_environment(prod_variant(monitoring=False), "prod", PRICES)
    assert result.total == pytest.approx(without.total + PROD_MONITORING_MONTHLY, abs=1e-4)
    assert [u.current.monthly for u in result.use_cases] == [u.current.monthly for u in without.use_cases]
    assert result.shared[: len(without.shared)] == without.shared  # monitoring comes after everything else
    details = {x.item: x.detail for x in monitoring_lines(environment, PRICES)}
    assert details["aws monitoring: 5 CloudWatch alarms"].startswith(
        "7 alarm metrics x $0.10 (claims-triage: 5 alarms over 7 metrics); "
    )
    assert (
        "the first 10 alarm metrics a month of an account are free (not subtracted)"
        in details["aws monitoring: 5 CloudWatch alarms"]
    )
    assert details["azure monitoring: 5 metric alert rules"].startswith(
        "5 time series x $0.10 (hr-assistant: 5 rules, 5 time series); "
    )
    assert details["gcp monitoring: time series returned to alert conditions"] == (
        "5 time series x 87,600 evaluations (every 30 s, 730 h) = 0.44M x $0.35/M"
    )
    assert details["cluster gpu-gcp: managed Prometheus samples"].startswith(
        "about 16 million samples a month (fraud-signals 186 every 30s series at most replicas) x $0.06/million; "
    )
    assert details["cluster gpu-aws: managed Prometheus samples"].startswith(
        "about 34 million samples a month (patient-records 192 every 15s series at most replicas) x $0.09/million; "
    )
    assert details["cluster gpu-gcp: 7 PromQL alert policies"] == (
        "7 conditions x $1.50, and the one series each returns 87,600 times a month ($0.21)"
    )
    # contract-drafts: one T4 per replica, 1 replica, one replica per node
    assert details["cluster gpu-azure: dcgm-exporter on each GPU node"] == (
        "no extra node cost: one pod on each GPU node (1 node), requesting 0.1 vCPU and 0.125 GiB beside the model "
        "server"
    )
    sources = result.sources_used()
    assert sources["dcgm-exporter-requests"]["url"].startswith("CPU and memory requests of NVIDIA dcgm-exporter")
    assert sources["aws-cloudwatch-2026-12"]["as_of"] == "2026-12-06"
    document = result.to_dict()
    assert document["total_monthly"] == round(result.total, 2)
    assert json.loads(json.dumps(document)) == document


def test_alert_counts_follow_the_alerts_of_each_use_case() -> None:
    """Without a volume there is no token-burn alert: one alarm (two metrics) less on AWS, one rule and
    one time series less on Azure, one condition less on Google Cloud, one rule less per model server."""
    items = {item: monthly for item, monthly, _ in monitoring_items(prod_variant(volumes=False))}
    assert items["aws monitoring: 4 CloudWatch alarms"] == pytest.approx(5 * 0.10)  # error rate 2 + 1 + 1 + 1
    assert items["azure monitoring: 4 metric alert rules"] == pytest.approx(4 * 0.10)
    assert items["gcp monitoring: 4 alert policies"] == pytest.approx(4 * 1.50)
    assert items["gcp monitoring: time series returned to alert conditions"] == pytest.approx(
        4 * GCP_EVALUATIONS / 1e6 * 0.35, abs=1e-4
    )
    policies = items["cluster gpu-gcp: 6 PromQL alert policies"]
    assert policies == pytest.approx(6 * (1.50 + GCP_EVALUATIONS / 1e6 * 0.35), abs=1e-4)
    # The servers' samples do not depend on the alerts' count: the series are forwarded for every rule.
    samples = "cluster gpu-aws: managed Prometheus samples"
    assert items[samples] == round(SAMPLES[samples], 4)


def test_models_multiply_what_is_watched_per_model() -> None:
    """Two Bedrock models double every alarm's metrics; two Azure deployments double the time series of
    the alerts watched per deployment (error rate, latency, first token; throttling and tokens are one
    sum); two Vertex models double the series returned for latency and first token."""
    environment = prod_variant(
        **{
            "claims-triage": [
                {"id": "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
                {"id": "us.anthropic.claude-haiku-4-5-20251001-v1:0"},
            ],
            "hr-assistant": [
                {"id": "gpt-5-mini", "version": "2025-08-07", "sku": "GlobalStandard", "capacity": 50},
                {"id": "gpt-4.1-mini", "version": "2025-04-14", "sku": "GlobalStandard", "capacity": 50},
            ],
            "product-search": [{"id": "gemini-3.5-flash"}, {"id": "gemini-2.5-flash-lite"}],
        }
    )
    lines = {x.item: x for x in monitoring_lines(environment, PRICES)}
    alarms = lines["aws monitoring: 5 CloudWatch alarms"]
    assert alarms.monthly == pytest.approx(14 * 0.10)
    assert alarms.detail.startswith("14 alarm metrics x $0.10 (claims-triage: 5 alarms over 14 metrics)")
    rules = lines["azure monitoring: 5 metric alert rules"]
    assert rules.monthly == pytest.approx(8 * 0.10)
    assert rules.detail.startswith("8 time series x $0.10 (hr-assistant: 5 rules, 8 time series)")
    assert lines["gcp monitoring: 5 alert policies"].monthly == pytest.approx(5 * 1.50)  # a condition per alert
    assert lines["gcp monitoring: time series returned to alert conditions"].monthly == pytest.approx(
        7 * GCP_EVALUATIONS / 1e6 * 0.35
    )


def test_without_monitoring_nothing_is_added() -> None:
    assert monitoring_lines(prod_variant(monitoring=False), PRICES) == []
    environment = load_stack("local").environment()  # the shipped stack without `monitoring`
    assert environment.monitoring is None
    assert monitoring_lines(environment, PRICES) == []
    items = [x.item for x in shared_lines(environment, PRICES)]
    assert not [item for item in items if "monitoring" in item or "PrometheusRule" in item or "dcgm" in item]


def test_dev_monitoring_prices_its_bedrock_alarms_and_its_clusters_rules() -> None:
    """dev as shipped (one address, dev tier): doc-search's alarms on CloudWatch; on the EKS cluster gpu the
    rules of support-drafts (behind the gateway) and of code-review, which may scale to zero (`replicas.min:
    0`: no no-ready-replicas alert), and dcgm-exporter on its GPU nodes."""
    environment = load_stack("dev").environment()
    assert monitoring_items(environment) == [
        ("aws monitoring: alert topic encryption key", 1.00, "aws-kms"),
        ("aws monitoring: SNS topic, 1 email subscription", 0.0, "aws-sns"),
        # error rate 2 metrics + throttling + latency + first token + token burn 2 = 7 x $0.10
        ("aws monitoring: 5 CloudWatch alarms", 0.70, "aws-cloudwatch-2026-12"),
        ("aws monitoring: 1 CloudWatch dashboard", 3.00, "aws-cloudwatch-2026-12"),
        # The EKS cluster's managed Prometheus: the aps-workspaces endpoint in dev's 2 zones; the series the
        # rules of support-drafts (gateway) and code-review (TGI, 2 replicas at most) read; the workspace key.
        ("aws monitoring: managed Prometheus private path", 14.60, "aws-privatelink"),
        ("cluster gpu: managed Prometheus samples", round(ROUTE_SAMPLES + DEV_SERVER_SAMPLES, 4), "aws-prometheus"),
        ("cluster gpu: managed Prometheus, 1 customer managed key", 1.00, "aws-kms"),
        ("cluster gpu: dashboard charts, 1 Lambda chart function", 0.0, "aws-lambda"),
        ("cluster gpu: dashboard charts, 1 customer managed key", 1.00, "aws-kms"),
        ("cluster gpu: dcgm-exporter on each GPU node", 0.0, "dcgm-exporter-requests"),
    ]
    details = {x.item: x.detail for x in monitoring_lines(environment, PRICES)}
    assert (
        "(support-drafts 60 every 30s; code-review 96 every 15s series at most replicas)"
        in details["cluster gpu: managed Prometheus samples"]
    )
    shared = [x.item for x in shared_lines(environment, PRICES)]
    assert shared[-len(details) :] == list(details)  # monitoring comes after everything else


def test_dcgm_exporter_only_where_triplane_installs_it() -> None:
    """An existing cluster gets Triplane's dcgm-exporter (and its servers the GPU memory alert) when it
    names its GPU nodes and does not bring its own GPU stack; with no cloud, its nodes are not counted."""
    use_cases = with_gateway().model_dump(mode="json", exclude_unset=True)["use_cases"]
    use_cases[2]["weights"] = {"source": "hub"}
    selector = {"nvidia.com/gpu.present": "true"}

    def cluster_lines(**existing: object) -> dict[str, str]:
        spec = {"kubeconfig_context": "ctx", "cloud": "aws", "registry": "upstream", **existing}
        environment = with_gateway(kubernetes=[{"name": "gpu", "existing": spec}], use_cases=use_cases)
        return {x.item: x.detail for x in monitoring_lines(environment, PRICES) if x.item.startswith("cluster")}

    assert list(cluster_lines()) == ["cluster gpu: 9 PrometheusRule alerts"]  # GPU nodes not named
    named = cluster_lines(gpu_node_selector=selector)
    assert list(named) == ["cluster gpu: 10 PrometheusRule alerts", "cluster gpu: dcgm-exporter on each GPU node"]
    assert "(support-drafts 5, code-review 5)" in named["cluster gpu: 10 PrometheusRule alerts"]
    assert named["cluster gpu: dcgm-exporter on each GPU node"] == (
        "no extra node cost: one pod on each GPU node, requesting 0.1 vCPU and 0.125 GiB beside the model server"
    )
    own = cluster_lines(gpu_node_selector=selector, provides=["nvidia-device-plugin"])
    assert list(own) == ["cluster gpu: 9 PrometheusRule alerts"]  # its own GPU stack, its own monitoring


def test_dcgm_exporter_counts_the_gpu_nodes_from_min_to_max_replicas() -> None:
    data = prod_variant().model_dump(mode="json", exclude_unset=True)
    contract = next(u for u in data["use_cases"] if u["name"] == "contract-drafts")
    contract["replicas"] = {"min": 1, "max": 3}
    contract["cache"] = {"access_mode": "ReadWriteMany"}  # replicas on several nodes share one cache
    lines = {x.item: x.detail for x in monitoring_lines(Environment.model_validate(data), PRICES)}
    assert "(1-3 nodes from min to max replicas)" in lines["cluster gpu-azure: dcgm-exporter on each GPU node"]


def test_saas_behind_the_gateway_is_alerted_on_by_the_gateways_cluster() -> None:
    """dev with the gateway and monitoring: its Bedrock use case on AWS; the SaaS use case (through the
    gateway) and the model server as PrometheusRules of the gateway's cluster, which also runs the GPUs
    and dcgm-exporter on them."""
    data = with_gateway().model_dump(mode="json", exclude_unset=True)
    data["monitoring"] = {"notify": {"email": ["oncall@example.com"]}}
    for use_case in data["use_cases"]:
        if use_case["pattern"] == "self-managed":
            use_case["monitoring"] = "service-monitor"
    environment = Environment.model_validate(data)
    assert monitoring_items(environment) == [
        ("aws monitoring: alert topic encryption key", 1.00, "aws-kms"),
        ("aws monitoring: SNS topic, 1 email subscription", 0.0, "aws-sns"),
        ("aws monitoring: 5 CloudWatch alarms", 0.70, "aws-cloudwatch-2026-12"),  # doc-search, with a volume
        ("aws monitoring: 1 CloudWatch dashboard", 3.00, "aws-cloudwatch-2026-12"),
        # The gateway's cluster forwards the series of support-drafts' route and code-review's server.
        ("aws monitoring: managed Prometheus private path", 14.60, "aws-privatelink"),
        ("cluster gpu: managed Prometheus samples", round(ROUTE_SAMPLES + DEV_SERVER_SAMPLES, 4), "aws-prometheus"),
        ("cluster gpu: managed Prometheus, 1 customer managed key", 1.00, "aws-kms"),
        ("cluster gpu: dashboard charts, 1 Lambda chart function", 0.0, "aws-lambda"),
        ("cluster gpu: dashboard charts, 1 customer managed key", 1.00, "aws-kms"),
        ("cluster gpu: dcgm-exporter on each GPU node", 0.0, "dcgm-exporter-requests"),
    ]


def test_dcgm_exporter_request_is_the_charts_default() -> None:
    assert gpu_metrics.REQUESTS == {"cpu": "100m", "memory": "128Mi"}
