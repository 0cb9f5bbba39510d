"""``GpuNodePool``: one pool of NVIDIA GPU nodes, on either capacity engine.

- ``managed-node-group``: an EKS managed node group on an EKS NVIDIA AMI (AL2023 by
  default, Bottlerocket optional) with a pinned release version, a hardened launch
  template, the GPU taint and labels, scale-to-zero bounds and the Cluster Autoscaler's
  node-template tags on the Auto Scaling group so it can scale up from zero.
- ``karpenter``: a Karpenter ``NodePool`` + ``EC2NodeClass`` (needs :class:`Karpenter`
  installed in the cluster) with GPU/CPU limits derived from ``max_size``, disruption
  settings and the AMI alias pinned from the same release version.

Both engines give nodes the same taint and labels, so workloads do not care which engine
runs them.

The component, its args and their checks are this module; what each engine is given (node
labels, autoscaler tags, volumes, the Karpenter specs) is built by :mod:`.node_pool_specs`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..core.component import Component
from ..core.gpu_catalog import (
    EFA_CAPABLE,
    GPU_INSTANCE_TYPES,
    MIG_BALANCED,
    MIG_PROFILES,
    UNSUPPORTED_ACCELERATOR_FAMILIES,
    GpuInstanceType,
    is_gpu_family,
)
from ..core.labels import GPU_TAINT_KEY, POOL_LABEL
from ..core.naming import NameKind, physical_name
from ..core.patterns import (
    CAPACITY_RESERVATION_ID,
    COUNT_OR_PERCENT,
    DURATION_OR_NEVER,
    SHORT_NAME,
)
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..core.versions import GPU_NODE_AMI_RELEASE
from .node_pool_specs import (
    BOTTLEROCKET_OS_VOLUME_GIB,
    CA_PREFIX,
    asg_tag_slug,
    autoscaler_tags,
    autoscaling_group_name,
    block_devices,
    ec2_node_class_spec,
    gpu_resources,
    karpenter_ami_alias,
    launch_template_metadata_options,
    node_labels,
    node_pool_spec,
    node_template_tags,
)
from .nvidia import GpuSharing, sharing_problems

__all__ = [
    "BOTTLEROCKET_OS_VOLUME_GIB",
    "CA_PREFIX",
    "DEFAULT_AMI_RELEASE_VERSION",
    "MAX_ROOT_VOLUME_GIB",
    "MIN_ROOT_VOLUME_GIB",
    "AmiType",
    "CapacityType",
    "ConsolidationPolicy",
    "DisruptionBudget",
    "GpuNodePool",
    "GpuNodePoolArgs",
    "KarpenterDisruption",
    "PoolEngine",
    "Workload",
    "ami_release_problem",
    "autoscaler_tags",
    "capacity_block_types_problem",
    "ec2_node_class_spec",
    "instance_type_problem",
    "karpenter_ami_alias",
    "node_labels",
    "node_pool_spec",
    "reservation_capacity_problem",
    "spot_diversification_warning",
    "validate_pool",
]

DEFAULT_AMI_RELEASE_VERSION = GPU_NODE_AMI_RELEASE
"""EKS AL2023 NVIDIA AMI release pinned by default (:mod:`mlops_platform.core.versions`)."""

MIN_ROOT_VOLUME_GIB = 50
MAX_ROOT_VOLUME_GIB = 16384  # gp3 maximum


class PoolEngine(StrEnum):
    """What provisions the pool's nodes."""

    MANAGED_NODE_GROUP = "managed-node-group"
    KARPENTER = "karpenter"


class CapacityType(StrEnum):
    """How nodes are bought."""

    ON_DEMAND = "on-demand"
    SPOT = "spot"


class Workload(StrEnum):
    """What the pool runs (a node label; prod serving pools stay on-demand)."""

    SERVING = "serving"
    BATCH = "batch"
    TRAINING = "training"
    NOTEBOOK = "notebook"


