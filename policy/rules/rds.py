"""RDS (the MLflow backend store): encrypted, private, backed up, multi-AZ and protected in
prod."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rules.catalog import resource_rule, rules_of
from rules.checks import fmt

INSTANCE = "aws:rds/instance:Instance"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
"""Aurora cluster members: publiclyAccessible is set per instance (aws:rds/cluster has no
such input)."""
CLUSTER = "aws:rds/cluster:Cluster"
TYPES = (INSTANCE, CLUSTER)


@resource_rule("RDS-001", *TYPES)
def _encrypted(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["storageEncrypted"].flag() is not True:
        yield "storage is not encrypted"


@resource_rule("RDS-002", INSTANCE, CLUSTER_INSTANCE)
def _private(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["publiclyAccessible"].flag() is True:
        yield "the database is publicly accessible"


@resource_rule("RDS-003", *TYPES)
def _backups(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    days = args.props["backupRetentionPeriod"].number()
    least = float(cfg["minBackupRetentionDays"])
    if days is None:
        yield f"backupRetentionPeriod is not set (AWS keeps 1 day); at least {fmt(least)} needed"
    elif days < least:
        yield f"backupRetentionPeriod is {fmt(days)}; at least {fmt(least)} is required"


@resource_rule("RDS-004", *TYPES)
def _multi_az(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if not cfg["required"] or args.resource_type == CLUSTER:
        return  # Aurora clusters span AZs through their instances
    if args.props["multiAz"].flag() is not True:
        yield "the instance is single-AZ"


@resource_rule("RDS-005", *TYPES)
def _deletion(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if cfg["required"] and args.props["deletionProtection"].flag() is not True:
        yield "deletion protection is off"


RULES = rules_of(__name__)
