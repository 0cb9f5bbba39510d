"""``ContainerRegistry``: private ECR repositories for model-serving and training images.

Every repository has immutable tags, scan on push, KMS encryption with a customer-managed
key and a lifecycle policy; its repository policy lets only the given principals (node and
workload roles) pull, and never anyone public. Optional: enhanced (Inspector) scanning and
pull-through cache rules so clusters in private subnets pull public images through ECR.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.component import Component
from ..core.kms import service_key_policy
from ..core.limits import kms_deletion_window_problems, range_problems
from ..core.naming import NameKind, physical_name
from ..core.patterns import IAM_PRINCIPAL_ARN
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..iam.documents import POLICY_VERSION, principal_statement


class ScanFrequency(StrEnum):
    """How often enhanced scanning rescans images."""

    SCAN_ON_PUSH = "SCAN_ON_PUSH"
    CONTINUOUS_SCAN = "CONTINUOUS_SCAN"


class Upstream(StrEnum):
    """Public registries a pull-through cache rule can mirror (no credentials needed)."""

    ECR_PUBLIC = "ecr-public"
    QUAY = "quay"


UPSTREAM_URLS: dict[Upstream, str] = {
    Upstream.ECR_PUBLIC: "public.ecr.aws",
    Upstream.QUAY: "quay.io",
}
"""The upstream registry of each pull-through cache rule."""

REPOSITORY_NAME = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
"""ECR's repository-name pattern (lowercase segments joined by ``.``, ``_``, ``-`` or ``/``)."""
REPOSITORY_NAME_LENGTH = (2, 256)
CACHE_PREFIX_MAX = 30  # ECR limit on a pull-through cache rule's repository prefix
KEEP_RELEASES_RANGE = (1, 1000)
UNTAGGED_DAYS_RANGE = (1, 3650)

PULL_ACTIONS: tuple[str, ...] = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
PUSH_ACTIONS: tuple[str, ...] = (
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)


@dataclass
class ContainerRegistryArgs:
    """Inputs of :class:`ContainerRegistry`."""

    name_prefix: str
    """Prefix of physical names, normally ``{project}-{stack}``."""

    repositories: Sequence[str] = field(default_factory=lambda: ["serving", "training"])
    """Repository names (before the prefix), valid ECR names: e.g. ``serving``, ``llm/vllm``."""

    pull_principal_arns: Sequence[pulumi.Input[str]] = field(default_factory=list)
    """IAM role ARNs (node role, workload roles) allowed to pull. Empty: IAM decides alone."""

    push_principal_arns: Sequence[pulumi.Input[str]] = field(default_factory=list)
    """IAM role ARNs (e.g. the CI deploy role) allowed to push (and pull)."""

    tags: Mapping[str, str] | None = None
    """Tags merged into every taggable child."""

    protect: bool = False
    """Protect and retain-on-delete repositories and the KMS key (prod)."""

    keep_tagged_images: int = 50
    """Tagged images kept per repository; older ones expire."""

    release_tag_patterns: Sequence[str] = field(default_factory=lambda: ["*"])
    """Tag wildcards that count as releases for ``keep_tagged_images`` (e.g. ``v*``)."""

    untagged_expiry_days: int = 7
    """Days after which untagged images (failed pushes, superseded layers) expire."""

    enhanced_scanning: bool = False
    """Turn on enhanced (Amazon Inspector) scanning for this prefix's repositories.
    The registry scanning configuration is per account and region: one stack should own it."""

    enhanced_scan_frequency: ScanFrequency = ScanFrequency.CONTINUOUS_SCAN
    """Rescan cadence under enhanced scanning."""

    pull_through_cache: Sequence[Upstream] = field(default_factory=list)
    """Public upstream registries to cache through ECR (``ecr-public``, ``quay``)."""

    kms_deletion_window_days: int = 30
    """Waiting period before a scheduled deletion of the registry key takes effect."""


