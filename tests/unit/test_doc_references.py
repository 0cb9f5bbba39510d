"""The docs name code that exists: every ``mlops_platform.…`` name and every repository path
they cite resolves (modules move when files split; their pages must follow)."""

from __future__ import annotations

import importlib
import re

import pytest

from tests.conftest import REPO_ROOT

PAGES = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").rglob("*.md")])
_DOTTED = re.compile(r"`(mlops_platform(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_PATH = re.compile(
    r"`((?:components|scripts|policy|stacks|tests)/[A-Za-z0-9_./-]+\.(?:py|toml|json|yaml|csv))"
)


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def _cited(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return [
        (str(page.relative_to(REPO_ROOT)), match)
        for page in PAGES
        for match in sorted(set(pattern.findall(page.read_text(encoding="utf-8"))))
    ]


@pytest.mark.parametrize(("page", "name"), _cited(_DOTTED))
def test_a_cited_python_name_exists(page: str, name: str) -> None:
    assert _resolves(name), f"{page} cites {name}, which does not exist"


def test_every_cited_repository_path_exists() -> None:
    missing = [(page, path) for page, path in _cited(_PATH) if not (REPO_ROOT / path).exists()]
    assert not missing, f"pages cite files that do not exist: {missing}"


def test_the_reference_scan_is_not_vacuous() -> None:
    assert len(_cited(_DOTTED)) > 10 and len(_cited(_PATH)) > 10
    assert not _resolves("mlops_platform.iam.platform_iam.no_such_name")
