"""TgiService: an open model served by Text Generation Inference (or vLLM) on any Kubernetes cluster.

Creates, in its own namespace (Pod Security enforced at the strictest level the engine's image
supports, `restricted` warned and audited; see `engines`): a ServiceAccount without an API token;
Secrets for the Hugging Face token (mounted as a file by the download Job only) and the API key (a
`secretKeyRef`, never a literal env value); a PersistentVolumeClaim for the model cache (unless an
existing one is named); the Job that downloads the pinned revision into it once (`weights`), or
copies it from a bucket (`weights_import`; neither when the claim is pre-filled); the Deployment,
created after that Job (pinned image, args only, GPUs per pod = shards, `/dev/shm` in memory, the
engine's user with no capabilities, no escalation and a read-only root filesystem,
`HF_HUB_OFFLINE=1`, a startup probe with a long budget); a Service (ClusterIP, or an internal load
balancer, never a public one); NetworkPolicies (deny by default, ingress only from the named
clients, egress only to DNS; the download Job alone may reach the hub, the import Job alone its
bucket); a PodDisruptionBudget; optionally a KEDA ScaledObject on the queue size and a
ServiceMonitor (`components.self_managed.autoscaling`).

The same interface serves both engines: `engine="vllm"` swaps the image, arguments, port and
queue metric (TGI upstream is in maintenance mode; vLLM is the maintained alternative).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pulumi_kubernetes import apps as k8s_apps
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import networking as k8s_networking
from pulumi_kubernetes import policy as k8s_policy

from components.naming import physical_name
from components.self_managed.autoscaling import QueueScaling, scale_on_queue, scrape_metrics
from components.self_managed.engines import (
    CACHE_PATH,
    ENGINES,
    TMP_PATH,
    Engine,
    base_env,
    container_security_context,
    namespace_labels,
    pod_security_context,
)
from components.self_managed.weights import DownloadJobArgs, WeightsDownload, dns_egress_rule, download_job
from components.self_managed.weights_import import ImportJobArgs, WeightsImport, import_job
from components.stateful import stateful_opts

GRACEFUL_TERMINATION_SECONDS = 90
TERMINATION_GRACE_SECONDS = GRACEFUL_TERMINATION_SECONDS + 30
"""Longer than the server's own drain, so in-flight requests finish before the kill."""


@dataclass
class TokenLimits:
    max_input_tokens: int | None = None
    max_total_tokens: int | None = None
    max_batch_prefill_tokens: int | None = None
    max_batch_total_tokens: int | None = None
    max_concurrent_requests: int = 128


@dataclass
class CacheVolume:
    size_gb: int = 100
    storage_class: str | None = None
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany"] = "ReadWriteOnce"
    existing_claim: str | None = None
    """A claim to use instead of creating one (pre-filled when `download` is None)."""


@dataclass
class ClientAccess:
    """Who may call the server. A namespace list, pod labels, or both (pods with those labels in those
    namespaces); CIDRs for callers outside the cluster through an internal load balancer."""

    namespaces: Sequence[str] = ()
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    cidrs: Sequence[str] = ()
    exposure: Literal["cluster-ip", "internal-load-balancer"] = "cluster-ip"
    load_balancer_annotations: Mapping[str, str] = field(default_factory=dict)
    """The cloud's annotations that make a load balancer internal (required for that exposure)."""