def lifecycle_policy(
    keep_tagged: int, untagged_days: int, tag_patterns: Sequence[str] = ("*",)
) -> dict[str, Any]:
    """ECR lifecycle policy: expire untagged images after N days, keep the last N releases."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {untagged_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {keep_tagged} tagged images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": list(tag_patterns),
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_tagged,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def repository_policy(pull: Sequence[str], push: Sequence[str]) -> dict[str, Any]:
    """Pull for ``pull`` (and ``push``) principals, push for ``push``; no one else, never ``*``."""
    readers = sorted(set(pull) | set(push))
    statements: list[dict[str, Any]] = []
    if readers:
        statements.append(principal_statement("AllowPull", {"AWS": readers}, PULL_ACTIONS))
    if push:
        statements.append(
            principal_statement("AllowPush", {"AWS": sorted(set(push))}, PUSH_ACTIONS)
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def repository_name_problems(arg: str, name: str) -> list[Invalid]:
    """Why ECR would reject ``name`` (empty when it would not)."""
    low, high = REPOSITORY_NAME_LENGTH
    if not isinstance(name, str) or not REPOSITORY_NAME.match(name):
        return [
            Invalid(
                arg,
                name,
                "an ECR repository name: lowercase letters and digits, segments joined by "
                "'.', '_' or '-', namespaces separated by '/', no leading, trailing or "
                "doubled separators (e.g. 'serving', 'llm/vllm-server')",
            )
        ]
    if not low <= len(name) <= high:
        return [Invalid(arg, name, f"{low} to {high} characters long")]
    return []


def cache_prefix(name_prefix: str, upstream: Upstream) -> str:
    """The ECR repository prefix of a pull-through cache rule, within ECR's 30 characters."""
    full = physical_name(upstream.value, NameKind.ECR_REPOSITORY, name_prefix)
    if len(full) <= CACHE_PREFIX_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    return f"{full[: CACHE_PREFIX_MAX - 7].rstrip('._/-')}-{digest}"


def repository_problems(
    name: str, earlier: Sequence[str], name_prefix: str | None = None
) -> list[str]:
    """What is wrong with one repository of a list (the registry and the stack configuration
    both ask): a name ECR accepts, within ECR's length once ``name_prefix`` (when known) is
    put in front, not among the ``earlier`` names."""
    found = [problem.allowed for problem in repository_name_problems("", name)]
    high = REPOSITORY_NAME_LENGTH[1]
    if not found and name_prefix is not None and len(f"{name_prefix}-{name}") > high:
        found.append(f"with the prefix the name exceeds {high} characters")
    if name in earlier:
        found.append("repository names must be unique")
    return found


