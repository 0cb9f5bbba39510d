"""Load-balancer facts the serving components and the policy pack share: the AWS Load
Balancer Controller's annotation keys and values, its cluster tag, and the subnet role tags.

Written once here; :mod:`mlops_platform.serving` sets them, the platform's own Services use
:func:`internal_service_annotations`, and the policy pack reads them to tell an internal load
balancer from an internet-facing one.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

SERVICE_TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"
"""``external`` hands a LoadBalancer Service to the AWS Load Balancer Controller (an NLB)."""

SERVICE_TARGET_TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"
"""``ip``: the NLB targets pod IPs directly (VPC CNI), no node ports."""

SERVICE_SCHEME_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-scheme"
"""``internal`` (the controller's default) or ``internet-facing``."""

LEGACY_INTERNAL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-internal"
"""The in-tree cloud provider's internal switch (its default is internet-facing)."""

SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
"""Client CIDRs the load balancer's security group admits."""

INGRESS_SCHEME_ANNOTATION = "alb.ingress.kubernetes.io/scheme"
"""Scheme of an ALB Ingress: ``internal`` (the controller's default) or ``internet-facing``."""

INTERNAL = "internal"
INTERNET_FACING = "internet-facing"

CONTROLLER_SERVICE_TYPES = ("external", "nlb-ip")
"""``aws-load-balancer-type`` values the controller (not the in-tree provider) reconciles."""

CONTROLLER_LOAD_BALANCER_CLASS = "service.k8s.aws/nlb"
"""``spec.loadBalancerClass`` the controller's webhook sets on LoadBalancer Services."""

CLUSTER_TAG_KEY = "elbv2.k8s.aws/cluster"
"""Tag (value: the cluster name) the controller puts on every AWS resource it creates."""

INTERNAL_SUBNET_TAG = "kubernetes.io/role/internal-elb"
"""Subnet tag (``1``) by which the controller places internal load balancers."""

PUBLIC_SUBNET_TAG = "kubernetes.io/role/elb"
"""Subnet tag (``1``) by which the controller places internet-facing load balancers."""


def internal_service_annotations(
    source_ranges: Sequence[pulumi.Input[str]] = (),
) -> dict[str, pulumi.Input[str]]:
    """Annotations of a LoadBalancer Service served by the controller: an internal NLB that
    targets pod IPs, admitting only ``source_ranges`` (when given; a range known only at
    deploy time, e.g. an adopted VPC's CIDR, joins them when it resolves)."""
    annotations: dict[str, pulumi.Input[str]] = {
        SERVICE_TYPE_ANNOTATION: "external",
        SERVICE_TARGET_TYPE_ANNOTATION: "ip",
        SERVICE_SCHEME_ANNOTATION: INTERNAL,
    }
    if source_ranges and all(isinstance(r, str) for r in source_ranges):
        annotations[SOURCE_RANGES_ANNOTATION] = ",".join(str(r) for r in source_ranges)
    elif source_ranges:
        annotations[SOURCE_RANGES_ANNOTATION] = pulumi.Output.all(*source_ranges).apply(",".join)
    return annotations
