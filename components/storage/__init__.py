"""The storage domain: ``ArtifactStore`` (S3), ``ContainerRegistry`` (ECR) and
``ModelRegistry`` (MLflow)."""

from .artifact_store import (
    AccessLevel,
    ArtifactStore,
    ArtifactStoreArgs,
    BucketPurpose,
    ObjectLockMode,
    StorageClass,
    access_policy_document,
    data_bucket_policy,
    logs_bucket_policy,
    repeated_purpose_problem,
    transition_problem,
)
from .container_registry import (
    ContainerRegistry,
    ContainerRegistryArgs,
    ScanFrequency,
    Upstream,
    cache_prefix,
    lifecycle_policy,
    pull_policy_document,
    repository_name_problems,
    repository_policy,
    repository_problems,
)
from .model_registry import (
    ModelRegistry,
    ModelRegistryArgs,
    internal_lb_annotations,
)

__all__ = [
    "AccessLevel",
    "ArtifactStore",
    "ArtifactStoreArgs",
    "BucketPurpose",
    "ContainerRegistry",
    "ContainerRegistryArgs",
    "ModelRegistry",
    "ModelRegistryArgs",
    "ObjectLockMode",
    "ScanFrequency",
    "StorageClass",
    "Upstream",
    "access_policy_document",
    "cache_prefix",
    "data_bucket_policy",
    "internal_lb_annotations",
    "lifecycle_policy",
    "logs_bucket_policy",
    "pull_policy_document",
    "repeated_purpose_problem",
    "repository_name_problems",
    "repository_policy",
    "repository_problems",
    "transition_problem",
]
