"""Physical names for AWS resources: ``{project}-{stack}-{role}``, cut to each AWS limit.

Every physical name in the platform comes from :func:`physical_name`, so two stacks in
one account never collide and no name ever exceeds what AWS accepts. A name that is too
long keeps its readable prefix and ends in a short hash of the full name, so two long
names that share a prefix still differ.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from dataclasses import dataclass
from enum import StrEnum

import pulumi
from pulumi.runtime import get_root_resource


@dataclass(frozen=True)
class NameRule:
    """The length limit and character set AWS enforces for one kind of name."""

    max_length: int
    allowed: str  # a regex character class body, e.g. "a-z0-9-"
    lowercase: bool = True
    starts_with_letter: bool = False


class NameKind(StrEnum):
    """Kinds of physical names; :attr:`rule` gives the limit AWS documents for each."""

    S3_BUCKET = "s3-bucket"
    EKS_CLUSTER = "eks-cluster"
    EKS_NODE_GROUP = "eks-node-group"
    IAM_ROLE = "iam-role"
    IAM_POLICY = "iam-policy"
    ECR_REPOSITORY = "ecr-repository"
    RDS_INSTANCE = "rds-instance"
    KMS_ALIAS = "kms-alias"
    LOG_GROUP = "log-group"
    SQS_QUEUE = "sqs-queue"
    EVENT_RULE = "event-rule"
    LAUNCH_TEMPLATE = "launch-template"
    SECURITY_GROUP = "security-group"
    LOAD_BALANCER = "load-balancer"
    TARGET_GROUP = "target-group"
    SNS_TOPIC = "sns-topic"
    KUBERNETES = "kubernetes"
    CODEBUILD_PROJECT = "codebuild-project"

    @property
    def rule(self) -> NameRule:
        """The length limit and character set of this kind."""
        return NAME_RULES[self]


NAME_RULES: dict[NameKind, NameRule] = {
    NameKind.S3_BUCKET: NameRule(63, "a-z0-9-"),
    NameKind.EKS_CLUSTER: NameRule(100, "a-z0-9-", starts_with_letter=True),
    NameKind.EKS_NODE_GROUP: NameRule(63, "a-z0-9-"),
    NameKind.IAM_ROLE: NameRule(64, "a-z0-9+=,.@_-"),
    NameKind.IAM_POLICY: NameRule(128, "a-z0-9+=,.@_-"),
    NameKind.ECR_REPOSITORY: NameRule(256, "a-z0-9._/-"),
    NameKind.RDS_INSTANCE: NameRule(63, "a-z0-9-", starts_with_letter=True),
    NameKind.KMS_ALIAS: NameRule(250, "a-z0-9/_-"),  # 256 with the "alias/" prefix
    NameKind.LOG_GROUP: NameRule(512, "a-z0-9._/#-"),
    NameKind.SQS_QUEUE: NameRule(80, "a-z0-9_-"),
    NameKind.EVENT_RULE: NameRule(64, "a-z0-9._-"),
    NameKind.LAUNCH_TEMPLATE: NameRule(128, "a-z0-9()./_-"),
    NameKind.SECURITY_GROUP: NameRule(255, "a-z0-9._-"),
    NameKind.LOAD_BALANCER: NameRule(32, "a-z0-9-"),
    NameKind.TARGET_GROUP: NameRule(32, "a-z0-9-"),
    NameKind.SNS_TOPIC: NameRule(256, "a-z0-9_-"),
    NameKind.KUBERNETES: NameRule(63, "a-z0-9-", starts_with_letter=True),  # DNS-1123 label
    NameKind.CODEBUILD_PROJECT: NameRule(150, "a-z0-9_-"),
}


_HASH_LENGTH = 8


def name_prefix() -> str:
    """``{project}-{stack}`` of the running Pulumi program."""
    return f"{pulumi.get_project()}-{pulumi.get_stack()}"


def physical_name(
    role: str, kind: NameKind, prefix: str | None = None, *, owner: str | None = None
) -> str:
    """The physical name for ``role`` within ``kind``'s AWS limit.

    ``prefix`` defaults to ``{project}-{stack}`` of the running program; components take
    it as an argument so consumers can choose their own. With ``owner`` (``"ArtifactStore
    'store'"``), the name is claimed for that owner in this stack (:func:`claim_name`): a
    second owner of the same name fails the preview naming both.
    """
    name = _physical_name(role, kind, prefix)
    if owner is not None:
        claim_name(name, kind, owner)
    return name


def _physical_name(role: str, kind: NameKind, prefix: str | None) -> str:
    rule = kind.rule
    full = f"{prefix if prefix is not None else name_prefix()}-{role}"
    text = full.lower() if rule.lowercase else full
    text = re.sub(f"[^{rule.allowed}]", "-", text)
    text = re.sub("-{2,}", "-", text).strip("-")
    if rule.starts_with_letter and not text[:1].isalpha():
        text = f"m{text}"
    if len(text) <= rule.max_length:
        return text
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LENGTH]
    head = text[: rule.max_length - _HASH_LENGTH - 1].rstrip("-._/")
    return f"{head}-{digest}"


class NameCollisionError(pulumi.RunError):
    """Two component instances in one stack would create the same physical name."""

    def __init__(self, kind: NameKind, name: str, first: str, second: str) -> None:
        self.kind = kind
        self.physical_name = name
        self.owners = (first, second)
        super().__init__(
            f"{second} would create the {kind.value} '{name}', which {first} already creates "
            "in this stack: give one of them another name_prefix (physical names are "
            "{name_prefix}-{role}, so two instances with one prefix collide)"
        )


# One registry per program run, keyed by its root stack resource: a new run (a new stack, or a
# new mocked program in a test) starts empty.
_CLAIMS: weakref.WeakKeyDictionary[object, dict[tuple[NameKind, str], str]] = (
    weakref.WeakKeyDictionary()
)
_NO_ROOT: dict[tuple[NameKind, str], str] = {}


def claim_name(name: str, kind: NameKind, owner: str) -> str:
    """Record that ``owner`` creates the ``kind`` named ``name`` in this stack; returns ``name``.

    Raises :class:`NameCollisionError` naming both owners when another owner holds it. The
    same owner may claim a name again (a component that computes it twice).
    """
    root = get_root_resource()
    claims = _CLAIMS.setdefault(root, {}) if root is not None else _NO_ROOT
    holder = claims.setdefault((kind, name), owner)
    if holder != owner:
        raise NameCollisionError(kind, name, holder, owner)
    return name
