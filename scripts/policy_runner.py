"""Offline policy evaluation: the real policy pack, driven over its real gRPC protocol.

    python -m scripts.policy_runner --stack prod                  # table per rule and resource
    python -m scripts.policy_runner --stack dev --format json     # machine-readable report
    python -m scripts.policy_runner --stack prod --format sarif --output policy.sarif
    python -m scripts.policy_runner --terraform-plan plan.json --environment prod

With ``--terraform-plan`` the resources come from a ``terraform show -json`` plan instead
of the program: each planned AWS resource in its Pulumi shape (``scripts.terraform_plan``),
named by its Terraform address; resources the pack cannot judge are listed as not evaluated.

The runner does what the Pulumi engine does with ``--policy-pack policy
--policy-pack-config policy/config/<env>.json``, with no CLI and no cloud:

1. starts ``python __main__.py`` inside ``policy/`` and reads the port it prints;
2. ``GetAnalyzerInfo``, then ``Configure`` with the environment's config file, after filling
   in each policy's config-schema defaults and validating the result, as the CLI does;
3. ``Analyze`` for every registered resource (type, inputs, URN, name, options, provider);
4. ``AnalyzeStack`` with every resource, its parent, dependencies and property dependencies.

Inputs go over the wire the way the engine sends them: numbers as doubles, secrets as
secret values, unknown (preview-time) values as the unknown sentinel, and resource
references replaced by the referenced resource's ID (custom) or URN (component).

Exit codes: 0 no mandatory violation; 1 at least one mandatory violation; 2 bad stack,
config, policy config or plan; 3 the program or the pack failed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import hashlib
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from scripts.offline import Recording, Registration
from scripts.offline.project import REPO_ROOT

POLICY_DIR = REPO_ROOT / "policy"
CONFIG_DIR = POLICY_DIR / "config"
ENVIRONMENTS: tuple[str, ...] = ("dev", "test", "prod")

EXIT_OK, EXIT_POLICY, EXIT_CONFIG, EXIT_FAILED = 0, 1, 2, 3
REPORT_SCHEMA_VERSION = 1

_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_EXEMPTED_PREFIX = "exempted: "
_UNKNOWN_PREFIX = "can't run policy"
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.max_send_message_length", 400 * 1024 * 1024),
]
_LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}
_LEVEL_CODES = {name: code for code, name in _LEVELS.items()}
_SEVERITIES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


class PolicyConfigError(Exception):
    """The policy config file is unreadable or does not match the pack's schemas."""


class AnalyzerError(Exception):
    """The policy pack did not start or failed while analyzing."""


# --- wire form ---------------------------------------------------------------------------


def wire_value(value: Any) -> Any:  # noqa: PLR0911 - one return per wire signature
    """A recorded input (protobuf JSON, signatures intact) as the engine sends it to an
    analyzer: resource references downgraded to ID/URN, output values unwrapped, secrets
    and unknowns kept."""
    if isinstance(value, list):
        return [wire_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG)
    if sig == _RESOURCE_SIG:
        rid = value.get("id")
        return rid if rid else value.get("urn", "")
    if sig == _OUTPUT_SIG:
        if "value" not in value:
            return UNKNOWN
        inner = wire_value(value["value"])
        return {_SIG: _SECRET_SIG, "value": inner} if value.get("secret") else inner
    if sig == _SECRET_SIG:
        return {_SIG: _SECRET_SIG, "value": wire_value(value.get("value"))}
    return {k: wire_value(v) for k, v in value.items()}


def wire_properties(obj: Mapping[str, Any] | None) -> struct_pb2.Struct:
    """The Struct an analyzer receives (internal ``__`` keys skipped, as the engine does)."""
    struct = struct_pb2.Struct()
    struct.update({k: wire_value(v) for k, v in (obj or {}).items() if not k.startswith("__")})
    return struct


def _seconds(duration: str | None) -> float:
    if not duration:
        return 0.0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    total, number = 0.0, ""
    for ch in duration:
        if ch.isdigit() or ch == ".":
            number += ch
        elif ch in units and number:
            total += float(number) * units[ch]
            number = ""
    return total


