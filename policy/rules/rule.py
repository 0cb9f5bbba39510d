"""The shared rule metadata helper: every rule in the pack is a :class:`Rule`.

A rule carries a stable short ID and kebab-case name, a severity, a description, a
remediation that shows the Pulumi-Python fix, the control IDs it implements (CIS EKS, AWS
FSBP, checkov, ...), the policy-catalog rows it covers, its config schema (with defaults the
CLI fills in), and a check. :func:`to_policy` turns it into a ``pulumi_policy`` policy whose
validation

- reports one violation per finding the check yields,
- suppresses findings covered by a valid exemption and says why (the policy is reported
  "not applicable" with the exemption's owner, expiry and reason),
- reports an expired exemption as a violation of the rule it exempted (on each resource it
  matches; a resource rule's expired exemption that matches no resource, and every problem
  with a resource rule's exemptions or settings, is reported once per stack by the single
  ``exemptions-valid`` stack policy, see :func:`exemptions_rule`), and
- never turns an unknown (preview-time) value into a violation: the first unknown stops the
  check and is handed to ``pulumi_policy``, which reports it as advisory.

Enforcement levels are not set here: the pack is advisory by default and each
environment's config file (``policy/config/<env>.json``) raises the level per severity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from typing import Any

from google.protobuf import json_format
from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import policy as engine
from pulumi_policy.proxy import UnknownValueError

EXEMPTED_PREFIX = "exempted: "
"""Prefix of the not-applicable reason that carries suppressed findings (JSON follows)."""

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


ResourceCheck = Callable[[ResourceValidationArgs, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[["StackContext", Mapping[str, Any]], Iterable[tuple[str | None, str]]]


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
        return {
            **{k: dict(v) for k, v in self.config.items()},
            "exemptions": EXEMPTIONS_SCHEMA,
            "maxExemptionDays": MAX_EXEMPTION_DAYS_SCHEMA,
        }


# --- exemptions -------------------------------------------------------------------------

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

MAX_EXEMPTION_DAYS_SCHEMA: dict[str, Any] = {
    "type": "integer",
    "minimum": 1,
    "maximum": 366,
    "default": DEFAULT_MAX_EXEMPTION_DAYS,
    "description": "Most days ahead of today an exemption of this rule may expire; a later "
    "expiry is rejected (reported as a violation, suppresses nothing).",
}

_TYPE_TOKEN = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9._/-]*:[A-Za-z0-9_]+")
_WILDCARDS = set("*?[]!")


def pattern_problem(pattern: str) -> str | None:
    """Why an exemption's URN pattern is not specific enough (None when it is): it must end
    in ``::<type>::<name>`` with a literal type token and a name that is not only
    wildcards."""
    parts = pattern.split("::")
    if len(parts) < 3:
        return "must end in ::<type>::<name> (e.g. *::aws:s3/bucket:Bucket::models)"
    type_part, name = parts[-2], parts[-1]
    token = type_part.lstrip("*").rsplit("$", 1)[-1]
    if not _TYPE_TOKEN.fullmatch(token):
        return f"its type part {type_part!r} is not a literal resource type"
    if not name or set(name) <= _WILDCARDS:
        return "its name part is only wildcards"
    return None


@dataclass(frozen=True)
class Exemption:
    """One accepted deviation from one rule."""

    rule: str
    urn: str
    owner: str
    reason: str
    expires: date

    def matches(self, urn: str) -> bool:
        """Whether this exemption's URN pattern covers ``urn``."""
        return fnmatchcase(urn, self.urn)

    def expired(self, today: date) -> bool:
        """True once the expiry day has passed."""
        return today > self.expires

    def describe(self) -> dict[str, str]:
        """The JSON form shown with a suppressed finding."""
        return {
            "rule": self.rule,
            "pattern": self.urn,
            "owner": self.owner,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
        }


