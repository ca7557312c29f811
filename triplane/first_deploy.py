"""The first `pulumi up` of a stack whose clusters' APIs are not reachable from where it runs.

Everything a stack creates through cloud APIs can be created from anywhere; what it creates through a
cluster's Kubernetes API (add-ons, namespaces, model servers) needs the way in the cluster declares.
`cloud_first` names, from the plan, every resource that neither is a Kubernetes object nor depends,
even indirectly, on one (or on a Kubernetes provider): a set closed under dependencies, so
`pulumi up --target` on it creates the networks, clusters, access grants and caches from anywhere,
and the next full `pulumi up`, run from inside the way in, adds the rest.
"""

from __future__ import annotations

import shlex

from triplane.plan import STACK_TYPE, Plan

KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"


def in_cluster(plan: Plan) -> set[str]:
    """URNs of the Kubernetes objects and providers, and of everything that depends on them."""
    found: set[str] = set()
    for resource in plan.resources:  # registration order: a dependency is always registered first
        if (
            resource.type == KUBERNETES_PROVIDER
            or resource.type.startswith("kubernetes:")
            or resource.provider_urn in found
            or any(dependency in found for dependency in resource.dependencies)
        ):
            found.add(resource.urn)
    return found


def cloud_first(plan: Plan) -> list[str]:
    """URNs of what is created through cloud APIs alone (with the components and providers around it),
    in registration order; the stack itself is always there."""
    later = in_cluster(plan)
    return [r.urn for r in plan.resources if r.urn not in later and r.type != STACK_TYPE]


def command(plan: Plan) -> str:
    """The `pulumi up` that creates `cloud_first(plan)` and nothing else."""
    targets = " ".join(f"--target {shlex.quote(urn)}" for urn in cloud_first(plan))
    return f"pulumi up -s {shlex.quote(plan.stack)} {targets}"
