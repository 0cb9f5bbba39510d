"""What :class:`~mlops_platform.storage.model_registry.ModelRegistry` checks before it builds:
every problem with its args, each naming the argument."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core.checks import chart_problems, cidr_problems
from ..core.limits import (
    RDS_BACKUP_RETENTION_DAYS,
    kms_deletion_window_problems,
    range_problems,
    retention_problems,
)
from ..core.patterns import POSTGRES_MAJOR_MINOR, S3_PREFIX, SEMVER
from ..core.validation import Invalid
from ..core.versions import MLFLOW_CHART, POSTGRES_ENGINE_VERSION

if TYPE_CHECKING:
    from .model_registry import ModelRegistryArgs

STORAGE_GB_RANGE = (20, 65536)
"""Allocated storage RDS for PostgreSQL accepts on gp3, in GiB."""
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
"""Enhanced Monitoring intervals RDS accepts, in seconds (0: off)."""

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_ALLOWED_HOST = re.compile(r"^[A-Za-z0-9*][A-Za-z0-9*.-]*(:(\d{1,5}|\*))?$")


def _ingress_problems(args: ModelRegistryArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if args.internal_load_balancer and not args.ingress_cidrs:
        problems.append(
            Invalid("ingress_cidrs", [], "required with internal_load_balancer, e.g. the VPC CIDR")
        )
    return problems + cidr_problems(
        "ingress_cidrs",
        args.ingress_cidrs,
        allowed="a CIDR block, e.g. 10.0.0.0/16",
        internet="never the whole internet; the VPC CIDR",
    )


def _allowed_host_problems(args: ModelRegistryArgs) -> list[Invalid]:
    return [
        Invalid(
            f"allowed_hosts[{i}]",
            host,
            "a host name, optionally with :port and * wildcards, e.g. mlflow.example.internal "
            "(never '*' alone, no commas or spaces)",
        )
        for i, host in enumerate(args.allowed_hosts)
        if not _ALLOWED_HOST.match(host) or host.strip("*.:") == ""
    ]


def validate(args: ModelRegistryArgs) -> list[Invalid]:
    """Every problem with ``args``, each naming the argument."""
    problems: list[Invalid] = []
    if not args.name_prefix.strip():
        problems.append(Invalid("name_prefix", args.name_prefix, "a non-empty prefix"))
    subnets = args.private_subnet_ids
    if isinstance(subnets, Sequence) and not isinstance(subnets, str) and len(subnets) < 2:
        problems.append(
            Invalid(
                "private_subnet_ids",
                list(subnets),
                "at least two private subnets in different AZs (an RDS subnet group rule)",
            )
        )
    if not S3_PREFIX.matches(args.artifact_prefix):
        problems.append(
            Invalid(
                "artifact_prefix",
                args.artifact_prefix,
                "a non-empty key prefix ending in '/', e.g. 'mlflow/' (no leading '/')",
            )
        )
    if not POSTGRES_MAJOR_MINOR.matches(args.engine_version):
        problems.append(
            Invalid(
                "engine_version",
                args.engine_version,
                "a pinned PostgreSQL major.minor version from 13 up, "
                f"e.g. '{POSTGRES_ENGINE_VERSION}'",
            )
        )
    if not args.instance_class.startswith("db."):
        problems.append(
            Invalid("instance_class", args.instance_class, "an RDS class, e.g. db.t4g.medium")
        )
    problems += range_problems(
        "backup_retention_days", args.backup_retention_days, RDS_BACKUP_RETENTION_DAYS
    )
    problems += range_problems("allocated_storage_gb", args.allocated_storage_gb, STORAGE_GB_RANGE)
    problems += range_problems(
        "max_allocated_storage_gb", args.max_allocated_storage_gb, STORAGE_GB_RANGE
    )
    if (
        isinstance(args.max_allocated_storage_gb, int)
        and isinstance(args.allocated_storage_gb, int)
        and args.max_allocated_storage_gb < args.allocated_storage_gb
    ):
        problems.append(
            Invalid(
                "max_allocated_storage_gb",
                args.max_allocated_storage_gb,
                f"at least allocated_storage_gb ({args.allocated_storage_gb})",
            )
        )
    problems += kms_deletion_window_problems(
        "kms_deletion_window_days", args.kms_deletion_window_days
    )
    problems += range_problems("replicas", args.replicas, (1, 10))
    for arg in ("namespace", "service_account"):
        value = getattr(args, arg)
        if not _DNS_LABEL.match(value):
            problems.append(
                Invalid(
                    arg,
                    value,
                    "a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters",
                )
            )
    problems += chart_problems(args, example=MLFLOW_CHART, pattern=SEMVER)
    if (args.image_repository is None) != (args.image_tag is None):
        problems.append(
            Invalid("image_tag", args.image_tag, "give image_repository and image_tag together")
        )
    problems += _ingress_problems(args)
    if args.image_tag in {"latest", ""}:
        problems.append(Invalid("image_tag", args.image_tag, "a pinned tag, never latest"))
    problems += _observability_problems(args)
    problems += _allowed_host_problems(args)
    return problems


def _observability_problems(args: ModelRegistryArgs) -> list[Invalid]:
    """Logs, Enhanced Monitoring and slow-statement settings of the database."""
    problems: list[Invalid] = []
    problems += range_problems("slow_statement_ms", args.slow_statement_ms, (-1, 3_600_000))
    problems += retention_problems("log_retention_days", args.log_retention_days)
    if args.monitoring_interval_seconds not in MONITORING_INTERVALS:
        problems.append(
            Invalid(
                "monitoring_interval_seconds",
                args.monitoring_interval_seconds,
                "one of " + ", ".join(map(str, MONITORING_INTERVALS)) + " (0: off)",
            )
        )
    return problems
