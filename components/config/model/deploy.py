"""``mlops:phase`` and ``mlops:deployRunner``: the two-phase bootstrap and the in-VPC runner
that deploys a private cluster."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from ...deploy import runner as deploy_runner
from ...deploy.runner import CONNECTION_ARN
from .base import StrictModel


class DeployPhase(StrEnum):
    """How much of the environment a run builds (the two-phase bootstrap)."""

    INFRASTRUCTURE = "infrastructure"
    """Phase 1: everything that needs no Kubernetes API (network, IAM, cluster with its EKS
    add-ons and system nodes, deploy runner, buckets, ECR); runs from anywhere."""
    ALL = "all"
    """Phase 2 and every later run: everything, including what runs on the cluster."""


def _connection_arn(value: str) -> str:
    if not CONNECTION_ARN.match(value):
        raise ValueError(
            "not an AWS CodeConnections connection ARN; e.g. "
            "arn:aws:codeconnections:us-east-1:111122223333:connection/<uuid>"
        )
    return value


def _runner_compute(value: str) -> str:
    if value not in deploy_runner.COMPUTE_TYPES:
        raise ValueError(
            "not a CodeBuild Linux compute type; allowed: " + ", ".join(deploy_runner.COMPUTE_TYPES)
        )
    return value


class DeployRunnerConfig(StrictModel):
    """The in-VPC deploy runner: a CodeBuild-hosted GitHub Actions runner in the private
    subnets (docs/components/deploy-runner.md)."""

    enabled: bool = Field(
        description="Build the runner (phase 1), the way into a private-only API endpoint."
    )
    connection_arn: Annotated[str, AfterValidator(_connection_arn)] | None = Field(
        None,
        description="ARN of the AWS CodeConnections connection to GitHub, created once by a "
        "person (docs/operations.md, First deploy). Required when enabled.",
    )
    alternative_access: str | None = Field(
        None,
        min_length=3,
        description="With the runner off and a private-only endpoint (test/prod): how "
        "deploys reach the API instead (e.g. `VPN 10.50.0.0/16 via Transit Gateway`); a "
        "source outside the VPC CIDR also goes into `cluster.apiIngressCidrs`.",
    )
    image: str = Field(
        deploy_runner.DEFAULT_IMAGE,
        min_length=1,
        description="Build image: a CodeBuild managed image (pinned major) or an ECR image.",
    )
    compute_type: Annotated[str, AfterValidator(_runner_compute)] = Field(
        deploy_runner.DEFAULT_COMPUTE_TYPE,
        description="Compute of each runner build.",
    )
    concurrent_build_limit: int = Field(
        deploy_runner.DEFAULT_CONCURRENT_BUILDS,
        ge=1,
        le=deploy_runner.MAX_CONCURRENT_BUILDS,
        description="Most workflow jobs the runner takes at once.",
    )
    build_timeout_minutes: int = Field(
        deploy_runner.DEFAULT_BUILD_TIMEOUT_MINUTES,
        ge=deploy_runner.MIN_TIMEOUT_MINUTES,
        le=deploy_runner.MAX_BUILD_TIMEOUT,
        description="Longest a job may run, in minutes.",
    )
