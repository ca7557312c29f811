"""Add-ons installed from Helm charts run as an unprivileged user of their image, never as a UID host
accounts use: `nobody` (65534), or distroless's `nonroot` (65532) for the images built to run as it
(Envoy Gateway's and Envoy AI Gateway's).

The gate's `k8s-run-as-non-root` sees the pods Triplane renders itself; a chart's pods exist only in its
values, so this test holds those to the same rule in every shipped stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.conftest import SHIPPED_STACKS, planned

RELEASE = "kubernetes:helm.sh/v3:Release"


def users(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every `runAsUser` in a chart's values, with where it sits."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "runAsUser":
                yield f"{path}.{key}", item
            else:
                yield from users(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from users(item, f"{path}[{index}]")


UNPRIVILEGED = {65534: "nobody", 65532: "nonroot (distroless)"}
PODLESS = {"ai-gateway-crds-helm"}
"""Charts that install CRDs and run no pod."""


def test_every_chart_pod_runs_as_an_unprivileged_image_user() -> None:
    seen = 0
    for stack in SHIPPED_STACKS:
        for release in planned(stack).by_type(RELEASE):
            found = list(users(release.inputs.get("values", {})))
            if release.inputs["chart"].rsplit("/", 1)[-1] in PODLESS:
                assert found == [], release.name
                continue
            assert found, f"{stack}: {release.name} sets no user for its pods"
            for where, uid in found:
                assert uid in UNPRIVILEGED, f"{stack}: {release.name}{where} is {uid}"
            seen += len(found)
    # keda (operator, metrics server, webhooks) and kube-prometheus-stack (operator, Prometheus) per cluster.
    assert seen >= 5
