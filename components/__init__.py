"""Pulumi component resources for private, GPU-ready MLOps environments on AWS.

Import name ``mlops_platform`` (the repository keeps the sources under ``components/``).
Importing this package creates no resources and imports no provider SDK: the public names
below load on first use, so the policy pack can import :mod:`mlops_platform.core` alone.

Layers, bottom up (a layer imports only the ones below it):

- ``core``: naming, tagging, validation, limits, KMS policy helpers, the GPU catalog;
- the library by domain: ``network``, ``cluster``, ``iam``, ``gpu``, ``storage``,
  ``observability``, ``serving``, ``deploy``;
- the composition: ``config`` (typed stack configuration) and ``platform``
  (:class:`MlopsPlatform`), which the library never imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # pyproject.toml's version (tests/unit/test_component_package.py)

_EXPORTS: dict[str, str] = {
    "Network": "network",
    "NetworkArgs": "network",
    "ExistingNetworkArgs": "network",
    "TerraformStateArgs": "network",
    "NatStrategy": "network",
    "ServingCluster": "cluster",
    "ServingClusterArgs": "cluster",
    "AddonVersions": "cluster",
    "SupportType": "cluster",
    "PlatformIam": "iam",
    "PlatformIamArgs": "iam",
    "WorkloadRole": "iam",
    "pod_identity_role": "iam",
    "irsa_role": "iam",
    "GpuNodePool": "gpu",
    "GpuNodePoolArgs": "gpu",
    "Karpenter": "gpu",
    "KarpenterArgs": "gpu",
    "ClusterAutoscaler": "gpu",
    "ClusterAutoscalerArgs": "gpu",
    "NvidiaSoftware": "gpu",
    "NvidiaSoftwareArgs": "gpu",
    "ArtifactStore": "storage",
    "ArtifactStoreArgs": "storage",
    "ContainerRegistry": "storage",
    "ContainerRegistryArgs": "storage",
    "ModelRegistry": "storage",
    "ModelRegistryArgs": "storage",
    "Observability": "observability",
    "ObservabilityArgs": "observability",
    "LoadBalancerController": "serving",
    "LoadBalancerControllerArgs": "serving",
    "Tenant": "serving",
    "TenantArgs": "serving",
    "DeployRunner": "deploy",
    "DeployRunnerArgs": "deploy",
    "Keda": "serving",
    "KedaArgs": "serving",
    "ModelEndpoint": "serving",
    "ModelEndpointArgs": "serving",
    "MlopsPlatform": "platform",
    "MlopsPlatformArgs": "platform",
}

__all__ = [
    "AddonVersions",
    "ArtifactStore",
    "ArtifactStoreArgs",
    "ClusterAutoscaler",
    "ClusterAutoscalerArgs",
    "ContainerRegistry",
    "ContainerRegistryArgs",
    "DeployRunner",
    "DeployRunnerArgs",
    "ExistingNetworkArgs",
    "GpuNodePool",
    "GpuNodePoolArgs",
    "Karpenter",
    "KarpenterArgs",
    "Keda",
    "KedaArgs",
    "LoadBalancerController",
    "LoadBalancerControllerArgs",
    "MlopsPlatform",
    "MlopsPlatformArgs",
    "ModelEndpoint",
    "ModelEndpointArgs",
    "ModelRegistry",
    "ModelRegistryArgs",
    "NatStrategy",
    "Network",
    "NetworkArgs",
    "NvidiaSoftware",
    "NvidiaSoftwareArgs",
    "Observability",
    "ObservabilityArgs",
    "PlatformIam",
    "PlatformIamArgs",
    "ServingCluster",
    "ServingClusterArgs",
    "SupportType",
    "Tenant",
    "TenantArgs",
    "TerraformStateArgs",
    "WorkloadRole",
    "irsa_role",
    "pod_identity_role",
]

if TYPE_CHECKING:
    from .cluster import AddonVersions, ServingCluster, ServingClusterArgs, SupportType
    from .deploy import DeployRunner, DeployRunnerArgs
    from .gpu import (
        ClusterAutoscaler,
        ClusterAutoscalerArgs,
        GpuNodePool,
        GpuNodePoolArgs,
        Karpenter,
        KarpenterArgs,
        NvidiaSoftware,
        NvidiaSoftwareArgs,
    )
    from .iam import PlatformIam, PlatformIamArgs, WorkloadRole, irsa_role, pod_identity_role
    from .network import ExistingNetworkArgs, NatStrategy, Network, NetworkArgs, TerraformStateArgs
    from .observability import Observability, ObservabilityArgs
    from .platform import MlopsPlatform, MlopsPlatformArgs
    from .serving import (
        Keda,
        KedaArgs,
        LoadBalancerController,
        LoadBalancerControllerArgs,
        ModelEndpoint,
        ModelEndpointArgs,
        Tenant,
        TenantArgs,
    )
    from .storage import (
        ArtifactStore,
        ArtifactStoreArgs,
        ContainerRegistry,
        ContainerRegistryArgs,
        ModelRegistry,
        ModelRegistryArgs,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