def load_exemptions(
    rule: str, config: Mapping[str, Any], today: date | None = None
) -> tuple[list[Exemption], list[str]]:
    """The rule's usable exemptions and the problems found in them (each problem is a
    violation): malformed entries, entries for another rule, URN patterns that are not
    specific, and expiries beyond the rule's ``maxExemptionDays`` cap."""
    found: list[Exemption] = []
    problems: list[str] = []
    today = today or _today()
    cap = config.get("maxExemptionDays", DEFAULT_MAX_EXEMPTION_DAYS)
    cap = int(cap) if isinstance(cap, int | float) else DEFAULT_MAX_EXEMPTION_DAYS
    for raw in config.get("exemptions") or []:
        try:
            named = str(raw.get("rule") or rule)
            expires = date.fromisoformat(str(raw["expires"]))
            entry = Exemption(
                named, str(raw["urn"]), str(raw["owner"]), str(raw["reason"]), expires
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            problems.append(f"invalid exemption {json.dumps(_plain(raw))}: {exc}")
            continue
        if named != rule:
            problems.append(
                f"exemption for {entry.urn} names rule {named!r} but sits under {rule!r}"
            )
            continue
        why = pattern_problem(entry.urn)
        if why is not None:
            problems.append(f"exemption pattern {entry.urn!r} is not specific: {why}")
            continue
        if (entry.expires - today).days > cap:
            problems.append(
                f"exemption for {entry.urn} (owner {entry.owner}) expires "
                f"{entry.expires.isoformat()}, more than {cap} days ahead; exemptions of this "
                "rule are capped at maxExemptionDays"
            )
            continue
        found.append(entry)
    return found, problems


def unknown_settings(rule: Rule, config: Mapping[str, Any]) -> list[str]:
    """A problem per config key the rule does not define: a typo must not silently fall
    back to the default (the offline runner rejects these up front; under the Pulumi CLI,
    whose schema carries no additionalProperties, they are reported here)."""
    known = set(rule.schema())
    return [
        f"unknown setting {key!r} in this rule's config (known: {', '.join(sorted(known))})"
        for key in config
        if key not in known and key != "enforcementLevel"
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value


def _today() -> date:
    return datetime.now(UTC).date()


def _expired_message(ex: Exemption) -> str:
    return (
        f"expired exemption: the exemption for {ex.urn} (owner {ex.owner}) ended on "
        f"{ex.expires.isoformat()}; fix the finding or renew the exemption with a new reason "
        f"(was: {ex.reason})"
    )


# --- building pulumi_policy policies ----------------------------------------------------


def to_policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    """The ``pulumi_policy`` policy for ``rule`` (advisory unless configured otherwise)."""
    controls = rule.parsed_controls
    primary = controls[0]
    framework = PolicyComplianceFramework(
        name=primary.framework,
        version=primary.version or None,
        reference="; ".join(str(c) for c in controls),
        specification="policy catalog row(s) " + ", ".join(str(r) for r in rule.catalog),
    )
    common: dict[str, Any] = {
        "name": rule.name,
        "description": rule.description,
        "display_name": f"{rule.id} {rule.name}",
        "severity": rule.severity,
        "framework": framework,
        "tags": [f"id:{rule.id}", *(str(c) for c in controls)],
        "remediation_steps": rule.remediation,
        "config_schema": PolicyConfigSchema(properties=rule.schema()),
    }
    if rule.resource_check is not None:
        return ResourceValidationPolicy(validate=_resource_validation(rule), **common)
    return StackValidationPolicy(validate=_stack_validation(rule), **common)


def _report_suppressed(args: Any, suppressed: list[dict[str, str]]) -> None:
    if suppressed:
        args.not_applicable(EXEMPTED_PREFIX + json.dumps(suppressed, sort_keys=True))


def _resource_validation(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    check = rule.resource_check
    assert check is not None
    types = frozenset(rule.resource_types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if types and args.resource_type not in types:
            return
        config = args.get_config()
        today = _today()
        # Problems, and expired exemptions no resource matches, are reported once per stack
        # by the exemptions-valid rule; an expired exemption that matches this resource is a
        # violation of this rule, here, whether or not the finding is still there.
        exemptions, _ = load_exemptions(rule.name, config, today)
        matching = [ex for ex in exemptions if ex.matches(args.urn)]
        for ex in matching:
            if ex.expired(today):
                report(_expired_message(ex), None)
        active = [ex for ex in matching if not ex.expired(today)]
        suppressed: list[dict[str, str]] = []
        # An unknown value raises out of the check: pulumi_policy reports it as advisory,
        # and the findings already reported from known values stand.
        for message in check(args, config):
            if active:
                suppressed.append({"urn": args.urn, "message": message, **active[0].describe()})
            else:
                report(message, None)
        _report_suppressed(args, suppressed)

    return validate


EXEMPTIONS_RULE_NAME = "exemptions-valid"

_PACK_CONFIG: dict[str, Mapping[str, Any]] = {}
"""Every policy's config as the engine last sent it (``Configure``), for the
exemptions-valid rule; replaced, never merged, on each ``Configure``."""

_DISABLED: set[str] = set()
"""Policies the last ``Configure`` disabled (their exemptions are not audited)."""


def install_config_hook() -> None:
    """Make the pack remember the whole policy config it is configured with.

    ``pulumi_policy`` hands each policy only its own config; the exemptions-valid rule
    audits every resource rule's exemptions from one stack policy, so the pack keeps a copy
    of what ``Configure`` delivers (the same dicts each policy's ``get_config`` returns)."""
    servicer = engine._PolicyAnalyzerServicer  # pyright: ignore[reportPrivateUsage]
    if getattr(servicer, "_mlops_config_hook", False):
        return
    original = servicer.Configure

    def configure(self: Any, request: Any, context: Any) -> Any:
        configs: dict[str, Mapping[str, Any]] = {}
        disabled: set[str] = set()
        for name in request.policyConfig:
            entry = request.policyConfig[name]
            configs[name] = json_format.MessageToDict(entry.properties)
            if self._convert_enforcement_level(entry.enforcementLevel) == (
                engine.EnforcementLevel.DISABLED
            ):
                disabled.add(name)
        _PACK_CONFIG.clear()
        _PACK_CONFIG.update(configs)
        _DISABLED.clear()
        _DISABLED.update(disabled)
        return original(self, request, context)

    setattr(servicer, "Configure", configure)  # noqa: B010
    setattr(servicer, "_mlops_config_hook", True)  # noqa: B010


def exemptions_rule(rules: Sequence[Rule]) -> Rule:
    """The one stack rule that audits every resource rule's exemptions."""
    audited = [r for r in rules if r.kind == "resource"]

    def audit(context: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
        today = _today()
        for rule in audited:
            if rule.name in _DISABLED:
                continue
            config = _PACK_CONFIG.get(rule.name) or {}
            exemptions, problems = load_exemptions(rule.name, config, today)
            for problem in [*unknown_settings(rule, config), *problems]:
                yield None, f"{rule.name}: {problem}"
            types = frozenset(rule.resource_types)
            for ex in exemptions:
                if ex.expired(today) and not any(
                    (not types or r.resource_type in types) and ex.matches(r.urn)
                    for r in context.resources
                ):
                    yield None, f"{rule.name}: {_expired_message(ex)} (it matches no resource)"

    return Rule(
        id="EXM-001",
        name=EXEMPTIONS_RULE_NAME,
        severity=Severity.HIGH,
        description="Every resource rule's exemptions are usable: well-formed, naming their "
        "rule, with a specific URN pattern, an expiry within the rule's maxExemptionDays, no "
        "unknown config settings, and no expired exemption left that matches no resource. "
        "One stack policy audits all resource rules, reading each rule's own config (the pack "
        "keeps the config the engine sends); an expired exemption that still matches a "
        "resource is reported by its own rule, on that resource. Stack rules audit their own "
        "exemptions.",
        remediation="Fix or remove the entry under the rule named in the message in "
        "policy/config/<env>.json, e.g. "
        '"s3-versioning": {"exemptions": [{"urn": "*::aws:s3/bucket:Bucket::models", '
        '"owner": "ml-platform-team", "reason": "...", "expires": "YYYY-MM-DD"}]}',
        controls=("MLOPS exemptions",),
        catalog=(),
        stack_check=audit,
        limits="A problem is reported under this rule, not the rule it concerns (the message "
        "names that rule), so its enforcement follows this rule's severity (high).",
    )


class StackContext:
    """What a stack check sees: the resources, lookups, and an unknown-value guard."""

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = list(resources)
        self.unknowns: list[UnknownValueError] = []

    def of_type(self, *types: str) -> list[PolicyResource]:
        """Resources of any of ``types``."""
        wanted = set(types)
        return [r for r in self.resources if r.resource_type in wanted]

    def per_resource(
        self,
        resources: Iterable[PolicyResource],
        check: Callable[[PolicyResource], Iterable[tuple[str | None, str]]],
    ) -> Iterator[tuple[str | None, str]]:
        """``check`` for each resource; a resource whose check meets an unknown value is
        skipped (remembered), so an unknown never turns into a violation."""
        for resource in resources:
            try:
                found = list(check(resource))
            except UnknownValueError as exc:
                self.unknowns.append(exc)
                continue
            yield from found

    def guard(self, fn: Callable[[], Any], default: Any = None) -> Any:
        """``fn()``, or ``default`` when it touches an unknown value (remembered)."""
        try:
            return fn()
        except UnknownValueError as exc:
            self.unknowns.append(exc)
            return default

    def linked(
        self,
        target: PolicyResource,
        candidates: Iterable[PolicyResource],
        prop: str,
        target_props: Sequence[str] = (),
    ) -> list[PolicyResource]:
        """Candidates whose ``prop`` refers to ``target``: by property dependency, or by
        value equal to one of the target's ``target_props`` inputs (e.g. its name)."""
        names = set()
        for key in target_props:
            value = self.guard(lambda key=key: target.props.get(key))
            if isinstance(value, str) and value:
                names.add(value)
        found = []
        for c in candidates:
            deps = c.property_dependencies.get(prop, [])
            if any(d.urn == target.urn for d in deps):
                found.append(c)
                continue
            value = self.guard(lambda c=c: c.props.get(prop))
            if isinstance(value, str) and value in names:
                found.append(c)
        return found


def _stack_validation(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    check = rule.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        config = args.get_config()
        today = _today()
        exemptions, problems = load_exemptions(rule.name, config, today)
        for problem in [*unknown_settings(rule, config), *problems]:
            report(problem, None)
        active = []
        for ex in exemptions:
            if ex.expired(today):
                report(_expired_message(ex), None)
            else:
                active.append(ex)
        context = StackContext(args.resources)
        suppressed: list[dict[str, str]] = []
        for urn, message in check(context, config):
            ex = next((e for e in active if urn and e.matches(urn)), None)
            if ex is not None and urn:
                suppressed.append({"urn": urn, "message": message, **ex.describe()})
            else:
                report(message, urn)
        if context.unknowns:
            # Resources with unknown values were skipped; say so the way pulumi_policy does
            # (an advisory "can't run during preview" diagnostic), after the known findings.
            raise context.unknowns[0]
        _report_suppressed(args, suppressed)

    return validate


# --- property helpers -------------------------------------------------------------------


def dig(value: Any, *path: str | int, default: Any = None) -> Any:
    """``value[p0][p1]...`` through dicts and lists, or ``default`` when a step is missing."""
    for step in path:
        if isinstance(step, int):
            if isinstance(value, Sequence) and not isinstance(value, str) and len(value) > step:
                value = value[step]
            else:
                return default
        elif isinstance(value, Mapping) and step in value:
            value = value[step]
        else:
            return default
    return default if value is None else value


def items(value: Any) -> list[Any]:
    """A list input as a list (missing -> empty)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def truthy(value: Any) -> bool:
    """Booleans as the AWS schemas carry them: true or the string "true"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def as_number(value: Any) -> float | None:
    """Numbers arrive as floats (or strings in some schemas); None when not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def fmt(number: float) -> str:
    """A wire number as people write it (``7`` not ``7.0``)."""
    return str(int(number)) if float(number).is_integer() else str(number)


def iter_rules(*modules: Any) -> Iterator[Rule]:
    """Every ``Rule`` in each module's ``RULES`` list."""
    for module in modules:
        yield from module.RULES
