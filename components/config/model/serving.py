"""``mlops:loadBalancerController`` and ``mlops:tenants``: the serving layer's load balancer
controller and the teams' namespaces with their quotas."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ...core import patterns
from ...serving.load_balancer_controller import CHART_VERSION
from .base import Cidr, RoleArn, SemVer, StrictModel, with_own_settings


class LoadBalancerControllerConfig(StrictModel):
    """The AWS Load Balancer Controller (internal load balancers for Services and Ingresses)."""

    replicas: int = Field(ge=1, le=5, description="Controller replicas (2+ for availability).")
    chart_version: SemVer = Field(
        CHART_VERSION,
        description="Exact `aws-load-balancer-controller` chart version; by default the one "
        "the LoadBalancerController component is tested with.",
    )


Quantity = Annotated[str, Field(pattern=patterns.QUANTITY.regex)]
PodCount = Annotated[int, Field(ge=1, le=5000)]
LoadBalancerCount = Annotated[int, Field(ge=0, le=20)]


class TenantQuotaDefaultsConfig(StrictModel):
    """Quota every tenant gets unless it sets its own."""

    cpu: Quantity = Field(description="CPU a tenant may request (`requests.cpu`).")
    memory: Quantity = Field(description="Memory a tenant may request and use.")
    pods: PodCount = Field(description="Most pods in a tenant namespace.")
    load_balancers: LoadBalancerCount = Field(
        description="Most LoadBalancer Services in a tenant namespace."
    )


class TenantConfig(StrictModel):
    """One team's namespace on the cluster."""

    name: str = Field(
        pattern=r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$",
        description="The team: a DNS label (at most 40 characters); also the namespace.",
    )
    owner: str | None = Field(
        None, description="Who answers for the tenant (a team or person). Required."
    )
    gpus: int = Field(0, ge=0, description="GPUs the namespace may request at once.")
    cpu: Quantity | None = Field(None, description="CPU quota; unset: quotaDefaults.cpu.")
    memory: Quantity | None = Field(None, description="Memory quota; unset: quotaDefaults.")
    pods: PodCount | None = Field(None, description="Pod quota; unset: quotaDefaults.")
    load_balancers: LoadBalancerCount | None = Field(
        None, description="LoadBalancer Services; unset: quotaDefaults."
    )
    access_role_arns: list[RoleArn] = Field(
        default_factory=list,
        description="The team's own IAM roles: each gets edit rights in the namespace only.",
    )
    https_egress_cidrs: list[Cidr] | None = Field(
        None,
        description="Where the team's pods may open HTTPS connections; unset: anywhere "
        "(AWS APIs), never the instance metadata service.",
    )


class TenancyConfig(StrictModel):
    """Teams' namespaces (`Tenant` per team) and how far their GPU quotas may overcommit."""

    gpu_overcommit: float = Field(
        ge=1.0,
        le=10.0,
        description="How far the sum of tenants' GPU quotas may exceed gpu.budgetGpus "
        "(1 = not at all).",
    )
    quota_defaults: TenantQuotaDefaultsConfig = Field(
        description="Quota every tenant gets unless it sets its own."
    )
    teams: list[TenantConfig] = Field(default_factory=list, description="The tenants.")

    def effective_teams(self) -> list[TenantConfig]:
        """Every tenant with its unset quotas taken from :attr:`quota_defaults`."""
        return [
            team.model_copy(update=dict(with_own_settings(team, self.quota_defaults)))
            for team in self.teams
        ]