class AmiType(StrEnum):
    """EKS NVIDIA AMI types (managed node groups); Karpenter uses the matching alias."""

    AL2023_X86_64_NVIDIA = "AL2023_x86_64_NVIDIA"
    AL2023_ARM_64_NVIDIA = "AL2023_ARM_64_NVIDIA"
    BOTTLEROCKET_X86_64_NVIDIA = "BOTTLEROCKET_x86_64_NVIDIA"
    BOTTLEROCKET_ARM_64_NVIDIA = "BOTTLEROCKET_ARM_64_NVIDIA"

    @property
    def architecture(self) -> str:
        """``x86_64`` or ``arm64``."""
        return "arm64" if "ARM_64" in self.value else "x86_64"

    @property
    def bottlerocket(self) -> bool:
        """Whether this is a Bottlerocket AMI."""
        return self.value.startswith("BOTTLEROCKET")


class ConsolidationPolicy(StrEnum):
    """When Karpenter may remove or replace nodes."""

    WHEN_EMPTY = "WhenEmpty"
    WHEN_EMPTY_OR_UNDERUTILIZED = "WhenEmptyOrUnderutilized"


@dataclass(frozen=True)
class DisruptionBudget:
    """A Karpenter disruption budget: at most ``nodes`` disrupted at once."""

    nodes: str = "10%"
    """A count (``"1"``) or a percentage (``"10%"``) of the pool's nodes."""
    reasons: tuple[str, ...] = ()
    """Restrict the budget to ``Empty``, ``Drifted`` and/or ``Underutilized``; all if empty."""
    schedule: str | None = None
    """Cron schedule when the budget applies (with ``duration``)."""
    duration: str | None = None
    """How long the budget applies after each ``schedule`` tick, e.g. ``8h``."""


@dataclass(frozen=True)
class KarpenterDisruption:
    """Karpenter's disruption settings for one pool."""

    consolidation_policy: ConsolidationPolicy = ConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED
    """What Karpenter consolidates: empty nodes only, or also underutilized ones."""
    consolidate_after: str = "10m"
    """How long a node must be consolidatable before Karpenter acts (Go duration)."""
    expire_after: str = "720h"
    """Node lifetime; nodes are replaced after it, picking up new AMIs (``Never`` to keep)."""
    budgets: tuple[DisruptionBudget, ...] = (DisruptionBudget(),)
    """Disruption budgets; the most restrictive active one applies."""


@dataclass
class GpuNodePoolArgs:
    """Arguments of :class:`GpuNodePool`."""

    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster."""
    instance_types: Sequence[str]
    """GPU instance types (from the catalog); spot pools should list at least two."""
    workload: Workload
    """What the pool runs: serving, batch, training or notebook."""
    name_prefix: str
    """Physical-name prefix, ``{project}-{stack}``."""
    pool_name: str | None = None
    """Pool name used in labels and physical names; defaults to the component name."""
    engine: PoolEngine = PoolEngine.MANAGED_NODE_GROUP
    """``managed-node-group`` or ``karpenter``."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """``on-demand`` or ``spot``."""
    min_size: int = 0
    """Fewest nodes (0 lets the pool scale to zero). Karpenter pools keep no minimum."""
    desired_size: int = 0
    """Nodes at creation; the autoscaler owns the number afterwards (managed node groups)."""
    max_size: int = 1
    """Most nodes; with the GPUs per node it bounds the pool's GPUs (Karpenter ``limits``)."""
    ami_type: AmiType = AmiType.AL2023_X86_64_NVIDIA
    """EKS NVIDIA AMI type; its architecture must match the instance types."""
    ami_release_version: str = DEFAULT_AMI_RELEASE_VERSION
    """Pinned AMI release, ``<k8s>.<patch>-<YYYYMMDD>`` (AL2023) or ``<version>-<commit>``
    (Bottlerocket); Karpenter pins the matching alias (``al2023@v<YYYYMMDD>``)."""
    kubernetes_version: str | None = None
    """The cluster's Kubernetes version (``1.34``); checked against an AL2023 release."""
    node_role_arn: pulumi.Input[str] | None = None
    """IAM role of the nodes (managed node groups)."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Private subnets of the nodes (managed node groups)."""
    security_group_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Node security groups; default: EKS attaches the cluster security group. Required
    with EFA (the group must allow all traffic to and from itself)."""
    root_volume_gib: int = 200
    """Size of the encrypted gp3 volume holding images and containers (ML images are big)."""
    root_volume_kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed KMS key for the volumes; default: the account's EBS key."""
    max_unavailable: int = 1
    """Nodes replaced at once during a managed node group update."""
    sharing: GpuSharing | None = None
    """Time-slicing or MIG; rendered by :class:`NvidiaSoftware` under the pool name."""
    efa: bool = False
    """Attach an Elastic Fabric Adapter and launch into a cluster placement group (one AZ;
    managed node groups; EFA-capable types only)."""
    capacity_reservation_id: str | None = None
    """Target an On-Demand Capacity Reservation or a Capacity Block (``cr-...``)."""
    capacity_block: bool = False
    """The reservation is a Capacity Block for ML (one instance type, fixed term)."""
    karpenter_node_role_name: pulumi.Input[str] | None = None
    """Name of the node role Karpenter launches nodes with (Karpenter)."""
    discovery_tag_value: pulumi.Input[str] | None = None
    """Value of the ``karpenter.sh/discovery`` tag on node subnets and security groups;
    default: the cluster name (Karpenter)."""
    disruption: KarpenterDisruption = field(default_factory=KarpenterDisruption)
    """Consolidation, expiry and budgets (Karpenter)."""
    kubernetes_provider: pulumi.ProviderResource | None = None
    """The cluster's Kubernetes provider (Karpenter)."""
    kubernetes_dependencies: Sequence[pulumi.Resource] = ()
    """What the Kubernetes objects wait for: the Karpenter release that installs the CRDs."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra node labels."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags merged into every taggable child."""


