"""benchmark's input and failure handling (the measurement itself is not a test)."""

from __future__ import annotations

import sys

import pytest

from scripts import benchmark
from scripts.benchmark import ChildError, main


@pytest.mark.parametrize("runs", ["0", "-3", "two"])
def test_runs_below_one_is_a_usage_error(capsys, runs):
    with pytest.raises(SystemExit) as exited:
        main(["--runs", runs])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --runs:" in err and "Traceback" not in err


def test_unknown_stack_is_one_line_and_exit_2(capsys):
    assert main(["--stack", "qa", "--runs", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: synthesizing stack 'qa' failed (exit 1): ")
    assert "no stack file for stack 'qa'" in lines[0]


def test_failing_measured_child_is_one_line_and_exit_2(capsys, monkeypatch):
    monkeypatch.setattr(benchmark, "_probe", lambda stack: ["json"])
    measured = benchmark._run
    failing = [
        sys.executable,
        "-c",
        "import sys; print('noise\\nboom', file=sys.stderr); sys.exit(3)",
    ]
    monkeypatch.setattr(benchmark, "_run", lambda argv: measured(failing))
    assert main(["--stack", "dev", "--runs", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == ["error: the child exited 3: boom"]


def test_failing_child_raises_one_line():
    failing = [sys.executable, "-m", "json.tool", "--no-such-flag"]
    with pytest.raises(ChildError, match=r"^json.tool --no-such-flag exited 2: .*unrecognized"):
        benchmark._run(failing)


def test_children_are_named():
    assert benchmark._what([sys.executable, "-m", "scripts.preview", "--stack", "qa", "-x"]) == (
        "scripts.preview --stack qa"
    )
    assert benchmark._what([sys.executable, "-c", "import importlib\n..."]) == "the import floor"
