"""The generated policy files: policy/config/<env>.json and docs/policy-reference.md are what
``python -m scripts.policy_docs`` writes, and the settings that restate an environment's
configuration follow its profile and stack file (no analyzer needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.config import EnvironmentConfig, Profile, environment_from_config
from mlops_platform.config.profiles import PROFILES

from scripts import policy_docs
from scripts.offline.project import REPO_ROOT, load_stack_config

ENVIRONMENTS = ("dev", "test", "prod")


def _shipped(env: str) -> dict[str, Any]:
    return json.loads(policy_docs.config_file(env).read_text(encoding="utf-8"))


def _settings(config: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(rule, setting) -> value of a policy config (enforcement levels included)."""
    out: dict[tuple[str, str], Any] = {}
    for rule, entry in config.items():
        for key, value in (entry if isinstance(entry, dict) else {"level": entry}).items():
            out[(rule, key)] = value
    return out


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before, after = _settings(old), _settings(new)
    return [
        f"{rule}.{key}: {before.get((rule, key))!r} -> {after.get((rule, key))!r}"
        for rule, key in sorted(before.keys() | after.keys())
        if before.get((rule, key)) != after.get((rule, key))
    ]


def test_generated_reference_and_configs_are_current():
    stale = []
    for path, text in policy_docs.outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        where = str(path.relative_to(REPO_ROOT))
        if current is not None and path.suffix == ".json":
            where += " (" + "; ".join(_differences(json.loads(current), json.loads(text))) + ")"
        stale.append(where)
    assert stale == [], "run: python -m scripts.policy_docs; stale: " + ", ".join(stale)


def _stack_config(env: str, **overrides: Any) -> EnvironmentConfig:
    stack = load_stack_config(env)
    values = {**stack.values, **{k: json.dumps(v) for k, v in overrides.items()}}
    return environment_from_config(values, env, frozenset(stack.secret_keys))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_shipped_settings_restate_the_stacks_effective_config(env):
    config, shipped = _stack_config(env), _shipped(env)
    windows = [
        config.cluster.secrets_key_deletion_window_days,
        config.storage.kms_deletion_window_days,
        config.registry.kms_deletion_window_days,
        config.observability.kms_deletion_window_days,
    ]
    accounts = list(config.allowed_account_ids)
    storage, database = config.storage, config.model_registry
    expected = {
        ("logs-retention", "minRetentionDays"): config.log_retention_days,
        ("kms-key-deletion-window", "minDeletionWindowDays"): min(windows),
        ("gpu-budget", "budgetGpus"): config.gpu.budget_gpus,
        ("gpu-instance-type-allowlist", "allowedInstanceTypes"): config.gpu.allowed_instance_types,
        ("eks-endpoint-private", "allowPublicEndpoint"): config.cluster.endpoint_public_access,
        ("k8s-images-pinned-from-allowed-registries", "allowedEcrAccountIds"): accounts,
        ("endpoint-image-digest-pinned", "allowedEcrAccountIds"): accounts,
        ("rds-multi-az", "required"): database.multi_az,
        ("rds-deletion-protection", "required"): database.deletion_protection,
        ("stateful-resources-protected", "required"): config.protect_stateful_resources,
        ("s3-bucket-replication-or-object-lock", "required"): (
            storage.replication.enabled or storage.object_lock.mode is not None
        ),
        ("k8s-gpu-workloads-need-gpu-quota", "gpuQuotaNamespaces"): {
            team.name: team.gpus for team in config.tenants.teams
        },
    }
    assert {k: _settings(shipped).get(k) for k in expected} == expected
    endpoints = _settings(shipped)[("ec2-vpc-endpoints", "requiredInterfaceEndpoints")]
    assert set(endpoints) <= {str(e) for e in config.network.interface_endpoints}


