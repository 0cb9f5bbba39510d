"""``LoadBalancerController``: the AWS Load Balancer Controller, once per cluster.

It installs the pinned ``aws-load-balancer-controller`` chart from its official repository
with an EKS Pod Identity role whose policy is the controller's documented IAM policy,
tightened: every statement upstream scopes with a ``Null`` check on the
``elbv2.k8s.aws/cluster`` tag here requires the tag to equal this cluster's name, the
statements upstream leaves on ``*`` are limited to this account and region (security-group
changes also to this VPC), and the Shield / WAF integrations are switched off so their
permissions are not granted at all. ``clusterName``, ``region`` and ``vpcId`` are set, so
the controller never asks the instance metadata service (nodes keep IMDS hop limit 1).
Load balancers are internal unless a Service or Ingress asks otherwise; the policy pack
decides where that is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ..cluster.kubernetes import (
    CRITICAL_ADDONS_TOLERATION,
    NON_ROOT_CONTAINER_SECURITY,
    RESTRICTED_POD_SECURITY,
    helm_release,
)
from ..core.checks import chart_problems, pattern_problems
from ..core.component import Component
from ..core.load_balancing import CLUSTER_TAG_KEY, INTERNAL
from ..core.patterns import SEMVER, VPC_ID
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..core.versions import (
    LOAD_BALANCER_CONTROLLER_CHART,
    LOAD_BALANCER_CONTROLLER_CHART_REPOSITORY,
)
from ..iam import POLICY_VERSION, PodIdentity, arn_part, cluster_document

CHART_VERSION = LOAD_BALANCER_CONTROLLER_CHART
"""``aws-load-balancer-controller`` chart pinned by default (:mod:`..core.versions`)."""

CHART_REPOSITORY = LOAD_BALANCER_CONTROLLER_CHART_REPOSITORY
"""The chart's official repository."""

SERVICE_ACCOUNT = "aws-load-balancer-controller"
"""Service account of the controller (bound to its role by Pod Identity)."""


