"""Config sections mlops:storage, mlops:registry, mlops:modelRegistry: defaults and rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.config import environment_from_config
from mlops_platform.config.loader import ConfigError

from tests.conftest import DEPLOY_PATH_ELSEWHERE


def _values(profile: str, **sections: Any) -> dict[str, str]:
    values = {
        "mlops:profile": profile,
        "aws:region": "eu-west-1",
        "mlops:allowedAccountIds": json.dumps(["123456789012"]),
        "mlops:tags": json.dumps({"owner": "o", "cost-center": "c"}),
        **DEPLOY_PATH_ELSEWHERE,
    }
    for key, value in sections.items():
        values[f"mlops:{key}"] = json.dumps(value)
    return values


def _load(profile: str, **sections: Any):
    return environment_from_config(_values(profile, **sections), profile)


def _problems(profile: str, **sections: Any) -> str:
    with pytest.raises(ConfigError) as err:
        _load(profile, **sections)
    return str(err.value)


def test_profile_defaults_differ_as_documented():
    dev, test, prod = (_load(p) for p in ("dev", "test", "prod"))
    assert [c.storage.noncurrent_version_expiration_days for c in (dev, test, prod)] == [
        30,
        60,
        365,
    ]
    assert [c.storage.transition_days for c in (dev, test, prod)] == [30, 60, 90]
    assert [c.storage.access_log_expiration_days for c in (dev, test, prod)] == [30, 90, 365]
    assert [c.storage.kms_deletion_window_days for c in (dev, test, prod)] == [7, 14, 30]
    assert not any(c.storage.force_destroy for c in (dev, test, prod))
    assert dev.storage.object_lock.mode is None
    assert prod.storage.object_lock.mode is not None
    assert prod.storage.object_lock.mode.value == "GOVERNANCE"
    assert [p.value for p in prod.storage.object_lock.purposes] == [
        "models",
        "datasets",
        "pipeline-artifacts",
    ]
    assert [c.registry.keep_tagged_images for c in (dev, test, prod)] == [20, 50, 200]
    assert [c.registry.untagged_expiry_days for c in (dev, test, prod)] == [3, 7, 14]
    assert [c.registry.enhanced_scanning for c in (dev, test, prod)] == [False, True, True]
    assert [c.model_registry.backup_retention_days for c in (dev, test, prod)] == [7, 7, 30]
    assert [c.model_registry.multi_az for c in (dev, test, prod)] == [False, False, True]
    assert [c.model_registry.deletion_protection for c in (dev, test, prod)] == [False, False, True]
    assert prod.model_registry.final_snapshot and not dev.model_registry.final_snapshot


def test_force_destroy_allowed_in_dev_only_when_asked():
    assert _load("dev", storage={"forceDestroy": True}).storage.force_destroy is True
    message = _problems("prod", storage={"forceDestroy": True})
    assert "mlops:storage.forceDestroy = true" in message
    message = _problems("test", protectStatefulResources=True, storage={"forceDestroy": True})
    assert "mlops:storage.forceDestroy = true" in message


def test_unknown_bucket_purpose_is_named():
    message = _problems("dev", storage={"purposes": ["models", "features"]})
    assert "mlops:storage.purposes[1]" in message and "features" in message
    assert _load("dev", storage={"purposes": ["models"]}).storage.purposes[0].value == "models"


def test_replication_needs_a_destination_region_other_than_the_stack():
    message = _problems("test", storage={"replication": {"enabled": True}})
    assert "mlops:storage.replication.region = null" in message
    message = _problems("test", storage={"replication": {"enabled": True, "region": "eu-west-1"}})
    assert "must differ from the stack's region" in message
    config = _load("test", storage={"replication": {"enabled": True, "region": "eu-central-1"}})
    assert config.storage.replication.region == "eu-central-1"


def test_replication_and_lock_only_on_existing_data_buckets():
    message = _problems(
        "test",
        storage={
            "purposes": ["models"],
            "replication": {"enabled": True, "region": "eu-central-1", "purposes": ["datasets"]},
        },
    )
    assert "mlops:storage.replication.purposes[0]" in message
    message = _problems(
        "dev", storage={"objectLock": {"mode": "GOVERNANCE", "purposes": ["access-logs"]}}
    )
    assert "mlops:storage.objectLock.purposes[0]" in message


@pytest.mark.parametrize(
    ("sections", "key"),
    [
        (
            {"storage": {"noncurrentVersionExpirationDays": 0}},
            "mlops:storage.noncurrentVersionExpirationDays",
        ),
        (
            {"storage": {"abortIncompleteMultipartUploadDays": 31}},
            "mlops:storage.abortIncompleteMultipartUploadDays",
        ),
        ({"storage": {"accessLogExpirationDays": 4000}}, "mlops:storage.accessLogExpirationDays"),
        ({"storage": {"kmsDeletionWindowDays": 6}}, "mlops:storage.kmsDeletionWindowDays"),
        (
            {"storage": {"objectLock": {"mode": "GOVERNANCE", "days": 0}}},
            "mlops:storage.objectLock.days",
        ),
        ({"registry": {"keepTaggedImages": 0}}, "mlops:registry.keepTaggedImages"),
        ({"registry": {"untaggedExpiryDays": 0}}, "mlops:registry.untaggedExpiryDays"),
        ({"modelRegistry": {"backupRetentionDays": 0}}, "mlops:modelRegistry.backupRetentionDays"),
        ({"modelRegistry": {"backupRetentionDays": 36}}, "mlops:modelRegistry.backupRetentionDays"),
    ],
)
def test_retention_numbers_out_of_range_are_named(sections, key):
    assert f"{key} = " in _problems("dev", **sections)


def test_standard_ia_needs_thirty_days():
    message = _problems(
        "dev", storage={"transitionDays": 10, "transitionStorageClass": "STANDARD_IA"}
    )
    assert "mlops:storage.transitionDays = 10" in message
    config = _load("dev", storage={"transitionDays": 30, "transitionStorageClass": "STANDARD_IA"})
    assert config.storage.transition_days == 30


def test_prod_keeps_a_protected_copy_of_artifacts():
    message = _problems("prod", storage={"objectLock": {"mode": None}})
    assert "mlops:storage.objectLock.mode" in message
    config = _load(
        "prod",
        storage={
            "objectLock": {"mode": None},
            "replication": {"enabled": True, "region": "eu-central-1"},
        },
    )
    assert config.storage.replication.enabled


@pytest.mark.parametrize("name", ["Serving", "-x", "a//b", "x", "serving-", "a" * 257])
def test_repository_names_ecr_would_reject_are_named(name):
    message = _problems("dev", registry={"repositories": ["serving", name]})
    assert "mlops:registry.repositories[1]" in message


def test_repository_names_unique_and_valid_ones_pass():
    assert "must be unique" in _problems("dev", registry={"repositories": ["a1", "a1"]})
    config = _load("dev", registry={"repositories": ["serving", "llm/vllm"]})
    assert config.registry.repositories == ["serving", "llm/vllm"]


def test_unknown_pull_through_upstream_is_named():
    assert "mlops:registry.pullThroughCache[0]" in _problems(
        "dev", registry={"pullThroughCache": ["dockerhub"]}
    )


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"multiAz": False}, "mlops:modelRegistry.multiAz"),
        ({"deletionProtection": False}, "mlops:modelRegistry.deletionProtection"),
        ({"finalSnapshot": False}, "mlops:modelRegistry.finalSnapshot"),
        ({"backupRetentionDays": 3}, "mlops:modelRegistry.backupRetentionDays"),
    ],
)
def test_prod_mlflow_database_stays_protected(overrides, key):
    assert f"{key} = " in _problems("prod", modelRegistry=overrides)
    # the same setting is fine outside prod
    _load("test", modelRegistry=overrides)


def test_model_registry_storage_bounds_and_pins():
    message = _problems(
        "dev", modelRegistry={"allocatedStorageGb": 100, "maxAllocatedStorageGb": 50}
    )
    assert "mlops:modelRegistry.maxAllocatedStorageGb = 50" in message
    assert "mlops:modelRegistry.chartVersion" in _problems(
        "dev", modelRegistry={"chartVersion": "latest"}
    )
    assert "mlops:modelRegistry.engineVersion" in _problems(
        "dev", modelRegistry={"engineVersion": "17"}
    )
    config = _load("dev", modelRegistry={"chartVersion": "1.11.5", "engineVersion": "17.7"})
    assert config.model_registry.chart_version == "1.11.5"


# --- human roles and the database's monitoring (iam, modelRegistry) ---------------------------

SSO_PATTERN = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_X_*"


def test_a_human_role_that_is_on_needs_named_principals():
    message = _problems("prod", iam={"platformAdminRole": True, "readOnlyRole": True})
    assert "mlops:iam.adminPrincipalArns = []" in message
    assert "mlops:iam.readOnlyPrincipalArns = []" in message
    root = _problems("prod", iam={"adminPrincipalArns": ["arn:aws:iam::123456789012:root"]})
    assert "mlops:iam.adminPrincipalArns[0]" in root
    config = _load("prod", iam={"adminPrincipalArns": [SSO_PATTERN], "readOnlyRole": False})
    assert config.iam.admin_principal_arns == [SSO_PATTERN]


def test_enhanced_monitoring_interval_per_profile_and_allowed_values():
    intervals = [
        _load(p).model_registry.monitoring_interval_seconds for p in ("dev", "test", "prod")
    ]
    assert intervals == [0, 60, 15]
    assert "mlops:modelRegistry.monitoringIntervalSeconds" in _problems(
        "test", modelRegistry={"monitoringIntervalSeconds": 7}
    )


@pytest.mark.parametrize("section", ["storage", "registry", "observability"])
def test_prod_keeps_the_longest_key_window_on_every_key(section):
    message = _problems("prod", **{section: {"kmsDeletionWindowDays": 14}})
    assert f"mlops:{section}.kmsDeletionWindowDays" in message
    assert "prod keeps the longest KMS deletion window, 30 days" in message
    _load("test", **{section: {"kmsDeletionWindowDays": 14}})  # outside prod: allowed
