"""Value-level checks several components make, each returning the problems it finds.

Every check names the argument it looked at (``arg[i]`` for an item of a list) and says what
is allowed in the caller's words; values not known yet (Outputs) are left to AWS.
"""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import Iterable
from typing import Any

import pulumi

from .patterns import DNS_LABEL, Pattern
from .validation import Invalid


def unknown(value: Any) -> bool:
    """Whether ``value`` is not known until the deployment runs (an Output, an awaitable)."""
    return isinstance(value, pulumi.Output) or inspect.isawaitable(value)


def int_between(value: Any, low: int, high: int) -> bool:
    """Whether ``value`` is an integer (not a bool) from ``low`` to ``high``."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def cidr_problems(
    arg: str,
    cidrs: Iterable[Any],
    *,
    allowed: str,
    internet: str | None = None,
    ipv4_only: bool = False,
) -> list[Invalid]:
    """Each plain item of ``cidrs`` is a CIDR with host bits zero (IPv4 only with
    ``ipv4_only``), else ``allowed`` is the message; with ``internet``, a ``/0`` is refused
    with that message."""
    parse = ipaddress.IPv4Network if ipv4_only else ipaddress.ip_network
    problems: list[Invalid] = []
    for i, cidr in enumerate(cidrs):
        if unknown(cidr):
            continue
        try:
            if not isinstance(cidr, str):
                raise TypeError(cidr)  # ipaddress would take an integer as an address
            network = parse(cidr, strict=True)
        except (TypeError, ValueError):
            problems.append(Invalid(f"{arg}[{i}]", cidr, allowed))
            continue
        if internet is not None and network.prefixlen == 0:
            problems.append(Invalid(f"{arg}[{i}]", cidr, internet))
    return problems


def pattern_problems(
    args: Any, *fields: str, pattern: Pattern = DNS_LABEL, allowed: str | None = None
) -> list[Invalid]:
    """Each named field of ``args`` is a string of ``pattern``'s shape (default: a DNS-1123
    label); ``allowed`` (default: the pattern's words) says what is allowed."""
    return [
        Invalid(name, value, allowed or pattern.allowed)
        for name in fields
        if not pattern.matches(value := getattr(args, name))
    ]


def chart_problems(
    args: Any,
    *,
    example: str,
    pattern: Pattern,
    repository_scheme: str = "https://",
) -> list[Invalid]:
    """``args.chart_version`` is pinned (``pattern``, e.g. ``example``) and
    ``args.chart_repository`` starts with ``repository_scheme``."""
    problems: list[Invalid] = []
    if not pattern.matches(args.chart_version):
        problems.append(
            Invalid("chart_version", args.chart_version, f"an exact version such as {example}")
        )
    if not str(args.chart_repository).startswith(repository_scheme):
        problems.append(
            Invalid(
                "chart_repository",
                args.chart_repository,
                f"an {repository_scheme} chart repository",
            )
        )
    return problems
