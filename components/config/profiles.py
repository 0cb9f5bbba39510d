"""Environment profiles: the one place where per-environment defaults live.

A stack file names its profile (``mlops:profile``) and overrides what it must; everything
else comes from here. Maps merge key by key, lists are replaced whole. Defaults that do
not vary by environment are field defaults in :mod:`mlops_platform.config.model`.

The profiles are one table: a row per setting (its key path in the stack config), a column
per environment, so every difference between dev, test and prod reads on one line.
:data:`PROFILES` is that table as one nested map per environment.
"""

from __future__ import annotations

import copy
from typing import Any

from ..core.limits import PROD_KMS_DELETION_WINDOW_DAYS
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
_SNS = ["sns"]
_CACHED_REGISTRIES = ["ecr-public", "quay"]

_KEY_DELETION_WINDOW = (7, 14, PROD_KMS_DELETION_WINDOW_DAYS)
"""Days each KMS key of the environment waits before it is deleted; prod keeps the longest."""

_REPACK = "WhenEmptyOrUnderutilized"
_DEV_BUDGETS = [{"nodes": "50%"}]
_TEST_BUDGETS = [{"nodes": "20%"}]
_PROD_BUDGETS = [  # nothing is disrupted for drift in work hours
    {"nodes": "10%"},
    {"nodes": "0", "reasons": ["Drifted"], "schedule": "0 8 * * mon-fri", "duration": "10h"},
]
_LOCKED = ["models", "datasets", "pipeline-artifacts"]

_MODEL_DEFAULT = None
"""In a column: this profile sets nothing; the model's field default applies."""

_COLUMNS = (Profile.DEV, Profile.TEST, Profile.PROD)

