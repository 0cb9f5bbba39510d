"""ArtifactStore: every bucket hardened, prod protected, lifecycle from args, bad input named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.storage.artifact_store import (
    AccessLevel,
    ArtifactStore,
    ArtifactStoreArgs,
    ObjectLockMode,
    StorageClass,
)

from scripts.offline import run_program
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
KEY = "aws:kms/key:Key"
TAGS = {"owner": "ml-team", "cost-center": "cc-1"}


def _args(**overrides: Any) -> ArtifactStoreArgs:
    return ArtifactStoreArgs(name_prefix="mlops-dev", tags=TAGS, **overrides)


def _run(args: ArtifactStoreArgs, stack: str = "dev"):
    store: dict[str, ArtifactStore] = {}

    def program() -> None:
        store["it"] = ArtifactStore("store", args)

    return run_program(program, stack=stack)


def _by_bucket(rec, type_: str) -> dict[str | None, Any]:
    """Sub-resources of ``type_`` keyed by the ID of the bucket they configure."""
    found: dict[str | None, Any] = {}
    for r in rec.of_type(type_):
        assert r.inputs["bucket"] not in found, f"two {type_} for one bucket"
        found[r.inputs["bucket"]] = r
    return found


@pytest.fixture(scope="module")
def dev():
    return _run(_args())


def test_buckets_per_purpose_with_unique_names_and_tags(dev):
    buckets = {r.name: r for r in dev.of_type(BUCKET)}
    assert set(buckets) == {
        "store-models",
        "store-datasets",
        "store-pipeline-artifacts",
        "store-access-logs",
    }
    for r in buckets.values():
        name = r.inputs["bucket"]
        assert name.startswith("mlops-dev-") and name.endswith("-123456789012")
        assert len(name) <= 63
        assert r.inputs["tags"]["owner"] == "ml-team"
        assert r.inputs["forceDestroy"] is False


def test_every_bucket_has_every_protection(dev):
    buckets = dev.of_type(BUCKET)
    sse, versioning = _by_bucket(dev, SSE), _by_bucket(dev, VERSIONING)
    pab, ownership = _by_bucket(dev, PAB), _by_bucket(dev, OWNERSHIP)
    policy, lifecycle = _by_bucket(dev, POLICY), _by_bucket(dev, LIFECYCLE)
    assert len(buckets) == 4
    for bucket in buckets:
        bid = bucket.id
        assert versioning[bid].inputs["versioningConfiguration"]["status"] == "Enabled"
        flags = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        assert all(pab[bid].inputs[f] is True for f in flags)
        assert ownership[bid].inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        statements = json.loads(policy[bid].inputs["policy"])["Statement"]
        assert any(s.get("Sid") == "DenyInsecureTransport" for s in statements)
        rules = {r["id"]: r for r in lifecycle[bid].inputs["rules"]}
        assert "abort-incomplete-multipart-uploads" in rules
        assert "expire-noncurrent-versions" in rules
        assert bid in sse


def test_data_buckets_use_the_cmk_with_bucket_keys_and_log_to_the_logs_bucket(dev):
    key = dev.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    key_arn = f"arn:aws:kms:us-east-1:123456789012:key/{key.id}"
    sse, logging = _by_bucket(dev, SSE), _by_bucket(dev, LOGGING)
    logs_bucket = dev.one(BUCKET, "store-access-logs")
    data = [b for b in dev.of_type(BUCKET) if b.name != "store-access-logs"]
    assert len(data) == 3
    for bucket in data:
        rule = sse[bucket.id].inputs["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"] == {
            "sseAlgorithm": "aws:kms",
            "kmsMasterKeyId": key_arn,
        }
        assert rule["bucketKeyEnabled"] is True
        assert logging[bucket.id].inputs["targetBucket"] == logs_bucket.id
    # S3 server access logging only delivers to SSE-S3 targets.
    logs_rule = sse[logs_bucket.id].inputs["rules"][0]
    assert logs_rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert logs_bucket.id not in logging


def test_bucket_policy_denies_non_tls_and_non_kms_puts(dev):
    bucket = dev.one(BUCKET, "store-models")
    statements = {
        s["Sid"]: s
        for s in json.loads(_by_bucket(dev, POLICY)[bucket.id].inputs["policy"])["Statement"]
    }
    tls = statements["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny" and tls["Principal"] == "*" and tls["Action"] == "s3:*"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    arn = "arn:aws:s3:::" + bucket.inputs["bucket"]
    assert tls["Resource"] == [arn, f"{arn}/*"]
    kms = statements["DenyNonKmsEncryption"]
    assert kms["Effect"] == "Deny" and kms["Action"] == "s3:PutObject"
    assert kms["Condition"]["StringNotEquals"] == {"s3:x-amz-server-side-encryption": "aws:kms"}
    assert statements["DenyOtherKmsKeys"]["Effect"] == "Deny"
    assert statements["DenySseC"]["Effect"] == "Deny"
    assert not [s for s in statements.values() if s["Effect"] == "Allow"]


def test_logs_bucket_admits_only_the_logging_service_for_our_buckets(dev):
    logs = dev.one(BUCKET, "store-access-logs")
    doc = json.loads(_by_bucket(dev, POLICY)[logs.id].inputs["policy"])
    allow = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
    assert len(allow) == 1
    assert allow[0]["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    sources = allow[0]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert len(sources) == 3 and all(s.startswith("arn:aws:s3:::mlops-dev-") for s in sources)


def test_dev_is_not_protected_and_prod_is(dev):
    assert not any(r.protect or r.retain_on_delete for r in dev.of_type(BUCKET))
    prod = _run(_args(protect=True), stack="prod")
    stateful = prod.of_type(BUCKET) + prod.of_type(KEY)
    assert len(stateful) == 5
    assert all(r.protect and r.retain_on_delete for r in stateful)


def test_lifecycle_numbers_follow_args():
    rec = _run(
        _args(
            noncurrent_version_expiration_days=400,
            newer_noncurrent_versions=7,
            abort_incomplete_multipart_upload_days=2,
            transition_days=45,
            transition_storage_class=StorageClass.STANDARD_IA,
            access_log_expiration_days=99,
        )
    )
    lifecycle = _by_bucket(rec, LIFECYCLE)
    models = {r["id"]: r for r in lifecycle[rec.one(BUCKET, "store-models").id].inputs["rules"]}
    assert models["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 400,
        "newerNoncurrentVersions": 7,
    }
    assert models["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": 2
    }
    assert models["transition-old-objects"]["transitions"] == [
        {"days": 45, "storageClass": "STANDARD_IA"}
    ]
    logs = {r["id"]: r for r in lifecycle[rec.one(BUCKET, "store-access-logs").id].inputs["rules"]}
    assert logs["expire-access-logs"]["expiration"] == {"days": 99}


def test_force_destroy_only_when_asked():
    rec = _run(_args(force_destroy=True))
    assert all(r.inputs["forceDestroy"] is True for r in rec.of_type(BUCKET))


def test_replication_and_object_lock():
    rec = _run(
        _args(
            protect=True,
            replication_enabled=True,
            replication_region="us-west-2",
            object_lock_mode=ObjectLockMode.GOVERNANCE,
            object_lock_days=60,
        ),
        stack="prod",
    )
    replicas = [
        r
        for r in rec.of_type(BUCKET)
        if r.name.endswith("-replica") and r.name != "store-access-logs-replica"
    ]
    assert len(replicas) == 3
    assert all(r.inputs["region"] == "us-west-2" and r.protect for r in replicas)
    replica_key = rec.one(KEY, "store-replica-key")
    assert replica_key.inputs["region"] == "us-west-2" and replica_key.protect
    # each key is used only through S3 in its own region
    for key, region in ((rec.one(KEY, "store-key"), "us-east-1"), (replica_key, "us-west-2")):
        use = _key_statement(key, "AccountUsesKeyThroughServices")
        assert use["Condition"]["StringEquals"]["kms:ViaService"] == [f"s3.{region}.amazonaws.com"]
    # replicas are hardened like their sources
    versioning = _by_bucket(rec, VERSIONING)
    assert all(versioning[r.id].inputs["region"] == "us-west-2" for r in replicas)
    configs = rec.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert len(configs) == 3
    rule = configs[0].inputs["rules"][0]
    assert rule["status"] == "Enabled"
    assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"].endswith(
        replica_key.id
    )
    locks = {
        r.inputs["bucket"]: r
        for r in rec.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    }
    models, models_replica = (
        rec.one(BUCKET, "store-models"),
        rec.one(BUCKET, "store-models-replica"),
    )
    assert set(locks) == {models.id, models_replica.id}  # only the locked purpose, both copies
    assert locks[models.id].inputs["rule"]["defaultRetention"] == {"mode": "GOVERNANCE", "days": 60}
    assert locks[models_replica.id].inputs["region"] == "us-west-2"
    # replicas log to an access-logs bucket in their own region
    replica_logs = rec.one(BUCKET, "store-access-logs-replica")
    assert replica_logs.inputs["region"] == "us-west-2" and replica_logs.protect
    logging = _by_bucket(rec, LOGGING)
    assert all(logging[r.id].inputs["targetBucket"] == replica_logs.id for r in replicas)
    assert all(logging[r.id].inputs["region"] == "us-west-2" for r in replicas)
    sse = _by_bucket(rec, SSE)
    assert sse[replica_logs.id].inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"
    }


def test_without_replication_or_lock_there_is_none(dev):
    assert dev.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig") == []
    assert dev.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration") == []


def _policy(rec, purpose: str, access: str) -> dict[str, Any]:
    outputs = next(o for o in rec.component_outputs.values() if "read_only_policies" in o)
    key = "read_only_policies" if access == "ro" else "read_write_policies"
    return json.loads(outputs[key][purpose])


def test_read_only_and_read_write_policies_per_bucket(dev):
    ro = _policy(dev, "datasets", "ro")
    rw = _policy(dev, "datasets", "rw")
    ro_actions = {a for s in ro["Statement"] for a in _list(s["Action"])}
    rw_actions = {a for s in rw["Statement"] for a in _list(s["Action"])}
    assert "s3:GetObject" in ro_actions and "s3:PutObject" not in ro_actions
    assert {"s3:PutObject", "kms:GenerateDataKey"} <= rw_actions
    assert "s3:DeleteObjectVersion" not in rw_actions  # versions survive every workload
    assert all(s["Resource"] != "*" for s in rw["Statement"])


def test_prefix_policy_reaches_only_its_prefix():
    holder: dict[str, Any] = {}

    def program() -> None:
        store = ArtifactStore("store", _args())
        holder["doc"] = store.access_policy("models", "team-a/", AccessLevel.READ_WRITE)
        holder["doc"].apply(lambda d: holder.__setitem__("json", d))

    run_program(program)
    doc = json.loads(holder["json"])
    objects = [s for s in doc["Statement"] if s["Sid"] in {"ReadObjects", "WriteObjects"}]
    assert objects and all(s["Resource"].endswith("/team-a/*") for s in objects)
    listing = next(s for s in doc["Statement"] if s["Sid"] == "ListPrefix")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["team-a/*"]}}


def test_prefix_policy_rejects_bad_prefix_and_purpose():
    def program() -> None:
        store = ArtifactStore("store", _args())
        store.access_policy("features", "/abs")

    with pytest.raises(ComponentInputError) as err:
        run_program(program)
    assert "purpose" in str(err.value) and "prefix" in str(err.value)


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "arg"),
    [
        ({"purposes": ["models", "features"]}, "purposes[1]"),
        ({"replication_enabled": True}, "replication_region"),
        ({"replication_enabled": True, "replication_region": "mars"}, "replication_region"),
        ({"noncurrent_version_expiration_days": 0}, "noncurrent_version_expiration_days"),
        ({"abort_incomplete_multipart_upload_days": 31}, "abort_incomplete_multipart_upload_days"),
        ({"access_log_expiration_days": 5000}, "access_log_expiration_days"),
        ({"kms_deletion_window_days": 3}, "kms_deletion_window_days"),
        (
            {"transition_days": 10, "transition_storage_class": StorageClass.STANDARD_IA},
            "transition_days",
        ),
        ({"force_destroy": True, "protect": True}, "force_destroy"),
        (
            {"object_lock_mode": ObjectLockMode.COMPLIANCE, "object_lock_days": 0},
            "object_lock_days",
        ),
        (
            {
                "object_lock_mode": ObjectLockMode.COMPLIANCE,
                "object_lock_purposes": ["access-logs"],
            },
            "object_lock_purposes[0]",
        ),
    ],
)
def test_bad_input_is_named_before_anything_registers(overrides, arg):
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(ComponentInputError) as err:
        run_program(lambda: ArtifactStore("store", _args(**overrides)), monitor=monitor)
    assert f"  - {arg} = " in str(err.value)
    registered = [r.request["type"] for r in monitor.registrations]
    assert not [t for t in registered if t.startswith("aws:")]


def test_good_input_passes_the_same_checks():
    rec = _run(
        _args(
            replication_enabled=True,
            replication_region="eu-west-1",
            transition_days=30,
            transition_storage_class=StorageClass.STANDARD_IA,
        )
    )
    assert rec.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")


def _key_statement(key, sid: str) -> dict[str, Any]:
    policy = json.loads(key.inputs["policy"])
    return next(st for st in policy["Statement"] if st["Sid"] == sid)


def test_key_has_an_explicit_policy_used_only_through_s3(dev):
    key = dev.one(KEY)
    admin = _key_statement(key, "AccountAdministersKey")
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert not {"kms:*", "kms:Decrypt", "kms:GenerateDataKey*"} & set(admin["Action"])
    use = _key_statement(key, "AccountUsesKeyThroughServices")
    assert use["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert use["Condition"] == {
        "StringEquals": {
            "kms:CallerAccount": "123456789012",
            "kms:ViaService": ["s3.us-east-1.amazonaws.com"],
        }
    }
