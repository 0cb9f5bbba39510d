"""The shapes a rule setting can take, defined once.

The catalog (``catalog.toml``) gives each setting a shape by name, a default, optional
bounds and a description; :func:`setting_schema` turns that into the JSON schema the engine
validates a rule's config with (the Pulumi CLI fills in each ``default``). Every rule also
takes the two exemption settings defined here (``exemptions``, ``maxExemptionDays``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Severity

from components.core import patterns

SHAPES: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer"},
    "string": {"type": "string"},
    "strings": {"type": "array", "items": {"type": "string"}},
    "integers": {"type": "array", "items": {"type": "integer"}},
    "account-ids": {
        "type": "array",
        "items": {"type": "string", "pattern": patterns.ACCOUNT_ID.regex},
    },
    "quotas": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
}
"""Shape name (as the catalog writes it) -> its JSON schema: a flag, a number, a name, a
list of names or of ports, a list of AWS account IDs, a map of names to quantities."""

_BOUNDS = ("minimum", "maximum")


def setting_schema(
    shape: str, default: Any, description: str, bounds: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON schema of one setting: its shape, ``minimum``/``maximum`` from ``bounds``
    (integers only), its default and what it means."""
    if shape not in SHAPES:
        raise ValueError(f"unknown setting shape {shape!r} (known: {', '.join(SHAPES)})")
    limits = {k: v for k, v in (bounds or {}).items() if k in _BOUNDS}
    if limits and shape != "integer":
        raise ValueError(f"only integer settings take {' or '.join(_BOUNDS)}")
    return {
        **copy.deepcopy(SHAPES[shape]),
        **limits,
        "default": default,
        "description": description,
    }


# --- the settings every rule takes --------------------------------------------------------

EXEMPTIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "default": [],
    "description": "Exemptions from this rule: resource URN pattern (fnmatch), owner, reason, "
    "expiry date (YYYY-MM-DD, valid through that day). An expired exemption is a violation.",
    "items": {
        "type": "object",
        "required": ["urn", "owner", "reason", "expires"],
        "additionalProperties": False,
        "properties": {
            "rule": {"type": "string", "description": "The rule exempted (the config key)."},
            "urn": {"type": "string", "minLength": 1, "description": "URN pattern (fnmatch)."},
            "owner": {"type": "string", "minLength": 1, "description": "Who answers for it."},
            "reason": {"type": "string", "minLength": 1, "description": "Why it is accepted."},
            "expires": {
                "type": "string",
                "pattern": r"^\d{4}-\d{2}-\d{2}$",
                "description": "Last day the exemption holds (UTC).",
            },
        },
    },
}

DEFAULT_MAX_EXEMPTION_DAYS = 90
"""How far ahead of today an exemption may expire, unless the rule's config says less."""

STRICT_MAX_EXEMPTION_DAYS: dict[str, dict[Severity, int]] = {"prod": {Severity.CRITICAL: 30}}
"""Tighter caps per environment and severity (written into the config files by
``scripts.policy_docs``)."""

MAX_EXEMPTION_DAYS_SCHEMA: dict[str, Any] = setting_schema(
    "integer",
    DEFAULT_MAX_EXEMPTION_DAYS,
    "Most days ahead of today an exemption of this rule may expire; a later expiry is "
    "rejected (reported as a violation, suppresses nothing).",
    {"minimum": 1, "maximum": 366},
)

EVERY_RULE: dict[str, dict[str, Any]] = {
    "exemptions": EXEMPTIONS_SCHEMA,
    "maxExemptionDays": MAX_EXEMPTION_DAYS_SCHEMA,
}
"""The settings every rule takes besides its own."""
