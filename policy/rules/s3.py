"""S3: public access, ACLs, encryption, TLS, versioning, logging, lifecycle, durability."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import PolicyResource, Severity

from rules import documents
from rules.read import Node
from rules.rule import Rule, StackContext, customer_managed_key, inputs

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING_TYPES = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
OBJECT_LOCK_TYPES = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)

_PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
_PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}
_PUBLIC_GROUPS = (
    "acs.amazonaws.com/groups/global/AllUsers",
    "acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


def _bucket_children(
    ctx: StackContext, bucket: PolicyResource, types: tuple[str, ...]
) -> list[PolicyResource]:
    return ctx.linked(bucket, ctx.of_type(*types), "bucket", ("bucket",))


def _pab_flags(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    off = [f for f in _PAB_FLAGS if args.props[f].flag() is not True]
    if off:
        yield f"public access block leaves {', '.join(off)} off"


def _has_pab(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        if not _bucket_children(ctx, bucket, (PAB,)):
            yield bucket.urn, f"bucket {bucket.name} has no BucketPublicAccessBlock"

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


def _public_acl(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    acl = (args.props["acl"].text() or "").strip().lower()
    if acl in _PUBLIC_ACLS:
        yield f"canned ACL {acl!r} opens the bucket"
    grants = args.props["grants"].items()
    grants += args.props.at("accessControlPolicy", "grants").items()
    for grant in grants:
        uri = grant.at("grantee", "uri").text() or grant["uri"].text() or ""
        if uri.strip().rstrip("/").endswith(_PUBLIC_GROUPS):
            yield f"ACL grant to {uri.rsplit('/', 1)[-1]}"


def _ownership(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    value = args.props.at("rule", "objectOwnership").text()
    if value != "BucketOwnerEnforced":
        yield f"objectOwnership is {value!r}; ACLs stay enabled"


def _sse_rules(props: Node) -> list[Node]:
    return props["rules"].items() or props["rule"].items(single=True)


def _kms_ok(rule: Node) -> bool:
    default = rule["applyServerSideEncryptionByDefault"]
    return (
        (default["sseAlgorithm"].text() or "").lower() in ("aws:kms", "aws:kms:dsse")
        and customer_managed_key(default["kmsMasterKeyId"].text() or "")
        and rule["bucketKeyEnabled"].flag() is True
    )


def _kms_encryption(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    targets = _log_targets(ctx)

    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        if bucket.urn in targets:
            return  # S3 delivers server access logs only to SSE-S3 buckets
        rules = _sse_rules(inputs(bucket)["serverSideEncryptionConfiguration"])
        for config in _bucket_children(ctx, bucket, SSE_TYPES):
            rules += _sse_rules(inputs(config))
        if not any(_kms_ok(rule) for rule in rules):
            yield (
                bucket.urn,
                (
                    f"bucket {bucket.name} is not encrypted with aws:kms, a customer managed key "
                    "and the bucket key"
                ),
            )

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


def _denies_plain_http(policy: Node) -> bool:
    """A Deny of every S3 action (any pattern matching all of them) to every principal when
    aws:SecureTransport is false."""
    for s in documents.parse(policy) or []:
        if s.effect.lower() != "deny" or not s.public_principal:
            continue
        if not any(
            documents.every_action(a) or documents.whole_service(a) == "s3" for a in s.actions
        ):
            continue
        for op, value in documents.condition_values(s.condition, "aws:SecureTransport"):
            if documents.operator_base(op)[0] == "bool" and value.strip().lower() == "false":
                return True
    return False


def _tls_only(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        policies = [inputs(p)["policy"] for p in _bucket_children(ctx, bucket, (POLICY,))]
        policies.append(inputs(bucket)["policy"])
        if not any(_denies_plain_http(p) for p in policies if p.present):
            yield (
                bucket.urn,
                (
                    f"bucket {bucket.name} has no policy denying requests where "
                    "aws:SecureTransport is false"
                ),
            )

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


def _no_public_principal(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    where = "the bucket's inline policy: " if args.resource_type in BUCKET_TYPES else ""
    for s in documents.public_allows(args.props["policy"]):
        yield (
            f"{where}{s.label()} allows principal '*' with no condition restricting the "
            "principal (aws:PrincipalOrgID, aws:SourceArn, ...)"
        )


def _versioning(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        states = [
            (inputs(v).at("versioningConfiguration", "status").text() or "").lower()
            for v in _bucket_children(ctx, bucket, VERSIONING_TYPES)
        ]
        inline = inputs(bucket).at("versioning", "enabled").flag()
        if "enabled" not in states and inline is not True:
            yield bucket.urn, f"bucket {bucket.name} does not have versioning enabled"

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


def _log_targets(ctx: StackContext) -> set[str]:
    targets: set[str] = set()
    for logging in ctx.of_type(*LOGGING_TYPES):
        for dep in logging.property_dependencies.get("targetBucket", []):
            targets.add(dep.urn)
        name = ctx.guard(lambda lg=logging: inputs(lg)["targetBucket"].text())
        for bucket in ctx.of_type(*BUCKET_TYPES):
            if name and ctx.guard(lambda b=bucket: inputs(b)["bucket"].text()) == name:
                targets.add(bucket.urn)
    return targets


def _access_logging(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    targets = _log_targets(ctx)

    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        if bucket.urn in targets:
            return  # the access-log bucket itself: logging it into itself would loop
        inline = inputs(bucket).at("logging", "targetBucket").text()
        if not inline and not _bucket_children(ctx, bucket, LOGGING_TYPES):
            yield bucket.urn, f"bucket {bucket.name} has no server access logging"

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


def _lifecycle(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        rules: list[Node] = []
        for lc in _bucket_children(ctx, bucket, LIFECYCLE_TYPES):
            rules += inputs(lc)["rules"].items()
        if not rules:
            yield bucket.urn, f"bucket {bucket.name} has no lifecycle configuration"
        elif not any(
            (x["status"].text() or "").lower() == "enabled"
            and x.at("abortIncompleteMultipartUpload", "daysAfterInitiation").number() is not None
            for x in rules
        ):
            yield (
                bucket.urn,
                (
                    f"bucket {bucket.name} has no enabled lifecycle rule that aborts incomplete "
                    "multipart uploads"
                ),
            )

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


def _durability(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    if not cfg.get("required"):
        return iter(())
    targets = _log_targets(ctx)
    patterns = list(cfg.get("urnPatterns", ["*"]))

    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        if bucket.urn in targets or not any(fnmatchcase(bucket.urn, p) for p in patterns):
            return
        locked = inputs(bucket)["objectLockEnabled"].flag() is True
        replicated = bool(_bucket_children(ctx, bucket, (REPLICATION,)))
        lock_config = bool(_bucket_children(ctx, bucket, OBJECT_LOCK_TYPES))
        if not (locked or replicated or lock_config):
            yield bucket.urn, f"bucket {bucket.name} has neither replication nor object lock"

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


RULES: list[Rule] = [
    Rule(
        id="S3-001",
        name="s3-public-access-block-all-flags",
        severity=Severity.CRITICAL,
        description="S3 public access blocks turn on all four flags.",
        remediation=(
            'Set every flag: aws.s3.BucketPublicAccessBlock(f"{name}-pab", bucket=bucket.id, '
            "block_public_acls=True, block_public_policy=True, ignore_public_acls=True, "
            "restrict_public_buckets=True, opts=child)"
        ),
        controls=("FSBP S3.8", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
        catalog=(1,),
        resource_check=_pab_flags,
        resource_types=(PAB,),
    ),
    Rule(
        id="S3-002",
        name="s3-bucket-has-public-access-block",
        severity=Severity.CRITICAL,
        description="Every S3 bucket has a public access block of its own.",
        remediation=(
            'Add one per bucket: aws.s3.BucketPublicAccessBlock(f"{name}-pab", '
            "bucket=bucket.id, block_public_acls=True, block_public_policy=True, "
            "ignore_public_acls=True, restrict_public_buckets=True, opts=child)"
        ),
        controls=("CKV2_AWS_6", "FSBP S3.8"),
        catalog=(2,),
        stack_check=_has_pab,
        limits="An account-level public access block outside the stack is not visible.",
    ),
    Rule(
        id="S3-003",
        name="s3-no-public-acl",
        severity=Severity.CRITICAL,
        description="No S3 bucket or bucket ACL grants access to AllUsers or AuthenticatedUsers.",
        remediation=(
            "Drop the canned ACL and public grants; disable ACLs instead: "
            'aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket.id, '
            'rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)'
        ),
        controls=("FSBP S3.2", "FSBP S3.3", "CKV_AWS_20", "CKV_AWS_57"),
        catalog=(3,),
        resource_check=_public_acl,
        resource_types=(*BUCKET_TYPES, *ACL_TYPES),
    ),
    Rule(
        id="S3-004",
        name="s3-ownership-bucket-owner-enforced",
        severity=Severity.HIGH,
        description="S3 ownership controls are BucketOwnerEnforced, so ACLs are disabled.",
        remediation=(
            'aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket.id, '
            'rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),'
            " opts=child)"
        ),
        controls=("FSBP S3.12", "CKV2_AWS_65"),
        catalog=(4,),
        resource_check=_ownership,
        resource_types=(OWNERSHIP,),
    ),
    Rule(
        id="S3-005",
        name="s3-bucket-kms-encryption",
        severity=Severity.HIGH,
        description="Every S3 bucket is encrypted with SSE-KMS, a customer managed key (never "
        "an AWS managed alias/aws/... key) and the S3 bucket key.",
        remediation=(
            'aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-encryption", '
            "bucket=bucket.id, rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs("
            "apply_server_side_encryption_by_default=aws.s3."
            "BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs("
            'sse_algorithm="aws:kms", kms_master_key_id=key.arn), bucket_key_enabled=True)], '
            "opts=child)"
        ),
        controls=("CKV_AWS_145",),
        catalog=(5,),
        stack_check=_kms_encryption,
        limits="Access-log target buckets are skipped: S3 delivers server access logs only to "
        "buckets encrypted with SSE-S3.",
    ),
    Rule(
        id="S3-006",
        name="s3-bucket-tls-only",
        severity=Severity.HIGH,
        description="Every S3 bucket's policy denies every S3 action ('s3:*') to every "
        "principal ('*') where aws:SecureTransport is false.",
        remediation=(
            'Add a deny statement to the bucket policy: {"Sid": "DenyPlainHttp", '
            '"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": '
            '[arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}'
            ' in aws.s3.BucketPolicy(f"{name}-policy", bucket=bucket.id, '
            "policy=pulumi.Output.json_dumps(document), opts=child)"
        ),
        controls=("FSBP S3.5",),
        catalog=(6,),
        stack_check=_tls_only,
    ),
    Rule(
        id="S3-007",
        name="s3-bucket-policy-no-public-principal",
        severity=Severity.CRITICAL,
        description="S3 bucket policies (BucketPolicy resources and a bucket's inline policy) "
        "allow no anonymous principal ('*') unless a condition restricts the principal.",
        remediation=(
            "Name the principals (account or role ARNs), or add a condition such as "
            '{"StringEquals": {"aws:PrincipalOrgID": org_id}} to the Allow statement.'
        ),
        controls=("FSBP S3.6", "CKV_AWS_70"),
        catalog=(7,),
        resource_check=_no_public_principal,
        resource_types=(POLICY, *BUCKET_TYPES),
    ),
    Rule(
        id="S3-008",
        name="s3-bucket-versioning",
        severity=Severity.MEDIUM,
        description="Every S3 bucket has versioning enabled.",
        remediation=(
            'aws.s3.BucketVersioning(f"{name}-versioning", bucket=bucket.id, '
            "versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs("
            'status="Enabled"), opts=child)'
        ),
        controls=("CKV_AWS_21",),
        catalog=(8,),
        stack_check=_versioning,
    ),
    Rule(
        id="S3-009",
        name="s3-bucket-access-logging",
        severity=Severity.MEDIUM,
        description="Every S3 bucket (except the access-log target) has server access logging.",
        remediation=(
            'aws.s3.BucketLogging(f"{name}-logging", bucket=bucket.id, '
            'target_bucket=logs_bucket.id, target_prefix=f"{purpose}/", opts=child)'
        ),
        controls=("FSBP S3.9", "CKV_AWS_18"),
        catalog=(9,),
        stack_check=_access_logging,
        limits="CloudTrail data events as an alternative to access logs are not visible.",
    ),
    Rule(
        id="S3-010",
        name="s3-bucket-lifecycle-aborts-multipart",
        severity=Severity.MEDIUM,
        description="Every S3 bucket has a lifecycle configuration with an enabled rule that "
        "aborts incomplete multipart uploads.",
        remediation=(
            'aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket.id, '
            'rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(id="abort-multipart", '
            'status="Enabled", filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs('
            'prefix=""), abort_incomplete_multipart_upload=aws.s3.'
            "BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs("
            "days_after_initiation=7))], opts=child)"
        ),
        controls=("CKV2_AWS_61", "CKV_AWS_300", "FSBP S3.10", "FSBP S3.13"),
        catalog=(10,),
        stack_check=_lifecycle,
    ),
    Rule(
        id="S3-011",
        name="s3-bucket-replication-or-object-lock",
        severity=Severity.MEDIUM,
        description="Where required (prod), every artifact bucket has replication or object lock.",
        remediation=(
            "Create the bucket with object_lock_enabled=True and add "
            'aws.s3.BucketObjectLockConfiguration(f"{name}-lock", bucket=bucket.id, '
            "rule=aws.s3.BucketObjectLockConfigurationRuleArgs(default_retention=aws.s3."
            'BucketObjectLockConfigurationRuleDefaultRetentionArgs(mode="GOVERNANCE", '
            "days=30)), opts=child), or add an aws.s3.BucketReplicationConfig to a second region."
        ),
        controls=("CKV_AWS_143", "CKV_AWS_144"),
        catalog=(11,),
        stack_check=_durability,
        config={
            "required": {
                "type": "boolean",
                "default": False,
                "description": "Whether artifact buckets must have replication or object lock.",
            },
            "urnPatterns": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["*"],
                "description": "URN patterns (fnmatch) of the buckets this applies to.",
            },
        },
        limits="Access-log target buckets are never artifact buckets.",
    ),
]
