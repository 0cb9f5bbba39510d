"""Fixtures shared by every test tier.

Synthesizing a real stack is the suite's most repeated cost, so each unmodified real stack
(``stacks/Pulumi.<stack>.yaml``, no ``stack_file``) is synthesized at most once per session:
tests read it through the ``synthesized`` fixture, and CLIs run in-process get it through
``cli_synthesis``. :class:`SynthesisGuard` stands in for ``scripts.offline.synthesize`` for
the whole session and fails any test that synthesizes such a stack a second time. Mutated
stacks (a ``stack_file``) are synthesized per case. Subprocesses are not counted: the few
real-process CLI tests keep a real process for what only a process shows (exit behaviour,
output across processes).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import offline
from scripts.offline import engine
from scripts.policy_runner import Analyzer

REPO_ROOT = Path(__file__).resolve().parents[1]

REAL_STACK_MODULES = frozenset(
    {
        "tests/policy/test_real_stacks.py",
        "tests/policy/test_serving_rules.py",
        "tests/policy/test_tenancy_rules.py",
        "tests/scripts/test_architecture.py",
        "tests/scripts/test_cost.py",
        "tests/scripts/test_pin_check.py",
        "tests/scripts/test_preview_project.py",
        "tests/stacks/test_contract.py",
        "tests/stacks/test_stacks.py",
        "tests/unit/test_platform.py",
    }
)
"""Modules that read the shared recordings of the real stacks: one xdist worker runs them all."""

REAL_STACKS_GROUP = "real-stacks"


FIRST_MODULES = ("tests/unit/test_quality.py",)
"""Handed out first: the suite's longest single test (pyright over the sources) runs while the
other workers take everything else, instead of starting last and running alone."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run FIRST_MODULES first; the rest keep their collection order."""
    items.sort(key=lambda item: item.nodeid.split("::", 1)[0] not in FIRST_MODULES)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Hand out work by module, in collection order (see FIRST_MODULES), and every
    real-stack reader as one unit (the same worker)."""
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 - only under xdist

    config.option.loadscopereorder = False  # not by test count: pyright is one test

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return REAL_STACKS_GROUP if module in REAL_STACK_MODULES else module

    return ByModule(config, log)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker per core, at most four (each starts its own pack and moto)."""
    return max(1, min(os.cpu_count() or 1, 4))


_CLAIMS: list[Path] = []
"""The folder where this run's workers record the real stacks they synthesized (xdist only)."""


