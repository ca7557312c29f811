"""Tags and labels from one place: owner, cost center, environment, use case, classification, pattern.

AWS and Azure take the tags as they are; Google Cloud labels and Kubernetes labels have stricter
character rules, so each gets its own normalisation of the same values.

Components do not tag their cloud resources one by one: each passes its opts through `tagged`, whose
transformation gives every taggable resource under it (the catalog `policies/triplane/taggable.json`) the
component's tags, or their Google Cloud labels. A resource states only what it adds (`Name`) or
where it must differ. Kubernetes objects keep their labels in their metadata, written by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pulumi

from triplane.policies.catalog import labels_not_supported, tag_argument
from triplane.policies.taxonomy import REQUIRED_TAGS, SHARED

__all__ = [
    "REQUIRED_TAGS",
    "SHARED",
    "gcp_labels",
    "k8s_labels",
    "standard_tags",
    "tag_transformation",
    "tagged",
]


def standard_tags(
    *,
    environment: str,
    owner: str,
    cost_center: str,
    use_case: str = SHARED,
    data_classification: str = SHARED,
    pattern: str = SHARED,
) -> dict[str, str]:
    return {
        "owner": owner,
        "cost-center": cost_center,
        "environment": environment,
        "use-case": use_case,
        "data-classification": data_classification,
        "pattern": pattern,
        "managed-by": "triplane",
    }


def gcp_labels(tags: dict[str, str]) -> dict[str, str]:
    """GCP labels: lowercase letters, digits, `_` and `-`; keys start with a letter; 63 characters."""

    def clean(text: str) -> str:
        return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]

    return {clean(k): clean(v) for k, v in tags.items()}


def k8s_labels(tags: dict[str, str]) -> dict[str, str]:
    """Kubernetes labels under the `triplane.io/` prefix; values fitted to the label-value rule."""

    def value(text: str) -> str:
        cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:63]
        return cleaned.strip("_.-")

    return {f"triplane.io/{k}": value(v) for k, v in tags.items()}


def tag_transformation(tags: Mapping[str, str]) -> pulumi.ResourceTransformation:
    """Give each taggable cloud resource `tags` (Google Cloud: `gcp_labels(tags)`) under the ones it states.

    A resource's own tags win key by key; a value that is an Output is left as it is. Global forwarding
    rules to the Google APIs bundles take no labels, so they get none.
    """
    cloud_tags = dict(tags)
    labels = gcp_labels(cloud_tags)

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        argument = tag_argument(args.type_)
        if argument is None or labels_not_supported(args.type_, args.props):
            return None
        given = args.props.get(argument)
        if given is not None and not isinstance(given, Mapping):
            return None
        merged = {**(labels if args.type_.startswith("gcp:") else cloud_tags), **(given or {})}
        if merged == given:
            return None
        return pulumi.ResourceTransformationResult({**args.props, argument: merged}, args.opts)

    return transform


def tagged(opts: pulumi.ResourceOptions | None, tags: Mapping[str, str]) -> pulumi.ResourceOptions:
    """`opts` for a component whose cloud resources, at any depth, all carry `tags`."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[tag_transformation(tags)]))
