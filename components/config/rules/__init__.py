"""Cross-field rules of an environment's configuration.

Each rule is a plain function from a structurally valid :class:`EnvironmentConfig` to the
problems it finds, so every problem is reported at once, and so the policy pack can apply
the same predicates to what a stack registers. One module per section of the stack
configuration; :data:`RULES` lists them all, in the order their problems are reported.
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import EnvironmentConfig
from .access import deploy_path, iam_settings
from .cluster import api_endpoint, api_ingress, cluster_access_and_keys
from .environment import node_group_sizes, prod_profile, required_tags
from .gpu import (
    cluster_autoscaler,
    gpu_budget,
    gpu_instance_types,
    gpu_pool_capacity,
    gpu_pools,
    gpu_sharing,
)
from .network import adopted_pod_subnets, existing_network, network_cidrs, planned_subnets
from .observability import observability_settings
from .problem import Path, Problem
from .storage import model_registry, registry, storage
from .tenants import tenants

RULES: tuple[Callable[[EnvironmentConfig], list[Problem]], ...] = (
    required_tags,
    network_cidrs,
    existing_network,
    api_endpoint,
    api_ingress,
    adopted_pod_subnets,
    prod_profile,
    node_group_sizes,
    gpu_instance_types,
    gpu_budget,
    gpu_pools,
    gpu_sharing,
    gpu_pool_capacity,
    cluster_access_and_keys,
    iam_settings,
    deploy_path,
    storage,
    registry,
    model_registry,
    observability_settings,
    cluster_autoscaler,
    tenants,
)


def check(config: EnvironmentConfig) -> list[Problem]:
    """Every problem every rule finds."""
    return [problem for rule in RULES for problem in rule(config)]


__all__ = ["RULES", "Path", "Problem", "check", "planned_subnets"]
