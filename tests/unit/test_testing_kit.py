"""The shipped test kit: a team project (with a ``components/`` package of its own) tests its
program under ``mlops_platform.testing`` in its own pytest, in a fresh interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "testing.md"


def _documented_module() -> str:
    match = re.search(r"## A whole pytest module\n\n```python\n(.*?)```", DOC.read_text(), re.S)
    assert match, "docs/testing.md lost its example module"
    return match.group(1)


def test_the_documented_team_module_passes_in_a_team_project(tmp_path: Path):
    project = tmp_path / "team-project"
    (project / "components").mkdir(parents=True)
    # The team's own components/ package: the library must not be shadowed by it.
    (project / "components" / "__init__.py").write_text('TEAM = "ours"\n', encoding="utf-8")
    (project / "tests").mkdir()
    (project / "tests" / "test_infra.py").write_text(_documented_module(), encoding="utf-8")
    (project / "tests" / "test_own_components.py").write_text(
        "import components\n\n\ndef test_ours():\n    assert components.TEAM == 'ours'\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout


def test_the_kit_is_the_engine_the_scripts_use():
    from mlops_platform import testing  # noqa: PLC0415

    from scripts.offline import engine, mocks  # noqa: PLC0415

    assert engine.run_program is testing.run_program is testing.run
    assert engine.Recording is testing.Recording
    assert mocks.PlatformMocks is testing.PlatformMocks
    assert mocks.RecordingMonitor is testing.RecordingMonitor


def test_a_run_after_a_failed_run_starts_clean():
    import pulumi  # noqa: PLC0415
    import pytest  # noqa: PLC0415
    from mlops_platform.storage import ArtifactStore, ArtifactStoreArgs  # noqa: PLC0415
    from mlops_platform.testing import UnansweredStackReferenceError, run  # noqa: PLC0415

    def failing() -> None:
        ArtifactStore("store", ArtifactStoreArgs(name_prefix="t-dev"))  # outputs pending
        pulumi.StackReference("org/mlops/nowhere")  # the mocks hold no such stack: fails

    with pytest.raises(Exception, match="cannot answer StackReference") as error:
        run(failing)
    assert error.type is UnansweredStackReferenceError or "StackReference" in str(error.value)
    recording = run(lambda: ArtifactStore("store", ArtifactStoreArgs(name_prefix="t-dev")))
    assert recording.one("mlops:index:ArtifactStore", "store")