def _options(r: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    timeouts = r.custom_timeouts or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect,
        ignoreChanges=r.ignore_changes,
        deleteBeforeReplace=r.delete_before_replace,
        deleteBeforeReplaceDefined=bool(r.raw.get("deleteBeforeReplaceDefined", False)),
        additionalSecretOutputs=r.additional_secret_outputs,
        aliases=[a for a in r.aliases if isinstance(a, str)],
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=_seconds(timeouts.get("create")),
            update=_seconds(timeouts.get("update")),
            delete=_seconds(timeouts.get("delete")),
        ),
        parent=r.parent or "",
    )


def _provider(
    r: Registration, index: Mapping[str, Registration]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    if not r.provider:
        return None
    # A provider reference is "<provider urn>::<provider id>".
    found = index.get(r.provider) or index.get(r.provider.rsplit("::", 1)[0])
    if found is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=found.type,
        urn=found.urn,
        name=found.name,
        properties=wire_properties(found.raw.get("object")),
    )


def analyze_request(r: Registration, index: Mapping[str, Registration]) -> Any:
    """The ``AnalyzeRequest`` the engine sends for ``r``."""
    request = analyzer_pb2.AnalyzeRequest(
        type=r.type,
        urn=r.urn,
        name=r.name,
        properties=wire_properties(r.raw.get("object")),
        options=_options(r),
    )
    provider = _provider(r, index)
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


def stack_resource(r: Registration, index: Mapping[str, Registration]) -> Any:
    """The ``AnalyzerResource`` entry of ``r`` in ``AnalyzeStack``."""
    resource = analyzer_pb2.AnalyzerResource(
        type=r.type,
        urn=r.urn,
        name=r.name,
        properties=wire_properties(r.raw.get("object")),
        options=_options(r),
        parent=r.parent or "",
        dependencies=r.dependencies,
        propertyDependencies={
            k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
            for k, v in r.property_dependencies.items()
        },
    )
    provider = _provider(r, index)
    if provider is not None:
        resource.provider.CopyFrom(provider)
    return resource


# --- policy config, as the CLI reads it --------------------------------------------------


def read_policy_config(source: Path | Mapping[str, Any]) -> dict[str, tuple[str | None, dict]]:
    """A policy config file (or its parsed content): name -> (enforcement level, properties)."""
    if isinstance(source, Path):
        try:
            raw = json.loads(source.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError) as exc:
            raise PolicyConfigError(f"{source}: {exc}") from exc
    else:
        raw = dict(source)
    if not isinstance(raw, dict):
        raise PolicyConfigError("a policy config must be a JSON object")
    parsed: dict[str, tuple[str | None, dict]] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            level, props = value, {}
        elif isinstance(value, dict):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
        else:
            raise PolicyConfigError(f"{name}: must be an enforcement level or an object")
        if level is not None and level not in _LEVEL_CODES:
            raise PolicyConfigError(f"{name}: {level!r} is not a valid enforcement level")
        parsed[name] = (level, props)
    return parsed


