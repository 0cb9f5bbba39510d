"""Create (idempotently) the S3 state bucket and KMS key for Pulumi's self-managed backend.

    python -m scripts.bootstrap_backend --region us-east-1 --dry-run   # show the plan
    python -m scripts.bootstrap_backend --region us-east-1             # create what is missing
    python -m scripts.bootstrap_backend --region us-east-1 --fix       # also repair a weak bucket

The bucket gets versioning, SSE-KMS with the key below (S3 Bucket Key on), all four public
access blocks, a TLS-only bucket policy and a lifecycle rule that expires noncurrent
versions. The KMS key (automatic rotation on) gets an alias for Pulumi's secrets provider.
Re-running changes nothing. An existing bucket or key with weaker settings is reported
and changed only with --fix. A bucket owned by another account stops the run.

The bucket name (S3 naming rules) and the KMS alias (``alias/`` + letters, digits, ``/``,
``_``, ``-``; not ``alias/aws/...``) are checked before anything is written. A key is
tagged with its alias when created; a run that fails after creating it removes the alias
and schedules the key's deletion (unless the bucket already encrypts with it), and a later
run reuses a key it finds by alias or by that tag, so no run leaves a stray key behind.

Exit codes: 0 in the desired state (or a dry run); 1 weaker settings left unfixed, or the
bucket belongs to another account; 2 bad input (including input AWS rejects as invalid);
3 AWS could not be asked.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from dataclasses import KW_ONLY, asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from mlops_platform.core.naming import NameKind

from scripts.aws_session import (
    ACCESS_DENIED_CODES,
    Aws,
    Reporter,
    UserError,
    aws_parser,
    bucket_missing,
    error_code,
    http_status,
    paginate,
    run,
    table,
)
from scripts.cli import EXIT_FAIL, EXIT_OK
from scripts.offline.project import load_project

DEFAULT_NONCURRENT_DAYS = 90
"""Days a superseded state file version is kept before S3 expires it."""
ABORT_MULTIPART_DAYS = 7
"""Days before S3 aborts an unfinished multipart upload."""
LIFECYCLE_RULE_ID = "expire-noncurrent-state-versions"
TLS_STATEMENT_SID = "DenyInsecureTransport"
KEY_PURPOSE_TAG = ("purpose", "pulumi-secrets")
ALIAS_TAG = "pulumi-backend-alias"
"""Tag on the secrets key naming its alias, so a retry finds a key whose alias is missing."""
KEY_DELETION_PENDING_DAYS = 7
"""Waiting period for the deletion a failed run schedules (the shortest AWS allows)."""
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
"""S3 general purpose bucket naming rules (Amazon S3 user guide, "Bucket naming rules")."""
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@dataclass
class Change:
    """One setting that was (or would be) created or changed."""

    resource: str
    setting: str
    action: str
    """``create`` / ``update`` (done), ``reuse`` (a key an interrupted run left, found by its
    tag), ``would-create`` / ``would-update`` (dry run), or
    ``needs-fix`` (weaker than required; left alone without --fix)."""
    detail: str = ""


@dataclass
class Plan:
    """Everything the run found and did."""

    account: str
    region: str
    bucket: str
    alias: str
    key_arn: str = ""
    changes: list[Change] = field(default_factory=list)

    @property
    def unfixed(self) -> list[Change]:
        """Weaknesses that were reported but not repaired."""
        return [c for c in self.changes if c.action == "needs-fix"]

    def login_line(self) -> str:
        """The exact ``pulumi login`` command for this backend."""
        return f"pulumi login 's3://{self.bucket}?region={self.region}&awssdk=v2'"

    def secrets_provider(self) -> str:
        """The ``--secrets-provider`` argument for ``pulumi stack init``."""
        return f"--secrets-provider 'awskms://{self.alias}?region={self.region}'"


def bucket_name_problems(name: str) -> list[str]:
    """What is wrong with ``name`` as an S3 general purpose bucket name (empty: valid)."""
    longest = NameKind.S3_BUCKET.rule.max_length
    problems = []
    if not 3 <= len(name) <= longest:
        problems.append(f"it has {len(name)} characters; a bucket name has 3 to {longest}")
    if not re.fullmatch(r"[a-z0-9.-]*", name):
        problems.append("only lowercase letters, digits, '.' and '-' are allowed")
    if name and not (name[0].isalnum() and name[-1].isalnum()):
        problems.append("it must begin and end with a lowercase letter or a digit")
    if ".." in name:
        problems.append("it must not contain two adjacent periods")
    try:
        ipaddress.IPv4Address(name)
        problems.append("it must not be formatted as an IP address")
    except ValueError:
        pass
    problems += [
        f"the prefix {prefix!r} is reserved"
        for prefix in RESERVED_BUCKET_PREFIXES
        if name.startswith(prefix)
    ]
    problems += [
        f"the suffix {suffix!r} is reserved"
        for suffix in RESERVED_BUCKET_SUFFIXES
        if name.endswith(suffix)
    ]
    return problems


def kms_alias_problems(alias: str) -> list[str]:
    """What is wrong with ``alias`` as the name of a customer managed key's alias."""
    longest = NameKind.KMS_ALIAS.rule.max_length
    body = alias.removeprefix("alias/")
    problems = []
    if not alias.startswith("alias/"):
        problems.append("it must start with 'alias/'")
    if alias.startswith("alias/aws/"):
        problems.append("'alias/aws/' is reserved for AWS managed keys")
    if not 1 <= len(body) <= longest:
        problems.append(
            f"the part after 'alias/' has {len(body)} characters; allowed 1 to {longest}"
        )
    if not re.fullmatch(r"[A-Za-z0-9/_-]*", body):
        problems.append("after 'alias/' only letters, digits, '/', '_' and '-' are allowed")
    return problems