# fmt: off
_SETTINGS: dict[str, tuple[Any, Any, Any]] = {
    # key path                                   dev, test, prod
    "logRetentionDays":                          (7, 30, 365),
    "protectStatefulResources":                  (False, False, True),
    "network.azCount":                           (2, 2, 3),
    "network.natGateways":                       ("single", "single", "per-az"),
    "network.interfaceEndpoints":                ([], _ALL_ENDPOINTS, _ALL_ENDPOINTS),
    "cluster.endpointPublicAccess":              (False, False, False),
    "cluster.deletionProtection":                (False, False, True),
    "cluster.systemNodes.minSize":               (1, 2, 3),
    "cluster.systemNodes.desiredSize":           (1, 2, 3),
    "cluster.systemNodes.maxSize":               (3, 4, 6),
    "cluster.secretsKeyDeletionWindowDays":      _KEY_DELETION_WINDOW,
    "iam.ciEnvironment":                         ("dev", "test", "prod"),
    "iam.createPermissionBoundary":              (False, True, True),
    # dev: the API has an allowlisted public endpoint; deploys run from GitHub or laptops.
    # test/prod: private API endpoint only; phase 2 and later deploys run in the VPC.
    "deployRunner.enabled":                      (False, True, True),
    "gpu.budgetGpus":                            (4, 16, 64),
    "gpu.spotServiceLinkedRole":                 ("create", "create", "create"),
    "gpu.allowedInstanceTypes":                  (_DEV_GPUS, _TEST_GPUS, _PROD_GPUS),
    # dev: an idle GPU node goes after 5 minutes (cost first); prod keeps warm capacity
    # longer, since scale-ups for bursts are slow and costly.
    "gpu.clusterAutoscaler.scaleDownUnneededTime": ("5m", "10m", "20m"),
    # dev: give idle GPUs back fast, replace nodes weekly, disrupt freely. prod: never repack
    # busy GPU nodes (it would evict training and serving pods); only empty nodes go, slowly.
    "gpu.poolDefaults.maxUnavailable":           (2, 1, 1),
    "gpu.poolDefaults.disruption.consolidationPolicy": (_REPACK, _REPACK, "WhenEmpty"),
    "gpu.poolDefaults.disruption.consolidateAfter": ("5m", "15m", "30m"),
    "gpu.poolDefaults.disruption.expireAfter":   ("168h", "336h", "720h"),
    "gpu.poolDefaults.disruption.budgets":       (_DEV_BUDGETS, _TEST_BUDGETS, _PROD_BUDGETS),
    "observability.kmsDeletionWindowDays":       _KEY_DELETION_WINDOW,
    "observability.receivers":                   ([], _SNS, _SNS),
    "observability.prometheusRetentionDays":     (7, 15, 30),
    "observability.prometheusStorageGib":        (20, 50, 200),
    "observability.prometheusReplicas":          (1, 1, 2),
    "observability.thresholds.gpuMemoryUsedPercent": (95, 95, 90),
    "observability.thresholds.gpuIdleMinutes":   (30, 60, 120),
    "observability.thresholds.gpuPendingPodMinutes": (30, 20, 10),
    "observability.thresholds.inferenceErrorRatePercent": (5, 2, 1),
    "observability.thresholds.inferenceP99LatencySeconds": (2.5, 1.5, 1.0),
    "observability.thresholds.scrapeDownMinutes": (15, 10, 5),
    "storage.noncurrentVersionExpirationDays":   (30, 60, 365),
    "storage.newerNoncurrentVersions":           (_MODEL_DEFAULT, _MODEL_DEFAULT, 10),
    "storage.transitionDays":                    (30, 60, 90),
    "storage.accessLogExpirationDays":           (30, 90, 365),
    "storage.kmsDeletionWindowDays":             _KEY_DELETION_WINDOW,
    "storage.objectLock.mode":                   (_MODEL_DEFAULT, _MODEL_DEFAULT, "GOVERNANCE"),
    "storage.objectLock.days":                   (_MODEL_DEFAULT, _MODEL_DEFAULT, 30),
    "storage.objectLock.purposes":               (_MODEL_DEFAULT, _MODEL_DEFAULT, _LOCKED),
    "registry.keepTaggedImages":                 (20, 50, 200),
    "registry.untaggedExpiryDays":               (3, 7, 14),
    "registry.enhancedScanning":                 (False, True, True),
    "registry.pullThroughCache":                 ([], _CACHED_REGISTRIES, _CACHED_REGISTRIES),
    "registry.kmsDeletionWindowDays":            _KEY_DELETION_WINDOW,
    "modelRegistry.instanceClass":               ("db.t4g.small", "db.t4g.medium", "db.m7g.large"),
    "modelRegistry.monitoringIntervalSeconds":   (0, 60, 15),
    "modelRegistry.maxAllocatedStorageGb":       (50, 100, 500),
    "modelRegistry.backupRetentionDays":         (7, 7, 30),
    "modelRegistry.multiAz":                     (False, False, True),
    "modelRegistry.deletionProtection":          (False, False, True),
    "modelRegistry.finalSnapshot":               (False, True, True),
    "modelRegistry.replicas":                    (1, 1, 2),
    "loadBalancerController.replicas":           (1, 2, 2),
    "tenants.gpuOvercommit":                     (2.0, 1.5, 1.0),
    "tenants.quotaDefaults.cpu":                 ("8", "16", "32"),
    "tenants.quotaDefaults.memory":              ("32Gi", "64Gi", "128Gi"),
    "tenants.quotaDefaults.pods":                (30, 50, 100),
    "tenants.quotaDefaults.loadBalancers":       (0, 1, 2),
}
# fmt: on


def _profile(column: int) -> dict[str, Any]:
    """One environment's column of :data:`_SETTINGS` as the nested map a stack file has."""
    profile: dict[str, Any] = {}
    for key, values in _SETTINGS.items():
        if values[column] is _MODEL_DEFAULT:
            continue
        *sections, leaf = key.split(".")
        node = profile
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = copy.deepcopy(values[column])
    return profile


PROFILES: dict[Profile, dict[str, Any]] = {
    profile: _profile(column) for column, profile in enumerate(_COLUMNS)
}
"""Each environment's defaults, nested as in a stack file (``{"network": {"azCount": 2}}``)."""


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