def policy_schemas(info: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (default enforcement level, JSON schema of its config) from GetAnalyzerInfo."""
    out = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema)
        # Unknown settings are errors (a typo must not silently fall back to the default).
        full = {
            "type": "object",
            "properties": schema.get("properties", {}),
            "additionalProperties": False,
        }
        if schema.get("required"):
            full["required"] = schema["required"]
        out[policy.name] = (_LEVELS[policy.enforcementLevel], full)
    return out


def reconcile(
    info: Any,
    config: Mapping[str, tuple[str | None, dict]],
    schemas: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Defaults from each policy's schema, then ``all``, then per-policy values; validated
    against the schemas. Returns name -> PolicyConfig."""
    known = schemas if schemas is not None else policy_schemas(info)
    result: dict[str, tuple[str, dict]] = {}
    for name, (level, schema) in known.items():
        props = schema["properties"]
        result[name] = (level, {k: v["default"] for k, v in props.items() if "default" in v})
    unknown = sorted(set(config) - set(result) - {"all"})
    if unknown:
        raise PolicyConfigError(f"no such policies in the pack: {', '.join(unknown)}")
    all_level = config.get("all", (None, {}))[0]
    if all_level:
        result = {k: (all_level, props) for k, (_, props) in result.items()}
    for name, (level, props) in config.items():
        if name == "all":
            continue
        current_level, current = result[name]
        result[name] = (level or current_level, {**current, **props})
    import jsonschema  # noqa: PLC0415 - only needed once a config is applied

    errors = []
    for name, (_, props) in result.items():
        validator = jsonschema.Draft7Validator(known[name][1])
        errors += [
            f"{name}: {'.'.join(map(str, e.path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(props)
        ]
    if errors:
        raise PolicyConfigError("policy config does not match the pack:\n  " + "\n  ".join(errors))
    out = {}
    for name, (level, props) in result.items():
        struct = struct_pb2.Struct()
        struct.update(props)
        out[name] = analyzer_pb2.PolicyConfig(
            enforcementLevel=_LEVEL_CODES[level], properties=struct
        )
    return out


def config_path(environment: str) -> Path:
    """The environment's policy config file."""
    return CONFIG_DIR / f"{environment}.json"


# --- the analyzer process ------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyMeta:
    """What GetAnalyzerInfo says about one policy."""

    id: str
    name: str
    severity: str
    description: str
    remediation: str
    references: str
    level: str = "advisory"


@dataclass
class Finding:
    """One diagnostic (or suppressed finding) for one resource."""

    rule: str
    id: str
    severity: str
    enforcement: str
    """mandatory, advisory, or ``exempted`` for suppressed findings."""
    urn: str
    type: str
    resource: str
    message: str
    kind: str = "violation"
    """``violation``, ``unknown`` (not evaluable during preview) or ``exempted``."""
    exemption: dict[str, str] | None = None


class Analyzer:
    """The policy pack as a running analyzer plugin (use as a context manager)."""

    def __init__(
        self,
        policy_dir: Path = POLICY_DIR,
        python: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.policy_dir = policy_dir
        self.python = python or sys.executable
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.channel: grpc.Channel | None = None
        self.stub: Any = None
        self.info: Any = None
        self.policies: dict[str, PolicyMeta] = {}
        self.version = "0.0.0"
        self.configured_for: str | None = None
        self._schemas: dict[str, tuple[str, dict[str, Any]]] = {}
        self._requests: dict[str, Any] = {}
        self._configured_key: str | None = None

    def __enter__(self) -> Analyzer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        """Start ``python __main__.py`` in the pack's folder and connect to its port."""
        self.launch()
        self.connect()

    def launch(self) -> None:
        """Start the pack's process without waiting for it (so it can boot while the
        program is synthesized)."""
        if self._process is not None:
            return
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            [self.python, "__main__.py"],
            cwd=self.policy_dir,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env=env,
        )

    def connect(self) -> None:
        """Read the port the pack printed, connect, and fetch its metadata."""
        if self.stub is not None:
            return
        self.launch()
        port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_GRPC_OPTIONS)
        grpc.channel_ready_future(self.channel).result(timeout=self.startup_timeout)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        self.version = _pack_version(self.policy_dir) or self.info.version
        self._schemas = policy_schemas(self.info)
        for p in self.info.policies:
            tags = list(p.tags)
            ident = next((t[3:] for t in tags if t.startswith("id:")), p.name)
            self.policies[p.name] = PolicyMeta(
                id=ident,
                name=p.name,
                severity=_SEVERITIES.get(p.severity, ""),
                description=p.description,
                remediation=p.remediation_steps,
                references=p.framework.reference,
            )

    def _read_port(self) -> int:
        assert self._process is not None and self._process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self._process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                self._fail("did not print its port in time")
            chunk = self._process.stdout.read1(64)  # type: ignore[attr-defined]
            if not chunk:
                self._fail("exited before printing its port")
            line += chunk
        selector.close()
        try:
            return int(line.strip().splitlines()[0])
        except ValueError:
            self._fail(f"printed {line!r} instead of a port")
        raise AssertionError  # unreachable

    def _fail(self, what: str) -> None:
        self._stderr.seek(0)
        err = self._stderr.read().decode("utf-8", "replace")[-4000:]
        self.close()
        raise AnalyzerError(f"the policy pack {what}\n{err}")

    def configure(
        self,
        environment: str,
        config: Path | Mapping[str, Any] | None = None,
        *,
        project: str = "mlops",
        stack: str | None = None,
    ) -> None:
        """Configure the pack for ``environment`` (its config file unless ``config``)."""
        self.connect()
        source = config if config is not None else config_path(environment)
        parsed = read_policy_config(source)
        key = json.dumps([environment, project, stack, parsed], sort_keys=True, default=str)
        if key == self._configured_key:
            return  # the pack already holds exactly this configuration
        request = self._requests.get(key)
        if request is None:
            request = analyzer_pb2.ConfigureAnalyzerRequest(
                policyConfig=reconcile(self.info, parsed, self._schemas)
            )
            self._requests[key] = request
        self.stub.Configure(request)
        with contextlib.suppress(grpc.RpcError):
            self.stub.ConfigureStack(
                analyzer_pb2.AnalyzerStackConfigureRequest(
                    stack=stack or environment, project=project, dry_run=True
                )
            )
        self._configured_key = key
        self.policies = {
            name: PolicyMeta(
                **{**asdict(meta), "level": _LEVELS[request.policyConfig[name].enforcementLevel]}
            )
            for name, meta in self.policies.items()
        }
        self.configured_for = environment

    def analyze(self, resources: Iterable[Registration]) -> list[Finding]:
        """Analyze each resource, then the stack; every finding, in a stable order."""
        registrations = list(resources)
        index = {r.urn: r for r in registrations}
        findings: list[Finding] = []
        futures = [(r, self.stub.Analyze.future(analyze_request(r, index))) for r in registrations]
        for r, future in futures:
            findings += self._findings(future.result(), r, index)
        stack = self.stub.AnalyzeStack(
            analyzer_pb2.AnalyzeStackRequest(
                resources=[stack_resource(r, index) for r in registrations]
            )
        )
        findings += self._findings(stack, None, index)
        order = {"mandatory": 0, "advisory": 1, "exempted": 2}
        findings.sort(key=lambda f: (order.get(f.enforcement, 3), f.id, f.urn, f.message))
        return findings

    def _findings(
        self, response: Any, subject: Registration | None, index: Mapping[str, Registration]
    ) -> list[Finding]:
        out = []
        for d in response.diagnostics:
            meta = self.policies.get(d.policyName)
            urn = d.urn or (subject.urn if subject else "")
            target = index.get(urn)
            message = d.message
            if message.startswith(d.description):
                message = message[len(d.description) :].lstrip("\n") or d.description
            out.append(
                Finding(
                    rule=d.policyName,
                    id=meta.id if meta else d.policyName,
                    severity=meta.severity if meta else "",
                    enforcement=_LEVELS[d.enforcementLevel],
                    urn=urn,
                    type=target.type if target else "",
                    resource=target.name if target else "",
                    message=message,
                    kind="unknown" if message.startswith(_UNKNOWN_PREFIX) else "violation",
                )
            )
        for na in response.not_applicable:
            if not na.reason.startswith(_EXEMPTED_PREFIX):
                continue
            meta = self.policies.get(na.policy_name)
            for entry in json.loads(na.reason[len(_EXEMPTED_PREFIX) :]):
                target = index.get(entry["urn"])
                out.append(
                    Finding(
                        rule=na.policy_name,
                        id=meta.id if meta else na.policy_name,
                        severity=meta.severity if meta else "",
                        enforcement="exempted",
                        urn=entry["urn"],
                        type=target.type if target else "",
                        resource=target.name if target else "",
                        message=entry["message"],
                        kind="exempted",
                        exemption={k: entry[k] for k in ("pattern", "owner", "reason", "expires")},
                    )
                )
        return out

    def close(self) -> None:
        """Stop the pack and release everything."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self._process is not None:
            if self._process.poll() is None:
                # The pack keeps no state worth a graceful stop; SIGKILL ends it at once.
                self._process.kill()
            self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if not self._stderr.closed:
            self._stderr.close()


def _pack_version(policy_dir: Path) -> str | None:
    try:
        doc = yaml.safe_load((policy_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return str(doc.get("version")) if isinstance(doc, dict) and doc.get("version") else None


# --- reports -------------------------------------------------------------------------------


def report(
    analyzer: Analyzer,
    findings: list[Finding],
    *,
    environment: str,
    stack: str,
    project: str,
    config: str,
) -> dict[str, Any]:
    """The JSON report (``mandatoryViolations`` is what the preview's exit code reads)."""
    live = [f for f in findings if f.kind != "exempted"]
    return {
        "schemaVersion": REPORT_SCHEMA_VERSION,
        "policyPack": {"name": analyzer.info.name, "version": analyzer.version},
        "project": project,
        "stack": stack,
        "environment": environment,
        "config": config,
        "mandatoryViolations": sum(1 for f in live if f.enforcement == "mandatory"),
        "advisoryViolations": sum(1 for f in live if f.enforcement == "advisory"),
        "notEvaluable": sum(1 for f in live if f.kind == "unknown"),
        "exempted": sum(1 for f in findings if f.kind == "exempted"),
        "findings": [asdict(f) for f in findings],
        "policies": [asdict(p) for p in sorted(analyzer.policies.values(), key=lambda p: p.id)],
    }


def evaluate_resources(
    analyzer: Analyzer,
    resources: Iterable[Registration],
    environment: str,
    *,
    stack: str | None = None,
    project: str = "mlops",
    config: Path | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Configure ``analyzer`` for ``environment`` and evaluate ``resources``."""
    analyzer.configure(environment, config, project=project, stack=stack)
    findings = analyzer.analyze(resources)
    shown = config if isinstance(config, Path) else (None if config else config_path(environment))
    label = _relative(shown) if shown is not None else "(inline)"
    return report(
        analyzer,
        findings,
        environment=environment,
        stack=stack or environment,
        project=project,
        config=label,
    )


def evaluate(
    recording: Recording,
    environment: str,
    *,
    config: Path | Mapping[str, Any] | None = None,
    analyzer: Analyzer | None = None,
) -> dict[str, Any]:
    """Evaluate an offline preview's recording with ``environment``'s policy config.

    Starts (and stops) the pack unless a running ``analyzer`` is given.
    """
    if analyzer is not None:
        return evaluate_resources(
            analyzer,
            recording.resources,
            environment,
            stack=recording.stack,
            project=recording.project,
            config=config,
        )
    with Analyzer() as running:
        return evaluate_resources(
            running,
            recording.resources,
            environment,
            stack=recording.stack,
            project=recording.project,
            config=config,
        )


def environment_of(recording: Recording) -> str:
    """The policy environment of a recording: its ``profile`` output, else the stack name."""
    profile = recording.outputs.get("profile")
    if isinstance(profile, str) and profile in ENVIRONMENTS:
        return profile
    return recording.stack


def preview_evaluator(recording: Recording) -> dict[str, Any]:
    """The function ``scripts.preview.POLICY_EVALUATOR`` takes."""
    return evaluate(recording, environment_of(recording))


def with_changes(
    recording: Recording,
    type_: str,
    name: str | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    remove: Iterable[str] = (),
    protect: bool | None = None,
) -> Recording:
    """A copy of ``recording`` with one resource's inputs changed (top-level keys set or
    removed, wire form) and/or its protect flag flipped: for mutation tests."""
    target = recording.one(type_, name)
    request = copy.deepcopy(target.raw)
    obj = dict(request.get("object", {}))
    obj.update(copy.deepcopy(dict(inputs or {})))
    for key in remove:
        obj.pop(key, None)
    request["object"] = obj
    if protect is not None:
        request["protect"] = protect
    changed = Registration.from_request(request, target.urn, target.id)
    resources = [changed if r.urn == target.urn else r for r in recording.resources]
    return dataclasses.replace(recording, resources=resources)


def run_recording(
    recording: Recording,
    environment: str,
    output_format: str = "table",
    *,
    config: Path | Mapping[str, Any] | None = None,
    analyzer: Analyzer | None = None,
) -> tuple[int, str]:
    """(exit code, rendered output) for a recording: what the CLI prints and returns."""
    doc = evaluate(recording, environment, config=config, analyzer=analyzer)
    return verdict(doc, output_format)


def verdict(doc: Mapping[str, Any], output_format: str) -> tuple[int, str]:
    """(exit code, rendered output) of a report."""
    return (EXIT_POLICY if doc["mandatoryViolations"] else EXIT_OK), render(doc, output_format)


def evaluate_terraform_plan(
    plan: Path | Mapping[str, Any],
    environment: str,
    *,
    config: Path | Mapping[str, Any] | None = None,
    analyzer: Analyzer | None = None,
) -> dict[str, Any]:
    """Judge a ``terraform show -json`` plan (a file, or its parsed content) with
    ``environment``'s policy config: the report, with a ``terraform`` section listing what
    the pack could not evaluate. :class:`scripts.terraform_plan.PlanError` for a bad plan."""
    from scripts import terraform_plan as tf  # noqa: PLC0415

    if analyzer is None:
        with Analyzer() as running:
            return evaluate_terraform_plan(plan, environment, config=config, analyzer=running)
    doc = tf.load_plan(plan) if isinstance(plan, Path) else tf.check_plan(plan)
    conversion = tf.convert(doc, stack=environment, known_types=tf.pack_types(POLICY_DIR / "rules"))
    report_doc = evaluate_resources(
        analyzer,
        conversion.resources,
        environment,
        stack=conversion.stack,
        project=conversion.project,
        config=config,
    )
    report_doc["terraform"] = _terraform_section(plan, doc, conversion)
    return report_doc


def _terraform_section(plan: Any, doc: Mapping[str, Any], conversion: Any) -> dict[str, Any]:
    label = plan.as_posix() if isinstance(plan, Path) else "(inline plan)"
    return {
        "plan": label,
        "formatVersion": doc.get("format_version"),
        "terraformVersion": doc.get("terraform_version"),
        "evaluated": len(conversion.addresses),
        "addresses": dict(sorted(conversion.addresses.items())),
        "notEvaluated": [asdict(n) for n in conversion.not_evaluated],
        "skipped": dict(conversion.skipped),
    }


def run_terraform_plan(
    plan: Path | Mapping[str, Any],
    environment: str,
    output_format: str = "table",
    *,
    config: Path | Mapping[str, Any] | None = None,
    analyzer: Analyzer | None = None,
) -> tuple[int, str]:
    """(exit code, rendered output) for a Terraform plan: what the CLI prints and returns."""
    doc = evaluate_terraform_plan(plan, environment, config=config, analyzer=analyzer)
    return verdict(doc, output_format)


def render(doc: Mapping[str, Any], output_format: str) -> str:
    """The report as ``table``, ``json`` or ``sarif`` text."""
    if output_format == "json":
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if output_format == "sarif":
        return json.dumps(render_sarif(doc), indent=2) + "\n"
    return render_table(doc) + "\n"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path.name


def render_table(doc: Mapping[str, Any]) -> str:
    """One line per rule and resource, mandatory first, then a summary."""
    terraform = doc.get("terraform")
    subject = f"Terraform plan {terraform['plan']}" if terraform else f"stack '{doc['stack']}'"
    lines = [
        f"Policy pack {doc['policyPack']['name']} {doc['policyPack']['version']} on "
        f"{subject} (environment {doc['environment']}, {doc['config']})",
        "",
    ]
    rows = [
        (
            f["enforcement"],
            f"{f['id']} {f['rule']}",
            f"{f['type'].rsplit(':', 1)[-1]} {f['resource']}".strip() or "(stack)",
            f["message"]
            + (
                f"  [exemption: {f['exemption']['reason']} — owner "
                f"{f['exemption']['owner']}, until {f['exemption']['expires']}]"
                if f.get("exemption")
                else ""
            ),
        )
        for f in doc["findings"]
    ]
    if rows:
        widths = [
            max(len(r[i]) for r in [("LEVEL", "RULE", "RESOURCE", ""), *rows]) for i in range(3)
        ]
        header = ("LEVEL", "RULE", "RESOURCE", "FINDING")
        for row in [header, *rows]:
            lines.append(
                "  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:3])) + "  " + row[3]
            )
    else:
        lines.append("No findings.")
    lines += [
        "",
        f"{doc['mandatoryViolations']} mandatory, {doc['advisoryViolations']} advisory "
        f"({doc['notEvaluable']} not evaluable during preview), {doc['exempted']} exempted",
    ]
    if terraform:
        lines += _terraform_lines(terraform)
    return "\n".join(lines)


def _terraform_lines(terraform: Mapping[str, Any]) -> list[str]:
    """The plan's coverage: resources judged, not evaluated (and why), skipped."""
    lines = [f"{terraform['evaluated']} planned resources judged by the pack"]
    missing = terraform["notEvaluated"]
    if missing:
        lines.append(f"{len(missing)} planned resources NOT evaluated by the pack:")
        lines += [f"  {m['address']}  ({m['type']}): {m['reason']}" for m in missing]
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(terraform["skipped"].items()))
    if skipped:
        lines.append(f"not judged: {skipped}")
    return lines


