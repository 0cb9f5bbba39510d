"""The rule type: every rule in the pack is a :class:`Rule`.

A rule carries a stable short ID and kebab-case name, a severity, a description, a
remediation that shows the Pulumi-Python fix, the control IDs it implements (CIS EKS, AWS
FSBP, checkov, ...), the policy-catalog rows it covers, its config schema (with defaults the
CLI fills in), and a check. The rules are written down in ``catalog.toml`` and bound to their
checks by :mod:`rules.catalog`; :mod:`rules.engine` turns each into a ``pulumi_policy``
policy and runs it (exemptions: :mod:`rules.exemptions`; what a check sees:
:mod:`rules.context`).

Enforcement levels are not set here: the pack is advisory by default and each
environment's config file (``policy/config/<env>.json``) raises the level per severity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import Severity

from rules.checks import customer_managed_key, fmt
from rules.context import StackContext, Subject, inputs
from rules.exemptions import (
    EXEMPTED_PREFIX,
    Exemption,
    load_exemptions,
    pattern_problem,
    unknown_settings,
)
from rules.settings import (
    DEFAULT_MAX_EXEMPTION_DAYS,
    EVERY_RULE,
    EXEMPTIONS_SCHEMA,
    MAX_EXEMPTION_DAYS_SCHEMA,
    STRICT_MAX_EXEMPTION_DAYS,
)

__all__ = [
    "DEFAULT_MAX_EXEMPTION_DAYS",
    "ENVIRONMENTS",
    "EXEMPTED_PREFIX",
    "EXEMPTIONS_SCHEMA",
    "MAX_EXEMPTION_DAYS_SCHEMA",
    "STRICT_MAX_EXEMPTION_DAYS",
    "Control",
    "Exemption",
    "Rule",
    "Severity",
    "StackContext",
    "Subject",
    "customer_managed_key",
    "enforcement_for",
    "fmt",
    "inputs",
    "iter_rules",
    "load_exemptions",
    "pattern_problem",
    "unknown_settings",
]

ENVIRONMENTS: tuple[str, ...] = ("dev", "test", "prod")

_MANDATORY_FROM: dict[str, frozenset[Severity]] = {
    "dev": frozenset({Severity.CRITICAL}),
    "test": frozenset({Severity.HIGH, Severity.CRITICAL}),
    "prod": frozenset(Severity),
}


def enforcement_for(severity: Severity, environment: str) -> str:
    """The enforcement level a rule of ``severity`` has in ``environment``."""
    return "mandatory" if severity in _MANDATORY_FROM[environment] else "advisory"


_FRAMEWORKS: tuple[tuple[str, str, str], ...] = (
    # (prefix in the catalog, framework name, version)
    ("CKV", "checkov", ""),
    ("FSBP", "AWS Foundational Security Best Practices", ""),
    ("CIS", "CIS Amazon EKS Benchmark", "1.7.0"),
    ("AWSGuard", "AWSGuard (pulumi-policy-aws)", ""),
    ("Kyverno", "Kyverno policies", ""),
    ("Gatekeeper", "Gatekeeper library", ""),
    ("Compliance-ready", "Pulumi compliance-ready policies", ""),
    ("MLOPS", "MLOps platform policy catalog", "1"),
)


@dataclass(frozen=True)
class Control:
    """One control of one framework, e.g. ``FSBP S3.8`` or ``CKV_AWS_53``."""

    framework: str
    version: str
    id: str

    @classmethod
    def parse(cls, text: str) -> Control:
        """``"CKV_AWS_53"``, ``"FSBP S3.8"``, ``"CIS 5.4.1"``, ``"MLOPS 63"``, ..."""
        for prefix, name, version in _FRAMEWORKS:
            if text.startswith(prefix):
                ident = text if prefix == "CKV" else text[len(prefix) :].strip()
                return cls(name, version, ident)
        raise ValueError(f"unknown framework in control reference {text!r}")

    def __str__(self) -> str:
        short = next(p for p, n, _ in _FRAMEWORKS if n == self.framework)
        return self.id if short == "CKV" else f"{short} {self.id}"


ResourceCheck = Callable[[Subject, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[StackContext, Mapping[str, Any]], Iterable[tuple[str | None, str]]]


@dataclass(frozen=True)
class Rule:
    """One rule of the pack and everything a reviewer needs to know about it."""

    id: str
    """Short stable ID, e.g. ``S3-001``."""
    name: str
    """Stable kebab-case policy name (what the engine and config files use)."""
    severity: Severity
    description: str
    """One sentence: what compliant looks like."""
    remediation: str
    """How to fix it, with the Pulumi-Python snippet."""
    controls: tuple[str, ...]
    """Control IDs as the catalog cites them (``CKV_AWS_53``, ``FSBP S3.8``, ``CIS 5.4.1``)."""
    catalog: tuple[int, ...]
    """Rows of the policy catalog this rule implements."""
    resource_check: ResourceCheck | None = None
    resource_types: tuple[str, ...] = ()
    """Types a resource rule checks (all when empty and no ``type_filter``)."""
    type_filter: Callable[[str], bool] | None = None
    """Alternatively, a predicate on the type token (e.g. every version of a kind)."""
    stack_check: StackCheck | None = None
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Config schema properties (JSON schema), each with a ``default`` and a description."""
    limits: str = ""
    """What this rule cannot see from inputs (shown in the reference)."""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", self.name):
            raise ValueError(f"rule name {self.name!r} is not kebab-case")
        if (self.resource_check is None) == (self.stack_check is None):
            raise ValueError(f"rule {self.name}: give exactly one of resource_check/stack_check")
        for ref in self.controls:
            Control.parse(ref)

    def applies(self, resource_type: str) -> bool:
        """Whether this resource rule checks resources of ``resource_type``."""
        if self.type_filter is not None:
            return self.type_filter(resource_type)
        return not self.resource_types or resource_type in self.resource_types

    @property
    def kind(self) -> str:
        """``resource`` or ``stack``."""
        return "resource" if self.resource_check is not None else "stack"

    @property
    def parsed_controls(self) -> list[Control]:
        """The control references, parsed."""
        return [Control.parse(c) for c in self.controls]

    def schema(self) -> dict[str, dict[str, Any]]:
        """The full config schema: the rule's own properties plus ``exemptions`` and
        ``maxExemptionDays``."""
        return {**{k: dict(v) for k, v in self.config.items()}, **EVERY_RULE}

    def settings(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with the default of every setting it leaves out, as the Pulumi CLI
        fills them in: what the check reads (``cfg["minRetentionDays"]``)."""
        return {**{k: v.get("default") for k, v in self.config.items()}, **config}


def iter_rules(*modules: Any) -> Iterator[Rule]:
    """Every ``Rule`` in each module's ``RULES`` list."""
    for module in modules:
        yield from module.RULES


_MOVED_TO_ENGINE = frozenset(
    {
        "EXEMPTIONS_RULE_NAME",
        "exemptions_rule",
        "install_config_hook",
        "install_dispatch",
        "run_resource",
        "run_stack",
        "to_policy",
    }
)


def __getattr__(name: str) -> Any:
    """The engine's names, still importable from here (``from rules.rule import
    to_policy``); imported on first use, since the engine itself builds on this module."""
    if name in _MOVED_TO_ENGINE:
        from rules import engine  # noqa: PLC0415

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
