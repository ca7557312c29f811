"""AIGatewayInstall: Envoy AI Gateway v1.1.0 on Envoy Gateway v1.9.0, on one cluster of the environment.

Creates, through the cluster's Kubernetes provider:

- Namespaces (Pod Security `restricted` enforced): `envoy-gateway-system` (Envoy Gateway, the Envoy
  proxies it runs for the Gateway, its rate limit service and Redis), `envoy-ai-gateway-system` (the
  AI gateway's controller) and the gateway's own namespace (the Gateway, its TLS Secret, the routes).
- Three Helm releases from the projects' OCI charts, pinned: `gateway-helm` v1.9.0 (Envoy Gateway and
  the Gateway API CRDs, with the extension manager the AI gateway needs and global rate limiting on
  Redis), `ai-gateway-crds-helm` v1.1.0 and `ai-gateway-helm` v1.1.0. Every image they pull is set
  through the chart values from the cluster's `ImageSource`.
- Redis for the rate limit counters: a Deployment (non-root, read-only root filesystem, nothing
  persisted), its Service, and a NetworkPolicy admitting only the rate limit pods.
- An `EnvoyProxy` making the proxy Service an internal load balancer open to the application networks
  only, with the proxy image from the cache, pod security, system-node placement, a fixed service
  account name and the pod labels workload identity needs; a `GatewayClass` using it; and a `Gateway`
  with one HTTPS listener on 443 terminating TLS with a kubernetes.io/tls Secret, admitting routes from
  its own namespace only. The Gateway's `infrastructure.annotations` carry the workload identity
  annotations: Envoy Gateway copies them onto the proxy's service account (EnvoyProxy can name that
  account but cannot annotate it).
- A `PodMonitor` (labelled for Triplane's Prometheus) scraping the AI gateway's GenAI token metrics
  from the external processor every proxy pod runs, and Envoy's own statistics.

Every custom resource depends on the release that installs its CRD.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_kubernetes import apiextensions as k8s_apiextensions
from pulumi_kubernetes import apps as k8s_apps
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import helm as k8s_helm
from pulumi_kubernetes import networking as k8s_networking

from triplane.components import images
from triplane.components.images import Image, ImageSource, Upstream
from triplane.components.self_managed.addons import (
    CONTAINER_SECURITY,
    RELEASE_SETTINGS,
    RESTRICTED,
    SCRAPE_LABELS,
    Chart,
    custom_resource,
)
from triplane.policies.ai_gateway import COST_NAMESPACE, GATEWAY_CLASS, PROXY_NAMESPACE
from triplane.policies.cluster_addons import CHART_GROUPS
from triplane.policies.kubernetes import INTERNAL_LB_ANNOTATIONS_DEFAULT

OCI_REPOSITORY = "oci://docker.io/envoyproxy"
"""Where both projects publish their charts (their release workflows push with `helm push` there)."""

CHARTS: dict[str, Chart] = {
    "envoy-gateway": Chart("gateway-helm", "v1.9.0", OCI_REPOSITORY, "v1.9.0"),
    "ai-gateway-crds": Chart("ai-gateway-crds-helm", "v1.1.0", OCI_REPOSITORY, "v1.1.0"),
    "ai-gateway": Chart("ai-gateway-helm", "v1.1.0", OCI_REPOSITORY, "v1.1.0"),
}
"""The releases, in install order. `gateway-helm` also installs the Gateway API CRDs (v1.6.1)."""

IMAGES: dict[str, tuple[Image, ...]] = {
    "envoy-gateway": (images.ENVOY_GATEWAY, images.ENVOY_PROXY, images.ENVOY_RATELIMIT),
    "ai-gateway-crds": (),
    "ai-gateway": (images.AI_GATEWAY_CONTROLLER, images.AI_GATEWAY_EXTPROC),
}
"""Every image each release's pods pull: Envoy Gateway's controller (also the proxies' shutdown
manager), the proxy and the rate limit service; the AI gateway's controller and the external processor
it injects into the proxy pods. Redis (`images.REDIS`) is this component's own Deployment."""

