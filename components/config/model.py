"""The typed model of one environment's configuration.

Strict: unknown keys are errors and no value is coerced (``"3"`` is not an integer). Keys
are camelCase, as in the stack files. Defaults that are the same in every environment are
written here, once, as field defaults; defaults that differ per environment live only in
:mod:`components.config.profiles`. Cross-field rules live in :mod:`components.config.rules`.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class Profile(StrEnum):
    """The environment profile a stack builds on."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class NatStrategy(StrEnum):
    """How private subnets reach the internet."""

    NONE = "none"
    SINGLE = "single"
    PER_AZ = "per-az"


class InterfaceEndpoint(StrEnum):
    """AWS services reachable through interface VPC endpoints (PrivateLink)."""

    ECR_API = "ecr.api"
    ECR_DKR = "ecr.dkr"
    STS = "sts"
    LOGS = "logs"
    KMS = "kms"
    EC2 = "ec2"
    SSM = "ssm"
    SSM_MESSAGES = "ssmmessages"
    EC2_MESSAGES = "ec2messages"
    ELB = "elasticloadbalancing"
    AUTOSCALING = "autoscaling"
    EKS = "eks"
    EKS_AUTH = "eks-auth"
    SQS = "sqs"
    MONITORING = "monitoring"
    APS_WORKSPACES = "aps-workspaces"


class CapacityType(StrEnum):
    """How GPU nodes are bought."""

    ON_DEMAND = "on-demand"
    SPOT = "spot"


class PoolEngine(StrEnum):
    """What provisions a GPU pool's nodes."""

    MANAGED_NODE_GROUP = "managed-node-group"
    KARPENTER = "karpenter"


class Workload(StrEnum):
    """What a GPU pool is for; prod serving pools must keep an on-demand baseline."""

    SERVING = "serving"
    BATCH = "batch"
    TRAINING = "training"
    NOTEBOOK = "notebook"


SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.32", "1.33", "1.34", "1.35")
"""EKS versions this release is tested with; older ones are out of standard support."""

LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""The retention periods CloudWatch Logs accepts."""


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"not an IPv4 CIDR block with its host bits zero ({exc}); e.g. 10.20.0.0/16"
        ) from None
    return str(network)


def _retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        raise ValueError(f"CloudWatch accepts only these retention periods (days): {allowed}")
    return value


def _kubernetes_version(value: str) -> str:
    if value not in SUPPORTED_KUBERNETES_VERSIONS:
        raise ValueError(
            "not a supported EKS version; allowed: " + ", ".join(SUPPORTED_KUBERNETES_VERSIONS)
        )
    return value


Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
NonNegative = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
    )


class NetworkConfig(_Model):
    """The environment's VPC."""

    vpc_cidr: Cidr = Field(
        "10.0.0.0/16",
        description="IPv4 CIDR of the VPC, /16 to /22. Give each environment its own, "
        "so environments can be peered later.",
    )
    az_count: int = Field(
        ge=2, le=4, description="Availability zones to spread subnets and nodes over."
    )
    nat_gateways: NatStrategy = Field(
        description="NAT gateways: `none` (no egress), `single` (one, cheaper, one AZ "
        "failure domain) or `per-az` (one per AZ, highly available)."
    )
    interface_endpoints: list[InterfaceEndpoint] = Field(
        description="Interface VPC endpoints to create, so nodes reach AWS APIs without NAT. "
        "The S3 gateway endpoint is always created."
    )
    private_subnet_cidrs: list[Cidr] | None = Field(
        None,
        description="Node subnets, one per AZ. Default: the first AZ-count /19-equivalents "
        "(VPC prefix + 3) of the VPC.",
    )
    public_subnet_cidrs: list[Cidr] | None = Field(
        None,
        description="Subnets for NAT gateways and internet-facing load balancers, one per AZ. "
        "Default: VPC prefix + 5 blocks from the second half of the VPC.",
    )
    pod_cidr: Cidr | None = Field(
        None,
        description="Optional secondary VPC CIDR for pod IPs (e.g. 100.64.0.0/16); must not "
        "overlap the VPC CIDR.",
    )


class NodeGroupSize(_Model):
    """Scaling bounds of a node group."""

    min_size: NonNegative = Field(description="Fewest nodes.")
    desired_size: NonNegative = Field(description="Nodes at creation; autoscaling owns it after.")
    max_size: int = Field(ge=1, description="Most nodes.")


class SystemNodesConfig(NodeGroupSize):
    """The small on-demand node group that runs cluster add-ons and controllers."""

    instance_type: str = Field(
        "m7i.large", description="EC2 instance type of the system nodes (x86_64, AL2023)."
    )


class ClusterConfig(_Model):
    """The EKS serving cluster."""

    version: KubernetesVersion = Field(
        "1.34", description="Kubernetes version, pinned; upgrades are a deliberate config change."
    )
    endpoint_public_access: bool = Field(
        description="Whether the API server also has a public endpoint (the private one is "
        "always on). Never allowed in prod."
    )
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the public endpoint; required when it is on; "
        "0.0.0.0/0 is never accepted.",
    )
    deletion_protection: bool = Field(description="EKS deletion protection on the cluster.")
    system_nodes: SystemNodesConfig = Field(description="The system node group.")


class GpuPoolConfig(NodeGroupSize):
    """One GPU node pool."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,23}$",
        description="Pool name: lowercase letters, digits and hyphens, at most 24 characters; "
        "becomes a node label and part of physical names.",
    )
    workload: Workload = Field(
        description="What the pool runs: serving, batch, training, notebook."
    )
    engine: PoolEngine = Field(
        PoolEngine.MANAGED_NODE_GROUP,
        description="`managed-node-group` (EKS managed node group) or `karpenter` (NodePool).",
    )
    instance_types: list[str] = Field(
        min_length=1, description="GPU instance types; several give spot pools more capacity."
    )
    capacity_type: CapacityType = Field(description="`on-demand` or `spot`.")


class GpuConfig(_Model):
    """GPU capacity and its guardrails."""

    budget_gpus: NonNegative = Field(
        description="Most GPUs the environment may run at once: the sum over pools of max "
        "nodes x GPUs per node must not exceed it."
    )
    allowed_instance_types: list[str] = Field(
        description="GPU instance types pools in this environment may use."
    )
    pools: list[GpuPoolConfig] = Field(default_factory=list, description="The GPU node pools.")


class EnvironmentConfig(_Model):
    """Everything one stack (environment) is built from."""

    profile: Profile = Field(description="The environment profile whose defaults apply.")
    region: str = Field(
        pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$",
        description="AWS region (the `aws:region` key).",
    )
    tags: dict[str, str] = Field(
        description="Tags on every resource; `owner` and `cost-center` are required."
    )
    allowed_account_ids: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = Field(
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
    gpu: GpuConfig = Field(description="GPU node pools and budget.")