def test_the_generated_values_are_what_the_profiles_and_stacks_say_today():
    # Pinned so that a change of the mapping shows here, not only in the regenerated files.
    kms = {
        env: _shipped(env)["kms-key-deletion-window"]["minDeletionWindowDays"]
        for env in ENVIRONMENTS
    }
    assert kms == {"dev": 7, "test": 14, "prod": 30}
    public = {
        env: _shipped(env)["eks-endpoint-private"]["allowPublicEndpoint"] for env in ENVIRONMENTS
    }
    assert public == {"dev": True, "test": False, "prod": False}
    endpoints = {
        env: _shipped(env)["ec2-vpc-endpoints"]["requiredInterfaceEndpoints"]
        for env in ENVIRONMENTS
    }
    assert endpoints == {"dev": [], "test": ["ecr.api", "ecr.dkr"], "prod": ["ecr.api", "ecr.dkr"]}
    replicas = {env: _shipped(env)["endpoint-min-replicas"]["minReplicas"] for env in ENVIRONMENTS}
    assert replicas == {"dev": 0, "test": 1, "prod": 2}


def test_a_profile_change_moves_the_generated_values(monkeypatch):
    profile = PROFILES[Profile.TEST]
    monkeypatch.setitem(profile, "logRetentionDays", 90)
    monkeypatch.setitem(profile, "storage", {**profile["storage"], "kmsDeletionWindowDays": 10})
    monkeypatch.setitem(profile, "gpu", {**profile["gpu"], "budgetGpus": 24})
    monkeypatch.setitem(profile, "network", {**profile["network"], "interfaceEndpoints": ["sts"]})
    shipped = _shipped("test")
    synced = policy_docs.synced_config("test", shipped)
    assert synced["logs-retention"]["minRetentionDays"] == 90
    assert synced["kms-key-deletion-window"]["minDeletionWindowDays"] == 10
    assert synced["gpu-budget"]["budgetGpus"] == 24
    assert synced["ec2-vpc-endpoints"]["requiredInterfaceEndpoints"] == []
    # ... and the staleness check sees the shipped file as out of date.
    assert (
        policy_docs.outputs()[policy_docs.config_file("test")]
        != json.dumps(shipped, indent=2) + "\n"
    )


def test_a_stack_change_moves_the_generated_values():
    config = _stack_config(
        "dev",
        **{
            "mlops:allowedAccountIds": ["444444444444"],
            "mlops:cluster": {"endpointPublicAccess": False},
            "mlops:storage": {"objectLock": {"mode": "GOVERNANCE"}},
        },
    )
    synced = policy_docs.synced_config("dev", _shipped("dev"), config)
    for rule in ("k8s-images-pinned-from-allowed-registries", "endpoint-image-digest-pinned"):
        assert synced[rule]["allowedEcrAccountIds"] == ["444444444444"]
    assert synced["eks-endpoint-private"]["allowPublicEndpoint"] is False
    assert synced["s3-bucket-replication-or-object-lock"]["required"] is True


def test_hand_edits_of_generated_settings_are_overwritten_and_exemptions_kept():
    exemption = {
        "urn": "urn:pulumi:test::mlops::*aws:ecr/repository:Repository::legacy",
        "owner": "ml-platform-team",
        "reason": "vendor pushes :stable",
        "expires": "2099-12-31",
    }
    current = {
        "logs-retention": {"minRetentionDays": 1},
        "ecr-immutable-tags": {"exemptions": [exemption]},
    }
    synced = policy_docs.synced_config("test", current)
    assert (
        synced["logs-retention"]["minRetentionDays"]
        == _shipped("test")["logs-retention"]["minRetentionDays"]
    )
    assert synced["ecr-immutable-tags"]["exemptions"] == [exemption]


def test_a_setting_the_pack_lacks_is_refused_by_name(monkeypatch):
    every_env = dict.fromkeys(ENVIRONMENTS, 1)
    with monkeypatch.context() as patch:
        patch.setitem(policy_docs.POLICY_CHOICES, "gpu-budget", {"budgetGPUs": every_env})
        with pytest.raises(ValueError, match="setting budgetGPUs of rule gpu-budget"):
            policy_docs.synced_config("dev", {})
    monkeypatch.setitem(policy_docs.POLICY_CHOICES, "no-such-rule", {"x": every_env})
    with pytest.raises(ValueError, match="rule no-such-rule, which the pack lacks"):
        policy_docs.synced_config("dev", {})


def test_reference_says_where_generated_settings_come_from():
    text = (REPO_ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `logs-retention` |"))
    assert row.endswith("From each environment's configuration. |")
    row = next(line for line in text.splitlines() if line.startswith("| `endpoint-min-replicas` |"))
    assert "A policy choice" in row
