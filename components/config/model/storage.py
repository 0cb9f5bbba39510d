"""``mlops:storage``, ``mlops:registry`` and ``mlops:modelRegistry``: the artifact buckets,
the ECR repositories and the MLflow tracking server with its database."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from ...core import patterns
from ...core.limits import RDS_BACKUP_RETENTION_DAYS
from ...storage.artifact_store import BucketPurpose, ObjectLockMode, StorageClass
from ...storage.container_registry import Upstream
from ...storage.model_registry import (
    DEFAULT_CHART_VERSION,
    DEFAULT_ENGINE_VERSION,
    MONITORING_INTERVALS,
)
from .base import KmsDeletionWindowDays, Region, SemVer, StrictModel, defaults_of


class ReplicationConfig(StrictModel):
    """Cross-region replication of the artifact buckets."""

    enabled: bool = Field(False, description="Replicate the data buckets to `region`.")
    region: Region | None = Field(
        None, description="Destination region; required when enabled, and not the stack's region."
    )
    purposes: list[BucketPurpose] | None = Field(
        None, description="Buckets to replicate; default: every data bucket."
    )


class ObjectLockConfig(StrictModel):
    """S3 Object Lock (WORM) on chosen artifact buckets."""

    mode: ObjectLockMode | None = Field(
        None,
        description="`GOVERNANCE` (privileged users may lift it) or `COMPLIANCE` (nobody "
        "may); unset: Object Lock off.",
    )
    days: int = Field(30, ge=1, le=36500, description="Default retention of new objects (days).")
    purposes: list[BucketPurpose] = Field(
        default_factory=lambda: [BucketPurpose.MODELS],
        description="Buckets that get Object Lock when a mode is set.",
    )


class StorageConfig(StrictModel):
    """The artifact buckets (S3)."""

    purposes: list[BucketPurpose] = Field(
        default_factory=lambda: [
            BucketPurpose.MODELS,
            BucketPurpose.DATASETS,
            BucketPurpose.PIPELINE_ARTIFACTS,
        ],
        min_length=1,
        description="Data buckets to create, one per purpose; the access-logs bucket is "
        "always created.",
    )
    force_destroy: bool = Field(
        False,
        description="Let `pulumi destroy` delete buckets that still hold objects. Dev only; "
        "never with protectStatefulResources.",
    )
    noncurrent_version_expiration_days: int = Field(
        ge=1, le=3650, description="Days after which non-current object versions expire."
    )
    newer_noncurrent_versions: int = Field(
        3, ge=0, le=100, description="Non-current versions kept whatever their age."
    )
    abort_incomplete_multipart_upload_days: int = Field(
        7, ge=1, le=30, description="Days after which incomplete multipart uploads are aborted."
    )
    transition_days: int = Field(
        ge=0, le=3650, description="Age (days) at which objects move to the cheaper class."
    )
    transition_storage_class: StorageClass = Field(
        StorageClass.INTELLIGENT_TIERING,
        description="Storage class old objects move to (STANDARD_IA needs >= 30 days).",
    )
    access_log_expiration_days: int = Field(
        ge=1, le=3650, description="Days S3 server access logs are kept."
    )
    kms_deletion_window_days: KmsDeletionWindowDays = Field(
        description="Waiting period of a scheduled deletion of the bucket key."
    )
    replication: ReplicationConfig = Field(
        default_factory=defaults_of(ReplicationConfig), description="Cross-region replication."
    )
    object_lock: ObjectLockConfig = Field(
        default_factory=defaults_of(ObjectLockConfig), description="Object Lock."
    )


class RegistryConfig(StrictModel):
    """The ECR repositories for serving and training images."""

    repositories: list[str] = Field(
        default_factory=lambda: ["serving", "training"],
        min_length=1,
        description="Repository names (prefixed with `{project}-{stack}-`); ECR rules: "
        "lowercase segments joined by `.`, `_`, `-`, namespaces by `/`.",
    )
    keep_tagged_images: int = Field(
        ge=1, le=1000, description="Tagged images kept per repository; older ones expire."
    )
    release_tag_patterns: list[str] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        description="Tag wildcards counted as releases by keepTaggedImages.",
    )
    untagged_expiry_days: int = Field(
        ge=1, le=3650, description="Days after which untagged images expire."
    )
    enhanced_scanning: bool = Field(
        description="Amazon Inspector enhanced scanning (continuous) for the repositories."
    )
    pull_through_cache: list[Upstream] = Field(
        description="Public registries cached through ECR, for clusters without internet."
    )
    kms_deletion_window_days: KmsDeletionWindowDays = Field(
        description="Waiting period of a scheduled deletion of the registry key."
    )


def _monitoring_interval(value: int) -> int:
    if value not in MONITORING_INTERVALS:
        raise ValueError("allowed: " + ", ".join(map(str, MONITORING_INTERVALS)))
    return value


MonitoringInterval = Annotated[int, AfterValidator(_monitoring_interval)]


class ModelRegistryConfig(StrictModel):
    """The MLflow tracking server and model registry (RDS PostgreSQL + S3)."""

    enabled: bool = Field(True, description="Deploy MLflow.")
    instance_class: str = Field(
        pattern=patterns.RDS_INSTANCE_CLASS.regex, description="RDS instance class."
    )
    engine_version: str = Field(
        DEFAULT_ENGINE_VERSION,
        pattern=patterns.POSTGRES_MAJOR_MINOR.regex,
        description="PostgreSQL major.minor, pinned; by default the version the ModelRegistry "
        "component is tested with. Upgrades are deliberate.",
    )
    allocated_storage_gb: int = Field(20, ge=20, le=65536, description="Initial storage (GiB).")
    max_allocated_storage_gb: int = Field(
        ge=20, le=65536, description="Storage autoscaling ceiling (GiB)."
    )
    backup_retention_days: int = Field(
        ge=RDS_BACKUP_RETENTION_DAYS[0],
        le=RDS_BACKUP_RETENTION_DAYS[1],
        description="Automated backup retention (days); prod keeps at least 7.",
    )
    multi_az: bool = Field(description="A standby in a second AZ. Required in prod.")
    deletion_protection: bool = Field(description="RDS deletion protection. Required in prod.")
    final_snapshot: bool = Field(description="Snapshot the database when it is deleted.")
    monitoring_interval_seconds: MonitoringInterval = Field(
        description="RDS Enhanced Monitoring (OS metrics) interval in seconds: 0 (off), 1, 5, "
        "10, 15, 30 or 60."
    )
    slow_statement_ms: int = Field(
        1000,
        ge=-1,
        le=3_600_000,
        description="Log statements that run at least this long (ms; "
        "`log_min_duration_statement`, -1: off). The database's `postgresql` and `upgrade` "
        "logs go to KMS-encrypted log groups kept for `logRetentionDays`.",
    )
    replicas: int = Field(ge=1, le=10, description="MLflow server replicas.")
    chart_version: SemVer = Field(
        DEFAULT_CHART_VERSION,
        description="Exact version of the community `mlflow` Helm chart; by default the one "
        "the ModelRegistry component is tested with.",
    )
    artifact_prefix: str = Field(
        "mlflow/",
        pattern=patterns.S3_PREFIX.regex,
        description="Key prefix of MLflow artifacts in the models bucket (ends in `/`).",
    )
    internal_load_balancer: bool = Field(
        False, description="Expose MLflow on an internal NLB (VPC only); never internet-facing."
    )
