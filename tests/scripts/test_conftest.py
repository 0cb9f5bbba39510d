"""The moto fixture's own hygiene: a server that never answers is not left running."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts import conftest


def test_server_that_never_answers_is_killed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    started: list[subprocess.Popen[bytes]] = []

    def never_up(url: str, port: int, process: subprocess.Popen[bytes]) -> bool:
        started.append(process)
        assert process.poll() is None  # running when the wait gives up
        raise RuntimeError(f"moto server did not answer on {url} within 0 s")

    monkeypatch.setattr(conftest, "_wait_until_up", never_up)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(RuntimeError, match="did not answer"):
        conftest.start_server(tmp_path / "server.log", lambda _port: sleeper)
    assert len(started) == 1
    assert started[0].poll() is not None  # killed and reaped, not leaked
    assert started[0].returncode < 0  # by a signal
