"""``Keda``: the event-driven autoscaler that scales model endpoints on serving signals.

Why KEDA rather than an HPA on custom metrics:

* **Scale to zero.** An HPA never goes below one replica; KEDA's ``ScaledObject`` takes
  ``minReplicaCount: 0`` and wakes the workload when a trigger becomes active, so a dev
  endpoint holds no GPU node while nobody uses it.
* **No metrics adapter.** An HPA on a Prometheus metric needs ``prometheus-adapter`` with
  one hand-written rule per metric. KEDA's Prometheus scaler runs the endpoint's own PromQL
  (queue depth, in-flight requests) straight against the cluster's Prometheus, and KEDA
  creates and owns the HPA for the 1..N range itself.

What is installed:

* Chart: ``keda`` from its official repository (``https://kedacore.github.io/charts``) at a
  pinned version (2.20.2: KEDA 2.20 supports Kubernetes 1.33-1.35).
* Security: the chart's restricted defaults written out explicitly (non-root, read-only root
  filesystem, no privilege escalation, all capabilities dropped, ``RuntimeDefault`` seccomp)
  for the operator, the metrics API server and the admission webhooks.
* Placement: the system nodes, ``system-cluster-critical``; two operator replicas (one active,
  one on standby: KEDA's documented HA) with a PodDisruptionBudget; one metrics API server
  (only one may serve ``external.metrics.k8s.io`` in a cluster).
* Identity: **none**. The Prometheus scaler queries the in-cluster Prometheus over the
  cluster network with no AWS credentials, so no Pod Identity role is created. A scaler that
  reads AWS (SQS, CloudWatch) would need a role associated with ``keda/keda-operator`` and a
  ``TriggerAuthentication`` with ``podIdentity.provider: aws``; none is shipped.

KEDA serves ``external.metrics.k8s.io``: a cluster can have only one provider of that API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..cluster.kubernetes import (
    RESTRICTED_CONTAINER_SECURITY,
    RESTRICTED_POD_SECURITY,
    SYSTEM_NODE_LABELS,
    helm_release,
    pod_security_labels,
)
from ..core.checks import chart_problems, pattern_problems
from ..core.component import Component
from ..core.patterns import SEMVER
from ..core.validation import Invalid
from ..core.versions import KEDA_CHART, KEDA_CHART_REPOSITORY

DEFAULT_CHART_VERSION = KEDA_CHART
"""The ``keda`` chart pinned by default (:mod:`..core.versions`)."""

CHART_REPOSITORY = KEDA_CHART_REPOSITORY
"""The chart's official Helm repository."""

DEFAULT_NAMESPACE = "keda"
"""Namespace KEDA runs in."""

OPERATOR_SERVICE_ACCOUNT = "keda-operator"
"""The operator's service account (the chart's default name)."""

SYSTEM_NODE_SELECTOR: dict[str, str] = SYSTEM_NODE_LABELS
"""The label ServingCluster puts on its system node group."""

_REGISTRY = re.compile(r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._/-]+)?$")
_PARTS = ("operator", "metricServer", "webhooks")


@dataclass
class KedaArgs:
    """Inputs of :class:`Keda`."""

    kubernetes_provider: pulumi.ProviderResource
    """The serving cluster's Kubernetes provider."""

    chart_version: str = DEFAULT_CHART_VERSION
    """Pinned ``keda`` chart version."""

    chart_repository: str = CHART_REPOSITORY
    """Helm repository of the chart (https)."""

    namespace: str = DEFAULT_NAMESPACE
    """Namespace created for KEDA."""

    operator_replicas: int = 2
    """Operator replicas (1-2): one is active, a second only shortens fail-over."""

    image_registry: str | None = None
    """Registry to pull KEDA's images from (e.g. an ECR pull-through cache of ``ghcr.io``);
    ``None``: the chart's (``ghcr.io``)."""

    resources: Mapping[str, Any] = field(
        default_factory=lambda: {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "1000Mi"},
        }
    )
    """Requests and limits of each KEDA container."""


def validate(args: KedaArgs) -> list[Invalid]:
    """Every problem with ``args``."""
    problems = chart_problems(args, example=DEFAULT_CHART_VERSION, pattern=SEMVER)
    problems += pattern_problems(args, "namespace", allowed="a DNS-1123 label")
    replicas = args.operator_replicas
    if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= 2:
        problems.append(Invalid("operator_replicas", replicas, "1 or 2"))
    if args.image_registry is not None and not _REGISTRY.match(args.image_registry):
        problems.append(
            Invalid(
                "image_registry",
                args.image_registry,
                "a registry host (and optional path), e.g. "
                "111111111111.dkr.ecr.us-east-1.amazonaws.com/ghcr",
            )
        )
    return problems


def chart_values(args: KedaArgs) -> dict[str, Any]:
    """Values of the ``keda`` chart (every key exists in its ``values.yaml`` at the pin)."""
    values: dict[str, Any] = {
        "operator": {"replicaCount": args.operator_replicas},
        "metricsServer": {"replicaCount": 1},
        "webhooks": {"replicaCount": 1},
        "securityContext": {part: dict(RESTRICTED_CONTAINER_SECURITY) for part in _PARTS},
        "podSecurityContext": {part: dict(RESTRICTED_POD_SECURITY) for part in _PARTS},
        "resources": {part: dict(args.resources) for part in _PARTS},
        "nodeSelector": dict(SYSTEM_NODE_SELECTOR),
        "priorityClassName": "system-cluster-critical",
        "prometheus": {
            # KEDA's own metrics, scraped by the platform's Prometheus (it selects every
            # ServiceMonitor in the cluster).
            "operator": {"enabled": True, "serviceMonitor": {"enabled": True}},
            "metricServer": {"enabled": True, "serviceMonitor": {"enabled": True}},
        },
    }
    if args.operator_replicas > 1:
        values["podDisruptionBudget"] = {"operator": {"minAvailable": 1}}
    if args.image_registry:
        values["image"] = {
            "keda": {"registry": args.image_registry},
            "metricsApiServer": {"registry": args.image_registry},
            "webhooks": {"registry": args.image_registry},
        }
    return values


class Keda(Component, legacy_module="keda"):
    """KEDA (operator, metrics API server, admission webhooks) from its pinned chart."""

    namespace: pulumi.Output[str]
    """The namespace KEDA runs in."""

    chart_version: pulumi.Output[str]
    """The chart version installed."""

    def __init__(
        self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, validate)
        super().__init__(name, opts)
        k8s_opts = self.child(provider=args.kubernetes_provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            # KEDA's pods meet the restricted Pod Security Standard.
            metadata={"name": args.namespace, "labels": pod_security_labels("restricted")},
            opts=k8s_opts,
        )
        self.release = helm_release(
            f"{name}-release",
            chart="keda",
            version=args.chart_version,
            repository=args.chart_repository,
            namespace=namespace.metadata.apply(lambda m: m.name or args.namespace),
            values=chart_values(args),
            opts=k8s_opts,
        )
        """The chart release (installs the ScaledObject CRDs)."""

        self.publish(
            namespace=pulumi.Output.from_input(args.namespace),
            chart_version=pulumi.Output.from_input(args.chart_version),
        )
