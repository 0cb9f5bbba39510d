"""Two tag layers: provider ``default_tags`` and a ``tags`` argument on every component.

The provider layer tags everything the AWS provider creates; the argument layer is merged
into every taggable child explicitly, so tags are visible in resource inputs (and so to
tests, the offline preview and the policy pack, since mocks do not apply default tags).
"""

from __future__ import annotations

from collections.abc import Mapping

REQUIRED_TAG_KEYS: tuple[str, ...] = ("owner", "cost-center")
"""Tags every environment must carry; the configuration model and the policy pack both use this."""

TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_EXTRA_CHARACTERS = "_.:/=+-@"
"""Besides Unicode letters, digits and spaces, the characters AWS allows in tag keys and values
(the common subset every tagging service accepts)."""


def _bad_characters(text: str) -> list[str]:
    return sorted(
        {c for c in text if not (c.isalnum() or c.isspace() or c in TAG_EXTRA_CHARACTERS)}
    )


def tag_problems(key: str, value: str) -> list[str]:
    """What is wrong with one tag by AWS's rules (empty when nothing is), in plain words."""
    allowed = f"letters, digits, spaces and {' '.join(TAG_EXTRA_CHARACTERS)}"
    problems = []
    if not key:
        problems.append("a tag key cannot be empty")
    if key.lower().startswith("aws:"):
        problems.append("the aws: prefix is reserved by AWS")
    if len(key) > TAG_KEY_MAX:
        problems.append(f"tag keys are at most {TAG_KEY_MAX} characters")
    if len(value) > TAG_VALUE_MAX:
        problems.append(f"tag values are at most {TAG_VALUE_MAX} characters")
    if bad := _bad_characters(key):
        problems.append(f"the key has characters AWS does not allow ({' '.join(bad)}); {allowed}")
    if bad := _bad_characters(value):
        problems.append(f"the value has characters AWS does not allow ({' '.join(bad)}); {allowed}")
    return problems


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