CRD_GROUPS: dict[str, str] = {
    group: release for release, chart in CHARTS.items() for group in CHART_GROUPS.get(chart.name, ())
}
"""API group -> the release (key of CHARTS) installing its CRDs, as the gate counts them."""

ENVOY_GATEWAY_NAMESPACE = PROXY_NAMESPACE
"""Envoy Gateway, and the proxies, rate limit service and Redis it runs (the AI gateway chart's default)."""
AI_GATEWAY_NAMESPACE = "envoy-ai-gateway-system"
GATEWAY_NAMESPACE = "ai-gateway"
GATEWAY_NAME = "ai-gateway"
ENVOY_PROXY_NAME = "ai-gateway"
PROXY_SERVICE = "ai-gateway"
"""The proxy Service's fixed name (Envoy Gateway would otherwise add a hash)."""
PROXY_SERVICE_ACCOUNT = "ai-gateway-proxy"
"""The proxy pods' service account, by a fixed name so a cloud's trust (IRSA trust policy, EKS Pod
Identity association, Entra federated credential, GKE principal) can name it."""
TLS_SECRET = "ai-gateway-tls"
CONTROLLER_NAME = "ai-gateway-controller"
"""The AI gateway chart's `controller.fullnameOverride`: its Service, which Envoy Gateway calls."""
EXTENSION_SERVER_PORT = 1063
CONTROLLER_CLASS = "gateway.envoyproxy.io/gatewayclass-controller"
COST_METADATA_NAMESPACE = COST_NAMESPACE
"""Where the AI gateway writes each request's token costs (`llmRequestCosts`) for rate limits to read."""

REDIS_NAME = "redis"
REDIS_PORT = 6379
REDIS_URL = f"{REDIS_NAME}.{ENVOY_GATEWAY_NAMESPACE}.svc.cluster.local:{REDIS_PORT}"
REDIS_UID = 10001
REDIS_GID = 10001
"""Redis runs as a user no host account has: the official image's entrypoint switches to its own `redis`
user (999) only when started as root, the server needs no file of its own, and `/data` is an emptyDir
made writable through fsGroup (nothing is saved)."""
REDIS_REQUESTS = {"cpu": "50m", "memory": "128Mi"}
CONTROLLER_REQUESTS = {"cpu": "50m", "memory": "128Mi"}
"""What Redis and the AI gateway's controller request (`triplane cost` counts them on the system nodes)."""
REDIS_LABELS = {"app.kubernetes.io/name": "redis", "app.kubernetes.io/part-of": "ai-gateway"}
RATELIMIT_LABELS = {
    "app.kubernetes.io/name": "envoy-ratelimit",
    "app.kubernetes.io/component": "ratelimit",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}
"""The labels Envoy Gateway puts on its rate limit pods (the only clients of Redis)."""
RATELIMIT_UID = 65534
"""The UID Envoy Gateway runs the rate limit container as."""
PROXY_LABELS = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}
"""The labels Envoy Gateway puts on every proxy pod."""
NONROOT_UID = 65532
"""`nonroot` of the distroless images: Envoy, Envoy Gateway and both AI gateway images."""
EXTPROC_METRICS_PORT = "aigw-admin"
"""The external processor's admin port (1064): `/metrics` (the GenAI `gen_ai_*` metrics) and `/health`."""
ENVOY_METRICS_PORT = "metrics"
"""Envoy's own statistics port (19001, `/stats/prometheus`)."""

WORKLOAD_IDENTITY: dict[str, frozenset[str]] = {
    "aws": frozenset({"eks.amazonaws.com/role-arn", "eks.amazonaws.com/sts-regional-endpoints"}),
    "azure": frozenset({"azure.workload.identity/client-id", "azure.workload.identity/tenant-id"}),
    "gcp": frozenset({"iam.gke.io/gcp-service-account"}),
}
"""Service account annotations each cloud's workload identity reads (EKS Pod Identity and GKE
principal bindings need none: they name the account)."""
AZURE_POD_LABEL = ("azure.workload.identity/use", "true")
GPU_KEYS = re.compile(r"gpu|accelerator", re.IGNORECASE)
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")

