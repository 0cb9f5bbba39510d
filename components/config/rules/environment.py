"""Rules over the whole environment: required tags, what prod always keeps, node group sizes."""

from __future__ import annotations

from ...core.limits import PROD_KMS_DELETION_WINDOW_DAYS
from ...core.tagging import REQUIRED_TAG_KEYS, tag_problems
from ..model import EnvironmentConfig, NodeGroupSize, Profile
from .problem import Path, Problem


def required_tags(config: EnvironmentConfig) -> list[Problem]:
    """Required tags are present and every tag fits AWS's rules."""
    problems = [
        Problem(
            ("tags", key),
            config.tags.get(key),
            "required tag is missing or empty; required: " + ", ".join(REQUIRED_TAG_KEYS),
        )
        for key in REQUIRED_TAG_KEYS
        if not config.tags.get(key, "").strip()
    ]
    for key, value in config.tags.items():
        problems += [Problem(("tags", key), value, text) for text in tag_problems(key, value)]
    return problems


def prod_profile(config: EnvironmentConfig) -> list[Problem]:
    """Prod spans >= 3 AZs, protects its cluster and its stateful resources, and gives every
    key the longest deletion window."""
    if config.profile is not Profile.PROD:
        return []
    problems: list[Problem] = []
    if config.network.az_count < 3:
        problems.append(
            Problem(("network", "azCount"), config.network.az_count, "prod needs at least 3 AZs")
        )
    if not config.cluster.deletion_protection:
        problems.append(
            Problem(
                ("cluster", "deletionProtection"), False, "prod clusters keep deletion protection"
            )
        )
    if not config.protect_stateful_resources:
        problems.append(
            Problem(
                ("protectStatefulResources",),
                False,
                "prod protects and retains its stateful resources",
            )
        )
    key_windows: dict[Path, int] = {
        (
            "cluster",
            "secretsKeyDeletionWindowDays",
        ): config.cluster.secrets_key_deletion_window_days,
        ("storage", "kmsDeletionWindowDays"): config.storage.kms_deletion_window_days,
        ("registry", "kmsDeletionWindowDays"): config.registry.kms_deletion_window_days,
        ("observability", "kmsDeletionWindowDays"): config.observability.kms_deletion_window_days,
    }
    problems += [
        Problem(
            path,
            days,
            f"prod keeps the longest KMS deletion window, {PROD_KMS_DELETION_WINDOW_DAYS} days",
        )
        for path, days in key_windows.items()
        if days < PROD_KMS_DELETION_WINDOW_DAYS
    ]
    return problems


def _sizes(size: NodeGroupSize, path: Path) -> list[Problem]:
    if size.min_size <= size.desired_size <= size.max_size:
        return []
    return [
        Problem(
            (*path, "desiredSize"),
            {"minSize": size.min_size, "desiredSize": size.desired_size, "maxSize": size.max_size},
            "node group sizes must satisfy minSize <= desiredSize <= maxSize",
        )
    ]


def node_group_sizes(config: EnvironmentConfig) -> list[Problem]:
    """min <= desired <= max for the system nodes and every GPU pool."""
    problems = _sizes(config.cluster.system_nodes, ("cluster", "systemNodes"))
    for i, pool in enumerate(config.gpu.pools):
        problems += _sizes(pool, ("gpu", "pools", i))
    return problems
