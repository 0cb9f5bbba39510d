"""Running the rules: each :class:`~rules.rule.Rule` as a ``pulumi_policy`` policy whose
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

The pack also dispatches its own rules (:func:`install_dispatch`): each resource's inputs are
read once per analysis and shared by every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import policy as engine
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError

from rules import catalog, exemptions, read
from rules.context import StackContext, Subject, unproxy
from rules.exemptions import Exemption, load_exemptions, suppressed_reason, unknown_settings
from rules.rule import Rule

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


_RULES: dict[str, Rule] = {}
"""Policy name -> rule, for the pack's own dispatcher."""


# --- running one rule ----------------------------------------------------------------------


def _report(
    findings: Callable[[], Iterable[tuple[str | None, str]]],
    active: Sequence[Exemption],
    report: ReportViolation,
    at: str | None = None,
) -> list[dict[str, str]]:
    """Report each distinct finding of ``findings()`` (the check, run here, inside the
    reading layer's evaluation), or return it as suppressed when an active exemption
    matches its resource; then the reading problems the check met (on ``at``, else on the
    resource concerned). An unknown value (during preview) propagates as
    UnknownValueError after the findings already made are reported."""
    suppressed: list[dict[str, str]] = []
    seen: set[tuple[str | None, str]] = set()

    def emit(urn: str | None, message: str) -> None:
        if (urn, message) in seen:
            return
        seen.add((urn, message))
        ex = next((e for e in active if urn and e.matches(urn)), None)
        if ex is not None and urn:
            suppressed.append({"urn": urn, "message": message, **ex.describe()})
        else:
            report(message, urn)

    token = read.begin()
    try:
        for urn, message in findings():
            emit(urn, message)
    except read.UnknownInUpdate:
        pass  # recorded as a reading problem: reported below
    finally:
        for urn, message in read.end(token).by_urn():
            emit(at if at is not None else urn or None, message)
    return suppressed


def run_resource(
    rule: Rule, subject: Subject, config: Mapping[str, Any], report: ReportViolation
) -> list[dict[str, str]]:
    """Run a resource rule on one resource: its findings (reported, or returned as
    suppressed by an active exemption), expired exemptions that match it, and the reading
    problems it met. An unknown value (during preview) propagates as UnknownValueError after
    the findings already made are reported."""
    check = rule.resource_check
    assert check is not None
    today = exemptions.today()
    # Problems, and expired exemptions no resource matches, are reported once per stack by
    # the exemptions-valid rule; an expired exemption that matches this resource is a
    # violation of this rule, here, whether or not the finding is still there.
    found, _ = load_exemptions(rule.name, config, today)
    matching = [ex for ex in found if ex.matches(subject.urn)]
    for ex in matching:
        if ex.expired(today):
            report(ex.expired_message(), None)
    active = [ex for ex in matching if not ex.expired(today)]
    settings = rule.settings(config)

    def findings() -> Iterator[tuple[str | None, str]]:
        for message in check(subject, settings):
            yield subject.urn, message

    return _report(findings, active, report, at=subject.urn)


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
    today = exemptions.today()
    found, problems = load_exemptions(rule.name, config, today)
    for problem in [*unknown_settings(rule, config), *problems]:
        report(problem, None)
    active = []
    for ex in found:
        if ex.expired(today):
            report(ex.expired_message(), None)
        else:
            active.append(ex)
    context = StackContext(resources)
    settings = rule.settings(config)
    suppressed = _report(lambda: check(context, settings), active, report)
    if context.unknowns:
        # Resources with unknown values were skipped; say so the way pulumi_policy does
        # (an advisory "can't run during preview" diagnostic), after the known findings.
        raise context.unknowns[0]
    return suppressed


# --- the SDK-facing validations (used only if the SDK dispatches instead of the pack) ---


def _sdk_provider(provider: Any) -> Any:
    if provider is None:
        return None
    return PolicyProviderResource(
        provider.resource_type,
        cast(Any, read.root(unproxy(provider.props), provider.urn)),
        provider.urn,
        provider.name,
    )


def _resource_validation(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not rule.applies(args.resource_type):
            return
        subject = Subject(
            args.resource_type,
            read.root(unproxy(args.props), args.urn),
            args.urn,
            args.name,
            args.opts,
            _sdk_provider(args.provider),
        )
        suppressed = run_resource(rule, subject, args.get_config(), report)
        if suppressed:
            args.not_applicable(suppressed_reason(suppressed))

    return validate


def _stack_validation(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            PolicyResource(
                r.resource_type,
                cast(Any, read.root(unproxy(r.props), r.urn)),
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
            args.not_applicable(suppressed_reason(suppressed))

    return validate


# --- the exemption audit of every resource rule -------------------------------------------

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
    """The one stack rule (``exemptions-valid``) that audits every resource rule's
    exemptions and settings, reading each rule's own config (the pack keeps the config the
    engine sends)."""
    audited = [r for r in rules if r.kind == "resource"]

    def audit(context: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
        enabled = [r for r in audited if r.name not in _DISABLED]
        return exemptions.audit(enabled, _PACK_CONFIG, context.resources)

    made = catalog.rule("EXM-001", stack_check=audit)
    assert made.name == EXEMPTIONS_RULE_NAME
    return made


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
                policy_name=policy.name, reason=suppressed_reason(suppressed)
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
