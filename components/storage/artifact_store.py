"""``ArtifactStore``: hardened S3 buckets for models, datasets and pipeline artifacts.

One bucket per purpose, all encrypted with one customer-managed KMS key (bucket keys on),
versioned, private (public access block, ACLs off), TLS-only, access-logged into a separate
logs bucket, and kept tidy by lifecycle rules. Prod adds ``protect`` / retain-on-delete and,
optionally, cross-region replication and object lock.

Bucket names are global across all AWS accounts, so the physical name of each bucket ends
in the deploying account's ID: ``{project}-{stack}-{purpose}-{account}``. Two stacks or two
accounts never collide, and names stay readable and stable (no random suffix to lose track of
after an import or a state restore). Two instances with one prefix in one stack fail the
preview naming both (:func:`..core.naming.claim_name`).
"""

from __future__ import annotations

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
from ..core.patterns import REGION
from ..core.tagging import merge_tags
from ..core.validation import Invalid, raise_if_invalid
from .bucket_policies import (
    AccessLevel,
    access_policy_document,
    data_bucket_policy,
    logs_bucket_policy,
    replication_policy,
)

__all__ = [
    "ABORT_MULTIPART_DAYS_RANGE",
    "DATA_PURPOSES",
    "IA_MIN_TRANSITION_DAYS",
    "KEY_PREFIX",
    "LOG_EXPIRY_DAYS_RANGE",
    "NEWER_NONCURRENT_RANGE",
    "NONCURRENT_DAYS_RANGE",
    "OBJECT_LOCK_DAYS_RANGE",
    "TRANSITION_DAYS_RANGE",
    "AccessLevel",
    "ArtifactStore",
    "ArtifactStoreArgs",
    "BucketPurpose",
    "ObjectLockMode",
    "StorageClass",
    "access_policy_document",
    "data_bucket_policy",
    "logs_bucket_policy",
    "repeated_purpose_problem",
    "transition_problem",
    "validate",
]


class BucketPurpose(StrEnum):
    """What a bucket holds; each purpose gets exactly one bucket."""

    MODELS = "models"
    DATASETS = "datasets"
    PIPELINE_ARTIFACTS = "pipeline-artifacts"
    ACCESS_LOGS = "access-logs"


class StorageClass(StrEnum):
    """Cheaper S3 storage classes old artifacts may move to."""

    STANDARD_IA = "STANDARD_IA"
    INTELLIGENT_TIERING = "INTELLIGENT_TIERING"
    GLACIER_IR = "GLACIER_IR"
    GLACIER = "GLACIER"


class ObjectLockMode(StrEnum):
    """S3 Object Lock default retention modes."""

    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


DATA_PURPOSES: tuple[BucketPurpose, ...] = (
    BucketPurpose.MODELS,
    BucketPurpose.DATASETS,
    BucketPurpose.PIPELINE_ARTIFACTS,
)
"""The purposes that hold data (every purpose but the access-logs bucket)."""

# Ranges the constructor accepts (S3's own limits where it has them).
NONCURRENT_DAYS_RANGE = (1, 3650)
ABORT_MULTIPART_DAYS_RANGE = (1, 30)
TRANSITION_DAYS_RANGE = (0, 3650)
IA_MIN_TRANSITION_DAYS = 30  # S3 refuses STANDARD_IA transitions before 30 days
NEWER_NONCURRENT_RANGE = (0, 100)
LOG_EXPIRY_DAYS_RANGE = (1, 3650)
OBJECT_LOCK_DAYS_RANGE = (1, 36500)

_SseDefault = (
    aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
)

_PREFIX = re.compile(r"^([A-Za-z0-9!_.*'()-]+/)*$")
KEY_PREFIX = _PREFIX
"""An S3 key prefix as the platform writes one: ``segment/`` repeated (empty: the whole bucket)."""


