"""The typed model of one environment's configuration.

Strict: unknown keys are errors and no value is coerced (``"3"`` is not an integer). Keys
are camelCase, as in the stack files. Defaults that are the same in every environment are
written here, once, as field defaults; defaults that differ per environment live only in
:mod:`mlops_platform.config.profiles`. Cross-field rules live in :mod:`mlops_platform.config.rules`.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..cluster.serving_cluster import SupportType
from ..core import patterns
from ..core.limits import (
    KMS_DELETION_WINDOW_DAYS,
    RDS_BACKUP_RETENTION_DAYS,
    first_problem,
    retention_problems,
)
from ..core.versions import (
    COREDNS_ADDON,
    EBS_CSI_DRIVER_ADDON,
    KUBE_PROXY_ADDON,
    KUBERNETES_VERSION,
    POD_IDENTITY_AGENT_ADDON,
    SUPPORTED_KUBERNETES_VERSIONS,
    SYSTEM_NODE_AMI_RELEASE,
    VPC_CNI_ADDON,
)
from ..deploy import runner as deploy_runner
from ..deploy.runner import CONNECTION_ARN
from ..gpu.cluster_autoscaler import DEFAULT_CHART_VERSION as CA_CHART_VERSION
from ..gpu.cluster_autoscaler import DEFAULT_IMAGE_TAG as CA_IMAGE_TAG
from ..gpu.cluster_autoscaler import Expander as AutoscalerExpander
from ..gpu.karpenter import CHART_VERSION as KARPENTER_CHART_VERSION
from ..gpu.node_pool import (
    DEFAULT_AMI_RELEASE_VERSION,
    MAX_ROOT_VOLUME_GIB,
    MIN_ROOT_VOLUME_GIB,
    AmiType,
    CapacityType,
    ConsolidationPolicy,
    PoolEngine,
    Workload,
)
from ..gpu.nvidia import (
    DCGM_EXPORTER_CHART_VERSION,
    DEVICE_PLUGIN_CHART_VERSION,
    GPU_OPERATOR_CHART_VERSION,
    MAX_TIME_SLICING_REPLICAS,
    MigStrategy,
    NvidiaMode,
)
from ..iam.service_linked import ServiceLinkedRoleMode
from ..network.network import NatStrategy
from ..network.terraform_state import DEFAULT_OUTPUT_NAMES
from ..observability.alert_rules import THRESHOLD_RANGES
from ..observability.observability import ReceiverType
from ..storage.artifact_store import BucketPurpose, ObjectLockMode, StorageClass
from ..storage.container_registry import Upstream
from ..storage.model_registry import MONITORING_INTERVALS


class Profile(StrEnum):
    """The environment profile a stack builds on."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


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


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"not an IPv4 CIDR block with its host bits zero ({exc}); e.g. 10.20.0.0/16"
        ) from None
    return str(network)


def _retention(value: int) -> int:
    problem = first_problem(retention_problems("", value))
    if problem:
        raise ValueError(problem)
    return value


def _kubernetes_version(value: str) -> str:
    if value not in SUPPORTED_KUBERNETES_VERSIONS:
        raise ValueError(
            "not a supported EKS version; allowed: " + ", ".join(SUPPORTED_KUBERNETES_VERSIONS)
        )
    return value


Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
KmsDeletionWindowDays = Annotated[
    int, Field(ge=KMS_DELETION_WINDOW_DAYS[0], le=KMS_DELETION_WINDOW_DAYS[1])
]
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


def _state_source(value: str) -> str:
    if value.startswith("s3://"):
        bucket, _, key = value.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise ValueError("an S3 state location is s3://<bucket>/<key>")
    elif not value.strip() or "://" in value:
        raise ValueError("a local terraform.tfstate path or s3://<bucket>/<key>")
    return value


TerraformStateSource = Annotated[str, AfterValidator(_state_source)]
SubnetId = Annotated[str, Field(pattern=patterns.SUBNET_ID.regex)]
_ConsolidationReason = Annotated[str, Field(pattern=patterns.KARPENTER_CONSOLIDATION_REASON.regex)]
SecurityGroupId = Annotated[str, Field(pattern=patterns.SECURITY_GROUP_ID.regex)]


class TerraformOutputNamesConfig(_Model):
    """Which Terraform outputs hold the network's values."""

    vpc_id: str = Field(
        DEFAULT_OUTPUT_NAMES["vpc_id"], min_length=1, description="Output holding the VPC ID."
    )
    vpc_cidr: str = Field(
        DEFAULT_OUTPUT_NAMES["vpc_cidr"],
        min_length=1,
        description="Output holding the VPC's primary IPv4 CIDR.",
    )
    private_subnet_ids: str = Field(
        DEFAULT_OUTPUT_NAMES["private_subnet_ids"],
        min_length=1,
        description="Output holding the node (private) subnet IDs, a list.",
    )
    public_subnet_ids: str | None = Field(
        None, description="Output holding the public subnet IDs; not read when unset."
    )
    pod_subnet_ids: str | None = Field(
        None, description="Output holding pod subnet IDs (custom networking); not read when unset."
    )


