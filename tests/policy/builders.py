"""Synthetic registrations for policy tests, in the offline engine's recorded (wire) form."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from scripts.offline import Recording, Registration
from scripts.policy_runner import UNKNOWN

STACK = "test"
PROJECT = "mlops"
ACCOUNT = "222222222222"
TAGS = {"owner": "ml-platform-team", "environment": "test", "cost-center": "ml-platform"}


def urn(type_: str, name: str, stack: str = STACK) -> str:
    """The URN a top-level resource of ``type_`` named ``name`` gets."""
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


def res(
    type_: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    custom: bool = True,
    protect: bool = False,
    parent: str | None = None,
    provider: str | None = None,
    deps: dict[str, list[str]] | None = None,
) -> Registration:
    """A registration as the recording monitor would have seen it."""
    prop_deps = {k: {"urns": v} for k, v in (deps or {}).items()}
    request = {
        "type": type_,
        "name": name,
        "custom": custom,
        "object": copy.deepcopy(inputs or {}),
        "protect": protect,
        "parent": parent or "",
        "provider": provider or "",
        "dependencies": sorted({u for v in (deps or {}).values() for u in v}),
        "propertyDependencies": prop_deps,
    }
    return Registration.from_request(request, urn(type_, name), f"{name}-id" if custom else None)


def recording(*resources: Registration, outputs: dict[str, Any] | None = None) -> Recording:
    """A recording holding ``resources``."""
    return Recording(PROJECT, STACK, list(resources), outputs or {}, {}, [])


def doc(*statements: dict[str, Any]) -> str:
    """A JSON policy document."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- S3 ------------------------------------------------------------------------------------

BUCKET = "aws:s3/bucket:Bucket"
_S3 = "aws:s3/"


def bucket_set(name: str, *, drop: str = "", **overrides: Any) -> list[Registration]:
    """A fully compliant bucket and its companions; ``drop`` leaves one companion out and
    ``overrides`` replace a companion's inputs (keyed by companion role)."""
    b_urn = urn(BUCKET, name)
    bucket_inputs = {"bucket": f"{name}-physical", "tags": TAGS, **overrides.get("bucket", {})}
    arn = f"arn:aws:s3:::{name}-physical"
    companions: dict[str, tuple[str, dict[str, Any]]] = {
        "pab": (
            "bucketPublicAccessBlock:BucketPublicAccessBlock",
            {
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        "ownership": (
            "bucketOwnershipControls:BucketOwnershipControls",
            {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
        ),
        "encryption": (
            "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k",
                        },
                        "bucketKeyEnabled": True,
                    }
                ]
            },
        ),
        "policy": (
            "bucketPolicy:BucketPolicy",
            {
                "policy": doc(
                    {
                        "Sid": "DenyPlainHttp",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [arn, f"{arn}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                )
            },
        ),
        "versioning": (
            "bucketVersioning:BucketVersioning",
            {"versioningConfiguration": {"status": "Enabled"}},
        ),
        "logging": (
            "bucketLogging:BucketLogging",
            {"targetBucket": "access-logs-physical", "targetPrefix": f"{name}/"},
        ),
        "lifecycle": (
            "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            {
                "rules": [
                    {
                        "id": "abort-multipart",
                        "status": "Enabled",
                        "filter": {"prefix": ""},
                        "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
                    }
                ]
            },
        ),
    }
    out = [res(BUCKET, name, bucket_inputs)]
    for role, (token, inputs) in companions.items():
        if role == drop:
            continue
        merged = {**inputs, **overrides.get(role, {}), "bucket": f"{name}-id"}
        out.append(res(_S3 + token, f"{name}-{role}", merged, deps={"bucket": [b_urn]}))
    return out


# --- EKS, EC2 ------------------------------------------------------------------------------

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def cluster(**changes: Any) -> dict[str, Any]:
    """Compliant EKS cluster inputs with ``changes`` applied on top."""
    base = {
        "name": "mlops-test",
        "version": "1.33",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/cluster",
        "vpcConfig": {
            "subnetIds": ["subnet-a", "subnet-b"],
            "endpointPrivateAccess": True,
            "endpointPublicAccess": False,
        },
        "encryptionConfig": {
            "resources": ["secrets"],
            "provider": {"keyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"},
        },
        "enabledClusterLogTypes": [
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler",
        ],
        "accessConfig": {
            "authenticationMode": "API",
            "bootstrapClusterCreatorAdminPermissions": False,
        },
        "tags": TAGS,
    }
    return {**base, **changes}


def gpu_node_group(**changes: Any) -> dict[str, Any]:
    """Compliant GPU node group inputs."""
    base = {
        "clusterName": "mlops-test",
        "nodeRoleArn": f"arn:aws:iam::{ACCOUNT}:role/nodes",
        "subnetIds": ["subnet-a"],
        "instanceTypes": ["g5.xlarge"],
        "capacityType": "ON_DEMAND",
        "amiType": "AL2023_x86_64_NVIDIA",
        "releaseVersion": "1.33.0-20250704",
        "scalingConfig": {"minSize": 0, "desiredSize": 0, "maxSize": 2},
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
        "labels": {"k8s.amazonaws.com/accelerator": "nvidia-a10g", "mlops/workload": "serving"},
        "tags": TAGS,
    }
    return {**base, **changes}


def user_data(text: str) -> str:
    """Base64 user data, as launch templates take it."""
    return base64.b64encode(text.encode()).decode()


def launch_template(**changes: Any) -> dict[str, Any]:
    """Compliant launch template inputs."""
    base = {
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        },
        "blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeSize": 100}}
        ],
        "networkInterfaces": [{"associatePublicIpAddress": "false"}],
        "userData": user_data("#!/bin/bash\necho bootstrap\n"),
        "tags": TAGS,
    }
    return {**base, **changes}


# --- Kubernetes ----------------------------------------------------------------------------

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/model-server:1.4.2"


def container(**changes: Any) -> dict[str, Any]:
    """A compliant container."""
    base = {
        "name": "server",
        "image": IMAGE,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": "500m", "memory": "1Gi"},
            "limits": {"cpu": "2", "memory": "1Gi"},
        },
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    }
    return {**base, **changes}


def deployment(
    containers: list[dict[str, Any]] | None = None,
    replicas: int = 2,
    labels: dict[str, str] | None = None,
    **pod: Any,
) -> dict[str, Any]:
    """Compliant Deployment inputs; ``pod`` entries go into the pod spec."""
    labels = labels or {"app": "model-server"}
    spec = {
        "serviceAccountName": "model-server",
        "automountServiceAccountToken": False,
        "containers": containers or [container()],
        **pod,
    }
    return {
        "metadata": {"namespace": "serving", "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


__all__ = ["UNKNOWN"]
