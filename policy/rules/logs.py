"""CloudWatch Logs: retention per environment and KMS encryption."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from rules.rule import Rule, customer_managed_key, fmt

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def _retention(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    days = args.props["retentionInDays"].number()
    least = float(cfg.get("minRetentionDays", 7))
    if days is None or days == 0:
        yield "retentionInDays is not set: logs are kept (and billed) forever"
    elif days < least:
        yield f"retentionInDays is {fmt(days)}; this environment needs at least {fmt(least)}"


def _kms(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    key = args.props["kmsKeyId"].text()
    if not key:
        yield "the log group is not encrypted with a KMS key"
    elif not customer_managed_key(key):
        yield f"kmsKeyId {key} is an AWS managed key, not a customer managed key"


RULES: list[Rule] = [
    Rule(
        id="LOG-001",
        name="logs-retention",
        severity=Severity.MEDIUM,
        description="CloudWatch log groups keep logs at least the environment's minimum "
        "(dev 7, test 30, prod 365 days), never forever by omission.",
        remediation='aws.cloudwatch.LogGroup(f"{name}-logs", retention_in_days=365, ...)',
        controls=("CKV_AWS_66", "CKV_AWS_338"),
        catalog=(48,),
        resource_check=_retention,
        resource_types=(LOG_GROUP,),
        config={
            "minRetentionDays": {
                "type": "integer",
                "minimum": 1,
                "default": 7,
                "description": "Shortest acceptable retention (days).",
            }
        },
        limits="Log groups AWS creates implicitly (e.g. by EKS before the stack adopts them) "
        "are not visible.",
    ),
    Rule(
        id="LOG-002",
        name="logs-kms-encryption",
        severity=Severity.MEDIUM,
        description="CloudWatch log groups are encrypted with a KMS key.",
        remediation='aws.cloudwatch.LogGroup(f"{name}-logs", kms_key_id=key.arn, ...)',
        controls=("CKV_AWS_158",),
        catalog=(49,),
        resource_check=_kms,
        resource_types=(LOG_GROUP,),
    ),
]