Cloud = Literal["aws", "azure", "gcp"]


@dataclass(frozen=True)
class AIGatewayInstallArgs:
    hostname: str
    """The name applications call (`https://<hostname>`), on the TLS certificate; DNS points it at the
    internal load balancer."""
    tls_certificate: pulumi.Input[str]
    """PEM chain for `hostname` (server certificate first)."""
    tls_private_key: pulumi.Input[str]
    """PEM key of the certificate: a secret; it goes only into the kubernetes.io/tls Secret."""
    source_ranges: Sequence[str]
    """The application networks' CIDRs: the only sources the load balancer admits."""
    load_balancer_annotations: Mapping[str, str]
    """The cluster cloud's internal load balancer annotations (the cluster's `load_balancer_annotations`)."""
    provider: pulumi.ProviderResource | None = None
    """The cluster's Kubernetes provider (else the caller's `opts` carry it)."""
    images: ImageSource = field(default_factory=Upstream)
    cloud: Cloud | None = None
    """The cluster's cloud: checks the workload identity annotations; None for an existing cluster."""
    service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    """Workload identity annotations for the proxy pods' service account (their external processor
    signs the requests to cloud model APIs): IRSA `eks.amazonaws.com/role-arn`, Azure
    `azure.workload.identity/client-id`, GKE `iam.gke.io/gcp-service-account`."""
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels the cloud identity needs on the proxy pods (Azure: `azure.workload.identity/use: "true"`)."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Where every gateway pod runs: the cluster's system nodes, never GPU nodes."""
    tolerations: Sequence[Mapping[str, Any]] = ()
    namespace: str = GATEWAY_NAMESPACE
    """The Gateway's namespace: its TLS Secret and every route live here."""
    proxy_replicas: int = 2
    inference_pools: bool = False
    """Route to Inference Extension `InferencePool`s (their CRD must exist on the cluster)."""
    crd_releases: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """API group -> the release installing its CRD elsewhere (`monitoring.coreos.com` for the PodMonitor)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels (from `k8s_labels`) put on the namespaces."""


@dataclass(frozen=True)
class GatewayFacts:
    """What routes, consumers and applications need to know of the installed gateway."""

    namespace: str
    gateway_name: str
    gateway_class: str
    url: str
    """`https://<hostname>`: what applications call, through the internal load balancer."""
    in_cluster_host: str
    """The proxy Service's cluster DNS name (TLS still names `hostname`)."""
    proxy_namespace: str
    proxy_service_account: str
    """`system:serviceaccount:<proxy_namespace>:<proxy_service_account>` signs upstream requests."""
    cost_metadata_namespace: str = COST_METADATA_NAMESPACE
    redis_url: str = REDIS_URL


SCRAPE_INTERVAL = "30s"
"""How often the gateway's PodMonitor scrapes its proxies' GenAI and Envoy metrics."""


