"""ContainerRegistry: immutable, scanned, encrypted, lifecycled, private; ECR-valid names."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.storage.container_registry import (
    ContainerRegistry,
    ContainerRegistryArgs,
    Upstream,
    cache_prefix,
)

from scripts.offline import run_program
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

REPO = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPO_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
KEY = "aws:kms/key:Key"
NODE_ROLE = "arn:aws:iam::123456789012:role/mlops-dev-node"
CI_ROLE = "arn:aws:iam::123456789012:role/mlops-dev-ci"


def _args(**overrides: Any) -> ContainerRegistryArgs:
    base: dict[str, Any] = {
        "name_prefix": "mlops-dev",
        "tags": {"owner": "ml-team"},
        "pull_principal_arns": [NODE_ROLE],
    }
    return ContainerRegistryArgs(**{**base, **overrides})


def _run(args: ContainerRegistryArgs, stack: str = "dev"):
    return run_program(lambda: ContainerRegistry("reg", args), stack=stack)


@pytest.fixture(scope="module")
def dev():
    return _run(_args(push_principal_arns=[CI_ROLE]))


def test_repositories_are_immutable_scanned_and_kms_encrypted(dev):
    key = dev.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    repos = dev.of_type(REPO)
    assert sorted(r.inputs["name"] for r in repos) == ["mlops-dev-serving", "mlops-dev-training"]
    for repo in repos:
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo.inputs["encryptionConfigurations"] == [
            {"encryptionType": "KMS", "kmsKey": f"arn:aws:kms:us-east-1:123456789012:key/{key.id}"}
        ]
        assert repo.inputs["forceDelete"] is False
        assert repo.inputs["tags"]["owner"] == "ml-team"


def test_every_repository_has_a_lifecycle_policy_from_args():
    rec = _run(_args(keep_tagged_images=30, untagged_expiry_days=4, release_tag_patterns=["v*"]))
    policies = {
        p.inputs["repository"]: json.loads(p.inputs["policy"]) for p in rec.of_type(LIFECYCLE)
    }
    assert set(policies) == {r.inputs["name"] for r in rec.of_type(REPO)}
    for policy in policies.values():
        untagged, tagged = sorted(policy["rules"], key=lambda r: r["rulePriority"])
        assert untagged["selection"] == {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 4,
        }
        assert tagged["selection"] == {
            "tagStatus": "tagged",
            "tagPatternList": ["v*"],
            "countType": "imageCountMoreThan",
            "countNumber": 30,
        }
        assert untagged["action"] == tagged["action"] == {"type": "expire"}


def test_repository_policy_allows_only_named_principals(dev):
    policies = dev.of_type(REPO_POLICY)
    assert len(policies) == 2
    for p in policies:
        doc = json.loads(p.inputs["policy"])
        principals = [s["Principal"] for s in doc["Statement"]]
        assert all(s["Effect"] == "Allow" for s in doc["Statement"])
        assert "*" not in json.dumps(principals)
        pull = next(s for s in doc["Statement"] if s["Sid"] == "AllowPull")
        assert pull["Principal"] == {"AWS": sorted([NODE_ROLE, CI_ROLE])}
        assert "ecr:PutImage" not in pull["Action"]
        push = next(s for s in doc["Statement"] if s["Sid"] == "AllowPush")
        assert push["Principal"] == {"AWS": [CI_ROLE]}


def test_no_principals_means_no_repository_policy():
    rec = _run(_args(pull_principal_arns=[]))
    assert rec.of_type(REPO_POLICY) == []


def test_prod_repositories_and_key_are_protected_dev_not(dev):
    assert not any(r.protect or r.retain_on_delete for r in dev.of_type(REPO) + dev.of_type(KEY))
    prod = _run(_args(protect=True), stack="prod")
    stateful = prod.of_type(REPO) + prod.of_type(KEY)
    assert len(stateful) == 3
    assert all(r.protect and r.retain_on_delete for r in stateful)


def test_enhanced_scanning_and_pull_through_cache_are_opt_in(dev):
    assert dev.of_type("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration") == []
    assert dev.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule") == []
    rec = _run(
        _args(enhanced_scanning=True, pull_through_cache=[Upstream.ECR_PUBLIC, Upstream.QUAY])
    )
    scanning = rec.one("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")
    assert scanning.inputs["scanType"] == "ENHANCED"
    assert scanning.inputs["rules"][0]["repositoryFilters"] == [
        {"filter": "mlops-dev-*", "filterType": "WILDCARD"}
    ]
    rules = rec.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    assert sorted(r.inputs["ecrRepositoryPrefix"] for r in rules) == [
        "mlops-dev-ecr-public",
        "mlops-dev-quay",
    ]


def test_cache_prefix_fits_ecr_limit():
    prefix = cache_prefix("a-very-long-project-name-prod", Upstream.ECR_PUBLIC)
    assert len(prefix) <= 30
    assert prefix != cache_prefix("a-very-long-project-name-test", Upstream.ECR_PUBLIC)


def test_outputs_expose_urls_and_a_pull_policy(dev):
    outputs = next(o for o in dev.component_outputs.values() if "repository_urls" in o)
    assert outputs["repository_urls"]["serving"] == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-serving"
    )
    pull = json.loads(outputs["pull_policy"])
    actions = {
        a
        for s in pull["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "ecr:BatchGetImage" in actions and "ecr:PutImage" not in actions


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "arg"),
    [
        ({"repositories": ["Serving"]}, "repositories[0]"),
        ({"repositories": ["serving", "-bad"]}, "repositories[1]"),
        ({"repositories": ["a//b"]}, "repositories[0]"),
        ({"repositories": ["trailing-"]}, "repositories[0]"),
        ({"repositories": ["x"]}, "repositories[0]"),
        ({"repositories": ["a" * 300]}, "repositories[0]"),
        ({"repositories": ["serving", "serving"]}, "repositories[1]"),
        ({"repositories": []}, "repositories"),
        ({"pull_principal_arns": ["*"]}, "pull_principal_arns[0]"),
        ({"keep_tagged_images": 0}, "keep_tagged_images"),
        ({"untagged_expiry_days": 0}, "untagged_expiry_days"),
        ({"pull_through_cache": ["dockerhub"]}, "pull_through_cache[0]"),
    ],
)
def test_bad_input_is_named_before_anything_registers(overrides, arg):
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(ComponentInputError) as err:
        run_program(lambda: ContainerRegistry("reg", _args(**overrides)), monitor=monitor)
    assert f"  - {arg} = " in str(err.value)
    assert not [r for r in monitor.registrations if r.request["type"].startswith("aws:")]


@pytest.mark.parametrize("name", ["serving", "llm/vllm-server", "a.b_c-d", "team1/models/x"])
def test_ecr_valid_names_pass(name):
    rec = _run(_args(repositories=[name]))
    assert rec.one(REPO).inputs["name"] == f"mlops-dev-{name}"


def test_key_has_an_explicit_policy_used_only_through_ecr(dev):
    policy = json.loads(dev.one("aws:kms/key:Key").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {
        "AccountAdministersKey",
        "AccountUsesKeyThroughServices",
        "ServicesKeepGrants",
    }
    for sid in ("AccountUsesKeyThroughServices", "ServicesKeepGrants"):
        assert by_sid[sid]["Condition"]["StringEquals"] == {
            "kms:CallerAccount": "123456789012",
            "kms:ViaService": ["ecr.us-east-1.amazonaws.com"],
        }
    assert by_sid["ServicesKeepGrants"]["Condition"]["Bool"] == {
        "kms:GrantIsForAWSResource": "true"
    }
