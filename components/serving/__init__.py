"""The serving domain: what runs models on the cluster: the AWS Load Balancer Controller,
``Tenant`` (a team's namespace, quota, network policies, workload role and access), KEDA and
``ModelEndpoint``."""

from .keda import Keda, KedaArgs
from .load_balancer_controller import (
    LoadBalancerController,
    LoadBalancerControllerArgs,
    controller_policy,
)
from .model_endpoint import (
    ActiveHours,
    EndpointIngress,
    EndpointSlo,
    MlflowModelSource,
    ModelEndpoint,
    ModelEndpointArgs,
    S3ModelSource,
    ServerKind,
    ServerSpec,
)
from .tenant import GPU_QUOTA_KEY, Tenant, TenantArgs, tenant_problems, workload_policy

__all__ = [
    "GPU_QUOTA_KEY",
    "ActiveHours",
    "EndpointIngress",
    "EndpointSlo",
    "Keda",
    "KedaArgs",
    "LoadBalancerController",
    "LoadBalancerControllerArgs",
    "MlflowModelSource",
    "ModelEndpoint",
    "ModelEndpointArgs",
    "S3ModelSource",
    "ServerKind",
    "ServerSpec",
    "Tenant",
    "TenantArgs",
    "controller_policy",
    "tenant_problems",
    "workload_policy",
]
