"""Offline policy evaluation: the real policy pack, driven over its real gRPC protocol.

    python -m scripts.policy_runner --stack prod                  # table per rule and resource
    python -m scripts.policy_runner --stack dev --format json     # machine-readable report
    python -m scripts.policy_runner --stack prod --format sarif --output policy.sarif
    python -m scripts.policy_runner --terraform-plan plan.json --environment prod

With ``--terraform-plan`` the resources come from a ``terraform show -json`` plan instead
of the program: each planned AWS resource in its Pulumi shape (``scripts.terraform_plan``),
named by its Terraform address; resources the pack cannot judge are listed as not evaluated.

The runner does what the Pulumi engine does with ``--policy-pack policy
--policy-pack-config policy/config/<env>.json``, with no CLI and no cloud: it starts the pack,
configures it with the environment's config file as the CLI would, and sends it every
registered resource and then the stack (``scripts.policy_analyzer``), in the engine's wire
form (``scripts.policy_wire``); the findings become a report (``scripts.policy_report``).

Exit codes: 0 no mandatory violation; 1 at least one mandatory violation; 2 bad stack,
config, policy config or plan; 3 the program or the pack failed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import sys
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import grpc

from scripts.offline import Recording, Registration
from scripts.offline.project import REPO_ROOT
from scripts.policy_analyzer import (
    CONFIG_DIR,
    POLICY_DIR,
    Analyzer,
    AnalyzerError,
    Finding,
    PolicyConfigError,
    PolicyMeta,
    config_path,
    policy_schemas,
    read_policy_config,
    reconcile,
)
from scripts.policy_report import (
    REPORT_SCHEMA_VERSION,
    display_path,
    render,
    render_sarif,
    render_table,
    report,
)
from scripts.policy_wire import (
    UNKNOWN,
    analyze_request,
    stack_resource,
    wire_properties,
    wire_value,
)

__all__ = [
    "CONFIG_DIR",
    "ENVIRONMENTS",
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_POLICY",
    "POLICY_DIR",
    "REPORT_SCHEMA_VERSION",
    "UNKNOWN",
    "Analyzer",
    "AnalyzerError",
    "Finding",
    "PolicyConfigError",
    "PolicyMeta",
    "analyze_request",
    "config_path",
    "environment_of",
    "evaluate",
    "evaluate_resources",
    "evaluate_terraform_plan",
    "main",
    "policy_schemas",
    "preview_evaluator",
    "read_policy_config",
    "reconcile",
    "render",
    "render_sarif",
    "render_table",
    "report",
    "run_recording",
    "stack_resource",
    "verdict",
    "wire_properties",
    "wire_value",
    "with_changes",
]

ENVIRONMENTS: tuple[str, ...] = ("dev", "test", "prod")

EXIT_OK, EXIT_POLICY, EXIT_CONFIG, EXIT_FAILED = 0, 1, 2, 3


# --- evaluation ------------------------------------------------------------------------------


class Registered(Protocol):
    """What the pack judges: a run's registrations (an offline preview's recording, or a
    Terraform plan converted) and the stack they belong to."""

    @property
    def project(self) -> str: ...
    @property
    def stack(self) -> str: ...
    @property
    def resources(self) -> list[Registration]: ...


def _running(analyzer: Analyzer | None) -> contextlib.AbstractContextManager[Analyzer]:
    """``analyzer`` as it is, or a pack started for the ``with`` block and stopped after."""
    return contextlib.nullcontext(analyzer) if analyzer is not None else Analyzer()


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
    label = display_path(shown) if shown is not None else "(inline)"
    return report(
        analyzer,
        findings,
        environment=environment,
        stack=stack or environment,
        project=project,
        config=label,
    )


def evaluate(
    recording: Registered,
    environment: str,
    *,
    config: Path | Mapping[str, Any] | None = None,
    analyzer: Analyzer | None = None,
) -> dict[str, Any]:
    """Evaluate an offline preview's recording (or any :class:`Registered`) with
    ``environment``'s policy config.

    Starts (and stops) the pack unless a running ``analyzer`` is given.
    """
    with _running(analyzer) as running:
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
    return verdict(
        evaluate(recording, environment, config=config, analyzer=analyzer), output_format
    )


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

    doc = tf.load_plan(plan) if isinstance(plan, Path) else tf.check_plan(plan)
    conversion = tf.convert(doc, stack=environment, known_types=tf.pack_types(POLICY_DIR / "rules"))
    report_doc = evaluate(conversion, environment, config=config, analyzer=analyzer)
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


# --- the CLI -------------------------------------------------------------------------------


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
        doc = evaluate_terraform_plan(args.terraform_plan, args.environment, config=args.config)
    except PlanError as exc:
        _error(str(exc), args.debug)
        return EXIT_CONFIG
    except (PolicyConfigError, AnalyzerError, grpc.RpcError, grpc.FutureTimeoutError):
        raise
    except Exception as exc:
        _error(f"reading the plan failed: {type(exc).__name__}: {exc}", args.debug)
        return EXIT_FAILED
    return _write(args, *verdict(doc, args.format))


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