def validate(args: AIGatewayInstallArgs) -> None:
    """Refuse args that would deploy a broken or exposed gateway, naming the field and the fix."""
    where = "AIGatewayInstallArgs"
    if not HOSTNAME.match(args.hostname):
        raise ValueError(
            f"{where}.hostname: {args.hostname!r} is not a host name; give the DNS name applications "
            "call, without scheme or port (e.g. ai-gateway.internal.example.com)"
        )
    if not args.source_ranges:
        raise ValueError(f"{where}.source_ranges: empty; give the application networks' CIDRs")
    for cidr in args.source_ranges:
        try:
            network = ipaddress.ip_network(cidr)
        except ValueError:
            raise ValueError(f"{where}.source_ranges: {cidr!r} is not a CIDR (e.g. 10.20.0.0/16)") from None
        if not network.is_private:
            raise ValueError(
                f"{where}.source_ranges: {cidr} is not a private network; the gateway's load balancer is "
                "internal: give the application networks' private CIDRs"
            )
    internal = {k: v for k, v in INTERNAL_LB_ANNOTATIONS_DEFAULT.items() if args.load_balancer_annotations.get(k) == v}
    if not internal:
        raise ValueError(
            f"{where}.load_balancer_annotations: none makes the load balancer internal; pass the "
            "cluster's internal load balancer annotations (one of "
            + ", ".join(f"{k}: {v!r}" for k, v in INTERNAL_LB_ANNOTATIONS_DEFAULT.items())
            + ")"
        )
    if args.cloud is not None:
        known = WORKLOAD_IDENTITY[args.cloud]
        foreign = sorted(k for k in args.service_account_annotations if k not in known)
        if foreign:
            raise ValueError(
                f"{where}.service_account_annotations: {foreign} are not {args.cloud} workload identity "
                f"annotations; use {sorted(known)}"
            )
    azure = any(k.startswith("azure.workload.identity/") for k in args.service_account_annotations)
    if azure and args.pod_labels.get(AZURE_POD_LABEL[0]) != AZURE_POD_LABEL[1]:
        raise ValueError(
            f"{where}.pod_labels: Azure workload identity injects its token only into pods labelled "
            f"{AZURE_POD_LABEL[0]}: {AZURE_POD_LABEL[1]!r}; add that label"
        )
    gpu_labels = sorted(k for k in args.node_selector if GPU_KEYS.search(k) or GPU_KEYS.search(args.node_selector[k]))
    if gpu_labels:
        raise ValueError(
            f"{where}.node_selector: {gpu_labels} select GPU nodes; the gateway runs on the cluster's "
            "system nodes: select those instead"
        )
    for toleration in args.tolerations:
        key = str(toleration.get("key") or "")
        value = str(toleration.get("value") or "")
        if (not key and toleration.get("operator") == "Exists") or GPU_KEYS.search(key) or GPU_KEYS.search(value):
            raise ValueError(
                f"{where}.tolerations: {dict(toleration)} lets gateway pods onto GPU nodes; tolerate only "
                "the system nodes' taints"
            )
    if args.proxy_replicas < 1:
        raise ValueError(f"{where}.proxy_replicas: {args.proxy_replicas}; at least 1 (2 for availability)")


def facts(args: AIGatewayInstallArgs) -> GatewayFacts:
    return GatewayFacts(
        namespace=args.namespace,
        gateway_name=GATEWAY_NAME,
        gateway_class=GATEWAY_CLASS,
        url=f"https://{args.hostname}",
        in_cluster_host=f"{PROXY_SERVICE}.{ENVOY_GATEWAY_NAMESPACE}.svc.cluster.local",
        proxy_namespace=ENVOY_GATEWAY_NAMESPACE,
        proxy_service_account=PROXY_SERVICE_ACCOUNT,
    )


def _pod_security(uid: int, gid: int | None = None) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid if gid is not None else uid,
        "fsGroup": gid if gid is not None else uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _placement(args: AIGatewayInstallArgs) -> dict[str, Any]:
    return {"nodeSelector": dict(args.node_selector), "tolerations": [dict(t) for t in args.tolerations]}


def _repository_and_tag(source: ImageSource, image: Image) -> pulumi.Output[dict[str, str]]:
    """`image` through the cluster's source as `{repository: <host>/<path>, tag}` (the AI gateway chart's form)."""
    return images.chart_image(source, image).apply(
        lambda split: {"repository": f"{split['registry']}/{split['repository']}", "tag": split["tag"]}
    )


# --- the releases' values --------------------------------------------------------------------------


