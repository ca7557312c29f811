"""ModelExposure: how a model server is reached, and by whom.

Creates the server's Service (ClusterIP, or an internal load balancer, never a public one) and its
NetworkPolicies: deny by default, ingress only from the named clients (and the monitoring namespace
on the metrics port), egress only to DNS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pulumi
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import networking as k8s_networking

from triplane.components.self_managed.engines import Engine
from triplane.components.self_managed.server_names import ServerNames
from triplane.components.self_managed.weights import dns_egress_rule
from triplane.components.subcomponent import SubComponent

if TYPE_CHECKING:
    from triplane.components.self_managed.model_server import ClientAccess


class ModelExposure(SubComponent):
    service: k8s_core.v1.Service
    address: pulumi.Output[str]
    """The internal load balancer's address when exposed that way, else the in-cluster host name."""

    def __init__(
        self,
        server: ServerNames,
        parent: pulumi.Resource,
        *,
        engine: Engine,
        access: ClientAccess,
        monitoring: Literal["none", "annotations", "service-monitor"],
        monitoring_namespace: str,
        namespace: pulumi.Resource,
    ) -> None:
        super().__init__("triplane:selfmanaged:ModelExposure", f"{server.name}-exposure", parent)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        self.service = self._service(server, access, in_ns)
        host = f"{server.app}.{server.namespace}.svc.cluster.local"
        if access.exposure == "internal-load-balancer":
            self.address = self.service.status.apply(lambda status: _ingress_address(status, host))
        else:
            self.address = pulumi.Output.from_input(host)
        self._network_policies(server, engine, access, monitoring, monitoring_namespace, in_ns)
        self.register_outputs({"address": self.address})

    @staticmethod
    def _service(server: ServerNames, access: ClientAccess, opts: pulumi.ResourceOptions) -> k8s_core.v1.Service:
        service_spec: Any = {
            "selector": server.selector,
            "ports": [{"name": "http", "port": 80, "target_port": "http", "protocol": "TCP"}],
        }
        service_annotations: dict[str, str] = {}
        if access.exposure == "internal-load-balancer":
            if not access.load_balancer_annotations:
                raise ValueError("an internal load balancer needs the cloud's internal annotations")
            service_spec.update(
                {
                    "type": "LoadBalancer",
                    "external_traffic_policy": "Local",
                    "load_balancer_source_ranges": list(access.cidrs),
                }
            )
            service_annotations = dict(access.load_balancer_annotations)
        else:
            service_spec["type"] = "ClusterIP"
        service_meta = server.meta(server.app)
        if service_annotations:
            service_meta["annotations"] = service_annotations
        return k8s_core.v1.Service(f"{server.name}-service", metadata=service_meta, spec=service_spec, opts=opts)

    @staticmethod
    def _network_policies(
        server: ServerNames,
        engine: Engine,
        access: ClientAccess,
        monitoring: str,
        monitoring_namespace: str,
        opts: pulumi.ResourceOptions,
    ) -> None:
        name = server.name

        def meta(policy: str) -> Any:
            return {"name": policy, "namespace": server.namespace, "labels": dict(server.labels)}

        k8s_networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=meta("default-deny"),
            spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
            opts=opts,
        )
        ingress: Any = [{"from": client_peers(access), "ports": [{"protocol": "TCP", "port": engine.port}]}]
        if monitoring != "none":
            ingress.append(
                {
                    "from": [
                        {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": monitoring_namespace}}}
                    ],
                    "ports": [{"protocol": "TCP", "port": engine.metrics_port}],
                }
            )
        k8s_networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata=meta(f"{server.app}-ingress"),
            spec={
                "pod_selector": {"match_labels": dict(server.selector)},
                "policy_types": ["Ingress"],
                "ingress": ingress,
            },
            opts=opts,
        )
        # The server serves from its cache: it resolves names and reaches nothing else.
        egress: Any = [dns_egress_rule()]
        k8s_networking.v1.NetworkPolicy(
            f"{name}-egress",
            metadata=meta(f"{server.app}-egress"),
            spec={
                "pod_selector": {"match_labels": dict(server.selector)},
                "policy_types": ["Egress"],
                "egress": egress,
            },
            opts=opts,
        )


def client_peers(access: ClientAccess) -> list[dict[str, Any]]:
    """The ingress peers `access` names: pods (by namespace, labels or both) and CIDRs."""
    peers: list[dict[str, Any]] = []
    pod_selector = {"match_labels": dict(access.pod_labels)} if access.pod_labels else None
    for client_ns in access.namespaces:
        peer: dict[str, Any] = {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": client_ns}}}
        if pod_selector:
            peer["pod_selector"] = pod_selector
        peers.append(peer)
    if not access.namespaces and pod_selector:
        peers.append({"namespace_selector": {}, "pod_selector": pod_selector})
    peers += [{"ip_block": {"cidr": cidr}} for cidr in access.cidrs]
    if access.gateway_namespace is not None:
        gateway = {"kubernetes.io/metadata.name": access.gateway_namespace}
        peers.append({"namespace_selector": {"match_labels": gateway}})
    return peers


def _ingress_address(status: Any, fallback: str) -> str:
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) if status is not None else None
    if ingress:
        first = ingress[0]
        return str(getattr(first, "hostname", None) or getattr(first, "ip", None) or fallback)
    return fallback
