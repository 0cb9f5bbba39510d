"""The GitHub Actions workflows, validated offline.

* against GitHub's workflow JSON schema, as vendored by ``check-jsonschema``;
* by ``zizmor --offline`` (security audits that need no network): no finding at high severity;
* structurally: pinned actions, least-privilege permissions per job, per-stack concurrency,
  environments, the policy-pack preview before every ``pulumi up``, the in-VPC runner for
  test and prod, and no secret ever reaching a command line.

Both tools are Python packages; where one is not installed the test says so as a skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
STACKS = ("dev", "test", "prod")
_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install it to validate the workflows)")
    return found


def _load(path: Path) -> dict[Any, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p.name, name, job) for p in FILES for name, job in _load(p)["jobs"].items()]


def _steps() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{f}:{j}", step) for f, j, job in _jobs() for step in job.get("steps", [])]


def test_the_workflows_exist():
    names = {p.name for p in FILES}
    assert {"pull-request.yml", "deploy.yml", "deploy-stack.yml", "drift.yml"} <= names


def test_workflows_match_githubs_schema():
    result = subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, FILES),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_offline_finds_nothing_at_high_severity():
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--format", "json", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert isinstance(findings, list), result.stderr
    high = [f["ident"] for f in findings if f["determinations"]["severity"] == "High"]
    assert high == [], json.dumps(findings, indent=1)[:4000]
    medium = [f["ident"] for f in findings if f["determinations"]["severity"] == "Medium"]
    assert medium == [], medium


def test_third_party_actions_are_pinned_to_full_commit_shas_with_their_tag():
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = re.search(r"uses:\s*(\S+)(.*)$", line)
            if not match or match.group(1).startswith("./"):
                continue
            where = f"{path.name}:{number}"
            assert _PINNED.match(match.group(1)), f"{where}: {match.group(1)} is not SHA-pinned"
            assert re.search(r"#\s*v\d+\.\d+\.\d+", match.group(2)), f"{where}: no version tag"


def test_permissions_are_empty_by_default_and_least_privilege_per_job():
    for path in FILES:
        assert _load(path).get("permissions") == {}, f"{path.name}: default permissions not {{}}"
    allowed = {"contents": "read", "security-events": "write", "id-token": "write"}
    for file, name, job in _jobs():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{file}:{name} declares no permissions"
        for scope, level in permissions.items():
            if scope == "issues" or (scope == "actions" and level == "read"):
                assert (file, name) == ("drift.yml", "report"), f"{file}:{name} has {scope}"
            else:
                assert allowed.get(scope) == level, f"{file}:{name}: {scope}: {level}"
        if permissions.get("id-token") == "write":
            assert file in {"deploy.yml", "deploy-stack.yml", "drift.yml"}, f"{file}:{name}"
            assert "issues" not in permissions


def test_pull_requests_run_lint_tests_preview_and_policy_sarif_for_every_stack():
    pr = _load(WORKFLOWS / "pull-request.yml")
    assert list(pr[True]) == ["pull_request"]  # YAML 1.1 reads the `on` key as True
    text = (WORKFLOWS / "pull-request.yml").read_text(encoding="utf-8")
    assert "bash .ci/run" in text and "ruff check" in text
    job = pr["jobs"]["preview-and-policy"]
    assert job["strategy"]["matrix"]["stack"] == list(STACKS)
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "scripts.preview" in runs and "scripts.cost" in runs
    assert "scripts.policy_runner" in runs and "--format sarif" in runs
    upload = next(s for s in job["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["category"] == "policy-${{ matrix.stack }}"
    assert "id-token" not in json.dumps(pr)


def test_main_deploys_dev_then_test_then_prod_each_in_its_environment():
    deploy = _load(WORKFLOWS / "deploy.yml")
    assert deploy[True]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert list(jobs) == list(STACKS)
    assert "needs" not in jobs["dev"]
    assert jobs["test"]["needs"] == "dev" and jobs["prod"]["needs"] == "test"
    for stack in STACKS:
        assert jobs[stack]["uses"] == "./.github/workflows/deploy-stack.yml"
        assert jobs[stack]["with"]["stack"] == stack
    for stack in ("test", "prod"):
        runner = jobs[stack]["with"]["runner"]
        assert runner == (
            f"codebuild-${{{{ vars.CODEBUILD_RUNNER_PROJECT_{stack.upper()} }}}}"
            "-${{ github.run_id }}-${{ github.run_attempt }}"
        )
    called = _load(WORKFLOWS / "deploy-stack.yml")["jobs"]["deploy"]
    assert called["environment"] == "${{ inputs.stack }}"
    assert called["concurrency"] == {
        "group": "pulumi-${{ inputs.stack }}",
        "cancel-in-progress": False,
    }


def _commands(steps: list[dict[str, Any]]) -> list[str]:
    return [" ".join(step.get("run", "").split()) for step in steps if step.get("run")]


def test_every_pulumi_up_follows_a_policy_pack_preview_of_the_same_stack():
    policy = '--policy-pack policy --policy-pack-config "policy/config/${STACK}.json"'
    for file, name, job in _jobs():
        commands = _commands(job.get("steps", []))
        ups = [i for i, c in enumerate(commands) if c.startswith("pulumi up")]
        for index in ups:
            assert policy in commands[index], f"{file}:{name}: up without the pack"
            previews = [c for c in commands[:index] if c.startswith("pulumi preview")]
            assert previews and policy in previews[-1], f"{file}:{name}: no pack preview first"
            assert '--stack "${STACK}"' in previews[-1] and '--stack "${STACK}"' in commands[index]


def test_nightly_drift_per_stack_opens_or_updates_an_issue():
    drift = _load(WORKFLOWS / "drift.yml")
    assert "schedule" in drift[True]
    detect = drift["jobs"]["detect"]
    assert [row["stack"] for row in detect["strategy"]["matrix"]["include"]] == list(STACKS)
    assert detect["concurrency"]["group"] == "pulumi-${{ matrix.stack }}"
    assert detect["environment"] == "${{ matrix.stack }}"
    commands = " ".join(_commands(detect["steps"]))
    assert "pulumi preview" in commands and "--refresh --expect-no-changes" in commands
    report = drift["jobs"]["report"]
    assert report["needs"] == "detect"
    issue = " ".join(_commands(report["steps"]))
    assert "gh issue comment" in issue and "gh issue create" in issue


def test_no_secret_or_expression_reaches_a_shell_command():
    for where, step in _steps():
        run = step.get("run", "")
        assert "${{" not in run, f"{where}: expression interpolated into a shell script"
        assert "set -x" not in run, f"{where}: shell tracing would echo values"
    for path in FILES:
        assert "secrets." not in path.read_text(encoding="utf-8"), path.name


def test_the_pulumi_cli_matches_the_locked_sdk():
    lock = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    sdk = re.search(r"^pulumi==(\S+)", lock, flags=re.M)
    assert sdk, "pulumi is not in requirements.lock"
    versions = {
        step["with"]["pulumi-version"]
        for _, step in _steps()
        if step.get("uses", "").startswith("pulumi/actions@")
    }
    assert versions == {sdk.group(1)}