@dataclass
class LoadBalancerControllerArgs:
    """Arguments of :class:`LoadBalancerController`."""

    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster (the chart's ``clusterName``; the value of the cluster tag)."""
    cluster_arn: pulumi.Input[str]
    """ARN of the cluster (pins the Pod Identity trust; gives partition, region, account)."""
    vpc_id: pulumi.Input[str]
    """The cluster's VPC (the chart's ``vpcId``; scopes security-group changes)."""
    kubernetes_provider: pulumi.ProviderResource
    """The cluster's Kubernetes provider."""
    name_prefix: str
    """Physical-name prefix, ``{project}-{stack}``."""
    chart_version: str = CHART_VERSION
    """Pinned chart version."""
    chart_repository: str = CHART_REPOSITORY
    """Chart repository."""
    namespace: str = "kube-system"
    """Namespace of the controller."""
    service_account: str = SERVICE_ACCOUNT
    """Service account of the controller."""
    replicas: int = 2
    """Controller replicas (leader-elected; the webhook needs one up to admit Services)."""
    permission_boundary_arn: pulumi.Input[str] | None = None
    """Permission boundary on the controller's role."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags merged into every taggable child (and onto the load balancers it creates)."""


def controller_policy(
    *, partition: str, region: str, account: str, cluster_name: str, vpc_id: str
) -> dict[str, Any]:
    """The controller's policy: upstream's ``docs/install/iam_policy.json`` (v3.5.0), scoped.

    Tag-scoped (``elbv2.k8s.aws/cluster`` = this cluster): creating load balancers, target
    groups and security groups, tagging them, changing and deleting them. Not tag-scopable
    upstream, limited here to this account and region: listener and rule changes, target
    registration, listener tags, certificate reads, and ingress rules on the cluster's
    (untagged) node security groups (also pinned to the VPC). Cognito authentication on ALBs
    is not used, so ``cognito-idp:DescribeUserPoolClient`` is left out. Two read statements
    stay on ``*`` (documented in :data:`mlops_platform.iam.documents.WILDCARD_RESOURCE_EXCEPTIONS`).
    """
    ec2 = f"arn:{partition}:ec2:{region}:{account}"
    elb = f"arn:{partition}:elasticloadbalancing:{region}:{account}"
    in_region = {"StringEquals": {"aws:RequestedRegion": region}}
    request_tag = f"aws:RequestTag/{CLUSTER_TAG_KEY}"
    resource_tag = f"aws:ResourceTag/{CLUSTER_TAG_KEY}"
    balancers = [
        f"{elb}:targetgroup/*/*",
        f"{elb}:loadbalancer/net/*/*",
        f"{elb}:loadbalancer/app/*/*",
    ]
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "LbcServiceLinkedRole",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": f"arn:{partition}:iam::{account}:role/aws-service-role/"
                "elasticloadbalancing.amazonaws.com/*",
                "Condition": {
                    "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
                },
            },
            {
                "Sid": "LbcRegionalRead",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeAccountAttributes",
                    "ec2:DescribeAddresses",
                    "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeInternetGateways",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeVpcPeeringConnections",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeInstances",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeTags",
                    "ec2:GetCoipPoolUsage",
                    "ec2:DescribeCoipPools",
                    "ec2:GetSecurityGroupsForVpc",
                    "ec2:DescribeIpamPools",
                    "ec2:DescribeRouteTables",
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeLoadBalancerAttributes",
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeListenerCertificates",
                    "elasticloadbalancing:DescribeSSLPolicies",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetGroupAttributes",
                    "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeTags",
                    "elasticloadbalancing:DescribeTrustStores",
                    "elasticloadbalancing:DescribeListenerAttributes",
                    "elasticloadbalancing:DescribeCapacityReservation",
                ],
                "Resource": "*",
                "Condition": in_region,
            },
            {
                "Sid": "LbcListCertificates",
                "Effect": "Allow",
                "Action": ["acm:ListCertificates", "iam:ListServerCertificates"],
                "Resource": "*",
            },
            {
                "Sid": "LbcReadCertificates",
                "Effect": "Allow",
                "Action": ["acm:DescribeCertificate", "iam:GetServerCertificate"],
                "Resource": [
                    f"arn:{partition}:acm:{region}:{account}:certificate/*",
                    f"arn:{partition}:iam::{account}:server-certificate/*",
                ],
            },
            {
                "Sid": "LbcNodeSecurityGroupRules",
                "Effect": "Allow",
                "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
                "Resource": f"{ec2}:security-group/*",
                "Condition": {"ArnEquals": {"ec2:Vpc": f"{ec2}:vpc/{vpc_id}"}},
            },
            {
                "Sid": "LbcCreateSecurityGroup",
                "Effect": "Allow",
                "Action": "ec2:CreateSecurityGroup",
                "Resource": [f"{ec2}:security-group/*", f"{ec2}:vpc/{vpc_id}"],
            },
            {
                "Sid": "LbcTagNewSecurityGroup",
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": f"{ec2}:security-group/*",
                "Condition": {
                    "StringEquals": {
                        "ec2:CreateAction": "CreateSecurityGroup",
                        request_tag: cluster_name,
                    }
                },
            },
            {
                "Sid": "LbcRetagOwnSecurityGroups",
                "Effect": "Allow",
                "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
                "Resource": f"{ec2}:security-group/*",
                "Condition": {
                    "Null": {request_tag: "true"},
                    "StringEquals": {resource_tag: cluster_name},
                },
            },
            {
                "Sid": "LbcManageOwnSecurityGroups",
                "Effect": "Allow",
                "Action": [
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:RevokeSecurityGroupIngress",
                    "ec2:DeleteSecurityGroup",
                ],
                "Resource": f"{ec2}:security-group/*",
                "Condition": {"StringEquals": {resource_tag: cluster_name}},
            },
            {
                "Sid": "LbcCreateLoadBalancers",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:CreateTargetGroup",
                ],
                "Resource": balancers,
                "Condition": {"StringEquals": {request_tag: cluster_name}},
            },
            {
                "Sid": "LbcListenersAndRules",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:DeleteRule",
                ],
                "Resource": f"{elb}:*",
            },
            {
                "Sid": "LbcRetagOwnLoadBalancers",
                "Effect": "Allow",
                "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
                "Resource": balancers,
                "Condition": {
                    "Null": {request_tag: "true"},
                    "StringEquals": {resource_tag: cluster_name},
                },
            },
            {
                "Sid": "LbcTagListeners",
                "Effect": "Allow",
                "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
                "Resource": [
                    f"{elb}:listener/net/*/*/*",
                    f"{elb}:listener/app/*/*/*",
                    f"{elb}:listener-rule/net/*/*/*",
                    f"{elb}:listener-rule/app/*/*/*",
                ],
            },
            {
                "Sid": "LbcManageOwnLoadBalancers",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:ModifyCapacityReservation",
                    "elasticloadbalancing:ModifyIpPools",
                ],
                "Resource": f"{elb}:*",
                "Condition": {"StringEquals": {resource_tag: cluster_name}},
            },
            {
                "Sid": "LbcTagOnCreate",
                "Effect": "Allow",
                "Action": "elasticloadbalancing:AddTags",
                "Resource": balancers,
                "Condition": {
                    "StringEquals": {
                        "elasticloadbalancing:CreateAction": [
                            "CreateTargetGroup",
                            "CreateLoadBalancer",
                        ],
                        request_tag: cluster_name,
                    }
                },
            },
            {
                "Sid": "LbcRegisterTargets",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                ],
                "Resource": f"{elb}:targetgroup/*/*",
            },
            {
                "Sid": "LbcModifyListenersAndRules",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:AddListenerCertificates",
                    "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:ModifyRule",
                    "elasticloadbalancing:SetRulePriorities",
                ],
                "Resource": f"{elb}:*",
            },
        ],
    }


