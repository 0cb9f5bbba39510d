"""Benchmark the offline preview against an import-only floor, in one run.

    python -m scripts.benchmark [--stack prod] [--runs 5]
    python -m scripts.benchmark --terraform-plan PLAN.json [--environment prod] [--runs 5]

All are whole processes started the same way. The floor imports exactly the Pulumi modules
the preview loaded (found by a probe run, so it follows the program as it grows) and exits;
the preview synthesizes the stack and writes its JSON document, once without the policy pack
(``--no-policy``) and once with it (the pack started and driven over its analyzer protocol).
The command prints the median wall time of each, their ratios to the floor, and the
synthesis's peak RSS (from the kernel's per-child rusage). It is a measurement, not a test:
it prints figures and checks them against the targets (ratio <= 2.0 for the preview, <= 2.0
with the policy pack, peak RSS <= 400 MB) only when asked with --check.

With ``--terraform-plan`` (a saved ``terraform show -json`` plan) it times the pack alone
over that plan: in this process, the plan's conversion to registrations once, then the
pack (already started) configured and driven over Analyze and AnalyzeStack for every
resource, each run; and, as whole processes against their own floor (a process importing
the modules the runner loads), ``python -m scripts.policy_runner --terraform-plan``.

A child that fails (an unknown stack, a broken program) ends the command with one line on
stderr, ``error: ...``, and exit code 2; ``--runs`` must be at least 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.0
"""Offline preview (synthesis) against the floor."""
TARGET_POLICY_RATIO = 2.0
"""Offline preview plus full policy evaluation against the same floor."""
TARGET_RSS_MB = 400.0

_PROBE = """
import json, sys
from scripts.offline import synthesize
synthesize(sys.argv[1])
mods = sorted(m for m in sys.modules if m.split('.')[0] in
              {'pulumi', 'pulumi_aws', 'pulumi_kubernetes', 'pulumi_random'})
print(json.dumps(mods))
"""


EXIT_CHILD_FAILED = 2
"""Exit code when a child process (probe, floor or preview) fails."""


class ChildError(Exception):
    """A measured or probing child exited non-zero; the message is one line."""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _what(argv: list[str]) -> str:
    """A short name for a child command line."""
    if "-m" in argv:
        return " ".join(argv[argv.index("-m") + 1 : argv.index("-m") + 4])
    return "the import floor" if "importlib" in " ".join(argv) else "the child"


def _run(argv: list[str], accept: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process (exit codes in ``accept`` are
    success)."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        text = errors.read().decode("utf-8", "replace")
        if process.returncode not in accept:
            raise ChildError(f"{_what(argv)} exited {process.returncode}: {_last_line(text)}")
        sys.stderr.write(text)  # a successful child's stderr is passed on, as before
    return elapsed, usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def _probe(stack: str) -> list[str]:
    """The Pulumi modules the synthesis of ``stack`` loads."""
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, stack],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        raise ChildError(
            f"synthesizing stack '{stack}' failed (exit {probe.returncode}): "
            f"{_last_line(probe.stderr)}"
        )
    return json.loads(_last_line(probe.stdout))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Print the figures; with --check, exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m scripts.benchmark")
    parser.add_argument("--stack", default="prod")
    parser.add_argument(
        "--terraform-plan",
        type=Path,
        metavar="PLAN.json",
        help="time the pack alone over a saved `terraform show -json` plan",
    )
    parser.add_argument(
        "--environment",
        choices=("dev", "test", "prod"),
        default="prod",
        help="policy environment for --terraform-plan (default: prod)",
    )
    parser.add_argument("--runs", type=_positive, default=5, help="runs of each (>= 1)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    try:
        if args.terraform_plan is not None:
            return _measure_plan(args)
        return _measure(args)
    except ChildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CHILD_FAILED


def _measure(args: argparse.Namespace) -> int:
    """Run the children, print the figures; the exit code (1: a target missed, --check)."""
    modules = _probe(args.stack)
    floor_code = f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\n"

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "preview.json"
        preview_argv = [sys.executable, "-m", "scripts.preview", "--stack", args.stack]
        preview_argv += ["--format", "json", "--output", str(out)]
        synth_argv = [*preview_argv, "--no-policy"]
        floor_argv = [sys.executable, "-c", floor_code]
        floors, synths, previews, rss = [], [], [], []
        for _ in range(args.runs):  # interleaved, so drift in machine load hits all alike
            floors.append(_run(floor_argv)[0])
            s_time, s_rss = _run(synth_argv)
            synths.append(s_time)
            rss.append(s_rss)
            previews.append(_run(preview_argv)[0])

    floor = statistics.median(floors)
    synth, full = statistics.median(synths), statistics.median(previews)
    ratio, policy_ratio, peak = synth / floor, full / floor, max(rss)
    print(f"stack:                  {args.stack}")
    print(f"modules in floor:       {len(modules)} pulumi modules")
    print(f"floor (imports only):   {floor:.3f} s  (median of {args.runs})")
    print(f"offline preview:        {synth:.3f} s  ratio {ratio:.2f} (target <= {TARGET_RATIO})")
    print(
        f"preview + policy pack:  {full:.3f} s  ratio {policy_ratio:.2f} "
        f"(target <= {TARGET_POLICY_RATIO})"
    )
    print(f"preview peak RSS:       {peak:.1f} MB  (target <= {TARGET_RSS_MB:.0f} MB)")
    missed = ratio > TARGET_RATIO or policy_ratio > TARGET_POLICY_RATIO or peak > TARGET_RSS_MB
    return 1 if args.check and missed else 0


_PLAN_PROBE = """
import json, sys
from pathlib import Path
from scripts import policy_runner, terraform_plan
doc = terraform_plan.load_plan(Path(sys.argv[1]))
rules = policy_runner.POLICY_DIR / 'rules'
terraform_plan.convert(doc, known_types=terraform_plan.pack_types(rules))
mods = sorted(m for m in sys.modules if m.split('.')[0] in
              {'pulumi', 'pulumi_aws', 'grpc', 'google', 'yaml', 'jsonschema'})
