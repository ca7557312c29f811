"""Every policy fires on a bad resource and stays silent on a good one, through the gate.

Two synthetic plans hold one or more resources per policy: `BAD` (each resource breaks the
policies listed for it in `EXPECTED`) and `GOOD` (the secure form of the same resources, plus what
stack-level policies look for). Each plan goes through the gate once, with every policy of the
`triplane` pack; `tests/test_policies_engine.py` shows the pack under the engine finds the same.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from triplane.components.tagging import gcp_labels, k8s_labels, standard_tags
from triplane.gate import GateResult, check_plan
from triplane.plan import SECRET_SIG, SECRET_SIG_KEY, Plan, PlannedResource
from triplane.policies.common import REGISTRY
from triplane.policies.gcp_apis import apis_for
from triplane.policies.packs import POLICIES

STACK = "test"
TAGS = standard_tags(environment=STACK, owner="platform", cost_center="cc-1", use_case="chat",
                     data_classification="internal", pattern="cloud-managed")
RESTRICTED = standard_tags(environment=STACK, owner="platform", cost_center="cc-1", use_case="vault",
                           data_classification="restricted", pattern="self-managed")
LEAKY = standard_tags(environment=STACK, owner="platform", cost_center="cc-1", use_case="leaky",
                      data_classification="restricted", pattern="saas")
LABELS = gcp_labels(TAGS)
K8S = k8s_labels(TAGS)
CONFIG: dict[str, Any] = {
    "stateful-resources-protected": {"protectedStacks": [STACK]},
    "model-allowlist": {"allowedModels": {"restricted": ["meta-llama/*"]}},
}
SERVES = ["test-apps"]
"""The bad plan is a platform stack serving this use-case stack."""
MODEL_ARN = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"


def declared(allow_unlisted_model: bool, tier: str | None = None, serves: list[str] | None = None) -> dict[str, str]:
    """The stack setting the plans declare: the `chat` use case, with or without allow_unlisted_model;
    the bad plan's is a prod tier, where serving images must carry digests, and says it is a platform
    stack serving other stacks, where a use case's own components are not its to create."""
    chat = {"name": "chat", "pattern": "cloud-managed", "data_classification": "internal", "cloud": "aws",
            "models": [{"id": "anthropic.claude-haiku-4-5-20251001-v1:0"}],
            "allow_unlisted_model": allow_unlisted_model}
    extra = {**({"tier": tier} if tier else {}), **({"use_case_stacks": serves} if serves else {})}
    # In prod, a SaaS use case outside the gateway has no signals (the bad plan's `leaky`).
    leaky = [{"name": "leaky", "pattern": "saas", "data_classification": "restricted", "cloud": "aws",
              "provider": "openai"}] if tier == "prod" else []
    return {"triplane:environment": json.dumps({"use_cases": [chat, *leaky], **extra})}


def secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG_KEY: SECRET_SIG, "value": value}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::triplane::{type_}::{name}"


def res(type_: str, name: str, inputs: dict[str, Any], *, parent: str | None = None, protect: bool = False,
        deps: tuple[str, ...] = ()) -> PlannedResource:
    return PlannedResource(
        urn=urn(type_, name), type=type_, name=name, custom=not type_.startswith("triplane:"), parent=parent,
        inputs=inputs, dependencies=deps, protect=protect, retain_on_delete=protect, provider=None, aliases=(),
        ignore_changes=(), additional_secret_outputs=(),
    )


def policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def pod_template(container: dict[str, Any], pod: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}},
                         "spec": {"containers": [container], **(pod or {})}}}


SECURE_CONTAINER = {
    "name": "tgi",
    "image": "ghcr.io/huggingface/text-generation-inference:3.3.7",
    "args": ["--model-id", "meta-llama/Llama-3.1-8B-Instruct"],
    "env": [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "HF_TOKEN"}}},
            {"name": "HF_HOME", "value": "/data"}],
    "resources": {"requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                  "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}},
    "securityContext": {"allowPrivilegeEscalation": False, "privileged": False, "runAsNonRoot": True,
                        "runAsUser": 10001, "capabilities": {"drop": ["ALL"]}},
}


