"""The names and labels every part of one model server shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triplane.components.naming import physical_name
from triplane.components.self_managed.engines import Engine


@dataclass(frozen=True)
class ServerNames:
    name: str
    """The Pulumi name every resource of the server starts with."""
    app: str
    """The Kubernetes name of its objects (the Deployment, Service, ServiceAccount)."""
    namespace: str
    selector: Mapping[str, str]
    labels: Mapping[str, str]
    """`tags` plus the selector and the component label: on every object of the server."""

    @classmethod
    def of(cls, name: str, namespace: str, engine: Engine, tags: Mapping[str, str]) -> ServerNames:
        app = physical_name(name, kind="k8s")
        selector = {"app.kubernetes.io/name": engine.name, "app.kubernetes.io/instance": app}
        labels = {**tags, **selector, "app.kubernetes.io/component": "model-server"}
        return cls(name=name, app=app, namespace=namespace, selector=selector, labels=labels)

    def meta(self, object_name: str, extra: Mapping[str, str] | None = None) -> Any:
        """The metadata of an object of the server in its namespace."""
        return {"name": object_name, "namespace": self.namespace, "labels": {**self.labels, **(extra or {})}}
