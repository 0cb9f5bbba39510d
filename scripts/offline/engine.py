"""The repository's offline preview engine: the real program (``__main__.py``) with a stack's
real config file, run by :mod:`mlops_platform.testing` (the shipped test kit, where the
generic engine lives since 0.2.0; the kit's names the scripts and tests use are re-exported
here, the others are imported from the kit itself).
"""

from __future__ import annotations

import runpy
from pathlib import Path

from mlops_platform.testing import Recording, Registration, Secret, Unknown, plain, run_program
from mlops_platform.testing.mocks import PlatformMocks, RecordingMonitor

from scripts.offline.project import (
    REPO_ROOT,
    SECRET_PLACEHOLDER,
    StackConfig,
    load_stack_config,
)

__all__ = ["Recording", "Registration", "Secret", "Unknown", "plain", "run_program", "synthesize"]


def synthesize(
    stack: str,
    root: Path = REPO_ROOT,
    stack_file: Path | None = None,
    monitor: RecordingMonitor | None = None,
    mocks: PlatformMocks | None = None,
) -> Recording:
    """Run the real program (``__main__.py`` in ``root``) with the stack's real config file;
    ``mocks`` replaces the answers derived from the config (e.g. to answer StackReferences).

    Encrypted values stand in as the example the platform's config model documents for
    their field (so they have its shape), else as a generic placeholder."""
    stack_config: StackConfig = load_stack_config(stack, root, stack_file, _secret_stand_in)
    program = root / "__main__.py"

    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")

    return run_program(
        run,
        project=stack_config.project,
        stack=stack,
        config=stack_config.values,
        secret_keys=stack_config.secret_keys,
        monitor=monitor,
        mocks=mocks,
    )


def _secret_stand_in(key: str, path: tuple[str | int, ...]) -> str:
    from mlops_platform.config.loader import documented_example  # noqa: PLC0415

    return documented_example(key, path) or SECRET_PLACEHOLDER
