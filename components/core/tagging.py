"""Two tag layers: provider ``default_tags`` and a ``tags`` argument on every component.

The provider layer tags everything the AWS provider creates; the argument layer is merged
into every taggable child explicitly, so tags are visible in resource inputs (and so to
tests, the offline preview and the policy pack, since mocks do not apply default tags).
"""

from __future__ import annotations

from collections.abc import Mapping

REQUIRED_TAG_KEYS: tuple[str, ...] = ("owner", "cost-center")
"""Tags every environment must carry; the configuration model and the policy pack both use this."""


def platform_tags(
    project: str, stack: str, environment: str, tags: Mapping[str, str]
) -> dict[str, str]:
    """The base tag set of an environment: identity tags plus the configured ones."""
    return {
        "project": project,
        "stack": stack,
        "environment": environment,
        "managed-by": "pulumi",
        **tags,
    }


def merge_tags(*layers: Mapping[str, str] | None) -> dict[str, str]:
    """Merge tag layers left to right; later layers win, ``None`` layers are skipped."""
    merged: dict[str, str] = {}
    for layer in layers:
        if layer:
            merged.update(layer)
    return merged
