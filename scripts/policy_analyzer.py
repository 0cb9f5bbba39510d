"""The policy pack as a running analyzer plugin, configured and driven the way the Pulumi
engine does it (``--policy-pack policy --policy-pack-config policy/config/<env>.json``):

1. start ``python __main__.py`` inside ``policy/`` and read the port it prints;
2. ``GetAnalyzerInfo``, then ``Configure`` with the environment's config file, after filling
   in each policy's config-schema defaults and validating the result, as the CLI does;
3. ``Analyze`` for every registered resource (type, inputs, URN, name, options, provider);
4. ``AnalyzeStack`` with every resource, its parent, dependencies and property dependencies.

Each diagnostic comes back as a :class:`Finding`; findings an exemption suppressed come back
too, marked ``exempted`` with the exemption.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from scripts.offline import Registration
from scripts.offline.project import REPO_ROOT
from scripts.policy_wire import analyze_request, stack_resource

POLICY_DIR = REPO_ROOT / "policy"
CONFIG_DIR = POLICY_DIR / "config"

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
            message = d.message
            if message.startswith(d.description):
                message = message[len(d.description) :].lstrip("\n") or d.description
            out.append(
                self._finding(
                    d.policyName,
                    d.urn or (subject.urn if subject else ""),
                    index,
                    enforcement=_LEVELS[d.enforcementLevel],
                    message=message,
                    kind="unknown" if message.startswith(_UNKNOWN_PREFIX) else "violation",
                )
            )
        for na in response.not_applicable:
            if not na.reason.startswith(_EXEMPTED_PREFIX):
                continue
            for entry in json.loads(na.reason[len(_EXEMPTED_PREFIX) :]):
                out.append(
                    self._finding(
                        na.policy_name,
                        entry["urn"],
                        index,
                        enforcement="exempted",
                        message=entry["message"],
                        kind="exempted",
                        exemption={k: entry[k] for k in ("pattern", "owner", "reason", "expires")},
                    )
                )
        return out

    def _finding(
        self, rule: str, urn: str, index: Mapping[str, Registration], **details: Any
    ) -> Finding:
        """A finding of ``rule`` on ``urn``, with the rule's ID and severity and the
        resource's type and name (blank for the stack or a resource not in ``index``)."""
        meta = self.policies.get(rule)
        target = index.get(urn)
        return Finding(
            rule=rule,
            id=meta.id if meta else rule,
            severity=meta.severity if meta else "",
            urn=urn,
            type=target.type if target else "",
            resource=target.name if target else "",
            **details,
        )

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