def spot_diversification_warning(args: GpuNodePoolArgs) -> str | None:
    """Guidance (not an error) for spot pools with a single instance type."""
    if args.capacity_type is CapacityType.SPOT and len(args.instance_types) < 2:
        return (
            f"spot pool '{args.pool_name}' lists one instance type "
            f"({', '.join(args.instance_types)}); spot capacity for a single GPU type is often "
            "unavailable or reclaimed together. List two or more types with the same GPU "
            "where the family has them."
        )
    return None


class GpuNodePool(Component, legacy_module="gpu_node_pool"):
    """A pool of NVIDIA GPU nodes: tainted, labelled, pinned, and able to scale to zero."""

    pool_name: pulumi.Output[str]
    """The pool's name (its ``mlops/gpu-pool`` node label)."""

    max_gpus: pulumi.Output[int]
    """Most GPUs the pool can run: max nodes x the most GPUs per node."""

    node_selector: pulumi.Output[dict[str, str]]
    """Node selector that targets this pool."""

    tolerations: pulumi.Output[list[dict[str, str]]]
    """Tolerations workloads need to run on the pool."""

    node_group_name: pulumi.Output[str | None]
    """EKS managed node group name (managed-node-group engine), else None."""

    node_pool_name: pulumi.Output[str | None]
    """Karpenter NodePool name (karpenter engine), else None."""

    def __init__(
        self,
        name: str,
        args: GpuNodePoolArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        pool = args.pool_name or name
        args = self.accept(name, dataclasses.replace(args, pool_name=pool), validate_pool)
        super().__init__(name, opts)
        warning = spot_diversification_warning(args)
        if warning:
            pulumi.log.warn(warning, resource=self)

        types = [GPU_INSTANCE_TYPES[t] for t in args.instance_types]
        self.labels = node_labels(args, types)
        self.sharing = args.sharing
        max_gpus = args.max_size * max(t.gpus for t in types)

        node_group_name: pulumi.Input[str | None] = None
        node_pool_name: pulumi.Input[str | None] = None
        if args.engine is PoolEngine.MANAGED_NODE_GROUP:
            node_group_name = self._managed_node_group(name, pool, args, types)
        else:
            node_pool_name = self._karpenter(name, pool, args, types)

        self.publish(
            pool_name=pulumi.Output.from_input(pool),
            max_gpus=pulumi.Output.from_input(max_gpus),
            node_selector=pulumi.Output.from_input({POOL_LABEL: pool}),
            tolerations=pulumi.Output.from_input(
                [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}]
            ),
            node_group_name=pulumi.Output.from_input(node_group_name),
            node_pool_name=pulumi.Output.from_input(node_pool_name),
        )

    # --- managed node group --------------------------------------------------------------

    def _managed_node_group(
        self, name: str, pool: str, args: GpuNodePoolArgs, types: list[GpuInstanceType]
    ) -> pulumi.Output[str]:
        child = self.child()
        tags = merge_tags(args.tags, {"mlops:gpu-pool": pool})

        placement = None
        if args.efa:
            group = aws.ec2.PlacementGroup(
                f"{name}-placement",
                strategy="cluster",
                name=physical_name(
                    f"gpu-{pool}", NameKind.LAUNCH_TEMPLATE, args.name_prefix, owner=self.owner
                ),
                tags=tags,
                opts=child,
            )
            placement = aws.ec2.LaunchTemplatePlacementArgs(group_name=group.name)

        network_interfaces = None
        security_group_ids = args.security_group_ids
        if args.efa:
            network_interfaces = [
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    network_card_index=0,
                    interface_type="efa",
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=args.security_group_ids,
                )
            ]
            security_group_ids = None  # with explicit interfaces, groups go on the interface

        reservation = None
        market = None
        if args.capacity_reservation_id:
            reservation = aws.ec2.LaunchTemplateCapacityReservationSpecificationArgs(
                capacity_reservation_target=aws.ec2.LaunchTemplateCapacityReservationSpecificationCapacityReservationTargetArgs(
                    capacity_reservation_id=args.capacity_reservation_id
                )
            )
            if args.capacity_block:
                market = aws.ec2.LaunchTemplateInstanceMarketOptionsArgs(
                    market_type="capacity-block"
                )

        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-launch-template",
            name=physical_name(
                f"gpu-{pool}", NameKind.LAUNCH_TEMPLATE, args.name_prefix, owner=self.owner
            ),
            description=f"GPU pool {pool}: IMDSv2 only, encrypted volumes, no SSH",
            update_default_version=True,
            metadata_options=launch_template_metadata_options(),
            block_device_mappings=block_devices(args),
            vpc_security_group_ids=security_group_ids,
            network_interfaces=network_interfaces,
            placement=placement,
            capacity_reservation_specification=reservation,
            instance_market_options=market,
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=tags,
            opts=child,
        )

        subnet_ids: Any = args.subnet_ids
        if args.efa:  # a cluster placement group lives in one AZ
            subnet_ids = pulumi.Output.from_input(args.subnet_ids).apply(
                lambda ids: list(ids or [])[:1]
            )

        ca_tags = pulumi.Output.from_input(args.cluster_name).apply(
            lambda cluster: autoscaler_tags(cluster, self.labels, gpu_resources(args, types))
        )
        capacity = (
            "CAPACITY_BLOCK"
            if args.capacity_block
            else ("SPOT" if args.capacity_type is CapacityType.SPOT else "ON_DEMAND")
        )
        node_group = aws.eks.NodeGroup(
            f"{name}-node-group",
            cluster_name=args.cluster_name,
            node_group_name=physical_name(
                f"gpu-{pool}", NameKind.EKS_NODE_GROUP, args.name_prefix, owner=self.owner
            ),
            node_role_arn=args.node_role_arn,
            subnet_ids=subnet_ids,
            ami_type=args.ami_type.value,
            release_version=args.ami_release_version,
            version=args.kubernetes_version,
            capacity_type=capacity,
            instance_types=list(args.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.min_size,
                desired_size=args.desired_size,
                max_size=args.max_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=args.max_unavailable),
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            labels=self.labels,
            taints=[
                aws.eks.NodeGroupTaintArgs(key=GPU_TAINT_KEY, value="true", effect="NO_SCHEDULE")
            ],
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id,
                version=launch_template.latest_version.apply(str),
            ),
            tags=ca_tags.apply(lambda ca: merge_tags(tags, ca)),
            opts=self.child(ignore_changes=["scalingConfig.desiredSize"]),
        )

        # EKS does not copy node group tags to its Auto Scaling group, where the Cluster
        # Autoscaler reads them when a group has no node to look at (scale from zero).
        asg_name = node_group.resources.apply(autoscaling_group_name)
        template_tags = node_template_tags(self.labels, gpu_resources(args, types))
        for key, value in sorted(template_tags.items()):
            aws.autoscaling.Tag(
                f"{name}-asg-tag-{asg_tag_slug(key)}",
                autoscaling_group_name=asg_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=child,
            )
        return node_group.node_group_name

    # --- Karpenter -----------------------------------------------------------------------

    def _karpenter(
        self, name: str, pool: str, args: GpuNodePoolArgs, types: list[GpuInstanceType]
    ) -> pulumi.Output[str]:
        opts = self.child(
            provider=args.kubernetes_provider, depends_on=list(args.kubernetes_dependencies)
        )
        k8s_name = physical_name(
            f"gpu-{pool}", NameKind.KUBERNETES, args.name_prefix, owner=self.owner
        )
        tags = merge_tags(args.tags, {"mlops:gpu-pool": pool})
        discovery = args.discovery_tag_value or args.cluster_name
        node_class = k8s.apiextensions.CustomResource(
            f"{name}-node-class",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            metadata={"name": k8s_name},
            spec=pulumi.Output.all(
                discovery, args.karpenter_node_role_name, args.root_volume_kms_key_arn
            ).apply(
                lambda v: ec2_node_class_spec(
                    args, discovery=str(v[0]), role=str(v[1]), kms_key_arn=v[2], tags=tags
                )
            ),
            opts=opts,
        )
        node_pool = k8s.apiextensions.CustomResource(
            f"{name}-node-pool",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            metadata={"name": k8s_name},
            spec=node_pool_spec(args, types, k8s_name, self.labels),
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[node_class])
            ),
        )
        return node_pool.id.apply(lambda _: k8s_name)