def validate_names(bucket: str, alias: str, *, bucket_from: str, alias_from: str) -> None:
    """Raise a :class:`UserError` (exit 2) naming every problem of the two names."""
    lines = []
    if problems := bucket_name_problems(bucket):
        lines.append(
            f"{bucket_from} {bucket!r} is not a valid S3 bucket name: " + "; ".join(problems)
        )
    if problems := kms_alias_problems(alias):
        lines.append(f"{alias_from} {alias!r} is not a valid KMS alias: " + "; ".join(problems))
    if lines:
        examples = "e.g. --bucket acme-pulumi-state-123456789012 --kms-alias alias/acme-pulumi"
        raise UserError("\n".join(lines) + f"\n({examples}; nothing was created)")


def default_bucket_name(project: str, account: str, region: str) -> str:
    """``<project>-pulumi-state-<account>-<region>``: unique per account and region."""
    return f"{project}-pulumi-state-{account}-{region}"[:63]


def tls_only_statement(bucket: str) -> dict[str, Any]:
    """The bucket policy statement that denies any request not made over TLS."""
    return {
        "Sid": TLS_STATEMENT_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def lifecycle_rule(noncurrent_days: int) -> dict[str, Any]:
    """The lifecycle rule that expires noncurrent state versions and stale uploads."""
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
    }


def has_tls_only(policy: dict[str, Any]) -> bool:
    """Whether a policy document denies requests without TLS for everyone."""
    for statement in policy.get("Statement", []):
        condition = statement.get("Condition", {}).get("Bool", {})
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and str(condition.get("aws:SecureTransport", "")).lower() == "false"
        ):
            return True
    return False


def has_noncurrent_expiry(rules: list[dict[str, Any]]) -> bool:
    """Whether an enabled lifecycle rule expires noncurrent versions."""
    return any(r.get("Status") == "Enabled" and r.get("NoncurrentVersionExpiration") for r in rules)