def envoy_gateway_values(args: AIGatewayInstallArgs) -> dict[str, Any]:
    """gateway-helm v1.9.0 values: images from the cache, the AI gateway's extension manager
    (manifests/envoy-gateway-values.yaml of ai-gateway v1.1.0), global rate limiting on Redis."""
    source = args.images
    placement = _placement(args)
    extension_manager: dict[str, Any] = {
        "hooks": {
            "xdsTranslator": {
                "translation": {
                    "listener": {"includeAll": True},
                    "route": {"includeAll": True},
                    "cluster": {"includeAll": True},
                    "secret": {"includeAll": True},
                },
                "post": ["Translation", "Cluster", "Route"],
            }
        },
        "service": {
            "fqdn": {
                "hostname": f"{CONTROLLER_NAME}.{AI_GATEWAY_NAMESPACE}.svc.cluster.local",
                "port": EXTENSION_SERVER_PORT,
            }
        },
    }
    if args.inference_pools:
        extension_manager["backendResources"] = [
            {"group": "inference.networking.k8s.io", "kind": "InferencePool", "version": "v1"}
        ]
    return {
        "global": {
            "images": {
                "envoyGateway": {"image": source.ref(images.ENVOY_GATEWAY), "pullPolicy": "IfNotPresent"},
                "ratelimit": {"image": source.ref(images.ENVOY_RATELIMIT), "pullPolicy": "IfNotPresent"},
                "envoyProxy": {"image": source.ref(images.ENVOY_PROXY), "pullPolicy": "IfNotPresent"},
            }
        },
        "crds": {"enabled": True},
        "deployment": {
            "pod": {**placement, "securityContext": _pod_security(NONROOT_UID)},
        },
        "certgen": {"job": {**placement, "pod": {"securityContext": _pod_security(NONROOT_UID)}}},
        "config": {
            "envoyGateway": {
                "gateway": {"controllerName": CONTROLLER_CLASS},
                "logging": {"level": {"default": "info"}},
                "provider": {
                    "type": "Kubernetes",
                    "kubernetes": {
                        "rateLimitDeployment": {
                            "pod": {**placement, "securityContext": _pod_security(RATELIMIT_UID)},
                        },
                    },
                },
                "extensionApis": {"enableEnvoyPatchPolicy": True, "enableBackend": True},
                "extensionManager": extension_manager,
                "rateLimit": {"backend": {"type": "Redis", "redis": {"url": REDIS_URL}}},
            }
        },
    }


def ai_gateway_values(args: AIGatewayInstallArgs) -> dict[str, Any]:
    """ai-gateway-helm v1.1.0 values: both images from the cache, hardened controller, system nodes."""
    return {
        "controller": {
            "fullnameOverride": CONTROLLER_NAME,
            "image": _repository_and_tag(args.images, images.AI_GATEWAY_CONTROLLER),
            "imagePullPolicy": "IfNotPresent",
            "podSecurityContext": _pod_security(NONROOT_UID),
            # The controller writes no files: its certificates are a mounted Secret, its tokens Secrets.
            "securityContext": {**CONTAINER_SECURITY, "privileged": False, **_user(NONROOT_UID)},
            "resources": {"requests": dict(CONTROLLER_REQUESTS), "limits": {"memory": "512Mi"}},
            **_placement(args),
        },
        "extProc": {
            "image": _repository_and_tag(args.images, images.AI_GATEWAY_EXTPROC),
            "imagePullPolicy": "IfNotPresent",
        },
        "envoyGateway": {"namespace": ENVOY_GATEWAY_NAMESPACE},
    }


def _user(uid: int) -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid}


# --- the custom resources --------------------------------------------------------------------------