class TerraformStateConfig(_Model):
    """A Terraform state whose outputs describe an existing network."""

    source: TerraformStateSource = Field(
        description="A local `terraform.tfstate` path (relative to the project) or "
        "`s3://bucket/key`; S3 is read with the standard AWS environment (credentials, "
        "region, `AWS_ENDPOINT_URL`).",
    )
    region: str | None = Field(
        None,
        pattern=patterns.REGION.regex,
        description="Region of the state bucket; default: the AWS environment's region.",
    )
    outputs: TerraformOutputNamesConfig = Field(
        default_factory=lambda: TerraformOutputNamesConfig.model_validate({}),
        description="Output names to read; the defaults are the community VPC module's.",
    )


class ExistingNetworkConfig(_Model):
    """An existing VPC to use instead of creating one: by IDs or from a Terraform state."""

    vpc_id: str | None = Field(None, pattern=patterns.VPC_ID.regex, description="The VPC's ID.")
    vpc_cidr: Cidr | None = Field(None, description="The VPC's primary IPv4 CIDR.")
    private_subnet_ids: list[SubnetId] = Field(
        default_factory=list, description="Node subnets: at least one per AZ (azCount)."
    )
    public_subnet_ids: list[SubnetId] = Field(
        default_factory=list, description="Public subnets for internet-facing load balancers."
    )
    pod_subnet_ids: list[SubnetId] = Field(
        default_factory=list, description="Subnets for pod IPs (custom networking), if any."
    )
    availability_zones: list[str] = Field(
        default_factory=list,
        description="AZ names of the private subnets, in the same order, if known.",
    )
    terraform_state: TerraformStateConfig | None = Field(
        None, description="Read the VPC and subnets from a Terraform state's outputs instead."
    )


