"""One seam per cloud: every cloud fills every entry, and stacks branch on no cloud name outside the seams."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from triplane.stacks.clouds import SEAMS
from triplane.stacks.clouds.seam import CloudSeam
from triplane.stacks.spec import AzureOpenAIUseCase, BedrockUseCase, SpecError, VertexUseCase, validate_environment
from triplane.stacks.spec.base import Cloud, ManagedService
from triplane.stacks.spec.cloud_managed import SERVICE_OF_CLOUD

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "stacks/Pulumi.test.yaml"

ENTRIES = {
    "name",
    "provider",
    "prepare",
    "network",
    "api_paths",
    "egress",
    "egress_sources",
    "egress_logs",
    "saas_paths",
    "key_store",
    "image_cache_secrets",
    "image_cache",
    "cached_registries",
    "monitoring",
    "cluster",
    "cluster_extras",
    "weights_import",
    "load_balancer_annotations",
    "device_plugin_installed_by",
    "managed_models",
    "diagram",
    "prices",
    "mocks",
    "example_principal",
}
"""What a cloud must supply. A new entry goes here and into every seam; a new cloud fills them all."""

CLOUD_NAMES = {"aws", "azure", "gcp"}
SEAM_MODULES = {"stacks/clouds/aws.py", "stacks/clouds/azure.py", "stacks/clouds/gcp.py"}
ALLOWED: dict[str, str] = {
    "stacks/spec/clusters.py": "a cluster's own settings refused on the wrong cloud (dns-endpoint, kms_key_vault, "
    "service_endpoints), each check naming its field",
    "stacks/spec/self_managed.py": "a GKE cluster in an existing network needs its secondary ranges named",
    "stacks/spec/saas.py": "per-cloud principal formats, keyed by cloud (data, not a branch)",
    "stacks/spec/cloud_managed.py": "per-cloud principal formats and settings blocks, keyed by cloud (data)",
}
"""Modules outside the seams that still compare cloud names, and why the comparison belongs there."""


def test_the_seam_lists_exactly_its_entries() -> None:
    assert {f.name for f in dataclasses.fields(CloudSeam)} == ENTRIES


@pytest.mark.parametrize("cloud", sorted(CLOUD_NAMES))
def test_every_cloud_fills_every_entry(cloud: str) -> None:
    seam = SEAMS[cloud]
    assert seam.name == cloud
    data = {"name", "load_balancer_annotations", "device_plugin_installed_by", "managed_models", "egress_sources"}
    data |= {"cached_registries"}
    data |= {"diagram", "prices", "mocks", "example_principal", "monitoring"}
    for entry in ENTRIES - data:
        assert callable(getattr(seam, entry)), f"{cloud}: `{entry}` is not a function"
    assert all(callable(source) for source in seam.egress_sources)
    assert seam.load_balancer_annotations, f"{cloud}: no internal load balancer annotations"
    assert seam.device_plugin_installed_by
    assert {"docker.io", "ghcr.io", "registry.k8s.io", "quay.io"} <= seam.cached_registries
    assert seam.managed_models, f"{cloud}: no managed-model service"
    for service in seam.managed_models.values():
        assert callable(service.build) and callable(service.diagram)
        assert service.price_vendor and service.regions
    shapes = seam.diagram
    assert shapes.kubernetes and shapes.network_key and shapes.egress and shapes.secret_store
    assert callable(shapes.network)
    assert seam.prices.egress_per_gb and seam.prices.egress_hourly and seam.prices.private_endpoint
    assert callable(seam.prices.zones)
    assert seam.mocks.package and callable(seam.mocks.resource) and callable(seam.mocks.call)


def test_each_seam_mocks_its_own_provider_package() -> None:
    packages = {cloud: seam.mocks.package for cloud, seam in SEAMS.items()}
    assert packages == {"aws": "aws", "azure": "azure-native", "gcp": "gcp"}
    state: dict[str, Any] = {}
    assert SEAMS["gcp"].mocks.resource("gcp:storage/bucket:Bucket", "b", {"project": "p"}, state) == (
        "projects/p/buckets/b"
    )
    assert state["selfLink"] == "https://www.googleapis.com/projects/p/buckets/b"
    assert SEAMS["azure"].mocks.call("aws:index/getPartition:getPartition", {}) is None


@pytest.mark.parametrize("cloud", sorted(CLOUD_NAMES))
def test_the_example_principal_is_one_the_spec_accepts(cloud: str) -> None:
    service = SERVICE_OF_CLOUD[cloud]
    use_case = {"cloud": cloud, "models": MODELS[cloud], "allowed_principals": [SEAMS[cloud].example_principal]}
    env = validate_environment(_environment(**use_case), SOURCE)
    assert env.use_cases[0].service == service


def test_the_seams_cover_every_cloud_and_service_of_the_spec() -> None:
    assert set(SEAMS) == set(Cloud.__args__) == CLOUD_NAMES  # type: ignore[attr-defined]
    services = {service: cloud for cloud, seam in SEAMS.items() for service in seam.managed_models}
    assert services == {"bedrock": "aws", "azure-openai": "azure", "vertex": "gcp"}
    assert set(services) == set(ManagedService.__args__)  # type: ignore[attr-defined]
    assert {SERVICE_OF_CLOUD[cloud] for cloud in CLOUD_NAMES} == set(services)


def _cloud_comparisons(path: Path) -> list[int]:
    """Lines comparing something with a cloud name (`== "aws"`, `!= "gcp"`, `in ("aws", ...)`), or
    keying a dict literal by cloud names."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                if isinstance(operand, ast.Constant) and operand.value in CLOUD_NAMES:
                    lines.append(node.lineno)
        if (
            isinstance(node, ast.Dict)
            and sum(isinstance(k, ast.Constant) and k.value in CLOUD_NAMES for k in node.keys) >= 2
        ):
            lines.append(node.lineno)
    return lines