@dataclass
class ArtifactStoreArgs:
    """Inputs of :class:`ArtifactStore`."""

    name_prefix: str
    """Prefix of physical names, normally ``{project}-{stack}``."""

    purposes: Sequence[str] = field(default_factory=lambda: [p.value for p in DATA_PURPOSES])
    """Data buckets to create, by purpose (``models``, ``datasets``, ``pipeline-artifacts``).
    The ``access-logs`` bucket is always created; listing it is allowed and changes nothing."""

    tags: Mapping[str, str] | None = None
    """Tags merged into every taggable child."""

    protect: bool = False
    """Protect and retain-on-delete buckets and the KMS key (prod)."""

    force_destroy: bool = False
    """Let ``pulumi destroy`` empty the buckets first. Never with ``protect``; dev only."""

    account_id: pulumi.Input[str] | None = None
    """Account ID used to make bucket names globally unique; looked up when not given."""

    noncurrent_version_expiration_days: int = 90
    """Days after which non-current object versions expire."""

    newer_noncurrent_versions: int = 3
    """Non-current versions kept regardless of age (0 keeps none beyond the day limit)."""

    abort_incomplete_multipart_upload_days: int = 7
    """Days after which incomplete multipart uploads are aborted."""

    transition_days: int = 90
    """Age (days) at which current objects move to ``transition_storage_class``."""

    transition_storage_class: StorageClass = StorageClass.INTELLIGENT_TIERING
    """The cheaper storage class old objects move to."""

    access_log_expiration_days: int = 365
    """Days access-log objects are kept."""

    kms_deletion_window_days: int = 30
    """Waiting period before a scheduled KMS key deletion takes effect (7-30)."""

    replication_enabled: bool = False
    """Replicate the data buckets to ``replication_region`` (versioned, KMS-encrypted copies)."""

    replication_region: str | None = None
    """Destination region of replication; required when it is enabled."""

    replication_purposes: Sequence[str] | None = None
    """Purposes to replicate; default: every data bucket."""

    object_lock_mode: ObjectLockMode | None = None
    """Object Lock default retention mode; ``None`` leaves Object Lock off."""

    object_lock_days: int = 30
    """Default retention (days) when Object Lock is on."""

    object_lock_purposes: Sequence[str] = field(default_factory=lambda: ["models"])
    """Purposes whose buckets get Object Lock when it is on."""


def repeated_purpose_problem(purposes: Sequence[str]) -> str | None:
    """What is wrong when a purpose is listed more than once (the store and the stack
    configuration both ask)."""
    if len(set(purposes)) != len(list(purposes)):
        return "each purpose at most once"
    return None


def transition_problem(storage_class: str, days: Any) -> str | None:
    """What is wrong with moving current objects to ``storage_class`` after ``days``: S3
    refuses STANDARD_IA transitions before :data:`IA_MIN_TRANSITION_DAYS`."""
    if (
        StorageClass(storage_class) is StorageClass.STANDARD_IA
        and isinstance(days, int)
        and days < IA_MIN_TRANSITION_DAYS
    ):
        return f"S3 moves objects to STANDARD_IA after at least {IA_MIN_TRANSITION_DAYS} days"
    return None


def _purposes(problems: list[Invalid], arg: str, values: Sequence[str], allowed: Sequence[str]):
    for i, value in enumerate(values):
        if value not in allowed:
            problems.append(Invalid(f"{arg}[{i}]", value, "one of " + ", ".join(allowed)))
    if repeated := repeated_purpose_problem(values):
        problems.append(Invalid(arg, list(values), repeated))


