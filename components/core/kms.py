"""KMS key policies shared by components that encrypt CloudWatch log groups.

In a key policy ``Resource: "*"`` means "this key" (the policy is attached to the key).
"""

from __future__ import annotations

from typing import Any

POLICY_VERSION = "2012-10-17"

LOGS_KEY_ACTIONS = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
]
"""What CloudWatch Logs needs to encrypt and read a log group with a customer-managed key."""


KEY_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
    "kms:ListKeyRotations",
    "kms:RotateKeyOnDemand",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
    "kms:ListGrants",
    "kms:CreateGrant",
    "kms:RevokeGrant",
    "kms:RetireGrant",
)
"""What the account root may do with a key: administer it (explicit actions, no ``kms:*``),
never use it for data."""

LOGS_KEY_USE_ACTIONS: tuple[str, ...] = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
"""What CloudWatch Logs calls on a log group's key, spelled out (no wildcards)."""


def logs_key_policy(
    *,
    partition: str,
    account: str,
    region: str,
    log_groups: str | list[str],
    sid: str,
    dns_suffix: str = "amazonaws.com",
) -> dict[str, Any]:
    """The account administers the key; CloudWatch Logs may use it for ``log_groups`` only.

    ``log_groups`` are log group names: one name gives a single ARN in the condition, a
    list gives a list.
    """

    def arn(group: str) -> str:
        return f"arn:{partition}:logs:{region}:{account}:log-group:{group}"

    arns: str | list[str] = (
        arn(log_groups) if isinstance(log_groups, str) else [arn(g) for g in log_groups]
    )
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                # The account keeps control of its key; without this statement the key can
                # become unmanageable.
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.{dns_suffix}"},
                "Action": list(LOGS_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arns}},
            },
        ],
    }