def good_plan() -> Plan:
    """Secure versions of everything, and the companions stack-level policies look for."""
    vertex = res("triplane:cloudmanaged:VertexEndpoint", f"{STACK}-chat", {})
    bucket = res("aws:s3/bucket:Bucket", "good-bucket", {"tags": TAGS}, protect=True)
    openai = res("azure-native:cognitiveservices:Account", "good-openai", {
        "kind": "OpenAI", "accountName": "goodopenai", "tags": TAGS,
        "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": ["/id"]},
        "properties": {"publicNetworkAccess": "Disabled", "disableLocalAuth": True,
                       "networkAcls": {"defaultAction": "Deny", "ipRules": []},
                       "restrictOutboundNetworkAccess": True, "allowedFqdnList": ["kv.vault.azure.net"],
                       "encryption": {"keySource": "Microsoft.KeyVault"}}})
    resources = [
        res("aws:ec2/vpcEndpoint:VpcEndpoint", "good-bedrock-ep", {
            "serviceName": "com.amazonaws.us-east-1.bedrock-runtime", "vpcEndpointType": "Interface",
            "privateDnsEnabled": True, "securityGroupIds": ["sg-1"], "tags": TAGS,
            "policy": policy_doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                  "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                                  "Resource": [MODEL_ARN]})}),
        res("aws:ec2/vpcEndpoint:VpcEndpoint", "good-bedrock-control-ep", {
            "serviceName": "com.amazonaws.us-east-1.bedrock", "vpcEndpointType": "Interface",
            "privateDnsEnabled": True, "securityGroupIds": ["sg-1"], "tags": TAGS,
            "policy": policy_doc({"Effect": "Allow", "Principal": "*", "Action": ["bedrock:ListFoundationModels"],
                                  "Resource": "*"})}),
        res("aws:ec2/vpcEndpoint:VpcEndpoint", "good-s3-gateway", {
            "serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "Gateway", "tags": TAGS}),
        res("aws:iam/policy:Policy", "good-invoke-policy", {"tags": TAGS, "policy": policy_doc(
            {"Effect": "Allow", "Action": ["bedrock:InvokeModel"], "Resource": [MODEL_ARN]},
            {"Effect": "Allow", "Action": "bedrock:InvokeModel",
             "Resource": "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"},
            {"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"})}),
        res("aws:iam/rolePolicy:RolePolicy", "good-role-policy", {"policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": "*"}]}}),
        res("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration", "good-logging", {
            "loggingConfig": {"cloudwatchConfig": {"logGroupName": "/x", "roleArn": "arn:aws:iam::1:role/r"},
                              "textDataDeliveryEnabled": True}}),
        res("aws:kms/key:Key", "good-kms-key", {"enableKeyRotation": True, "tags": TAGS}, protect=True),
        res("aws:kms/key:Key", "good-signing-key", {"customerMasterKeySpec": "ECC_NIST_P256", "keyUsage":
                                                    "SIGN_VERIFY", "tags": TAGS}, protect=True),
        res("aws:secretsmanager/secret:Secret", "good-secret", {"kmsKeyId": "arn:aws:kms:k", "tags": TAGS},
            protect=True),
        res("aws:secretsmanager/secretVersion:SecretVersion", "good-secret-version", {
            "secretId": "s", "secretString": secret("sk-proj-Ab3dEf9hIjK2mNoPqR7sTuV0wXyZ1aB4")}),
        # An alarm, its encrypted topic, the topic's policy and the key's: CloudWatch may publish and encrypt.
        res("aws:kms/key:Key", "good-alerts-key", {"enableKeyRotation": True, "tags": TAGS, "policy": policy_doc(
            {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"})}, protect=True),
        res("aws:sns/topic:Topic", "good-alerts", {"kmsMasterKeyId": "arn:aws:kms:k", "tags": TAGS},
            deps=(urn("aws:kms/key:Key", "good-alerts-key"),)),
        res("aws:sns/topicPolicy:TopicPolicy", "good-alerts-policy", {"arn": "arn:aws:sns:t", "policy": policy_doc(
            {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
             "Resource": "arn:aws:sns:t",
             "Condition": {"ArnLike": {"aws:SourceArn": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:test-*"]}}})},
            deps=(urn("aws:sns/topic:Topic", "good-alerts"),)),
        res("aws:cloudwatch/metricAlarm:MetricAlarm", "good-alarm", {
            "name": "test-chat-latency", "alarmActions": ["arn:aws:sns:t"], "tags": {**TAGS, "alert": "latency"}},
            deps=(urn("aws:sns/topic:Topic", "good-alerts"),)),
        res("aws:cloudwatch/logGroup:LogGroup", "good-log-group", {"kmsKeyId": "arn:aws:kms:k",
                                                                   "retentionInDays": 365, "tags": TAGS},
            protect=True),
        bucket,
        res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "good-bucket-pab", {
            "bucket": "good-bucket-id", "blockPublicAcls": True, "blockPublicPolicy": True,
            "ignorePublicAcls": True, "restrictPublicBuckets": True}, deps=(bucket.urn,)),
        res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "good-bucket-sse", {"bucket": "good-bucket-id", "rules": [
                {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "k"}}]},
            deps=(bucket.urn,)),
        res("aws:ec2/securityGroup:SecurityGroup", "good-sg", {"tags": TAGS, "ingress": [
            {"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": ["10.20.0.0/20"]}]}),
        res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "good-ingress-rule", {
            "cidrIpv4": "10.20.0.0/20", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp", "tags": TAGS}),
        res("aws:networkfirewall/ruleGroup:RuleGroup", "good-rule-group", {"type": "STATEFUL", "tags": TAGS,
            "ruleGroup": {"rulesSource": {"rulesSourceList": {"generatedRulesType": "ALLOWLIST",
                                                              "targetTypes": ["TLS_SNI", "HTTP_HOST"],
                                                              "targets": ["api.openai.com", ".huggingface.co",
                                                                          "contoso-chat.openai.azure.com"]}}}}),
        res("aws:networkfirewall/firewallPolicy:FirewallPolicy", "good-firewall-policy", {"tags": TAGS,
            "firewallPolicy": {"statelessDefaultActions": ["aws:forward_to_sfe"],
                               "statefulDefaultActions": ["aws:drop_established"]}}),
        res("aws:eks/nodeGroup:NodeGroup", "good-node-group", {"tags": TAGS,
                                                             "scalingConfig": {"minSize": 0, "maxSize": 4}}),
        res("aws:ec2/launchTemplate:LaunchTemplate", "good-launch-template", {"tags": TAGS}),
        res("aws:ec2/subnet:Subnet", "good-subnet", {"mapPublicIpOnLaunch": False, "tags": TAGS}),
        res("aws:eks/cluster:Cluster", "good-eks", {"tags": TAGS, "vpcConfig": {
            "endpointPrivateAccess": True, "endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
            "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:k"}, "resources": ["secrets"]}}),
        openai,
        res("azure-native:monitor:DiagnosticSetting", "good-openai-diagnostics", {
            "resourceUri": "/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/"
            "goodopenai", "workspaceId": "/w", "logs": [{"category": "Audit", "enabled": True},
                                                         {"category": "RequestResponse", "enabled": True}]},
            deps=(openai.urn,)),
        res("azure-native:keyvault:Vault", "good-vault", {"tags": TAGS, "properties": {
            "enablePurgeProtection": True, "enableSoftDelete": True, "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": True, "publicNetworkAccess": "Disabled",
            "networkAcls": {"defaultAction": "Deny", "bypass": "None"}}}, protect=True),
        res("azure-native:containerservice:AgentPool", "good-agent-pool", {"tags": TAGS, "enableNodePublicIP":
                                                                           False, "enableAutoScaling": True,
                                                                           "maxCount": 3}),
        res("azure-native:containerservice:ManagedCluster", "good-aks", {"tags": TAGS,
            "apiServerAccessProfile": {"enablePrivateCluster": True},
            "agentPoolProfiles": [{"name": "system", "count": 2, "enableNodePublicIP": False}]}),
        res("azure-native:network:FirewallPolicyRuleCollectionGroup", "good-rule-collection-group", {
            "ruleCollections": [{"ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                                 "action": {"type": "Allow"}, "rules": [
                                     {"ruleType": "ApplicationRule", "targetFqdns": ["api.anthropic.com"]},
                                     {"ruleType": "NetworkRule", "destinationAddresses": ["10.0.0.0/8"]}]}]}),
        vertex,
        res("gcp:compute/globalAddress:GlobalAddress", "good-psc-address", {
            "purpose": "PRIVATE_SERVICE_CONNECT", "addressType": "INTERNAL", "labels": LABELS}, parent=vertex.urn),
        res("gcp:compute/globalForwardingRule:GlobalForwardingRule", "good-psc-rule", {
            "target": "all-apis", "loadBalancingScheme": "", "network": "projects/p/global/networks/n"},
            parent=vertex.urn),
        res("gcp:dns/managedZone:ManagedZone", "good-googleapis-zone", {
            "dnsName": "googleapis.com.", "visibility": "private", "labels": LABELS}, parent=vertex.urn),
        res("gcp:projects/iAMMember:IAMMember", "good-iam-member", {
            "role": "roles/aiplatform.user", "member": "serviceAccount:w@p.iam.gserviceaccount.com"}),
        res("gcp:projects/iAMPolicy:IAMPolicy", "good-iam-policy", {"policyData": json.dumps(
            {"bindings": [{"role": "roles/viewer", "members": ["group:ops@example.com"]}]})}),
        res("gcp:secretmanager/secret:Secret", "good-gcp-secret", {"labels": LABELS, "replication": {
            "userManaged": {"replicas": [{"location": "europe-west4",
                                          "customerManagedEncryption": {"kmsKeyName": "k"}}]}}}, protect=True),
        res("gcp:kms/cryptoKey:CryptoKey", "good-crypto-key", {"rotationPeriod": "7776000s", "labels": LABELS},
            protect=True),
        res("gcp:container/cluster:Cluster", "good-gke", {"resourceLabels": LABELS,
                                                         "privateClusterConfig": {"enablePrivateNodes": True}}),
        res("gcp:container/nodePool:NodePool", "good-node-pool", {
            "networkConfig": {"enablePrivateNodes": True}, "autoscaling": {"totalMaxNodeCount": 4}}),
        res("gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule", "good-swp-rule", {
            "basicProfile": "ALLOW", "sessionMatcher": "host() == 'api.openai.com'"}),
        res("gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule", "good-swp-suffix", {
            "basicProfile": "ALLOW", "sessionMatcher": "host().endsWith('.huggingface.co')"}),
        res("gcp:compute/firewall:Firewall", "good-egress-firewall", {
            "direction": "EGRESS", "allows": [{"protocol": "tcp", "ports": ["443"]}],
            "destinationRanges": ["10.0.0.5/32"]}),
        res("gcp:compute/firewall:Firewall", "good-egress-deny", {
            "direction": "EGRESS", "denies": [{"protocol": "all"}], "destinationRanges": ["0.0.0.0/0"]}),
        res("gcp:compute/firewall:Firewall", "good-ingress-firewall", {
            "direction": "INGRESS", "allows": [{"protocol": "tcp"}], "sourceRanges": ["10.0.0.0/8"]}),
        res("kubernetes:core/v1:Namespace", "good-namespace", {"metadata": {"name": "serving", "labels": {
            **K8S, **{f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")}}}}),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "good-download-egress", {
            "metadata": {"name": "weights-egress", "namespace": "serving", "labels": K8S},
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "model-weights"}},
                     "policyTypes": ["Egress"],
                     "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]}}),
        res("kubernetes:batch/v1:Job", "good-download", {
            "metadata": {"name": "weights", "namespace": "serving", "labels": K8S,
                         "annotations": {"triplane.io/egress-path": "firewall",
                                         "triplane.io/egress-hosts": "api.openai.com"}},
            "spec": {"template": {"spec": {**pod_template(SECURE_CONTAINER)["template"]["spec"],
                                           "securityContext": {"runAsNonRoot": True}}}}}),
        res("kubernetes:apps/v1:Deployment", "good-deployment", {
            "metadata": {"name": "tgi", "namespace": "serving", "labels": K8S},
            "spec": pod_template(SECURE_CONTAINER, {"securityContext": {"runAsNonRoot": True}})}),
        res("kubernetes:core/v1:ConfigMap", "good-config-map", {
            "metadata": {"name": "c", "namespace": "serving", "labels": K8S},
            "data": {"MAX_TOKENS": "4096", "TOKENIZER": "fast"}}),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "good-restricted-download-egress", {
            # Restricted data: the download reaches the site's proxy alone (a private address and port).
            "metadata": {"name": "vault-weights-egress", "namespace": "vault", "labels": k8s_labels(RESTRICTED),
                         "annotations": {"triplane.io/egress-path": "proxy"}},
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "model-weights"}},
                     "policyTypes": ["Egress"],
                     "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}],
                                 "ports": [{"protocol": "TCP", "port": 3128}]}]}}),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "good-default-deny", {
            "metadata": {"name": "default-deny", "namespace": "serving", "labels": K8S},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        res("kubernetes:core/v1:Service", "good-service", {
            "metadata": {"name": "tgi", "namespace": "serving", "labels": K8S,
                         "annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}},
            "spec": {"type": "LoadBalancer"}}),
        res("kubernetes:core/v1:Secret", "good-k8s-secret", {
            "metadata": {"name": "hf", "namespace": "serving", "labels": K8S},
            "stringData": secret({"HF_TOKEN": "hf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})}),
        *gateway_objects("good", "chat", "internal"),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "good-gateway-ingress", {
            "metadata": {"name": "chat-vllm-from-gateway", "namespace": "serving", "labels": K8S},
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "chat-vllm"}},
                     "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                         "kubernetes.io/metadata.name": "envoy-gateway-system"}}}]}]}}),
    ]
    return Plan(project="triplane", stack=STACK, resources=with_apis_enabled(resources))


def gateway_objects(prefix: str, use_case: str, classification: str) -> list[PlannedResource]:
    """The AI gateway's Gateway and the routing objects `routes.render` makes for one use case, served by
    an in-cluster server, with a consumer's API-key Secret."""
    from triplane.components.gateway import routes

    server = routes.InClusterServer(f"{use_case}-vllm", "serving", 80)
    spec = routes.RouteSpec(use_case, classification, routes.Backend(use_case, "llama", "OpenAI", server),  # type: ignore[arg-type]
                            (routes.Consumer(f"{use_case}-app", "api-key", 1_000, 10_000),))
    gateway = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
               "metadata": {"name": "ai-gateway", "namespace": "ai-gateway", "labels": K8S},
               "spec": {"gatewayClassName": "triplane-ai-gateway", "listeners": []}}
    key = {"apiVersion": "core/v1", "kind": "Secret",
           "metadata": {"name": routes.consumer_key_secret(f"{use_case}-app"), "namespace": "ai-gateway",
                        "labels": K8S},
           "stringData": secret({f"{use_case}-app": "planted-consumer-key"})}
    bodies = [gateway, *routes.render("ai-gateway", "ai-gateway", [spec], labels=K8S), key]
    return [res(f"kubernetes:{b['apiVersion']}:{b['kind']}",
                f"{prefix}-{b['kind'].lower()}-{b['metadata']['name']}", {k: v for k, v in b.items()
                                                                          if k not in ("apiVersion", "kind")})
            for b in bodies]


def bad_gateway_objects() -> list[PlannedResource]:
    """A restricted use case's route with no SecurityPolicy, sent to a SaaS host, and no route for `chat`."""
    objects = [o for o in gateway_objects("bad", "vault", "restricted") if o.type.rsplit(":", 1)[-1]
               != "SecurityPolicy"]
    for o in objects:
        if o.type.endswith(":Backend"):
            o.inputs["spec"]["endpoints"][0]["fqdn"]["hostname"] = "api.openai.com"
    return objects


def with_apis_enabled(resources: list[PlannedResource]) -> list[PlannedResource]:
    """Each Google Cloud resource waits for a `gcp.projects.Service` enabling its API (as the program does)."""
    services: dict[str, PlannedResource] = {}
    enabled = []
    for resource in resources:
        apis = apis_for(resource.type, resource.inputs) if resource.type.startswith("gcp:") else ()
        needed = [services.setdefault(api, res("gcp:projects/service:Service", f"api-{api.split('.')[0]}",
                                               {"service": api, "disableOnDestroy": False})) for api in apis]
        enabled.append(dataclasses.replace(resource, dependencies=(*resource.dependencies, *(s.urn for s in needed))))
    return [*services.values(), *enabled]


def bad_plan() -> Plan:
    leaky = res("triplane:saas:SaasEgress", f"{STACK}-leaky", {})
    vertex = res("triplane:cloudmanaged:VertexEndpoint", f"{STACK}-chat", {})
    insecure = {
        "name": "tgi",
        "image": "ghcr.io/huggingface/text-generation-inference:latest",
        "args": ["--api-key=letmein-please"],
        "env": [{"name": "API_KEY", "value": "letmein-please"}],
        "securityContext": {"privileged": True, "runAsUser": 0},
    }
    bad_pod = pod_template(insecure, {"hostNetwork": True})
    # The node's root filesystem, writable, for an image no hostPaths entry names.
    bad_pod["template"]["spec"]["volumes"] = [{"name": "host", "hostPath": {"path": "/"}}]
    bad_pod["template"]["spec"]["containers"][0]["volumeMounts"] = [{"name": "host", "mountPath": "/host"}]
    bad_pod["template"]["spec"]["initContainers"] = [{"name": "fetch", "image": "busybox", "resources": {
        "limits": {"cpu": "1", "memory": "1Gi"}}, "securityContext": {"allowPrivilegeEscalation": False}}]
    resources = [
        res("aws:ec2/vpcEndpoint:VpcEndpoint", "bad-bedrock-ep", {
            "serviceName": "com.amazonaws.us-east-1.bedrock-runtime", "vpcEndpointType": "Interface",
            "privateDnsEnabled": False, "securityGroupIds": [], "tags": TAGS,
            "policy": policy_doc({"Effect": "Allow", "Principal": "*", "Action": "bedrock:*", "Resource": "*"})}),
        res("aws:iam/policy:Policy", "bad-invoke-policy", {"tags": TAGS, "policy": policy_doc(
            {"Effect": "Allow", "Action": "bedrock:InvokeModel",
             "Resource": "arn:aws:bedrock:us-east-1::foundation-model/*"})}),
        res("aws:iam/rolePolicy:RolePolicy", "bad-role-policy", {"policy": {"Statement": [
            {"Effect": "Allow", "Action": ["bedrock:GetFoundationModel"], "Resource": "*"}]}}),
        res("aws:iam/userPolicy:UserPolicy", "bad-not-action", {"policy": policy_doc(
            {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})}),
        res("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration", "bad-logging", {
            "loggingConfig": {"cloudwatchConfig": {"logGroupName": "/x"}}}),
        res("aws:kms/key:Key", "bad-kms-key", {"enableKeyRotation": False, "tags": TAGS}),
        res("aws:secretsmanager/secret:Secret", "bad-secret", {"tags": TAGS}),
        # An alarm telling no one, of another use case than `chat` (which so has none in prod).
        res("aws:cloudwatch/metricAlarm:MetricAlarm", "bad-alarm", {
            "alarmActions": [], "tags": {**TAGS, "use-case": "orphan", "alert": "latency"}}),
        # A managed Prometheus rule acting on nothing, and a rule file whose workspace has no alert manager.
        res("azure-native:alertsmanagement:PrometheusRuleGroup", "bad-prometheus-rules", {
            "scopes": ["/workspaces/w"], "tags": {**TAGS, "use-case": "orphan"}, "rules": [
                {"alert": "TriplaneLatency", "expression": "x > 1", "actions": [],
                 "labels": {"use_case": "orphan", "triplane_alert": "latency"}}]}),
        # A workbook whose PromQL queries a workspace closed to public queries, with no private endpoint to it.
        res("azure-native:monitor:AzureMonitorWorkspace", "bad-monitor-workspace", {
            "publicNetworkAccess": "Disabled", "tags": TAGS}, protect=True),
        res("azure-native:applicationinsights:Workbook", "bad-workbook", {"tags": TAGS, "serializedData": json.dumps(
            {"items": [{"type": 3, "content": {"queryType": 16, "query": "{}"}}]})},
            deps=(urn("azure-native:monitor:AzureMonitorWorkspace", "bad-monitor-workspace"),)),
        res("aws:amp/ruleGroupNamespace:RuleGroupNamespace", "bad-amp-rules", {
            "workspaceId": "ws-1", "tags": {**TAGS, "use-case": "orphan"},
            "data": '{"groups": [{"name": "g", "rules": [{"alert": "TriplaneLatency", "expr": "x > 1"}]}]}'}),
        res("aws:cloudwatch/logGroup:LogGroup", "bad-log-group", {"retentionInDays": 7, "tags": TAGS},
            protect=True),
        res("aws:s3/bucket:Bucket", "bad-bucket", {"forceDestroy": True, "tags": TAGS}, protect=True),
        res("aws:ec2/securityGroup:SecurityGroup", "bad-sg", {"tags": TAGS, "ingress": [
            {"fromPort": 443, "toPort": 443, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}]}),
        res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "bad-ingress-rule", {
            "cidrIpv6": "::/0", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp", "tags": TAGS}),
        res("aws:networkfirewall/ruleGroup:RuleGroup", "bad-rule-group", {"type": "STATEFUL", "tags": TAGS,
            "ruleGroup": {"rulesSource": {"rulesSourceList": {"generatedRulesType": "DENYLIST",
                                                              "targetTypes": ["TLS_SNI"], "targets": [".com"]}}}}),
        res("aws:networkfirewall/firewallPolicy:FirewallPolicy", "bad-firewall-policy", {"tags": TAGS,
            "firewallPolicy": {"statelessDefaultActions": ["aws:pass"], "statefulDefaultActions": []}}),
        res("aws:eks/nodeGroup:NodeGroup", "bad-node-group", {"tags": TAGS, "remoteAccess": {"ec2SshKey": "k"},
                                                            "scalingConfig": {"minSize": 0, "maxSize": 50}}),
        res("aws:ec2/launchTemplate:LaunchTemplate", "bad-launch-template", {"tags": TAGS, "networkInterfaces": [
            {"associatePublicIpAddress": "true"}]}),
        res("aws:ec2/subnet:Subnet", "bad-subnet", {"mapPublicIpOnLaunch": True, "tags": TAGS}),
        res("aws:eks/cluster:Cluster", "bad-eks", {"tags": TAGS, "vpcConfig": {"endpointPrivateAccess": True}}),
        res("aws:ec2/vpc:Vpc", "bad-untagged-vpc", {"cidrBlock": "10.0.0.0/16", "tags": {"Name": "x"}}),
        res("azure-native:cognitiveservices:Account", "bad-openai", {
            "kind": "OpenAI", "accountName": "badopenai", "tags": TAGS, "identity": {"type": "None"},
            "properties": {"publicNetworkAccess": "Enabled", "disableLocalAuth": False,
                           "networkAcls": {"defaultAction": "Allow"}, "restrictOutboundNetworkAccess": False}}),
        res("azure-native:keyvault:Vault", "bad-vault", {"tags": TAGS, "properties": {
            "enablePurgeProtection": False, "enableSoftDelete": False, "enableRbacAuthorization": False,
            "accessPolicies": [{"objectId": "o", "tenantId": "t", "permissions": {"secrets": ["all"]}}],
            "publicNetworkAccess": "Enabled"}}),
        res("azure-native:containerservice:AgentPool", "bad-agent-pool", {"tags": TAGS, "enableNodePublicIP": True,
                                                                          "enableAutoScaling": True,
                                                                          "maxCount": 40}),
        res("azure-native:containerservice:ManagedCluster", "bad-aks", {"tags": TAGS,
            "apiServerAccessProfile": {"authorizedIPRanges": ["0.0.0.0/0"]},
            "agentPoolProfiles": [{"name": "system", "count": 30, "enableNodePublicIP": True}]}),
        res("azure-native:network:FirewallPolicyRuleCollectionGroup", "bad-rule-collection-group", {
            "ruleCollections": [{"ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                                 "action": {"type": "Allow"}, "rules": [
                                     {"ruleType": "ApplicationRule", "targetFqdns": ["*"]},
                                     {"ruleType": "NetworkRule", "destinationAddresses": ["*"]}]}]}),
        vertex,
        res("gcp:projects/iAMMember:IAMMember", "bad-iam-member", {
            "role": "roles/editor", "member": "serviceAccount:w@p.iam.gserviceaccount.com"}),
        res("gcp:projects/iAMPolicy:IAMPolicy", "bad-iam-policy", {"policyData": json.dumps(
            {"bindings": [{"role": "roles/owner", "members": ["serviceAccount:a@p.iam.gserviceaccount.com"]}]})}),
        res("gcp:secretmanager/secret:Secret", "bad-gcp-secret", {"labels": LABELS, "replication": {"auto": {}}}),
        res("gcp:kms/cryptoKey:CryptoKey", "bad-crypto-key", {"rotationPeriod": "31536000s", "labels": LABELS}),
        res("gcp:container/cluster:Cluster", "bad-gke", {"resourceLabels": LABELS}),
        res("gcp:container/cluster:Cluster", "bad-wide-gke", {
            "resourceLabels": LABELS, "masterAuthorizedNetworksConfig": {
            # 10.0.0.0/8 is private and passes; 128.0.0.0/8 is public and far wider than /24.
            "cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}, {"cidrBlock": "128.0.0.0/8"}]}}),
        res("gcp:container/nodePool:NodePool", "bad-node-pool", {
            "networkConfig": {"enablePrivateNodes": False}, "autoscaling": {"totalMaxNodeCount": 100}}),
        res("gcp:networksecurity/gatewaySecurityPolicyRule:GatewaySecurityPolicyRule", "bad-swp-rule", {
            "basicProfile": "ALLOW", "sessionMatcher": "true"}),
        res("gcp:compute/firewall:Firewall", "bad-egress-firewall", {
            "direction": "EGRESS", "allows": [{"protocol": "all"}], "destinationRanges": ["0.0.0.0/0"]}),
        res("gcp:compute/firewall:Firewall", "bad-ingress-firewall", {
            "direction": "INGRESS", "allows": [{"protocol": "tcp", "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"]}),
        res("kubernetes:core/v1:Namespace", "bad-namespace", {"metadata": {"name": "serving-open", "labels": K8S}}),
        res("kubernetes:apps/v1:Deployment", "bad-deployment", {
            "metadata": {"name": "tgi", "namespace": "serving-open", "labels": K8S}, "spec": bad_pod}),
        res("kubernetes:apps/v1:Deployment", "bad-model-server", {
            "metadata": {"name": "vault-tgi", "namespace": "serving-partial", "labels": k8s_labels(RESTRICTED)},
            "spec": pod_template({**SECURE_CONTAINER, "args": ["--model-id", "evil-corp/unvetted-7b"]})}),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "bad-server-egress", {
            "metadata": {"name": "server-egress", "namespace": "serving-open", "labels": K8S},
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "text-generation-inference"}},
                     "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                                            "ports": [{"port": 443}]}]}}),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "bad-restricted-egress", {
            # Restricted data: a server that could send it to the internet (hub egress on the server itself).
            "metadata": {"name": "vault-egress", "namespace": "vault", "labels": k8s_labels(RESTRICTED)},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                     "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]}}),
        res("kubernetes:apps/v1:Deployment", "bad-floating-server", {
            # Prod tier (the bad plan's stack config): a full version tag, yet no digest.
            "metadata": {"name": "tgi", "namespace": "serving",
                         "labels": {**K8S, "app.kubernetes.io/component": "model-server"}},
            "spec": pod_template(SECURE_CONTAINER, {"securityContext": {"runAsNonRoot": True}})}),
        res("kubernetes:batch/v1:Job", "bad-download", {
            "metadata": {"name": "weights", "namespace": "serving-open", "labels": K8S,
                         "annotations": {"triplane.io/egress-path": "firewall",
                                         "triplane.io/egress-hosts": "huggingface.co,transfer.xethub.hf.co"}},
            "spec": {"template": {"spec": {**pod_template(SECURE_CONTAINER)["template"]["spec"],
                                           "securityContext": {"runAsNonRoot": True}}}}}),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "bad-allow-all", {
            "metadata": {"name": "allow-all", "namespace": "serving-partial", "labels": K8S},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}}),
        res("kubernetes:core/v1:ConfigMap", "bad-config-map", {
            "metadata": {"name": "c", "namespace": "serving-open", "labels": K8S},
            "data": {"OPENAI_API_KEY": "sk-proj-Ab3dEf9hIjK2mNoPqR7sTuV0wXyZ1aB4", "DB_PASSWORD": "hunter2"}}),
        res("kubernetes:core/v1:Service", "bad-service", {
            "metadata": {"name": "tgi", "namespace": "serving-open", "labels": K8S}, "spec": {"type": "LoadBalancer"}}),
        leaky,
        res("aws:secretsmanager/secret:Secret", "leaky-api-key", {"kmsKeyId": "k", "tags": LEAKY}, parent=leaky.urn,
            protect=True),
        *dead_workload(),
        *bad_gateway_objects(),
    ]
    return Plan(project="triplane", stack=STACK, resources=resources)


def dead_workload() -> list[PlannedResource]:
    """A private cluster nobody can reach, and a model server on it that can never run."""
    cluster = res("aws:eks/cluster:Cluster", "bad-private-cluster", {
        "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True}, "tags": TAGS,
        "accessConfig": {"authenticationMode": "API"}})
    provider = res("pulumi:providers:kubernetes", "bad-cluster-k8s", {}, deps=(cluster.urn,))
    on_cluster = f"{provider.urn}::id"
    server = pod_template(dict(SECURE_CONTAINER), {
        "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "dead-cache"}}]})
    server["replicas"] = 0
    return [
        cluster,
        provider,
        dataclasses.replace(res("kubernetes:core/v1:PersistentVolumeClaim", "bad-dead-cache", {
            "metadata": {"name": "dead-cache", "namespace": "dead", "labels": K8S}}), provider=on_cluster),
        dataclasses.replace(res("kubernetes:apps/v1:Deployment", "bad-dead-server", {
            "metadata": {"name": "dead", "namespace": "dead",
                         "labels": {**K8S, "app.kubernetes.io/component": "model-server"}},
            "spec": server}), provider=on_cluster),
        dataclasses.replace(res("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "bad-orphan-monitor", {
            "metadata": {"name": "dead", "namespace": "dead", "labels": K8S}, "spec": {}}), provider=on_cluster),
    ]


EXPECTED: dict[str, set[str]] = {
    "aws-bedrock-endpoint-private-dns": {"bad-bedrock-ep"},
    "aws-bedrock-endpoint-security-group": {"bad-bedrock-ep"},
    "aws-bedrock-endpoint-policy": {"bad-bedrock-ep"},
    "aws-bedrock-iam-least-privilege": {"bad-invoke-policy", "bad-role-policy", "bad-not-action"},
    "aws-bedrock-invocation-logging": {"bad-logging"},
    "aws-kms-key-rotation": {"bad-kms-key"},
    "aws-secret-customer-managed-key": {"bad-secret"},
    "aws-log-group-encrypted": {"bad-log-group"},
    "aws-log-group-retention": {"bad-log-group"},
    "aws-s3-bucket-secure": {"bad-bucket"},
    "aws-security-group-no-public-ingress": {"bad-sg", "bad-ingress-rule"},
    "aws-egress-allowlist": {"bad-rule-group", "bad-firewall-policy"},
    "aws-nodes-no-public-ip": {"bad-node-group", "bad-launch-template", "bad-subnet"},
    "aws-node-group-size-cap": {"bad-node-group"},
    "aws-eks-endpoint-not-public": {"bad-eks"},
    "cluster-api-authorized-ranges": {"bad-eks", "bad-aks", "bad-wide-gke"},
    "aws-eks-secrets-encryption": {"bad-eks"},
    "azure-openai-public-network-disabled": {"bad-openai"},
    "azure-openai-local-auth-disabled": {"bad-openai"},
    "azure-openai-network-acls-deny": {"bad-openai"},
    "azure-openai-managed-identity": {"bad-openai"},
    "azure-openai-outbound-restricted": {"bad-openai"},
    "azure-openai-customer-managed-key": {"bad-openai"},
    "azure-openai-diagnostic-settings": {"bad-openai"},
    "azure-key-vault-purge-protection": {"bad-vault"},
    "azure-key-vault-soft-delete": {"bad-vault"},
    "azure-key-vault-rbac": {"bad-vault"},
    "azure-key-vault-no-public-access": {"bad-vault"},
    "azure-nodes-no-public-ip": {"bad-agent-pool", "bad-aks"},
    "azure-node-pool-size-cap": {"bad-agent-pool", "bad-aks"},
    "azure-aks-api-not-public": {"bad-aks"},
    "azure-egress-allowlist": {"bad-rule-collection-group"},
    "gcp-vertex-private-service-connect": {f"{STACK}-chat"},
    "gcp-no-basic-roles": {"bad-iam-member", "bad-iam-policy"},
    "gcp-secret-customer-managed-key": {"bad-gcp-secret"},
    "gcp-kms-key-rotation": {"bad-crypto-key"},
    "gcp-gke-private-nodes": {"bad-gke", "bad-node-pool"},
    "gcp-node-pool-size-cap": {"bad-node-pool"},
    "gcp-egress-allowlist": {"bad-swp-rule", "bad-egress-firewall"},
    "gcp-firewall-no-public-ingress": {"bad-ingress-firewall"},
    "k8s-image-pinned": {"bad-deployment"},
    "k8s-image-digest-prod": {"bad-floating-server"},
    "k8s-image-registry-allowlist": {"bad-deployment"},
    "k8s-no-privileged-containers": {"bad-deployment"},
    "k8s-host-paths-allowlisted": {"bad-deployment"},
    "k8s-no-privilege-escalation": {"bad-deployment"},
    "k8s-run-as-non-root": {"bad-deployment"},
    "k8s-resource-limits": {"bad-deployment"},
    "k8s-no-secrets-in-env": {"bad-deployment"},
    "k8s-no-secrets-in-configmaps": {"bad-config-map"},
    "k8s-namespace-network-policy": {"bad-namespace", "bad-model-server"},
    "k8s-no-public-load-balancer": {"bad-service"},
    "k8s-namespace-pod-security": {"bad-namespace"},
    "k8s-model-server-no-internet-egress": {"bad-server-egress", "bad-restricted-egress"},
    "k8s-restricted-egress-named-hosts": {"bad-restricted-egress"},
    "k8s-download-egress-allowlisted": {"bad-download"},
    "classification-allowed-patterns": {f"{STACK}-leaky"},
    "required-tags": {"bad-untagged-vpc"},
    "model-allowlist": {"bad-model-server"},
    "model-ids-unlisted": {f"{STACK}-chat"},
    "no-plaintext-credentials": {"bad-config-map"},
    "stateful-resources-protected": {"bad-kms-key", "bad-secret", "bad-gcp-secret", "bad-vault"},
    "deployable-images": {"bad-dead-server"},
    "deployable-crds": {"bad-orphan-monitor"},
    "deployable-autoscaling": {"bad-dead-server"},
    "deployable-gpus": {"bad-dead-server"},
    "deployable-weights": {"bad-dead-server"},
    "deployable-deployer": {"bad-private-cluster", "bad-cluster-k8s"},
    "deployable-cloud-apis": {"bad-gke", "bad-crypto-key", "bad-gcp-secret"},
    "deployable-endpoints": {f"{STACK}-leaky"},
    "deployable-gateway": {"bad-aiservicebackend-vault-self-llama"},
    "stage-ownership": {f"{STACK}-chat", f"{STACK}-leaky"},
    "gateway-routes-authenticated-and-limited": {"bad-aigatewayroute-vault"},
    "gateway-route-per-use-case": {"bad-gateway-ai-gateway"},
    "gateway-route-classification": {"bad-aigatewayroute-vault"},
    "monitoring-alerts-notify": {"bad-alarm", "bad-prometheus-rules"},
    "deployable-alerts": {"bad-alarm", "bad-prometheus-rules", "bad-amp-rules"},
    "deployable-dashboards": {"bad-workbook"},
    "monitoring-prod-alerts": {f"{STACK}-chat"},
    "monitoring-saas-unobserved": {f"{STACK}-leaky"},
}
"""Policy -> the bad resources (by logical name) it must report."""

@pytest.fixture(scope="module")
def bad() -> GateResult:
    return check_plan(bad_plan(), config=CONFIG, stack_config=declared(True, tier="prod", serves=SERVES))


@pytest.fixture(scope="module")
def good() -> GateResult:
    return check_plan(good_plan(), config=CONFIG, stack_config=declared(False))


def fired_on(result: GateResult, policy: str) -> set[str]:
    return {v.resource_name or "" for v in result.violations if v.policy == policy}


def test_every_policy_has_a_bad_case() -> None:
    assert set(EXPECTED) == set(REGISTRY), "a policy without a fire/silent case, or a case for a removed policy"
    assert {p.name for p in POLICIES} == set(REGISTRY)


@pytest.mark.parametrize("policy", sorted(EXPECTED))
def test_policy_fires_on_bad_resource(bad: GateResult, policy: str) -> None:
    missing = EXPECTED[policy] - fired_on(bad, policy)
    assert not missing, f"{policy} did not report {sorted(missing)}; it reported {sorted(fired_on(bad, policy))}"
    levels = {v.enforcement for v in bad.violations if v.policy == policy}
    assert levels == {REGISTRY[policy].enforcement.value}


@pytest.mark.parametrize("policy", sorted(EXPECTED))
def test_policy_silent_on_good_resource(good: GateResult, policy: str) -> None:
    assert fired_on(good, policy) == set(), [v.message for v in good.violations if v.policy == policy]


def test_good_plan_is_clean_and_covers_every_policy_type(good: GateResult) -> None:
    assert good.violations == []
    assert good.passed and good.exit_code == 0
    names = {r.name for r in good_plan().resources}
    for meta in REGISTRY.values():
        # Each resource policy has at least one good resource of a type it checks.
        if meta.kind == "resource" and "*" not in meta.types:
            assert any(r.type in meta.types for r in good_plan().resources), meta.name
    assert "good-secret-version" in names  # a credential inside a secret store's value is not flagged


def test_bad_plan_fails_with_messages_naming_the_fields(bad: GateResult) -> None:
    assert not bad.passed and bad.exit_code == 1
    messages = {(v.policy, v.resource_name): v.message for v in bad.violations}
    assert "privateDnsEnabled" in messages[("aws-bedrock-endpoint-private-dns", "bad-bedrock-ep")]
    assert "bedrock:*" in messages[("aws-bedrock-endpoint-policy", "bad-bedrock-ep")]
    assert "properties.publicNetworkAccess is 'Enabled'" in messages[
        ("azure-openai-public-network-disabled", "bad-openai")]
    assert "50" in messages[("aws-node-group-size-cap", "bad-node-group")]
    assert "restricted data but is served saas" in messages[("classification-allowed-patterns", f"{STACK}-leaky")]
    assert "evil-corp/unvetted-7b" in messages[("model-allowlist", "bad-model-server")]
    assert "allow_unlisted_model: true, so its model IDs (anthropic.claude-haiku-4-5-20251001-v1:0)" in messages[
        ("model-ids-unlisted", f"{STACK}-chat")]
    assert "OPENAI_API_KEY" in messages[("no-plaintext-credentials", "bad-config-map")]
    # Secret store values are where credentials belong.
    assert "good-secret-version" not in fired_on(bad, "no-plaintext-credentials")


def test_advisory_policies_do_not_fail_the_gate(bad: GateResult) -> None:
    advisory = {v.policy for v in bad.advisory}
    assert advisory == {
        "aws-log-group-retention", "azure-openai-customer-managed-key", "model-ids-unlisted", "k8s-image-digest-prod",
        "monitoring-saas-unobserved",
    }  # fmt: skip
