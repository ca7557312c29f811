"""ModelWorkload: the pods of a model server, and ModelWeights: the cache they load the model from.

ModelWorkload creates a ServiceAccount without an API token; Secrets for the Hugging Face token
(mounted as a file by the download Job only) and the API key (a `secretKeyRef`, never a literal env
value); the server's `ModelWeights`; the Deployment, created after the Job that fills the cache
(pinned image, args only, GPUs per pod = shards, `/dev/shm` in memory, the engine's user with no
capabilities, no escalation and a read-only root filesystem, `HF_HUB_OFFLINE=1`, a startup probe
with a long budget); and a PodDisruptionBudget.

ModelWeights creates the PersistentVolumeClaim for the model cache (unless an existing one is named)
and the Job that downloads the pinned revision into it once (`weights`), or copies it from a bucket
(`weights_import`); neither when the claim is pre-filled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
from pulumi_kubernetes import apps as k8s_apps
from pulumi_kubernetes import core as k8s_core
from pulumi_kubernetes import policy as k8s_policy

from triplane.components.self_managed.engines import ENGINES, Engine
from triplane.components.self_managed.model_pod import pod_spec, server_container, server_env
from triplane.components.self_managed.server_names import ServerNames
from triplane.components.self_managed.weights import DownloadJobArgs, download_job
from triplane.components.self_managed.weights_import import ImportJobArgs, import_job
from triplane.components.stateful import stateful_opts
from triplane.components.subcomponent import SubComponent

if TYPE_CHECKING:
    from triplane.components.self_managed.model_server import ModelServerArgs


class ModelWeights(SubComponent):
    """The model cache and the Job that fills it before the server starts."""

    claim_name: str
    server_after: list[pulumi.Resource]
    """What the server's Deployment waits for: the Job filling the cache (else the namespace)."""

    def __init__(
        self,
        server: ServerNames,
        parent: SubComponent,
        args: ModelServerArgs,
        namespace: pulumi.Resource,
        secrets: list[pulumi.Resource],
    ) -> None:
        super().__init__("triplane:selfmanaged:ModelWeights", f"{server.name}-weights", parent, parent.former_parent)
        name, app, engine = server.name, server.app, ENGINES[args.engine]
        claim: list[pulumi.Resource] = []
        if args.cache.existing_claim is not None:
            self.claim_name = args.cache.existing_claim
        else:
            self.claim_name = f"{app}-cache"
            claim.append(self._claim(server, args, namespace))
        self.server_after = [namespace]
        if args.download is not None and args.weights_import is not None:
            raise ValueError("the cache is filled either from the hub or from a bucket, not both")
        if args.weights_import is not None:
            self.server_after = [
                import_job(
                    name,
                    ImportJobArgs(
                        weights=args.weights_import,
                        namespace=server.namespace,
                        app=app,
                        claim_name=self.claim_name,
                        labels=args.tags,
                        node_selector=args.node_selector,
                        toleration_keys=args.toleration_keys,
                    ),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=claim or [namespace]),
                )
            ]
        if args.download is not None:
            self.server_after = [
                download_job(
                    name,
                    DownloadJobArgs(
                        engine_key=args.engine,
                        engine=engine,
                        image=args.image,
                        model_id=args.model_id,
                        revision=args.revision,
                        namespace=server.namespace,
                        app=app,
                        claim_name=self.claim_name,
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
        self.register_outputs({})

    def _claim(
        self, server: ServerNames, args: ModelServerArgs, namespace: pulumi.Resource
    ) -> k8s_core.v1.PersistentVolumeClaim:
        claim_spec: Any = {
            "access_modes": [args.cache.access_mode],
            "volume_mode": "Filesystem",
            "resources": {"requests": {"storage": f"{args.cache.size_gb}Gi"}},
        }
        if args.cache.storage_class:
            claim_spec["storage_class_name"] = args.cache.storage_class
        # The claim binds only once a pod lands on a node (WaitForFirstConsumer): do not block on it.
        claim_meta: Any = {**server.meta(self.claim_name), "annotations": {"pulumi.com/skipAwait": "true"}}
        return k8s_core.v1.PersistentVolumeClaim(
            f"{server.name}-cache",
            metadata=claim_meta,
            spec=claim_spec,
            opts=stateful_opts(self, args.protect_data, depends_on=[namespace]),
        )


class ModelWorkload(SubComponent):
    """The server's pods: their identity, secrets, model cache, Deployment and disruption budget."""

    deployment: k8s_apps.v1.Deployment

    def __init__(
        self, server: ServerNames, parent: pulumi.Resource, args: ModelServerArgs, namespace: pulumi.Resource
    ) -> None:
        super().__init__("triplane:selfmanaged:ModelWorkload", f"{server.name}-workload", parent)
        name, app, engine = server.name, server.app, ENGINES[args.engine]
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        k8s_core.v1.ServiceAccount(
            f"{name}-sa", metadata=server.meta(app), automount_service_account_token=False, opts=in_ns
        )
        env = server_env(args.engine, engine)
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
            secrets.append(
                k8s_core.v1.Secret(
                    f"{name}-{key}",
                    metadata=server.meta(secret_name),
                    type="Opaque",
                    string_data={env_name: pulumi.Output.secret(value)},
                    opts=in_ns,
                )
            )
            if server_reads:
                env.append({"name": env_name, "value_from": {"secret_key_ref": {"name": secret_name, "key": env_name}}})

        weights = ModelWeights(server, self, args, namespace, secrets)
        self.deployment = self._deployment(server, args, engine, env, weights)
        k8s_policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=server.meta(app),
            spec={
                "max_unavailable": 1,
                "selector": {"match_labels": server.selector},
                "unhealthy_pod_eviction_policy": "AlwaysAllow",
            },
            opts=in_ns,
        )
        self.register_outputs({})

    def _deployment(
        self, server: ServerNames, args: ModelServerArgs, engine: Engine, env: list[Any], weights: ModelWeights
    ) -> k8s_apps.v1.Deployment:
        pod_annotations: dict[str, str] = {"kubectl.kubernetes.io/default-container": engine.container}
        if args.monitoring == "annotations":
            pod_annotations.update(
                {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": str(engine.metrics_port),
                    "prometheus.io/path": "/metrics",
                }
            )
        shared_cache = args.cache.access_mode == "ReadWriteMany"
        deployment_spec: Any = {
            "revision_history_limit": 3,
            "selector": {"match_labels": server.selector},
            # A ReadWriteOnce cache attaches to one node: the old pod must go before the new one starts.
            "strategy": (
                {"type": "RollingUpdate", "rolling_update": {"max_surge": 1, "max_unavailable": 0}}
                if shared_cache
                else {"type": "Recreate"}
            ),
            "template": {
                "metadata": {"labels": server.labels, "annotations": pod_annotations},
                "spec": pod_spec(server, args, engine, server_container(args, engine, env), weights.claim_name),
            },
        }
        if args.autoscaling is None:
            deployment_spec["replicas"] = args.replicas
        # The deployment is ready only once the model has loaded: wait as long as the startup probe,
        # plus time for a GPU node to join.
        deployment_meta: Any = {
            **server.meta(server.app),
            "annotations": {"pulumi.com/timeoutSeconds": str(args.startup_timeout_seconds + 900)},
        }
        return k8s_apps.v1.Deployment(
            f"{server.name}-deployment",
            metadata=deployment_meta,
            spec=deployment_spec,
            # After the download Job: the server starts offline, from a filled cache. Not on the service
            # account: until it exists, the API server refuses the pods and the ReplicaSet tries again.
            opts=pulumi.ResourceOptions(parent=self, depends_on=weights.server_after),
        )
