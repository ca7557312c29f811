"""GPU node pools and the clusters Triplane creates, per cloud, under the mock runtime."""

from __future__ import annotations

import base64
import json
import tomllib

import pytest

from triplane.components.network.refs import AwsNetworkRef, AzureNetworkRef, GcpNetworkRef
from triplane.components.self_managed.aks import AksCluster, AksClusterArgs
from triplane.components.self_managed.eks import EksCluster, EksClusterArgs
from triplane.components.self_managed.gke import GkeCluster, GkeClusterArgs
from triplane.components.self_managed.gpu_node_pool import GpuNodePool, GpuNodePoolArgs, aks_pool_name
from triplane.components.self_managed.refs import AksClusterRef, EksClusterRef, GkeClusterRef
from triplane.plan import Plan, run_program

AWS = AwsNetworkRef(
    region="us-east-1",
    vpc_id="vpc-0123456789abcdef0",
    app_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    application_cidrs=["10.40.0.0/20"],
    private_route_table_ids=["rtb-0aaaaaaaaaaaaaaa1"],
    cidr="10.40.0.0/16",
)
GCP = GcpNetworkRef(
    project="acme-genai-test",
    region="europe-west4",
    network_id="projects/acme-genai-test/global/networks/test",
    subnetwork_id="projects/acme-genai-test/regions/europe-west4/subnetworks/app",
    application_cidrs=["10.30.0.0/20"],
    pods_range_name="gke-pods",
    services_range_name="gke-services",
    cidr="10.30.0.0/16",
)
AZURE = AzureNetworkRef(
    location="westeurope",
    resource_group_name="rg-test",
    vnet_id="/subscriptions/0/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/test",
    vnet_name="test",
    app_subnet_id="/subscriptions/0/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/test/subnets/app",
    endpoint_subnet_id="/subscriptions/0/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/test/subnets/pe",
    application_cidrs=["10.20.0.0/20"],
    app_route_table_name="test-app-rt",
    app_route_table_id="/subscriptions/0/resourceGroups/rg-test/providers/Microsoft.Network/routeTables/test-app-rt",
    cidr="10.20.0.0/16",
)