def test_stacks_branch_on_cloud_names_only_in_the_seams_and_the_listed_modules() -> None:
    found = {}
    for path in sorted([*(ROOT / "stacks").rglob("*.py"), *(ROOT / "triplane" / "decide").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative in SEAM_MODULES:
            continue
        if lines := _cloud_comparisons(path):
            found[relative] = lines
    unlisted = {module: lines for module, lines in found.items() if module not in ALLOWED}
    assert unlisted == {}, "per-cloud branching outside stacks/clouds: move it into the cloud's seam"
    assert set(ALLOWED) <= set(found), "an allowed module no longer branches on clouds: drop it from ALLOWED"


def test_the_scan_finds_a_cloud_comparison(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('def f(cloud):\n    if cloud == "aws":\n        return 1\n    return {"aws": 1, "gcp": 2}\n')
    assert _cloud_comparisons(module) == [2, 4]


# --- The cloud-managed spec: a union discriminated by `service` ---------------------------------------


def _environment(**use_case: Any) -> dict[str, Any]:
    return {
        "owner": "ml-platform",
        "cost_center": "cc-1234",
        "clouds": {
            "aws": {
                "region": "us-east-1",
                "network": {"new": {"cidr": "10.20.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}},
            },
            "azure": {
                "location": "westeurope",
                "resource_group": "rg-ml",
                "network": {"new": {"cidr": "10.30.0.0/16"}},
            },
            "gcp": {"project": "acme-ml-prod", "region": "europe-west4", "network": {"new": {"cidr": "10.40.0.0/16"}}},
        },
        "use_cases": [{"name": "chat", "pattern": "cloud-managed", "data_classification": "internal", **use_case}],
    }


MODELS = {
    "aws": [{"id": "amazon.nova-pro-v1:0"}],
    "azure": [{"id": "gpt-4o", "version": "2024-11-20"}],
    "gcp": [{"id": "gemini-2.5-flash"}],
}


@pytest.mark.parametrize(
    ("cloud", "model"), [("aws", BedrockUseCase), ("azure", AzureOpenAIUseCase), ("gcp", VertexUseCase)]
)
def test_the_service_defaults_to_the_clouds_own(cloud: str, model: type) -> None:
    env = validate_environment(_environment(cloud=cloud, models=MODELS[cloud]), SOURCE)
    [use_case] = env.use_cases
    assert type(use_case) is model
    assert use_case.service == SERVICE_OF_CLOUD[cloud]


def test_a_named_service_picks_its_model() -> None:
    env = validate_environment(_environment(cloud="gcp", service="vertex", models=MODELS["gcp"]), SOURCE)
    assert isinstance(env.use_cases[0], VertexUseCase)


def test_a_service_on_another_cloud_is_refused_naming_service() -> None:
    with pytest.raises(SpecError) as raised:
        validate_environment(_environment(cloud="aws", service="vertex", models=MODELS["gcp"]), SOURCE)
    message = str(raised.value)
    assert "triplane:environment.use_cases[0].service: vertex runs on gcp, not aws" in message
    assert "(bedrock)" in message


def test_an_unknown_service_is_refused_naming_service() -> None:
    with pytest.raises(SpecError) as raised:
        validate_environment(_environment(cloud="aws", service="sagemaker", models=MODELS["aws"]), SOURCE)
    assert "triplane:environment.use_cases[0].service: set one of bedrock, azure-openai or vertex" in str(raised.value)


def test_errors_inside_a_service_name_the_field_without_the_union_tag() -> None:
    with pytest.raises(SpecError) as raised:
        validate_environment(_environment(cloud="aws", models=[{"id": "not a model"}]), SOURCE)
    assert "triplane:environment.use_cases[0].models[0].id: 'not a model' is not a Bedrock model" in str(raised.value)
