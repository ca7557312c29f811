"""The component package as other languages see it: its schema, served over the provider protocol, and the
resources its components build.

The schema comes from the provider process started the way the Python language host starts a plugin
(`python <plugin folder> <engine address>`; it prints its port), asked over gRPC with `GetSchema`. The
request and response are built by hand from the protocol's field numbers, so the test reads what any engine
would read, without the SDK's internal stubs. The components then run under the mock runtime, and each must
register exactly the resources of the Triplane component it wraps.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
import time
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pytest
import yaml

from triplane.components.cloud_managed.azure_openai import (
    AzureContentFilterArgs,
    AzureOpenAIDeployment,
    AzureOpenAIEndpoint,
    AzureOpenAIEndpointArgs,
)
from triplane.components.cloud_managed.bedrock import BedrockEndpoint, BedrockEndpointArgs
from triplane.components.cloud_managed.vertex import VertexEndpoint, VertexEndpointArgs
from triplane.components.images import TGI
from triplane.components.network.refs import AwsNetworkRef, AzureNetworkRef, GcpNetworkRef
from triplane.components.saas import secret_store
from triplane.components.self_managed.model_server import ClientAccess, ModelServer, ModelServerArgs
from triplane.components.tagging import k8s_labels, standard_tags
from triplane.package import (
    COMPONENTS,
    AwsApiKeyStore,
    AzureOpenAIPrivateAccount,
    BedrockPrivateEndpoint,
    KubernetesModelServer,
    VertexPrivateEndpoint,
)
from triplane.plan import Plan, is_secret, redact, run_program

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "package"
EXAMPLE = PLUGIN / "examples" / "yaml" / "Pulumi.yaml"
ENGINE = "127.0.0.1:1"
"""The engine address argument; GetSchema never calls the engine, so nothing listens there."""

GET_SCHEMA = "/pulumirpc.ResourceProvider/GetSchema"
"""`rpc GetSchema(GetSchemaRequest) returns (GetSchemaResponse)`; the response's `schema` is field 1."""

ROLE = "arn:aws:iam::123456789012:role/chat-app"
OBJECT_ID = "33333333-3333-4333-8333-333333333333"
TAGS = {
    "owner": "ml-platform",
    "cost-center": "cc-4711",
    "environment": "dev",
    "use-case": "chat",
    "data-classification": "internal",
}
RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet-ml"

STR, INT, BOOL = "string", "integer", "boolean"
STRINGS, STRING_MAP = "array<string>", "map<string>"
DEPLOYMENTS = "array<AzureOpenAIModelDeploymentArgs>"

