"""Create (idempotently) the S3 state bucket and KMS key for Pulumi's self-managed backend.

    python -m scripts.bootstrap_backend --region us-east-1 --dry-run   # show the plan
    python -m scripts.bootstrap_backend --region us-east-1             # create what is missing
    python -m scripts.bootstrap_backend --region us-east-1 --fix       # also repair a weak bucket

The bucket gets versioning, SSE-KMS with the key below (S3 Bucket Key on), all four public
access blocks, a TLS-only bucket policy and a lifecycle rule that expires noncurrent
versions. The KMS key (automatic rotation on) gets an alias for Pulumi's secrets provider.
Re-running changes nothing. An existing bucket or key with weaker settings is reported
and changed only with --fix. A bucket owned by another account stops the run.

Exit codes: 0 in the desired state (or a dry run); 1 weaker settings left unfixed, or the
bucket belongs to another account; 2 bad input; 3 AWS could not be asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_session import (
    EXIT_FAIL,
    EXIT_OK,
    Aws,
    Reporter,
    UserError,
    error_code,
    http_status,
    run,
    table,
)
from scripts.offline.project import load_project

DEFAULT_NONCURRENT_DAYS = 90
"""Days a superseded state file version is kept before S3 expires it."""
ABORT_MULTIPART_DAYS = 7
"""Days before S3 aborts an unfinished multipart upload."""
LIFECYCLE_RULE_ID = "expire-noncurrent-state-versions"
TLS_STATEMENT_SID = "DenyInsecureTransport"
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
    """``create`` / ``update`` (done), ``would-create`` / ``would-update`` (dry run), or
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


class Bootstrapper:
    """Brings the backend to the desired state; every write goes through :meth:`_apply`."""

    def __init__(
        self,
        aws: Aws,
        plan: Plan,
        *,
        fix: bool,
        dry_run: bool,
        noncurrent_days: int,
        reporter: Reporter,
    ) -> None:
        self.aws = aws
        self.plan = plan
        self.fix = fix
        self.dry_run = dry_run
        self.noncurrent_days = noncurrent_days
        self.reporter = reporter
        self.s3 = aws.client("s3")
        self.kms = aws.client("kms")

    # --- KMS ---------------------------------------------------------------------------

    def ensure_key(self) -> None:
        """The secrets key with rotation on, behind the alias."""
        alias = self.plan.alias
        self.reporter.progress(f"looking up KMS alias {alias}")
        target = self._alias_target(alias)
        if target is None:
            if self.dry_run:
                self._record("kms", "key", "would-create", "symmetric key, rotation on")
                self._record("kms", "alias", "would-create", alias)
                self.plan.key_arn = f"(new key behind {alias})"
                return
            key = self.kms.create_key(
                Description="Pulumi secrets provider for the mlops platform stacks",
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec="SYMMETRIC_DEFAULT",
                Tags=[{"TagKey": "purpose", "TagValue": "pulumi-secrets"}],
            )["KeyMetadata"]
            self.plan.key_arn = key["Arn"]
            self.kms.enable_key_rotation(KeyId=key["KeyId"])
            self.kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
            self._record("kms", "key", "create", key["Arn"])
            self._record("kms", "alias", "create", alias)
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

    def _alias_target(self, alias: str) -> str | None:
        paginator = self.kms.get_paginator("list_aliases")
        for page in paginator.paginate():
            for entry in page.get("Aliases", []):
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
            status = http_status(exc)
            if status == 404 or error_code(exc) in {"404", "NoSuchBucket", "NotFound"}:
                return False
            if status == 403:
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
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bootstrap_backend",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--region", help="region of the bucket and key (default: AWS_REGION)")
    parser.add_argument("--profile", help="AWS profile to use (default: AWS_PROFILE)")
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
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    def body() -> int:
        if args.noncurrent_days < 1:
            raise UserError("--noncurrent-days must be at least 1")
        reporter = Reporter(as_json=args.json)
        aws = Aws(region=args.region, profile=args.profile)
        region = aws.region_name
        reporter.progress(f"asking STS who we are (region {region})")
        account = aws.account_id()
        project = str(load_project().get("name", "mlops"))
        alias = args.kms_alias or f"alias/{project}-pulumi-secrets"
        if not alias.startswith("alias/"):
            alias = f"alias/{alias}"
        plan = Plan(
            account=account,
            region=region,
            bucket=args.bucket or default_bucket_name(project, account, region),
            alias=alias,
        )
        worker = Bootstrapper(
            aws,
            plan,
            fix=args.fix,
            dry_run=args.dry_run,
            noncurrent_days=args.noncurrent_days,
            reporter=reporter,
        )
        worker.ensure_key()
        worker.ensure_bucket()
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
