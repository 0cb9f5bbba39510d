"""Lint, format and types are part of the suite, so CI enforces them like any test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent


def _run(*argv: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    # The pyright wrapper would otherwise ask the package index for a newer version.
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    return subprocess.run(
        [str(BIN / argv[0]), *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    "argv",
    [("ruff", "check", "."), ("ruff", "format", "--check", ".")],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff(argv):
    result = _run(*argv)
    assert result.returncode == 0, result.stdout + result.stderr


def _import_name_link() -> None:
    """Let pyright resolve the import name: ``mlops_platform`` is ``components/`` by a
    package-dir mapping, which the editable install serves through an import hook that
    pyright cannot follow. ``[tool.pyright] extraPaths`` points at this link."""
    link = REPO_ROOT / ".venv" / "pyright-paths" / "mlops_platform"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO_ROOT / "components", target_is_directory=True)


def test_pyright_over_components_scripts_program_and_policy_pack():
    # The typed pulumi-aws / pulumi-kubernetes SDKs catch wrong argument names and shapes.
    # One run for all (the SDKs' stubs are read once): the pack runs from policy/, but pyright
    # checks it the same from here, with the repository's [tool.pyright] and the repository
    # as the execution root either way (`pyright --verbose .` in policy/ loads that config).
    # Checking files in parallel (one thread per core) halves the suite's longest test.
    _import_name_link()
    threads = str(max(2, os.cpu_count() or 1))
    result = _run("pyright", "--threads", threads, "components", "scripts", "__main__.py", "policy")
    assert result.returncode == 0, result.stdout[-5000:]