def envoy_proxy(args: AIGatewayInstallArgs) -> dict[str, Any]:
    """The proxies' shape: internal load balancer, cached image, pod security, placement, identity."""
    pod: dict[str, Any] = {"securityContext": _pod_security(NONROOT_UID), **_placement(args)}
    if args.pod_labels:
        pod["labels"] = dict(args.pod_labels)
    # Envoy and the shutdown manager share this container spec; both write their sockets and drain
    # marker to the root filesystem, so it stays writable (Envoy Gateway's own default).
    container = {
        "image": args.images.ref(images.ENVOY_PROXY),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "seccompProfile": {"type": "RuntimeDefault"},
            **_user(NONROOT_UID),
        },
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    }
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "EnvoyProxy",
        "metadata": {"name": ENVOY_PROXY_NAME, "namespace": ENVOY_GATEWAY_NAMESPACE, "labels": dict(args.tags)},
        "spec": {
            "provider": {
                "type": "Kubernetes",
                "kubernetes": {
                    "envoyDeployment": {"replicas": args.proxy_replicas, "pod": pod, "container": container},
                    "envoyService": {
                        "name": PROXY_SERVICE,
                        "type": "LoadBalancer",
                        "annotations": dict(args.load_balancer_annotations),
                        "loadBalancerSourceRanges": list(args.source_ranges),
                        "externalTrafficPolicy": "Local",
                    },
                    "envoyServiceAccount": {"name": PROXY_SERVICE_ACCOUNT},
                    "envoyPDB": {"minAvailable": 1},
                },
            }
        },
    }


def gateway_class(args: AIGatewayInstallArgs) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": GATEWAY_CLASS, "labels": dict(args.tags)},
        "spec": {
            "controllerName": CONTROLLER_CLASS,
            "parametersRef": {
                "group": "gateway.envoyproxy.io",
                "kind": "EnvoyProxy",
                "name": ENVOY_PROXY_NAME,
                "namespace": ENVOY_GATEWAY_NAMESPACE,
            },
        },
    }


def gateway(args: AIGatewayInstallArgs) -> dict[str, Any]:
    """One HTTPS listener on 443, TLS terminated here, routes from the gateway's namespace only."""
    spec: dict[str, Any] = {
        "gatewayClassName": GATEWAY_CLASS,
        "listeners": [
            {
                "name": "https",
                "protocol": "HTTPS",
                "port": 443,
                "hostname": args.hostname,
                "tls": {"mode": "Terminate", "certificateRefs": [{"group": "", "kind": "Secret", "name": TLS_SECRET}]},
                "allowedRoutes": {
                    "namespaces": {"from": "Same"},
                    "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                },
            }
        ],
    }
    if args.service_account_annotations:
        # Envoy Gateway copies these onto the proxy's service account (EnvoyProxy can only name it).
        spec["infrastructure"] = {"annotations": dict(args.service_account_annotations)}
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": GATEWAY_NAME, "namespace": args.namespace, "labels": dict(args.tags)},
        "spec": spec,
    }


def pod_monitor(args: AIGatewayInstallArgs) -> dict[str, Any]:
    """Scrape of the Gateway's proxy pods: GenAI token metrics (extproc) and Envoy's statistics."""
    selector = {
        **PROXY_LABELS,
        "gateway.envoyproxy.io/owning-gateway-name": GATEWAY_NAME,
        "gateway.envoyproxy.io/owning-gateway-namespace": args.namespace,
    }
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": "ai-gateway",
            "namespace": ENVOY_GATEWAY_NAMESPACE,
            "labels": {**args.tags, **SCRAPE_LABELS},
        },
        "spec": {
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [ENVOY_GATEWAY_NAMESPACE]},
            "podMetricsEndpoints": [
                {"port": port, "path": path, "interval": SCRAPE_INTERVAL, "scheme": "http"}
                for port, path in ((EXTPROC_METRICS_PORT, "/metrics"), (ENVOY_METRICS_PORT, "/stats/prometheus"))
            ],
        },
    }


def custom_resources(args: AIGatewayInstallArgs) -> list[dict[str, Any]]:
    """Every custom resource the component renders, as the API server receives it."""
    return [envoy_proxy(args), gateway_class(args), gateway(args), pod_monitor(args)]


# --- the component ---------------------------------------------------------------------------------


