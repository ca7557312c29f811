"""Policy metadata, pack layout, shipped configuration and the generated documentation."""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from triplane.components.tagging import REQUIRED_TAGS
from triplane.gate import default_config, load_policy_config, reconcile
from triplane.policies import catalog, docs
from triplane.policies.common import MANDATORY, REGISTRY
from triplane.policies.packs import PACK_DIR, POLICIES, SCOPES, scope_file, scope_text
from triplane.policies.stack import REQUIRED_TAGS_DEFAULT

CLOUDS = ("aws", "azure", "gcp")
ROOT = Path(__file__).resolve().parents[1]


def names(scope: str) -> set[str]:
    return {p.name for p in SCOPES[scope]}


def test_at_least_35_policies_each_fully_described() -> None:
    assert len(REGISTRY) >= 35
    for meta in REGISTRY.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", meta.name), meta.name
        assert meta.description.endswith(".") and len(meta.description) > 20, meta.name
        assert len(meta.remediation) > 20, meta.name
        assert meta.severity is not None and meta.enforcement is not None
        for reference in meta.references:
            assert reference.framework == "Checkov" or reference.framework.startswith("CIS "), meta.name
            if reference.framework == "Checkov":
                assert re.fullmatch(r"CKV2?_(AWS|AZURE|GCP|K8S)_\d+", reference.id), reference
        for prop, spec in meta.schema.properties.items():
            assert "default" in spec, f"{meta.name}.{prop} has no documented default"
        assert "exemptions" in meta.schema.properties


def test_the_brief_s_policies_are_all_there() -> None:
    required = {
        "aws-bedrock-endpoint-private-dns", "aws-bedrock-iam-least-privilege", "aws-bedrock-invocation-logging",
        "azure-openai-public-network-disabled", "azure-openai-local-auth-disabled",
        "azure-openai-network-acls-deny", "azure-openai-managed-identity", "azure-openai-outbound-restricted",
        "azure-openai-diagnostic-settings", "gcp-vertex-private-service-connect", "gcp-no-basic-roles",
        "k8s-image-pinned", "k8s-image-registry-allowlist", "k8s-no-privileged-containers",
        "k8s-no-privilege-escalation", "k8s-run-as-non-root", "k8s-resource-limits", "k8s-no-secrets-in-env",
        "k8s-no-secrets-in-configmaps", "k8s-namespace-network-policy", "k8s-no-public-load-balancer",
        "aws-node-group-size-cap", "azure-node-pool-size-cap", "gcp-node-pool-size-cap",
        "aws-secret-customer-managed-key", "gcp-secret-customer-managed-key", "aws-kms-key-rotation",
        "gcp-kms-key-rotation", "azure-key-vault-purge-protection", "azure-key-vault-soft-delete",
        "azure-key-vault-rbac", "azure-key-vault-no-public-access", "aws-egress-allowlist",
        "azure-egress-allowlist", "gcp-egress-allowlist", "no-plaintext-credentials",
        "classification-allowed-patterns", "required-tags", "model-allowlist",
    }
    assert required <= set(REGISTRY)
    governance = ("classification-allowed-patterns", "no-plaintext-credentials", "k8s-image-pinned")
    assert all(REGISTRY[name].enforcement == MANDATORY for name in governance)


