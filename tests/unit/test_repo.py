"""Repository hygiene: CI runs exactly the README's commands; no registry hosts or machine paths."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import REPO_ROOT


def _setup_section_commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.strip().splitlines()]


def test_ci_runs_the_readme_setup_then_test_command():
    commands = _setup_section_commands()
    assert len(commands) == 2, commands
    ci_lines = [
        line.strip()
        for line in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    executed = [line for line in ci_lines if not line.startswith(("set ", "cd "))]
    assert executed == commands


def test_no_registry_host_index_url_or_machine_path_is_tracked():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    forbidden = re.compile(
        r"(pypi\.org|pythonhosted\.org|registry\.npmjs\.org|--index-url|--extra-index-url"
        r"|--find-links|/work/|/root/|/home/[a-z]|/Users/[A-Za-z])"
    )
    offenders = []
    for name in tracked:
        path = REPO_ROOT / name
        if not path.is_file() or path.suffix in {".png", ".jpg"} or name.endswith("test_repo.py"):
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        offenders += [f"{name}: {m.group(0)}" for m in forbidden.finditer(text)]
    assert offenders == []
