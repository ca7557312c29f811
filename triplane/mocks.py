"""Deterministic stand-ins for the cloud providers, so a plan runs with no credentials.

Every resource gets a stable id and the computed attributes components read back (ARNs, Azure
resource IDs, GCP self links, service-account emails). Invokes (`getCallerIdentity`,
`getClientConfig`, ...) answer with fixed, documented values. Same input, same plan, every time.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from policies.gcp_apis import SERVICE_AGENTS

AWS_ACCOUNT_ID = "123456789012"
AWS_CALLER_ARN = f"arn:aws:sts::{AWS_ACCOUNT_ID}:assumed-role/triplane-plan/plan-session"
"""Plans run as a role session, as CI does: what needs the IAM principal must resolve the role."""
AWS_DEPLOYER_ROLE_ARN = f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/triplane-plan"
AZURE_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
AZURE_TENANT_ID = "11111111-1111-1111-1111-111111111111"
AZURE_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
GCP_PROJECT_NUMBER = "123456789"
GCP_DEPLOYER_EMAIL = "triplane-plan@triplane-plan.iam.gserviceaccount.com"

_INVOKES: dict[str, dict[str, Any]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": {
        "accountId": AWS_ACCOUNT_ID,
        "arn": AWS_CALLER_ARN,
        "userId": "AROATRIPLANEPLAN:plan-session",
        "id": AWS_ACCOUNT_ID,
    },
    "aws:index/getPartition:getPartition": {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
        "id": "aws",
    },
    "azure-native:authorization:getClientConfig": {
        "clientId": AZURE_OBJECT_ID,
        "objectId": AZURE_OBJECT_ID,
        "subscriptionId": AZURE_SUBSCRIPTION_ID,
        "tenantId": AZURE_TENANT_ID,
    },
    "gcp:organizations/getProject:getProject": {"number": GCP_PROJECT_NUMBER},
    "gcp:organizations/getClientOpenIdUserInfo:getClientOpenIdUserInfo": {
        "email": GCP_DEPLOYER_EMAIL,
        "id": GCP_DEPLOYER_EMAIL,
    },
    "gcp:logging/getProjectCmekSettings:getProjectCmekSettings": {
        "serviceAccountId": f"cmek-p{GCP_PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com",
        "id": "cmek-settings",
    },
    "aws:iam/getSessionContext:getSessionContext": {
        "arn": AWS_CALLER_ARN,
        "issuerArn": AWS_DEPLOYER_ROLE_ARN,
        "issuerId": "AROATRIPLANEPLAN",
        "issuerName": "triplane-plan",
        "sessionName": "plan-session",
        "id": AWS_CALLER_ARN,
    },
}

AZURE_FIREWALL_PRIVATE_IP = "10.255.0.4"


def _azure_id(type_: str, name: str, inputs: dict[str, Any]) -> str:
    # azure-native:network:VirtualNetwork -> Microsoft.Network/virtualNetworks/<name>
    _, module, kind = type_.split(":")
    group = inputs.get("resourceGroupName", "rg")
    namespace = "Microsoft." + module[:1].upper() + module[1:]
    resource_name = next(
        (str(v) for k, v in inputs.items() if k.endswith("Name") and k != "resourceGroupName" and v), name
    )
    return (
        f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/{group}/providers/"
        f"{namespace}/{kind[:1].lower()}{kind[1:]}s/{resource_name}"
    )


class CloudMocks(pulumi_mocks.Mocks):
    """Mocks for the AWS, Azure Native, Google Cloud and Kubernetes providers."""

    def __init__(self, project: str = "triplane", stack: str = "stack") -> None:
        self.project = project
        self.stack = stack

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        type_, name, inputs = args.typ, args.name, dict(args.inputs)
        if type_.startswith("pulumi:providers:"):
            return f"{name}-provider-id", inputs
        package = type_.split(":")[0]
        state: dict[str, Any] = dict(inputs)
        resource_id = f"{name}-id"
        if package == "aws":
            service = type_.split(":")[1].split("/")[0]
            state.setdefault("arn", f"arn:aws:{service}:us-east-1:{AWS_ACCOUNT_ID}:{name}")
            state.setdefault("name", inputs.get("name", name))
            if type_ == "aws:ec2/vpcEndpoint:VpcEndpoint":
                service_name = str(inputs.get("serviceName", "service"))
                host = service_name.split(".")[-1]
                state["dnsEntries"] = [
                    {"dnsName": f"vpce-{name}.{host}.vpce.amazonaws.com", "hostedZoneId": "Z7HUB22UULQXV"}
                ]
            if type_ == "aws:ec2/eip:Eip":
                state["publicIp"] = "203.0.113.10"
                state["allocationId"] = f"eipalloc-{name}"
            if type_ == "aws:kms/key:Key":
                state["keyId"] = f"{name}-key-id"
            if type_ == "aws:bedrock/guardrail:Guardrail":
                state["guardrailId"] = f"{name}-id"
                state["guardrailArn"] = f"arn:aws:bedrock:us-east-1:{AWS_ACCOUNT_ID}:guardrail/{name}-id"
                state["version"] = "DRAFT"
            if type_ == "aws:bedrock/guardrailVersion:GuardrailVersion":
                state["version"] = "1"
            if type_ == "aws:networkfirewall/firewall:Firewall":
                # One endpoint per subnet mapping, reported as the service does once the firewall exists.
                state["firewallStatuses"] = [
                    {
                        "syncStates": [
                            {
                                "availabilityZone": f"zone-{index}",
                                "attachments": [
                                    {"endpointId": f"vpce-{name}-{index}", "subnetId": mapping.get("subnetId")}
                                ],
                            }
                            for index, mapping in enumerate(inputs.get("subnetMappings") or [])
                        ]
                    }
                ]
            if type_ == "aws:eks/cluster:Cluster":
                state["endpoint"] = f"https://{name}.eks.amazonaws.com"
                state["certificateAuthority"] = {"data": "Y2VydGlmaWNhdGU="}
                state["identities"] = [{"oidcs": [{"issuer": f"https://oidc.eks.amazonaws.com/id/{name}"}]}]
                state["vpcConfig"] = dict(inputs.get("vpcConfig", {}), clusterSecurityGroupId=f"sg-{name}")
        elif package == "azure-native":
            resource_id = _azure_id(type_, name, inputs)
            state.setdefault("name", name)
            if "identity" in inputs:
                state["identity"] = dict(inputs["identity"], principalId=AZURE_OBJECT_ID, tenantId=AZURE_TENANT_ID)
                assigned = inputs["identity"].get("userAssignedIdentities")
                if isinstance(assigned, list):
                    # Inputs list the identities' IDs; the service answers with a map keyed by them.
                    state["identity"]["userAssignedIdentities"] = {
                        str(i): {"principalId": AZURE_OBJECT_ID, "clientId": AZURE_OBJECT_ID} for i in assigned
                    }
            if type_ == "azure-native:managedidentity:UserAssignedIdentity":
                state.update(principalId=AZURE_OBJECT_ID, clientId=AZURE_OBJECT_ID, tenantId=AZURE_TENANT_ID)
            if type_ == "azure-native:network:PublicIPAddress":
                state["ipAddress"] = "198.51.100.10"
            if type_ == "azure-native:network:AzureFirewall":
                state["ipConfigurations"] = [
                    dict(config, privateIPAddress=AZURE_FIREWALL_PRIVATE_IP)
                    for config in inputs.get("ipConfigurations") or []
                ]
            if type_ == "azure-native:containerservice:ManagedCluster":
                prefix = inputs.get("dnsPrefix", name)
                location = inputs.get("location", "westeurope")
                private = (inputs.get("apiServerAccessProfile") or {}).get("enablePrivateCluster")
                host = f"{prefix}-00000000.{'privatelink.' if private else 'hcp.'}{location}.azmk8s.io"
                state["privateFQDN" if private else "fqdn"] = host
            if type_ == "azure-native:keyvault:Secret":
                vault = inputs.get("vaultName", "vault")
                state["properties"] = {
                    "secretUri": f"https://{vault}.vault.azure.net/secrets/{inputs.get('secretName', name)}"
                }
        elif package == "gcp":
            state.setdefault("name", inputs.get("name", name))
            project = inputs.get("project", "project")
            resource_id = f"projects/{project}/{type_.split(':')[-1].lower()}s/{state['name']}"
            state.setdefault("selfLink", f"https://www.googleapis.com/{resource_id}")
            if type_ == "gcp:serviceaccount/account:Account":
                state["email"] = f"{inputs.get('accountId', name)}@{project}.iam.gserviceaccount.com"
                state["member"] = f"serviceAccount:{state['email']}"
            if type_ == "gcp:compute/address:Address" or type_ == "gcp:compute/globalAddress:GlobalAddress":
                state.setdefault("address", "10.255.255.10")
            if type_ == "gcp:container/cluster:Cluster":
                state["endpoint"] = "10.255.254.2"
                state["masterAuth"] = dict(inputs.get("masterAuth") or {}, clusterCaCertificate="Y2VydGlmaWNhdGU=")
                endpoints = dict(inputs.get("controlPlaneEndpointsConfig") or {})
                dns = dict(endpoints.get("dnsEndpointConfig") or {})
                dns["endpoint"] = f"gke-0123456789abcdef-{project}.{inputs.get('location', 'region')}.gke.goog"
                state["controlPlaneEndpointsConfig"] = dict(endpoints, dnsEndpointConfig=dns)
            if type_ == "gcp:projects/serviceIdentity:ServiceIdentity":
                service = str(inputs.get("service", "service"))
                domain = SERVICE_AGENTS.get(service, f"gcp-sa-{service.split('.')[0]}.iam.gserviceaccount.com")
                state["email"] = f"service-{GCP_PROJECT_NUMBER}@{domain}"
                state["member"] = f"serviceAccount:{state['email']}"
        elif package == "kubernetes":
            metadata = dict(inputs.get("metadata") or {})
            metadata.setdefault("name", name)
            state["metadata"] = metadata
            namespace = metadata.get("namespace")
            resource_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
        state.setdefault("id", resource_id)
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token in _INVOKES:
            return dict(_INVOKES[args.token]), []
        if args.token == "aws:ec2/getVpc:getVpc":
            return {"id": args.args.get("id"), "cidrBlock": "10.0.0.0/16", "arn": "arn:aws:ec2:vpc"}, []
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": ["us-east-1a", "us-east-1b", "us-east-1c"], "id": "zones"}, []
        return {}, []