print(json.dumps(mods))
"""

EXIT_RUNNER_OK = (0, 1)
"""The runner's exit codes that mean it judged the plan (1: a mandatory violation)."""


def _measure_plan(args: argparse.Namespace) -> int:
    """Time the pack over a saved Terraform plan; print the figures."""
    from scripts import policy_runner, terraform_plan  # noqa: PLC0415

    plan_path = args.terraform_plan.resolve()
    try:
        doc = terraform_plan.load_plan(plan_path)
    except terraform_plan.PlanError as exc:
        raise ChildError(str(exc)) from exc
    probe = subprocess.run(
        [sys.executable, "-c", _PLAN_PROBE, str(plan_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        raise ChildError(f"converting the plan failed: {_last_line(probe.stderr)}")
    modules = json.loads(_last_line(probe.stdout))
    floor_code = f"import importlib\nfor m in {modules!r}:\n    importlib.import_module(m)\n"

    start = time.perf_counter()
    conversion = terraform_plan.convert(
        doc,
        stack=args.environment,
        known_types=terraform_plan.pack_types(policy_runner.POLICY_DIR / "rules"),
    )
    convert_time = time.perf_counter() - start
    resources = conversion.resources
    packs, floors, runners = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "report.json"
        runner_argv = [sys.executable, "-m", "scripts.policy_runner"]
        runner_argv += ["--terraform-plan", str(plan_path), "--environment", args.environment]
        runner_argv += ["--format", "json", "--output", str(out)]
        floor_argv = [sys.executable, "-c", floor_code]
        with policy_runner.Analyzer() as analyzer:
            for _ in range(args.runs):  # interleaved, so drift in machine load hits all alike
                floors.append(_run(floor_argv)[0])
                runners.append(_run(runner_argv, EXIT_RUNNER_OK)[0])
                analyzer.configure("dev" if args.environment != "dev" else "prod")
                start = time.perf_counter()
                analyzer.configure(args.environment, stack=conversion.stack, project="terraform")
                analyzer.analyze(resources)
                packs.append(time.perf_counter() - start)
    floor, runner, pack = (statistics.median(x) for x in (floors, runners, packs))
    print(f"terraform plan:         {args.terraform_plan} (environment {args.environment})")
    print(
        f"planned resources:      {len(conversion.addresses)} judged, "
        f"{len(conversion.not_evaluated)} not evaluated"
    )
    print(f"plan conversion:        {convert_time:.3f} s  (once, in process)")
    print(
        f"pack over the plan:     {pack:.3f} s  (Configure + Analyze x{len(resources)} + "
        f"AnalyzeStack, median of {args.runs}; "
        f"{1000 * pack / max(len(resources), 1):.1f} ms per resource)"
    )
    print(f"floor (imports only):   {floor:.3f} s  ({len(modules)} modules the runner loads)")
    print(f"runner, whole process:  {runner:.3f} s  ratio {runner / floor:.2f} to the floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
