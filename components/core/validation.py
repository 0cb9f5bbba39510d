"""Constructor validation: collect every bad input, then raise once.

Components check their arguments before registering any child and report all problems in
one :class:`ComponentInputError`, each naming the argument, the bad value and what is
allowed. It is a ``pulumi.RunError``, so ``pulumi up`` shows the message, not a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi


@dataclass(frozen=True)
class Invalid:
    """One bad argument."""

    arg: str
    value: Any
    allowed: str


class ComponentInputError(pulumi.RunError):
    """A component was given arguments it cannot build from."""

    def __init__(self, component: str, name: str, problems: list[Invalid]) -> None:
        self.component = component
        self.name = name
        self.problems = problems
        lines = [f"{component} '{name}' has {len(problems)} invalid argument(s):"]
        lines += [
            f"  - {p.arg} = {json.dumps(p.value, default=str)}: {p.allowed}" for p in problems
        ]
        super().__init__("\n".join(lines))


def raise_if_invalid(component: str, name: str, problems: list[Invalid]) -> None:
    """Raise :class:`ComponentInputError` when ``problems`` is not empty."""
    if problems:
        raise ComponentInputError(component, name, problems)
