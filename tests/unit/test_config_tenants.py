"""The tenants and load balancer controller sections of the stack config: per-profile
defaults, the owner rule and the GPU overcommit rule, each failing with the key path."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mlops_platform.config import ConfigError, EnvironmentConfig, environment_from_config

from scripts.offline.project import load_stack_config


def load(stack: str, change: Callable[[dict[str, Any]], None] | None = None) -> EnvironmentConfig:
    values = dict(load_stack_config(stack).values)
    tenants = json.loads(values["mlops:tenants"])
    if change:
        change(tenants)
    values["mlops:tenants"] = json.dumps(tenants)
    return environment_from_config(values, stack)


def failure(stack: str, change: Callable[[dict[str, Any]], None]) -> str:
    with pytest.raises(ConfigError) as caught:
        load(stack, change)
    return str(caught.value)


@pytest.mark.parametrize(
    ("stack", "overcommit", "replicas"), [("dev", 2.0, 1), ("test", 1.5, 2), ("prod", 1.0, 2)]
)
def test_profiles_set_overcommit_and_controller_replicas(stack, overcommit, replicas):
    config = load(stack)
    assert config.tenants.gpu_overcommit == overcommit
    assert config.load_balancer_controller.replicas == replicas
    [team] = config.tenants.teams
    assert team.name == "recsys" and team.owner and team.gpus > 0


def test_a_tenant_takes_each_quota_it_leaves_unset_from_the_defaults():
    # test profile: cpu 16, memory 64Gi, pods 50, loadBalancers 1
    config = load("test", lambda t: t["teams"][0].update(memory="8Gi", loadBalancers=0))
    [team] = config.tenants.effective_teams()
    assert (team.cpu, team.memory, team.pods, team.load_balancers) == ("16", "8Gi", 50, 0)
    assert config.tenants.teams[0].cpu is None  # the stack's own value stays unset


def test_every_tenant_names_an_owner():
    def drop_owner(t: dict[str, Any]) -> None:
        del t["teams"][0]["owner"]

    message = failure("test", drop_owner)
    assert "mlops:tenants.teams[0].owner" in message
    assert "names no owner" in message
    blank = failure("test", lambda t: t["teams"][0].update(owner="  "))
    assert "mlops:tenants.teams[0].owner" in blank


def test_gpu_quotas_may_exceed_the_budget_only_by_the_overcommit_factor():
    # prod: budget 64, overcommit 1.0
    message = failure("prod", lambda t: t["teams"][0].update(gpus=65))
    assert "mlops:tenants.teams" in message
    assert "gpu.budgetGpus (64) x tenants.gpuOvercommit (1) = 64" in message
    # an explicit overcommit lets the same quota through
    config = load("prod", lambda t: (t["teams"][0].update(gpus=65), t.update(gpuOvercommit=1.5)))
    assert config.tenants.teams[0].gpus == 65
    # dev: budget 4 x 2.0 across two teams
    second = {"name": "vision", "owner": "vision-team", "gpus": 7}
    message = failure("dev", lambda t: t["teams"].append(second))
    assert "9 GPUs of quota (recsys: 2, vision: 7)" in message


def test_tenant_names_are_unique_and_not_platform_namespaces():
    message = failure(
        "dev",
        lambda t: t["teams"].extend(
            [{"name": "recsys", "owner": "x"}, {"name": "monitoring", "owner": "y"}]
        ),
    )
    assert "mlops:tenants.teams[1].name" in message
    assert "mlops:tenants.teams[2].name" in message


def test_bad_shapes_name_the_key():
    message = failure("dev", lambda t: t["teams"][0].update(name="Rec_Sys", memory="lots"))
    assert "mlops:tenants.teams[0].name" in message
    assert "mlops:tenants.teams[0].memory" in message
    assert "overcommit" in failure("dev", lambda t: t.update(gpuOvercommit=0.5)).lower()