# --- validation ----------------------------------------------------------------------------

_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_AL2023_RELEASE = re.compile(r"^(\d+\.\d+)\.\d+-(\d{8})$")
_BOTTLEROCKET_RELEASE = re.compile(r"^\d+\.\d+\.\d+-[0-9a-f]{8}$")


def instance_type_problem(arg: str, name: str) -> Invalid | None:
    """Why ``name`` cannot be in a GPU pool, or None when it can."""
    if name in GPU_INSTANCE_TYPES:
        return None
    family = name.split(".", 1)[0]
    supported = ", ".join(sorted({t.family for t in GPU_INSTANCE_TYPES.values()}))
    if not _INSTANCE_TYPE.match(name):
        return Invalid(arg, name, f"not an EC2 instance type; supported GPU families: {supported}")
    if is_gpu_family(family):
        sizes = sorted(t for t in GPU_INSTANCE_TYPES if t.startswith(f"{family}."))
        return Invalid(arg, name, "unknown instance type; known sizes: " + ", ".join(sizes))
    if family in UNSUPPORTED_ACCELERATOR_FAMILIES:
        return Invalid(
            arg, name, f"its accelerators are not supported; supported GPU families: {supported}"
        )
    return Invalid(
        arg, name, f"a CPU-only instance type has no GPU for a GPU pool; use one of: {supported}"
    )


