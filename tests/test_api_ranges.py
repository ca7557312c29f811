"""Public ranges allowed to reach a cluster API: /24 or narrower, or an exact range the policy config allows
with its reason. The spec and the `cluster-api-authorized-ranges` policy apply the same rule to the same
config; the values here are chosen to provoke it wrongly (/8 blocks the old prefix check passed, private
/8s that are not public at all, the allowed range at another length)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import triplane.gate
from tests.test_policies_rules import res
from tests.test_self_managed_spec import INSIDE, SOURCE, cluster_env, only_problem
from triplane.gate import GateError, check_plan
from triplane.plan import Plan
from triplane.policies.cluster_api import AKS_CLUSTER, EKS_CLUSTER, GKE_CLUSTER, _authorized_ranges, allowed_wide_ranges
from triplane.policies.common import Res
from triplane.stacks.spec import validate_environment

ROOT_CONFIG = Path(__file__).resolve().parents[1] / "policies" / "policy-config.json"

ALLOWED = {"cidr": "198.51.0.0/16", "reason": "The partner's deploy fleet egresses from its whole /16."}


def cluster(type_: str, ranges: list[str], **extra: Any) -> Res:
    if type_ == EKS_CLUSTER:
        props = {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ranges, **extra}}
    elif type_ == AKS_CLUSTER:
        props = {"apiServerAccessProfile": {"enablePrivateCluster": False, "authorizedIPRanges": ranges, **extra}}
    else:
        props = {"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": r} for r in ranges], **extra}}
    return Res(type=type_, name="c", urn="urn:c", props=props)


def findings(resource: Res, allowed: list[dict[str, str]] | None = None) -> list[str]:
    return list(_authorized_ranges(resource, {"allowedWideRanges": allowed or []}))


@pytest.mark.parametrize("type_", [EKS_CLUSTER, AKS_CLUSTER, GKE_CLUSTER])
@pytest.mark.parametrize(
    ("cidr", "passes"),
    [
        ("1.0.0.0/8", False),  # passed the old "shorter than /8" check
        ("128.0.0.0/8", False),
        ("0.0.0.0/0", False),
        ("203.0.113.0/23", False),
        ("203.0.113.0/24", True),
        ("203.0.113.128/25", True),
        ("203.0.113.7/32", True),
        ("10.0.0.0/8", True),  # private, not public: a GKE private endpoint's runner range
        ("172.16.0.0/12", True),
        ("100.64.0.0/10", True),  # carrier-grade NAT
        ("198.51.0.0/16", True),  # allowed exactly, with its reason
        ("198.51.0.0/15", False),  # the allowed range at another prefix length
        ("198.51.0.0/17", False),
        ("198.51.7.0/16", False),  # the allowed network written with host bits: not the exact range
        ("2600:1f00::/24", False),  # public IPv6 wider than /48
    ],
)
def test_public_ranges_wider_than_24_are_refused(type_: str, cidr: str, passes: bool) -> None:
    found = findings(cluster(type_, ["203.0.113.10/32", cidr]), [ALLOWED])
    assert (found == []) == passes, found
    if not passes:
        assert len(found) == 1 and cidr in found[0] and "allowedWideRanges" in found[0]


def test_endpoints_without_public_access_are_not_judged_and_defaults_are() -> None:
    eks = Res(type=EKS_CLUSTER, name="c", urn="u", props={"vpcConfig": {"endpointPublicAccess": False,
                                                                       "publicAccessCidrs": ["1.0.0.0/8"]}})
    aks = Res(type=AKS_CLUSTER, name="c", urn="u", props={"apiServerAccessProfile": {
        "enablePrivateCluster": True, "authorizedIPRanges": ["1.0.0.0/8"]}})
    assert findings(eks) == findings(aks) == []
    # A public endpoint with no list is open to everyone.
    assert "0.0.0.0/0" in findings(Res(type=EKS_CLUSTER, name="c", urn="u", props={"vpcConfig": {}}))[0]
    assert "0.0.0.0/0" in findings(cluster(AKS_CLUSTER, []))[0]
    google = findings(cluster(GKE_CLUSTER, ["203.0.113.0/28"], gcpPublicCidrsAccessEnabled=True))
    assert len(google) == 1 and "gcpPublicCidrsAccessEnabled" in google[0]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"cidr": "198.51.0.0/16"}, "has no reason"),
        ({"cidr": "198.51.0.0/16", "reason": "   "}, "has no reason"),
        ({"cidr": "198.51.7.0/16", "reason": "host bits set: not one exact range"}, "is not a CIDR block"),
        ("198.51.0.0/16", "must be"),
    ],
)
def test_allowances_need_an_exact_range_and_a_reason(entry: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        allowed_wide_ranges([entry])


def test_an_unusable_allowance_is_reported_not_crashed_on() -> None:
    found = findings(cluster(EKS_CLUSTER, ["198.51.0.0/16"]), [{"cidr": "the partner /16", "reason": "x" * 12}])
    assert len(found) == 2 and "the policy config is unusable" in found[0] and "198.51.0.0/16 opens" in found[1]


# --- the gate ------------------------------------------------------------------------------------


def one_cluster_plan(cidr: str) -> Plan:
    resource = res(EKS_CLUSTER, "api-eks", {"tags": {}, "vpcConfig": {
        "endpointPrivateAccess": True, "endpointPublicAccess": True, "publicAccessCidrs": [cidr]}})
    return Plan(project="triplane", stack="test", resources=[resource])


def range_violations(plan: Plan, config: dict[str, Any]) -> list[Any]:
    result = check_plan(plan, scope="aws", config=config)
    return [v for v in result.violations if v.policy == "cluster-api-authorized-ranges"]


def test_the_gate_refuses_a_wide_range_unless_the_config_allows_it_exactly() -> None:
    found = range_violations(one_cluster_plan("198.51.0.0/16"), {})
    assert [v.enforcement for v in found] == ["mandatory"]
    config = {"cluster-api-authorized-ranges": {"allowedWideRanges": [ALLOWED]}}
    assert range_violations(one_cluster_plan("198.51.0.0/16"), config) == []
    assert len(range_violations(one_cluster_plan("198.51.0.0/17"), config)) == 1
    with pytest.raises(GateError, match="reason"):
        check_plan(one_cluster_plan("198.51.0.0/16"), scope="aws",
                   config={"cluster-api-authorized-ranges": {"allowedWideRanges": [{"cidr": "198.51.0.0/16"}]}})


# --- the spec ------------------------------------------------------------------------------------


@pytest.fixture
def policy_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The spec reads the gate's default policy config: point both at a copy that allows one range."""
    shipped = json.loads(ROOT_CONFIG.read_text())
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps({**shipped, "cluster-api-authorized-ranges": {"allowedWideRanges": [ALLOWED]}}))
    monkeypatch.setattr(triplane.gate, "default_config", lambda: path)
    return path


