"""bootstrap_backend against a moto server: idempotence, weak buckets, foreign buckets."""

from __future__ import annotations

import json

import boto3
import pytest

from scripts import bootstrap_backend
from scripts.bootstrap_backend import LIFECYCLE_RULE_ID, TLS_STATEMENT_SID, main

BUCKET = "state-bucket-for-tests"
ALIAS = "alias/test-pulumi-secrets"
ARGS = ("--region", "us-east-1", "--bucket", BUCKET, "--kms-alias", ALIAS)


def _json(out: str) -> dict:
    return json.loads(out)


def test_first_run_creates_everything_and_second_run_changes_nothing(moto_endpoint, run_cli):
    code, out, err = run_cli(main, *ARGS, "--json")
    assert code == 0, err
    first = _json(out)
    assert first["changed"] is True
    created = {(c["resource"], c["setting"]) for c in first["changes"] if c["action"] == "create"}
    assert created == {
        ("kms", "key"),
        ("kms", "alias"),
        ("s3", "bucket"),
        ("s3", "versioning"),
        ("s3", "encryption"),
        ("s3", "public-access-block"),
        ("s3", "policy"),
        ("s3", "lifecycle"),
    }
    assert "..." in err  # progress went to stderr

    s3 = boto3.client("s3")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == first["kmsKeyArn"]
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == [TLS_STATEMENT_SID]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rules[0]["ID"] == LIFECYCLE_RULE_ID
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    kms = boto3.client("kms")
    key_id = next(
        a["TargetKeyId"] for a in kms.list_aliases()["Aliases"] if a["AliasName"] == ALIAS
    )
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True

    code, out, _ = run_cli(main, *ARGS, "--json")
    second = _json(out)
    assert code == 0
    assert second["changed"] is False
    assert second["changes"] == []
    assert second["kmsKeyArn"] == first["kmsKeyArn"]
    assert len(kms.list_keys()["Keys"]) == 1


def test_prints_the_exact_login_and_secrets_provider_lines(moto_endpoint, run_cli):
    code, out, _ = run_cli(main, *ARGS)
    assert code == 0
    assert f"pulumi login 's3://{BUCKET}?region=us-east-1&awssdk=v2'" in out
    assert f"--secrets-provider 'awskms://{ALIAS}?region=us-east-1'" in out
    code, out, _ = run_cli(main, *ARGS)
    assert "No changes" in out


def test_dry_run_writes_nothing(moto_endpoint, run_cli):
    code, out, _ = run_cli(main, *ARGS, "--dry-run", "--json")
    assert code == 0
    document = _json(out)
    assert {c["action"] for c in document["changes"]} == {"would-create"}
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    assert boto3.client("kms").list_keys()["Keys"] == []