def validate(args: ArtifactStoreArgs) -> list[Invalid]:
    """Every problem with ``args``."""
    problems: list[Invalid] = []
    all_purposes = [p.value for p in BucketPurpose]
    data_purposes = [p.value for p in DATA_PURPOSES]
    _purposes(problems, "purposes", list(args.purposes), all_purposes)
    chosen = [p for p in args.purposes if p in data_purposes]
    if not args.name_prefix.strip():
        problems.append(Invalid("name_prefix", args.name_prefix, "a non-empty prefix"))
    if args.force_destroy and args.protect:
        problems.append(
            Invalid(
                "force_destroy",
                True,
                "never together with protect: protected buckets are not emptied on destroy",
            )
        )
    problems += range_problems(
        "noncurrent_version_expiration_days",
        args.noncurrent_version_expiration_days,
        NONCURRENT_DAYS_RANGE,
    )
    problems += range_problems(
        "newer_noncurrent_versions",
        args.newer_noncurrent_versions,
        NEWER_NONCURRENT_RANGE,
    )
    problems += range_problems(
        "abort_incomplete_multipart_upload_days",
        args.abort_incomplete_multipart_upload_days,
        ABORT_MULTIPART_DAYS_RANGE,
    )
    problems += range_problems("transition_days", args.transition_days, TRANSITION_DAYS_RANGE)
    if too_soon := transition_problem(args.transition_storage_class, args.transition_days):
        problems.append(Invalid("transition_days", args.transition_days, too_soon))
    problems += range_problems(
        "access_log_expiration_days",
        args.access_log_expiration_days,
        LOG_EXPIRY_DAYS_RANGE,
    )
    problems += kms_deletion_window_problems(
        "kms_deletion_window_days", args.kms_deletion_window_days
    )
    if args.replication_enabled:
        region = args.replication_region
        if not region:
            problems.append(
                Invalid(
                    "replication_region",
                    region,
                    "required when replication_enabled is true: an AWS region such as "
                    "us-west-2, other than the buckets' own",
                )
            )
        elif not REGION.matches(region):
            problems.append(
                Invalid("replication_region", region, "an AWS region such as us-west-2")
            )
        replicated = args.replication_purposes
        if replicated is not None:
            _purposes(problems, "replication_purposes", list(replicated), chosen)
    if args.object_lock_mode is not None:
        problems += range_problems(
            "object_lock_days", args.object_lock_days, OBJECT_LOCK_DAYS_RANGE
        )
        _purposes(problems, "object_lock_purposes", list(args.object_lock_purposes), chosen)
    return problems


def _s3_key_policy(
    partition: pulumi.Input[str], account: pulumi.Input[str], region: pulumi.Input[str]
) -> pulumi.Output[str]:
    """The buckets' key: administered by the account, used only through S3 in its region."""
    return pulumi.Output.all(partition, account, region).apply(
        lambda v: json.dumps(
            service_key_policy(partition=v[0], account=v[1], region=v[2], services=["s3"])
        )
    )