def _program() -> None:
    EksCluster("t-eks", EksClusterArgs(network=AWS, version="1.35", shared_cache=True, tags={"owner": "t"}))
    GkeCluster("t-gke", GkeClusterArgs(network=GCP, version="1.35", protect_data=True))
    AksCluster("t-aks", AksClusterArgs(network=AZURE, version="1.35", vault_name="t-aks-kms-0001"))
    GpuNodePool(
        "t-eks-l4-od",
        GpuNodePoolArgs(
            cluster=EksClusterRef(
                name="t-eks",
                version="1.35",
                node_role_arn="arn:aws:iam::123456789012:role/nodes",
                subnet_ids=list(AWS.app_subnet_ids),
            ),
            gpu_type="nvidia-l4",
            machine_type="g6.12xlarge",
            gpus_per_node=4,
            min_nodes=0,
            max_nodes=3,
            capacity_type="on-demand",
            disk_size_gb=300,
            tags={"owner": "t"},
        ),
    )
    GpuNodePool(
        "t-gke-l4-spot",
        GpuNodePoolArgs(
            cluster=GkeClusterRef(
                name="t-gke",
                project=GCP.project,
                location=GCP.region,
                version="1.35",
                node_service_account="nodes@acme-genai-test.iam.gserviceaccount.com",
                boot_disk_kms_key="projects/acme-genai-test/locations/europe-west4/keyRings/r/cryptoKeys/k",
            ),
            gpu_type="nvidia-l4",
            machine_type="g2-standard-24",
            gpus_per_node=2,
            min_nodes=1,
            max_nodes=4,
            capacity_type="spot",
        ),
    )
    GpuNodePool(
        "t-aks-a100-spot",
        GpuNodePoolArgs(
            cluster=AksClusterRef(
                name="t-aks", resource_group_name="rg-test", version="1.35", node_subnet_id=AZURE.app_subnet_id
            ),
            gpu_type="nvidia-a100-80gb",
            machine_type="Standard_NC24ads_A100_v4",
            gpus_per_node=1,
            min_nodes=0,
            max_nodes=2,
            capacity_type="spot",
        ),
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(_program, stack="test")


# --- GPU node pools -----------------------------------------------------------------------------


def test_eks_gpu_node_group(plan: Plan) -> None:
    group = plan.one("aws:eks/nodeGroup:NodeGroup", "t-eks-l4-od-nodes").inputs
    # Bottlerocket's NVIDIA AMI runs the device plugin itself: its image is not pulled from nvcr.io.
    assert group["amiType"] == "BOTTLEROCKET_x86_64_NVIDIA"
    # The machine is in the group's name, so moving to a larger machine never collides with the old group.
    assert group["nodeGroupName"] == "t-eks-l4-od-g6-12xlarge-bottlerocket"
    assert group["capacityType"] == "ON_DEMAND"
    assert group["instanceTypes"] == ["g6.12xlarge"]
    assert group["scalingConfig"] == {"minSize": 0, "maxSize": 3, "desiredSize": 0}
    assert group["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert group["labels"] == {
        "triplane.io/gpu-type": "nvidia-l4",
        "triplane.io/capacity-type": "on-demand",
        "triplane.io/node-pool": "t-eks-l4-od",
    }
    assert group["subnetIds"] == list(AWS.app_subnet_ids)
    assert "diskSize" not in group  # the launch template sizes the disk
    assert "remoteAccess" not in group
    resource = plan.one("aws:eks/nodeGroup:NodeGroup", "t-eks-l4-od-nodes")
    assert "scalingConfig.desiredSize" in resource.ignore_changes


def test_eks_launch_template_is_private_and_encrypted(plan: Plan) -> None:
    template = plan.one("aws:ec2/launchTemplate:LaunchTemplate", "t-eks-l4-od-lt").inputs
    volumes = {m["deviceName"]: m["ebs"] for m in template["blockDeviceMappings"]}
    # Bottlerocket: the OS volume, and the data volume that holds images and pod storage.
    assert {device: ebs["volumeSize"] for device, ebs in volumes.items()} == {"/dev/xvda": 8, "/dev/xvdb": 300}
    assert all(ebs["encrypted"] == "true" and ebs["volumeType"] == "gp3" for ebs in volumes.values())
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert "networkInterfaces" not in template  # nodes take the private subnets' addresses only
    assert "imageId" not in template  # EKS picks the AMI, and merges its join settings into the user data
    # Bottlerocket settings only: the device plugin names GPUs by UUID (dcgm-exporter maps pods by it), and
    # the NVIDIA runtime takes device requests as volume mounts, never from an unprivileged environment.
    settings = tomllib.loads(base64.b64decode(template["userData"]).decode())
    assert settings == {"settings": {
        "kubelet-device-plugins": {"nvidia": {"device-id-strategy": "uuid"}},
        "nvidia-container-runtime": {
            "visible-devices-as-volume-mounts": True,
            "visible-devices-envvar-when-unprivileged": False,
        },
    }}


def test_gke_gpu_node_pool(plan: Plan) -> None:
    pool = plan.one("gcp:container/nodePool:NodePool", "t-gke-l4-spot-nodes").inputs
    assert pool["name"] == "t-gke-l4-spot-g2-standard-24" and len(pool["name"]) <= 40
    config = pool["nodeConfig"]
    assert config["guestAccelerators"] == [
        {"type": "nvidia-l4", "count": 2, "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}
    ]
    assert config["machineType"] == "g2-standard-24"
    assert config["spot"] is True
    assert config["serviceAccount"] == "nodes@acme-genai-test.iam.gserviceaccount.com"
    assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
    assert config["bootDiskKmsKey"].endswith("/cryptoKeys/k")
    assert config["labels"]["triplane.io/capacity-type"] == "spot"
    assert "taints" not in config  # GKE taints GPU nodes itself
    assert pool["networkConfig"] == {"enablePrivateNodes": True}
    assert pool["autoscaling"]["totalMinNodeCount"] == 1 and pool["autoscaling"]["totalMaxNodeCount"] == 4


def test_aks_gpu_agent_pool(plan: Plan) -> None:
    pool = plan.one("azure-native:containerservice:AgentPool", "t-aks-a100-spot-nodes").inputs
    assert pool["agentPoolName"] == aks_pool_name("nvidia-a100-80gb", "spot", "Standard_NC24ads_A100_v4")
    assert pool["agentPoolName"].startswith("ga1008sp")
    assert pool["vmSize"] == "Standard_NC24ads_A100_v4"
    assert pool["mode"] == "User"
    assert pool["nodeTaints"] == ["sku=gpu:NoSchedule"]
    assert pool["enableNodePublicIP"] is False
    assert pool["enableAutoScaling"] is True
    assert (pool["minCount"], pool["maxCount"]) == (0, 2)
    assert pool["scaleSetPriority"] == "Spot" and pool["scaleSetEvictionPolicy"] == "Delete"
    assert pool["gpuProfile"] == {"driver": "Install"}
    assert pool["vnetSubnetID"] == AZURE.app_subnet_id


def test_aks_pool_names_fit_the_rule() -> None:
    for gpu in ("nvidia-l4", "nvidia-h100-80gb", "nvidia-a100-40gb", "nvidia-t4"):
        for capacity in ("spot", "on-demand"):
            name = aks_pool_name(gpu, capacity, "Standard_ND96isr_H100_v5")
            assert len(name) <= 12 and name.isalnum() and name[0].isalpha() and name == name.lower()
    assert aks_pool_name("nvidia-l4", "spot", "a") != aks_pool_name("nvidia-l4", "spot", "b")


# --- EKS ------------------------------------------------------------------------------------------


def test_eks_cluster_is_private_encrypted_and_logged(plan: Plan) -> None:
    cluster = plan.one("aws:eks/cluster:Cluster", "t-eks-cluster").inputs
    vpc = cluster["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert cluster["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    logs = plan.one("aws:cloudwatch/logGroup:LogGroup", "t-eks-logs").inputs
    assert logs["name"] == "/aws/eks/t-eks/cluster" and logs["retentionInDays"] == 365 and logs["kmsKeyId"]


def test_eks_key_policy_scopes_logs_to_the_cluster_log_group(plan: Plan) -> None:
    policy = json.loads(plan.one("aws:kms/key:Key", "t-eks-key").inputs["policy"])
    logs = next(s for s in policy["Statement"] if s["Sid"] == "ControlPlaneLogs")
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {
        "StringEquals": {
            "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/eks/t-eks/cluster"
        }
    }
    # Only calls that carry the log group's encryption context: a Describe* here could never match.
    assert logs["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
    assert plan.one("aws:kms/key:Key", "t-eks-key").inputs["enableKeyRotation"] is True


def test_eks_addons_enforce_network_policy(plan: Plan) -> None:
    addons = {r.inputs["addonName"]: r.inputs for r in plan.by_type("aws:eks/addon:Addon")}
    assert set(addons) == {
        "vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver", "aws-efs-csi-driver",
    }  # fmt: skip
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert addons["aws-ebs-csi-driver"]["podIdentityAssociations"][0]["serviceAccount"] == "ebs-csi-controller-sa"


def test_eks_private_nodes_get_their_service_endpoints(plan: Plan) -> None:
    endpoints = {r.inputs["serviceName"]: r.inputs for r in plan.by_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    for service in ("ecr.api", "ecr.dkr", "sts", "ec2", "eks", "eks-auth", "elasticfilesystem"):
        endpoint = endpoints[f"com.amazonaws.us-east-1.{service}"]
        assert endpoint["vpcEndpointType"] == "Interface" and endpoint["privateDnsEnabled"] is True
    s3 = endpoints["com.amazonaws.us-east-1.s3"]
    assert s3["vpcEndpointType"] == "Gateway" and s3["routeTableIds"] == ["rtb-0aaaaaaaaaaaaaaa1"]
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "t-eks-endpoints-from-t-eks-nodes")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (443, 443) and "cidrIpv4" not in rule.inputs


def test_eks_cache_file_system_is_encrypted(plan: Plan) -> None:
    efs = plan.one("aws:efs/fileSystem:FileSystem", "t-eks-efs").inputs
    assert efs["encrypted"] is True and efs["kmsKeyId"]
    assert len(plan.by_type("aws:efs/mountTarget:MountTarget")) == 2


def test_eks_system_nodes_and_node_role(plan: Plan) -> None:
    system = plan.one("aws:eks/nodeGroup:NodeGroup", "t-eks-system").inputs
    assert system["amiType"] == "AL2023_x86_64_STANDARD"
    node_policies = {r.inputs["policyArn"] for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly" in node_policies
    assert "arn:aws:iam::aws:policy/AdministratorAccess" not in node_policies


# --- GKE ------------------------------------------------------------------------------------------


def test_gke_cluster_is_private_encrypted_and_enforces_policies(plan: Plan) -> None:
    resource = plan.one("gcp:container/cluster:Cluster", "t-gke-cluster")
    cluster = resource.inputs
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"][0]["cidrBlock"] == "10.30.0.0/16"
    assert cluster["databaseEncryption"]["state"] == "ENCRYPTED"
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "gke-pods",
        "servicesSecondaryRangeName": "gke-services",
    }
    assert set(cluster["loggingConfig"]["enableComponents"]) >= {"APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"}
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "acme-genai-test.svc.id.goog"}
    assert cluster["masterAuth"]["clientCertificateConfig"]["issueClientCertificate"] is False
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["deletionProtection"] is True
    key = plan.one("gcp:kms/cryptoKey:CryptoKey", "t-gke-key")
    assert key.protect and key.inputs["rotationPeriod"] == "7776000s"


def test_gke_key_is_granted_to_the_service_agents_only(plan: Plan) -> None:
    members = sorted(r.inputs["member"] for r in plan.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"))
    assert members == [
        "serviceAccount:service-123456789@compute-system.iam.gserviceaccount.com",
        "serviceAccount:service-123456789@container-engine-robot.iam.gserviceaccount.com",
    ]
    node_roles = sorted(
        r.inputs["role"] for r in plan.by_type("gcp:projects/iAMMember:IAMMember") if r.name.startswith("t-gke-nodes-")
    )
    assert node_roles == ["roles/container.defaultNodeServiceAccount"]
    # The only other project grant is the deployer's (tests/test_self_managed_deployer.py).
    others = [r.name for r in plan.by_type("gcp:projects/iAMMember:IAMMember") if not r.name.startswith("t-gke-nodes-")]
    assert others == ["t-gke-deployer-admin"]


# --- AKS ------------------------------------------------------------------------------------------


def test_aks_cluster_is_private_isolated_and_encrypted(plan: Plan) -> None:
    cluster = plan.one("azure-native:containerservice:ManagedCluster", "t-aks-cluster").inputs
    assert cluster["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert cluster["disableLocalAccounts"] is True
    assert cluster["aadProfile"] == {"managed": True, "enableAzureRBAC": True}
    network = cluster["networkProfile"]
    assert (network["networkPlugin"], network["networkPolicy"], network["outboundType"]) == ("azure", "cilium", "none")
    kms = cluster["securityProfile"]["azureKeyVaultKms"]
    assert kms["enabled"] is True and kms["keyVaultNetworkAccess"] == "Private"
    assert cluster["sku"] == {"name": "Base", "tier": "Free"}  # the SLA tier only where data is protected
    system = cluster["agentPoolProfiles"][0]
    assert system["mode"] == "System" and system["enableNodePublicIP"] is False
    vault = plan.one("azure-native:keyvault:Vault", "t-aks-vault").inputs["properties"]
    assert vault["enablePurgeProtection"] is True and vault["publicNetworkAccess"] == "Disabled"
    assert vault["enableRbacAuthorization"] is True
    subnet = plan.one("azure-native:network:Subnet", "t-aks-nodes-subnet").inputs
    assert subnet["addressPrefix"] == "10.20.32.0/20"  # the layout's AKS block
    # Egress only through the app subnet's routes (the network's egress firewall where it has one).
    assert subnet["routeTable"] == {"id": AZURE.app_route_table_id}
    assert subnet["defaultOutboundAccess"] is False
    assert cluster["networkProfile"]["outboundType"] == "none"


def test_aks_control_plane_logs(plan: Plan) -> None:
    setting = plan.one("azure-native:monitor:DiagnosticSetting", "t-aks-diagnostics").inputs
    categories = {log["category"] for log in setting["logs"] if log["enabled"]}
    assert {"kube-apiserver", "kube-audit-admin", "kube-controller-manager", "kube-scheduler"} <= categories


def test_eks_autoscaler_may_resize_only_this_clusters_groups(plan: Plan) -> None:
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "t-eks-autoscaler-policy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    resize = statements["ResizeOwnGroups"]
    assert resize["Condition"] == {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/t-eks": "owned"}}
    assert resize["Resource"].startswith("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:")
    assert all(not a.startswith(("autoscaling:Set", "autoscaling:Terminate")) for a in statements["Discover"]["Action"])
    association = plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "t-eks-autoscaler-identity")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "kube-system",
        "cluster-autoscaler",
    )
