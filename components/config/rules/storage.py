"""Rules of ``mlops:storage``, ``mlops:registry`` and ``mlops:modelRegistry``."""

from __future__ import annotations

from ...core.limits import PROD_MIN_RDS_BACKUP_DAYS
from ...storage.artifact_store import BucketPurpose, repeated_purpose_problem, transition_problem
from ...storage.container_registry import repository_problems
from ..model import EnvironmentConfig, Profile
from .problem import Problem


def storage(config: EnvironmentConfig) -> list[Problem]:
    """Buckets: no force-destroy where things are protected, sane lifecycle, replication
    with a destination, lock/replication only on buckets that exist; prod keeps a copy."""
    buckets = config.storage
    problems: list[Problem] = []
    purposes = [purpose.value for purpose in buckets.purposes]
    data = [purpose for purpose in purposes if purpose != BucketPurpose.ACCESS_LOGS]
    if repeated := repeated_purpose_problem(purposes):
        problems.append(Problem(("storage", "purposes"), purposes, repeated))
    if buckets.force_destroy and (
        config.protect_stateful_resources or config.profile is Profile.PROD
    ):
        problems.append(
            Problem(
                ("storage", "forceDestroy"),
                True,
                "never with protectStatefulResources or in prod: protected buckets are not "
                "emptied on destroy",
            )
        )
    if too_soon := transition_problem(buckets.transition_storage_class, buckets.transition_days):
        problems.append(Problem(("storage", "transitionDays"), buckets.transition_days, too_soon))
    replication = buckets.replication
    if replication.enabled and not replication.region:
        problems.append(
            Problem(
                ("storage", "replication", "region"),
                None,
                "required when replication is enabled: a region other than the stack's",
            )
        )
    if replication.region and replication.region == config.region:
        problems.append(
            Problem(
                ("storage", "replication", "region"),
                replication.region,
                f"must differ from the stack's region ({config.region})",
            )
        )
    for key, chosen in (
        (("storage", "replication", "purposes"), replication.purposes or []),
        (("storage", "objectLock", "purposes"), buckets.object_lock.purposes),
    ):
        for i, purpose in enumerate(chosen):
            if purpose.value not in data:
                problems.append(
                    Problem(
                        (*key, i),
                        purpose.value,
                        "not a data bucket of this stack (storage.purposes): " + ", ".join(data),
                    )
                )
    if (
        config.profile is Profile.PROD
        and not replication.enabled
        and buckets.object_lock.mode is None
    ):
        problems.append(
            Problem(
                ("storage", "objectLock", "mode"),
                None,
                "prod artifact buckets keep a protected copy: set objectLock.mode or enable "
                "replication (with a region)",
            )
        )
    return problems


def registry(config: EnvironmentConfig) -> list[Problem]:
    """Repository names are names ECR accepts, and unique."""
    names = config.registry.repositories
    return [
        Problem(("registry", "repositories", i), name, allowed)
        for i, name in enumerate(names)
        for allowed in repository_problems(name, names[:i])
    ]


def model_registry(config: EnvironmentConfig) -> list[Problem]:
    """Storage bounds agree; prod's MLflow database is multi-AZ, protected and backed up."""
    mlflow = config.model_registry
    problems: list[Problem] = []
    if mlflow.max_allocated_storage_gb < mlflow.allocated_storage_gb:
        problems.append(
            Problem(
                ("modelRegistry", "maxAllocatedStorageGb"),
                mlflow.max_allocated_storage_gb,
                f"at least allocatedStorageGb ({mlflow.allocated_storage_gb})",
            )
        )
    if config.profile is not Profile.PROD or not mlflow.enabled:
        return problems
    for key, value in (
        ("multiAz", mlflow.multi_az),
        ("deletionProtection", mlflow.deletion_protection),
        ("finalSnapshot", mlflow.final_snapshot),
    ):
        if not value:
            problems.append(
                Problem(("modelRegistry", key), value, "prod's MLflow database keeps this on")
            )
    if mlflow.backup_retention_days < PROD_MIN_RDS_BACKUP_DAYS:
        problems.append(
            Problem(
                ("modelRegistry", "backupRetentionDays"),
                mlflow.backup_retention_days,
                f"prod keeps at least {PROD_MIN_RDS_BACKUP_DAYS} days of backups",
            )
        )
    return problems
