"""What each engine of a :class:`~.node_pool.GpuNodePool` is given: the labels every node
carries, the Cluster Autoscaler's node-template tags of a managed node group, its launch
template's volumes, and the ``EC2NodeClass`` and ``NodePool`` specs of a Karpenter pool."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi_aws as aws

from ..core.gpu_catalog import GpuInstanceType, mig_instances_per_gpu
from ..core.labels import (
    ACCELERATOR_LABEL,
    AMI_FAMILY_LABEL,
    CAPACITY_TYPE_LABEL,
    DEVICE_PLUGIN_CONFIG_LABEL,
    GPU_TAINT_KEY,
    MIG_CONFIG_LABEL,
    OPERATOR_DEVICE_PLUGIN_LABEL,
    POOL_LABEL,
    WORKLOAD_LABEL,
)
from ..core.nodes import IMDS_HOP_LIMIT
from .nvidia import BOTTLEROCKET, MigStrategy, mig_config_name

if TYPE_CHECKING:
    from .node_pool import AmiType, GpuNodePoolArgs

CA_PREFIX = "k8s.io/cluster-autoscaler"

BOTTLEROCKET_OS_VOLUME_GIB = 4


def karpenter_ami_alias(ami_type: AmiType, release_version: str) -> str:
    """The EC2NodeClass alias pinned to the same build as a managed node group release.

    AL2023 releases ``<k8s>-<YYYYMMDD>`` map to ``al2023@v<YYYYMMDD>``; Bottlerocket
    releases ``<version>-<commit>`` map to ``bottlerocket@v<version>``.
    """
    head, _, tail = release_version.partition("-")
    if ami_type.bottlerocket:
        return f"bottlerocket@v{head}"
    return f"al2023@v{tail}"


def node_labels(args: GpuNodePoolArgs, types: list[GpuInstanceType]) -> dict[str, str]:
    """Labels every node of the pool carries, whatever the engine."""
    models = sorted({t.gpu_model.value for t in types})
    labels = {
        **args.labels,
        ACCELERATOR_LABEL: models[0] if len(models) == 1 else "mixed",
        POOL_LABEL: str(args.pool_name),
        WORKLOAD_LABEL: args.workload.value,
        CAPACITY_TYPE_LABEL: args.capacity_type.value,
        AMI_FAMILY_LABEL: BOTTLEROCKET if args.ami_type.bottlerocket else "al2023",
    }
    if args.ami_type.bottlerocket:
        # Bottlerocket runs its own device plugin; keep the GPU operator's off these nodes.
        labels[OPERATOR_DEVICE_PLUGIN_LABEL] = "false"
    if args.sharing is not None:
        labels[DEVICE_PLUGIN_CONFIG_LABEL] = str(args.pool_name)
        if args.sharing.mig_profile:
            labels[MIG_CONFIG_LABEL] = mig_config_name(args.sharing.mig_profile)
    return labels


def gpu_resources(args: GpuNodePoolArgs, types: list[GpuInstanceType]) -> int:
    """``nvidia.com/gpu`` a node of the pool advertises (the smallest type, to be safe)."""
    gpus = min(t.gpus for t in types)
    sharing = args.sharing
    if sharing and sharing.time_slicing_replicas:
        return gpus * sharing.time_slicing_replicas
    if sharing and sharing.mig_profile and sharing.mig_strategy is MigStrategy.SINGLE:
        return gpus * (mig_instances_per_gpu(sharing.mig_profile) or 1)
    return gpus


def node_template_tags(labels: Mapping[str, str], gpus: int) -> dict[str, str]:
    """The Cluster Autoscaler's node-template tags: what a node of the group will carry (its
    labels, the GPU taint, ``gpus`` GPUs), read when the group has no node to look at."""
    return {
        **{f"{CA_PREFIX}/node-template/label/{k}": v for k, v in labels.items()},
        f"{CA_PREFIX}/node-template/taint/{GPU_TAINT_KEY}": "true:NoSchedule",
        f"{CA_PREFIX}/node-template/resources/{GPU_TAINT_KEY}": str(gpus),
    }


def autoscaler_tags(cluster: str, labels: Mapping[str, str], gpus: int) -> dict[str, str]:
    """Cluster Autoscaler discovery and node-template tags of a managed node group."""
    return {
        f"{CA_PREFIX}/enabled": "true",
        f"{CA_PREFIX}/{cluster}": "owned",
        **node_template_tags(labels, gpus),
    }


def autoscaling_group_name(resources: Any) -> str:
    """The Auto Scaling group behind a managed node group (its ``resources`` output)."""
    groups = (resources or [{}])[0].get("autoscaling_groups") or [{}]
    return groups[0].get("name", "")


def asg_tag_slug(key: str) -> str:
    """A tag key as part of a logical name: lowercase, ``-`` between words."""
    return re.sub(r"[^a-z0-9]+", "-", key.lower().removeprefix(f"{CA_PREFIX}/")).strip("-")


NODE_METADATA_OPTIONS: Mapping[str, Any] = {
    "httpEndpoint": "enabled",
    "httpProtocolIPv6": "disabled",
    "httpPutResponseHopLimit": IMDS_HOP_LIMIT,
    "httpTokens": "required",
}
"""Every GPU node's instance metadata service: IMDSv2 only (tokens required), IPv4, hop limit
1 (:data:`..core.nodes.IMDS_HOP_LIMIT`). EC2's names, which ``EC2NodeClass`` takes as they are."""