def test_scopes_partition_the_policies() -> None:
    runtime_cloud = {"deployable-deployer", "deployable-cloud-apis", "deployable-endpoints", "deployable-dashboards"}
    runtime_kubernetes = {"deployable-images", "deployable-crds", "deployable-autoscaling", "deployable-gpus",
                          "deployable-weights", "deployable-gateway", "deployable-alerts"}
    every_cloud = {"cluster-api-authorized-ranges"}  # one rule over EKS, AKS and GKE alike
    ai_gateway = {"gateway-routes-authenticated-and-limited", "gateway-route-per-use-case",
                  "gateway-route-classification"}  # Kubernetes custom resources, on any cluster
    monitoring = {"monitoring-alerts-notify", "monitoring-prod-alerts",
                  "monitoring-saas-unobserved"}  # alerts on any cloud, or as PrometheusRules on any cluster
    stack_level = {p.name for p in POLICIES if p.name.split("-")[0] not in
                   ("aws", "azure", "gcp", "k8s", "deployable", "gateway", "monitoring")} - every_cloud
    assert stack_level == {"classification-allowed-patterns", "required-tags", "model-allowlist",
                           "model-ids-unlisted", "no-plaintext-credentials", "stateful-resources-protected",
                           "stage-ownership"}
    assert {p.name for p in POLICIES} == set(REGISTRY) == set().union(*(names(s) for s in SCOPES))
    assert {n for n in REGISTRY if n.startswith("gateway-")} == ai_gateway
    assert {n for n in REGISTRY if n.startswith("monitoring-")} == monitoring
    kubernetes = {n for n in REGISTRY if n.startswith("k8s-")} | ai_gateway | monitoring | runtime_kubernetes
    assert names("kubernetes") == kubernetes
    for cloud in CLOUDS:
        assert names(cloud) == ({n for n in REGISTRY if n.startswith(f"{cloud}-")} | kubernetes | stack_level
                                | runtime_cloud | every_cloud)


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_scope_files_disable_exactly_the_policies_outside_the_scope(scope: str) -> None:
    assert scope_file(scope).read_text() == scope_text(scope), "run `python -m triplane.policies.packs`"
    config = load_policy_config(scope_file(scope))
    effective = reconcile(POLICIES, config, "triplane")
    running = {name for name, entry in effective.items() if entry["enforcementLevel"] != "disabled"}
    assert running == names(scope)


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pack_pins(folder: Path) -> dict[str, str]:
    """`name==version` lines of a pack's requirements.txt; anything else but comments fails."""
    pins = {}
    for line in (folder / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, equals, version = line.partition("==")
            assert equals and version, f"{folder.name}: {line!r} is not pinned (name==version)"
            pins[name] = version
    return pins


def test_the_pack_folder_is_a_self_contained_python_policy_pack() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"]) and project["description"]
    pins = pack_pins(PACK_DIR)
    # Exactly what the pack's modules import (host_patterns needs publicsuffixlist).
    assert set(pins) == {"pulumi", "pulumi-policy", "publicsuffixlist"}
    admitted = {Requirement(r).name: Requirement(r).specifier for r in PROJECT["dependencies"]}
    for name, version in pins.items():
        assert admitted[name].contains(version), f"{name}=={version} is outside {admitted[name]}"
    main = (PACK_DIR / "__main__.py").read_text()
    assert main.rstrip().endswith(".serve()")
    # It loads its own folder and nothing else: no absolute import beyond the standard library.
    imported = {alias.name for node in ast.walk(ast.parse(main)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(ast.parse(main)) if isinstance(node, ast.ImportFrom)
                 and node.module}
    assert {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names), imported


def test_required_tags_match_the_tagging_module() -> None:
    assert tuple(REQUIRED_TAGS_DEFAULT) == REQUIRED_TAGS


def test_taggable_catalog_matches_the_installed_sdks() -> None:
    shipped = json.loads(catalog.CATALOG_PATH.read_text())["properties"]
    assert shipped == catalog.scan_sdks(), "run `python -m triplane.policies.catalog --write` after an SDK upgrade"
    types = catalog.taggable_types()
    assert types["aws:ec2/vpcEndpoint:VpcEndpoint"] == "tags"
    assert types["azure-native:keyvault:Vault"] == "tags"
    assert types["gcp:compute/globalAddress:GlobalAddress"] == "labels"
    assert types["gcp:container/cluster:Cluster"] == "resourceLabels"
    assert types["kubernetes:apps/v1:Deployment"] == "metadata.labels"
    for untaggable in ("aws:iam/rolePolicy:RolePolicy", "gcp:projects/service:Service",
                       "azure-native:authorization:RoleAssignment", "kubernetes:core/v1:ConfigMapList"):
        assert untaggable not in types


def test_shipped_policy_config_is_valid_and_every_exemption_has_a_reason() -> None:
    config = load_policy_config(default_config())
    assert set(config) <= set(REGISTRY) | {"all"}, "config for a policy that does not exist"
    effective = reconcile(POLICIES, config, "triplane")
    for name, entry in effective.items():
        for exemption in entry["properties"].get("exemptions", []):
            assert len(exemption["reason"].strip()) >= 10, (name, exemption)
        for override in entry["properties"].get("overrides", []):
            assert len(override["reason"].strip()) >= 10, (name, override)
    allowed = effective["model-allowlist"]["properties"]["allowedModels"]
    assert set(allowed) == {"public", "internal", "confidential", "restricted"}
    assert "*" not in allowed["restricted"] and "*" not in allowed["confidential"]


def test_readme_documents_every_policy_and_its_defaults() -> None:
    readme = (ROOT / "policies" / "README.md").read_text()
    start, end = readme.index(docs.BEGIN), readme.index(docs.END) + len(docs.END)
    assert readme[start:end] == docs.table(), "run `python -m triplane.policies.docs` and paste the table"
    for name in REGISTRY:
        assert f"| `{name}` |" in readme


def test_policy_modules_import_only_what_a_pack_virtualenv_has() -> None:
    """The pack's virtualenv holds pulumi, pulumi-policy and publicsuffixlist only (requirements.txt); the
    modules reach one another relatively, never through an absolute import of Triplane."""
    allowed = {"pulumi", "pulumi_policy", "publicsuffixlist", "google"} | set(sys.stdlib_module_names)
    for module in sorted(PACK_DIR.glob("*.py")):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names_imported = []
            if isinstance(node, ast.Import):
                names_imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names_imported = [node.module]
            for name in names_imported:
                assert name.split(".")[0] in allowed, f"{module.name} imports {name}"
                # Only the adapter knows the policy framework: the checks run in-process without it.
                if module.name != "adapter.py":
                    assert name.split(".")[0] not in ("pulumi", "pulumi_policy"), f"{module.name} imports {name}"
