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
from typing import Any, cast

from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
    proxy,
)
from pulumi_policy import policy as engine
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError

from rules import read
from rules.read import Node

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


ResourceCheck = Callable[["Subject", Mapping[str, Any]], Iterable[str]]
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
    _RULES[rule.name] = rule
    if rule.resource_check is not None:
        return ResourceValidationPolicy(validate=_resource_validation(rule), **common)
    return StackValidationPolicy(validate=_stack_validation(rule), **common)


@dataclass
class Subject:
    """What a resource check sees: the resource's type, inputs (a :class:`read.Node`), URN,
    name, options and provider (its inputs a node too)."""

    resource_type: str
    props: Node
    urn: str
    name: str
    opts: Any
    provider: Any = None


_RULES: dict[str, Rule] = {}
"""Policy name -> rule, for the pack's own dispatcher."""


def _emit(
    message: str,
    urn: str | None,
    active: Sequence[Exemption],
    report: ReportViolation,
    suppressed: list[dict[str, str]],
) -> None:
    ex = next((e for e in active if urn and e.matches(urn)), None)
    if ex is not None and urn:
        suppressed.append({"urn": urn, "message": message, **ex.describe()})
    else:
        report(message, urn)


def run_resource(
    rule: Rule, subject: Subject, config: Mapping[str, Any], report: ReportViolation
) -> list[dict[str, str]]:
    """Run a resource rule on one resource: its findings (reported, or returned as
    suppressed by an active exemption), expired exemptions that match it, and the reading
    problems it met. An unknown value (during preview) propagates as UnknownValueError after
    the findings already made are reported."""
    check = rule.resource_check
    assert check is not None
    today = _today()
    # Problems, and expired exemptions no resource matches, are reported once per stack by
    # the exemptions-valid rule; an expired exemption that matches this resource is a
    # violation of this rule, here, whether or not the finding is still there.
    exemptions, _ = load_exemptions(rule.name, config, today)
    matching = [ex for ex in exemptions if ex.matches(subject.urn)]
    for ex in matching:
        if ex.expired(today):
            report(_expired_message(ex), None)
    active = [ex for ex in matching if not ex.expired(today)]
    suppressed: list[dict[str, str]] = []
    seen: set[str] = set()
    token = read.begin()
    try:
        for message in check(subject, config):
            if message not in seen:
                seen.add(message)
                _emit(message, subject.urn, active, report, suppressed)
    except read.UnknownInUpdate:
        pass  # recorded as a reading problem: reported below
    finally:
        for _, message in read.end(token).by_urn():
            if message not in seen:
                seen.add(message)
                _emit(message, subject.urn, active, report, suppressed)
    return suppressed


def _suppressed_reason(suppressed: list[dict[str, str]]) -> str:
    return EXEMPTED_PREFIX + json.dumps(suppressed, sort_keys=True)


def _unproxy(value: Any) -> Any:
    """Plain values from ``pulumi_policy``'s unknown-checking proxies (sentinels kept)."""
    if isinstance(value, proxy._DictProxy):  # pyright: ignore[reportPrivateUsage]
        return {k: _unproxy(v) for k, v in value["__target"].items()}
    if isinstance(value, proxy._ListProxy):  # pyright: ignore[reportPrivateUsage]
        return [_unproxy(v) for v in value["__target"]]
    if isinstance(value, Mapping):
        return {k: _unproxy(value[k]) for k in value}
    return value


def _sdk_provider(provider: Any) -> Any:
    if provider is None:
        return None
    return PolicyProviderResource(
        provider.resource_type,
        cast(Any, read.root(_unproxy(provider.props), provider.urn)),
        provider.urn,
        provider.name,
    )