def validate_pool(args: GpuNodePoolArgs) -> list[Invalid]:
    """Every problem with a pool's arguments (collected, not raised)."""
    problems: list[Invalid] = []
    if not args.instance_types:
        problems.append(Invalid("instance_types", [], "at least one GPU instance type"))
    for i, name in enumerate(args.instance_types):
        problem = instance_type_problem(f"instance_types[{i}]", name)
        if problem:
            problems.append(problem)
    types = [GPU_INSTANCE_TYPES[t] for t in args.instance_types if t in GPU_INSTANCE_TYPES]

    pool = str(args.pool_name)
    if not SHORT_NAME.matches(pool):
        problems.append(
            Invalid("pool_name", pool, "lowercase letters, digits, hyphens; at most 24 characters")
        )

    sizes = {
        "min_size": args.min_size,
        "desired_size": args.desired_size,
        "max_size": args.max_size,
    }
    if args.min_size < 0 or args.max_size < 1:
        problems.append(Invalid("min_size", sizes, "min_size >= 0 and max_size >= 1"))
    if args.min_size > args.max_size:
        problems.append(Invalid("min_size", sizes, "min_size must not exceed max_size"))
    elif not args.min_size <= args.desired_size <= args.max_size:
        problems.append(Invalid("desired_size", sizes, "min_size <= desired_size <= max_size"))

    for t in types:
        if t.architecture != args.ami_type.architecture:
            problems.append(
                Invalid(
                    "ami_type",
                    args.ami_type.value,
                    f"{t.name} is {t.architecture}; use an {t.architecture} NVIDIA AMI type",
                )
            )
            break
    problems += _release_problems(args)

    if not MIN_ROOT_VOLUME_GIB <= args.root_volume_gib <= MAX_ROOT_VOLUME_GIB:
        problems.append(
            Invalid(
                "root_volume_gib",
                args.root_volume_gib,
                f"{MIN_ROOT_VOLUME_GIB}-{MAX_ROOT_VOLUME_GIB} GiB (ML images need room)",
            )
        )
    if args.max_unavailable < 1:
        problems.append(Invalid("max_unavailable", args.max_unavailable, "at least 1"))

    problems += sharing_problems("sharing", args.sharing)
    if args.sharing is not None and args.ami_type.bottlerocket:
        problems.append(
            Invalid(
                "sharing",
                "time-slicing" if args.sharing.time_slicing_replicas else "mig",
                "Bottlerocket runs its own NVIDIA device plugin, which the platform's sharing "
                "configs do not reach; use an AL2023 NVIDIA AMI for shared GPUs",
            )
        )
    problems += _mig_problems(args, types)
    problems += _placement_problems(args, types)
    problems += _engine_problems(args)
    return problems


