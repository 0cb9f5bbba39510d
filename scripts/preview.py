"""Offline preview: run the real program for a stack with no cloud, no CLI and no credentials.

    python -m scripts.preview --stack prod                 # resource tree and counts
    python -m scripts.preview --stack prod --format json   # deterministic JSON document
    python -m scripts.preview --stack prod --format json --output preview-prod.json
    python -m scripts.preview --project docs/examples/team-serving --stack dev

``--project`` previews a team's own Pulumi project instead of the platform: its
``StackReference`` to the platform is answered with the outputs of the platform stack of the
same name, itself synthesized offline first (the contract between the two is exercised).

Exit codes: 0 fine; 1 a mandatory policy violation (once the policy pack evaluates the
preview); 2 bad configuration or stack file; 3 the program itself failed (a bug).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlops_platform.config import ConfigError

from scripts.cli import EXIT_ERROR, EXIT_FAIL, EXIT_INPUT, EXIT_OK, command_parser, exit_with
from scripts.offline import Recording, StackFileError, synthesize
from scripts.offline.project import REPO_ROOT

EXIT_POLICY = EXIT_FAIL
"""A mandatory policy is violated."""
EXIT_CONFIG = EXIT_INPUT
"""Bad configuration or stack file (or an unwritable ``--output``)."""
EXIT_PROGRAM = EXIT_ERROR
"""The program itself (or the policy pack) failed: a bug."""

SCHEMA_VERSION = 1

PolicyEvaluator = Callable[[Recording], dict[str, Any]]
"""The seam for policy verdicts: takes the recording, returns a report with a
``mandatoryViolations`` count."""


def _policy_pack(recording: Recording, pack: Any = None) -> dict[str, Any]:
    """The real policy pack, over its analyzer protocol, with the stack's environment config;
    ``pack`` is an already launched analyzer (otherwise one is started and stopped)."""
    from scripts.policy_runner import environment_of, evaluate  # noqa: PLC0415

    return evaluate(recording, environment_of(recording), analyzer=pack)


POLICY_EVALUATOR: PolicyEvaluator | None = _policy_pack


def document(recording: Recording, policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of a preview; the same input always gives the same bytes."""
    created = recording.created()
    return {
        "schemaVersion": SCHEMA_VERSION,
        "project": recording.project,
        "stack": recording.stack,
        "counts": counts(recording),
        "outputs": _plain(recording.outputs),
        "resources": [r.to_json() for r in created],
        "policy": policy,
    }


def counts(recording: Recording) -> dict[str, Any]:
    """Totals, per type, and per component (resources anywhere beneath it)."""
    created = recording.created()
    by_component: dict[str, int] = {}
    for component in created:
        if component.custom or component.type.startswith("pulumi:providers:"):
            continue
        prefix_owned = _descendants(recording, component.urn)
        by_component[f"{component.type}::{component.name}"] = sum(
            1 for r in prefix_owned if r.custom
        )
    return {
        "total": len(created),
        "custom": sum(1 for r in created if r.custom),
        "byType": dict(sorted(Counter(r.type for r in created).items())),
        "byComponent": dict(sorted(by_component.items())),
    }


def render_tree(recording: Recording) -> str:
    """The resource tree, children under parents, with protection flags."""
    lines: list[str] = []
    by_parent: dict[str | None, list] = {}
    for r in recording.resources:
        by_parent.setdefault(r.parent, []).append(r)

    def walk(urn: str | None, indent: str) -> None:
        kids = sorted(by_parent.get(urn, []), key=lambda r: (r.custom, r.type, r.name))
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            flags = [f for f, on in (("protect", r.protect), ("retain", r.retain_on_delete)) if on]
            extra = f"  [{', '.join(flags)}]" if flags else ""
            if not r.custom and not r.type.startswith("pulumi:"):
                owned = sum(1 for d in _descendants(recording, r.urn) if d.custom)
                extra += f"  ({owned} resources)"
            lines.append(f"{indent}{'└─ ' if last else '├─ '}{r.type}  {r.name}{extra}")
            walk(r.urn, indent + ("   " if last else "│  "))

    roots = by_parent.get(None, [])
    for root in roots:
        lines.append(f"{root.type}  {root.name}")
        walk(root.urn, "")
    return "\n".join(lines)


