"""Fixtures for the operator-script tests: a real moto server on 127.0.0.1.

``moto_endpoint`` starts (once per session) ``moto.server`` as a subprocess on a free
loopback port, and for each test: resets moto's state (``POST /moto-api/reset``), points
``AWS_ENDPOINT_URL`` at it, sets dummy credentials and a region, turns retries down, and
hides the developer's own AWS config so no test can reach a real account. The server is
stopped by its PID at the end of the session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on 127.0.0.1:``port`` (Linux /proc), empty when unknown."""
    inodes: set[str] = set()
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return inodes
    for line in lines:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            inodes.add(inode)
    return inodes


def _owns_port(pid: int, port: int) -> bool:
    """Whether process ``pid`` is the one listening on ``port`` (True when unknowable).

    Other sessions on this machine start servers on free ports too; this makes sure the
    server that answers is ours and not a neighbour's that won a race for the port.
    """
    fd_dir = Path(f"/proc/{pid}/fd")
    if not fd_dir.is_dir():
        return True
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    for fd in fd_dir.iterdir():
        try:
            if str(fd.readlink()) in wanted:
                return True
        except OSError:
            continue
    return False


def _wait_until_up(url: str, port: int, process: subprocess.Popen[bytes]) -> bool:
    """True when our server answers; False when it died (e.g. lost the port to another)."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310 - loopback
                if _owns_port(process.pid, port):
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer on {url} within {_START_TIMEOUT_S} s")


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill our server by its PID (SIGKILL) and reap it; nothing if it has already exited."""
    process.kill()
    process.wait(timeout=10)


def _moto_command(port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def start_server(
    log: Path, command: Callable[[int], list[str]] = _moto_command
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start the server on a free port (up to three tries); its URL and process.

    A server that does not answer in time is killed (by its PID) before the error is raised.
    """
    for _attempt in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("ab") as sink:
            process = subprocess.Popen(command(port), stdout=sink, stderr=subprocess.STDOUT)
        try:
            up = _wait_until_up(url, port, process)
        except BaseException:
            _kill(process)  # it never answered in time: do not leave it running
            raise
        if up:
            return url, process
        process.wait(timeout=10)
    raise RuntimeError(f"moto server would not start; see {log}")


@pytest.fixture(scope="session")
def _moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, process = start_server(tmp_path_factory.mktemp("moto") / "server.log")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def reset_moto(url: str) -> None:
    """Forget every resource moto holds (all accounts, all regions)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback only
        pass


@pytest.fixture
def aws_at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str, int], None]:
    """``aws_at(url, attempts)`` points the standard AWS environment at ``url`` alone, for the
    test: dummy credentials, region us-east-1, ``attempts`` attempts per call, and none of
    the developer's AWS settings (every other ``AWS_*`` and ``PULUMI_BACKEND*`` variable is
    removed, the AWS config files are hidden, instance metadata is off)."""

    def point(url: str, attempts: int) -> None:
        for name in list(os.environ):
            if name.startswith(("AWS_", "PULUMI_BACKEND")):
                monkeypatch.delenv(name, raising=False)
        for name, value in {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": str(attempts),
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }.items():
            monkeypatch.setenv(name, value)

    return point


@pytest.fixture
def moto_endpoint(_moto_server: str, aws_at: Callable[[str, int], None]) -> str:
    """The URL of a fresh (reset) moto server, with the AWS environment pointed at it."""
    reset_moto(_moto_server)
    aws_at(_moto_server, 2)
    return _moto_server


@pytest.fixture
def closed_endpoint(aws_at: Callable[[str, int], None]) -> Iterator[str]:
    """AWS_ENDPOINT_URL at a 127.0.0.1 port that refuses connections, one attempt per call.

    The port stays bound (never listening) for the test, so no other process can take it.
    """
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{holder.getsockname()[1]}"
    aws_at(url, 1)
    try:
        yield url
    finally:
        holder.close()


def run_module(module: str, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``python -m <module> ...`` from the repo root with the current environment."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", module, *argv],
        cwd=root,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ),
    )


@pytest.fixture
def run_script() -> object:
    """:func:`run_module` as a fixture (``python -m scripts.<name>`` in a subprocess)."""
    return run_module