@dataclass
class TgiServiceArgs:
    model_id: str
    gpus: int
    """GPUs per pod: TGI `--num-shard`, vLLM `--tensor-parallel-size`."""
    namespace: str
    access: ClientAccess
    image: pulumi.Input[str]
    """The reference the cluster pulls (`images.TGI` / `images.VLLM` through its `ImageSource`)."""
    engine: Literal["tgi", "vllm"] = "tgi"
    revision: str = "main"
    dtype: str | None = None
    quantize: str | None = None
    """Quantization in the engine's own vocabulary."""
    tokens: TokenLimits = field(default_factory=TokenLimits)
    replicas: int = 1
    autoscaling: QueueScaling | None = None
    """A KEDA ScaledObject on the queue metric (which is then scraped) instead of fixed `replicas`."""
    cpu: int = 4
    memory_gib: int = 16
    node_selector: Mapping[str, str] = field(default_factory=dict)
    toleration_keys: Sequence[str] = ("nvidia.com/gpu", "sku")
    cache: CacheVolume = field(default_factory=CacheVolume)
    download: WeightsDownload | None = field(default_factory=WeightsDownload)
    """The Job that fills the cache from the hub; None when `cache.existing_claim` is already filled."""
    weights_import: WeightsImport | None = None
    """The Job that copies the snapshot from a bucket instead (then `download` is None); the server
    loads the directory it fills."""
    hf_token: pulumi.Input[str] | None = None
    api_key: pulumi.Input[str] | None = None
    monitoring: Literal["none", "annotations", "service-monitor"] = "annotations"
    monitoring_namespace: str = "monitoring"
    crd_releases: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """API group -> the Helm release installing its CRD on this cluster (absent where the cluster has it)."""
    startup_timeout_seconds: int = 1800
    tags: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels (from `k8s_labels`) put on every object."""
    protect_data: bool = False


def server_args(args: TgiServiceArgs) -> list[str]:
    """The launcher arguments (the images' entrypoints start the server: pass only args)."""
    tokens = args.tokens
    engine = ENGINES[args.engine]
    # An imported snapshot is a local directory, which both engines load in place of a hub ID.
    imported = args.weights_import
    model = imported.model_path if imported is not None else args.model_id
    revision = [] if imported is not None else ["--revision", args.revision]
    if args.engine == "tgi":
        argv = [
            "--model-id", model,
            *revision,
            "--num-shard", str(args.gpus),
            "--port", str(engine.port),
            "--prometheus-port", str(engine.metrics_port),
            "--usage-stats", "off",
            "--graceful-termination-timeout", str(GRACEFUL_TERMINATION_SECONDS),
            "--max-concurrent-requests", str(tokens.max_concurrent_requests),
            "--json-output",
        ]  # fmt: skip
        optional = {
            "--quantize": args.quantize,
            "--dtype": args.dtype,
            "--max-input-tokens": tokens.max_input_tokens,
            "--max-total-tokens": tokens.max_total_tokens,
            "--max-batch-prefill-tokens": tokens.max_batch_prefill_tokens,
            "--max-batch-total-tokens": tokens.max_batch_total_tokens,
        }
    else:
        argv = [
            "--model", model,
            *revision,
            "--served-model-name", args.model_id,
            "--tensor-parallel-size", str(args.gpus),
            "--port", str(engine.port),
            "--max-num-seqs", str(tokens.max_concurrent_requests),
        ]  # fmt: skip
        optional = {
            "--quantization": args.quantize,
            "--dtype": args.dtype,
            "--max-model-len": tokens.max_total_tokens,
            "--max-num-batched-tokens": tokens.max_batch_prefill_tokens,
        }
    for flag, value in optional.items():
        if value is not None:
            argv += [flag, str(value)]
    return argv


class TgiService(pulumi.ComponentResource):
    """One model server deployment: its namespace, workload, service, policies and scaling."""

    url: pulumi.Output[str]
    """In-cluster URL (`http://<service>.<namespace>.svc.cluster.local`)."""
    address: pulumi.Output[str]
    """The internal load balancer's address when exposed that way, else the in-cluster host name."""
    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: TgiServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:selfmanaged:TgiService", name, None, opts)
        engine = ENGINES[args.engine]
        app = physical_name(name, kind="k8s")
        ns = args.namespace
        selector = {"app.kubernetes.io/name": engine.name, "app.kubernetes.io/instance": app}
        labels = {**args.tags, **selector, "app.kubernetes.io/component": "model-server"}

        namespace = k8s_core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": ns,
                "labels": {**args.tags, **namespace_labels(engine)},
            },
            # Deleting a namespace deletes the cache claim in it: protected with the claim.
            opts=stateful_opts(self, args.protect_data),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        def meta(object_name: str, extra: Mapping[str, str] | None = None) -> Any:
            return {"name": object_name, "namespace": ns, "labels": {**labels, **(extra or {})}}

        k8s_core.v1.ServiceAccount(f"{name}-sa", metadata=meta(app), automount_service_account_token=False, opts=in_ns)

        env = base_env(engine)
        # The server only ever reads the cache: the download Job (or an import) filled it.
        env.append({"name": "HF_HUB_OFFLINE", "value": "1"})
        if args.engine == "vllm":
            env += [
                {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
                {"name": "DO_NOT_TRACK", "value": "1"},
            ]
        secret_names: list[str] = []
        secrets: list[pulumi.Resource] = []
        # The server runs offline and never needs the Hugging Face token: only the download Job
        # mounts it, as a file. TGI and vLLM read their API key from the environment alone
        # (`API_KEY`, `VLLM_API_KEY`; neither takes a file), so that one stays a secretKeyRef.
        for key, value, env_name, server_reads in (
            ("hf-token", args.hf_token, "HF_TOKEN", False),
            ("api-key", args.api_key, engine.api_key_env, True),
        ):
            if value is None:
                continue
            secret_name = f"{app}-{key}"
            secret = k8s_core.v1.Secret(
                f"{name}-{key}",
                metadata=meta(secret_name),
                type="Opaque",
                string_data={env_name: pulumi.Output.secret(value)},
                opts=in_ns,
            )
            secret_names.append(secret_name)
            secrets.append(secret)
            if server_reads:
                env.append({"name": env_name, "value_from": {"secret_key_ref": {"name": secret_name, "key": env_name}}})

        claim: list[pulumi.Resource] = []
        if args.cache.existing_claim is not None:
            claim_name = args.cache.existing_claim
        else:
            claim_name = f"{app}-cache"
            claim_spec: Any = {
                "access_modes": [args.cache.access_mode],
                "volume_mode": "Filesystem",
                "resources": {"requests": {"storage": f"{args.cache.size_gb}Gi"}},
            }
            if args.cache.storage_class:
                claim_spec["storage_class_name"] = args.cache.storage_class
            # The claim binds only once a pod lands on a node (WaitForFirstConsumer): do not block on it.
            claim_meta: Any = {**meta(claim_name), "annotations": {"pulumi.com/skipAwait": "true"}}
            cache_claim = k8s_core.v1.PersistentVolumeClaim(
                f"{name}-cache",
                metadata=claim_meta,
                spec=claim_spec,
                opts=stateful_opts(self, args.protect_data, depends_on=[namespace]),
            )
            claim.append(cache_claim)
        image = args.image
        server_after: list[pulumi.Resource] = [namespace]
        if args.download is not None and args.weights_import is not None:
            raise ValueError("the cache is filled either from the hub or from a bucket, not both")
        if args.weights_import is not None:
            server_after = [
                import_job(
                    name,
                    ImportJobArgs(
                        weights=args.weights_import,
                        namespace=ns,
                        app=app,
                        claim_name=claim_name,
                        labels=args.tags,
                        node_selector=args.node_selector,
                        toleration_keys=args.toleration_keys,
                    ),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=claim or [namespace]),
                )
            ]
        if args.download is not None:
            server_after = [
                download_job(
                    name,
                    DownloadJobArgs(
                        engine_key=args.engine,
                        engine=engine,
                        image=image,
                        model_id=args.model_id,
                        revision=args.revision,
                        namespace=ns,
                        app=app,
                        claim_name=claim_name,
                        download=args.download,
                        labels=args.tags,
                        node_selector=args.node_selector,
                        toleration_keys=args.toleration_keys,
                        token_secret=f"{app}-hf-token" if args.hf_token is not None else None,
                    ),
                    # The claim and the secrets are created in the namespace: waiting for them implies it.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[*claim, *secrets] or [namespace]),
                )
            ]

        ports = [{"name": "http", "container_port": engine.port, "protocol": "TCP"}]
        if engine.metrics_port != engine.port:
            ports.append({"name": "metrics", "container_port": engine.metrics_port, "protocol": "TCP"})
        gpu = str(args.gpus)
        resources = {
            "requests": {"cpu": str(args.cpu), "memory": f"{args.memory_gib}Gi", "nvidia.com/gpu": gpu},
            "limits": {"cpu": str(args.cpu), "memory": f"{args.memory_gib}Gi", "nvidia.com/gpu": gpu},
        }
        period = 10
        container = {
            "name": engine.container,
            "image": image,
            "image_pull_policy": "IfNotPresent",
            "args": server_args(args),
            "env": env,
            "ports": ports,
            "resources": resources,
            "security_context": container_security_context(engine.runtime),
            # Model download and shard loading can take tens of minutes: only the startup probe
            # waits that long; readiness and liveness take over once it has passed.
            "startup_probe": {
                "http_get": {"path": "/health", "port": "http"},
                "period_seconds": period,
                "timeout_seconds": 5,
                "failure_threshold": max(1, args.startup_timeout_seconds // period),
            },
            "readiness_probe": {
                "http_get": {"path": "/health", "port": "http"},
                "period_seconds": period,
                "timeout_seconds": 5,
                "failure_threshold": 3,
            },
            "liveness_probe": {
                "http_get": {"path": "/health", "port": "http"},
                "period_seconds": 30,
                "timeout_seconds": 10,
                "failure_threshold": 5,
            },
            "volume_mounts": [
                {"name": "model-cache", "mount_path": CACHE_PATH},
                {"name": "dshm", "mount_path": "/dev/shm"},
                {"name": "tmp", "mount_path": TMP_PATH},
            ],
        }
        pod_annotations: dict[str, str] = {"kubectl.kubernetes.io/default-container": engine.container}
        if args.monitoring == "annotations":
            pod_annotations.update(
                {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": str(engine.metrics_port),
                    "prometheus.io/path": "/metrics",
                }
            )
        # A memory-backed /dev/shm counts against the memory limit; NCCL needs well over the 64 MB
        # default once the model is sharded.
        shm_gib = min(8, 2 * args.gpus)
        pod_spec = {
            "service_account_name": app,
            "automount_service_account_token": False,
            "enable_service_links": False,
            "termination_grace_period_seconds": TERMINATION_GRACE_SECONDS,
            "security_context": pod_security_context(engine.runtime),
            "node_selector": dict(args.node_selector),
            "tolerations": [{"key": key, "operator": "Exists"} for key in args.toleration_keys],
            "topology_spread_constraints": [
                {
                    "max_skew": 1,
                    "topology_key": "kubernetes.io/hostname",
                    "when_unsatisfiable": "ScheduleAnyway",
                    "label_selector": {"match_labels": selector},
                }
            ],
            "containers": [container],
            "volumes": [
                {"name": "model-cache", "persistent_volume_claim": {"claim_name": claim_name}},
                {"name": "dshm", "empty_dir": {"medium": "Memory", "size_limit": f"{shm_gib}Gi"}},
                {"name": "tmp", "empty_dir": {"size_limit": "20Gi"}},
            ],
        }
        if not pod_spec["node_selector"]:
            del pod_spec["node_selector"]
        shared_cache = args.cache.access_mode == "ReadWriteMany"
        deployment_spec: Any = {
            "revision_history_limit": 3,
            "selector": {"match_labels": selector},
            # A ReadWriteOnce cache attaches to one node: the old pod must go before the new one starts.
            "strategy": (
                {"type": "RollingUpdate", "rolling_update": {"max_surge": 1, "max_unavailable": 0}}
                if shared_cache
                else {"type": "Recreate"}
            ),
            "template": {"metadata": {"labels": labels, "annotations": pod_annotations}, "spec": pod_spec},
        }
        if args.autoscaling is None:
            deployment_spec["replicas"] = args.replicas
        # The deployment is ready only once the model has loaded: wait as long as the startup probe,
        # plus time for a GPU node to join.
        deployment_meta: Any = {
            **meta(app),
            "annotations": {"pulumi.com/timeoutSeconds": str(args.startup_timeout_seconds + 900)},
        }
        deployment = k8s_apps.v1.Deployment(
            f"{name}-deployment",
            metadata=deployment_meta,
            spec=deployment_spec,
            # After the download Job: the server starts offline, from a filled cache. Not on the service
            # account: until it exists, the API server refuses the pods and the ReplicaSet tries again.
            opts=pulumi.ResourceOptions(parent=self, depends_on=server_after),
        )

        access = args.access
        service_spec: Any = {
            "selector": selector,
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
        service_meta = meta(app)
        if service_annotations:
            service_meta["annotations"] = service_annotations
        service = k8s_core.v1.Service(f"{name}-service", metadata=service_meta, spec=service_spec, opts=in_ns)

        self._network_policies(name, args, engine, ns, labels, selector, in_ns)

        k8s_policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=meta(app),
            spec={
                "max_unavailable": 1,
                "selector": {"match_labels": selector},
                "unhealthy_pod_eviction_policy": "AlwaysAllow",
            },
            opts=in_ns,
        )

        if args.autoscaling is not None or args.monitoring == "service-monitor":
            scrape_metrics(
                name,
                app,
                ns,
                selector,
                labels,
                engine.metrics_port,
                service_opts=in_ns,
                monitor_opts=_crd_opts(self, args, "monitoring.coreos.com", namespace),
            )
        if args.autoscaling is not None:
            scale_on_queue(
                name,
                app,
                ns,
                labels,
                engine.queue_metric,
                args.autoscaling,
                opts=_crd_opts(self, args, "keda.sh", deployment),
            )

        host = f"{app}.{ns}.svc.cluster.local"
        self.url = pulumi.Output.from_input(f"http://{host}")
        self.namespace = namespace.metadata.apply(lambda m: m.name if m is not None and m.name else ns)
        self.service_name = service.metadata.apply(lambda m: m.name if m is not None and m.name else app)
        if access.exposure == "internal-load-balancer":
            self.address = service.status.apply(lambda status: _ingress_address(status, host))
        else:
            self.address = pulumi.Output.from_input(host)
        self.register_outputs({"url": self.url, "address": self.address, "namespace": self.namespace})

    @staticmethod
    def _network_policies(
        name: str,
        args: TgiServiceArgs,
        engine: Engine,
        ns: str,
        labels: Mapping[str, str],
        selector: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        access = args.access

        def meta(policy: str) -> Any:
            return {"name": policy, "namespace": ns, "labels": dict(labels)}

        k8s_networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=meta("default-deny"),
            spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
            opts=opts,
        )
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
        http = [{"protocol": "TCP", "port": engine.port}]
        ingress: Any = [{"from": peers, "ports": http}]
        if args.monitoring != "none":
            ingress.append(
                {
                    "from": [
                        {
                            "namespace_selector": {
                                "match_labels": {"kubernetes.io/metadata.name": args.monitoring_namespace}
                            }
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": engine.metrics_port}],
                }
            )
        k8s_networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata=meta(f"{physical_name(name, kind='k8s')}-ingress"),
            spec={
                "pod_selector": {"match_labels": dict(selector)},
                "policy_types": ["Ingress"],
                "ingress": ingress,
            },
            opts=opts,
        )
        # The server serves from its cache: it resolves names and reaches nothing else.
        egress: Any = [dns_egress_rule()]
        k8s_networking.v1.NetworkPolicy(
            f"{name}-egress",
            metadata=meta(f"{physical_name(name, kind='k8s')}-egress"),
            spec={
                "pod_selector": {"match_labels": dict(selector)},
                "policy_types": ["Egress"],
                "egress": egress,
            },
            opts=opts,
        )


def _crd_opts(
    parent: pulumi.Resource, args: TgiServiceArgs, group: str, after: pulumi.Resource
) -> pulumi.ResourceOptions:
    """A custom resource of `group` waits for the release that installs its CRD (none if the cluster has it)."""
    release = args.crd_releases.get(group)
    return pulumi.ResourceOptions(parent=parent, depends_on=[after] + ([release] if release is not None else []))


def _ingress_address(status: Any, fallback: str) -> str:
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) if status is not None else None
    if ingress:
        first = ingress[0]
        return str(getattr(first, "hostname", None) or getattr(first, "ip", None) or fallback)
    return fallback