class LoadBalancerController(Component, legacy_module="load_balancer_controller"):
    """The AWS Load Balancer Controller with its Pod Identity role."""

    role_arn: pulumi.Output[str]
    """ARN of the controller's Pod Identity role."""

    def __init__(
        self,
        name: str,
        args: LoadBalancerControllerArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        args = self.accept(name, args, _problems)
        super().__init__(name, opts)
        tags = merge_tags(args.tags, {"mlops:component": "load-balancer-controller"})
        document = cluster_document(
            args.cluster_arn, controller_policy, cluster_name=args.cluster_name, vpc_id=args.vpc_id
        )
        controller = PodIdentity.of(self, args).role(
            f"{name}-controller",
            role="lb-controller",
            namespace=args.namespace,
            service_account=args.service_account,
            policy=document,
            tags=tags,
        )
        self.release = helm_release(
            f"{name}-release",
            chart="aws-load-balancer-controller",
            version=args.chart_version,
            repository=args.chart_repository,
            namespace=args.namespace,
            values=controller_values(args, arn_part(args.cluster_arn, "region"), tags),
            opts=self.child(provider=args.kubernetes_provider, depends_on=[controller.ready]),
        )
        """The controller release: Services and Ingresses it serves depend on it (its
        webhook must admit them)."""

        self.publish(role_arn=controller.role.arn)


def controller_values(
    args: LoadBalancerControllerArgs, region: pulumi.Input[str], tags: Mapping[str, str]
) -> dict[str, Any]:
    """Values of the ``aws-load-balancer-controller`` chart."""
    return {
        "clusterName": args.cluster_name,
        "region": region,
        "vpcId": args.vpc_id,
        "replicaCount": args.replicas,
        "serviceAccount": {"create": True, "name": args.service_account},
        "podSecurityContext": {"fsGroup": 65534, **RESTRICTED_POD_SECURITY},
        "securityContext": dict(NON_ROOT_CONTAINER_SECURITY),
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"memory": "256Mi"},
        },
        "podDisruptionBudget": {"maxUnavailable": 1} if args.replicas > 1 else {},
        "defaultLoadBalancerScheme": INTERNAL,
        "defaultTargetType": "ip",
        "enableShield": False,
        "enableWaf": False,
        "enableWafv2": False,
        "defaultTags": dict(tags),
        "tolerations": [dict(CRITICAL_ADDONS_TOLERATION)],
    }


def _problems(args: LoadBalancerControllerArgs) -> list[Invalid]:
    problems = chart_problems(args, example=CHART_VERSION, pattern=SEMVER)
    problems += pattern_problems(args, "namespace", "service_account", allowed="a DNS-1123 label")
    if isinstance(args.vpc_id, str) and not VPC_ID.matches(args.vpc_id):
        problems.append(Invalid("vpc_id", args.vpc_id, "a VPC ID such as vpc-0a1b2c3d4e5f67890"))
    if isinstance(args.replicas, bool) or not isinstance(args.replicas, int) or args.replicas < 1:
        problems.append(Invalid("replicas", args.replicas, "an integer of at least 1 (2 for HA)"))
    return problems