@dataclass
class Bootstrapper:
    """Brings the backend to the desired state; every change is recorded in the plan."""

    aws: Aws
    plan: Plan
    _: KW_ONLY
    fix: bool
    dry_run: bool
    noncurrent_days: int
    reporter: Reporter
    created_key: str | None = field(default=None, init=False)
    """The key this run created (rolled back if the run fails)."""
    created_alias: bool = field(default=False, init=False)
    key_in_use: bool = field(default=False, init=False)
    """Whether the bucket's default encryption now names the key."""

    def __post_init__(self) -> None:
        self.s3 = self.aws.client("s3")
        self.kms = self.aws.client("kms")

    # --- KMS ---------------------------------------------------------------------------

    def ensure_key(self) -> None:
        """The secrets key with rotation on, behind the alias (reusing a tagged key)."""
        alias = self.plan.alias
        self.reporter.progress(f"looking up KMS alias {alias}")
        target = self._alias_target(alias)
        if target is None:
            tagged = self._tagged_key(alias)
            if self.dry_run:
                if tagged:
                    self._record("kms", "alias", "would-create", f"{alias} -> {tagged}")
                else:
                    self._record("kms", "key", "would-create", "symmetric key, rotation on")
                    self._record("kms", "alias", "would-create", alias)
                self.plan.key_arn = tagged or f"(new key behind {alias})"
                return
            if tagged:
                self._record("kms", "key", "reuse", f"{tagged} (tagged {ALIAS_TAG}={alias})")
                self.plan.key_arn = tagged
                if not self.kms.get_key_rotation_status(KeyId=tagged).get("KeyRotationEnabled"):
                    self.kms.enable_key_rotation(KeyId=tagged)  # our key: finish its creation
                    self._record("kms", "rotation", "update", "completing an interrupted run")
                self.kms.create_alias(AliasName=alias, TargetKeyId=tagged)
                self._record("kms", "alias", "create", alias)
                target = tagged
            else:
                self._create_key(alias)
                return
        metadata = self.kms.describe_key(KeyId=target)["KeyMetadata"]
        self.plan.key_arn = metadata["Arn"]
        if metadata.get("KeyState") != "Enabled":
            raise UserError(
                f"KMS key {metadata['Arn']} behind {alias} is {metadata.get('KeyState')}; "
                "enable it (or cancel its deletion) before bootstrapping",
                EXIT_FAIL,
            )
        rotation = self.kms.get_key_rotation_status(KeyId=target).get("KeyRotationEnabled")
        if not rotation:
            self._weak_or_fix(
                "kms",
                "rotation",
                "automatic key rotation is off",
                lambda: self.kms.enable_key_rotation(KeyId=target),
            )

    def _create_key(self, alias: str) -> None:
        key = self.kms.create_key(
            Description="Pulumi secrets provider for the mlops platform stacks",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=[
                {"TagKey": KEY_PURPOSE_TAG[0], "TagValue": KEY_PURPOSE_TAG[1]},
                {"TagKey": ALIAS_TAG, "TagValue": alias},
            ],
        )["KeyMetadata"]
        self.plan.key_arn = key["Arn"]
        self.created_key = key["KeyId"]
        self._record("kms", "key", "create", key["Arn"])
        self.kms.enable_key_rotation(KeyId=key["KeyId"])
        self.kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
        self.created_alias = True
        self._record("kms", "alias", "create", alias)

    def _tagged_key(self, alias: str) -> str | None:
        """An enabled customer managed key tagged for ``alias`` (left by an interrupted run)."""
        for entry in paginate(self.kms, "list_keys", "Keys"):
            try:
                found = self._tagged_for(entry["KeyId"], alias)
            except ClientError as exc:
                if error_code(exc) in ACCESS_DENIED_CODES:
                    continue  # a key this identity may not read is not one it created
                raise
            if found:
                return found
        return None

    def _tagged_for(self, key_id: str, alias: str) -> str | None:
        """The key's ARN when it is an enabled customer managed key tagged for ``alias``."""
        metadata = self.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        if metadata.get("KeyManager") != "CUSTOMER" or metadata.get("KeyState") != "Enabled":
            return None
        tags = self.kms.list_resource_tags(KeyId=key_id).get("Tags", [])
        if {"TagKey": ALIAS_TAG, "TagValue": alias} in tags:
            return str(metadata["Arn"])
        return None

    def roll_back(self) -> None:
        """After a failure: remove the alias and schedule the deletion of the key this run
        created, unless the bucket already encrypts with it (a retry then reuses it)."""
        if self.created_key is None or self.key_in_use:
            return
        try:
            if self.created_alias:
                self.kms.delete_alias(AliasName=self.plan.alias)
            self.kms.schedule_key_deletion(
                KeyId=self.created_key, PendingWindowInDays=KEY_DELETION_PENDING_DAYS
            )
        except ClientError as exc:
            self.reporter.progress(
                f"could not remove the key this run created ({error_code(exc)}); the next run "
                f"reuses it (tag {ALIAS_TAG}={self.plan.alias})"
            )
            return
        self.reporter.progress(
            f"the run failed: KMS key {self.plan.key_arn} it created is scheduled for deletion "
            f"in {KEY_DELETION_PENDING_DAYS} days and its alias removed"
        )

    def _alias_target(self, alias: str) -> str | None:
        for entry in paginate(self.kms, "list_aliases", "Aliases"):
            if entry.get("AliasName") == alias and entry.get("TargetKeyId"):
                return str(entry["TargetKeyId"])
        return None

    # --- S3 ----------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """The state bucket and each of its settings."""
        bucket = self.plan.bucket
        self.reporter.progress(f"checking bucket {bucket}")
        exists = self._bucket_exists()
        if not exists:
            if self.dry_run:
                self._record("s3", "bucket", "would-create", bucket)
                for setting in (
                    "versioning",
                    "encryption",
                    "public-access-block",
                    "policy",
                    "lifecycle",
                ):
                    self._record("s3", setting, "would-create")
                return
            params: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
            if self.plan.region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": self.plan.region}
            try:
                self.s3.create_bucket(**params)
            except ClientError as exc:
                if error_code(exc) == "BucketAlreadyExists":
                    raise self._foreign_bucket() from None
                raise
            self._record("s3", "bucket", "create", bucket)
            self._put_versioning()
            self._put_encryption()
            self._put_public_access_block()
            self._put_policy({})
            self._put_lifecycle([])
            self._record_new_settings()
            return
        self._check_existing()

    def _record_new_settings(self) -> None:
        for setting in ("versioning", "encryption", "public-access-block", "policy", "lifecycle"):
            self._record("s3", setting, "create")

    def _bucket_exists(self) -> bool:
        bucket = self.plan.bucket
        try:
            self.s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=self.plan.account)
        except ClientError as exc:
            if bucket_missing(exc):
                return False
            if http_status(exc) == 403:
                raise self._foreign_bucket() from None
            raise
        # A 200 can still be another account's bucket where the endpoint does not enforce
        # ExpectedBucketOwner; ListBuckets lists only the caller's own buckets.
        own = self.s3.list_buckets(Prefix=bucket).get("Buckets", [])
        if not any(b.get("Name") == bucket for b in own):
            raise self._foreign_bucket()
        location = self.s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        actual_region = location or "us-east-1"
        if actual_region != self.plan.region:
            raise UserError(
                f"bucket {bucket} already exists in {actual_region}, not {self.plan.region}; "
                f"rerun with --region {actual_region} or choose another --bucket",
                EXIT_FAIL,
            )
        return True

    def _foreign_bucket(self) -> UserError:
        return UserError(
            f"bucket {self.plan.bucket} exists but is not owned by account {self.plan.account} "
            "(or this identity may not see it): choose another name with --bucket; "
            "state must never live in a bucket another account controls",
            EXIT_FAIL,
        )

    def _check_existing(self) -> None:
        s3, bucket = self.s3, self.plan.bucket
        owner = {"ExpectedBucketOwner": self.plan.account}
        status = s3.get_bucket_versioning(Bucket=bucket, **owner).get("Status")
        if status != "Enabled":
            self._weak_or_fix(
                "s3", "versioning", f"versioning is {status or 'off'}", self._put_versioning
            )

        rules = self._get_or_empty(
            lambda: s3.get_bucket_encryption(Bucket=bucket, **owner)[
                "ServerSideEncryptionConfiguration"
            ]["Rules"],
            {"ServerSideEncryptionConfigurationNotFoundError"},
            [],
        )
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
        algorithm = default.get("SSEAlgorithm")
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            self._weak_or_fix(
                "s3",
                "encryption",
                f"default encryption is {algorithm or 'none'}, not SSE-KMS",
                self._put_encryption,
            )

        block = self._get_or_empty(
            lambda: s3.get_public_access_block(Bucket=bucket, **owner)[
                "PublicAccessBlockConfiguration"
            ],
            {"NoSuchPublicAccessBlockConfiguration"},
            {},
        )
        missing = [k for k, v in PUBLIC_ACCESS_BLOCK.items() if block.get(k) is not v]
        if missing:
            self._weak_or_fix(
                "s3",
                "public-access-block",
                "off: " + ", ".join(missing),
                self._put_public_access_block,
            )

        text = self._get_or_empty(
            lambda: s3.get_bucket_policy(Bucket=bucket, **owner)["Policy"],
            {"NoSuchBucketPolicy"},
            "",
        )
        policy = json.loads(text) if text else {}
        if not has_tls_only(policy):
            self._weak_or_fix(
                "s3",
                "policy",
                "no statement denies requests without TLS",
                lambda: self._put_policy(policy),
            )

        lifecycle = self._get_or_empty(
            lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket, **owner)["Rules"],
            {"NoSuchLifecycleConfiguration"},
            [],
        )
        if not has_noncurrent_expiry(lifecycle):
            self._weak_or_fix(
                "s3",
                "lifecycle",
                "noncurrent state versions never expire",
                lambda: self._put_lifecycle(lifecycle),
            )

    @staticmethod
    def _get_or_empty(call: Any, absent: set[str], empty: Any) -> Any:
        try:
            return call()
        except ClientError as exc:
            if error_code(exc) in absent:
                return empty
            raise

    def _put_versioning(self) -> None:
        self.s3.put_bucket_versioning(
            Bucket=self.plan.bucket,
            ExpectedBucketOwner=self.plan.account,
            VersioningConfiguration={"Status": "Enabled"},
        )

    def _put_encryption(self) -> None:
        self.key_in_use = True  # from here on the key may protect state: never roll it back
        self.s3.put_bucket_encryption(
            Bucket=self.plan.bucket,
            ExpectedBucketOwner=self.plan.account,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": self.plan.key_arn,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )

    def _put_public_access_block(self) -> None:
        self.s3.put_public_access_block(
            Bucket=self.plan.bucket,
            ExpectedBucketOwner=self.plan.account,
            PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK),
        )

    def _put_policy(self, existing: dict[str, Any]) -> None:
        statements = [s for s in existing.get("Statement", []) if s.get("Sid") != TLS_STATEMENT_SID]
        document = {
            "Version": existing.get("Version", "2012-10-17"),
            "Statement": [*statements, tls_only_statement(self.plan.bucket)],
        }
        self.s3.put_bucket_policy(
            Bucket=self.plan.bucket,
            ExpectedBucketOwner=self.plan.account,
            Policy=json.dumps(document),
        )

    def _put_lifecycle(self, existing: list[dict[str, Any]]) -> None:
        rules = [r for r in existing if r.get("ID") != LIFECYCLE_RULE_ID]
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=self.plan.bucket,
            ExpectedBucketOwner=self.plan.account,
            LifecycleConfiguration={"Rules": [*rules, lifecycle_rule(self.noncurrent_days)]},
        )

    # --- bookkeeping -------------------------------------------------------------------

    def _record(self, resource: str, setting: str, action: str, detail: str = "") -> None:
        self.plan.changes.append(Change(resource, setting, action, detail))
        self.reporter.progress(f"{resource} {setting}: {action} {detail}".rstrip())

    def _weak_or_fix(self, resource: str, setting: str, detail: str, apply: Any) -> None:
        if not self.fix:
            self._record(resource, setting, "needs-fix", detail)
        elif self.dry_run:
            self._record(resource, setting, "would-update", detail)
        else:
            apply()
            self._record(resource, setting, "update", detail)


