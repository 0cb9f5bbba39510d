"""The IAM and bucket policy documents of :class:`~.artifact_store.ArtifactStore`: what a
workload may do on a prefix, what each bucket admits, and what replication may read and
write. Plain functions of ARNs, so tests and other components build the same documents."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any


class AccessLevel(StrEnum):
    """What an access policy document grants on a prefix."""

    READ_ONLY = "read-only"
    READ_WRITE = "read-write"


def access_policy_document(
    bucket_arn: str, kms_key_arn: str, prefix: str = "", access: AccessLevel = AccessLevel.READ_ONLY
) -> dict[str, Any]:
    """An IAM policy document granting ``access`` to ``prefix`` of one bucket.

    Reads: get objects (and versions) under the prefix, list only the prefix, decrypt with
    the bucket's key. Writes add put, delete (a delete marker: versions stay), multipart
    cleanup and data-key generation. Never ``s3:DeleteObjectVersion``: nothing is lost.
    """
    objects = f"{bucket_arn}/{prefix}*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListPrefix",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": bucket_arn,
            **({"Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}}} if prefix else {}),
        },
        {
            "Sid": "BucketLocation",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": bucket_arn,
        },
        {
            "Sid": "ReadObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
            "Resource": objects,
        },
    ]
    kms_actions = ["kms:Decrypt", "kms:DescribeKey"]
    if access is AccessLevel.READ_WRITE:
        statements.append(
            {
                "Sid": "WriteObjects",
                "Effect": "Allow",
                "Action": [
                    "s3:PutObject",
                    "s3:PutObjectTagging",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": objects,
            }
        )
        kms_actions += ["kms:GenerateDataKey", "kms:Encrypt"]
    statements.append(
        {"Sid": "UseBucketKey", "Effect": "Allow", "Action": kms_actions, "Resource": kms_key_arn}
    )
    return {"Version": "2012-10-17", "Statement": statements}


def _tls_only(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def data_bucket_policy(bucket_arn: str, kms_key_arn: str) -> dict[str, Any]:
    """TLS only; puts that ask for any encryption but SSE-KMS with the bucket's key are denied.

    Puts that name no encryption get the bucket's default (SSE-KMS with the same key), so
    no object is ever stored unencrypted or under another key.
    """
    objects = f"{bucket_arn}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            _tls_only(bucket_arn),
            {
                "Sid": "DenyNonKmsEncryption",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                },
            },
            {
                "Sid": "DenyOtherKmsKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "StringNotEquals": {
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key_arn
                    },
                    "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                },
            },
            {
                "Sid": "DenySseC",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}
                },
            },
        ],
    }


def logs_bucket_policy(
    bucket_arn: str, account_id: str, source_bucket_arns: Sequence[str]
) -> dict[str, Any]:
    """TLS only; the S3 logging service may write under ``logs/`` for our buckets only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            _tls_only(bucket_arn),
            {
                "Sid": "AllowS3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/logs/*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": sorted(source_bucket_arns)},
                },
            },
        ],
    }


def replication_policy(
    source_key: str, replica_key: str, sources: Sequence[str], replicas: Sequence[str]
) -> dict[str, Any]:
    """What the S3 replication role may do: read the source buckets' versions (decrypting with
    the source key) and write replicas (encrypting with the replica key)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSourceConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": list(sources),
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                    "s3:GetObjectRetention",
                    "s3:GetObjectLegalHold",
                ],
                "Resource": [f"{arn}/*" for arn in sources],
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": [f"{arn}/*" for arn in replicas],
            },
            {
                "Sid": "DecryptSource",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": source_key,
            },
            {
                "Sid": "EncryptReplica",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": replica_key,
            },
        ],
    }
