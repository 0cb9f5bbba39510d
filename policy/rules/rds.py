"""RDS (the MLflow backend store): encrypted, private, backed up, multi-AZ and protected in
prod."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from rules.rule import Rule, fmt

INSTANCE = "aws:rds/instance:Instance"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
"""Aurora cluster members: publiclyAccessible is set per instance (aws:rds/cluster has no
such input)."""
CLUSTER = "aws:rds/cluster:Cluster"
TYPES = (INSTANCE, CLUSTER)


def _encrypted(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["storageEncrypted"].flag() is not True:
        yield "storage is not encrypted"


def _private(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["publiclyAccessible"].flag() is True:
        yield "the database is publicly accessible"


def _backups(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    days = args.props["backupRetentionPeriod"].number()
    least = float(cfg.get("minBackupRetentionDays", 7))
    if days is None:
        yield f"backupRetentionPeriod is not set (AWS keeps 1 day); at least {fmt(least)} needed"
    elif days < least:
        yield f"backupRetentionPeriod is {fmt(days)}; at least {fmt(least)} is required"


def _multi_az(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if not cfg.get("required") or args.resource_type == CLUSTER:
        return  # Aurora clusters span AZs through their instances
    if args.props["multiAz"].flag() is not True:
        yield "the instance is single-AZ"


def _deletion(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if cfg.get("required") and args.props["deletionProtection"].flag() is not True:
        yield "deletion protection is off"


def _required(default: bool, what: str) -> dict[str, dict[str, Any]]:
    return {"required": {"type": "boolean", "default": default, "description": what}}


RULES: list[Rule] = [
    Rule(
        id="RDS-001",
        name="rds-storage-encrypted",
        severity=Severity.HIGH,
        description="RDS storage is encrypted.",
        remediation="aws.rds.Instance(..., storage_encrypted=True, kms_key_id=key.arn)",
        controls=("AWSGuard rds-storage-encrypted", "CKV_AWS_16"),
        catalog=(50,),
        resource_check=_encrypted,
        resource_types=TYPES,
    ),
    Rule(
        id="RDS-002",
        name="rds-not-public",
        severity=Severity.CRITICAL,
        description="RDS database instances and Aurora cluster instances are not publicly "
        "accessible.",
        remediation="aws.rds.Instance(..., publicly_accessible=False, db_subnet_group_name="
        "private_subnets.name)",
        controls=("AWSGuard rds-instance-public-access-check", "CKV_AWS_17"),
        catalog=(50,),
        resource_check=_private,
        resource_types=(INSTANCE, CLUSTER_INSTANCE),
        limits="aws:rds/cluster has no publiclyAccessible input (pulumi-aws 7); Aurora "
        "exposure is decided per cluster instance, which is checked.",
    ),
    Rule(
        id="RDS-003",
        name="rds-backup-retention",
        severity=Severity.MEDIUM,
        description="RDS automated backups are kept at least the environment's minimum.",
        remediation="aws.rds.Instance(..., backup_retention_period=7)",
        controls=("AWSGuard rds-instance-backup-enabled",),
        catalog=(50,),
        resource_check=_backups,
        resource_types=TYPES,
        config={
            "minBackupRetentionDays": {
                "type": "integer",
                "minimum": 1,
                "default": 7,
                "description": "Shortest acceptable backup retention (days).",
            }
        },
    ),
    Rule(
        id="RDS-004",
        name="rds-multi-az",
        severity=Severity.MEDIUM,
        description="Where required (prod), RDS instances are multi-AZ.",
        remediation="aws.rds.Instance(..., multi_az=True)",
        controls=("AWSGuard rds-instance-multi-az", "CKV_AWS_157"),
        catalog=(50,),
        resource_check=_multi_az,
        resource_types=TYPES,
        config=_required(False, "Whether RDS instances must be multi-AZ."),
    ),
    Rule(
        id="RDS-005",
        name="rds-deletion-protection",
        severity=Severity.MEDIUM,
        description="Where required (prod), RDS databases have deletion protection.",
        remediation="aws.rds.Instance(..., deletion_protection=True)",
        controls=("AWSGuard rds-instance-deletion-protection",),
        catalog=(50,),
        resource_check=_deletion,
        resource_types=TYPES,
        config=_required(False, "Whether RDS databases must have deletion protection."),
    ),
]
