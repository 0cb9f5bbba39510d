"""Environment profiles: the one place where per-environment defaults live.

A stack file names its profile (``mlops:profile``) and overrides what it must; everything
else comes from here. Maps merge key by key, lists are replaced whole. Defaults that do
not vary by environment are field defaults in :mod:`components.config.model`.
"""

from __future__ import annotations

from typing import Any

from components.config.model import Profile

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
            "systemNodes": {"minSize": 2, "desiredSize": 2, "maxSize": 3},
        },
        "gpu": {"budgetGpus": 4, "allowedInstanceTypes": _DEV_GPUS},
    },
    Profile.TEST: {
        "logRetentionDays": 30,
        "protectStatefulResources": False,
        "network": {"azCount": 2, "natGateways": "single", "interfaceEndpoints": _ALL_ENDPOINTS},
        "cluster": {
            "endpointPublicAccess": False,
            "deletionProtection": False,
            "systemNodes": {"minSize": 2, "desiredSize": 2, "maxSize": 4},
        },
        "gpu": {"budgetGpus": 16, "allowedInstanceTypes": _TEST_GPUS},
    },
    Profile.PROD: {
        "logRetentionDays": 365,
        "protectStatefulResources": True,
        "network": {"azCount": 3, "natGateways": "per-az", "interfaceEndpoints": _ALL_ENDPOINTS},
        "cluster": {
            "endpointPublicAccess": False,
            "deletionProtection": True,
            "systemNodes": {"minSize": 3, "desiredSize": 3, "maxSize": 6},
        },
        "gpu": {"budgetGpus": 64, "allowedInstanceTypes": _PROD_GPUS},
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
