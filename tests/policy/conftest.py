"""The policy tier: one analyzer (the real pack, over gRPC) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.policy_runner import Analyzer


@pytest.fixture(scope="session")
def analyzer() -> Iterator[Analyzer]:
    """The policy pack, started once as ``python __main__.py`` in ``policy/``."""
    with Analyzer() as running:
        yield running
