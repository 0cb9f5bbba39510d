"""One home per fact: limits AWS sets live in ``core/limits.py`` and nowhere else.

Each test reads the product's sources (the library, the composition, the scripts and the policy
pack) and fails when a copy of a limit reappears: the KMS deletion window as a pair of literal
bounds or a literal window, the CloudWatch retention table, RDS's backup range.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlops_platform.core import limits

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "components" / "core" / "limits.py"
SOURCES = ("components", "scripts", "policy")


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if path != HOME and "__pycache__" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _int(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _ints(node: ast.AST) -> set[int]:
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        values = [_int(e) for e in node.elts]
        return {v for v in values if v is not None}
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"frozenset", "set"}:
        return _ints(node.args[0]) if node.args else set()
    return set()


def _bound_pairs(tree: ast.Module) -> Iterator[tuple[int, tuple[int, int]]]:
    """Literal (low, high) pairs: tuples, chained comparisons, ``ge=``/``le=`` keywords."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            low, high = (_int(e) for e in node.elts)
            if low is not None and high is not None:
                yield node.lineno, (low, high)
        elif isinstance(node, ast.Compare) and len(node.comparators) == 2:
            low, high = _int(node.left), _int(node.comparators[1])
            if low is not None and high is not None:
                yield node.lineno, (low, high)
        elif isinstance(node, ast.Call):
            kw = {k.arg: _int(k.value) for k in node.keywords if k.arg in {"ge", "le"}}
            if kw.get("ge") is not None and kw.get("le") is not None:
                yield node.lineno, (kw["ge"], kw["le"])  # type: ignore[misc]


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


@pytest.mark.parametrize(
    "bounds",
    [limits.KMS_DELETION_WINDOW_DAYS, limits.RDS_BACKUP_RETENTION_DAYS],
    ids=["kms-deletion-window", "rds-backup-retention"],
)
def test_no_copy_of_a_range_limit(bounds: tuple[int, int]) -> None:
    copies = [
        _where(path, line)
        for path, tree in _modules()
        for line, pair in _bound_pairs(tree)
        if pair == bounds
    ]
    assert not copies, f"{bounds} restated; import it from core/limits.py: {copies}"


def test_no_literal_kms_deletion_window() -> None:
    copies = [
        _where(path, node.lineno)
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword)
        and node.arg == "deletion_window_in_days"
        and not isinstance(node.value, ast.Attribute | ast.Name)
    ]
    assert not copies, f"a key's deletion window is hard-coded, not an argument: {copies}"


def test_no_copy_of_the_cloudwatch_retention_table() -> None:
    table = set(limits.CLOUDWATCH_RETENTION_DAYS)
    copies = [
        _where(path, getattr(node, "lineno", 0))
        for path, tree in _modules()
        for node in ast.walk(tree)
        if len(found := _ints(node)) >= 5 and found <= table
    ]
    assert not copies, f"CloudWatch's retention periods restated: {copies}"


def test_the_scan_finds_a_planted_copy(tmp_path: Path) -> None:
    """The detectors are not vacuous: each finds the copy it looks for."""
    tree = ast.parse(
        "W = (7, 30)\n"
        "ok = 7 <= days <= 30\n"
        "f = Field(ge=1, le=35)\n"
        "D = frozenset({1, 3, 5, 7, 14, 30})\n"
    )
    pairs = {pair for _, pair in _bound_pairs(tree)}
    assert limits.KMS_DELETION_WINDOW_DAYS in pairs
    assert limits.RDS_BACKUP_RETENTION_DAYS in pairs
    table = set(limits.CLOUDWATCH_RETENTION_DAYS)
    assert any(len(s) >= 5 and s <= table for s in map(_ints, ast.walk(tree)))


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (limits.kms_deletion_window_problems, 7, 6),
        (limits.kms_deletion_window_problems, 30, 31),
        (limits.retention_problems, 365, 366),
        (limits.retention_problems, 3653, True),
    ],
)
def test_checks_name_the_argument_and_what_is_allowed(check, good, bad) -> None:
    assert check("x_days", good) == []
    [problem] = check("x_days", bad)
    assert problem.arg == "x_days" and problem.value == bad
    assert any(ch.isdigit() for ch in problem.allowed)
