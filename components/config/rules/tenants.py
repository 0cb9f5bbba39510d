"""Rules of ``mlops:tenants``: owned, distinct namespaces whose GPU quotas fit the budget."""

from __future__ import annotations

from ...observability.observability import ObservabilityArgs
from ...serving.tenant import RESERVED_NAMESPACES
from ...storage.model_registry import ModelRegistryArgs
from ..model import EnvironmentConfig
from .problem import Problem

_NOT_TENANTS = (
    *RESERVED_NAMESPACES,
    ObservabilityArgs.__dataclass_fields__["namespace"].default,
    ModelRegistryArgs.__dataclass_fields__["namespace"].default,
)
"""Namespaces Kubernetes reserves or the platform uses: no tenant may take one."""


def tenants(config: EnvironmentConfig) -> list[Problem]:
    """Every tenant names an owner and a namespace of its own; the tenants' GPU quotas fit
    the GPU budget times the profile's overcommit factor."""
    tenancy = config.tenants
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, team in enumerate(tenancy.teams):
        if team.owner is None or not team.owner.strip():
            problems.append(
                Problem(
                    ("tenants", "teams", i, "owner"),
                    team.owner,
                    f"tenant {team.name!r} names no owner; every tenant names the team or "
                    "person who answers for it",
                )
            )
        if team.name in seen:
            problems.append(
                Problem(("tenants", "teams", i, "name"), team.name, "each tenant name once")
            )
        seen.add(team.name)
        if team.name in _NOT_TENANTS:
            problems.append(
                Problem(
                    ("tenants", "teams", i, "name"),
                    team.name,
                    "a namespace of its own, not one of " + ", ".join(_NOT_TENANTS),
                )
            )
    total = sum(team.gpus for team in tenancy.teams)
    ceiling = config.gpu.budget_gpus * tenancy.gpu_overcommit
    if total > ceiling:
        breakdown = ", ".join(f"{team.name}: {team.gpus}" for team in tenancy.teams if team.gpus)
        problems.append(
            Problem(
                ("tenants", "teams"),
                f"{total} GPUs of quota ({breakdown})",
                f"exceeds gpu.budgetGpus ({config.gpu.budget_gpus}) x tenants.gpuOvercommit "
                f"({tenancy.gpu_overcommit:g}) = {ceiling:g}; lower the tenants' gpus or raise "
                "tenants.gpuOvercommit explicitly",
            )
        )
    return problems