def _resource_validation(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """The SDK-facing validate (used only if the SDK dispatches instead of the pack)."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not rule.applies(args.resource_type):
            return
        subject = Subject(
            args.resource_type,
            read.root(_unproxy(args.props), args.urn),
            args.urn,
            args.name,
            args.opts,
            _sdk_provider(args.provider),
        )
        suppressed = run_resource(rule, subject, args.get_config(), report)
        if suppressed:
            args.not_applicable(_suppressed_reason(suppressed))

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
            for ex in exemptions:
                if ex.expired(today) and not any(
                    rule.applies(r.resource_type) and ex.matches(r.urn) for r in context.resources
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
    """What a stack check sees: the resources (inputs as :class:`read.Node`), lookups, and
    an unknown-value guard."""

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = list(resources)
        self.unknowns: list[UnknownValueError] = []
        self._by_type: dict[str, list[PolicyResource]] = {}
        for r in self.resources:
            self._by_type.setdefault(r.resource_type, []).append(r)

    def of_type(self, *types: str) -> list[PolicyResource]:
        """Resources of any of ``types``."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], []))
        wanted = set(types)
        return [r for r in self.resources if r.resource_type in wanted]

    def matching(self, predicate: Callable[[str], bool]) -> list[PolicyResource]:
        """Resources whose type satisfies ``predicate``."""
        return [r for t, rs in self._by_type.items() if predicate(t) for r in rs]

    def per_resource(
        self,
        resources: Iterable[PolicyResource],
        check: Callable[[PolicyResource], Iterable[tuple[str | None, str]]],
    ) -> Iterator[tuple[str | None, str]]:
        """``check`` for each resource; a resource whose check meets an unknown value (in a
        preview) is skipped (remembered), so an unknown never turns into a violation."""
        for resource in resources:
            try:
                found = list(check(resource))
            except UnknownValueError as exc:
                self.unknowns.append(exc)
                continue
            except read.UnknownInUpdate:
                continue  # recorded as a reading problem on that resource
            yield from found

    def guard(self, fn: Callable[[], Any], default: Any = None) -> Any:
        """``fn()``, or ``default`` when it touches an unknown value in a preview
        (remembered)."""
        try:
            return fn()
        except UnknownValueError as exc:
            self.unknowns.append(exc)
            return default
        except read.UnknownInUpdate:
            return default  # recorded as a reading problem on that resource

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
            value = self.guard(lambda key=key: target.props[key].text())
            if isinstance(value, str) and value:
                names.add(value)
        found = []
        for c in candidates:
            deps = c.property_dependencies.get(prop, [])
            if any(d.urn == target.urn for d in deps):
                found.append(c)
                continue
            if not names:
                continue
            value = self.guard(lambda c=c: c.props[prop].text())
            if isinstance(value, str) and value in names:
                found.append(c)
        return found


def run_stack(
    rule: Rule,
    resources: Sequence[PolicyResource],
    config: Mapping[str, Any],
    report: ReportViolation,
) -> list[dict[str, str]]:
    """Run a stack rule: its own config problems and expired exemptions, its findings
    (suppressed by matching active exemptions), and the reading problems it met (on the
    resource concerned). Raises the first UnknownValueError met (a preview) at the end."""
    check = rule.stack_check
    assert check is not None
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
    context = StackContext(resources)
    suppressed: list[dict[str, str]] = []
    seen: set[tuple[str | None, str]] = set()
    token = read.begin()
    try:
        for urn, message in check(context, config):
            if (urn, message) not in seen:
                seen.add((urn, message))
                _emit(message, urn, active, report, suppressed)
    except read.UnknownInUpdate:
        pass  # recorded as a reading problem: reported below
    finally:
        for urn, message in read.end(token).by_urn():
            if (urn or None, message) not in seen:
                seen.add((urn or None, message))
                _emit(message, urn or None, active, report, suppressed)
    if context.unknowns:
        # Resources with unknown values were skipped; say so the way pulumi_policy does
        # (an advisory "can't run during preview" diagnostic), after the known findings.
        raise context.unknowns[0]
    return suppressed


def _stack_validation(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    """The SDK-facing validate (used only if the SDK dispatches instead of the pack)."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            PolicyResource(
                r.resource_type,
                cast(Any, read.root(_unproxy(r.props), r.urn)),
                r.urn,
                r.name,
                r.opts,
                _sdk_provider(r.provider),
                r.parent,
                r.dependencies,
                r.property_dependencies,
            )
            for r in args.resources
        ]
        suppressed = run_stack(rule, resources, args.get_config(), report)
        if suppressed:
            args.not_applicable(_suppressed_reason(suppressed))

    return validate


def inputs(resource: PolicyResource) -> Node:
    """A stack resource's inputs as the reading layer's node (the pack builds every
    ``PolicyResource`` it hands to stack rules with a :class:`read.Node`)."""
    props: Any = resource.props
    return props if isinstance(props, Node) else read.root(_unproxy(props), resource.urn)


# --- the pack's own dispatcher ------------------------------------------------------------


def _plain_properties(struct: Any) -> dict[str, Any]:
    """A protobuf Struct of inputs as plain Python values, secrets unwrapped (the engine's
    wire form; assets and archives as the SDK deserialises them)."""
    return deserialize_properties(json_format.MessageToDict(struct))


def _provider_of(request: Any) -> Any:
    if not request.HasField("provider"):
        return None
    prov = request.provider
    return PolicyProviderResource(
        prov.type,
        cast(Any, read.root(_plain_properties(prov.properties), prov.urn)),
        prov.urn,
        prov.name,
    )


def _cant_run(servicer: Any, policy: Any, exc: UnknownValueError) -> Any:
    name = servicer._PolicyAnalyzerServicer__policy_pack_name
    version = servicer._PolicyAnalyzerServicer__policy_pack_version
    return analyzer_pb2.AnalyzeDiagnostic(
        policyName=policy.name,
        policyPackName=name,
        policyPackVersion=version,
        message=(
            f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during "
            f"preview: {exc.message}"
        ),
        urn="",
        description=policy.description,
        enforcementLevel=servicer._map_enforcement_level(EnforcementLevel.ADVISORY),
    )


def _active_policies(servicer: Any, kind: type) -> Iterator[tuple[Any, Rule, Any]]:
    """(policy, rule, enforcement level) of the pack's enabled policies of ``kind``."""
    for policy in servicer._PolicyAnalyzerServicer__policies:
        if not isinstance(policy, kind):
            continue
        level = servicer._get_enforcement_level(policy)
        if level == EnforcementLevel.DISABLED:
            continue
        if level == EnforcementLevel.REMEDIATE:
            level = EnforcementLevel.MANDATORY
        rule = _RULES.get(policy.name)
        if rule is not None:
            yield policy, rule, level


def _run_policy(
    servicer: Any,
    response: Any,
    policy: Any,
    level: Any,
    run: Callable[[Mapping[str, Any], ReportViolation], list[dict[str, str]]],
) -> None:
    """One policy's run into ``response``, as the SDK reports it: its findings, the advisory
    "can't run during preview" on an unknown value, and suppressed findings as not
    applicable."""
    report = servicer._create_report_violation(
        response, policy.name, policy.description, level, policy.severity
    )
    config = servicer._get_policy_config(policy.name) or {}
    try:
        suppressed = run(config, report)
    except UnknownValueError as exc:
        response.diagnostics.append(_cant_run(servicer, policy, exc))
        return
    if suppressed:
        response.not_applicable.append(
            analyzer_pb2.PolicyNotApplicable(
                policy_name=policy.name, reason=_suppressed_reason(suppressed)
            )
        )


def install_dispatch() -> None:
    """Make the pack dispatch its own rules: each resource's inputs are deserialised once
    per Analyze (and once per AnalyzeStack) and shared by every rule, instead of once per
    rule as ``pulumi_policy`` does; and remember whether the engine runs a preview
    (``ConfigureStack.dry_run``). Findings, enforcement levels, not-applicable reasons and
    the advisory "can't run during preview" diagnostic are exactly the SDK's."""
    servicer = engine._PolicyAnalyzerServicer  # pyright: ignore[reportPrivateUsage]
    if getattr(servicer, "_mlops_dispatch", False):
        return
    original_configure_stack = servicer.ConfigureStack

    def configure_stack(self: Any, request: Any, context: Any) -> Any:
        read.Mode.configured = bool(request.dry_run)
        return original_configure_stack(self, request, context)

    def analyze(self: Any, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = analyzer_pb2.AnalyzeResponse()
        subject: Subject | None = None
        for policy, rule, level in _active_policies(self, ResourceValidationPolicy):
            if not rule.applies(request.type):
                continue
            if subject is None:
                subject = Subject(
                    request.type,
                    read.root(_plain_properties(request.properties), request.urn),
                    request.urn,
                    request.name,
                    self._get_resource_options(request),
                    _provider_of(request),
                )
            _run_policy(
                self,
                response,
                policy,
                level,
                lambda c, r, s=subject, rule=rule: run_resource(rule, s, c, r),
            )
        return response

    def analyze_stack(self: Any, request: Any, _context: Any) -> Any:
        self._configure_runtime_settings()
        response = analyzer_pb2.AnalyzeResponse()
        active = list(_active_policies(self, StackValidationPolicy))
        if not active:
            return response
        by_urn: dict[str, PolicyResource] = {}
        pending = []
        for r in request.resources:
            resource = PolicyResource(
                r.type,
                cast(Any, read.root(_plain_properties(r.properties), r.urn)),
                r.urn,
                r.name,
                self._get_resource_options(r),
                _provider_of(r),
                None,
                [],
                {},
            )
            by_urn[r.urn] = resource
            pending.append((resource, r))
        for resource, r in pending:
            resource.parent = by_urn.get(r.parent) if r.parent else None
            resource.dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
            resource.property_dependencies = {
                k: [by_urn[d] for d in v.urns if d in by_urn]
                for k, v in r.propertyDependencies.items()
            }
        resources = [resource for resource, _ in pending]
        for policy, rule, level in active:
            _run_policy(
                self,
                response,
                policy,
                level,
                lambda c, r, rule=rule: run_stack(rule, resources, c, r),
            )
        return response

    setattr(servicer, "ConfigureStack", configure_stack)  # noqa: B010
    setattr(servicer, "Analyze", analyze)  # noqa: B010
    setattr(servicer, "AnalyzeStack", analyze_stack)  # noqa: B010
    setattr(servicer, "_mlops_dispatch", True)  # noqa: B010


# --- helpers -------------------------------------------------------------------------------


def fmt(number: float) -> str:
    """A wire number as people write it (``7`` not ``7.0``)."""
    return str(int(number)) if float(number).is_integer() else str(number)


def iter_rules(*modules: Any) -> Iterator[Rule]:
    """Every ``Rule`` in each module's ``RULES`` list."""
    for module in modules:
        yield from module.RULES


_AWS_MANAGED_KEY = re.compile(r"(^|:)alias/aws/")


def customer_managed_key(key: str) -> bool:
    """Whether a KMS key reference names a customer managed key: not empty and not an AWS
    managed key alias (``alias/aws/s3``, ``arn:aws:kms:r:a:alias/aws/ecr``)."""
    text = key.strip()
    return bool(text) and not _AWS_MANAGED_KEY.search(text)
