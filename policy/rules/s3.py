"""S3: public access, ACLs, encryption, TLS, versioning, logging, lifecycle, durability."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import PolicyResource

from rules import documents
from rules.catalog import resource_rule, rules_of, stack_rule
from rules.checks import customer_managed_key
from rules.context import StackContext, inputs
from rules.read import Node

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


@resource_rule("S3-001", PAB)
def _pab_flags(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    off = [f for f in _PAB_FLAGS if args.props[f].flag() is not True]
    if off:
        yield f"public access block leaves {', '.join(off)} off"


@stack_rule("S3-002")
def _has_pab(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        if not _bucket_children(ctx, bucket, (PAB,)):
            yield bucket.urn, f"bucket {bucket.name} has no BucketPublicAccessBlock"

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


@resource_rule("S3-003", *BUCKET_TYPES, *ACL_TYPES)
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


@resource_rule("S3-004", OWNERSHIP)
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


@stack_rule("S3-005")
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


@stack_rule("S3-006")
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


@resource_rule("S3-007", POLICY, *BUCKET_TYPES)
def _no_public_principal(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    where = "the bucket's inline policy: " if args.resource_type in BUCKET_TYPES else ""
    for s in documents.public_allows(args.props["policy"]):
        yield (
            f"{where}{s.label()} allows principal '*' with no condition restricting the "
            "principal (aws:PrincipalOrgID, aws:SourceArn, ...)"
        )


@stack_rule("S3-008")
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


@stack_rule("S3-009")
def _access_logging(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    targets = _log_targets(ctx)

    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        if bucket.urn in targets:
            return  # the access-log bucket itself: logging it into itself would loop
        inline = inputs(bucket).at("logging", "targetBucket").text()
        if not inline and not _bucket_children(ctx, bucket, LOGGING_TYPES):
            yield bucket.urn, f"bucket {bucket.name} has no server access logging"

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


@stack_rule("S3-010")
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


@stack_rule("S3-011")
def _durability(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    if not cfg["required"]:
        return iter(())
    targets = _log_targets(ctx)
    patterns = list(cfg["urnPatterns"])

    def check(bucket: PolicyResource) -> Iterator[tuple[str | None, str]]:
        if bucket.urn in targets or not any(fnmatchcase(bucket.urn, p) for p in patterns):
            return
        locked = inputs(bucket)["objectLockEnabled"].flag() is True
        replicated = bool(_bucket_children(ctx, bucket, (REPLICATION,)))
        lock_config = bool(_bucket_children(ctx, bucket, OBJECT_LOCK_TYPES))
        if not (locked or replicated or lock_config):
            yield bucket.urn, f"bucket {bucket.name} has neither replication nor object lock"

    return ctx.per_resource(ctx.of_type(*BUCKET_TYPES), check)


RULES = rules_of(__name__)
