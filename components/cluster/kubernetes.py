"""What the platform's pieces on the cluster share: how a chart is installed, the system nodes
they run on, Pod Security labels and the restricted security context.

Written once here; the controllers (Karpenter, the Cluster Autoscaler, the AWS Load Balancer
Controller, KEDA), the NVIDIA software, MLflow, the monitoring stack, tenants and model
endpoints use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..core.labels import GPU_TAINT_KEY

SYSTEM_NODE_LABELS: dict[str, str] = {"role": "system"}
"""The label of the system node group; cluster add-ons and controllers are pinned there, never
on the GPU nodes an autoscaler may remove."""

GPU_TOLERATION: dict[str, str] = {
    "key": GPU_TAINT_KEY,
    "operator": "Exists",
    "effect": "NoSchedule",
}
"""Lets a pod onto GPU nodes (their ``nvidia.com/gpu`` taint); only GPU workloads and the
agents that must run on every GPU node carry it."""

CRITICAL_ADDONS_TOLERATION: dict[str, str] = {"key": "CriticalAddonsOnly", "operator": "Exists"}
"""Lets a controller onto nodes reserved for critical add-ons."""

RESTRICTED_CONTAINER_SECURITY: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""A container security context that meets the ``restricted`` Pod Security Standard (with a
non-root user from the pod or the image)."""

NON_ROOT_CONTAINER_SECURITY: dict[str, Any] = {
    **RESTRICTED_CONTAINER_SECURITY,
    "runAsNonRoot": True,
}
""":data:`RESTRICTED_CONTAINER_SECURITY` that also refuses to start as root."""

RESTRICTED_POD_SECURITY: dict[str, Any] = {
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""A pod security context for the ``restricted`` Pod Security Standard."""


def pod_security_labels(
    enforce: str, *, warn: str | None = None, audit: str | None = None
) -> dict[str, str]:
    """Pod Security Admission labels of a namespace: ``enforce`` level, warned and audited at
    ``warn``/``audit`` (default: the enforced level)."""
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/audit": audit or enforce,
        "pod-security.kubernetes.io/warn": warn or enforce,
    }


def helm_release(
    resource_name: str,
    *,
    chart: str,
    version: pulumi.Input[str],
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    repository: pulumi.Input[str] | None = None,
    values: Mapping[str, Any] | None = None,
    skip_crds: bool | None = None,
    atomic: bool = True,
) -> k8s.helm.v3.Release:
    """A chart installed as the platform installs charts: at a pinned ``version``, atomic (a
    failed install or upgrade rolls back) and cleaned up on failure; ``atomic=False`` leaves
    Helm's defaults (neither) for a chart whose objects are not all ready within one wait.

    ``repository`` is the chart's Helm repository (https); ``None`` when ``chart`` is a full
    reference (``oci://...``). The release is named after the chart.
    """
    return k8s.helm.v3.Release(
        resource_name,
        name=chart.rsplit("/", 1)[-1],
        chart=chart,
        version=version,
        repository_opts=(
            k8s.helm.v3.RepositoryOptsArgs(repo=repository) if repository is not None else None
        ),
        namespace=namespace,
        values=values,
        skip_crds=skip_crds,
        atomic=True if atomic else None,
        cleanup_on_fail=True if atomic else None,
        opts=opts,
    )


PROMETHEUS_OPERATOR_API = "monitoring.coreos.com/v1"
"""API version of the Prometheus operator's objects (its CRDs come with kube-prometheus-stack)."""


def monitoring_object(
    resource_name: str,
    kind: str,
    *,
    metadata: Mapping[str, Any],
    spec: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """A Prometheus operator object (``ServiceMonitor``, ``PrometheusRule``...)."""
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=PROMETHEUS_OPERATOR_API,
        kind=kind,
        metadata=metadata,
        spec=spec,
        opts=opts,
    )