def render_text(recording: Recording, policy: dict[str, Any] | None) -> str:
    """Tree, counts per type, outputs, and the policy line."""
    summary = counts(recording)
    out = [f"Offline preview of stack '{recording.stack}' ({recording.project})", ""]
    out.append(render_tree(recording))
    out += ["", f"Resources: {summary['total']} ({summary['custom']} cloud resources)"]
    width = max((len(t) for t in summary["byType"]), default=0)
    out += [f"  {count:>4}  {t:<{width}}" for t, count in summary["byType"].items()]
    out += ["", "Outputs:"]
    out += [f"  {k}: {json.dumps(v)}" for k, v in sorted(_plain(recording.outputs).items())]
    out.append("")
    if policy is None:
        out.append("Policy: not evaluated (--no-policy)")
    else:
        out.append(
            f"Policy ({policy.get('config', 'pack')}): "
            f"{policy.get('mandatoryViolations', 0)} mandatory, "
            f"{policy.get('advisoryViolations', 0)} advisory, "
            f"{policy.get('exempted', 0)} exempted, "
            f"{policy.get('notEvaluable', 0)} not evaluable in preview"
        )
        out += [
            f"  [{f.get('enforcement')}] {f.get('rule')} ({f.get('id')}) {f.get('resource')}: "
            f"{f.get('message')}"
            for f in policy.get("findings", [])
        ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = command_parser("scripts.preview", __doc__, stack="stack to preview")
    parser.add_argument(
        "--project",
        type=Path,
        help="preview this team project (a folder with Pulumi.yaml) against the platform stack",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--output", type=Path, help="write to this file instead of stdout")
    parser.add_argument(
        "--no-policy", action="store_true", help="skip the policy pack (synthesis only)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of program failures")
    args = parser.parse_args(argv)
    if args.project is not None and args.stack_file is not None:
        parser.error("--stack-file is for the platform; a --project reads its own stack file")

    evaluator = None if args.no_policy else POLICY_EVALUATOR
    with contextlib.ExitStack() as cleanup:
        pack = None
        if evaluator is _policy_pack:
            # Boot the pack on the other core while the program is synthesized.
            from scripts.policy_runner import Analyzer  # noqa: PLC0415

            pack = cleanup.enter_context(contextlib.closing(Analyzer()))
            pack.launch()
        return _run(args, evaluator, pack)


class _OutputError(Exception):
    """The report could not be written where asked."""


def _run(args: argparse.Namespace, evaluator: PolicyEvaluator | None, pack: Any) -> int:
    from scripts.policy_runner import AnalyzerError, PolicyConfigError  # noqa: PLC0415

    failures: tuple[tuple[type[BaseException], int, str], ...] = (
        (ConfigError, EXIT_CONFIG, ""),
        (StackFileError, EXIT_CONFIG, ""),
        (PolicyConfigError, EXIT_CONFIG, "the policy configuration is invalid: "),
        (_OutputError, EXIT_CONFIG, ""),
        (AnalyzerError, EXIT_PROGRAM, "the policy pack failed: "),
    )
    try:
        if args.project is not None:
            from scripts.offline.team import synthesize_project  # noqa: PLC0415

            recording, _ = synthesize_project(args.project, args.stack)
        else:
            recording = synthesize(args.stack, REPO_ROOT, args.stack_file)
        if pack is not None:
            policy = _policy_pack(recording, pack)
        else:
            policy = evaluator(recording) if evaluator is not None else None
        if args.format == "json":
            text = json.dumps(document(recording, policy), indent=2, sort_keys=True) + "\n"
        else:
            text = render_text(recording, policy) + "\n"
        _emit(text, args.output)
    except Exception as exc:
        for kind, code, prefix in failures:
            if isinstance(exc, kind):
                print(f"error: {prefix}{exc}", file=sys.stderr)
                return code
        if args.debug:
            traceback.print_exc()
        print(
            f"error: the program failed: {type(exc).__name__}: {exc}\n"
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_PROGRAM
    if policy is not None and policy.get("mandatoryViolations", 0) > 0:
        return EXIT_POLICY
    return EXIT_OK


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _OutputError(f"cannot write {output}: {exc.strerror}") from None


def _descendants(recording: Recording, urn: str) -> list:
    found, frontier = [], [urn]
    while frontier:
        current = frontier.pop()
        for child in recording.children(current):
            found.append(child)
            frontier.append(child.urn)
    return found


def _plain(value: Any) -> Any:
    from scripts.offline.engine import plain  # noqa: PLC0415

    return plain(value)


if __name__ == "__main__":
    exit_with(main)
