"""``Karpenter``: the Karpenter controller, installed once per cluster when a pool uses it.

It creates what Karpenter needs around the chart: the controller's EKS Pod Identity role
(least privilege, scoped to this cluster's tags, this region and its own queue and node
role), the SQS interruption queue (server-side encrypted, TLS-only) fed by EventBridge
rules for spot interruptions, rebalance recommendations, instance state changes and AWS
Health scheduled changes, and the node role with its EKS access entry. The CRDs come from
their own chart (``karpenter-crd``) so chart upgrades also upgrade them; both charts are
pinned to one version. Pools (:class:`GpuNodePool` with the karpenter engine) then create
their ``NodePool``/``EC2NodeClass`` objects after :attr:`Karpenter.release`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..cluster.kubernetes import CRITICAL_ADDONS_TOLERATION, helm_release
from ..core.checks import chart_problems, pattern_problems
from ..core.component import Component
from ..core.naming import NameKind, physical_name
from ..core.patterns import SEMVER
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..core.versions import KARPENTER_CHART, KARPENTER_CHART_REPOSITORY
from ..iam import (
    MANAGED_POLICY_ARNS,
    POLICY_VERSION,
    PodIdentity,
    arn_part,
    cluster_document,
    policy_json,
)

CHART_VERSION = KARPENTER_CHART
"""Karpenter (controller and CRD charts) pinned by default."""

CHART_REPOSITORY = KARPENTER_CHART_REPOSITORY
"""Karpenter's official OCI chart repository."""

INTERRUPTION_EVENTS: dict[str, dict[str, Any]] = {
    "spot-interruption": {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Spot Instance Interruption Warning"],
    },
    "rebalance": {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Instance Rebalance Recommendation"],
    },
    "state-change": {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Instance State-change Notification"],
    },
    "scheduled-change": {
        "source": ["aws.health"],
        "detail-type": ["AWS Health Event"],
    },
}
"""EventBridge patterns whose events Karpenter handles (drains the node before it goes)."""

WILDCARD_RESOURCE_EXCEPTIONS: dict[str, str] = {
    "KarpenterRegionalRead": "the ec2:Describe* calls Karpenter makes (instance types, offerings, "
    "spot prices, subnets, images) support no resource-level permissions; limited to the "
    "cluster's region by aws:RequestedRegion",
    "KarpenterReadPrices": "pricing:GetProducts supports no resource-level permissions",
}
"""Controller-policy statements that ``Allow`` on resource ``*``, and why (same contract as
:data:`mlops_platform.iam.documents.WILDCARD_RESOURCE_EXCEPTIONS`)."""

DISCOVERY_TAG = "karpenter.sh/discovery"
"""Tag (value: the cluster name) by which EC2NodeClasses select subnets and security groups."""


@dataclass
class KarpenterArgs:
    """Arguments of :class:`Karpenter`."""

    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster."""
    cluster_arn: pulumi.Input[str]
    """ARN of the cluster (pins the Pod Identity trust; gives partition, region, account)."""
    cluster_endpoint: pulumi.Input[str]
    """API server endpoint of the cluster."""
    kubernetes_provider: pulumi.ProviderResource
    """The cluster's Kubernetes provider."""
    name_prefix: str
    """Physical-name prefix, ``{project}-{stack}``."""
    chart_version: str = CHART_VERSION
    """Pinned version of the ``karpenter`` and ``karpenter-crd`` charts."""
    chart_repository: str = CHART_REPOSITORY
    """OCI repository of the charts."""
    namespace: str = "kube-system"
    """Namespace of the controller."""
    service_account: str = "karpenter"
    """Service account of the controller (bound to its role by Pod Identity)."""
    replicas: int = 2
    """Controller replicas (leader-elected; two survive a node loss)."""
    reserved_capacity: bool = False
    """Turn on the reserved-capacity feature gate (pools targeting capacity reservations)."""
    reserved_enis: int = 0
    """ENIs Karpenter leaves out of its max-pods and kube-reserved figures: 1 under VPC CNI
    custom networking (the primary ENI carries no pod addresses), else 0."""
    node_ssm_access: bool = False
    """Attach AmazonSSMManagedInstanceCore to the node role (Session Manager; no SSH either way)."""
    discovery_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups to tag ``karpenter.sh/discovery=<cluster>`` so EC2NodeClasses select
    them (the cluster security group); node subnets are tagged by the network."""
    permission_boundary_arn: pulumi.Input[str] | None = None
    """Permission boundary on the roles this component creates."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags merged into every taggable child."""


