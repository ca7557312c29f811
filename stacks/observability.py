"""Alerts and dashboards for every use case, on the monitoring of the cloud its signals are born in.

`monitored` turns the spec into one `MonitoredUseCase` per observable use case: where its signals are
(its managed service's metrics, its model server's, or the AI gateway's), and its alerts with the
spec's thresholds or the tier's. `observe` then hands each cloud's use cases to that cloud's monitoring
component (a channel for `monitoring.notify`, an alert per threshold, a dashboard), and each cluster's
to its Prometheus as rules.
"""

from __future__ import annotations

from collections.abc import Mapping

from triplane.components.observability.alerts import (
    AzureOpenAIDeployments,
    BedrockModels,
    GatewayRoute,
    ModelServer,
    MonitoredUseCase,
    Target,
    VertexModels,
    use_case_alerts,
)
from triplane.stacks.context import Endpoint
from triplane.stacks.patterns.self_managed import server_app
from triplane.stacks.spec import Environment
from triplane.stacks.spec.cloud_managed import AzureOpenAIUseCase, BedrockUseCase, VertexUseCase
from triplane.stacks.spec.monitoring import source_of
from triplane.stacks.spec.self_managed import SelfManagedUseCase
from triplane.stacks.spec.use_case import UseCaseBase


def monitored(environment: Environment, stack: str, endpoints: Mapping[str, Endpoint]) -> list[MonitoredUseCase]:
    """Every use case whose signals Triplane can read, with its alerts (a SaaS use case only behind the
    gateway). `endpoints` are the use cases' own (before the gateway), for resource identities."""
    rows = []
    for use_case in environment.use_cases:
        source = source_of(use_case, environment)
        if source is None:
            continue
        volume = use_case.volume
        alerts = use_case_alerts(
            use_case.name,
            source,
            environment.tier,
            use_case.alerts.model_dump(),
            volume.input_tokens_per_month + volume.output_tokens_per_month if volume is not None else None,
        )
        target = _target(environment, stack, use_case, endpoints.get(use_case.name))
        rows.append(
            MonitoredUseCase(
                name=use_case.name,
                pattern=getattr(use_case, "pattern", ""),
                classification=use_case.data_classification,
                target=target,
                alerts=alerts,
            )
        )
    return rows


def _target(environment: Environment, stack: str, use_case: UseCaseBase, endpoint: Endpoint | None) -> Target:
    clouds = environment.clouds
    if isinstance(use_case, BedrockUseCase):
        assert clouds.aws is not None
        return BedrockModels(region=clouds.aws.region, model_ids=tuple(m.id for m in use_case.models))
    if isinstance(use_case, AzureOpenAIUseCase):
        assert endpoint is not None and endpoint.identity is not None
        return AzureOpenAIDeployments(
            account_id=endpoint.identity, deployments=tuple(use_case.deployment_name(m) for m in use_case.models)
        )
    if isinstance(use_case, VertexUseCase):
        assert clouds.gcp is not None
        return VertexModels(
            project=clouds.gcp.project, region=clouds.gcp.region, models=tuple(m.id for m in use_case.models)
        )
    if isinstance(use_case, SelfManagedUseCase):
        return ModelServer(
            cluster=use_case.cluster,
            namespace=use_case.service_name,
            app=server_app(stack, use_case),
            engine=use_case.engine,
        )
    assert environment.gateway is not None
    return GatewayRoute(cluster=environment.gateway.cluster, model=use_case.name)
