"""Config of a bring-your-own network (``mlops:network.existing``): structure and rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.config import ConfigError, environment_from_config
from mlops_platform.config.model import TerraformOutputNamesConfig
from mlops_platform.network.terraform_state import DEFAULT_OUTPUT_NAMES

from scripts.offline import load_stack_config

PRIVATE = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2", "subnet-0aaaaaaaaaaaaaaa3"]


def load(stack: str, network: dict[str, Any]):
    """The stack's real config with ``mlops:network`` keys replaced by ``network``."""
    values = dict(load_stack_config(stack).values)
    merged = {**json.loads(values["mlops:network"]), **network}
    values["mlops:network"] = json.dumps(merged)
    return environment_from_config(values, stack)


def problems(stack: str, network: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        load(stack, network)
    return str(err.value)


def test_existing_by_ids_is_accepted():
    config = load(
        "prod",
        {
            "podCidr": None,
            "existing": {
                "vpcId": "vpc-0123456789abcdef0",
                "vpcCidr": "10.40.0.0/16",
                "privateSubnetIds": PRIVATE,
            },
        },
    )
    existing = config.network.existing
    assert existing is not None
    assert existing.private_subnet_ids == PRIVATE
    assert existing.terraform_state is None


def test_existing_with_too_few_private_subnets_names_the_key():
    message = problems(
        "prod",
        {
            "podCidr": None,
            "existing": {
                "vpcId": "vpc-0123456789abcdef0",
                "vpcCidr": "10.40.0.0/16",
                "privateSubnetIds": PRIVATE[:2],
            },
        },
    )
    assert "mlops:network.existing.privateSubnetIds" in message
    assert "too few private subnets: 2 for azCount 3" in message


def test_existing_by_ids_needs_vpc_id_and_cidr():
    message = problems("dev", {"existing": {"privateSubnetIds": PRIVATE[:2]}})
    assert "mlops:network.existing.vpcId = null: required" in message
    assert "mlops:network.existing.vpcCidr = null: required" in message


def test_terraform_state_takes_default_output_names():
    config = load("dev", {"existing": {"terraformState": {"source": "s3://lz-state/net.tfstate"}}})
    existing = config.network.existing
    assert existing is not None and existing.terraform_state is not None
    outputs = existing.terraform_state.outputs
    assert outputs.vpc_id == DEFAULT_OUTPUT_NAMES["vpc_id"]
    assert outputs.vpc_cidr == DEFAULT_OUTPUT_NAMES["vpc_cidr"]
    assert outputs.private_subnet_ids == DEFAULT_OUTPUT_NAMES["private_subnet_ids"]
    assert outputs.public_subnet_ids is None


def test_terraform_state_output_names_are_mapped_in_config():
    config = load(
        "dev",
        {
            "existing": {
                "terraformState": {
                    "source": "landing-zone/terraform.tfstate",
                    "outputs": {"vpcId": "lz_vpc", "publicSubnetIds": "lz_public"},
                }
            }
        },
    )
    assert config.network.existing is not None
    state = config.network.existing.terraform_state
    assert state is not None
    assert state.outputs == TerraformOutputNamesConfig.model_validate(
        {"vpcId": "lz_vpc", "publicSubnetIds": "lz_public"}
    )


def test_ids_and_terraform_state_are_exclusive():
    message = problems(
        "dev",
        {
            "existing": {
                "vpcId": "vpc-0123456789abcdef0",
                "terraformState": {"source": "s3://lz-state/net.tfstate"},
            }
        },
    )
    assert "mlops:network.existing = " in message
    assert "not both" in message


@pytest.mark.parametrize("source", ["s3://lz-state", "s3://lz-state/", "https://x/y.tfstate", " "])
def test_bad_state_sources_are_refused(source):
    message = problems("dev", {"existing": {"terraformState": {"source": source}}})
    assert "mlops:network.existing.terraformState.source" in message


def test_malformed_ids_are_refused():
    message = problems(
        "dev",
        {
            "existing": {
                "vpcId": "my-vpc",
                "vpcCidr": "10.40.0.0/16",
                "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "sn-2"],
            }
        },
    )
    assert "mlops:network.existing.vpcId" in message
    assert "mlops:network.existing.privateSubnetIds[1]" in message


def test_existing_vpc_takes_no_pod_cidr():
    message = problems(
        "prod",
        {
            "existing": {
                "vpcId": "vpc-0123456789abcdef0",
                "vpcCidr": "10.40.0.0/16",
                "privateSubnetIds": PRIVATE,
            }
        },
    )
    assert (
        'mlops:network.podCidr = "100.64.0.0/16": cannot add a CIDR to an existing VPC' in message
    )


def test_availability_zones_match_the_private_subnets():
    message = problems(
        "dev",
        {
            "existing": {
                "vpcId": "vpc-0123456789abcdef0",
                "vpcCidr": "10.40.0.0/16",
                "privateSubnetIds": PRIVATE[:2],
                "availabilityZones": ["us-east-1a"],
            }
        },
    )
    assert "mlops:network.existing.availabilityZones" in message
    good = load(
        "dev",
        {
            "existing": {
                "vpcId": "vpc-0123456789abcdef0",
                "vpcCidr": "10.40.0.0/16",
                "privateSubnetIds": PRIVATE[:2],
                "availabilityZones": ["us-east-1a", "us-east-1b"],
            }
        },
    )
    assert good.network.existing is not None


def test_no_existing_network_by_default():
    assert load("dev", {}).network.existing is None
