"""The IAM domain: ``PlatformIam`` and the workload-role helpers (Pod Identity, IRSA)."""

from .documents import (
    POLICY_VERSION,
    STS_AUDIENCE,
    WILDCARD_ACTION_EXCEPTIONS,
    WILDCARD_RESOURCE_EXCEPTIONS,
    PolicyDocument,
    merge_policy_documents,
    policy_dict,
    policy_json,
    statement,
)
from .platform_iam import (
    MANAGED_POLICY_ARNS,
    PlatformIam,
    PlatformIamArgs,
)
from .service_linked import SPOT_SERVICE, ServiceLinkedRoleMode, spot_service_linked_role
from .workload import (
    ClusterWorkloadArgs,
    PodIdentity,
    WorkloadRole,
    WorkloadRoleArgs,
    arn_fields,
    arn_part,
    cluster_document,
    irsa_role,
    irsa_trust,
    pod_identity_role,
    pod_identity_trust,
)

__all__ = [
    "MANAGED_POLICY_ARNS",
    "POLICY_VERSION",
    "SPOT_SERVICE",
    "STS_AUDIENCE",
    "WILDCARD_ACTION_EXCEPTIONS",
    "WILDCARD_RESOURCE_EXCEPTIONS",
    "ClusterWorkloadArgs",
    "PlatformIam",
    "PlatformIamArgs",
    "PodIdentity",
    "PolicyDocument",
    "ServiceLinkedRoleMode",
    "WorkloadRole",
    "WorkloadRoleArgs",
    "arn_fields",
    "arn_part",
    "cluster_document",
    "irsa_role",
    "irsa_trust",
    "merge_policy_documents",
    "pod_identity_role",
    "pod_identity_trust",
    "policy_dict",
    "policy_json",
    "spot_service_linked_role",
    "statement",
]