def _weaken(bucket: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    other = {
        "Sid": "KeepMe",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/public/*",
    }
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [other]})
    )


def test_weaker_existing_bucket_is_reported_and_fixed_only_with_fix(moto_endpoint, run_cli):
    _weaken(BUCKET)
    s3 = boto3.client("s3")

    code, out, _ = run_cli(main, *ARGS, "--json")
    assert code == 1
    weak = {c["setting"] for c in _json(out)["unfixed"]}
    assert weak == {"versioning", "encryption", "public-access-block", "policy", "lifecycle"}
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended"  # untouched

    code, out, _ = run_cli(main, *ARGS, "--fix", "--dry-run", "--json")
    assert code == 0
    assert {c["action"] for c in _json(out)["changes"] if c["resource"] == "s3"} == {"would-update"}
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended"  # still untouched

    code, out, _ = run_cli(main, *ARGS, "--fix", "--json")
    assert code == 0
    updated = {c["setting"] for c in _json(out)["changes"] if c["action"] == "update"}
    assert updated == weak
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"KeepMe", TLS_STATEMENT_SID}

    code, out, _ = run_cli(main, *ARGS, "--json")
    assert code == 0
    assert _json(out)["changes"] == []


def test_bucket_owned_by_another_account_stops_with_a_clear_error(moto_endpoint, run_cli):
    # moto keys accounts by credentials: an assumed role in 222222222222 owns the bucket.
    creds = boto3.client("sts").assume_role(
        RoleArn="arn:aws:iam::222222222222:role/other", RoleSessionName="other-account"
    )["Credentials"]
    other = boto3.client(
        "s3",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    other.create_bucket(Bucket=BUCKET)

    code, out, err = run_cli(main, *ARGS)
    assert code == 1
    assert out == ""
    assert f"bucket {BUCKET} exists but is not owned by account 123456789012" in err
    assert "--bucket" in err
    # the other account's bucket was not modified:
    with pytest.raises(other.exceptions.ClientError):
        other.get_bucket_policy(Bucket=BUCKET)


def test_default_names_derive_from_project_account_and_region(moto_endpoint, run_cli):
    code, out, _ = run_cli(main, "--region", "eu-west-1", "--dry-run", "--json")
    assert code == 0
    document = _json(out)
    assert document["bucket"] == "mlops-pulumi-state-123456789012-eu-west-1"
    assert document["kmsAlias"] == "alias/mlops-pulumi-secrets"
    assert (
        bootstrap_backend.default_bucket_name("p" * 60, "1" * 12, "us-east-1")
        == (f"{'p' * 60}-pulumi-state-111111111111-us-east-1"[:63])
    )


def test_unreachable_endpoint_is_one_clear_line(closed_endpoint, run_script):
    result = run_script("scripts.bootstrap_backend", *ARGS)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert f"cannot reach {closed_endpoint}" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot reach")


# --- bad input, and never a stray key ----------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "problem"),
    [
        ("ab", "it has 2 characters; a bucket name has 3 to 63"),
        ("x" * 64, "it has 64 characters; a bucket name has 3 to 63"),
        ("State_Bucket", "only lowercase letters, digits, '.' and '-' are allowed"),
        ("-state-bucket", "it must begin and end with a lowercase letter or a digit"),
        ("state..bucket", "it must not contain two adjacent periods"),
        ("192.168.5.4", "it must not be formatted as an IP address"),
        ("xn--state", "the prefix 'xn--' is reserved"),
        ("sthree-state", "the prefix 'sthree-' is reserved"),
        ("state-s3alias", "the suffix '-s3alias' is reserved"),
        ("state--ol-s3", "the suffix '--ol-s3' is reserved"),
        ("state.mrap", "the suffix '.mrap' is reserved"),
    ],
)
def test_invalid_bucket_name_is_exit_2_before_anything_is_written(
    bucket, problem, moto_endpoint, run_cli
):
    code, out, err = run_cli(
        main, "--region", "us-east-1", f"--bucket={bucket}", "--kms-alias", ALIAS
    )
    assert code == 2
    assert out == ""
    assert f"--bucket {bucket!r} is not a valid S3 bucket name" in err
    assert problem in err
    assert "nothing was created" in err
    assert boto3.client("kms").list_keys()["Keys"] == []
    assert boto3.client("s3").list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    ("alias", "problem"),
    [
        ("test-pulumi-secrets", "it must start with 'alias/'"),
        ("alias/aws/pulumi", "'alias/aws/' is reserved for AWS managed keys"),
        ("alias/", "the part after 'alias/' has 0 characters; allowed 1 to 250"),
        ("alias/pulumi secrets", "after 'alias/' only letters, digits, '/', '_' and '-'"),
        ("alias/" + "a" * 251, "the part after 'alias/' has 251 characters"),
    ],
)
def test_invalid_kms_alias_is_exit_2_before_anything_is_written(
    alias, problem, moto_endpoint, run_cli
):
    code, _, err = run_cli(
        main, "--region", "us-east-1", "--bucket", BUCKET, f"--kms-alias={alias}"
    )
    assert code == 2
    assert f"--kms-alias {alias!r} is not a valid KMS alias" in err
    assert problem in err
    assert boto3.client("kms").list_keys()["Keys"] == []


def test_a_failed_bucket_step_schedules_the_new_keys_deletion(moto_endpoint, run_cli, monkeypatch):
    """The bucket cannot be created (AWS says the name is invalid): exit 2, and the key this
    run created is scheduled for deletion, its alias removed; a retry creates one key."""

    def invalid(self, **_: object) -> None:
        raise bootstrap_backend.ClientError(
            {
                "Error": {
                    "Code": "InvalidBucketName",
                    "Message": "The specified bucket is not valid.",
                }
            },
            "CreateBucket",
        )

    monkeypatch.setattr(bootstrap_backend.Bootstrapper, "_bucket_exists", lambda self: False)
    original = bootstrap_backend.Bootstrapper.ensure_bucket
    monkeypatch.setattr(bootstrap_backend.Bootstrapper, "ensure_bucket", invalid)
    code, _, err = run_cli(main, *ARGS)
    assert code == 2
    assert "AWS rejected the input of CreateBucket (InvalidBucketName)" in err
    assert "scheduled for deletion in 7 days" in err
    kms = boto3.client("kms")
    (key,) = kms.list_keys()["Keys"]
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert not [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == ALIAS]

    monkeypatch.setattr(bootstrap_backend.Bootstrapper, "ensure_bucket", original)
    code, out, _ = run_cli(main, *ARGS, "--json")
    assert code == 0
    enabled = [
        k
        for k in kms.list_keys()["Keys"]
        if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    ]
    assert len(enabled) == 1
    assert json.loads(out)["kmsKeyArn"].endswith(enabled[0]["KeyId"])


def test_a_key_left_without_its_alias_is_reused_not_duplicated(moto_endpoint, run_cli):
    """An interrupted run left a tagged key but no alias: the next run reuses that key."""
    kms = boto3.client("kms")
    left = kms.create_key(
        Tags=[
            {"TagKey": "purpose", "TagValue": "pulumi-secrets"},
            {"TagKey": bootstrap_backend.ALIAS_TAG, "TagValue": ALIAS},
        ]
    )["KeyMetadata"]
    kms.create_key(Tags=[{"TagKey": bootstrap_backend.ALIAS_TAG, "TagValue": "alias/other"}])
    code, out, err = run_cli(main, *ARGS, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["kmsKeyArn"] == left["Arn"]
    actions = {(c["resource"], c["setting"]): c["action"] for c in document["changes"]}
    assert actions[("kms", "key")] == "reuse"
    assert actions[("kms", "alias")] == "create"
    assert len(kms.list_keys()["Keys"]) == 2  # nothing new
    target = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == ALIAS)
    assert target["TargetKeyId"] == left["KeyId"]


def test_a_key_the_bucket_already_uses_is_never_rolled_back(moto_endpoint, run_cli, monkeypatch):
    def fail_after_encryption(self) -> None:
        self._put_encryption()
        raise bootstrap_backend.ClientError(
            {"Error": {"Code": "InternalError", "Message": "boom"}}, "PutBucketPolicy"
        )

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setattr(bootstrap_backend.Bootstrapper, "ensure_bucket", fail_after_encryption)
    code, _, err = run_cli(main, *ARGS)
    assert code == 3
    kms = boto3.client("kms")
    (key,) = kms.list_keys()["Keys"]
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    assert "scheduled for deletion" not in err
