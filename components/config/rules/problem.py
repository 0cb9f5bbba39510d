"""A problem a rule finds: where in the stack configuration, the value, what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration: where, the bad value, what is allowed."""

    path: Path
    value: Any
    message: str