@pytest.fixture(scope="session", autouse=True)
def _synthesis_claims(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Under xdist a worker's temporary root sits in the run's: claims go there (pytest
    rotates it away with the run's other temporary files)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _CLAIMS[:] = [tmp_path_factory.getbasetemp().parent / "synthesis-claims"]


def _claim(stack: str) -> str | None:
    """Record that this worker synthesizes ``stack``; the other worker that did, if any."""
    if not _CLAIMS:
        return None
    claims, worker = _CLAIMS[0], os.environ["PYTEST_XDIST_WORKER"]
    claims.mkdir(exist_ok=True)
    others = [p.name.split("@", 1)[1] for p in claims.glob(f"{stack}@*")]
    (claims / f"{stack}@{worker}").touch()
    return next((w for w in others if w != worker), None)


DEPLOY_PATH_ELSEWHERE = {
    "mlops:deployRunner": json.dumps(
        {"enabled": False, "alternativeAccess": "tests: a network routed into the VPC"}
    )
}
"""Config for tests of minimal test/prod stacks that are not about the deploy path: no runner
(it needs a GitHub connection), and the private endpoint reached some other way."""


def read_stack(stack: str) -> dict[str, Any]:
    """A real stack file, parsed."""
    with (REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def stack_document() -> Callable[[str], dict[str, Any]]:
    """A deep copy of a real stack file's document, safe to mutate."""
    return lambda stack: copy.deepcopy(read_stack(stack))


@pytest.fixture
def write_stack(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write a stack document to a temporary settings file and return its path."""

    def write(document: dict[str, Any]) -> Path:
        path = tmp_path / "Pulumi.case.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Call a CLI's ``main(argv)`` in-process; returns ``(exit code, stdout, stderr)``."""

    def call(main, *argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return code, captured.out, captured.err

    return call


class SynthesisGuard:
    """``synthesize`` that fails a test synthesizing an unmodified real stack a second time
    in the session (mutated stacks, other roots and other stacks pass straight through)."""

    def __init__(self, synthesize: Callable[..., Any]) -> None:
        self.synthesize = synthesize
        self.first: dict[str, str] = {}
        """Each real stack synthesized so far, with the test that did it."""
        self._again: set[str] = set()

    def __call__(
        self,
        stack: str,
        root: Path = REPO_ROOT,
        stack_file: Path | None = None,
        monitor: Any = None,
        **options: Any,
    ) -> Any:
        if stack_file is None and not options and Path(root).resolve() == REPO_ROOT:
            if stack in self.first and stack not in self._again:
                pytest.fail(
                    f"the real stack {stack!r} is synthesized a second time in this session "
                    f"(first by {self.first[stack]}): read it through the `synthesized` "
                    "fixture, or `cli_synthesis` for a CLI run in-process",
                    pytrace=False,
                )
            self._again.discard(stack)
            other = _claim(stack) if stack not in self.first else None
            if other is not None:
                pytest.fail(
                    f"the real stack {stack!r} is synthesized again on this worker after "
                    f"worker {other} did: add this test's module to REAL_STACK_MODULES in "
                    "tests/conftest.py so one worker runs every reader of the recordings",
                    pytrace=False,
                )
            recording = self.synthesize(stack, root, stack_file, monitor)
            test = os.environ.get("PYTEST_CURRENT_TEST", "a fixture").rsplit(" ", 1)[0]
            self.first.setdefault(stack, test)  # once it synthesized (an unknown stack fails)
            return recording
        return self.synthesize(stack, root, stack_file, monitor, **options)

    @contextlib.contextmanager
    def once_more(self, stack: str) -> Iterator[None]:
        """Allow one more synthesis of ``stack`` (for the one test that compares two runs)."""
        self._again.add(stack)
        try:
            yield
        finally:
            self._again.discard(stack)


def _install_guard() -> SynthesisGuard:
    """Put the guard wherever ``synthesize`` is bound, before any test module imports it."""
    original = engine.synthesize
    guard = SynthesisGuard(original)
    for module in list(sys.modules.values()):
        if getattr(module, "synthesize", None) is original:
            module.synthesize = guard  # type: ignore[attr-defined]
    return guard


SYNTHESIS_GUARD = _install_guard()


@pytest.fixture(scope="session")
def synthesized() -> Callable[[str], Any]:
    """Each real stack synthesized at most once per session, shared by every test that
    only reads the recording (never mutate it: derive copies, e.g. ``with_changes``)."""
    cache: dict[str, Any] = {}
    synthesize = offline.synthesize  # bound now: a test may patch the module's name with
    # `cli_synthesis`, which comes back here (a loop when this is the first reader)

    def get(stack: str) -> Any:
        if stack not in cache:
            cache[stack] = synthesize(stack)
        return cache[stack]

    return get


@pytest.fixture
def cli_synthesis(synthesized: Callable[[str], Any]) -> Callable[..., Any]:
    """``synthesize`` for a CLI run in-process: the shared recording of an unmodified real
    stack, a fresh synthesis of anything else (a ``--stack-file``, another root)."""

    def synthesize(
        stack: str, root: Path = REPO_ROOT, stack_file: Path | None = None, monitor: Any = None
    ) -> Any:
        if stack_file is None and monitor is None and Path(root).resolve() == REPO_ROOT:
            return synthesized(stack)
        return offline.synthesize(stack, root, stack_file, monitor)

    return synthesize


@pytest.fixture(scope="session")
def analyzer() -> Iterator[Analyzer]:
    """The policy pack, started once per session as ``python __main__.py`` in ``policy/``."""
    with Analyzer() as running:
        yield running


class SharedAnalyzer:
    """The session's pack in place of a fresh ``Analyzer()``: launching and closing it are
    no-ops, everything else is the running pack's."""

    def __init__(self, running: Analyzer) -> None:
        self._running = running

    def __getattr__(self, name: str) -> Any:
        return getattr(self._running, name)

    def launch(self) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Analyzer:
        return self._running

    def __exit__(self, *_: object) -> None:
        return None


@pytest.fixture(scope="session", autouse=True)
def _team_previews_share_the_platform(synthesized: Callable[[str], Any]) -> Iterator[None]:
    """A team project's preview reads the platform stack's outputs: from the shared recording
    of the unmodified real stack, not from a second synthesis of it."""
    from scripts.offline import team  # noqa: PLC0415

    guarded = team.synthesize

    def synthesize(
        stack: str,
        root: Path = REPO_ROOT,
        stack_file: Path | None = None,
        monitor: Any = None,
        **options: Any,
    ) -> Any:
        if (
            stack_file is None
            and monitor is None
            and not options
            and Path(root).resolve() == REPO_ROOT
        ):
            return synthesized(stack)
        return guarded(stack, root, stack_file, monitor, **options)

    team.synthesize = synthesize  # type: ignore[assignment]
    yield
    team.synthesize = guarded  # type: ignore[assignment]


@pytest.fixture
def shared_pack(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``Analyzer()`` a CLI makes in this test is the session's pack (started the
    first time one is asked for)."""
    from scripts import policy_runner  # noqa: PLC0415

    monkeypatch.setattr(
        policy_runner,
        "Analyzer",
        lambda *_a, **_k: SharedAnalyzer(request.getfixturevalue("analyzer")),
    )
