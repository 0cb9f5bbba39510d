"""``ClusterAutoscaler``: the Kubernetes Cluster Autoscaler for EKS managed node groups.

Managed node groups (the system nodes and the ``managed-node-group`` GPU pools) are EC2 Auto
Scaling groups whose desired size nobody changes unless an autoscaler does: the pools are
created at ``desired_size`` (often 0) and Pulumi ignores later changes to it. This component
installs the Cluster Autoscaler that owns that number: it watches pending pods, picks a node
group whose node template fits them (GPU pools advertise theirs through the
``k8s.io/cluster-autoscaler/node-template/*`` tags :class:`mlops_platform.gpu.node_pool.GpuNodePool`
puts on their Auto Scaling groups, so they scale up from zero), and gives idle nodes back after
``scale_down_unneeded_time``.

* Chart: the official ``cluster-autoscaler`` chart at a pinned version whose app version
  matches the cluster's Kubernetes minor (the autoscaler's minor must equal Kubernetes').
* Discovery: Auto Scaling groups tagged ``k8s.io/cluster-autoscaler/enabled`` and
  ``k8s.io/cluster-autoscaler/<cluster>`` (EKS puts both on every managed node group's group).
* Identity: an EKS Pod Identity role. Reads (``Describe*``) are on ``*`` (they support no
  resource-level permissions) limited to the cluster's region; the two writes
  (``SetDesiredCapacity``, ``TerminateInstanceInAutoScalingGroup``) only on Auto Scaling groups
  tagged as owned by this cluster; ``eks:DescribeNodegroup`` only on this cluster's groups.
* Placement: the system nodes (``role=system``), ``system-cluster-critical``, non-root,
  read-only root filesystem, no capabilities.

Karpenter pools are not Auto Scaling groups; the autoscaler never sees them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pulumi

from ..cluster.kubernetes import SYSTEM_NODE_LABELS, helm_release
from ..core.checks import chart_problems, pattern_problems
from ..core.component import Component
from ..core.limits import range_problems
from ..core.patterns import DURATION, IMAGE_TAG, SEMVER
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..core.versions import (
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_CHART_REPOSITORY,
    CLUSTER_AUTOSCALER_IMAGE_TAG,
)
from ..iam import POLICY_VERSION, PodIdentity, arn_part, cluster_document

DEFAULT_CHART_VERSION = CLUSTER_AUTOSCALER_CHART
"""The ``cluster-autoscaler`` chart pinned by default (:mod:`mlops_platform.core.versions`)."""

DEFAULT_IMAGE_TAG = CLUSTER_AUTOSCALER_IMAGE_TAG
"""Autoscaler image tag pinned by default (the chart's app version). Its minor must equal the
cluster's Kubernetes minor."""

CHART_REPOSITORY = CLUSTER_AUTOSCALER_CHART_REPOSITORY
"""The chart's official Helm repository."""

CA_TAG_PREFIX = "k8s.io/cluster-autoscaler"
"""Prefix of the autoscaler's discovery and node-template tags."""

SYSTEM_NODE_SELECTOR: dict[str, str] = SYSTEM_NODE_LABELS
"""The label ServingCluster puts on its system node group; the autoscaler runs there, never on
the GPU nodes it may remove."""

NON_ROOT_ID = 65534
"""The ``nobody`` user and group the container runs as."""

WILDCARD_RESOURCE_EXCEPTIONS: dict[str, str] = {
    "ClusterAutoscalerRegionalRead": "autoscaling:Describe*, ec2:DescribeImages, "
    "ec2:DescribeInstanceTypes, ec2:DescribeLaunchTemplateVersions and "
    "ec2:GetInstanceTypesFromInstanceRequirements support no resource-level permissions; "
    "limited to the cluster's region by aws:RequestedRegion",
}
"""Statements of the autoscaler's policy that ``Allow`` on resource ``*``, and why (same
contract as :data:`mlops_platform.iam.documents.WILDCARD_RESOURCE_EXCEPTIONS`)."""


class Expander(StrEnum):
    """How the autoscaler picks among node groups that all fit the pending pods."""

    LEAST_WASTE = "least-waste"
    """The group that leaves the least CPU/memory idle after the scale-up (the default)."""
    LEAST_NODES = "least-nodes"
    """The group that needs the fewest new nodes."""
    MOST_PODS = "most-pods"
    """The group that schedules the most pods."""
    RANDOM = "random"
    """Any fitting group."""
    PRIORITY = "priority"
    """The highest-priority group by ``expander_priorities`` (ties: least-waste)."""


@dataclass
class ClusterAutoscalerArgs:
    """Inputs of :class:`ClusterAutoscaler`."""

    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster (auto-discovery tags, the role's tag condition)."""

    cluster_arn: pulumi.Input[str]
    """ARN of the cluster: pins the Pod Identity trust and gives partition, region, account."""

    kubernetes_provider: pulumi.ProviderResource
    """The cluster's Kubernetes provider."""

    name_prefix: str
    """Physical-name prefix, ``{project}-{stack}``; the role is ``{prefix}-cluster-autoscaler``."""

    chart_version: str = DEFAULT_CHART_VERSION
    """Pinned ``cluster-autoscaler`` chart version."""

    chart_repository: str = CHART_REPOSITORY
    """Helm repository of the chart (https)."""

    image_tag: str = DEFAULT_IMAGE_TAG
    """Pinned autoscaler image tag ``vX.Y.Z``; X.Y must be the cluster's Kubernetes minor."""

    image_repository: str | None = None
    """Image repository (e.g. a mirror in the environment's ECR); ``None``: the chart's."""

    namespace: str = "kube-system"
    """Namespace of the autoscaler."""

    service_account: str = "cluster-autoscaler"
    """Service account the autoscaler runs as (bound to its role by Pod Identity)."""

    replicas: int = 1
    """Replicas (leader-elected; one is active, a second only shortens fail-over)."""

    expander: Expander = Expander.LEAST_WASTE
    """How to choose among fitting node groups."""

    expander_priorities: Mapping[int, Sequence[str]] = field(default_factory=dict)
    """Priority -> regexes of Auto Scaling group names (higher wins); required with
    ``Expander.PRIORITY`` and refused otherwise."""

    scale_down_unneeded_time: str = "10m"
    """How long a node must be unneeded before it is removed (Go duration, e.g. ``5m``)."""

    scale_down_delay_after_add: str = "10m"
    """How long after a scale-up scale-down evaluation resumes (Go duration)."""

    scale_down_utilization_threshold: float = 0.5
    """A node whose requested share (GPU share on GPU nodes) is below this is a candidate."""

    max_node_provision_time: str = "15m"
    """How long a new node may take to register before the group is backed off."""

    skip_nodes_with_local_storage: bool = False
    """``True``: never remove a node running a pod with ``emptyDir``/``hostPath`` volumes.
    ``False`` (default) lets model caches in ``emptyDir`` not pin idle GPU nodes; pods that must
    not move carry ``cluster-autoscaler.kubernetes.io/safe-to-evict: "false"``."""

    skip_nodes_with_system_pods: bool = True
    """Never remove a node running non-DaemonSet ``kube-system`` pods (system nodes only: GPU
    nodes run no such pods)."""

    resources: Mapping[str, Any] = field(
        default_factory=lambda: {
            "requests": {"cpu": "100m", "memory": "300Mi"},
            "limits": {"memory": "600Mi"},
        }
    )
    """Container requests and limits."""

    permission_boundary_arn: pulumi.Input[str] | None = None
    """Permission boundary of the role (the platform's, when it has one)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags merged into every taggable child."""


def _scaling_problems(args: ClusterAutoscalerArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    for arg in (
        "scale_down_unneeded_time",
        "scale_down_delay_after_add",
        "max_node_provision_time",
    ):
        value = getattr(args, arg)
        if not value or not DURATION.matches(value):
            problems.append(Invalid(arg, value, "a Go duration such as 10m or 1h30m"))
    threshold = args.scale_down_utilization_threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not (0 < threshold <= 1)
    ):
        problems.append(
            Invalid("scale_down_utilization_threshold", threshold, "a number in (0, 1]")
        )
    return problems


def _expander_problems(args: ClusterAutoscalerArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if not isinstance(args.expander, Expander):
        problems.append(Invalid("expander", args.expander, ", ".join(e.value for e in Expander)))
    elif args.expander is Expander.PRIORITY and not args.expander_priorities:
        problems.append(
            Invalid(
                "expander_priorities",
                dict(args.expander_priorities),
                "at least one priority -> [group-name regex] with the priority expander",
            )
        )
    elif args.expander is not Expander.PRIORITY and args.expander_priorities:
        problems.append(
            Invalid(
                "expander_priorities",
                dict(args.expander_priorities),
                "only with expander=priority",
            )
        )
    for priority, patterns in args.expander_priorities.items():
        if isinstance(priority, bool) or not isinstance(priority, int) or priority < 0:
            problems.append(
                Invalid(f"expander_priorities[{priority!r}]", priority, "a non-negative integer")
            )
        if not patterns or isinstance(patterns, str):
            problems.append(
                Invalid(f"expander_priorities[{priority!r}]", patterns, "a list of regexes")
            )
            continue
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error:
                problems.append(
                    Invalid(f"expander_priorities[{priority!r}]", pattern, "a valid regex")
                )
    return problems


def validate(args: ClusterAutoscalerArgs) -> list[Invalid]:
    """Every problem with ``args``."""
    problems: list[Invalid] = []
    if not args.name_prefix.strip():
        problems.append(Invalid("name_prefix", args.name_prefix, "a non-empty prefix"))
    problems += chart_problems(args, example=DEFAULT_CHART_VERSION, pattern=SEMVER)
    if not IMAGE_TAG.matches(args.image_tag):
        problems.append(
            Invalid(
                "image_tag", args.image_tag, "a pinned release tag such as v1.34.2, never latest"
            )
        )
    problems += pattern_problems(args, "namespace", "service_account", allowed="a DNS-1123 label")
    problems += range_problems("replicas", args.replicas, (1, 3))
    problems += _scaling_problems(args)
    problems += _expander_problems(args)
    return problems


def controller_policy(*, partition: str, region: str, account: str, cluster: str) -> dict[str, Any]:
    """The autoscaler's least-privilege policy (a dict, see the module docstring)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ClusterAutoscalerRegionalRead",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
            },
            {
                "Sid": "ClusterAutoscalerDescribeNodegroups",
                "Effect": "Allow",
                "Action": ["eks:DescribeNodegroup"],
                "Resource": f"arn:{partition}:eks:{region}:{account}:nodegroup/{cluster}/*/*",
            },
            {
                "Sid": "ClusterAutoscalerScaleOwnGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": (
                    f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:"
                    "autoScalingGroupName/*"
                ),
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/{CA_TAG_PREFIX}/{cluster}": "owned",
                        f"aws:ResourceTag/{CA_TAG_PREFIX}/enabled": "true",
                    }
                },
            },
        ],
    }


def extra_args(args: ClusterAutoscalerArgs) -> dict[str, str]:
    """The autoscaler flags the chart renders as ``--<key>=<value>``."""
    expander = args.expander.value
    if args.expander is Expander.PRIORITY:
        expander = f"{Expander.PRIORITY.value},{Expander.LEAST_WASTE.value}"
    return {
        "expander": expander,
        "balance-similar-node-groups": "true",
        "skip-nodes-with-system-pods": str(args.skip_nodes_with_system_pods).lower(),
        "skip-nodes-with-local-storage": str(args.skip_nodes_with_local_storage).lower(),
        # GPU nodes run several DaemonSets (device plugin, DCGM exporter, CNI, CSI): counting
        # them would keep an idle GPU node above the threshold.
        "ignore-daemonsets-utilization": "true",
        "scale-down-unneeded-time": args.scale_down_unneeded_time,
        "scale-down-delay-after-add": args.scale_down_delay_after_add,
        "scale-down-utilization-threshold": str(args.scale_down_utilization_threshold),
        "max-node-provision-time": args.max_node_provision_time,
        "v": "2",
    }


def chart_values(
    args: ClusterAutoscalerArgs, cluster_name: pulumi.Input[str], region: pulumi.Input[str]
) -> dict[str, Any]:
    """Values of the ``cluster-autoscaler`` chart (every key exists in its ``values.yaml``)."""
    image: dict[str, Any] = {"tag": args.image_tag}
    if args.image_repository:
        image["repository"] = args.image_repository
    values: dict[str, Any] = {
        "fullnameOverride": "cluster-autoscaler",
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "image": image,
        "replicaCount": args.replicas,
        "rbac": {
            "create": True,
            "serviceAccount": {"create": True, "name": args.service_account},
        },
        "extraArgs": extra_args(args),
        "nodeSelector": dict(SYSTEM_NODE_SELECTOR),
        "priorityClassName": "system-cluster-critical",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NON_ROOT_ID,
            "runAsGroup": NON_ROOT_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "podDisruptionBudget": {"maxUnavailable": 1},
        "resources": dict(args.resources),
        "service": {"create": True, "type": "ClusterIP"},
    }
    if args.expander is Expander.PRIORITY:
        values["expanderPriorities"] = {
            # the chart renders each key with `int`; Helm values keys are strings
            str(priority): list(patterns)
            for priority, patterns in args.expander_priorities.items()
        }
    return values


class ClusterAutoscaler(Component, legacy_module="cluster_autoscaler"):
    """The Cluster Autoscaler, its Pod Identity role and the chart release."""

    role_arn: pulumi.Output[str]
    """ARN of the autoscaler's Pod Identity role."""

    chart_version: pulumi.Output[str]
    """The chart version installed."""

    image_tag: pulumi.Output[str]
    """The autoscaler image tag installed."""

    def __init__(
        self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, validate)
        super().__init__(name, opts)
        tags = merge_tags(args.tags, {"mlops:component": "cluster-autoscaler"})
        workload = PodIdentity.of(self, args).role(
            f"{name}-controller",
            role="cluster-autoscaler",
            namespace=args.namespace,
            service_account=args.service_account,
            policy=cluster_document(args.cluster_arn, controller_policy, cluster=args.cluster_name),
            tags=tags,
        )

        self.release = helm_release(
            f"{name}-release",
            chart="cluster-autoscaler",
            version=args.chart_version,
            repository=args.chart_repository,
            namespace=args.namespace,
            values=chart_values(args, args.cluster_name, arn_part(args.cluster_arn, "region")),
            # Credentials must exist before the first pod starts, or it crash-loops.
            opts=self.child(provider=args.kubernetes_provider, depends_on=[workload.ready]),
        )
        """The chart release."""

        self.publish(
            role_arn=workload.role.arn,
            chart_version=pulumi.Output.from_input(args.chart_version),
            image_tag=pulumi.Output.from_input(args.image_tag),
        )