class AIGatewayInstall(pulumi.ComponentResource):
    """The AI gateway on one cluster: what the routes attach to, and what they wait for."""

    releases: dict[str, k8s_helm.v3.Release]
    crd_releases: dict[str, pulumi.Resource]
    """API group -> the release installing its CRD (the routes' custom resources wait for these)."""
    facts: GatewayFacts
    gateway: k8s_apiextensions.CustomResource
    url: str

    def __init__(self, name: str, args: AIGatewayInstallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        if args.provider is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[args.provider]))
        super().__init__("triplane:gateway:AIGatewayInstall", name, None, opts)
        self.facts = facts(args)
        self.url = self.facts.url
        child = pulumi.ResourceOptions(parent=self)

        names = {
            "envoy-gateway": ENVOY_GATEWAY_NAMESPACE,
            "ai-gateway": AI_GATEWAY_NAMESPACE,
            "gateway": args.namespace,
        }
        namespaces = {key: self._namespace(f"{name}-{key}-namespace", ns, args.tags) for key, ns in names.items()}
        values = {
            "envoy-gateway": envoy_gateway_values(args),
            "ai-gateway-crds": {},
            "ai-gateway": ai_gateway_values(args),
        }
        home = {"envoy-gateway": "envoy-gateway", "ai-gateway-crds": "ai-gateway", "ai-gateway": "ai-gateway"}
        self.releases = {}
        for key, chart in CHARTS.items():
            # Each release waits for the ones before it: the AI gateway's controller watches Envoy
            # Gateway's CRDs and its own, and its webhook must exist before any proxy pod.
            self.releases[key] = k8s_helm.v3.Release(
                f"{name}-{key}",
                name=chart.name,
                chart=f"{chart.repository}/{chart.name}",
                version=chart.version,
                namespace=names[home[key]],
                values=values[key],
                **RELEASE_SETTINGS,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespaces[home[key]], *self.releases.values()]),
            )
        self.crd_releases = {group: self.releases[key] for group, key in CRD_GROUPS.items()}

        self._redis(name, args, namespaces["envoy-gateway"], child)
        tls = k8s_core.v1.Secret(
            f"{name}-tls",
            metadata={"name": TLS_SECRET, "namespace": args.namespace, "labels": dict(args.tags)},
            type="kubernetes.io/tls",
            string_data={
                "tls.crt": pulumi.Output.secret(args.tls_certificate),
                "tls.key": pulumi.Output.secret(args.tls_private_key),
            },
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[namespaces["gateway"]], additional_secret_outputs=["data", "stringData"]
            ),
        )
        # Every proxy pod must be created after the AI gateway's webhook exists (it injects the
        # external processor), so each gateway resource waits for all three releases.
        everything = list(self.releases.values())
        proxy = self._custom(f"{name}-envoyproxy", envoy_proxy(args), everything)
        klass = self._custom(f"{name}-gatewayclass", gateway_class(args), [*everything, proxy])
        self.gateway = self._custom(f"{name}-gateway", gateway(args), [*everything, klass, tls, namespaces["gateway"]])
        monitoring = args.crd_releases.get("monitoring.coreos.com")
        self._custom(
            f"{name}-podmonitor",
            pod_monitor(args),
            [namespaces["envoy-gateway"], *([monitoring] if monitoring is not None else [])],
        )
        self.register_outputs(
            {
                "url": self.url,
                "gateway": f"{self.facts.namespace}/{self.facts.gateway_name}",
                "in_cluster_host": self.facts.in_cluster_host,
            }
        )

    def _namespace(self, resource_name: str, namespace: str, tags: Mapping[str, str]) -> k8s_core.v1.Namespace:
        return k8s_core.v1.Namespace(
            resource_name,
            metadata={
                "name": namespace,
                "labels": {**tags, **RESTRICTED},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _custom(
        self, resource_name: str, body: Mapping[str, Any], depends_on: Sequence[pulumi.Resource]
    ) -> k8s_apiextensions.CustomResource:
        return custom_resource(resource_name, body, pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)))

    def _redis(
        self, name: str, args: AIGatewayInstallArgs, namespace: pulumi.Resource, child: pulumi.ResourceOptions
    ) -> None:
        """The rate limit counters' store: ephemeral (limits restart with it), reachable by the rate limit pods only."""
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace]))
        meta: Any = {
            "name": REDIS_NAME,
            "namespace": ENVOY_GATEWAY_NAMESPACE,
            "labels": {**args.tags, **REDIS_LABELS},
        }
        deployment: Any = {
            "replicas": 1,
            "selector": {"match_labels": dict(REDIS_LABELS)},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": {**args.tags, **REDIS_LABELS}},
                "spec": {
                    "automount_service_account_token": False,
                    "enable_service_links": False,
                    "security_context": {
                        "run_as_non_root": True,
                        "run_as_user": REDIS_UID,
                        "run_as_group": REDIS_GID,
                        "fs_group": REDIS_GID,
                        "seccomp_profile": {"type": "RuntimeDefault"},
                    },
                    "node_selector": dict(args.node_selector),
                    "tolerations": [dict(t) for t in args.tolerations],
                    "containers": [
                        {
                            "name": "redis",
                            "image": args.images.ref(images.REDIS),
                            "image_pull_policy": "IfNotPresent",
                            # Counters live a minute or a day; nothing is saved, memory is bounded
                            # and only keys with a TTL (every counter) are evicted.
                            "args": [
                                "redis-server",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--maxmemory",
                                "200mb",
                                "--maxmemory-policy",
                                "volatile-ttl",
                            ],
                            "ports": [{"name": "redis", "container_port": REDIS_PORT, "protocol": "TCP"}],
                            "readiness_probe": {"tcp_socket": {"port": "redis"}, "period_seconds": 10},
                            "liveness_probe": {
                                "tcp_socket": {"port": "redis"},
                                "initial_delay_seconds": 10,
                                "period_seconds": 20,
                            },
                            "resources": {
                                "requests": dict(REDIS_REQUESTS),
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                            "security_context": {
                                "allow_privilege_escalation": False,
                                "read_only_root_filesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                                "seccomp_profile": {"type": "RuntimeDefault"},
                                "run_as_non_root": True,
                                "run_as_user": REDIS_UID,
                                "run_as_group": REDIS_GID,
                            },
                            "volume_mounts": [{"name": "data", "mount_path": "/data"}],
                        }
                    ],
                    "volumes": [{"name": "data", "empty_dir": {"size_limit": "256Mi"}}],
                },
            },
        }
        k8s_apps.v1.Deployment(f"{name}-redis", metadata=meta, spec=deployment, opts=in_ns)
        service: Any = {
            "type": "ClusterIP",
            "selector": dict(REDIS_LABELS),
            "ports": [{"name": "redis", "port": REDIS_PORT, "target_port": "redis", "protocol": "TCP"}],
        }
        k8s_core.v1.Service(f"{name}-redis", metadata=meta, spec=service, opts=in_ns)
        policy: Any = {
            "pod_selector": {"match_labels": dict(REDIS_LABELS)},
            "policy_types": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [{"pod_selector": {"match_labels": dict(RATELIMIT_LABELS)}}],
                    "ports": [{"protocol": "TCP", "port": REDIS_PORT}],
                }
            ],
            "egress": [],
        }
        k8s_networking.v1.NetworkPolicy(f"{name}-redis", metadata=meta, spec=policy, opts=in_ns)


__all__ = [
    "AI_GATEWAY_NAMESPACE",
    "CHARTS",
    "COST_METADATA_NAMESPACE",
    "CRD_GROUPS",
    "ENVOY_GATEWAY_NAMESPACE",
    "IMAGES",
    "PROXY_SERVICE_ACCOUNT",
    "REDIS_UID",
    "AIGatewayInstall",
    "AIGatewayInstallArgs",
    "GatewayFacts",
    "custom_resources",
    "facts",
    "validate",
]