class ArtifactStore(Component, legacy_module="artifact_store"):
    """Hardened, KMS-encrypted, versioned, access-logged S3 buckets, one per purpose."""

    bucket_names: pulumi.Output[dict[str, str]]
    """Physical bucket name per purpose (including ``access-logs``)."""

    bucket_arns: pulumi.Output[dict[str, str]]
    """Bucket ARN per purpose (including ``access-logs``)."""

    kms_key_arn: pulumi.Output[str]
    """ARN of the customer-managed key that encrypts the data buckets."""

    read_only_policies: pulumi.Output[dict[str, str]]
    """Per data purpose: an IAM policy document (JSON) to read the whole bucket."""

    read_write_policies: pulumi.Output[dict[str, str]]
    """Per data purpose: an IAM policy document (JSON) to read and write the whole bucket."""

    replica_bucket_arns: pulumi.Output[dict[str, str]]
    """Replica bucket ARN per replicated purpose (empty without replication)."""

    def __init__(
        self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, validate)
        super().__init__(name, opts)
        self._name = name
        self._args = args
        self._public_access_blocks: dict[BucketPurpose, aws.s3.BucketPublicAccessBlock] = {}
        self._versionings: dict[BucketPurpose, aws.s3.BucketVersioning] = {}
        self._locked = (
            [BucketPurpose(p) for p in args.object_lock_purposes]
            if args.object_lock_mode is not None
            else []
        )
        stateful = self.stateful(args.protect)
        tags = args.tags
        purposes = [BucketPurpose(p) for p in args.purposes if p != BucketPurpose.ACCESS_LOGS]

        account: pulumi.Output[str] = (
            pulumi.Output.from_input(args.account_id)
            if args.account_id is not None
            else self.aws.account
        )
        region = self.aws.region
        self.key = self.customer_key(
            f"{name}-key",
            alias="artifacts",
            name_prefix=args.name_prefix,
            description=f"{args.name_prefix} artifact buckets",
            deletion_window_days=args.kms_deletion_window_days,
            policy=_s3_key_policy(self.aws.partition, account, region),
            tags=merge_tags(tags, {"role": "artifact-store-key"}),
            protect=args.protect,
        )

        # The logs bucket: S3 server access logging delivers only to targets encrypted with
        # SSE-S3 (AES256); SSE-KMS default encryption on a log target is not supported.
        self.logs_bucket, _ = self._bucket(BucketPurpose.ACCESS_LOGS, account, stateful)
        self.buckets: dict[BucketPurpose, aws.s3.Bucket] = {}
        for purpose in purposes:
            self.buckets[purpose], _ = self._data_bucket(
                purpose, account, stateful, key=self.key, logs=self.logs_bucket
            )
        self._logs_policy(self.logs_bucket, account, list(self.buckets.values()))

        replica_arns: dict[str, pulumi.Output[str]] = {}
        if args.replication_enabled and args.replication_region:
            replica_arns = self._replicate(account, stateful)

        def as_dict(values: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
            keys = list(values)
            return pulumi.Output.all(*values.values()).apply(
                lambda v: dict(zip(keys, v, strict=True))
            )

        all_buckets = {
            **{p.value: b for p, b in self.buckets.items()},
            BucketPurpose.ACCESS_LOGS.value: self.logs_bucket,
        }
        self.publish(
            bucket_names=as_dict({p: b.bucket for p, b in all_buckets.items()}),
            bucket_arns=as_dict({p: b.arn for p, b in all_buckets.items()}),
            kms_key_arn=self.key.arn,
            read_only_policies=as_dict(
                {p.value: self.access_policy(p.value) for p in self.buckets}
            ),
            read_write_policies=as_dict(
                {
                    p.value: self.access_policy(p.value, access=AccessLevel.READ_WRITE)
                    for p in self.buckets
                }
            ),
            replica_bucket_arns=as_dict(replica_arns),
        )

    def access_policy(
        self, purpose: str, prefix: str = "", access: AccessLevel = AccessLevel.READ_ONLY
    ) -> pulumi.Output[str]:
        """An IAM policy document (JSON) granting ``access`` to ``prefix`` of one data bucket.

        ``prefix`` is empty (the whole bucket) or ends in ``/`` (e.g. ``"mlflow/"``).
        """
        problems: list[Invalid] = []
        known = [p.value for p in self.buckets]
        if purpose not in known:
            problems.append(
                Invalid("purpose", purpose, "one of this store's data buckets: " + ", ".join(known))
            )
        if not _PREFIX.match(prefix):
            problems.append(
                Invalid(
                    "prefix",
                    prefix,
                    "empty, or key segments each ending in '/', e.g. 'mlflow/' (no leading '/')",
                )
            )
        raise_if_invalid("ArtifactStore.access_policy", self._name, problems)
        bucket = self.buckets[BucketPurpose(purpose)]
        return pulumi.Output.all(bucket.arn, self.key.arn).apply(
            lambda v: json.dumps(access_policy_document(v[0], v[1], prefix, AccessLevel(access)))
        )

    # --- children ------------------------------------------------------------------------

    def _bucket(
        self,
        purpose: BucketPurpose,
        account: pulumi.Output[str],
        opts: pulumi.ResourceOptions,
        *,
        key: aws.kms.Key | None = None,
        replica: bool = False,
        region: str | None = None,
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        """The hardened bucket of ``purpose``, or its replica in ``region``: ``{name}-{role}``,
        named ``{prefix}-{role}-{account}`` (``role``: the purpose, ``-replica`` for a replica),
        encrypted with ``key`` (SSE-S3 without one)."""
        args = self._args
        role = _role(purpose, replica)
        bucket = aws.s3.Bucket(
            f"{self._name}-{role}",
            bucket=account.apply(
                lambda a: physical_name(f"{role}-{a}", NameKind.S3_BUCKET, args.name_prefix)
            ),
            region=region,
            force_destroy=args.force_destroy,
            tags=merge_tags(
                args.tags, {"role": f"artifact-store-{role}", "purpose": purpose.value}
            ),
            opts=opts,
        )
        versioning = self._harden(purpose, bucket, kms_key=key, replica=replica, region=region)
        return bucket, versioning

    def _data_bucket(
        self,
        purpose: BucketPurpose,
        account: pulumi.Output[str],
        opts: pulumi.ResourceOptions,
        *,
        key: aws.kms.Key,
        logs: aws.s3.Bucket,
        replica: bool = False,
        region: str | None = None,
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        """A data bucket (or its replica) encrypted with ``key``, access-logged into ``logs``,
        its policy TLS-only and ``key``-only; Object Lock when chosen for its purpose."""
        role = _role(purpose, replica)
        logical = f"{self._name}-{role}"
        bucket, versioning = self._bucket(
            purpose, account, opts, key=key, replica=replica, region=region
        )
        aws.s3.BucketLogging(
            f"{logical}-logging",
            bucket=bucket.id,
            target_bucket=logs.id,
            target_prefix=f"logs/{role}/",
            region=region,
            opts=self.child(),
        )
        aws.s3.BucketPolicy(
            f"{logical}-policy",
            bucket=bucket.id,
            region=region,
            policy=pulumi.Output.all(bucket.arn, key.arn).apply(
                lambda v: json.dumps(data_bucket_policy(v[0], v[1]))
            ),
            opts=self._policy_options(purpose, replica),
        )
        if purpose in self._locked:
            self._object_lock(logical, bucket, versioning, region)
        return bucket, versioning

    def _logs_policy(
        self,
        logs: aws.s3.Bucket,
        account: pulumi.Output[str],
        sources: list[aws.s3.Bucket],
        *,
        replica: bool = False,
        region: str | None = None,
    ) -> None:
        """TLS only; the S3 logging service may write access logs of ``sources`` into ``logs``."""
        aws.s3.BucketPolicy(
            f"{self._name}-{_role(BucketPurpose.ACCESS_LOGS, replica)}-policy",
            bucket=logs.id,
            region=region,
            policy=pulumi.Output.all(logs.arn, account, *[b.arn for b in sources]).apply(
                lambda v: json.dumps(logs_bucket_policy(v[0], v[1], v[2:]))
            ),
            opts=self._policy_options(BucketPurpose.ACCESS_LOGS, replica),
        )

    def _policy_options(self, purpose: BucketPurpose, replica: bool) -> pulumi.ResourceOptions:
        """A primary bucket's policy is put after its public access block."""
        if replica:
            return self.child()
        return self.child(depends_on=[self._public_access_blocks[purpose]])

    def _harden(
        self,
        purpose: BucketPurpose,
        bucket: aws.s3.Bucket,
        *,
        kms_key: aws.kms.Key | None,
        replica: bool,
        region: str | None,
    ) -> aws.s3.BucketVersioning:
        """Encryption, versioning, public access block, ownership and lifecycle for one bucket."""
        base = f"{self._name}-{_role(purpose, replica)}"
        child = self.child()
        if kms_key is None:
            default = _SseDefault(sse_algorithm="AES256")
            rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default
            )
        else:
            default = _SseDefault(sse_algorithm="aws:kms", kms_master_key_id=kms_key.arn)
            rule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default, bucket_key_enabled=True
            )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{base}-encryption", bucket=bucket.id, rules=[rule], region=region, opts=child
        )
        versioning = aws.s3.BucketVersioning(
            f"{base}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            region=region,
            opts=child,
        )
        pab = aws.s3.BucketPublicAccessBlock(
            f"{base}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            region=region,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{base}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            region=region,
            opts=child,
        )
        rules = self._lifecycle_rules(logs=purpose is BucketPurpose.ACCESS_LOGS)
        aws.s3.BucketLifecycleConfiguration(
            f"{base}-lifecycle",
            bucket=bucket.id,
            rules=rules,
            region=region,
            opts=self.child(depends_on=[versioning]),
        )
        if not replica:
            self._public_access_blocks[purpose] = pab
            self._versionings[purpose] = versioning
        return versioning

    def _object_lock(
        self,
        base: str,
        bucket: aws.s3.Bucket,
        versioning: aws.s3.BucketVersioning,
        region: str | None = None,
    ) -> None:
        """Object Lock with the default retention from args (enables it on the bucket)."""
        args = self._args
        assert args.object_lock_mode is not None
        aws.s3.BucketObjectLockConfiguration(
            f"{base}-object-lock",
            bucket=bucket.id,
            object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode=ObjectLockMode(args.object_lock_mode).value,
                    days=args.object_lock_days,
                )
            ),
            region=region,
            opts=self.child(depends_on=[versioning]),
        )

    def _lifecycle_rules(self, logs: bool) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
        """Abort stale uploads, expire old versions; then expire access logs (``logs``) or
        move old data objects to the cheaper storage class."""
        args = self._args
        rules = [
            _whole_bucket_rule(
                "abort-incomplete-multipart-uploads",
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=args.abort_incomplete_multipart_upload_days
                ),
            ),
            _whole_bucket_rule(
                "expire-noncurrent-versions",
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_version_expiration_days,
                    newer_noncurrent_versions=args.newer_noncurrent_versions or None,
                ),
            ),
        ]
        if logs:
            expire = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=args.access_log_expiration_days
            )
            return [*rules, _whole_bucket_rule("expire-access-logs", expiration=expire)]
        transition = aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
            days=args.transition_days,
            storage_class=StorageClass(args.transition_storage_class).value,
        )
        return [*rules, _whole_bucket_rule("transition-old-objects", transitions=[transition])]

    def _replicate(
        self, account: pulumi.Output[str], stateful: pulumi.ResourceOptions
    ) -> dict[str, pulumi.Output[str]]:
        """Replica buckets (and their key) in the destination region, and the replication rules.

        pulumi-aws 7 takes ``region`` on every resource, so the replicas use the same
        provider (and its default tags and allowed accounts) as everything else.
        """
        args = self._args
        name = self._name
        region = args.replication_region
        assert region is not None
        child = self.child()
        replicated = [
            BucketPurpose(p)
            for p in (
                args.replication_purposes
                if args.replication_purposes is not None
                else [p.value for p in self.buckets]
            )
        ]
        replica_key = aws.kms.Key(
            f"{name}-replica-key",
            description=f"{args.name_prefix} artifact bucket replicas",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            region=region,
            policy=_s3_key_policy(self.aws.partition, account, region),
            tags=merge_tags(args.tags, {"role": "artifact-store-replica-key"}),
            opts=stateful,
        )
        role = aws.iam.Role(
            f"{name}-replication-role",
            name=physical_name(
                "s3-replication", NameKind.IAM_ROLE, args.name_prefix, owner=self.owner
            ),
            assume_role_policy=account.apply(
                lambda a: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "s3.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                "Condition": {"StringEquals": {"aws:SourceAccount": a}},
                            }
                        ],
                    }
                )
            ),
            tags=merge_tags(args.tags, {"role": "artifact-store-replication"}),
            opts=child,
        )
        # S3 access logs go to a bucket in the same region: the replicas get their own.
        replica_logs, _ = self._bucket(
            BucketPurpose.ACCESS_LOGS, account, stateful, replica=True, region=region
        )
        replicas: dict[BucketPurpose, aws.s3.Bucket] = {}
        replica_versionings = []
        for purpose in replicated:
            replicas[purpose], versioning = self._data_bucket(
                purpose,
                account,
                stateful,
                key=replica_key,
                logs=replica_logs,
                replica=True,
                region=region,
            )
            replica_versionings.append(versioning)
        self._logs_policy(
            replica_logs, account, list(replicas.values()), replica=True, region=region
        )
        sources = [self.buckets[p] for p in replicated]
        policy = pulumi.Output.all(
            self.key.arn,
            replica_key.arn,
            pulumi.Output.all(*[b.arn for b in sources]),
            pulumi.Output.all(*[replicas[p].arn for p in replicated]),
        ).apply(lambda v: json.dumps(replication_policy(v[0], v[1], v[2], v[3])))
        role_policy = aws.iam.RolePolicy(
            f"{name}-replication-policy", role=role.id, policy=policy, opts=child
        )
        for purpose in replicated:
            aws.s3.BucketReplicationConfig(
                f"{name}-{purpose.value}-replication",
                bucket=self.buckets[purpose].id,
                role=role.arn,
                rules=[
                    aws.s3.BucketReplicationConfigRuleArgs(
                        id="replicate-everything",
                        status="Enabled",
                        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                        delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                            status="Disabled"
                        ),
                        source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                            sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                                status="Enabled"
                            )
                        ),
                        destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                            bucket=replicas[purpose].arn,
                            encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                                replica_kms_key_id=replica_key.arn
                            ),
                        ),
                    )
                ],
                opts=self.child(
                    depends_on=[self._versionings[purpose], *replica_versionings, role_policy]
                ),
            )
        return {p.value: replicas[p].arn for p in replicated}


def _whole_bucket_rule(rule_id: str, **action: Any) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """An enabled lifecycle rule over every object of the bucket."""
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=rule_id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        **action,
    )


def _role(purpose: BucketPurpose, replica: bool) -> str:
    """A bucket's role in names and tags: its purpose, ``-replica`` for a replica."""
    return f"{purpose.value}-replica" if replica else purpose.value
