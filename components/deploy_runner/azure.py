"""AzureDeployRunner: a GitHub Actions runner on a private VM, the way in to a private AKS API.

One Linux VM (Ubuntu 24.04 LTS, Trusted Launch) in the app subnet of the environment VNet, whose
private DNS resolves the AKS private endpoint, with:

- no public IP and a network security group on its NIC that denies every inbound flow, VNet
  included; administrators use Run Command through Azure Resource Manager, never SSH;
- a user-assigned identity whose only role is Key Vault Secrets User on the one secret holding the
  GitHub token (an `AzureApiKeyStore`: a vault with public access disabled, reached through its
  private endpoint). Deploys run as the workflow's own federated identity, never as the VM;
- password login disabled: Azure wants an SSH key on a Linux VM, so the spec's public key is set,
  and nothing lets SSH in.

The image version is the latest when the VM is created; later releases do not replace it
(`ignore_changes`), because a deploy running on the runner must never replace the machine it runs on.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import compute as azure_compute
from pulumi_azure_native import network as azure_network

from triplane.components.deploy_runner.github import RunnerRegistration, install_script
from triplane.components.naming import physical_name
from triplane.components.network.azure import deny_inbound
from triplane.components.network.refs import AzureNetworkRef
from triplane.components.saas.secret_store import AzureApiKeyStore, AzureApiKeyStoreArgs
from triplane.components.tagging import tagged
from triplane.policies.runner_hosts import AZURE_RUNNER_COMPONENT

UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
"""Ubuntu 24.04 LTS, the image Canonical publishes for Gen2 (Trusted Launch) VMs."""

UBUNTU_PACKAGES = (
    "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
    "libkrb5-3 zlib1g libicu74 git"
)
"""The runner's native dependencies and git, by their Ubuntu 24.04 names."""

UBUNTU_HOSTS: tuple[str, ...] = ("azure.archive.ubuntu.com",)
"""Where Ubuntu on Azure gets its packages and security updates."""

DEFAULT_VM_SIZE = "Standard_D2s_v5"
"""Two vCPUs and 8 GiB: `pulumi up` with the cloud providers wants the memory."""

ADMIN_USER = "triplane"
IMDS_TOKEN = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
KEY_VAULT_API = "7.4"


@dataclass(frozen=True)
class AzureDeployRunnerArgs:
    network: AzureNetworkRef
    registration: RunnerRegistration
    github_token: pulumi.Input[str]
    """The GitHub token that may create runner registration tokens: a secret Output."""
    ssh_public_key: str
    vault_name: str
    private_dns_zone_id: pulumi.Input[str]
    """The VNet's `privatelink.vaultcore.azure.net` zone (`AzureVaultDnsZone`)."""
    log_workspace_id: pulumi.Input[str]
    vm_size: str = DEFAULT_VM_SIZE
    tags: Mapping[str, str] = field(default_factory=dict)
    protect_data: bool = False


