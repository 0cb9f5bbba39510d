"""``mlops:gpu``: GPU node pools, their shared defaults and guardrails, and the software that
serves them (NVIDIA device plugin or GPU operator, Karpenter, the Cluster Autoscaler)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ...core import patterns
from ...gpu.cluster_autoscaler import DEFAULT_CHART_VERSION as CA_CHART_VERSION
from ...gpu.cluster_autoscaler import DEFAULT_IMAGE_TAG as CA_IMAGE_TAG
from ...gpu.cluster_autoscaler import Expander as AutoscalerExpander
from ...gpu.karpenter import CHART_VERSION as KARPENTER_CHART_VERSION
from ...gpu.node_pool import (
    DEFAULT_AMI_RELEASE_VERSION,
    MAX_ROOT_VOLUME_GIB,
    MIN_ROOT_VOLUME_GIB,
    AmiType,
    CapacityType,
    ConsolidationPolicy,
    PoolEngine,
    Workload,
)
from ...gpu.nvidia import (
    DCGM_EXPORTER_CHART_VERSION,
    DEVICE_PLUGIN_CHART_VERSION,
    GPU_OPERATOR_CHART_VERSION,
    MAX_TIME_SLICING_REPLICAS,
    MigStrategy,
    NvidiaMode,
)
from ...iam.service_linked import ServiceLinkedRoleMode
from .base import NodeGroupSize, NonNegative, SemVer, StrictModel, defaults_of, with_own_settings

ChartVersion = Annotated[str, Field(pattern=patterns.CHART_VERSION.regex)]
RootVolumeGib = Annotated[int, Field(ge=MIN_ROOT_VOLUME_GIB, le=MAX_ROOT_VOLUME_GIB)]
MaxUnavailable = Annotated[int, Field(ge=1)]
_ConsolidationReason = Annotated[str, Field(pattern=patterns.KARPENTER_CONSOLIDATION_REASON.regex)]


class TimeSlicingConfig(StrictModel):
    """Time-slicing: several pods share one GPU in turns (no memory or fault isolation)."""

    replicas: int = Field(
        ge=2,
        le=MAX_TIME_SLICING_REPLICAS,
        description="Pods that may share one GPU; each node advertises GPUs x replicas "
        "`nvidia.com/gpu`.",
    )


class MigConfig(StrictModel):
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


class GpuSharingConfig(StrictModel):
    """How a pool shares its GPUs: give `timeSlicing` or `mig`, not both."""

    time_slicing: TimeSlicingConfig | None = Field(
        None, description="Time-slicing (dev notebooks, small models)."
    )
    mig: MigConfig | None = Field(None, description="MIG partitioning (A100/H100-class pools).")


class DisruptionBudgetConfig(StrictModel):
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


class KarpenterDisruptionConfig(StrictModel):
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


class GpuPoolDefaultsConfig(StrictModel):
    """Settings every GPU pool takes unless it sets its own."""

    ami_type: AmiType = Field(
        AmiType.AL2023_X86_64_NVIDIA,
        description="EKS NVIDIA AMI type (AL2023 or Bottlerocket, for x86_64 or ARM instances).",
    )
    ami_release_version: str = Field(
        DEFAULT_AMI_RELEASE_VERSION,
        description="Pinned AMI release (AL2023 `<kubernetes>-<YYYYMMDD>`, Bottlerocket "
        "`<version>-<commit>`); Karpenter pins the matching alias. Roll dev first.",
    )
    root_volume_gib: RootVolumeGib = Field(
        200,
        alias="rootVolumeGiB",
        description="Encrypted gp3 volume for images and containers (GiB).",
    )
    max_unavailable: MaxUnavailable = Field(
        description="Managed node groups: nodes replaced at once during an update."
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
    workload: Workload = Field(description="What the pool runs.")
    engine: PoolEngine = Field(
        PoolEngine.MANAGED_NODE_GROUP,
        description="`managed-node-group` (EKS managed node group) or `karpenter` (NodePool).",
    )
    instance_types: list[str] = Field(
        min_length=1, description="GPU instance types; several give spot pools more capacity."
    )
    capacity_type: CapacityType = Field(description="How the pool's instances are bought.")
    ami_type: AmiType | None = Field(
        None, description="EKS NVIDIA AMI type; default `gpu.poolDefaults.amiType`."
    )
    ami_release_version: str | None = Field(
        None, description="Pinned AMI release; default `gpu.poolDefaults.amiReleaseVersion`."
    )
    root_volume_gib: RootVolumeGib | None = Field(
        None,
        alias="rootVolumeGiB",
        description="Node volume size (GiB); default `gpu.poolDefaults.rootVolumeGiB`.",
    )
    max_unavailable: MaxUnavailable | None = Field(
        None, description="Managed node groups: nodes replaced at once during an update."
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


class NvidiaConfig(StrictModel):
    """The cluster-wide NVIDIA software."""

    mode: NvidiaMode = Field(
        NvidiaMode.DEVICE_PLUGIN,
        description="`device-plugin` (the AMI ships driver and toolkit) or `gpu-operator` "
        "(needed for MIG).",
    )
    device_plugin_chart_version: ChartVersion = Field(
        DEVICE_PLUGIN_CHART_VERSION,
        description="Pinned nvidia-device-plugin chart version.",
    )
    gpu_operator_chart_version: ChartVersion = Field(
        GPU_OPERATOR_CHART_VERSION,
        description="Pinned gpu-operator chart version.",
    )
    dcgm_exporter_chart_version: ChartVersion = Field(
        DCGM_EXPORTER_CHART_VERSION,
        description="Pinned dcgm-exporter chart version (device-plugin mode).",
    )
    dcgm_exporter: bool = Field(True, description="Run the DCGM exporter (GPU metrics).")
    service_monitor: bool = Field(
        False,
        description="The exporter chart's own ServiceMonitor. Off: the observability stack "
        "already scrapes the exporter, adding the node label the GPU alerts use; a second "
        "monitor would scrape every GPU twice.",
    )


class KarpenterConfig(StrictModel):
    """The Karpenter controller (installed when any pool uses the karpenter engine)."""

    chart_version: SemVer = Field(
        KARPENTER_CHART_VERSION,
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


class ClusterAutoscalerConfig(StrictModel):
    """The Cluster Autoscaler (installed when any pool uses the managed-node-group engine)."""

    chart_version: SemVer = Field(
        CA_CHART_VERSION,
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


class GpuConfig(StrictModel):
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
        default_factory=defaults_of(NvidiaConfig),
        description="NVIDIA device plugin or GPU operator.",
    )
    karpenter: KarpenterConfig = Field(
        default_factory=defaults_of(KarpenterConfig), description="The Karpenter controller."
    )
    cluster_autoscaler: ClusterAutoscalerConfig = Field(
        description="The Cluster Autoscaler that scales managed-node-group pools."
    )
    spot_service_linked_role: ServiceLinkedRoleMode = Field(
        description="The EC2 Spot service-linked role (AWSServiceRoleForEC2Spot) spot pools "
        "need: `create` it with the stack when any pool is spot, or `exists` when the account "
        "already has it (one per account: creating it twice fails). Retained on destroy."
    )

    def pool_settings(self, pool: GpuPoolConfig) -> GpuPoolDefaultsConfig:
        """The settings ``pool`` builds with: its own where it sets them, else
        :attr:`pool_defaults`."""
        return with_own_settings(pool, self.pool_defaults)

    def effective_pools(self) -> list[GpuPoolConfig]:
        """Every pool with its unset settings taken from :attr:`pool_defaults`."""
        return [pool.model_copy(update=dict(self.pool_settings(pool))) for pool in self.pools]
