"""The typed model of one environment's configuration.

Strict: unknown keys are errors and no value is coerced (``"3"`` is not an integer). Keys
are camelCase, as in the stack files. Defaults that are the same in every environment are
written here, once, as field defaults; defaults that differ per environment live only in
:mod:`mlops_platform.config.profiles`. Cross-field rules live in :mod:`mlops_platform.config.rules`.

One module per section of the stack configuration (``network``, ``cluster``, ``iam``, ``gpu``,
``storage``, ``observability``, ``serving``, ``deploy``) over a shared ``base``; this module
holds the whole environment and re-exports every section's names.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ...cluster.serving_cluster import SupportType
from ...core import patterns
from ...core.versions import SUPPORTED_KUBERNETES_VERSIONS
from ...gpu.node_pool import AmiType, CapacityType, ConsolidationPolicy, PoolEngine, Workload
from ...gpu.nvidia import MigStrategy, NvidiaMode
from ...iam.service_linked import ServiceLinkedRoleMode
from ...network.network import NatStrategy
from ...observability.observability import ReceiverType
from ...storage.artifact_store import BucketPurpose, ObjectLockMode, StorageClass
from ...storage.container_registry import Upstream
from .base import (
    Cidr,
    HumanPrincipalArn,
    KmsDeletionWindowDays,
    KubernetesName,
    KubernetesVersion,
    NodeGroupSize,
    NonNegative,
    Region,
    RetentionDays,
    RoleArn,
    SecurityGroupId,
    SemVer,
    StrictModel,
    SubnetId,
)
from .cluster import AddonVersionsConfig, ClusterAccessConfig, ClusterConfig, SystemNodesConfig
from .deploy import DeployPhase, DeployRunnerConfig
from .gpu import (
    AutoscalerExpanderName,
    ClusterAutoscalerConfig,
    DisruptionBudgetConfig,
    GpuConfig,
    GpuPoolConfig,
    GpuPoolDefaultsConfig,
    GpuSharingConfig,
    KarpenterConfig,
    KarpenterDisruptionConfig,
    MigConfig,
    NvidiaConfig,
    TimeSlicingConfig,
)
from .iam import IamConfig
from .network import (
    ExistingNetworkConfig,
    InterfaceEndpoint,
    NetworkConfig,
    TerraformOutputNamesConfig,
    TerraformStateConfig,
    TerraformStateSource,
)
from .observability import AlertThresholdsConfig, AmpConfig, ObservabilityConfig
from .serving import (
    LoadBalancerControllerConfig,
    Quantity,
    TenancyConfig,
    TenantConfig,
    TenantQuotaDefaultsConfig,
)
from .storage import (
    ModelRegistryConfig,
    MonitoringInterval,
    ObjectLockConfig,
    RegistryConfig,
    ReplicationConfig,
    StorageConfig,
)


class Profile(StrEnum):
    """The environment profile a stack builds on."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class EnvironmentConfig(StrictModel):
    """Everything one stack (environment) is built from."""

    profile: Profile = Field(description="The environment profile whose defaults apply.")
    region: Region = Field(description="AWS region (the `aws:region` key).")
    tags: dict[str, str] = Field(
        description="Tags on every resource; `owner` and `cost-center` are required."
    )
    allowed_account_ids: list[Annotated[str, Field(pattern=patterns.ACCOUNT_ID.regex)]] = Field(
        min_length=1,
        description="AWS account IDs (12 digits) this stack may deploy to; the provider "
        "refuses any other, so a stack never lands in the wrong account.",
    )
    log_retention_days: RetentionDays = Field(
        description="Retention of every CloudWatch log group the platform creates."
    )
    protect_stateful_resources: bool = Field(
        description="Protect and retain-on-delete buckets, keys, repositories, databases and "
        "log groups. Required in prod."
    )
    network: NetworkConfig = Field(description="The VPC.")
    cluster: ClusterConfig = Field(description="The EKS serving cluster.")
    iam: IamConfig = Field(description="Platform IAM: CI deploy role, boundary, human roles.")
    gpu: GpuConfig = Field(description="GPU node pools and budget.")
    observability: ObservabilityConfig = Field(
        description="Metrics, dashboards, alerting and log groups."
    )
    storage: StorageConfig = Field(description="Artifact buckets (S3).")
    registry: RegistryConfig = Field(description="ECR repositories for images.")
    model_registry: ModelRegistryConfig = Field(description="MLflow tracking server and registry.")
    load_balancer_controller: LoadBalancerControllerConfig = Field(
        description="The AWS Load Balancer Controller."
    )
    tenants: TenancyConfig = Field(description="Teams' namespaces on the cluster.")
    phase: DeployPhase = Field(
        DeployPhase.ALL,
        description="`infrastructure`: phase 1 of the first deploy, nothing on Kubernetes "
        "(runs from anywhere); `all`: everything (from the runner, or wherever the API "
        "endpoint is reachable).",
    )
    deploy_runner: DeployRunnerConfig = Field(description="The in-VPC deploy runner.")


__all__ = [
    "SUPPORTED_KUBERNETES_VERSIONS",
    "AddonVersionsConfig",
    "AlertThresholdsConfig",
    "AmiType",
    "AmpConfig",
    "AutoscalerExpanderName",
    "BucketPurpose",
    "CapacityType",
    "Cidr",
    "ClusterAccessConfig",
    "ClusterAutoscalerConfig",
    "ClusterConfig",
    "ConsolidationPolicy",
    "DeployPhase",
    "DeployRunnerConfig",
    "DisruptionBudgetConfig",
    "EnvironmentConfig",
    "ExistingNetworkConfig",
    "GpuConfig",
    "GpuPoolConfig",
    "GpuPoolDefaultsConfig",
    "GpuSharingConfig",
    "HumanPrincipalArn",
    "IamConfig",
    "InterfaceEndpoint",
    "KarpenterConfig",
    "KarpenterDisruptionConfig",
    "KmsDeletionWindowDays",
    "KubernetesName",
    "KubernetesVersion",
    "LoadBalancerControllerConfig",
    "MigConfig",
    "MigStrategy",
    "ModelRegistryConfig",
    "MonitoringInterval",
    "NatStrategy",
    "NetworkConfig",
    "NodeGroupSize",
    "NonNegative",
    "NvidiaConfig",
    "NvidiaMode",
    "ObjectLockConfig",
    "ObjectLockMode",
    "ObservabilityConfig",
    "PoolEngine",
    "Profile",
    "Quantity",
    "ReceiverType",
    "Region",
    "RegistryConfig",
    "ReplicationConfig",
    "RetentionDays",
    "RoleArn",
    "SecurityGroupId",
    "SemVer",
    "ServiceLinkedRoleMode",
    "StorageClass",
    "StorageConfig",
    "StrictModel",
    "SubnetId",
    "SupportType",
    "SystemNodesConfig",
    "TenancyConfig",
    "TenantConfig",
    "TenantQuotaDefaultsConfig",
    "TerraformOutputNamesConfig",
    "TerraformStateConfig",
    "TerraformStateSource",
    "TimeSlicingConfig",
    "Upstream",
    "Workload",
]
