"""Every version the platform pins, written once.

Components take their defaults from here, the config model takes its defaults and examples
from here, and :data:`PINS` lists them all (with where each is looked up), so a pin check
(``scripts.preflight``) and the docs can enumerate them. A pin is a fact about an upstream
project: before changing one, check that it exists upstream (AMI release notes, the chart
repository's ``index.yaml``, ``aws eks describe-addon-versions``,
``aws rds describe-db-engine-versions``) and record the evidence in ``Pin.evidence``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PinKind(StrEnum):
    """What kind of upstream artefact a pin names (and so how it is checked)."""

    KUBERNETES = "kubernetes"
    EKS_ADDON = "eks-addon"
    AMI_RELEASE = "ami-release"
    HELM_CHART = "helm-chart"
    IMAGE = "image"
    ENGINE = "engine"


@dataclass(frozen=True)
class Pin:
    """One pinned version and where it can be checked."""

    kind: PinKind
    name: str
    """The artefact: add-on name, chart name, AMI variant, image, engine."""
    version: str
    source: str
    """Where it is published: chart repository URL, SSM parameter path, image repository,
    RDS engine name, or the EKS add-on API."""
    evidence: str
    """Where the pin was verified to exist."""


# --- Kubernetes and EKS ------------------------------------------------------------------------

KUBERNETES_VERSION = "1.34"
"""Default EKS Kubernetes version; an upgrade is a deliberate config change."""

SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.32", "1.33", "1.34", "1.35")
"""EKS versions this release is tested with; older ones are out of standard support."""

EKS_AMI_RELEASE = "1.34.9-20260714"
"""EKS AL2023 AMI release (``<kubelet>-<YYYYMMDD>``) for Kubernetes 1.34. One release
publishes every variant (x86_64/arm64, standard/nvidia), so the system nodes and the GPU
nodes share it."""

SYSTEM_NODE_AMI_RELEASE = EKS_AMI_RELEASE
"""AMI release of the system node group (AL2023 x86_64 standard)."""

GPU_NODE_AMI_RELEASE = EKS_AMI_RELEASE
"""AMI release of GPU pools (AL2023 NVIDIA); Karpenter pins the matching alias."""

VPC_CNI_ADDON = "v1.21.1-eksbuild.1"
KUBE_PROXY_ADDON = "v1.34.1-eksbuild.2"
POD_IDENTITY_AGENT_ADDON = "v1.3.10-eksbuild.2"
COREDNS_ADDON = "v1.12.4-eksbuild.1"
EBS_CSI_DRIVER_ADDON = "v1.54.0-eksbuild.1"

# --- Helm charts and images --------------------------------------------------------------------

KARPENTER_CHART = "1.12.1"
"""Karpenter controller and CRD charts (one version for both)."""
KARPENTER_CHART_REPOSITORY = "oci://public.ecr.aws/karpenter"

CLUSTER_AUTOSCALER_CHART = "9.53.0"
"""``cluster-autoscaler`` chart: the newest release whose app version is 1.34 (1.34.2)."""
CLUSTER_AUTOSCALER_CHART_REPOSITORY = "https://kubernetes.github.io/autoscaler"
CLUSTER_AUTOSCALER_IMAGE_TAG = "v1.34.2"
"""Autoscaler image tag (the chart's app version); its minor must equal the cluster's."""
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"

DEVICE_PLUGIN_CHART = "0.18.2"
DEVICE_PLUGIN_CHART_REPOSITORY = "https://nvidia.github.io/k8s-device-plugin"
GPU_OPERATOR_CHART = "v26.3.1"
GPU_OPERATOR_CHART_REPOSITORY = "https://helm.ngc.nvidia.com/nvidia"
DCGM_EXPORTER_CHART = "4.8.2"
DCGM_EXPORTER_CHART_REPOSITORY = "https://nvidia.github.io/dcgm-exporter/helm-charts"

KUBE_PROMETHEUS_STACK_CHART = "88.5.3"
KUBE_PROMETHEUS_STACK_CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"

MLFLOW_CHART = "1.11.5"
"""The community MLflow chart (MLflow 3.15.1)."""
MLFLOW_CHART_REPOSITORY = "https://community-charts.github.io/helm-charts"

LOAD_BALANCER_CONTROLLER_CHART = "3.5.0"
"""``aws-load-balancer-controller`` chart (appVersion v3.5.0)."""
LOAD_BALANCER_CONTROLLER_CHART_REPOSITORY = "https://aws.github.io/eks-charts"

KEDA_CHART = "2.20.2"
"""``keda`` chart (app version 2.20.2; supports Kubernetes 1.33-1.35)."""
KEDA_CHART_REPOSITORY = "https://kedacore.github.io/charts"

# --- Databases ---------------------------------------------------------------------------------

POSTGRES_ENGINE_VERSION = "17.7"
"""RDS for PostgreSQL major.minor of the MLflow database; minor upgrades are deliberate."""


def _ssm_ami(variant: str) -> str:
    minor = KUBERNETES_VERSION
    return (
        f"/aws/service/eks/optimized-ami/{minor}/amazon-linux-2023/x86_64/{variant}/"
        f"amazon-eks-node-al2023-x86_64-{variant}-{minor}-v{{date}}/image_id"
    )


_AMI_EVIDENCE = "awslabs/amazon-eks-ami CHANGELOG.md, 'AMI Release v20260714' (Kubernetes 1.34)"
_ADDON_EVIDENCE = "confirm with aws eks describe-addon-versions --kubernetes-version 1.34"


def _chart(name: str, version: str, repository: str, evidence: str) -> Pin:
    return Pin(PinKind.HELM_CHART, name, version, repository, evidence)


PINS: tuple[Pin, ...] = (
    Pin(
        PinKind.KUBERNETES,
        "eks",
        KUBERNETES_VERSION,
        "eks",
        "EKS standard support (Kubernetes release calendar)",
    ),
    Pin(
        PinKind.AMI_RELEASE,
        "al2023-x86_64-standard",
        SYSTEM_NODE_AMI_RELEASE,
        _ssm_ami("standard"),
        _AMI_EVIDENCE,
    ),
    Pin(
        PinKind.AMI_RELEASE,
        "al2023-x86_64-nvidia",
        GPU_NODE_AMI_RELEASE,
        _ssm_ami("nvidia"),
        _AMI_EVIDENCE,
    ),
    Pin(
        PinKind.EKS_ADDON,
        "vpc-cni",
        VPC_CNI_ADDON,
        "eks:DescribeAddonVersions",
        _ADDON_EVIDENCE,
    ),
    Pin(
        PinKind.EKS_ADDON,
        "kube-proxy",
        KUBE_PROXY_ADDON,
        "eks:DescribeAddonVersions",
        "EKS user guide, managing-kube-proxy (1.34 row)",
    ),
    Pin(
        PinKind.EKS_ADDON,
        "eks-pod-identity-agent",
        POD_IDENTITY_AGENT_ADDON,
        "eks:DescribeAddonVersions",
        _ADDON_EVIDENCE,
    ),
    Pin(
        PinKind.EKS_ADDON,
        "coredns",
        COREDNS_ADDON,
        "eks:DescribeAddonVersions",
        "EKS user guide, managing-coredns (1.34 row)",
    ),
    Pin(
        PinKind.EKS_ADDON,
        "aws-ebs-csi-driver",
        EBS_CSI_DRIVER_ADDON,
        "eks:DescribeAddonVersions",
        _ADDON_EVIDENCE,
    ),
    _chart(
        "karpenter",
        KARPENTER_CHART,
        KARPENTER_CHART_REPOSITORY,
        "aws/karpenter-provider-aws tag v1.12.1, website v1.12 docs",
    ),
    _chart(
        "karpenter-crd",
        KARPENTER_CHART,
        KARPENTER_CHART_REPOSITORY,
        "aws/karpenter-provider-aws tag v1.12.1",
    ),
    _chart(
        "cluster-autoscaler",
        CLUSTER_AUTOSCALER_CHART,
        CLUSTER_AUTOSCALER_CHART_REPOSITORY,
        "kubernetes/autoscaler gh-pages index.yaml",
    ),
    Pin(
        PinKind.IMAGE,
        "cluster-autoscaler",
        CLUSTER_AUTOSCALER_IMAGE_TAG,
        CLUSTER_AUTOSCALER_IMAGE,
        "kubernetes/autoscaler tag cluster-autoscaler-1.34.2 (chart 9.53.0 appVersion)",
    ),
    _chart(
        "nvidia-device-plugin",
        DEVICE_PLUGIN_CHART,
        DEVICE_PLUGIN_CHART_REPOSITORY,
        "NVIDIA/k8s-device-plugin gh-pages index.yaml",
    ),
    _chart(
        "gpu-operator",
        GPU_OPERATOR_CHART,
        GPU_OPERATOR_CHART_REPOSITORY,
        "NVIDIA/gpu-operator gh-pages stable/index.yaml",
    ),
    _chart(
        "dcgm-exporter",
        DCGM_EXPORTER_CHART,
        DCGM_EXPORTER_CHART_REPOSITORY,
        "NVIDIA/dcgm-exporter gh-pages helm-charts/index.yaml (newest entry 4.8.2)",
    ),
    _chart(
        "kube-prometheus-stack",
        KUBE_PROMETHEUS_STACK_CHART,
        KUBE_PROMETHEUS_STACK_CHART_REPOSITORY,
        "prometheus-community/helm-charts tag kube-prometheus-stack-88.5.3",
    ),
    _chart(
        "mlflow",
        MLFLOW_CHART,
        MLFLOW_CHART_REPOSITORY,
        "community-charts/helm-charts tag mlflow-1.11.5",
    ),
    _chart(
        "aws-load-balancer-controller",
        LOAD_BALANCER_CONTROLLER_CHART,
        LOAD_BALANCER_CONTROLLER_CHART_REPOSITORY,
        "aws/eks-charts gh-pages index.yaml (2026-08-03)",
    ),
    _chart(
        "keda",
        KEDA_CHART,
        KEDA_CHART_REPOSITORY,
        "kedacore/charts tag v2.20.2 (2026-07-31)",
    ),
    Pin(
        PinKind.ENGINE,
        "postgres",
        POSTGRES_ENGINE_VERSION,
        "rds:DescribeDBEngineVersions",
        "AWS RDS notice (May 2026): 17.1-17.4 end standard support, upgraded to 17.7 or higher",
    ),
)
"""Every pin, for checks and docs (the AMI ``source`` is the public SSM parameter with
``{date}`` standing for the release's ``YYYYMMDD``)."""

CHART_REPOSITORIES: tuple[str, ...] = tuple(
    dict.fromkeys(pin.source for pin in PINS if pin.kind is PinKind.HELM_CHART)
)
"""Every Helm repository the platform installs charts from (the policy pack's allowlist)."""
