"""Environment profiles: the one place where per-environment defaults live.

A stack file names its profile (``mlops:profile``) and overrides what it must; everything
else comes from here. Maps merge key by key, lists are replaced whole. Defaults that do
not vary by environment are field defaults in :mod:`mlops_platform.config.model`.
"""

from __future__ import annotations

from typing import Any

from .model import Profile

_DEV_GPUS = ["g4dn.xlarge", "g4dn.2xlarge", "g5.xlarge", "g5.2xlarge", "g6.xlarge", "g6.2xlarge"]
_TEST_GPUS = [*_DEV_GPUS, "g5.12xlarge", "g6.12xlarge", "g6e.xlarge", "g6e.2xlarge"]
_PROD_GPUS = [
    *_TEST_GPUS,
    "g5.48xlarge",
    "g6e.12xlarge",
    "g6e.48xlarge",
    "p4d.24xlarge",
    "p5.48xlarge",
]

_ALL_ENDPOINTS = ["ecr.api", "ecr.dkr", "sts", "logs", "kms", "ec2", "ssm", "eks-auth", "sqs"]

PROFILES: dict[Profile, dict[str, Any]] = {
    Profile.DEV: {
        "logRetentionDays": 7,
        "protectStatefulResources": False,
        "network": {"azCount": 2, "natGateways": "single", "interfaceEndpoints": []},
        "cluster": {
            "endpointPublicAccess": False,
            "deletionProtection": False,
            "systemNodes": {"minSize": 1, "desiredSize": 1, "maxSize": 3},
            "secretsKeyDeletionWindowDays": 7,
        },
        "iam": {"ciEnvironment": "dev", "createPermissionBoundary": False},
        # dev: the API has an allowlisted public endpoint; deploys run from GitHub or laptops.
        "deployRunner": {"enabled": False},
        "gpu": {
            "budgetGpus": 4,
            "spotServiceLinkedRole": "create",
            "allowedInstanceTypes": _DEV_GPUS,
            # dev: an idle GPU node goes after 5 minutes (cost first).
            "clusterAutoscaler": {"scaleDownUnneededTime": "5m"},
            # dev: give idle GPUs back fast, replace nodes weekly, disrupt freely.
            "poolDefaults": {
                "maxUnavailable": 2,
                "disruption": {
                    "consolidationPolicy": "WhenEmptyOrUnderutilized",
                    "consolidateAfter": "5m",
                    "expireAfter": "168h",
                    "budgets": [{"nodes": "50%"}],
                },
            },
        },
        "observability": {
            "kmsDeletionWindowDays": 7,
            "receivers": [],
            "prometheusRetentionDays": 7,
            "prometheusStorageGib": 20,
            "prometheusReplicas": 1,
            "thresholds": {
                "gpuMemoryUsedPercent": 95,
                "gpuIdleMinutes": 30,
                "gpuPendingPodMinutes": 30,
                "inferenceErrorRatePercent": 5,
                "inferenceP99LatencySeconds": 2.5,
                "scrapeDownMinutes": 15,
            },
        },
        "storage": {
            "noncurrentVersionExpirationDays": 30,
            "transitionDays": 30,
            "accessLogExpirationDays": 30,
            "kmsDeletionWindowDays": 7,
        },
        "registry": {
            "keepTaggedImages": 20,
            "untaggedExpiryDays": 3,
            "enhancedScanning": False,
            "pullThroughCache": [],
            "kmsDeletionWindowDays": 7,
        },
        "modelRegistry": {
            "instanceClass": "db.t4g.small",
            "monitoringIntervalSeconds": 0,
            "maxAllocatedStorageGb": 50,
            "backupRetentionDays": 7,
            "multiAz": False,
            "deletionProtection": False,
            "finalSnapshot": False,
            "replicas": 1,
        },
        "loadBalancerController": {"replicas": 1},
        "tenants": {
            "gpuOvercommit": 2.0,
            "quotaDefaults": {"cpu": "8", "memory": "32Gi", "pods": 30, "loadBalancers": 0},
        },
    },
    Profile.TEST: {
        "logRetentionDays": 30,
        "protectStatefulResources": False,
        "network": {"azCount": 2, "natGateways": "single", "interfaceEndpoints": _ALL_ENDPOINTS},
        "cluster": {
            "endpointPublicAccess": False,
            "deletionProtection": False,
            "systemNodes": {"minSize": 2, "desiredSize": 2, "maxSize": 4},
            "secretsKeyDeletionWindowDays": 14,
        },
        "iam": {"ciEnvironment": "test", "createPermissionBoundary": True},
        # test/prod: private API endpoint only; phase 2 and later deploys run in the VPC.
        "deployRunner": {"enabled": True},
        "gpu": {
            "budgetGpus": 16,
            "spotServiceLinkedRole": "create",
            "allowedInstanceTypes": _TEST_GPUS,
            "clusterAutoscaler": {"scaleDownUnneededTime": "10m"},
            "poolDefaults": {
                "maxUnavailable": 1,
                "disruption": {
                    "consolidationPolicy": "WhenEmptyOrUnderutilized",
                    "consolidateAfter": "15m",
                    "expireAfter": "336h",
                    "budgets": [{"nodes": "20%"}],
                },
            },
        },
        "observability": {
            "kmsDeletionWindowDays": 14,
            "receivers": ["sns"],
            "prometheusRetentionDays": 15,
            "prometheusStorageGib": 50,
            "prometheusReplicas": 1,
            "thresholds": {
                "gpuMemoryUsedPercent": 95,
                "gpuIdleMinutes": 60,
                "gpuPendingPodMinutes": 20,
                "inferenceErrorRatePercent": 2,
                "inferenceP99LatencySeconds": 1.5,
                "scrapeDownMinutes": 10,
            },
        },
        "storage": {
            "noncurrentVersionExpirationDays": 60,
            "transitionDays": 60,
            "accessLogExpirationDays": 90,
            "kmsDeletionWindowDays": 14,
        },
        "registry": {
            "keepTaggedImages": 50,
            "untaggedExpiryDays": 7,
            "enhancedScanning": True,
            "pullThroughCache": ["ecr-public", "quay"],
            "kmsDeletionWindowDays": 14,
        },
        "modelRegistry": {
            "instanceClass": "db.t4g.medium",
            "monitoringIntervalSeconds": 60,
            "maxAllocatedStorageGb": 100,
            "backupRetentionDays": 7,
            "multiAz": False,
            "deletionProtection": False,
            "finalSnapshot": True,
            "replicas": 1,
        },
        "loadBalancerController": {"replicas": 2},
        "tenants": {
            "gpuOvercommit": 1.5,
            "quotaDefaults": {"cpu": "16", "memory": "64Gi", "pods": 50, "loadBalancers": 1},
        },
    },
    Profile.PROD: {
        "logRetentionDays": 365,
        "protectStatefulResources": True,
        "network": {"azCount": 3, "natGateways": "per-az", "interfaceEndpoints": _ALL_ENDPOINTS},
        "cluster": {
            "endpointPublicAccess": False,
            "deletionProtection": True,
            "systemNodes": {"minSize": 3, "desiredSize": 3, "maxSize": 6},
            "secretsKeyDeletionWindowDays": 30,
        },
        "iam": {"ciEnvironment": "prod", "createPermissionBoundary": True},
        "deployRunner": {"enabled": True},
        "gpu": {
            "budgetGpus": 64,
            "spotServiceLinkedRole": "create",
            "allowedInstanceTypes": _PROD_GPUS,
            # prod: keep warm capacity longer; scale-ups for bursts are slow and costly.
            "clusterAutoscaler": {"scaleDownUnneededTime": "20m"},
            # prod: never repack busy GPU nodes (it would evict training and serving pods);
            # only empty nodes go, slowly, and nothing is disrupted for drift in work hours.
            "poolDefaults": {
                "maxUnavailable": 1,
                "disruption": {
                    "consolidationPolicy": "WhenEmpty",
                    "consolidateAfter": "30m",
                    "expireAfter": "720h",
                    "budgets": [
                        {"nodes": "10%"},
                        {
                            "nodes": "0",
                            "reasons": ["Drifted"],
                            "schedule": "0 8 * * mon-fri",
                            "duration": "10h",
                        },
                    ],
                },
            },
        },
        "observability": {
            "kmsDeletionWindowDays": 30,
            "receivers": ["sns"],
            "prometheusRetentionDays": 30,
            "prometheusStorageGib": 200,
            "prometheusReplicas": 2,
            "thresholds": {
                "gpuMemoryUsedPercent": 90,
                "gpuIdleMinutes": 120,
                "gpuPendingPodMinutes": 10,
                "inferenceErrorRatePercent": 1,
                "inferenceP99LatencySeconds": 1.0,
                "scrapeDownMinutes": 5,
            },
        },
        "storage": {
            "noncurrentVersionExpirationDays": 365,
            "newerNoncurrentVersions": 10,
            "transitionDays": 90,
            "accessLogExpirationDays": 365,
            "kmsDeletionWindowDays": 30,
            "objectLock": {
                "mode": "GOVERNANCE",
                "days": 30,
                "purposes": ["models", "datasets", "pipeline-artifacts"],
            },
        },
        "registry": {
            "keepTaggedImages": 200,
            "untaggedExpiryDays": 14,
            "enhancedScanning": True,
            "pullThroughCache": ["ecr-public", "quay"],
            "kmsDeletionWindowDays": 30,
        },
        "modelRegistry": {
            "instanceClass": "db.m7g.large",
            "monitoringIntervalSeconds": 15,
            "maxAllocatedStorageGb": 500,
            "backupRetentionDays": 30,
            "multiAz": True,
            "deletionProtection": True,
            "finalSnapshot": True,
            "replicas": 2,
        },
        "loadBalancerController": {"replicas": 2},
        "tenants": {
            "gpuOvercommit": 1.0,
            "quotaDefaults": {"cpu": "32", "memory": "128Gi", "pods": 100, "loadBalancers": 2},
        },
    },
}


def merge_over_profile(profile: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` on top of ``profile``: maps merge recursively, anything else replaces."""
    merged = dict(profile)
    for key, value in overrides.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = merge_over_profile(base, value)
        else:
            merged[key] = value
    return merged
