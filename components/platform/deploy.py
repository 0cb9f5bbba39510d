"""``mlops:deployRunner`` onto :class:`DeployRunner`: the in-VPC runner of phase 2 deploys."""

from __future__ import annotations

from ..config import EnvironmentConfig
from ..deploy import DeployRunnerArgs
from ..network.network import Network
from .wiring import Wiring


def deploy_runner_args(
    config: EnvironmentConfig, wiring: Wiring, network: Network
) -> DeployRunnerArgs:
    """A CodeBuild-hosted GitHub Actions runner in the private subnets, taking the jobs of
    ``iam.ciRepository`` (the deploy_path config rule requires it with the runner on)."""
    return wiring.args(
        DeployRunnerArgs,
        config.deploy_runner,
        handled=("enabled", "alternative_access"),
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        repository_url=f"https://github.com/{config.iam.ci_repository}",
    )