def ami_release_problem(
    release: str,
    bottlerocket: bool,
    kubernetes_version: str | None,
    version_is: str = "the cluster runs",
) -> str | None:
    """What is wrong with a pool's pinned AMI release (the pool and the stack configuration
    both ask): a Bottlerocket ``<version>-<commit>`` or an AL2023 ``<kubernetes>-<YYYYMMDD>``
    built for ``kubernetes_version`` (when known; ``version_is`` says where it comes from)."""
    if bottlerocket:
        # An all-digit 20YYMMDD suffix is an AL2023 build date, not a Bottlerocket commit.
        if not _BOTTLEROCKET_RELEASE.match(release) or _AL2023_RELEASE.match(release):
            return "a pinned Bottlerocket release '<version>-<commit>', e.g. 1.50.0-a1b2c3d4"
        return None
    match = _AL2023_RELEASE.match(release)
    if not match:
        return "a pinned AL2023 release '<kubernetes>-<YYYYMMDD>', e.g. " + (
            DEFAULT_AMI_RELEASE_VERSION
        )
    if kubernetes_version and match.group(1) != kubernetes_version:
        return (
            f"built for Kubernetes {match.group(1)}, but {version_is} {kubernetes_version}; "
            f"pin a {kubernetes_version}.x release"
        )
    return None


def reservation_capacity_problem(reserved: bool, capacity_type: CapacityType) -> str | None:
    """Spot capacity asked of a capacity reservation."""
    if reserved and capacity_type is CapacityType.SPOT:
        return "a capacity reservation is on-demand capacity; use on-demand"
    return None


def capacity_block_types_problem(capacity_block: bool, instance_types: Sequence[str]) -> str | None:
    """A Capacity Block pool that does not list exactly the block's one instance type."""
    if capacity_block and len(instance_types) != 1:
        return "a Capacity Block holds one instance type; list exactly that one"
    return None


def _release_problems(args: GpuNodePoolArgs) -> list[Invalid]:
    release = args.ami_release_version
    wrong = ami_release_problem(release, args.ami_type.bottlerocket, args.kubernetes_version)
    return [Invalid("ami_release_version", release, wrong)] if wrong else []