def _repository_problems(args: ContainerRegistryArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if not args.repositories:
        problems.append(Invalid("repositories", [], "at least one repository name"))
    repositories = list(args.repositories)
    for i, repo in enumerate(repositories):
        problems += [
            Invalid(f"repositories[{i}]", repo, allowed)
            for allowed in repository_problems(repo, repositories[:i], args.name_prefix)
        ]
    return problems


def validate(args: ContainerRegistryArgs) -> list[Invalid]:
    """Every problem with ``args``."""
    problems: list[Invalid] = []
    if not args.name_prefix.strip():
        problems.append(Invalid("name_prefix", args.name_prefix, "a non-empty prefix"))
    problems += _repository_problems(args)
    for arg, arns in (
        ("pull_principal_arns", args.pull_principal_arns),
        ("push_principal_arns", args.push_principal_arns),
    ):
        for i, arn in enumerate(arns):
            if isinstance(arn, str) and not IAM_PRINCIPAL_ARN.matches(arn):
                problems.append(
                    Invalid(
                        f"{arg}[{i}]",
                        arn,
                        "an IAM role, user or account-root ARN of a named account, e.g. "
                        "arn:aws:iam::111111111111:role/ci; '*', service, federated and "
                        "public principals are never allowed",
                    )
                )
    problems += range_problems("keep_tagged_images", args.keep_tagged_images, KEEP_RELEASES_RANGE)
    problems += range_problems(
        "untagged_expiry_days", args.untagged_expiry_days, UNTAGGED_DAYS_RANGE
    )
    problems += kms_deletion_window_problems(
        "kms_deletion_window_days", args.kms_deletion_window_days
    )
    if not args.release_tag_patterns:
        problems.append(Invalid("release_tag_patterns", [], "at least one tag wildcard, e.g. '*'"))
    allowed_upstreams = [u.value for u in Upstream]
    for i, upstream in enumerate(args.pull_through_cache):
        if upstream not in allowed_upstreams:
            problems.append(
                Invalid(
                    f"pull_through_cache[{i}]", upstream, "one of " + ", ".join(allowed_upstreams)
                )
            )
    if args.enhanced_scan_frequency not in [f.value for f in ScanFrequency]:
        problems.append(
            Invalid(
                "enhanced_scan_frequency",
                args.enhanced_scan_frequency,
                "one of " + ", ".join(f.value for f in ScanFrequency),
            )
        )
    return problems


class ContainerRegistry(Component, legacy_module="container_registry"):
    """ECR repositories: immutable, scanned, KMS-encrypted, lifecycled, private."""

    repository_urls: pulumi.Output[dict[str, str]]
    """Repository URL (``<account>.dkr.ecr.<region>.amazonaws.com/<name>``) per repository."""

    repository_arns: pulumi.Output[dict[str, str]]
    """Repository ARN per repository."""

    kms_key_arn: pulumi.Output[str]
    """ARN of the key that encrypts the repositories."""

    pull_policy: pulumi.Output[str]
    """An IAM policy document (JSON) to pull from these repositories (for node/workload roles)."""

    cache_prefixes: pulumi.Output[dict[str, str]]
    """Per upstream: the repository prefix to pull cached images through."""

    def __init__(
        self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, validate)
        super().__init__(name, opts)
        child, stateful = self.child(), self.stateful(args.protect)

        self.key = self.customer_key(
            f"{name}-key",
            alias="images",
            name_prefix=args.name_prefix,
            description=f"{args.name_prefix} container images",
            deletion_window_days=args.kms_deletion_window_days,
            # administered by the account, used only through ECR in this region
            policy=pulumi.Output.all(self.aws.partition, self.aws.account, self.aws.region).apply(
                lambda v: json.dumps(
                    service_key_policy(partition=v[0], account=v[1], region=v[2], services=["ecr"])
                )
            ),
            tags=merge_tags(args.tags, {"role": "container-registry-key"}),
            protect=args.protect,
        )

        lifecycle = json.dumps(
            lifecycle_policy(
                args.keep_tagged_images, args.untagged_expiry_days, args.release_tag_patterns
            )
        )
        policy: pulumi.Output[str] | None = None
        if args.pull_principal_arns or args.push_principal_arns:
            policy = pulumi.Output.all(
                pulumi.Output.all(*args.pull_principal_arns),
                pulumi.Output.all(*args.push_principal_arns),
            ).apply(lambda v: json.dumps(repository_policy(v[0], v[1])))

        self.repositories: dict[str, aws.ecr.Repository] = {}
        for repo in args.repositories:
            role = repo.replace("/", "-")
            repository = aws.ecr.Repository(
                f"{name}-{role}",
                name=physical_name(
                    repo, NameKind.ECR_REPOSITORY, args.name_prefix, owner=self.owner
                ),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=self.key.arn
                    )
                ],
                force_delete=False,
                tags=merge_tags(args.tags, {"role": "container-registry", "repository": repo}),
                opts=stateful,
            )
            self.repositories[repo] = repository
            aws.ecr.LifecyclePolicy(
                f"{name}-{role}-lifecycle",
                repository=repository.name,
                policy=lifecycle,
                opts=child,
            )
            if policy is not None:
                aws.ecr.RepositoryPolicy(
                    f"{name}-{role}-policy", repository=repository.name, policy=policy, opts=child
                )

        if args.enhanced_scanning:
            aws.ecr.RegistryScanningConfiguration(
                f"{name}-scanning",
                scan_type="ENHANCED",
                rules=[
                    aws.ecr.RegistryScanningConfigurationRuleArgs(
                        scan_frequency=ScanFrequency(args.enhanced_scan_frequency).value,
                        repository_filters=[
                            aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(
                                filter=f"{args.name_prefix}-*", filter_type="WILDCARD"
                            )
                        ],
                    )
                ],
                opts=child,
            )

        prefixes: dict[str, str] = {}
        for upstream in [Upstream(u) for u in args.pull_through_cache]:
            prefix = cache_prefix(args.name_prefix, upstream)
            prefixes[upstream.value] = prefix
            aws.ecr.PullThroughCacheRule(
                f"{name}-cache-{upstream.value}",
                ecr_repository_prefix=prefix,
                upstream_registry_url=UPSTREAM_URLS[upstream],
                opts=child,
            )

        def as_dict(values: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
            keys = list(values)
            return pulumi.Output.all(*values.values()).apply(
                lambda v: dict(zip(keys, v, strict=True))
            )

        self.publish(
            repository_urls=as_dict({k: r.repository_url for k, r in self.repositories.items()}),
            repository_arns=as_dict({k: r.arn for k, r in self.repositories.items()}),
            kms_key_arn=self.key.arn,
            pull_policy=pulumi.Output.all(*[r.arn for r in self.repositories.values()]).apply(
                lambda v: json.dumps(pull_policy_document(v))
            ),
            cache_prefixes=pulumi.Output.from_input(prefixes),
        )


def pull_policy_document(repository_arns: Sequence[str]) -> dict[str, Any]:
    """IAM policy to pull from ``repository_arns`` (plus the registry-wide auth token).

    No KMS permission is needed: ECR decrypts layers through its own grant on the key.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AuthToken",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "Pull",
                "Effect": "Allow",
                "Action": list(PULL_ACTIONS),
                "Resource": list(repository_arns),
            },
        ],
    }
