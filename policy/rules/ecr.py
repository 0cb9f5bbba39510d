"""ECR: immutable tags, scan on push, KMS, lifecycle policies, no public repository policy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rules import documents
from rules.catalog import resource_rule, rules_of, stack_rule
from rules.checks import aws_managed_key
from rules.context import StackContext
from rules.read import wildcard_match

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"

_IMMUTABLE = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")


_PROBE_TAGS = ("1.4.2", "v1.4.2", "2025-01-01", "sha-0123abc", "zzqprobe")
"""Invented tags: an exclusion filter matching one of them exempts ordinary release tags."""


@resource_rule("ECR-001", REPOSITORY)
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


@resource_rule("ECR-002", REPOSITORY)
def _scan(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props.at("imageScanningConfiguration", "scanOnPush").flag() is not True:
        yield "images are not scanned on push"


@resource_rule("ECR-003", REPOSITORY)
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
        elif (managed := aws_managed_key("kmsKey", key)) is not None:
            yield managed


@stack_rule("ECR-004")
def _lifecycle(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    policies = ctx.of_type(LIFECYCLE)
    for repo in ctx.of_type(REPOSITORY):
        if not ctx.linked(repo, policies, "repository", ("name",)):
            yield repo.urn, f"repository {repo.name} has no lifecycle policy"


@resource_rule("ECR-005", REPOSITORY_POLICY)
def _not_public(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.public_allows(args.props["policy"]):
        yield f"{s.label()} lets anyone ('*') use the repository"


RULES = rules_of(__name__)
