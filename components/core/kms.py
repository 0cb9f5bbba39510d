"""KMS key policies: every key the platform creates carries an explicit one built here.

In a key policy ``Resource: "*"`` means "this key" (the policy is attached to the key).

* :func:`logs_key_policy`: keys that encrypt CloudWatch log groups (and whatever the account's
  IAM policies grant).
* :func:`service_key_policy`: keys that AWS services use on the account's behalf (S3, ECR,
  RDS): the account root administers the key but cannot use it directly; principals of the
  account use it only through the named services (``kms:ViaService``, ``kms:CallerAccount``),
  so an IAM policy granting ``kms:Decrypt`` on the key is not enough to decrypt data outside
  the service that stored it.

Arguments are plain strings: build the policy inside an ``Output.apply``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

POLICY_VERSION = "2012-10-17"


LOGS_KEY_ACTIONS: tuple[str, ...] = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
"""What CloudWatch Logs calls on a log group's key, spelled out (no wildcards)."""

KEY_ADMIN_ACTIONS = [
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
]
"""What the account root may do with a key: administer it (explicit actions, no ``kms:*``):
manage, rotate, tag, alias and schedule deletion, never use it for data."""

KEY_USE_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]
"""Cryptographic use of a key by a service on a caller's behalf."""

KEY_GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant", "kms:RetireGrant"]
"""Grants services such as RDS and ECR create to keep using a key for a resource."""


def key_admin_statement(root: Any) -> dict[str, Any]:
    """The account (``root``: its root ARN, a string or an Output) administers the key."""
    return {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": list(KEY_ADMIN_ACTIONS),
        "Resource": "*",
    }


def service_key_policy(
    *,
    partition: str,
    account: str,
    region: str,
    services: Sequence[str],
    log_group_arns: Sequence[str] = (),
    dns_suffix: str = "amazonaws.com",
) -> dict[str, Any]:
    """The account administers the key; its principals use it only through ``services``.

    ``services`` are service prefixes (``s3``, ``ecr``, ``rds``); each becomes
    ``<service>.<region>.<dns_suffix>`` in ``kms:ViaService``. ``log_group_arns``: log groups
    CloudWatch Logs may encrypt with the key (none: no CloudWatch Logs statement).
    """
    root = f"arn:{partition}:iam::{account}:root"
    via = [f"{service}.{region}.{dns_suffix}" for service in services]
    scoped = {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": via}}
    statements: list[dict[str, Any]] = [
        key_admin_statement(root),
        {
            "Sid": "AccountUsesKeyThroughServices",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(KEY_USE_ACTIONS),
            "Resource": "*",
            "Condition": scoped,
        },
        {
            "Sid": "ServicesKeepGrants",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(KEY_GRANT_ACTIONS),
            "Resource": "*",
            "Condition": {**scoped, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]
    if log_group_arns:
        statements.append(
            logs_key_use_statement(
                "CloudWatchLogsEncryptsLogGroups", region, list(log_group_arns), dns_suffix
            )
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def logs_key_use_statement(
    sid: str,
    region: pulumi.Input[str],
    log_group_arns: pulumi.Input[str] | Sequence[pulumi.Input[str]],
    dns_suffix: str = "amazonaws.com",
) -> dict[str, Any]:
    """A key-policy statement: CloudWatch Logs of ``region`` uses the key for these log groups
    only (the encryption context pins their ARNs). ``Resource: "*"`` in a key policy means
    this key."""
    service: pulumi.Input[str] = (
        f"logs.{region}.{dns_suffix}"
        if isinstance(region, str)
        else pulumi.Output.concat("logs.", region, f".{dns_suffix}")
    )
    arns = list(log_group_arns) if isinstance(log_group_arns, list | tuple) else log_group_arns
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": list(LOGS_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arns}},
    }


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
            logs_key_use_statement(sid, region, arns, dns_suffix),
        ],
    }