def launch_template_metadata_options() -> aws.ec2.LaunchTemplateMetadataOptionsArgs:
    """:data:`NODE_METADATA_OPTIONS` for a launch template; instance tags stay out of IMDS."""
    imds = NODE_METADATA_OPTIONS
    return aws.ec2.LaunchTemplateMetadataOptionsArgs(
        http_endpoint=imds["httpEndpoint"],
        http_protocol_ipv6=imds["httpProtocolIPv6"],
        http_put_response_hop_limit=imds["httpPutResponseHopLimit"],
        http_tokens=imds["httpTokens"],
        instance_metadata_tags="disabled",
    )


VOLUME_TYPE = "gp3"
VOLUME_IOPS = 3000
VOLUME_THROUGHPUT_MIBPS = 250


def volumes(args: GpuNodePoolArgs) -> list[tuple[str, int]]:
    """(device, GiB) of a node's volumes, the one holding images and containers last:
    Bottlerocket's OS volume and data volume, or AL2023's one root volume."""
    if args.ami_type.bottlerocket:
        return [("/dev/xvda", BOTTLEROCKET_OS_VOLUME_GIB), ("/dev/xvdb", args.root_volume_gib)]
    return [("/dev/xvda", args.root_volume_gib)]


def block_devices(args: GpuNodePoolArgs) -> list[aws.ec2.LaunchTemplateBlockDeviceMappingArgs]:
    """The launch template's :func:`volumes`: encrypted gp3, deleted with the node."""
    return [
        aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
            device_name=device,
            ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                volume_size=size,
                volume_type=VOLUME_TYPE,
                iops=VOLUME_IOPS,
                throughput=VOLUME_THROUGHPUT_MIBPS,
                encrypted="true",
                kms_key_id=args.root_volume_kms_key_arn,
                delete_on_termination="true",
            ),
        )
        for device, size in volumes(args)
    ]


def ec2_node_class_spec(
    args: GpuNodePoolArgs,
    *,
    discovery: str,
    role: str,
    kms_key_arn: str | None,
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """The ``EC2NodeClass`` spec of a Karpenter pool."""

    def ebs(size: int) -> dict[str, Any]:
        volume: dict[str, Any] = {
            "volumeSize": f"{size}Gi",
            "volumeType": VOLUME_TYPE,
            "iops": VOLUME_IOPS,
            "throughput": VOLUME_THROUGHPUT_MIBPS,
            "encrypted": True,
            "deleteOnTermination": True,
        }
        if kms_key_arn:
            volume["kmsKeyID"] = kms_key_arn
        return volume

    *others, (root_device, root_size) = volumes(args)
    devices: list[dict[str, Any]] = [
        *({"deviceName": device, "ebs": ebs(size)} for device, size in others),
        {"deviceName": root_device, "ebs": ebs(root_size), "rootVolume": True},
    ]
    selector = [{"tags": {"karpenter.sh/discovery": discovery}}]
    spec: dict[str, Any] = {
        "role": role,
        "amiSelectorTerms": [
            {"alias": karpenter_ami_alias(args.ami_type, args.ami_release_version)}
        ],
        "subnetSelectorTerms": selector,
        "securityGroupSelectorTerms": selector,
        "associatePublicIPAddress": False,
        "metadataOptions": dict(NODE_METADATA_OPTIONS),
        "blockDeviceMappings": devices,
        "detailedMonitoring": True,
        "tags": dict(tags),
    }
    if args.capacity_reservation_id:
        spec["capacityReservationSelectorTerms"] = [{"id": args.capacity_reservation_id}]
    return spec


def node_pool_spec(
    args: GpuNodePoolArgs,
    types: list[GpuInstanceType],
    node_class: str,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The ``NodePool`` spec of a Karpenter pool."""
    if args.capacity_reservation_id:
        capacity = ["reserved"] if args.capacity_block else ["reserved", "on-demand"]
    else:
        capacity = [args.capacity_type.value]
    arch = "arm64" if args.ami_type.architecture == "arm64" else "amd64"
    disruption = args.disruption
    budgets = []
    for budget in disruption.budgets:
        entry: dict[str, Any] = {"nodes": budget.nodes}
        if budget.reasons:
            entry["reasons"] = list(budget.reasons)
        if budget.schedule:
            entry["schedule"] = budget.schedule
            entry["duration"] = budget.duration
        budgets.append(entry)
    return {
        "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {
                "nodeClassRef": {
                    "group": "karpenter.k8s.aws",
                    "kind": "EC2NodeClass",
                    "name": node_class,
                },
                "taints": [{"key": GPU_TAINT_KEY, "value": "true", "effect": "NoSchedule"}],
                "requirements": [
                    {
                        "key": "node.kubernetes.io/instance-type",
                        "operator": "In",
                        "values": list(args.instance_types),
                    },
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": capacity},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": [arch]},
                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                ],
                "expireAfter": disruption.expire_after,
            },
        },
        "limits": {
            GPU_TAINT_KEY: str(args.max_size * max(t.gpus for t in types)),
            "cpu": str(args.max_size * max(t.vcpus for t in types)),
        },
        "disruption": {
            "consolidationPolicy": disruption.consolidation_policy.value,
            "consolidateAfter": disruption.consolidate_after,
            "budgets": budgets,
        },
    }
