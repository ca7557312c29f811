"""The key policy of a customer-managed KMS key that encrypts CloudWatch Logs log groups."""

from __future__ import annotations

import json
from collections.abc import Sequence


def log_key_policy(
    account: str, region: str, log_group_names: Sequence[str], *, logs_sid: str, partition: str = "aws"
) -> str:
    """Account administrators manage the key; CloudWatch Logs may use it for the named log groups only."""
    arns = [f"arn:{partition}:logs:{region}:{account}:log-group:{name}" for name in log_group_names]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministration",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": logs_sid,
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    # Only the data-key calls carry an encryption context, so only they can be tied to
                    # these log groups; the context key is a string, compared as one.
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:EncryptionContext:aws:logs:arn": arns[0] if len(arns) == 1 else arns}
                    },
                },
            ],
        }
    )
