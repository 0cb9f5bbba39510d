"""One home per fact: limits AWS sets live in ``core/limits.py`` and nowhere else.

Each test reads the product's sources (the library, the composition, the scripts and the policy
pack) and fails when a copy of a limit reappears: the KMS deletion window as a pair of literal
bounds or a literal window, the CloudWatch retention table, RDS's backup range. The config
rules call the components' checks rather than restating their messages, and the stack
configuration's alert thresholds are the alert rules' own.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlops_platform.config.model import AlertThresholdsConfig
from mlops_platform.core import limits
from mlops_platform.observability.alert_rules import THRESHOLD_RANGES, AlertThresholds

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
    return f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{line}"


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


# --- the config rules call the components' checks instead of restating their messages -------

RULES = ROOT / "components" / "config" / "rules"
MIN_MESSAGE = 25
"""Shorter literals ("listed twice", key names) are words, not messages worth a home."""


def _messages(paths: list[Path]) -> dict[str, list[str]]:
    """Each one-line string literal of at least :data:`MIN_MESSAGE` characters, and where."""
    found: dict[str, list[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and len(node.value) >= MIN_MESSAGE
                and "\n" not in node.value
            ):
                found.setdefault(node.value, []).append(_where(path, node.lineno))
    return found


def _library() -> list[Path]:
    """The library's modules: everything under components/ but the composition's config."""
    return [
        path
        for path in sorted((ROOT / "components").rglob("*.py"))
        if "config" not in path.relative_to(ROOT / "components").parts
        and "__pycache__" not in path.parts
    ]


def _restated(rules: list[Path], library: list[Path]) -> list[str]:
    library_messages = _messages(library)
    return [
        f"{text!r}: {where[0]} and {library_messages[text][0]}"
        for text, where in _messages(rules).items()
        if text in library_messages
    ]


def test_no_rule_message_restated_in_the_library() -> None:
    rules = sorted(RULES.glob("*.py"))
    assert len(_messages(rules)) >= 20, "the scan reads the rules' messages"
    restated = _restated(rules, _library())
    assert not restated, (
        "config rules restate a component check's message; call the component's check "
        f"(a function of plain values next to its validator) instead: {restated}"
    )


def test_the_message_scan_finds_a_planted_copy(tmp_path: Path) -> None:
    """Not vacuous: a rule that copies a library message word for word is found."""
    copied = "time-slicing and MIG cannot both be on one pool; choose one"
    assert copied in _messages(_library()), "the planted message is a library message"
    rule = tmp_path / "planted.py"
    rule.write_text(f"def rule(config):\n    return [Problem(('gpu',), None, {copied!r})]\n")
    assert _restated([rule], _library()) == [
        f"{copied!r}: {_where(rule, 2)} and {_messages(_library())[copied][0]}"
    ]


def test_the_config_thresholds_are_the_alert_rules_thresholds() -> None:
    """The stack file's thresholds, their bounds and unprofiled defaults come from the rules."""
    config = AlertThresholdsConfig.model_fields
    component = {field.name: field.default for field in dataclasses.fields(AlertThresholds)}
    assert list(config) == list(component) == list(THRESHOLD_RANGES)
    for name, info in config.items():
        if not info.is_required():
            assert info.default == component[name], name
