"""The serving domain: ``LoadBalancerController`` (AWS Load Balancer Controller) and
``Tenant`` (a team's namespace, quota, network policies, workload role and access)."""

from .load_balancer_controller import (
    LoadBalancerController,
    LoadBalancerControllerArgs,
    controller_policy,
)
from .tenant import GPU_QUOTA_KEY, Tenant, TenantArgs, tenant_problems, workload_policy

__all__ = [
    "GPU_QUOTA_KEY",
    "LoadBalancerController",
    "LoadBalancerControllerArgs",
    "Tenant",
    "TenantArgs",
    "controller_policy",
    "tenant_problems",
    "workload_policy",
]
