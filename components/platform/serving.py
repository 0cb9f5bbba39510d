"""``mlops:loadBalancerController`` and ``mlops:tenants`` onto the serving layer: the AWS Load
Balancer Controller and one :class:`Tenant` per team."""

from __future__ import annotations

from ..config import EnvironmentConfig
from ..config.model import TenantConfig
from ..network.network import Network
from ..serving.load_balancer_controller import LoadBalancerControllerArgs
from ..serving.tenant import TenantArgs
from ..storage.artifact_store import ArtifactStore
from .network import vpc_cidr
from .wiring import Wiring


def load_balancer_controller_args(
    config: EnvironmentConfig, wiring: Wiring, network: Network
) -> LoadBalancerControllerArgs:
    """The controller that provisions internal load balancers for Services and Ingresses."""
    return wiring.args(
        LoadBalancerControllerArgs, config.load_balancer_controller, vpc_id=network.vpc_id
    )


def tenant_args(
    config: EnvironmentConfig,
    wiring: Wiring,
    team: TenantConfig,
    *,
    network: Network,
    artifacts: ArtifactStore,
) -> TenantArgs:
    """One team (its quotas resolved: ``TenancyConfig.effective_teams``): a namespace, a
    workload role on the team's prefix of the artifact buckets, and access for its roles."""
    return wiring.args(
        TenantArgs,
        team,
        handled=("name",),
        team=team.name,
        artifact_bucket_arns=artifacts.bucket_arns,
        artifact_kms_key_arn=artifacts.kms_key_arn,
        load_balancer_cidrs=[vpc_cidr(config.network, network)],
    )
