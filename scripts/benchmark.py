"""Benchmark the offline preview against an import-only floor, in one run.

    python -m scripts.benchmark [--stack prod] [--runs 5]

All are whole processes started the same way. The floor imports exactly the Pulumi modules
the preview loaded (found by a probe run, so it follows the program as it grows) and exits;
the preview synthesizes the stack and writes its JSON document, once without the policy pack
(``--no-policy``) and once with it (the pack started and driven over its analyzer protocol).
The command prints the median wall time of each, their ratios to the floor, and the
synthesis's peak RSS (from the kernel's per-child rusage). It is a measurement, not a test:
it prints figures and checks them against the targets (ratio <= 2.0 for the preview, <= 2.5
with the policy pack, peak RSS <= 400 MB) only when asked with --check.
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
TARGET_POLICY_RATIO = 2.5
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


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(argv[:4])} ... exited {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    """Print the figures; with --check, exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="python -m scripts.benchmark")
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, args.stack],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = json.loads(probe.stdout.strip().splitlines()[-1])
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


if __name__ == "__main__":
    sys.exit(main())
