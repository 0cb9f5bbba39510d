"""CIDR blocks that are "the internet": normalised with :mod:`ipaddress`, not by string."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

BROAD_PREFIX = 8
"""A range shorter than this (IPv4 or IPv6) counts as open to the world."""

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: Any) -> _Network | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def world_cidrs(values: Iterable[Any]) -> list[str]:
    """The CIDRs among ``values`` that open to the world: each one broader than /8
    (``0.0.0.0/0``, ``::/0``, ``0.0.0.0/1``, ...), or all of them when together they cover
    a whole address family (e.g. ``0.0.0.0/1`` + ``128.0.0.0/1``)."""
    given = [(str(v), n) for v in values if (n := _network(v)) is not None]
    found = [text for text, net in given if net.prefixlen < BROAD_PREFIX]
    for version in (4, 6):
        family = [net for _, net in given if net.version == version]
        if not family:
            continue
        collapsed = list(ipaddress.collapse_addresses(family))  # type: ignore[arg-type]
        if len(collapsed) == 1 and collapsed[0].prefixlen == 0:
            found += [text for text, net in given if net.version == version]
    return list(dict.fromkeys(found))


def is_world(value: Any) -> bool:
    """Whether one CIDR opens to the world."""
    return bool(world_cidrs([value]))