def _mig_problems(args: GpuNodePoolArgs, types: list[GpuInstanceType]) -> list[Invalid]:
    sharing = args.sharing
    if sharing is None or not sharing.mig_profile:
        return []
    problems: list[Invalid] = []
    for t in types:
        if not t.mig_capable:
            problems.append(
                Invalid(
                    "sharing.mig_profile",
                    sharing.mig_profile,
                    f"{t.name} ({t.gpu_model.value}) has no MIG; MIG needs A100, H100 or H200 "
                    "(p4d, p4de, p5, p5e, p5en)",
                )
            )
        elif (
            sharing.mig_profile != MIG_BALANCED
            and sharing.mig_profile not in MIG_PROFILES[t.gpu_model]
        ):
            problems.append(
                Invalid(
                    "sharing.mig_profile",
                    sharing.mig_profile,
                    f"not a MIG profile of {t.gpu_model.value}; allowed: "
                    + ", ".join((*MIG_PROFILES[t.gpu_model], MIG_BALANCED)),
                )
            )
    return problems


def _placement_problems(args: GpuNodePoolArgs, types: list[GpuInstanceType]) -> list[Invalid]:
    problems: list[Invalid] = []
    if args.efa:
        missing = [t.name for t in types if t.name not in EFA_CAPABLE]
        if missing:
            problems.append(Invalid("efa", True, "these types have no EFA: " + ", ".join(missing)))
        if args.engine is not PoolEngine.MANAGED_NODE_GROUP:
            problems.append(
                Invalid(
                    "efa",
                    True,
                    "EFA with a cluster placement group is built on the managed-node-group engine",
                )
            )
        if args.security_group_ids is None:
            problems.append(
                Invalid(
                    "security_group_ids",
                    None,
                    "EFA needs a security group that allows all traffic to and from itself",
                )
            )
    if args.capacity_reservation_id is not None:
        if not CAPACITY_RESERVATION_ID.matches(args.capacity_reservation_id):
            problems.append(
                Invalid(
                    "capacity_reservation_id",
                    args.capacity_reservation_id,
                    "a capacity reservation ID such as cr-0123456789abcdef0",
                )
            )
        if spot := reservation_capacity_problem(True, args.capacity_type):
            problems.append(Invalid("capacity_type", "spot", spot))
    if args.capacity_block:
        if args.capacity_reservation_id is None:
            problems.append(
                Invalid("capacity_block", True, "needs capacity_reservation_id of the block")
            )
        if one_type := capacity_block_types_problem(True, args.instance_types):
            problems.append(Invalid("instance_types", list(args.instance_types), one_type))
    return problems


def _engine_problems(args: GpuNodePoolArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if args.engine is PoolEngine.MANAGED_NODE_GROUP:
        for arg in ("node_role_arn", "subnet_ids"):
            if getattr(args, arg) is None:
                problems.append(Invalid(arg, None, "required by the managed-node-group engine"))
        return problems
    for arg in ("karpenter_node_role_name", "kubernetes_provider"):
        if getattr(args, arg) is None:
            problems.append(Invalid(arg, None, "required by the karpenter engine"))
    if args.min_size > 0:
        problems.append(
            Invalid(
                "min_size",
                args.min_size,
                "Karpenter launches nodes for pending pods and keeps no minimum; use 0, or a "
                "managed node group for an always-on baseline",
            )
        )
    disruption = args.disruption
    for arg, value in (
        ("disruption.consolidate_after", disruption.consolidate_after),
        ("disruption.expire_after", disruption.expire_after),
    ):
        if not DURATION_OR_NEVER.matches(value):
            problems.append(Invalid(arg, value, "a duration such as 30s, 10m, 720h, or Never"))
    if not disruption.budgets:
        problems.append(Invalid("disruption.budgets", [], "at least one budget, e.g. nodes: 10%"))
    for i, budget in enumerate(disruption.budgets):
        if not COUNT_OR_PERCENT.matches(budget.nodes):
            problems.append(
                Invalid(f"disruption.budgets[{i}].nodes", budget.nodes, "a count or a percentage")
            )
        if (budget.schedule is None) != (budget.duration is None):
            problems.append(
                Invalid(
                    f"disruption.budgets[{i}].schedule",
                    budget.schedule,
                    "schedule and duration go together",
                )
            )
    return problems