# Component -> (inputs: name -> (type, required), outputs: name -> (type, always present)).
EXPECTED: dict[str, tuple[dict[str, tuple[str, bool]], dict[str, tuple[str, bool]]]] = {
    "BedrockPrivateEndpoint": (
        {
            "region": (STR, True),
            "vpcId": (STR, True),
            "subnetIds": (STRINGS, True),
            "applicationCidrs": (STRINGS, True),
            "models": (STRINGS, True),
            "allowedPrincipals": (STRINGS, False),
            "allowedSecurityGroupIds": (STRINGS, False),
            "kmsKey": (STR, False),
            "guardrail": (BOOL, False),
            "loggingDestinations": (STRINGS, False),
            "protectData": (BOOL, False),
            "tags": (STRING_MAP, True),
        },
        {"url": (STR, True), "invokePolicyArn": (STR, True), "guardrailIdentifier": (STR, False), "logs": (STR, False)},
    ),
    "AzureOpenAIPrivateAccount": (
        {
            "location": (STR, True),
            "resourceGroupName": (STR, True),
            "vnetId": (STR, True),
            "endpointSubnetId": (STR, True),
            "deployments": (DEPLOYMENTS, True),
            "allowedPrincipals": (STRINGS, False),
            "kmsKey": (STR, False),
            "allowedOutboundFqdns": (STRINGS, False),
            "logWorkspaceId": (STR, False),
            "logRetentionDays": (INT, False),
            "versionUpgradeOption": (STR, False),
            "contentFilterSeverity": (STR, False),
            "protectData": (BOOL, False),
            "tags": (STRING_MAP, True),
        },
        {"url": (STR, True), "accountId": (STR, True), "logs": (STR, True)},
    ),
    "VertexPrivateEndpoint": (
        {
            "project": (STR, True),
            "region": (STR, True),
            "networkId": (STR, True),
            "pscAddress": (STR, True),
            "pscTarget": (STR, False),
            "models": (STRINGS, True),
            "allowedPrincipals": (STRINGS, False),
            "kmsKey": (STR, False),
            "logRetentionDays": (INT, False),
            "protectData": (BOOL, False),
            "tags": (STRING_MAP, True),
        },
        {"url": (STR, True), "serviceAccountEmail": (STR, True), "kmsKey": (STR, True), "logs": (STR, True)},
    ),
    "AwsApiKeyStore": (
        {
            "region": (STR, True),
            "apiKey": (STR, True),
            "allowedPrincipals": (STRINGS, True),
            "externalRotation": (BOOL, False),
            "kmsKey": (STR, False),
            "description": (STR, False),
            "protectData": (BOOL, False),
            "tags": (STRING_MAP, True),
        },
        {"secretArn": (STR, True), "roleArn": (STR, True), "kmsKeyArn": (STR, True)},
    ),
    "KubernetesModelServer": (
        {
            "modelId": (STR, True),
            "revision": (STR, False),
            "engine": (STR, False),
            "gpus": (INT, True),
            "namespace": (STR, True),
            "clientNamespaces": (STRINGS, False),
            "clientPodLabels": (STRING_MAP, False),
            "image": (STR, False),
            "replicas": (INT, False),
            "cpu": (INT, False),
            "memoryGib": (INT, False),
            "cacheSizeGb": (INT, False),
            "storageClass": (STR, False),
            "nodeSelector": (STRING_MAP, False),
            "hfToken": (STR, False),
            "apiKey": (STR, False),
            "protectData": (BOOL, False),
            "tags": (STRING_MAP, True),
        },
        {"url": (STR, True), "address": (STR, True), "namespace": (STR, True), "serviceName": (STR, True)},
    ),
}
PLAIN = {"region", "location", "project", "pscAddress", "subnetIds", "applicationCidrs", "models", "deployments",
         "gpus", "modelId", "tags"}  # fmt: skip
"""Inputs the components compute with, which must be known before deployment (`plain` in the schema)."""
NOT_PLAIN = {"vpcId", "resourceGroupName", "vnetId", "endpointSubnetId", "networkId", "apiKey", "hfToken",
             "logWorkspaceId"}  # fmt: skip
"""Inputs that may be other resources' outputs."""


# --- the provider process and the protocol --------------------------------------------------------


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _field(message: bytes, number: int) -> bytes:
    """The bytes of length-delimited field `number` of a protobuf message."""
    at = 0
    while at < len(message):
        key, at = _varint(message, at)
        wire = key & 7
        if wire == 2:
            length, at = _varint(message, at)
            if key >> 3 == number:
                return message[at : at + length]
            at += length
        elif wire == 0:
            _, at = _varint(message, at)
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unexpected wire type {wire}")
    raise LookupError(f"field {number} not in the message")


def _start(argv: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start a provider as the language host does and read the port it prints on its first line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 180
    while not selector.select(timeout=1):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"provider {argv} printed no port:\n{err.decode()[-3000:]}")
    line = process.stdout.readline().decode().strip()
    assert re.fullmatch(r"\d+", line), f"expected the port on the first line, got {line!r}"
    return process, int(line)


def _get_schema(port: int) -> dict[str, Any]:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        get_schema = channel.unary_unary(GET_SCHEMA)
        response: bytes = get_schema(b"", timeout=120)  # GetSchemaRequest{version: 0} encodes as no bytes
    return json.loads(_field(response, 1).decode())


