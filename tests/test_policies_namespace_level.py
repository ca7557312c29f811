"""`k8s-namespace-pod-security`: a namespace that serves a model enforces the strictest Pod Security level
its workloads allow (restricted; baseline only where a `rootImages` image runs as root), and always warns
and audits at restricted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from triplane.components.tagging import k8s_labels, standard_tags
from triplane.gate import check_plan
from triplane.plan import Plan, PlannedResource

SHIPPED_CONFIG = json.loads((Path(__file__).parents[1] / "policies" / "policy-config.json").read_text())
TGI = "ghcr.io/huggingface/text-generation-inference:3.3.7"
VLLM = "docker.io/vllm/vllm-openai:v0.11.0"
LOCKED_DOWN = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
ROOT = {**LOCKED_DOWN, "runAsUser": 0}
NON_ROOT = {**LOCKED_DOWN, "runAsNonRoot": True, "runAsUser": 10001}


def resource(type_: str, name: str, inputs: dict[str, Any]) -> PlannedResource:
    return PlannedResource(
        urn=f"urn:pulumi:t::triplane::{type_}::{name}", type=type_, name=name, custom=True, parent=None,
        inputs=inputs, dependencies=(), protect=False, retain_on_delete=False, provider=None, aliases=(),
        ignore_changes=(), additional_secret_outputs=(),
    )  # fmt: skip


def serving(
    namespace: str, enforce: str, image: str, context: dict[str, Any], audit: str = "restricted"
) -> list[PlannedResource]:
    """A use case's namespace with the given Pod Security labels, and its model server."""
    labels = k8s_labels(
        standard_tags(
            environment="t",
            owner="platform",
            cost_center="cc-1",
            use_case=namespace,
            data_classification="internal",
            pattern="self-managed",
        )
    )
    pss = {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": audit,
    }
    container = {
        "name": "server",
        "image": image,
        "securityContext": context,
        "resources": {"limits": {"cpu": "4", "memory": "16Gi"}, "requests": {"cpu": "4", "memory": "16Gi"}},
    }
    template = {
        "metadata": {"labels": {"app": "server"}},
        "spec": {"automountServiceAccountToken": False, "containers": [container]},
    }
    return [
        resource("kubernetes:core/v1:Namespace", f"{namespace}-namespace",
                 {"metadata": {"name": namespace, "labels": {**labels, **pss}}}),
        resource("kubernetes:apps/v1:Deployment", f"{namespace}-server",
                 {"metadata": {"name": "server", "namespace": namespace, "labels": labels},
                  "spec": {"selector": {"matchLabels": {"app": "server"}}, "template": template}}),
    ]  # fmt: skip


def findings(*cases: list[PlannedResource]) -> dict[str, list[str]]:
    plan = Plan(stack="t", project="triplane", resources=[r for case in cases for r in case], outputs={})
    result = check_plan(plan, scope="kubernetes", config=SHIPPED_CONFIG)
    found: dict[str, list[str]] = {}
    for violation in result.violations:
        if violation.policy == "k8s-namespace-pod-security":
            assert violation.mandatory
            found.setdefault(str(violation.resource_name), []).append(violation.message)
    return found


def test_a_namespace_weaker_than_its_workloads_need_fails_the_gate() -> None:
    assert findings(
        serving("vllm-ok", "restricted", VLLM, NON_ROOT),
        serving("tgi-ok", "baseline", TGI, ROOT),
        # Non-root workloads get restricted: baseline would let a later root pod in.
        serving("vllm-lax", "baseline", VLLM, NON_ROOT),
        serving("tgi-open", "privileged", TGI, ROOT),
        # restricted refuses the root TGI pod: the namespace must say baseline, the one level it needs.
        serving("tgi-strict", "restricted", TGI, ROOT),
        serving("vllm-quiet", "restricted", VLLM, NON_ROOT, audit="baseline"),
    ) == {
        "vllm-lax-namespace": ["namespace vllm-lax enforces Pod Security 'baseline', weaker than 'restricted'"],
        "tgi-open-namespace": ["namespace tgi-open enforces Pod Security 'privileged', weaker than 'baseline'"],
        "tgi-strict-namespace": [
            "namespace tgi-strict enforces 'restricted', which refuses huggingface/text-generation-inference "
            "running as root"
        ],
        "vllm-quiet-namespace": ["namespace vllm-quiet does not audit at 'restricted' (has 'baseline')"],
    }


def test_baseline_is_earned_by_the_listed_image_not_by_any_root_pod() -> None:
    # A root container of an image not in rootImages does not lower its namespace's level.
    assert findings(serving("other-root", "baseline", "docker.io/library/python:3.12.8", ROOT)) == {
        "other-root-namespace": ["namespace other-root enforces Pod Security 'baseline', weaker than 'restricted'"],
    }