_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning", "exempted": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def render_sarif(doc: Mapping[str, Any]) -> dict[str, Any]:
    """SARIF 2.1.0 for code-scanning UIs: one rule per policy, one result per finding."""
    policies = list(doc["policies"])
    index = {p["name"]: i for i, p in enumerate(policies)}
    rules = [
        {
            "id": p["id"],
            "name": p["name"],
            "shortDescription": {"text": p["description"]},
            "fullDescription": {"text": p["description"]},
            "help": {"text": p["remediation"], "markdown": f"**Fix:** `{p['remediation']}`"},
            "defaultConfiguration": {"level": _SARIF_LEVEL.get(p["level"], "warning")},
            "properties": {
                "tags": ["security", *p["references"].split("; ")],
                "security-severity": _SECURITY_SEVERITY.get(p["severity"], "5.0"),
                "severity": p["severity"],
            },
        }
        for p in policies
    ]
    terraform = doc.get("terraform")
    stack_file = terraform["plan"] if terraform else f"stacks/Pulumi.{doc['stack']}.yaml"
    results = []
    for f in doc["findings"]:
        fingerprint = hashlib.sha256(f"{f['rule']}|{f['urn']}|{f['message']}".encode()).hexdigest()
        result: dict[str, Any] = {
            "ruleId": f["id"],
            "ruleIndex": index.get(f["rule"], 0),
            "level": _SARIF_LEVEL.get(f["enforcement"], "warning"),
            "message": {"text": f"{f['message']} ({f['type']} {f['resource']})".strip()},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": stack_file},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [
                        {
                            "fullyQualifiedName": (f["resource"] if terraform else f["urn"])
                            or "stack",
                            "name": f["resource"] or "stack",
                            "kind": "resource",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"mlopsPolicyFinding/v1": fingerprint},
            "properties": {"enforcement": f["enforcement"], "kind": f["kind"]},
        }
        if f.get("exemption"):
            ex = f["exemption"]
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{ex['reason']} (owner {ex['owner']}, until {ex['expires']})",
                }
            ]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": doc["policyPack"]["name"],
                        "version": doc["policyPack"]["version"],
                        "semanticVersion": doc["policyPack"]["version"],
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"policy/{doc['stack']}/"},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "warning",
                                "message": {
                                    "text": f"not evaluated: {m['address']} ({m['type']}): "
                                    f"{m['reason']}"
                                },
                                "locations": [
                                    {"logicalLocations": [{"fullyQualifiedName": m["address"]}]}
                                ],
                            }
                            for m in (terraform or {}).get("notEvaluated", [])
                        ],
                    }
                ],
                "results": results,
                "properties": {
                    "environment": doc["environment"],
                    "config": doc["config"],
                    **({"terraform": terraform} if terraform else {}),
                },
            }
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    from mlops_platform.config import ConfigError  # noqa: PLC0415

    from scripts.offline import StackFileError, synthesize  # noqa: PLC0415
    from scripts.offline.project import available_stacks  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="python -m scripts.policy_runner",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help=f"stack to evaluate: {', '.join(available_stacks())}")
    source.add_argument(
        "--terraform-plan",
        type=Path,
        metavar="PLAN.json",
        help="judge a `terraform show -json` plan instead of a stack (needs --environment)",
    )
    parser.add_argument("--stack-file", type=Path, help="settings file instead of the stack's")
    parser.add_argument(
        "--environment",
        choices=ENVIRONMENTS,
        help="policy environment (default: the stack's profile)",
    )
    parser.add_argument("--config", type=Path, help="policy config file instead of the env's")
    parser.add_argument("--format", choices=("table", "json", "sarif"), default="table")
    parser.add_argument("--output", type=Path, help="write here instead of stdout")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    if args.terraform_plan is not None and args.environment is None:
        parser.error(f"--terraform-plan needs --environment ({', '.join(ENVIRONMENTS)})")
    if args.terraform_plan is not None and args.stack_file is not None:
        parser.error("--stack-file applies to --stack only")
    try:
        if args.terraform_plan is not None:
            return _run_terraform(args)
        return _run(args, synthesize, ConfigError, StackFileError)
    except PolicyConfigError as exc:
        _error(str(exc), args.debug)
        return EXIT_CONFIG
    except (AnalyzerError, grpc.RpcError, grpc.FutureTimeoutError) as exc:
        _error(f"the policy pack failed: {_describe(exc)}", args.debug)
        return EXIT_FAILED


