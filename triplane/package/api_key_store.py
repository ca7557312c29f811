"""`AwsApiKeyStore`: where one use case keeps a SaaS AI provider's API key on AWS.

Builds Triplane's internal `AwsApiKeyStore` (SaaS pattern) from plain inputs: a customer-managed KMS
key with rotation, a Secrets Manager secret encrypted with it, the key's value as a secret version,
the workload IAM role only the allowed principals may assume, and a resource policy that lets only
that role read the secret. The key value is a secret end to end, even when the caller passes it plain.
"""

from typing import NotRequired, TypedDict

import pulumi

from triplane.components.saas import secret_store
from triplane.package.inputs import AWS_REGION, Inputs

AWS_PRINCIPAL = r"arn:aws[\w-]*:iam::\d{12}:(root|(role|user)/(?:[\w+=,.@-]+/)*[\w+=,.@-]+)"


class AwsApiKeyStoreArgs(TypedDict):
    """The key, where it is kept and who may read it."""

    region: str
    """AWS region of the secret and its KMS key, e.g. `eu-west-1`."""
    api_key: pulumi.Input[str]
    """The provider's API key; pass it as a secret (it is stored as one either way)."""
    allowed_principals: list[str]
    """IAM role or user ARNs allowed to assume the workload role that reads the key."""
    external_rotation: NotRequired[bool]
    """The key is rotated outside Pulumi: later runs leave the stored value alone."""
    kms_key: NotRequired[pulumi.Input[str]]
    (
        "ARN of an existing KMS key (its policy must let the workload role decrypt through Secrets Manager); "
        "a rotating customer-managed key is created when omitted."
    )
    description: NotRequired[str]
    """Description of the secret."""
    protect_data: NotRequired[bool]
    """Protect the secret and the key from deletion (for production)."""
    tags: dict[str, str]
    (
        "Tags for every resource: `owner`, `cost-center`, `environment`, `use-case` and `data-classification` "
        "(public or internal for the SaaS pattern); `pattern` and `managed-by` are added."
    )


class AwsApiKeyStore(pulumi.ComponentResource):
    (
        "A SaaS AI provider's API key in Secrets Manager under a customer-managed key, readable only by one "
        "workload role that only the allowed principals may assume."
    )

    secret_arn: pulumi.Output[str]
    """ARN of the Secrets Manager secret holding the key (a reference, never the key)."""
    role_arn: pulumi.Output[str]
    """ARN of the workload role that may read the secret."""
    kms_key_arn: pulumi.Output[str]
    """ARN of the KMS key encrypting the secret."""

    def __init__(self, name: str, args: AwsApiKeyStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("triplane:index:AwsApiKeyStore", name, None, opts)
        given = Inputs("AwsApiKeyStore", name, args)
        if args.get("api_key") is None:
            raise given.error("apiKey", "give the provider's API key (as a secret)")
        store = secret_store.AwsApiKeyStore(
            name,
            secret_store.AwsApiKeyStoreArgs(
                region=given.text("region", "region", pattern=AWS_REGION, hint="an AWS region such as eu-west-1"),
                api_key=pulumi.Output.secret(args["api_key"]),
                allowed_principals=given.strings(
                    "allowed_principals", "allowedPrincipals", minimum=1, pattern=AWS_PRINCIPAL,
                    hint="arn:aws:iam::<account>:role/<name>",
                ),
                external_rotation=given.flag("external_rotation", "externalRotation", False),
                kms_key=args.get("kms_key"),
                tags=given.tags("saas"),
                protect_data=given.flag("protect_data", "protectData", False),
                description=given.optional_text("description", "description") or "",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_arn = store.secret_arn
        self.role_arn = store.role_arn
        self.kms_key_arn = store.kms_key_arn
        self.register_outputs(
            {"secret_arn": self.secret_arn, "role_arn": self.role_arn, "kms_key_arn": self.kms_key_arn}
        )