class NetworkConfig(_Model):
    """The environment's VPC."""

    vpc_cidr: Cidr = Field(
        "10.0.0.0/16",
        description="IPv4 CIDR of the VPC: /16 to /22 for 2 AZs, /21 for 3-4 (each AZ needs a "
        "/24 node subnet and a public subnet); below /21 give the subnet CIDRs yourself, since "
        "the default plan cuts an eighth of the VPC per AZ. Give each environment its own, "
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
    existing: ExistingNetworkConfig | None = Field(
        None,
        description="Bring your own network: use this existing VPC (by IDs or from a "
        "Terraform state) instead of creating one; the creation keys above are then unused.",
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
    disk_size_gib: int = Field(
        50, ge=20, le=1024, description="Size of each node's encrypted gp3 root volume (GiB)."
    )
    ami_release_version: str | None = Field(
        None,
        pattern=patterns.AMI_RELEASE.regex,
        description=f"EKS AL2023 AMI release (`<k8s>-<yyyymmdd>`, e.g. {SYSTEM_NODE_AMI_RELEASE}). "
        "Unset: "
        "the ServingCluster component's pinned default for its Kubernetes version.",
    )


RoleArn = Annotated[str, Field(pattern=patterns.IAM_ROLE_ARN.regex)]
HumanPrincipalArn = Annotated[str, Field(pattern=patterns.HUMAN_PRINCIPAL_ARN.regex)]
KubernetesName = Annotated[str, Field(pattern=patterns.DNS_LABEL.regex)]


class AddonVersionsConfig(_Model):
    """Pinned EKS managed add-on versions; unset keys take the ServingCluster defaults."""

    vpc_cni: str | None = Field(
        default=None,
        pattern=patterns.ADDON_VERSION.regex,
        description=f"vpc-cni build, e.g. {VPC_CNI_ADDON} (installed before nodes).",
    )
    kube_proxy: str | None = Field(
        default=None,
        pattern=patterns.ADDON_VERSION.regex,
        description=f"kube-proxy build, e.g. {KUBE_PROXY_ADDON} (installed before nodes).",
    )
    pod_identity_agent: str | None = Field(
        default=None,
        pattern=patterns.ADDON_VERSION.regex,
        description=f"eks-pod-identity-agent build, e.g. {POD_IDENTITY_AGENT_ADDON} "
        "(before nodes).",
    )
    coredns: str | None = Field(
        default=None,
        pattern=patterns.ADDON_VERSION.regex,
        description=f"coredns build, e.g. {COREDNS_ADDON} (after the system nodes).",
    )
    ebs_csi_driver: str | None = Field(
        default=None,
        pattern=patterns.ADDON_VERSION.regex,
        description=f"aws-ebs-csi-driver build, e.g. {EBS_CSI_DRIVER_ADDON} "
        "(after the system nodes).",
    )


class ClusterAccessConfig(_Model):
    """IAM roles mapped into the cluster through access entries (authentication mode API)."""

    admins: list[RoleArn] = Field(
        default_factory=list,
        description="Role ARNs given AmazonEKSClusterAdminPolicy on the whole cluster, besides "
        "the platform-admin and CI deploy roles the platform creates.",
    )
    read_only: list[RoleArn] = Field(
        default_factory=list,
        description="Role ARNs given AmazonEKSViewPolicy on `readOnlyNamespaces`, besides the "
        "platform's read-only role.",
    )
    read_only_namespaces: list[KubernetesName] = Field(
        default_factory=list,
        description="Namespaces the read-only roles may view; required when any read-only role "
        "is mapped.",
    )


class ClusterConfig(_Model):
    """The EKS serving cluster."""

    version: KubernetesVersion = Field(
        KUBERNETES_VERSION,
        description="Kubernetes version, pinned; upgrades are a deliberate config change.",
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
    api_ingress_cidrs: list[Cidr] | None = Field(
        None,
        description="Networks allowed to the private API endpoint (TCP 443 on the cluster "
        "security group): where `pulumi up` and `kubectl` run from, e.g. a VPN client pool or "
        "a peered CI network. Unset: the VPC CIDR (self-hosted runners in the VPC, and VPN or "
        "peered clients routed into it); `[]`: none. 0.0.0.0/0 is never accepted.",
    )
    api_ingress_security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list,
        description="Security groups (e.g. of self-hosted CI runners in the VPC) allowed to "
        "the private API endpoint on TCP 443.",
    )
    deletion_protection: bool = Field(description="EKS deletion protection on the cluster.")
    system_nodes: SystemNodesConfig = Field(description="The system node group.")
    support_type: SupportType = Field(
        SupportType.STANDARD,
        description="`STANDARD`: EKS upgrades the cluster when its version leaves standard "
        "support; `EXTENDED`: it stays, on paid extended support.",
    )
    secrets_key_deletion_window_days: KmsDeletionWindowDays = Field(
        description="Days KMS waits before deleting the secrets key (7..30); prod keeps 30.",
    )
    addons: AddonVersionsConfig = Field(
        default_factory=AddonVersionsConfig, description="Pinned managed add-on versions."
    )
    access: ClusterAccessConfig = Field(
        default_factory=ClusterAccessConfig, description="Access entries for IAM roles."
    )


class IamConfig(_Model):
    """Platform IAM: CI deploy role, permission boundary, human access roles."""

    ci_repository: str | None = Field(
        None,
        pattern=patterns.GITHUB_REPOSITORY.regex,
        description="GitHub repository (`org/repo`) whose workflows may deploy this stack "
        "through OIDC. Unset: no CI deploy role.",
    )
    ci_environment: str = Field(
        pattern=patterns.GITHUB_ENVIRONMENT.regex,
        description="GitHub environment the CI role trusts: the token's `sub` must be "
        "`repo:<ciRepository>:environment:<ciEnvironment>`.",
    )
    github_oidc_provider_arn: str | None = Field(
        None,
        pattern=patterns.GITHUB_OIDC_PROVIDER_ARN.regex,
        description="Existing GitHub Actions OIDC provider of the account (there can be only "
        "one). Unset: the platform creates it.",
    )
    permission_boundary_arn: str | None = Field(
        None,
        pattern=patterns.IAM_POLICY_ARN.regex,
        description="Existing permission boundary attached to every role the platform creates.",
    )
    state_bucket: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="S3 bucket holding the Pulumi state (`scripts.bootstrap_backend` creates "
        "`<project>-pulumi-state-<account>-<region>`): the CI deploy role may read and write "
        "it, which a deploy from the in-VPC runner needs. Unset: no state access (e.g. Pulumi "
        "Cloud).",
    )
    secrets_key_alias: str | None = Field(
        None,
        pattern=r"^alias/[A-Za-z0-9/_-]+$",
        description="Alias of the KMS key of the stacks' secrets provider (bootstrap-backend: "
        "`alias/<project>-pulumi-secrets`): the CI deploy role may encrypt and decrypt with "
        "it. Unset: not granted.",
    )
    create_permission_boundary: bool = Field(
        description="Create the platform's own permission boundary and attach it to every role "
        "(not together with `permissionBoundaryArn`)."
    )
    platform_admin_role: bool | None = Field(
        None,
        description="Create the human platform-admin role (cluster admin through EKS). Unset: "
        "created when `adminPrincipalArns` names someone; `true` requires principals.",
    )
    admin_principal_arns: list[HumanPrincipalArn] = Field(
        default_factory=list,
        description="Who may assume platform-admin: role ARNs, IAM user ARNs (MFA required) or "
        "an SSO permission-set role ARN pattern such as `arn:aws:iam::<account>:role/"
        "aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PlatformAdmin_*` (matched on "
        "`aws:PrincipalArn`). Never the account root; required while the role is on.",
    )
    read_only_role: bool | None = Field(
        None,
        description="Create the human read-only role. Unset: created when "
        "`readOnlyPrincipalArns` names someone; `true` requires principals.",
    )
    read_only_principal_arns: list[HumanPrincipalArn] = Field(
        default_factory=list,
        description="Who may assume the read-only role (same forms as `adminPrincipalArns`); "
        "required while the role is on.",
    )


class TimeSlicingConfig(_Model):
    """Time-slicing: several pods share one GPU in turns (no memory or fault isolation)."""

    replicas: int = Field(
        ge=2,
        le=MAX_TIME_SLICING_REPLICAS,
        description="Pods that may share one GPU; each node advertises GPUs x replicas "
        "`nvidia.com/gpu`.",
    )


class MigConfig(_Model):
    """Multi-Instance GPU: each GPU split into isolated instances (A100/H100/H200 only)."""

    strategy: MigStrategy = Field(
        MigStrategy.SINGLE,
        description="`single` (instances advertised as `nvidia.com/gpu`) or `mixed` (as "
        "`nvidia.com/mig-<profile>`).",
    )
    profile: str = Field(
        pattern=patterns.MIG_PROFILE.regex,
        description="MIG profile applied to every GPU of the pool, e.g. `1g.10gb`, or "
        "`balanced`; must exist on the pool's GPU model. Needs `gpu.nvidia.mode: gpu-operator`.",
    )


class GpuSharingConfig(_Model):
    """How a pool shares its GPUs: give `timeSlicing` or `mig`, not both."""

    time_slicing: TimeSlicingConfig | None = Field(
        None, description="Time-slicing (dev notebooks, small models)."
    )
    mig: MigConfig | None = Field(None, description="MIG partitioning (A100/H100-class pools).")


class DisruptionBudgetConfig(_Model):
    """A Karpenter disruption budget."""

    nodes: str = Field(
        pattern=patterns.COUNT_OR_PERCENT.regex,
        description="Most nodes disrupted at once: a count (`1`) or a percentage (`10%`).",
    )
    reasons: list[_ConsolidationReason] = Field(
        default_factory=list,
        description="Limit the budget to `Empty`, `Drifted` and/or `Underutilized`; all if empty.",
    )
    schedule: str | None = Field(
        None, description="Cron schedule when the budget applies (with `duration`)."
    )
    duration: str | None = Field(
        None,
        pattern=patterns.DURATION_UNITS.regex,
        description="How long after each schedule tick, e.g. `8h`.",
    )


class KarpenterDisruptionConfig(_Model):
    """How Karpenter may remove and replace a pool's nodes."""

    consolidation_policy: ConsolidationPolicy = Field(
        description="`WhenEmpty` (only idle nodes) or `WhenEmptyOrUnderutilized` (also repack)."
    )
    consolidate_after: str = Field(
        pattern=patterns.DURATION_OR_NEVER.regex,
        description="How long a node stays consolidatable before Karpenter acts.",
    )
    expire_after: str = Field(
        pattern=patterns.DURATION_OR_NEVER.regex,
        description="Node lifetime; expired nodes are replaced and pick up the pinned AMI "
        "(`Never` keeps them).",
    )
    budgets: list[DisruptionBudgetConfig] = Field(
        min_length=1, description="Disruption budgets; the most restrictive active one applies."
    )


class GpuPoolDefaultsConfig(_Model):
    """Settings every GPU pool takes unless it sets its own."""

    ami_type: AmiType = Field(
        AmiType.AL2023_X86_64_NVIDIA,
        description="EKS NVIDIA AMI type: `AL2023_x86_64_NVIDIA`, `AL2023_ARM_64_NVIDIA`, "
        "`BOTTLEROCKET_x86_64_NVIDIA` or `BOTTLEROCKET_ARM_64_NVIDIA`.",
    )
    ami_release_version: str = Field(
        DEFAULT_AMI_RELEASE_VERSION,
        description="Pinned AMI release (AL2023 `<kubernetes>-<YYYYMMDD>`, Bottlerocket "
        "`<version>-<commit>`); Karpenter pins the matching alias. Roll dev first.",
    )
    root_volume_gib: int = Field(
        200,
        alias="rootVolumeGiB",
        ge=MIN_ROOT_VOLUME_GIB,
        le=MAX_ROOT_VOLUME_GIB,
        description="Encrypted gp3 volume for images and containers (GiB).",
    )
    max_unavailable: int = Field(
        ge=1, description="Managed node groups: nodes replaced at once during an update."
    )
    disruption: KarpenterDisruptionConfig = Field(
        description="Karpenter pools: consolidation, expiry and budgets."
    )


class GpuPoolConfig(NodeGroupSize):
    """One GPU node pool."""

    name: str = Field(
        pattern=patterns.SHORT_NAME.regex,
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
    ami_type: AmiType | None = Field(
        None, description="EKS NVIDIA AMI type; default `gpu.poolDefaults.amiType`."
    )
    ami_release_version: str | None = Field(
        None, description="Pinned AMI release; default `gpu.poolDefaults.amiReleaseVersion`."
    )
    root_volume_gib: int | None = Field(
        None,
        alias="rootVolumeGiB",
        ge=MIN_ROOT_VOLUME_GIB,
        le=MAX_ROOT_VOLUME_GIB,
        description="Node volume size (GiB); default `gpu.poolDefaults.rootVolumeGiB`.",
    )
    max_unavailable: int | None = Field(
        None, ge=1, description="Managed node groups: nodes replaced at once during an update."
    )
    sharing: GpuSharingConfig | None = Field(
        None, description="GPU sharing: `timeSlicing: {replicas}` or `mig: {strategy, profile}`."
    )
    efa: bool = Field(
        False,
        description="Elastic Fabric Adapter in a cluster placement group (one AZ; managed node "
        "groups; EFA-capable types such as p4d, p5, g6e.8xlarge+).",
    )
    capacity_reservation_id: str | None = Field(
        None,
        pattern=patterns.CAPACITY_RESERVATION_ID.regex,
        description="Target an On-Demand Capacity Reservation or Capacity Block (`cr-...`); "
        "on-demand pools only.",
    )
    capacity_block: bool = Field(
        False,
        description="The reservation is a Capacity Block for ML (exactly one instance type).",
    )
    disruption: KarpenterDisruptionConfig | None = Field(
        None, description="Karpenter pools: default `gpu.poolDefaults.disruption`."
    )


class NvidiaConfig(_Model):
    """The cluster-wide NVIDIA software."""

    mode: NvidiaMode = Field(
        NvidiaMode.DEVICE_PLUGIN,
        description="`device-plugin` (the AMI ships driver and toolkit) or `gpu-operator` "
        "(needed for MIG).",
    )
    device_plugin_chart_version: str = Field(
        DEVICE_PLUGIN_CHART_VERSION,
        pattern=patterns.CHART_VERSION.regex,
        description="Pinned nvidia-device-plugin chart version.",
    )
    gpu_operator_chart_version: str = Field(
        GPU_OPERATOR_CHART_VERSION,
        pattern=patterns.CHART_VERSION.regex,
        description="Pinned gpu-operator chart version.",
    )
    dcgm_exporter_chart_version: str = Field(
        DCGM_EXPORTER_CHART_VERSION,
        pattern=patterns.CHART_VERSION.regex,
        description="Pinned dcgm-exporter chart version (device-plugin mode).",
    )
    dcgm_exporter: bool = Field(True, description="Run the DCGM exporter (GPU metrics).")
    service_monitor: bool = Field(
        False,
        description="The exporter chart's own ServiceMonitor. Off: the observability stack "
        "already scrapes the exporter, adding the node label the GPU alerts use; a second "
        "monitor would scrape every GPU twice.",
    )


class KarpenterConfig(_Model):
    """The Karpenter controller (installed when any pool uses the karpenter engine)."""

    chart_version: str = Field(
        KARPENTER_CHART_VERSION,
        pattern=patterns.SEMVER.regex,
        description="Pinned karpenter and karpenter-crd chart version.",
    )
    node_ssm_access: bool = Field(
        False, description="Session Manager access to Karpenter nodes (never SSH)."
    )


class AutoscalerExpanderName(StrEnum):
    """Cluster Autoscaler expanders selectable from config (``priority`` needs per-group
    priorities, which only the ClusterAutoscaler component takes)."""

    LEAST_WASTE = AutoscalerExpander.LEAST_WASTE.value
    LEAST_NODES = AutoscalerExpander.LEAST_NODES.value
    MOST_PODS = AutoscalerExpander.MOST_PODS.value
    RANDOM = AutoscalerExpander.RANDOM.value


class ClusterAutoscalerConfig(_Model):
    """The Cluster Autoscaler (installed when any pool uses the managed-node-group engine)."""

    chart_version: str = Field(
        CA_CHART_VERSION,
        pattern=patterns.SEMVER.regex,
        description="Pinned cluster-autoscaler chart version (its app version must match "
        "cluster.version).",
    )
    image_tag: str = Field(
        CA_IMAGE_TAG,
        pattern=patterns.IMAGE_TAG.regex,
        description="Pinned autoscaler image tag; its minor must equal cluster.version.",
    )
    expander: AutoscalerExpanderName = Field(
        AutoscalerExpanderName.LEAST_WASTE,
        description="How a node group is chosen among those that fit the pending pods "
        "(`least-waste`: the least idle capacity after the scale-up).",
    )
    scale_down_unneeded_time: str = Field(
        pattern=patterns.DURATION.regex,
        min_length=2,
        description="How long a node (an idle GPU node) stays unneeded before it is removed.",
    )
    scale_down_delay_after_add: str = Field(
        "10m",
        pattern=patterns.DURATION.regex,
        min_length=2,
        description="Pause of scale-down evaluation after a scale-up.",
    )
    skip_nodes_with_local_storage: bool = Field(
        False,
        description="Never remove nodes running pods with emptyDir/hostPath volumes. Off: "
        "model caches do not pin idle GPU nodes; pods that must stay carry "
        '`cluster-autoscaler.kubernetes.io/safe-to-evict: "false"`.',
    )


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
    pool_defaults: GpuPoolDefaultsConfig = Field(
        description="Settings pools take unless they set their own."
    )
    nvidia: NvidiaConfig = Field(
        default_factory=lambda: NvidiaConfig.model_validate({}),
        description="NVIDIA device plugin or GPU operator.",
    )
    karpenter: KarpenterConfig = Field(
        default_factory=lambda: KarpenterConfig.model_validate({}),
        description="The Karpenter controller.",
    )
    cluster_autoscaler: ClusterAutoscalerConfig = Field(
        description="The Cluster Autoscaler that scales managed-node-group pools."
    )
    spot_service_linked_role: ServiceLinkedRoleMode = Field(
        description="The EC2 Spot service-linked role (AWSServiceRoleForEC2Spot) spot pools "
        "need: `create` it with the stack when any pool is spot, or `exists` when the account "
        "already has it (one per account: creating it twice fails). Retained on destroy."
    )

    def effective_pools(self) -> list[GpuPoolConfig]:
        """Every pool with the unset settings taken from :attr:`pool_defaults`."""
        defaults = self.pool_defaults
        return [
            pool.model_copy(
                update={
                    "ami_type": pool.ami_type or defaults.ami_type,
                    "ami_release_version": pool.ami_release_version or defaults.ami_release_version,
                    "root_volume_gib": pool.root_volume_gib or defaults.root_volume_gib,
                    "max_unavailable": pool.max_unavailable or defaults.max_unavailable,
                    "disruption": pool.disruption or defaults.disruption,
                }
            )
            for pool in self.pools
        ]


class ReplicationConfig(_Model):
    """Cross-region replication of the artifact buckets."""

    enabled: bool = Field(False, description="Replicate the data buckets to `region`.")
    region: str | None = Field(
        None,
        pattern=patterns.REGION.regex,
        description="Destination region; required when enabled, and not the stack's region.",
    )
    purposes: list[BucketPurpose] | None = Field(
        None, description="Buckets to replicate; default: every data bucket."
    )


class ObjectLockConfig(_Model):
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


class StorageConfig(_Model):
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
        default_factory=lambda: ReplicationConfig.model_validate({}),
        description="Cross-region replication.",
    )
    object_lock: ObjectLockConfig = Field(
        default_factory=lambda: ObjectLockConfig.model_validate({}),
        description="Object Lock.",
    )


class RegistryConfig(_Model):
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


class ModelRegistryConfig(_Model):
    """The MLflow tracking server and model registry (RDS PostgreSQL + S3)."""

    enabled: bool = Field(True, description="Deploy MLflow.")
    instance_class: str = Field(
        pattern=patterns.RDS_INSTANCE_CLASS.regex, description="RDS instance class."
    )
    engine_version: str | None = Field(
        None,
        pattern=patterns.POSTGRES_MAJOR_MINOR.regex,
        description="PostgreSQL major.minor, pinned; unset: the version the ModelRegistry "
        "component is tested with (`DEFAULT_ENGINE_VERSION`). Upgrades are deliberate.",
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
    chart_version: str | None = Field(
        None,
        pattern=patterns.SEMVER.regex,
        description="Exact version of the community `mlflow` Helm chart; unset: the one the "
        "ModelRegistry component is tested with (`DEFAULT_CHART_VERSION`).",
    )
    artifact_prefix: str = Field(
        "mlflow/",
        pattern=patterns.S3_PREFIX.regex,
        description="Key prefix of MLflow artifacts in the models bucket (ends in `/`).",
    )
    internal_load_balancer: bool = Field(
        False, description="Expose MLflow on an internal NLB (VPC only); never internet-facing."
    )


def _threshold(key: str, default: float | None = None, *, description: str) -> Any:
    """A threshold field whose bounds come from the alert rules (one source of truth)."""
    low, high, low_inclusive, high_inclusive = THRESHOLD_RANGES[key]
    ge, gt = (low, None) if low_inclusive else (None, low)
    le, lt = (high, None) if high_inclusive else (None, high)
    if default is None:
        return Field(ge=ge, gt=gt, le=le, lt=lt, description=description)
    return Field(default, ge=ge, gt=gt, le=le, lt=lt, description=description)


class AlertThresholdsConfig(_Model):
    """The numbers the platform's alerts fire on."""

    gpu_memory_used_percent: float = _threshold(
        "gpu_memory_used_percent",
        description="GPU memory used (percent) sustained for 15 minutes (GpuMemoryNearFull).",
    )
    gpu_temperature_celsius: float = _threshold(
        "gpu_temperature_celsius",
        87.0,
        description="GPU temperature (C) held for 10 minutes (GpuThermalThrottling).",
    )
    gpu_idle_utilization_percent: float = _threshold(
        "gpu_idle_utilization_percent",
        5.0,
        description="Average utilization (percent) under which a GPU counts as idle (GpuIdle).",
    )
    gpu_idle_minutes: int = _threshold(
        "gpu_idle_minutes", description="Minutes a GPU stays idle before GpuIdle fires."
    )
    gpu_pending_pod_minutes: int = _threshold(
        "gpu_pending_pod_minutes",
        description="Minutes a pod requesting GPUs may stay Pending (GpuPodsPending).",
    )
    inference_error_rate_percent: float = _threshold(
        "inference_error_rate_percent",
        description="Serving SLO: percent of requests answered 5xx (InferenceErrorRateHigh).",
    )
    inference_p99_latency_seconds: float = _threshold(
        "inference_p99_latency_seconds",
        description="Serving SLO: p99 latency in seconds (InferenceLatencyHigh).",
    )
    scrape_down_minutes: int = _threshold(
        "scrape_down_minutes", description="Minutes a scrape target may be down (ScrapeTargetDown)."
    )
    prometheus_storage_used_percent: float = _threshold(
        "prometheus_storage_used_percent",
        85.0,
        description="Percent of the Prometheus volume used (PrometheusStorageFilling).",
    )


class AmpConfig(_Model):
    """Amazon Managed Prometheus: a workspace Prometheus remote-writes to."""

    enabled: bool = Field(False, description="Create the workspace and remote-write to it.")
    region: str | None = Field(
        None,
        pattern=patterns.REGION.regex,
        description="Region of the workspace; required when enabled (AMP is not in every region).",
    )


class ObservabilityConfig(_Model):
    """Metrics, dashboards, alerting and application log groups."""

    receivers: list[ReceiverType] = Field(
        description="Alert receivers: `sns` (a KMS-encrypted topic created by the stack) "
        "and/or `webhook`; empty: alerts route nowhere."
    )
    webhook_url: str | None = Field(
        None,
        pattern=patterns.HTTPS_URL.regex,
        json_schema_extra={"secret": True},
        examples=["https://hooks.example.com/alertmanager"],
        description="HTTPS URL of the webhook receiver; set it as a secret: "
        "`pulumi config set --secret --path mlops:observability.webhookUrl <url>`.",
    )
    thresholds: AlertThresholdsConfig = Field(description="Alert thresholds.")
    prometheus_retention_days: int = Field(
        ge=1, le=3650, description="Days Prometheus keeps metrics."
    )
    kms_deletion_window_days: KmsDeletionWindowDays = Field(
        description="Waiting period of a scheduled deletion of the observability key (log "
        "groups and alert topic)."
    )
    prometheus_storage_gib: int = Field(
        ge=10, le=16384, description="Size (GiB) of each Prometheus volume (encrypted gp3)."
    )
    prometheus_replicas: int = Field(ge=1, le=5, description="Prometheus replicas.")
    grafana_internal_load_balancer: bool = Field(
        False, description="Expose Grafana on an internal load balancer (VPC only)."
    )
    application_log_groups: list[Annotated[str, Field(pattern=patterns.LOG_GROUP_NAME.regex)]] = (
        Field(
            default_factory=lambda: ["applications"],
            description="CloudWatch log groups for application logs, one per name "
            "(`{project}-{stack}-<name>`), retained for logRetentionDays.",
        )
    )
    runbook_base_url: str | None = Field(
        None,
        description="Base URL of docs/runbooks that alerts link to (e.g. your Git host's "
        "view of the folder); unset: the repository-relative path.",
    )
    amp: AmpConfig = Field(
        default_factory=lambda: AmpConfig.model_validate({}),
        description="Amazon Managed Prometheus remote write.",
    )


# --- serving: load balancer controller and tenants -----------------------------------------


class LoadBalancerControllerConfig(_Model):
    """The AWS Load Balancer Controller (internal load balancers for Services and Ingresses)."""

    replicas: int = Field(ge=1, le=5, description="Controller replicas (2+ for availability).")
    chart_version: str | None = Field(
        None,
        pattern=r"^\d+\.\d+\.\d+$",
        description="Exact `aws-load-balancer-controller` chart version; unset: the one the "
        "LoadBalancerController component is tested with (`CHART_VERSION`).",
    )


_QUANTITY = r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
Quantity = Annotated[str, Field(pattern=_QUANTITY)]


class TenantQuotaDefaultsConfig(_Model):
    """Quota every tenant gets unless it sets its own."""

    cpu: Quantity = Field(description="CPU a tenant may request (`requests.cpu`).")
    memory: Quantity = Field(description="Memory a tenant may request and use.")
    pods: int = Field(ge=1, le=5000, description="Most pods in a tenant namespace.")
    load_balancers: int = Field(
        ge=0, le=20, description="Most LoadBalancer Services in a tenant namespace."
    )


class TenantConfig(_Model):
    """One team's namespace on the cluster."""

    name: str = Field(
        pattern=r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$",
        description="The team: a DNS label (at most 40 characters); also the namespace.",
    )
    owner: str | None = Field(
        None, description="Who answers for the tenant (a team or person). Required."
    )
    gpus: int = Field(0, ge=0, description="GPUs the namespace may request at once.")
    cpu: Quantity | None = Field(None, description="CPU quota; unset: quotaDefaults.cpu.")
    memory: Quantity | None = Field(None, description="Memory quota; unset: quotaDefaults.")
    pods: int | None = Field(None, ge=1, le=5000, description="Pod quota; unset: quotaDefaults.")
    load_balancers: int | None = Field(
        None, ge=0, le=20, description="LoadBalancer Services; unset: quotaDefaults."
    )
    access_role_arns: list[RoleArn] = Field(
        default_factory=list,
        description="The team's own IAM roles: each gets edit rights in the namespace only.",
    )
    https_egress_cidrs: list[Cidr] | None = Field(
        None,
        description="Where the team's pods may open HTTPS connections; unset: anywhere "
        "(AWS APIs), never the instance metadata service.",
    )


class TenancyConfig(_Model):
    """Teams' namespaces (`Tenant` per team) and how far their GPU quotas may overcommit."""

    gpu_overcommit: float = Field(
        ge=1.0,
        le=10.0,
        description="How far the sum of tenants' GPU quotas may exceed gpu.budgetGpus "
        "(1 = not at all).",
    )
    quota_defaults: TenantQuotaDefaultsConfig = Field(
        description="Quota every tenant gets unless it sets its own."
    )
    teams: list[TenantConfig] = Field(default_factory=list, description="The tenants.")


class DeployPhase(StrEnum):
    """How much of the environment a run builds (the two-phase bootstrap)."""

    INFRASTRUCTURE = "infrastructure"
    """Phase 1: everything that needs no Kubernetes API (network, IAM, cluster with its EKS
    add-ons and system nodes, deploy runner, buckets, ECR); runs from anywhere."""
    ALL = "all"
    """Phase 2 and every later run: everything, including what runs on the cluster."""


def _connection_arn(value: str) -> str:
    if not CONNECTION_ARN.match(value):
        raise ValueError(
            "not an AWS CodeConnections connection ARN; e.g. "
            "arn:aws:codeconnections:us-east-1:111122223333:connection/<uuid>"
        )
    return value


def _runner_compute(value: str) -> str:
    if value not in deploy_runner.COMPUTE_TYPES:
        raise ValueError(
            "not a CodeBuild Linux compute type; allowed: " + ", ".join(deploy_runner.COMPUTE_TYPES)
        )
    return value


class DeployRunnerConfig(_Model):
    """The in-VPC deploy runner: a CodeBuild-hosted GitHub Actions runner in the private
    subnets (docs/components/deploy-runner.md)."""

    enabled: bool = Field(
        description="Build the runner (phase 1), the way into a private-only API endpoint."
    )
    connection_arn: Annotated[str, AfterValidator(_connection_arn)] | None = Field(
        None,
        description="ARN of the AWS CodeConnections connection to GitHub, created once by a "
        "person (docs/operations.md, First deploy). Required when enabled.",
    )
    alternative_access: str | None = Field(
        None,
        min_length=3,
        description="With the runner off and a private-only endpoint (test/prod): how "
        "deploys reach the API instead (e.g. `VPN 10.50.0.0/16 via Transit Gateway`); a "
        "source outside the VPC CIDR also goes into `cluster.apiIngressCidrs`.",
    )
    image: str = Field(
        deploy_runner.DEFAULT_IMAGE,
        min_length=1,
        description="Build image: a CodeBuild managed image (pinned major) or an ECR image.",
    )
    compute_type: Annotated[str, AfterValidator(_runner_compute)] = Field(
        deploy_runner.DEFAULT_COMPUTE_TYPE,
        description="Compute of each runner build.",
    )
    concurrent_build_limit: int = Field(
        deploy_runner.DEFAULT_CONCURRENT_BUILDS,
        ge=1,
        le=deploy_runner.MAX_CONCURRENT_BUILDS,
        description="Most workflow jobs the runner takes at once.",
    )
    build_timeout_minutes: int = Field(
        deploy_runner.DEFAULT_BUILD_TIMEOUT_MINUTES,
        ge=deploy_runner.MIN_TIMEOUT_MINUTES,
        le=deploy_runner.MAX_BUILD_TIMEOUT,
        description="Longest a job may run, in minutes.",
    )


class EnvironmentConfig(_Model):
    """Everything one stack (environment) is built from."""

    profile: Profile = Field(description="The environment profile whose defaults apply.")
    region: str = Field(
        pattern=patterns.REGION.regex,
        description="AWS region (the `aws:region` key).",
    )
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
