"""Helpers the cloud-managed components share: policy JSON, Bedrock ARNs, deterministic IDs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

import pulumi

from triplane.components.versions import GLOBAL, inference_profile

POLICY_VERSION = "2012-10-17"

BEDROCK_INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")

# A fixed namespace so that role-assignment names (which Azure wants as GUIDs) are stable per input.
_NAMESPACE = uuid.UUID("7c1b7a5e-0f43-4d7e-9c1a-6b0f2d5e8a31")


def stable_guid(*parts: str) -> str:
    """A GUID derived from `parts`: the same inputs give the same name on every run."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def policy_json(statements: pulumi.Input[Sequence[Any]]) -> pulumi.Output[str]:
    """An IAM policy document as JSON text; statements may hold Outputs anywhere inside."""
    return pulumi.Output.json_dumps({"Version": POLICY_VERSION, "Statement": statements}, sort_keys=True)


def inference_profile_base(model_id: str) -> str | None:
    """`us.anthropic.claude-x` -> `anthropic.claude-x`; None for a plain foundation-model ID."""
    profile = inference_profile(model_id)
    return profile.model_id if profile else None


def foundation_model_arn(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def inference_profile_arn(region: str, account: str, profile_id: str) -> str:
    return f"arn:aws:bedrock:{region}:{account}:inference-profile/{profile_id}"


def bedrock_model_resources(
    region: str, account: str, model_ids: Sequence[str]
) -> tuple[list[str], list[str], list[str]]:
    """The ARNs a caller needs to invoke `model_ids` in `region`.

    Returns (direct, profiles, routed): foundation-model ARNs in the region and inference-profile
    ARNs, which are invoked directly; and the foundation-model ARNs of every region a profile routes
    to (`components.versions.GEOGRAPHY_REGIONS`; a `global.` profile's models carry no region), which
    may only be reached through one of those profiles (see `routed_condition`).
    """
    direct: list[str] = []
    profiles: list[str] = []
    routed: list[str] = []
    for model_id in model_ids:
        profile = inference_profile(model_id)
        if profile is None:
            direct.append(foundation_model_arn(region, model_id))
            continue
        profiles.append(inference_profile_arn(region, account, model_id))
        regions: tuple[str, ...] = (region, "") if profile.geography == GLOBAL else profile.routed_regions()
        for routed_region in regions:
            arn = foundation_model_arn(routed_region, profile.model_id)
            if arn not in routed:
                routed.append(arn)
    return direct, profiles, routed


def routed_condition(profile_arns: Sequence[str]) -> dict[str, Any]:
    """Foundation models in other regions are reachable only through the allowed inference profiles."""
    return {"ArnEquals": {"bedrock:InferenceProfileArn": list(profile_arns)}}


def aws_principal(account: str, principals: Sequence[str]) -> dict[str, Any]:
    """The named principals; with none, any principal of this account that IAM itself allows."""
    return {"AWS": sorted(principals) if principals else f"arn:aws:iam::{account}:root"}


IAM_ARN = r"arn:aws[\w-]*:iam::\d{12}:(role|user)/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)"
"""An IAM role or user ARN (any partition, any path): the principals Triplane grants to by name."""


def iam_name_from_arn(arn: str) -> tuple[str, str]:
    """`arn:aws:iam::123:role/path/app` -> ("role", "app")."""
    match = re.fullmatch(IAM_ARN, arn)
    if match is None:
        raise ValueError(f"{arn!r} is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)")
    return match.group(1), match.group(2)
