"""Profiles: the one place per-environment defaults live; each one is itself valid."""

from __future__ import annotations

import json

import pytest
from mlops_platform.config import Profile, environment_from_config
from mlops_platform.config.profiles import PROFILES, merge_over_profile

from tests.conftest import DEPLOY_PATH_ELSEWHERE


def _minimal(profile: str) -> dict[str, str]:
    return {
        "mlops:profile": profile,
        "aws:region": "eu-west-1",
        "mlops:allowedAccountIds": json.dumps(["123456789012"]),
        "mlops:tags": json.dumps({"owner": "o", "cost-center": "c"}),
        **DEPLOY_PATH_ELSEWHERE,
    }


@pytest.mark.parametrize("profile", [p.value for p in Profile])
def test_each_profile_alone_is_a_valid_environment(profile):
    config = environment_from_config(_minimal(profile), profile)
    assert config.profile.value == profile
    assert config.gpu.pools == []


def test_profiles_differ_as_documented():
    dev, test, prod = (environment_from_config(_minimal(p), p) for p in ("dev", "test", "prod"))
    assert (dev.network.az_count, test.network.az_count, prod.network.az_count) == (2, 2, 3)
    assert [c.network.nat_gateways.value for c in (dev, test, prod)] == [
        "single",
        "single",
        "per-az",
    ]
    assert dev.network.interface_endpoints == []
    assert "ecr.dkr" in [e.value for e in prod.network.interface_endpoints]
    assert [c.log_retention_days for c in (dev, test, prod)] == [7, 30, 365]
    assert [c.protect_stateful_resources for c in (dev, test, prod)] == [False, False, True]
    assert not any(c.cluster.endpoint_public_access for c in (dev, test, prod))
    assert prod.cluster.deletion_protection and not dev.cluster.deletion_protection
    assert dev.gpu.budget_gpus < test.gpu.budget_gpus < prod.gpu.budget_gpus


def test_stack_values_override_profile_and_maps_merge():
    values = _minimal("test")
    values["mlops:network"] = json.dumps({"vpcCidr": "10.50.0.0/16"})
    values["mlops:logRetentionDays"] = "90"
    config = environment_from_config(values, "test")
    assert config.network.vpc_cidr == "10.50.0.0/16"
    assert config.network.az_count == 2  # still the profile's
    assert config.log_retention_days == 90


def test_merge_replaces_lists_and_merges_maps():
    merged = merge_over_profile({"a": {"x": 1, "y": [1, 2]}, "b": 1}, {"a": {"y": [3]}})
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 1}
    assert PROFILES[Profile.DEV]["network"]["interfaceEndpoints"] == []  # not mutated