class AzureDeployRunner(pulumi.ComponentResource):
    """A runner inside the VNet, with no inbound path and an identity limited to its own token."""

    vm_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(self, name: str, args: AzureDeployRunnerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(AZURE_RUNNER_COMPONENT, name, None, tagged(opts, args.tags))
        child = pulumi.ResourceOptions(parent=self)
        network = args.network
        store = AzureApiKeyStore(
            f"{name}-token",
            AzureApiKeyStoreArgs(
                network=network,
                api_key=args.github_token,
                vault_name=args.vault_name,
                private_dns_zone_id=args.private_dns_zone_id,
                log_workspace_id=args.log_workspace_id,
                tags=args.tags,
                protect_data=args.protect_data,
            ),
            opts=child,
        )
        group = azure_network.NetworkSecurityGroup(
            f"{name}-nsg",
            resource_group_name=network.resource_group_name,
            location=network.location,
            network_security_group_name=physical_name(name, "runner-nsg"),
            security_rules=[
                deny_inbound(
                    "deny-all-inbound", "*", "The runner only connects out; nothing, in the VNet or beyond, connects in"
                )
            ],
            opts=child,
        )
        nic = azure_network.NetworkInterface(
            f"{name}-nic",
            resource_group_name=network.resource_group_name,
            location=network.location,
            network_interface_name=physical_name(name, "runner-nic"),
            network_security_group=azure_network.NetworkSecurityGroupArgs(id=group.id),
            ip_configurations=[
                azure_network.NetworkInterfaceIPConfigurationArgs(
                    name="private",
                    subnet=azure_network.SubnetArgs(id=network.app_subnet_id),
                    private_ip_allocation_method="Dynamic",
                    primary=True,
                )
            ],
            opts=child,
        )
        script = pulumi.Output.all(store.client_id, store.secret_uri).apply(
            lambda v: install_script(args.registration, token_header(v[0], v[1]), UBUNTU_PACKAGES)
        )
        vm = azure_compute.VirtualMachine(
            f"{name}-vm",
            resource_group_name=network.resource_group_name,
            location=network.location,
            vm_name=physical_name(name, "runner"),
            hardware_profile=azure_compute.HardwareProfileArgs(vm_size=args.vm_size),
            identity=azure_compute.VirtualMachineIdentityArgs(
                type=azure_compute.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[store.identity_id],
            ),
            network_profile=azure_compute.NetworkProfileArgs(
                network_interfaces=[
                    azure_compute.NetworkInterfaceReferenceArgs(id=nic.id, primary=True, delete_option="Detach")
                ]
            ),
            os_profile=azure_compute.OSProfileArgs(
                computer_name=physical_name(name, "runner")[:64],
                admin_username=ADMIN_USER,
                custom_data=script.apply(lambda text: base64.b64encode(text.encode()).decode()),
                linux_configuration=azure_compute.LinuxConfigurationArgs(
                    disable_password_authentication=True,
                    provision_vm_agent=True,
                    ssh=azure_compute.SshConfigurationArgs(
                        public_keys=[
                            azure_compute.SshPublicKeyArgs(
                                path=f"/home/{ADMIN_USER}/.ssh/authorized_keys", key_data=args.ssh_public_key
                            )
                        ]
                    ),
                ),
            ),
            security_profile=azure_compute.SecurityProfileArgs(
                security_type="TrustedLaunch",
                uefi_settings=azure_compute.UefiSettingsArgs(secure_boot_enabled=True, v_tpm_enabled=True),
            ),
            storage_profile=azure_compute.StorageProfileArgs(
                image_reference=azure_compute.ImageReferenceArgs(**UBUNTU),
                os_disk=azure_compute.OSDiskArgs(
                    create_option="FromImage",
                    delete_option="Delete",
                    disk_size_gb=64,
                    managed_disk=azure_compute.ManagedDiskParametersArgs(storage_account_type="Premium_LRS"),
                ),
            ),
            diagnostics_profile=azure_compute.DiagnosticsProfileArgs(
                boot_diagnostics=azure_compute.BootDiagnosticsArgs(enabled=True)
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["storageProfile.imageReference"]),
        )
        self.vm_id = vm.id
        self.principal_id = store.principal_id
        self.register_outputs({"vmId": vm.id})


def token_header(client_id: str, secret_uri: str) -> str:
    """Shell lines printing the GitHub token as an Authorization header: a Key Vault token from the
    instance metadata service for the VM's identity, then the secret through the vault's private
    endpoint; neither token is ever an argument of a command."""
    resource = "https%3A%2F%2Fvault.azure.net"
    return "\n".join(
        [
            f'vault=$(curl -fsS --retry 5 -H Metadata:true "{IMDS_TOKEN}&resource={resource}&client_id={client_id}" \\',
            "  | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')",
            'printf "Authorization: Bearer %s\\n" "$vault" \\',
            f'  | curl -fsS --retry 5 -H @- "{secret_uri}?api-version={KEY_VAULT_API}" \\',
            "  | python3 -c 'import json, sys; print(\"Authorization: Bearer \" + json.load(sys.stdin)[\"value\"])'",
        ]
    )


__all__ = ["DEFAULT_VM_SIZE", "UBUNTU", "UBUNTU_HOSTS", "AzureDeployRunner", "AzureDeployRunnerArgs", "token_header"]