def render(plan: Plan, dry_run: bool) -> str:
    """The human-readable report."""
    lines = [f"State backend in account {plan.account}, region {plan.region}"]
    lines.append(f"  bucket:  s3://{plan.bucket}")
    lines.append(f"  key:     {plan.alias} -> {plan.key_arn or '(unknown)'}")
    lines.append("")
    if plan.changes:
        rows = [[c.resource, c.setting, c.action, c.detail] for c in plan.changes]
        lines.append(table(["resource", "setting", "action", "detail"], rows))
    else:
        lines.append("No changes: the bucket and key already match the desired settings.")
    lines.append("")
    if plan.unfixed:
        lines.append(
            f"{len(plan.unfixed)} setting(s) are weaker than required; rerun with --fix to "
            "repair them (add --dry-run to see the plan first)."
        )
        lines.append("")
    if dry_run:
        lines.append("Dry run: nothing was changed.")
        lines.append("")
    lines.append("Log in to this backend and create stacks with its secrets provider:")
    lines.append(f"  {plan.login_line()}")
    lines.append(f"  pulumi stack init <stack> {plan.secrets_provider()}")
    lines.append("Existing stacks switch with:")
    lines.append(
        f"  pulumi stack change-secrets-provider 'awskms://{plan.alias}?region={plan.region}'"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = aws_parser("scripts.bootstrap_backend", __doc__)
    parser.add_argument("--region", help="region of the bucket and key (default: AWS_REGION)")
    parser.add_argument(
        "--bucket", help="state bucket name (default: <project>-pulumi-state-<account>-<region>)"
    )
    parser.add_argument(
        "--kms-alias", help="alias of the secrets key (default: alias/<project>-pulumi-secrets)"
    )
    parser.add_argument(
        "--noncurrent-days",
        type=int,
        default=DEFAULT_NONCURRENT_DAYS,
        help=f"days to keep superseded state versions (default {DEFAULT_NONCURRENT_DAYS})",
    )
    parser.add_argument("--fix", action="store_true", help="repair weaker existing settings")
    parser.add_argument("--dry-run", action="store_true", help="change nothing; show the plan")
    args = parser.parse_args(argv)

    def body() -> int:
        if args.noncurrent_days < 1:
            raise UserError("--noncurrent-days must be at least 1")
        project = str(load_project().get("name", "mlops"))
        alias = args.kms_alias or f"alias/{project}-pulumi-secrets"
        if args.bucket or args.kms_alias:  # bad input stops before AWS is asked at all
            validate_names(
                args.bucket or "placeholder-bucket",
                alias,
                bucket_from="--bucket",
                alias_from="--kms-alias" if args.kms_alias else "the default alias",
            )
        reporter = Reporter(as_json=args.json)
        aws = Aws(region=args.region, profile=args.profile)
        region = aws.region_name
        reporter.progress(f"asking STS who we are (region {region})")
        account = aws.account_id()
        bucket = args.bucket or default_bucket_name(project, account, region)
        validate_names(
            bucket,
            alias,
            bucket_from="--bucket" if args.bucket else "the default bucket name",
            alias_from="--kms-alias" if args.kms_alias else "the default alias",
        )
        plan = Plan(account=account, region=region, bucket=bucket, alias=alias)
        worker = Bootstrapper(
            aws,
            plan,
            fix=args.fix,
            dry_run=args.dry_run,
            noncurrent_days=args.noncurrent_days,
            reporter=reporter,
        )
        try:
            worker.ensure_key()
            worker.ensure_bucket()
        except BaseException:
            worker.roll_back()
            raise
        document = {
            "account": plan.account,
            "region": plan.region,
            "bucket": plan.bucket,
            "kmsAlias": plan.alias,
            "kmsKeyArn": plan.key_arn,
            "dryRun": args.dry_run,
            "changed": any(c.action in {"create", "update"} for c in plan.changes),
            "changes": [asdict(c) for c in plan.changes],
            "unfixed": [asdict(c) for c in plan.unfixed],
            "login": plan.login_line(),
            "secretsProvider": f"awskms://{plan.alias}?region={plan.region}",
        }
        reporter.result(document, render(plan, args.dry_run))
        return EXIT_FAIL if plan.unfixed else EXIT_OK

    return run(body)


if __name__ == "__main__":
    sys.exit(main())
