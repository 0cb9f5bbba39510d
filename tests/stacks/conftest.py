"""The stacks tier: the preview CLI in-process over the session's recordings and pack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scripts import preview


@pytest.fixture
def in_process_preview(
    monkeypatch: pytest.MonkeyPatch, cli_synthesis: Callable[..., Any], shared_pack: None
) -> None:
    """``preview.main`` in this process reads each unmodified real stack from the session's
    recordings and judges it with the session's pack (``--stack-file`` cases synthesize)."""
    monkeypatch.setattr(preview, "synthesize", cli_synthesis)