def authorized(cloud: str, *cidrs: str) -> dict[str, Any]:
    return cluster_env(cloud, api_access="authorized-networks", api_authorized_cidrs=list(cidrs))


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_the_spec_applies_the_same_rule(cloud: str, policy_config: Path) -> None:
    for wide in ("1.0.0.0/8", "128.0.0.0/8", "203.0.112.0/23", "198.51.0.0/17", "198.50.0.0/15"):
        message = only_problem(authorized(cloud, wide))
        assert f"{wide} opens the API server to too much of the internet" in message
        assert "cluster-api-authorized-ranges.allowedWideRanges" in message
    # 203.0.113.0/23 is no network at all (host bits set); the spec names that.
    assert "203.0.113.0/23 has host bits set" in only_problem(authorized(cloud, "203.0.113.0/23"))
    for narrow in ("203.0.113.0/24", "198.51.0.0/16"):
        parsed = validate_environment(authorized(cloud, narrow), SOURCE)
        new = parsed.kubernetes[0].new
        assert new is not None and new.api_authorized_cidrs == [narrow]
    # A private /8 is a runner range: refused as authorized network, accepted as the deployer's.
    assert "10.0.0.0/8 is not a public block" in only_problem(authorized(cloud, "10.0.0.0/8"))
    inside = cluster_env(cloud, deployer={"private_cidrs": ["10.0.0.0/8"]})
    assert validate_environment(inside, SOURCE).kubernetes[0].new is not None


def test_the_shipped_config_allows_no_wide_range() -> None:
    message = only_problem(authorized("aws", "198.51.0.0/16"))
    assert "198.51.0.0/16 opens the API server to too much of the internet" in message
    assert INSIDE  # the narrow default way in stays the fixtures' own


def test_the_spec_refuses_an_allowance_without_reason(policy_config: Path) -> None:
    policy_config.write_text(json.dumps(
        {"cluster-api-authorized-ranges": {"allowedWideRanges": [{"cidr": "198.51.0.0/16"}]}}))
    message = only_problem(authorized("gcp", "198.51.0.0/16"))
    assert "policy-config.json" in message and "allowedWideRanges[0]: '198.51.0.0/16' has no reason" in message
