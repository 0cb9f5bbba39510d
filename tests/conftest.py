"""Fixtures shared by every test tier."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]

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


@pytest.fixture(scope="session")
def synthesized() -> Callable[[str], Any]:
    """Each real stack synthesized at most once per session, shared by every test that
    only reads the recording (never mutate it: derive copies, e.g. ``with_changes``)."""
    from scripts.offline import synthesize  # noqa: PLC0415

    cache: dict[str, Any] = {}

    def get(stack: str) -> Any:
        if stack not in cache:
            cache[stack] = synthesize(stack)
        return cache[stack]

    return get
