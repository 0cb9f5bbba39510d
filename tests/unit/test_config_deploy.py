"""Config keys mlops:phase and mlops:deployRunner: profile defaults and the deploy-path rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.config import ConfigError, environment_from_config
from mlops_platform.config.model import DeployPhase

CONNECTION = (
    "arn:aws:codeconnections:us-east-1:111111111111:connection/0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
)
BASE = {
    "aws:region": "us-east-1",
    "mlops:allowedAccountIds": json.dumps(["111111111111"]),
    "mlops:tags": json.dumps({"owner": "ml-team", "cost-center": "cc-1"}),
}
REPO = {"ciRepository": "example-org/ml-platform"}


def load(profile: str, **sections: Any):
    values = {**BASE, "mlops:profile": profile}
    values.update(
        {f"mlops:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in sections.items()}
    )
    return environment_from_config(values, profile)


def problems(profile: str, **sections: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(profile, **sections)
    return str(caught.value)


@pytest.mark.parametrize(("profile", "enabled"), [("test", True), ("prod", True)])
def test_runner_is_on_in_test_and_prod(profile: str, enabled: bool) -> None:
    config = load(profile, iam=REPO, deployRunner={"connectionArn": CONNECTION})
    assert config.deploy_runner.enabled is enabled
    assert config.deploy_runner.connection_arn == CONNECTION
    assert config.phase is DeployPhase.ALL


def test_runner_is_off_in_dev() -> None:
    config = load("dev")
    assert config.deploy_runner.enabled is False
    assert config.deploy_runner.connection_arn is None


def test_phase_one_is_a_config_value() -> None:
    config = load("dev", phase="infrastructure")
    assert config.phase is DeployPhase.INFRASTRUCTURE


def test_an_unknown_phase_names_the_allowed_ones() -> None:
    message = problems("dev", phase="kubernetes")
    assert "mlops:phase" in message
    assert "'infrastructure'" in message and "'all'" in message


def test_runner_needs_a_connection_and_a_repository() -> None:
    message = problems("prod")
    assert "mlops:deployRunner.connectionArn" in message
    assert "mlops:iam.ciRepository" in message
    assert "CodeConnections" in message


def test_a_bad_connection_arn_is_refused() -> None:
    message = problems(
        "test", iam=REPO, deployRunner={"connectionArn": "arn:aws:iam::111111111111:role/x"}
    )
    assert "mlops:deployRunner.connectionArn" in message
    assert "codeconnections" in message


@pytest.mark.parametrize("profile", ["test", "prod"])
def test_private_only_without_runner_needs_a_named_alternative(profile: str) -> None:
    message = problems(profile, deployRunner={"enabled": False})
    assert "mlops:deployRunner.enabled = false" in message
    assert "deployRunner.alternativeAccess" in message
    config = load(profile, deployRunner={"enabled": False, "alternativeAccess": "VPN 10.50.0.0/16"})
    assert config.deploy_runner.alternative_access == "VPN 10.50.0.0/16"


def test_a_public_test_endpoint_needs_no_runner() -> None:
    config = load(
        "test",
        deployRunner={"enabled": False},
        cluster={"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    )
    assert config.deploy_runner.enabled is False


def test_an_alternative_with_the_runner_on_is_refused() -> None:
    message = problems(
        "prod",
        iam=REPO,
        deployRunner={"connectionArn": CONNECTION, "alternativeAccess": "VPN"},
    )
    assert "mlops:deployRunner.alternativeAccess" in message
    assert "only with the runner off" in message
