"""``python -m scripts.preview --project``: a team project previewed against the platform."""

from __future__ import annotations

import json
from pathlib import Path

from scripts import preview
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "docs" / "examples" / "team-serving"


def test_example_project_previews_as_json_without_mandatory_findings(tmp_path: Path) -> None:
    out = tmp_path / "team.json"
    code = preview.main(
        ["--project", str(EXAMPLE), "--stack", "dev", "--format", "json", "--output", str(out)]
    )
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert code == preview.EXIT_OK
    assert doc["project"] == "team-serving"
    assert doc["policy"]["mandatoryViolations"] == 0
    assert "mlops:index:ModelEndpoint::chat" in doc["counts"]["byComponent"]


def test_a_stack_reference_the_platform_cannot_answer_is_a_clear_failure(
    tmp_path: Path, capsys
) -> None:
    project = tmp_path / "team"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((EXAMPLE / name).read_text(encoding="utf-8"), "utf-8")
    stack = (EXAMPLE / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    (project / "Pulumi.dev.yaml").write_text(
        stack.replace("organization/mlops/dev", "organization/other/dev"), "utf-8"
    )
    code = preview.main(["--project", str(project), "--stack", "dev", "--no-policy"])
    assert code == preview.EXIT_PROGRAM
    assert "cannot answer StackReference 'organization/other/dev'" in capsys.readouterr().err


def test_a_folder_without_a_project_is_a_configuration_error(tmp_path: Path, capsys) -> None:
    code = preview.main(["--project", str(tmp_path), "--stack", "dev", "--no-policy"])
    assert code == preview.EXIT_CONFIG
    assert "no Pulumi.yaml" in capsys.readouterr().err