def controller_policy(
    *,
    partition: str,
    region: str,
    account: str,
    cluster_name: str,
    queue_arn: str,
    node_role_arn: str,
) -> dict[str, Any]:
    """The controller's least-privilege policy.

    Launching is limited to this cluster's tags (``kubernetes.io/cluster/<name>=owned`` and
    a ``karpenter.sh/nodepool`` tag), termination to instances it tagged, ``iam:PassRole``
    to the node role, instance profiles to those it tagged, reads to the region, queue
    actions to its own queue.
    """
    ec2 = f"arn:{partition}:ec2:{region}"
    owned = f"aws:ResourceTag/kubernetes.io/cluster/{cluster_name}"
    request_owned = f"aws:RequestTag/kubernetes.io/cluster/{cluster_name}"
    created = [
        "fleet",
        "instance",
        "volume",
        "network-interface",
        "launch-template",
        "spot-instances-request",
    ]
    profile_arn = f"arn:{partition}:iam::{account}:instance-profile/*"
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "KarpenterLaunchFromSharedResources",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                "Resource": [
                    f"{ec2}::image/*",
                    f"{ec2}::snapshot/*",
                    f"{ec2}:*:security-group/*",
                    f"{ec2}:*:subnet/*",
                    f"{ec2}:*:capacity-reservation/*",
                ],
            },
            {
                "Sid": "KarpenterLaunchWithOwnTemplates",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                "Resource": f"{ec2}:*:launch-template/*",
                "Condition": {
                    "StringEquals": {owned: "owned"},
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "KarpenterCreateTaggedResources",
                "Effect": "Allow",
                "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                "Resource": [f"{ec2}:*:{kind}/*" for kind in created],
                "Condition": {
                    "StringEquals": {
                        request_owned: "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                    },
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "KarpenterTagOnCreate",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": [f"{ec2}:*:{kind}/*" for kind in created],
                "Condition": {
                    "StringEquals": {
                        request_owned: "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                        "ec2:CreateAction": [
                            "RunInstances",
                            "CreateFleet",
                            "CreateLaunchTemplate",
                        ],
                    },
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "KarpenterTagOwnInstances",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": f"{ec2}:*:instance/*",
                "Condition": {
                    "StringEquals": {owned: "owned"},
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                    "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster_name},
                    "ForAllValues:StringEquals": {
                        "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                    },
                },
            },
            {
                "Sid": "KarpenterDeleteOwnResources",
                "Effect": "Allow",
                "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
                "Condition": {
                    "StringEquals": {owned: "owned"},
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "KarpenterRegionalRead",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeCapacityReservations",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceTypeOfferings",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeSubnets",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
            },
            {
                "Sid": "KarpenterReadAmiParameters",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*",
            },
            {
                "Sid": "KarpenterReadPrices",
                "Effect": "Allow",
                "Action": "pricing:GetProducts",
                "Resource": "*",
            },
            {
                "Sid": "KarpenterInterruptionQueue",
                "Effect": "Allow",
                "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
                "Resource": queue_arn,
            },
            {
                "Sid": "KarpenterPassNodeRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": node_role_arn,
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            },
            {
                "Sid": "KarpenterCreateInstanceProfile",
                "Effect": "Allow",
                "Action": ["iam:CreateInstanceProfile", "iam:TagInstanceProfile"],
                "Resource": profile_arn,
                "Condition": {
                    "StringEquals": {
                        request_owned: "owned",
                        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                        "aws:RequestTag/topology.kubernetes.io/region": region,
                    },
                    "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
                },
            },
            {
                "Sid": "KarpenterManageOwnInstanceProfiles",
                "Effect": "Allow",
                "Action": [
                    "iam:AddRoleToInstanceProfile",
                    "iam:RemoveRoleFromInstanceProfile",
                    "iam:DeleteInstanceProfile",
                    "iam:TagInstanceProfile",
                ],
                "Resource": profile_arn,
                "Condition": {
                    "StringEquals": {
                        owned: "owned",
                        "aws:ResourceTag/topology.kubernetes.io/region": region,
                    },
                    "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
                },
            },
            {
                "Sid": "KarpenterReadInstanceProfiles",
                "Effect": "Allow",
                "Action": ["iam:GetInstanceProfile", "iam:ListInstanceProfiles"],
                "Resource": profile_arn,
            },
            {
                "Sid": "KarpenterDiscoverCluster",
                "Effect": "Allow",
                "Action": "eks:DescribeCluster",
                "Resource": f"arn:{partition}:eks:{region}:{account}:cluster/{cluster_name}",
            },
        ],
    }


def queue_policy(queue_arn: str, rule_arns: list[str]) -> dict[str, Any]:
    """Only this stack's EventBridge rules may send to the queue, and only over TLS."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "EventBridgeRulesSend",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}},
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


class Karpenter(Component, legacy_module="karpenter"):
    """Karpenter's controller with its role, interruption queue, node role and access entry."""

    node_role_name: pulumi.Output[str]
    """Name of the node role; EC2NodeClasses reference it."""

    node_role_arn: pulumi.Output[str]
    """ARN of the node role."""

    controller_role_arn: pulumi.Output[str]
    """ARN of the controller's Pod Identity role."""

    interruption_queue_name: pulumi.Output[str]
    """Name of the SQS interruption queue."""

    interruption_queue_arn: pulumi.Output[str]
    """ARN of the SQS interruption queue."""

    def __init__(
        self,
        name: str,
        args: KarpenterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        args = self.accept(name, args, _problems)
        super().__init__(name, opts)
        child = self.child()
        tags = merge_tags(args.tags, {"mlops:component": "karpenter"})

        queue = aws.sqs.Queue(
            f"{name}-interruption-queue",
            name=physical_name("karpenter", NameKind.SQS_QUEUE, args.name_prefix, owner=self.owner),
            message_retention_seconds=300,
            sqs_managed_sse_enabled=True,
            tags=tags,
            opts=child,
        )
        rules: list[aws.cloudwatch.EventRule] = []
        for kind, pattern in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{kind}",
                name=physical_name(f"karpenter-{kind}", NameKind.EVENT_RULE, args.name_prefix),
                description=f"Karpenter interruption handling: {pattern['detail-type'][0]}",
                event_pattern=json.dumps(pattern),
                tags=tags,
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{kind}-target",
                rule=rule.name,
                target_id="karpenter-interruption-queue",
                arn=queue.arn,
                opts=child,
            )
            rules.append(rule)
        queue_policy_resource = aws.sqs.QueuePolicy(
            f"{name}-interruption-queue-policy",
            queue_url=queue.url,
            policy=pulumi.Output.all(queue.arn, *[r.arn for r in rules]).apply(
                lambda values: json.dumps(queue_policy(values[0], list(values[1:])))
            ),
            opts=child,
        )

        node_role = aws.iam.Role(
            f"{name}-node-role",
            name=physical_name(
                "karpenter-node", NameKind.IAM_ROLE, args.name_prefix, owner=self.owner
            ),
            description="Role of the nodes Karpenter launches",
            assume_role_policy=policy_json(
                {
                    "Version": POLICY_VERSION,
                    "Statement": [
                        {
                            "Sid": "Ec2Nodes",
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": ["sts:AssumeRole"],
                        }
                    ],
                }
            ),
            permissions_boundary=args.permission_boundary_arn,
            tags=tags,
            opts=child,
        )
        partition = arn_part(args.cluster_arn, "partition")
        managed = list(MANAGED_POLICY_ARNS["node"])
        if args.node_ssm_access:
            managed.append("AmazonSSMManagedInstanceCore")
        for policy_name in managed:
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy_name}",
                role=node_role.name,
                policy_arn=pulumi.Output.concat(
                    "arn:", partition, ":iam::aws:policy/", policy_name
                ),
                opts=child,
            )
        access_entry = aws.eks.AccessEntry(
            f"{name}-node-access",
            cluster_name=args.cluster_name,
            principal_arn=node_role.arn,
            type="EC2_LINUX",
            tags=tags,
            opts=child,
        )

        for i, group_id in enumerate(args.discovery_security_group_ids):
            aws.ec2.Tag(
                f"{name}-discovery-sg-{i}",
                resource_id=group_id,
                key=DISCOVERY_TAG,
                value=args.cluster_name,
                opts=child,
            )

        document = cluster_document(
            args.cluster_arn,
            controller_policy,
            cluster_name=args.cluster_name,
            queue_arn=queue.arn,
            node_role_arn=node_role.arn,
        )
        controller = PodIdentity.of(self, args).role(
            f"{name}-controller",
            role="karpenter-controller",
            namespace=args.namespace,
            service_account=args.service_account,
            policy=document,
            tags=tags,
        )

        crds = helm_release(
            f"{name}-crds",
            chart=f"{args.chart_repository}/karpenter-crd",
            version=args.chart_version,
            namespace=args.namespace,
            opts=self.child(provider=args.kubernetes_provider),
        )
        self.release = helm_release(
            f"{name}-controller-release",
            chart=f"{args.chart_repository}/karpenter",
            version=args.chart_version,
            namespace=args.namespace,
            skip_crds=True,
            values=controller_values(args, queue.name, arn_part(args.cluster_arn, "region")),
            opts=self.child(
                provider=args.kubernetes_provider,
                depends_on=[crds, controller.ready, access_entry, queue_policy_resource],
            ),
        )
        """The controller release; Karpenter NodePools and EC2NodeClasses depend on it."""

        self.publish(
            node_role_name=node_role.name,
            node_role_arn=node_role.arn,
            controller_role_arn=controller.role.arn,
            interruption_queue_name=queue.name,
            interruption_queue_arn=queue.arn,
        )


def controller_values(
    args: KarpenterArgs, queue_name: pulumi.Input[str], region: pulumi.Input[str]
) -> dict[str, Any]:
    """Values of the ``karpenter`` chart.

    ``AWS_REGION`` is set because nodes answer IMDS to host-network processes only (hop
    limit 1): without it the controller would ask IMDS for its region and exit.
    """
    return {
        "replicas": args.replicas,
        "serviceAccount": {"create": True, "name": args.service_account},
        "settings": {
            "clusterName": args.cluster_name,
            "clusterEndpoint": args.cluster_endpoint,
            "interruptionQueue": queue_name,
            "reservedENIs": str(args.reserved_enis),
            "featureGates": {"reservedCapacity": args.reserved_capacity},
        },
        "controller": {
            "env": [{"name": "AWS_REGION", "value": region}],
            "resources": {
                "requests": {"cpu": "250m", "memory": "512Mi"},
                "limits": {"memory": "1Gi"},
            },
        },
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
        "podDisruptionBudget": {"name": "karpenter", "maxUnavailable": 1},
        "logLevel": "info",
    }


def _problems(args: KarpenterArgs) -> list[Invalid]:
    problems = chart_problems(
        args, example=CHART_VERSION, pattern=SEMVER, repository_scheme="oci://"
    )
    problems += pattern_problems(args, "namespace", "service_account", allowed="a DNS-1123 label")
    enis = args.reserved_enis
    if isinstance(enis, bool) or not isinstance(enis, int) or enis < 0:
        problems.append(
            Invalid("reserved_enis", enis, "an integer >= 0 (1 under VPC CNI custom networking)")
        )
    if args.replicas < 1:
        problems.append(Invalid("replicas", args.replicas, "at least 1 (2 for availability)"))
    return problems
