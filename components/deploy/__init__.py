"""The deploy domain: how a stack reaches a private cluster (the in-VPC ``DeployRunner``) and
who deploys it (the deploying identity's cluster access)."""

from .identity import CallerKind, DeployerIdentity, deployer_identity, resolve_deployer, same_role
from .runner import DEFAULT_IMAGE, WORKFLOW_JOB_EVENT, DeployRunner, DeployRunnerArgs

__all__ = [
    "DEFAULT_IMAGE",
    "WORKFLOW_JOB_EVENT",
    "CallerKind",
    "DeployRunner",
    "DeployRunnerArgs",
    "DeployerIdentity",
    "deployer_identity",
    "resolve_deployer",
    "same_role",
]
