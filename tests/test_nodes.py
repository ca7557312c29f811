"""The nodes of every new cluster share one system-pool shape and one EKS launch template."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from triplane.components.self_managed.aks import AksClusterArgs
from triplane.components.self_managed.eks import EksClusterArgs
from triplane.components.self_managed.gke import GkeClusterArgs
from triplane.components.self_managed.nodes import SYSTEM_MACHINES, SystemNodes
from triplane.plan import Plan
from triplane.stacks.spec.clusters import SystemNodes as SpecSystemNodes

IMDS_V2 = {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 1, "httpTokens": "required"}


def test_the_components_default_to_the_specs_system_pool() -> None:
    spec = SpecSystemNodes()
    for cloud, args in (("aws", EksClusterArgs), ("gcp", GkeClusterArgs), ("azure", AksClusterArgs)):
        factory = cast(Callable[[], SystemNodes], args.__dataclass_fields__["system_nodes"].default_factory)
        default = factory()
        assert default == SystemNodes(SYSTEM_MACHINES[cloud], spec.min, spec.max, spec.disk_size_gb)
    assert SpecSystemNodes.model_fields["machine_type"].description == (
        f"Defaults: {SYSTEM_MACHINES['aws']} (AWS), {SYSTEM_MACHINES['azure']} (Azure), {SYSTEM_MACHINES['gcp']} (GCP)."
    )


def test_eks_launch_templates_encrypt_every_volume_and_allow_imdsv2_only(dev_plan: Plan) -> None:
    templates = {r.name: r.inputs for r in dev_plan.resources if r.type == "aws:ec2/launchTemplate:LaunchTemplate"}
    system, gpu = templates.pop("dev-gpu-system-lt"), templates.pop("dev-gpu-l4-od-lt")
    assert templates == {}
    for template in (system, gpu):
        assert template["updateDefaultVersion"] is True
        assert {k: v for k, v in template["metadataOptions"].items() if k != "instanceMetadataTags"} == IMDS_V2
        for volume in template["blockDeviceMappings"]:
            assert volume["ebs"]["encrypted"] == "true" and volume["ebs"]["volumeType"] == "gp3"
            assert volume["ebs"]["deleteOnTermination"] == "true"
    assert [(v["deviceName"], v["ebs"]["volumeSize"]) for v in system["blockDeviceMappings"]] == [("/dev/xvda", 100)]
    assert "tagSpecifications" not in system
    assert [(v["deviceName"], v["ebs"]["volumeSize"]) for v in gpu["blockDeviceMappings"]] == [
        ("/dev/xvda", 8),
        ("/dev/xvdb", 200),
    ]
    assert gpu["metadataOptions"]["instanceMetadataTags"] == "disabled"
    assert [s["resourceType"] for s in gpu["tagSpecifications"]] == ["instance", "volume"]
    assert all(s["tags"] == gpu["tags"] for s in gpu["tagSpecifications"])