def _describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.RpcError):
        code = exc.code() if callable(getattr(exc, "code", None)) else None  # type: ignore[attr-defined]
        details = exc.details() if callable(getattr(exc, "details", None)) else None  # type: ignore[attr-defined]
        return f"gRPC {getattr(code, 'name', code)}: {details}"
    if isinstance(exc, grpc.FutureTimeoutError):
        return "timed out connecting to the pack"
    return str(exc) or type(exc).__name__


def _error(message: str, debug: bool) -> None:
    """One line on stderr (the rest with --debug)."""
    if debug:
        traceback.print_exc()
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    first = "; ".join(lines[:6]) if lines else message
    print(f"error: {first}", file=sys.stderr)


def _run_terraform(args: argparse.Namespace) -> int:
    from scripts.terraform_plan import PlanError  # noqa: PLC0415

    try:
        code, text = run_terraform_plan(
            args.terraform_plan, args.environment, args.format, config=args.config
        )
    except PlanError as exc:
        _error(str(exc), args.debug)
        return EXIT_CONFIG
    except (PolicyConfigError, AnalyzerError, grpc.RpcError, grpc.FutureTimeoutError):
        raise
    except Exception as exc:
        _error(f"reading the plan failed: {type(exc).__name__}: {exc}", args.debug)
        return EXIT_FAILED
    return _write(args, code, text)


def _write(args: argparse.Namespace, code: int, text: str) -> int:
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _error(f"cannot write {args.output}: {exc.strerror or exc}", args.debug)
            return EXIT_CONFIG
    else:
        sys.stdout.write(text)
    return code


def _run(args: argparse.Namespace, synthesize: Any, config_error: Any, stack_error: Any) -> int:
    analyzer = Analyzer()
    try:
        try:
            analyzer.launch()  # the pack boots while the program is synthesized
        except OSError as exc:
            raise AnalyzerError(f"could not start the pack: {exc}") from exc
        try:
            recording = synthesize(args.stack, REPO_ROOT, args.stack_file)
        except (config_error, stack_error) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        except Exception as exc:
            if args.debug:
                traceback.print_exc()
            print(f"error: the program failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        environment = args.environment or environment_of(recording)
        code, text = run_recording(
            recording, environment, args.format, config=args.config, analyzer=analyzer
        )
    finally:
        analyzer.close()
    return _write(args, code, text)


if __name__ == "__main__":
    sys.exit(main())
