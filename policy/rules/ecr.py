"""ECR: immutable tags, scan on push, KMS, lifecycle policies, no public repository policy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from rules import documents
from rules.read import wildcard_match
from rules.rule import Rule, StackContext, customer_managed_key

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"

_IMMUTABLE = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")


_PROBE_TAGS = ("1.4.2", "v1.4.2", "2025-01-01", "sha-0123abc", "zzqprobe")
"""Invented tags: an exclusion filter matching one of them exempts ordinary release tags."""


def _immutable(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    value = (props["imageTagMutability"].text() or "MUTABLE").upper()
    if value not in _IMMUTABLE:
        yield f"imageTagMutability is {value}; a pushed tag can be overwritten"
        return
    if value != "IMMUTABLE_WITH_EXCLUSION":
        return
    for f in props["imageTagMutabilityExclusionFilters"].items():
        pattern = f["filter"].text() or ""
        if not pattern or any(wildcard_match(pattern, tag) for tag in _PROBE_TAGS):
            yield (
                f"IMMUTABLE_WITH_EXCLUSION exclusion filter {pattern!r} is broad: it makes "
                "ordinary release tags mutable (exclude a narrow prefix such as 'dev-*')"
            )


def _scan(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props.at("imageScanningConfiguration", "scanOnPush").flag() is not True:
        yield "images are not scanned on push"


def _kms(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    configs = args.props["encryptionConfigurations"].items()
    kms = [c for c in configs if (c["encryptionType"].text() or "").upper() in ("KMS", "KMS_DSSE")]
    if not kms:
        yield "repository is encrypted with AES256, not a KMS key"
        return
    for c in kms:
        key = c["kmsKey"].text()
        if not key:
            yield "encryptionType KMS without kmsKey uses the AWS managed key aws/ecr"
        elif not customer_managed_key(key):
            yield f"kmsKey {key} is an AWS managed key, not a customer managed key"


def _lifecycle(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    policies = ctx.of_type(LIFECYCLE)
    for repo in ctx.of_type(REPOSITORY):
        if not ctx.linked(repo, policies, "repository", ("name",)):
            yield repo.urn, f"repository {repo.name} has no lifecycle policy"


def _not_public(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.public_allows(args.props["policy"]):
        yield f"{s.label()} lets anyone ('*') use the repository"


RULES: list[Rule] = [
    Rule(
        id="ECR-001",
        name="ecr-immutable-tags",
        severity=Severity.HIGH,
        description="ECR repositories use immutable image tags; IMMUTABLE_WITH_EXCLUSION counts "
        "only when no exclusion filter matches ordinary release tags.",
        remediation='aws.ecr.Repository(f"{name}-repo", image_tag_mutability="IMMUTABLE", ...)',
        controls=("FSBP ECR.2", "CKV_AWS_51"),
        catalog=(12,),
        resource_check=_immutable,
        resource_types=(REPOSITORY,),
    ),
    Rule(
        id="ECR-002",
        name="ecr-scan-on-push",
        severity=Severity.HIGH,
        description="ECR repositories scan images on push.",
        remediation=(
            'aws.ecr.Repository(f"{name}-repo", image_scanning_configuration='
            "aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True), ...)"
        ),
        controls=("FSBP ECR.1", "CKV_AWS_163", "CIS 5.1.1"),
        catalog=(13,),
        resource_check=_scan,
        resource_types=(REPOSITORY,),
        limits="Registry-level enhanced scanning (aws.ecr.RegistryScanningConfiguration) is "
        "not taken as a substitute.",
    ),
    Rule(
        id="ECR-003",
        name="ecr-kms-encryption",
        severity=Severity.MEDIUM,
        description="ECR repositories are encrypted with a customer managed KMS key (not the "
        "AWS managed aws/ecr key).",
        remediation=(
            'aws.ecr.Repository(f"{name}-repo", encryption_configurations=['
            'aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", '
            "kms_key=key.arn)], ...)"
        ),
        controls=("CKV_AWS_136",),
        catalog=(14,),
        resource_check=_kms,
        resource_types=(REPOSITORY,),
    ),
    Rule(
        id="ECR-004",
        name="ecr-repository-lifecycle-policy",
        severity=Severity.MEDIUM,
        description="Every ECR repository has a lifecycle policy.",
        remediation=(
            'aws.ecr.LifecyclePolicy(f"{name}-lifecycle", repository=repo.name, '
            'policy=json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": '
            '"untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": '
            '14}, "action": {"type": "expire"}}]}), opts=child)'
        ),
        controls=("FSBP ECR.3",),
        catalog=(15,),
        stack_check=_lifecycle,
    ),
    Rule(
        id="ECR-005",
        name="ecr-repository-policy-not-public",
        severity=Severity.CRITICAL,
        description="ECR repository policies allow no anonymous principal without a condition.",
        remediation=(
            'Name the pulling principals: {"Principal": {"AWS": [node_role.arn]}} or add '
            "an aws:PrincipalOrgID condition in aws.ecr.RepositoryPolicy(...)."
        ),
        controls=("CKV_AWS_32", "CIS 5.1.2"),
        catalog=(16,),
        resource_check=_not_public,
        resource_types=(REPOSITORY_POLICY,),
    ),
]