def _served_schema(argv: list[str], cwd: Path) -> dict[str, Any]:
    process, port = _start(argv, cwd)
    try:
        return _get_schema(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The schema the plugin folder serves: `python package <engine>`, as `pulumi package add ./package` runs it."""
    return _served_schema([sys.executable, str(PLUGIN), ENGINE], PLUGIN)


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit(":", 1)[-1]
    if prop["type"] == "array":
        return f"array<{_type(prop['items'])}>"
    if prop["type"] == "object" and "additionalProperties" in prop:
        return f"map<{_type(prop['additionalProperties'])}>"
    return str(prop["type"])


# --- the schema -----------------------------------------------------------------------------------


def test_the_package_is_named_triplane(schema: dict[str, Any]) -> None:
    assert schema["name"] == "triplane"
    assert schema["namespace"] == "triplane"


def test_every_component_is_a_documented_component_resource(schema: dict[str, Any]) -> None:
    tokens = {f"triplane:index:{c.__name__}" for c in COMPONENTS}
    assert set(schema["resources"]) == tokens == {f"triplane:index:{name}" for name in EXPECTED}
    for token, resource in schema["resources"].items():
        assert resource["isComponent"] is True, token
        assert len(resource["description"]) > 40, token


@pytest.mark.parametrize("component", sorted(EXPECTED))
def test_inputs_have_their_types_descriptions_and_requiredness(schema: dict[str, Any], component: str) -> None:
    resource = schema["resources"][f"triplane:index:{component}"]
    inputs, _ = EXPECTED[component]
    properties = resource["inputProperties"]
    assert set(properties) == set(inputs)
    assert set(resource["requiredInputs"]) == {name for name, (_, required) in inputs.items() if required}
    for name, (type_, _) in inputs.items():
        assert _type(properties[name]) == type_, name
        assert len(properties[name].get("description", "")) > 10, f"{component}.{name} has no description"
        assert "\n" not in properties[name]["description"], f"{component}.{name}: one-line descriptions"
        if name in PLAIN:
            assert properties[name].get("plain") is True, f"{component}.{name} must be plain"
        if name in NOT_PLAIN:
            assert "plain" not in properties[name], f"{component}.{name} must accept outputs"


@pytest.mark.parametrize("component", sorted(EXPECTED))
def test_outputs_have_their_types_and_descriptions(schema: dict[str, Any], component: str) -> None:
    resource = schema["resources"][f"triplane:index:{component}"]
    _, outputs = EXPECTED[component]
    assert set(resource["properties"]) == set(outputs)
    assert set(resource.get("required", [])) == {name for name, (_, always) in outputs.items() if always}
    for name, (type_, _) in outputs.items():
        assert _type(resource["properties"][name]) == type_, name
        assert len(resource["properties"][name].get("description", "")) > 10, f"{component}.{name}"


def test_the_deployment_type_documents_its_fields(schema: dict[str, Any]) -> None:
    deployment = schema["types"]["triplane:index:AzureOpenAIModelDeploymentArgs"]
    assert deployment["type"] == "object"
    assert set(deployment["required"]) == {"name", "model"}
    assert {k: _type(v) for k, v in deployment["properties"].items()} == {
        "name": STR, "model": STR, "version": STR, "sku": STR, "capacity": INT,
    }  # fmt: skip
    assert all(len(p["description"]) > 10 for p in deployment["properties"].values())


def test_every_args_field_reaches_the_schema() -> None:
    """A field added to an args class without a docstring, or under a name the table lacks, fails here."""
    for component in COMPONENTS:
        args_type = typing.get_type_hints(component.__init__)["args"]
        camel = {re.sub(r"_(\w)", lambda m: m.group(1).upper(), field) for field in args_type.__annotations__}
        assert camel == set(EXPECTED[component.__name__][0]), component.__name__


def test_the_installed_entry_point_serves_the_same_schema(schema: dict[str, Any]) -> None:
    """`python -m triplane.package`: the provider of an installed Triplane, where no checkout exists."""
    assert _served_schema([sys.executable, "-m", "triplane.package", ENGINE], REPO) == schema


def test_the_plugin_folder_is_a_python_component_package() -> None:
    manifest = yaml.safe_load((PLUGIN / "PulumiPlugin.yaml").read_text())
    assert manifest == {"runtime": "python"}  # pip with a `venv` virtualenv in this folder: the defaults
    assert (PLUGIN / "__main__.py").is_file()
    requirements = [
        line.strip() for line in (PLUGIN / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]  # fmt: skip
    assert requirements == [".."]
    assert (PLUGIN / ".." / "pyproject.toml").resolve() == REPO / "pyproject.toml"


# --- the YAML example -----------------------------------------------------------------------------

REFERENCE = re.compile(r"\$\{([^}]+)\}")


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from REFERENCE.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def test_the_yaml_example_uses_two_components_as_the_schema_defines_them(schema: dict[str, Any]) -> None:
    program = yaml.safe_load(EXAMPLE.read_text())
    assert program["runtime"] == "yaml"
    assert (EXAMPLE.parent / program["packages"]["triplane"]).resolve() == PLUGIN
    resources = program["resources"]
    used = {r["type"] for r in resources.values()}
    assert len(used) >= 2 and all(t in schema["resources"] for t in used), used
    config = set(program["config"])
    for name, resource in resources.items():
        declared = schema["resources"][resource["type"]]
        properties = resource["properties"]
        assert set(properties) <= set(declared["inputProperties"]), f"{name}: unknown inputs"
        assert set(declared["requiredInputs"]) <= set(properties), f"{name}: required inputs missing"
        for prop, value in properties.items():
            if declared["inputProperties"][prop].get("plain") and isinstance(value, str):
                assert not REFERENCE.search(value) or value.strip("${}") in config, f"{name}.{prop} must be plain"
    for reference in _references({**resources, "outputs": program["outputs"]}):
        head, _, attribute = reference.partition(".")
        if head in config:
            assert not attribute, reference
            continue
        assert head in resources, f"{reference}: no such resource or config"
        assert attribute in schema["resources"][resources[head]["type"]]["properties"], f"{reference}: no output"
    assert program["config"]["openaiApiKey"]["secret"] is True


def test_the_yaml_example_plans_under_the_mock_runtime() -> None:
    """The example's inputs, as the provider hands them over (Python names), pass every check and plan."""
    program = yaml.safe_load(EXAMPLE.read_text())
    values = {"vpcId": "vpc-0123456789abcdef0", "subnetA": "subnet-0aaaaaaaaaaaaaaaa",
              "subnetB": "subnet-0bbbbbbbbbbbbbbbb", "openaiApiKey": "sk-planted"}  # fmt: skip
    classes = {f"triplane:index:{c.__name__}": c for c in COMPONENTS}

    def resolve(value: Any) -> Any:
        if isinstance(value, str):
            return REFERENCE.sub(lambda m: values[m.group(1)], value)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    def run() -> None:
        for name, resource in program["resources"].items():
            args = {re.sub(r"([A-Z])", r"_\1", k).lower(): resolve(v) for k, v in resource["properties"].items()}
            if "api_key" in args:
                args["api_key"] = pulumi.Output.secret(args["api_key"])
            classes[resource["type"]](name, args)

    plan = run_program(run, stack="example")
    assert plan.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs["subnetIds"] == [values["subnetA"], values["subnetB"]]
    assert plan.one("aws:bedrock/guardrail:Guardrail")
    assert is_secret(plan.one("aws:secretsmanager/secretVersion:SecretVersion").inputs["secretString"])


# --- the components under the mock runtime --------------------------------------------------------

BEDROCK_INPUTS: dict[str, Any] = {
    "region": "eu-west-1",
    "vpc_id": "vpc-0123456789abcdef0",
    "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    "application_cidrs": ["10.20.0.0/16"],
    "models": ["anthropic.claude-3-haiku-20240307-v1:0"],
    "allowed_principals": [ROLE],
    "tags": TAGS,
}
AZURE_INPUTS: dict[str, Any] = {
    "location": "swedencentral",
    "resource_group_name": "rg-ml",
    "vnet_id": VNET,
    "endpoint_subnet_id": f"{VNET}/subnets/endpoints",
    "deployments": [{"name": "gpt-4o", "model": "gpt-4o", "version": "2024-11-20", "capacity": 20}],
    "allowed_principals": [OBJECT_ID],
    "tags": TAGS,
}
NETWORK = "projects/acme-ml-dev/global/networks/ml"
MEMBER = "serviceAccount:app@acme-ml-dev.iam.gserviceaccount.com"
VERTEX_INPUTS: dict[str, Any] = {
    "project": "acme-ml-dev",
    "region": "europe-west4",
    "network_id": NETWORK,
    "psc_address": "10.255.0.2",
    "models": ["gemini-2.5-flash"],
    "allowed_principals": [MEMBER],
    "tags": TAGS,
}
KEY_INPUTS: dict[str, Any] = {
    "region": "eu-west-1",
    "api_key": "sk-planted-value",
    "allowed_principals": [ROLE],
    "tags": TAGS,
}
SERVER_INPUTS: dict[str, Any] = {
    "model_id": "mistralai/Mistral-7B-Instruct-v0.3",
    "gpus": 1,
    "namespace": "llm",
    "client_namespaces": ["web"],
    "hf_token": "hf_plantedToken",
    "tags": TAGS,
}


def _tags(pattern: str) -> dict[str, str]:
    return standard_tags(environment="dev", owner="ml-platform", cost_center="cc-4711", use_case="chat",
                         data_classification="internal", pattern=pattern)  # fmt: skip


def _internal_bedrock() -> None:
    endpoint = BedrockEndpoint(
        "c",
        BedrockEndpointArgs(
            network=AwsNetworkRef(region="eu-west-1", vpc_id=BEDROCK_INPUTS["vpc_id"],
                                  app_subnet_ids=BEDROCK_INPUTS["subnet_ids"], application_cidrs=["10.20.0.0/16"]),
            models=BEDROCK_INPUTS["models"], allowed_principals=[ROLE], tags=_tags("cloud-managed"),
        ),
    )  # fmt: skip
    endpoint.grant_invoke(ROLE)


def _internal_azure() -> None:
    account = AzureOpenAIEndpoint(
        "c",
        AzureOpenAIEndpointArgs(
            network=AzureNetworkRef(location="swedencentral", resource_group_name="rg-ml", vnet_id=VNET,
                                    vnet_name="vnet-ml", app_subnet_id=AZURE_INPUTS["endpoint_subnet_id"],
                                    endpoint_subnet_id=AZURE_INPUTS["endpoint_subnet_id"], application_cidrs=()),
            deployments=[AzureOpenAIDeployment("gpt-4o", "gpt-4o", "2024-11-20", capacity=20)],
            allowed_principals=[OBJECT_ID], tags=_tags("cloud-managed"), content_filter=AzureContentFilterArgs(),
        ),
    )  # fmt: skip
    account.grant_invoke(OBJECT_ID)


def _internal_vertex() -> None:
    endpoint = VertexEndpoint(
        "c",
        VertexEndpointArgs(
            network=GcpNetworkRef(project="acme-ml-dev", region="europe-west4", network_id=NETWORK,
                                  subnetwork_id=NETWORK, application_cidrs=()),
            models=["gemini-2.5-flash"], allowed_principals=[MEMBER], tags=_tags("cloud-managed"),
            psc_address="10.255.0.2",
        ),
    )  # fmt: skip
    endpoint.grant_invoke(MEMBER)


def _internal_key_store() -> None:
    secret_store.AwsApiKeyStore(
        "c",
        secret_store.AwsApiKeyStoreArgs(region="eu-west-1", api_key=pulumi.Output.secret("sk-planted-value"),
                                        allowed_principals=[ROLE], tags=_tags("saas")),
    )  # fmt: skip


def _internal_server() -> None:
    ModelServer(
        "c",
        ModelServerArgs(model_id=SERVER_INPUTS["model_id"], gpus=1, namespace="llm",
                        access=ClientAccess(namespaces=["web"]), image=TGI.upstream,
                        hf_token=pulumi.Output.secret("hf_plantedToken"), tags=k8s_labels(_tags("self-managed"))),
    )  # fmt: skip


CASES: dict[str, tuple[type[pulumi.ComponentResource], dict[str, Any], Callable[[], None]]] = {
    "bedrock": (BedrockPrivateEndpoint, BEDROCK_INPUTS, _internal_bedrock),
    "azure-openai": (AzureOpenAIPrivateAccount, AZURE_INPUTS, _internal_azure),
    "vertex": (VertexPrivateEndpoint, VERTEX_INPUTS, _internal_vertex),
    "api-key-store": (AwsApiKeyStore, KEY_INPUTS, _internal_key_store),
    "model-server": (KubernetesModelServer, SERVER_INPUTS, _internal_server),
}


def _package_plan(component: type[pulumi.ComponentResource], inputs: dict[str, Any]) -> Plan:
    return run_program(lambda: component("c", inputs), stack="test")


def _cloud_resources(plan: Plan) -> list[tuple[Any, ...]]:
    """Each cloud resource with its inputs and options (URNs differ: the package adds a parent)."""
    return sorted(
        (r.type, r.name, json.dumps(redact(r.inputs), sort_keys=True), r.protect, r.retain_on_delete,
         r.ignore_changes, r.additional_secret_outputs)
        for r in plan.resources
        if r.custom and not r.type.startswith("pulumi:")
    )  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_package_component_builds_exactly_the_triplane_component(case: str) -> None:
    component, inputs, internal = CASES[case]
    built = _cloud_resources(_package_plan(component, inputs))
    assert len(built) >= 5
    assert built == _cloud_resources(run_program(internal, stack="test"))


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {case: _package_plan(component, inputs) for case, (component, inputs, _) in CASES.items()}


def test_bedrock_endpoint_is_private_and_scoped(plans: dict[str, Plan]) -> None:
    plan = plans["bedrock"]
    endpoint = plan.one("aws:ec2/vpcEndpoint:VpcEndpoint", "-bedrock-runtime").inputs
    assert endpoint["privateDnsEnabled"] is True
    assert endpoint["vpcEndpointType"] == "Interface"
    assert endpoint["serviceName"] == "com.amazonaws.eu-west-1.bedrock-runtime"
    rules = plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [(r.inputs["cidrIpv4"], r.inputs["fromPort"]) for r in rules] == [("10.20.0.0/16", 443)]
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert attachment["role"] == "chat-app"
    assert plan.one("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration")
    assert plan.one("aws:ec2/securityGroup:SecurityGroup").inputs["tags"]["pattern"] == "cloud-managed"


def test_azure_openai_account_is_private_with_entra_id_only(plans: dict[str, Plan]) -> None:
    plan = plans["azure-openai"]
    account = plan.one("azure-native:cognitiveservices:Account").inputs
    assert account["properties"]["publicNetworkAccess"] == "Disabled"
    assert account["properties"]["disableLocalAuth"] is True
    assert account["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert "encryption" in account["properties"]
    deployment = plan.one("azure-native:cognitiveservices:Deployment").inputs
    assert deployment["properties"]["versionUpgradeOption"] == "NoAutoUpgrade"
    assert deployment["sku"] == {"name": "Standard", "capacity": 20}
    assert plan.one("azure-native:network:PrivateEndpoint").inputs["subnet"]["id"].endswith("/subnets/endpoints")
    assert plan.one("azure-native:privatedns:VirtualNetworkLink").inputs["virtualNetwork"]["id"] == VNET
    grants = [r.inputs["principalId"] for r in plan.by_type("azure-native:authorization:RoleAssignment")]
    assert OBJECT_ID in grants


def test_vertex_endpoint_is_private_and_least_privilege(plans: dict[str, Plan]) -> None:
    plan = plans["vertex"]
    address = plan.one("gcp:compute/globalAddress:GlobalAddress").inputs
    assert (address["purpose"], address["addressType"], address["address"]) == (
        "PRIVATE_SERVICE_CONNECT", "INTERNAL", "10.255.0.2",
    )  # fmt: skip
    assert address["network"] == NETWORK
    rule = plan.one("gcp:compute/globalForwardingRule:GlobalForwardingRule").inputs
    assert rule["target"] == "all-apis" and rule["loadBalancingScheme"] == ""
    roles = {r.inputs["role"] for r in plan.by_type("gcp:projects/iAMMember:IAMMember")}
    assert "roles/aiplatform.user" in roles and not {"roles/owner", "roles/editor"} & roles
    grant = plan.one("gcp:serviceaccount/iAMMember:IAMMember").inputs
    assert (grant["member"], grant["role"]) == (MEMBER, "roles/iam.serviceAccountTokenCreator")
    assert plan.one("gcp:kms/cryptoKey:CryptoKey").inputs["rotationPeriod"]


def test_api_key_store_keeps_the_key_secret_even_when_passed_plain(plans: dict[str, Plan]) -> None:
    plan = plans["api-key-store"]
    version = plan.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert is_secret(version.inputs["secretString"])
    assert "sk-planted-value" not in json.dumps(redact(version.inputs))
    assert plan.one("aws:kms/key:Key").inputs["enableKeyRotation"] is True
    trust = json.loads(plan.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"AWS": [ROLE]}
    assert plan.one("aws:secretsmanager/secret:Secret").inputs["tags"]["pattern"] == "saas"


def test_model_server_is_internal_pinned_and_fenced(plans: dict[str, Plan]) -> None:
    plan = plans["model-server"]
    assert plan.one("kubernetes:core/v1:Service").inputs["spec"]["type"] == "ClusterIP"
    container = plan.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == TGI.upstream and not container["image"].endswith(":latest")
    deny = plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "-default-deny").inputs["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    token = plan.one("kubernetes:core/v1:Secret").inputs
    assert is_secret(token["stringData"])
    assert "hf_plantedToken" not in json.dumps(redact(token))
    labels = plan.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["triplane.io/pattern"] == "self-managed"
    assert labels["pod-security.kubernetes.io/enforce"] in {"baseline", "restricted"}


# --- bad input ------------------------------------------------------------------------------------


def _failure(component: type[pulumi.ComponentResource], inputs: dict[str, Any]) -> str:
    with pytest.raises(Exception) as raised:  # the SDK wraps the component's error
        _package_plan(component, inputs)
    return str(raised.value)


@pytest.mark.parametrize(
    ("component", "inputs", "message"),
    [
        (BedrockPrivateEndpoint, {**BEDROCK_INPUTS, "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"]},
         "input 'subnetIds': list at least 2"),
        (BedrockPrivateEndpoint, {**BEDROCK_INPUTS, "application_cidrs": ["0.0.0.0/0"]},
         "input 'applicationCidrs': 0.0.0.0/0 is not a private network"),
        (BedrockPrivateEndpoint, {**BEDROCK_INPUTS, "region": "Ireland"}, "input 'region': 'Ireland' is not valid"),
        (BedrockPrivateEndpoint, {**BEDROCK_INPUTS, "allowed_principals": ["chat-app"]},
         "input 'allowedPrincipals': 'chat-app' is not valid; expected arn:aws:iam::<account>:role/<name>"),
        (BedrockPrivateEndpoint, {**BEDROCK_INPUTS, "tags": {**TAGS, "data-classification": "restricted"}},
         "restricted data may not use the cloud-managed pattern"),
        (BedrockPrivateEndpoint, {**BEDROCK_INPUTS, "tags": {"owner": "ml-platform"}},
         "input 'tags': add cost-center, environment, use-case, data-classification"),
        (BedrockPrivateEndpoint, {**BEDROCK_INPUTS, "region": pulumi.Output.from_input("eu-west-1")},
         "input 'region': must be a value known before deployment"),
        (BedrockPrivateEndpoint, {**BEDROCK_INPUTS, "models": [pulumi.Output.from_input("amazon.nova-lite-v1:0")]},
         "input 'models': must be a value known before deployment"),
        (AzureOpenAIPrivateAccount, {**AZURE_INPUTS, "deployments": [{"name": "gpt-4o", "model": "gpt-4o"}]},
         "input 'deployments[0].version': pin the model version"),
        (AzureOpenAIPrivateAccount, {**AZURE_INPUTS, "content_filter_severity": "Off"},
         "input 'contentFilterSeverity': 'Off' is not one of Low, Medium, High"),
        (VertexPrivateEndpoint, {**VERTEX_INPUTS, "psc_address": "8.8.8.8"},
         "input 'pscAddress': '8.8.8.8' is not a private IPv4 address"),
        (VertexPrivateEndpoint, {**VERTEX_INPUTS, "allowed_principals": ["app@acme.com"]},
         "input 'allowedPrincipals': 'app@acme.com' is not valid; expected an IAM member"),
        (VertexPrivateEndpoint, {**VERTEX_INPUTS, "psc_target": "private"},
         "input 'pscTarget': 'private' is not one of all-apis, vpc-sc"),
        (AwsApiKeyStore, {**KEY_INPUTS, "allowed_principals": []}, "input 'allowedPrincipals': list at least 1"),
        (AwsApiKeyStore, {**KEY_INPUTS, "tags": {**TAGS, "data-classification": "confidential"}},
         "confidential data may not use the saas pattern"),
        (KubernetesModelServer, {**SERVER_INPUTS, "image": "vllm/vllm-openai:latest"},
         "input 'image': 'vllm/vllm-openai:latest' is not valid; expected a reference with a version tag"),
        (KubernetesModelServer, {**SERVER_INPUTS, "client_namespaces": []},
         "input 'clientNamespaces': name the client namespaces or pod labels"),
        (KubernetesModelServer, {**SERVER_INPUTS, "gpus": 0}, "input 'gpus': 0 is below the minimum 1"),
    ],
)  # fmt: skip
def test_bad_input_names_the_component_the_input_and_the_fix(
    component: type[pulumi.ComponentResource], inputs: dict[str, Any], message: str
) -> None:
    text = _failure(component, inputs)
    assert f"triplane:index:{component.__name__} 'c'" in text
    assert message in text
