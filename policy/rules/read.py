"""The tolerant reading layer every rule reads resource inputs through.

A rule never indexes raw inputs. It walks a :class:`Node` (``node["spec"]["replicas"]``,
which never raises) and reads a leaf with a typed accessor (``.text()``, ``.flag()``,
``.number()``, ``.items()``, ``.entries()``, ``.strings()``, ``.tags()``, ``.doc()``), which

- normalises the equivalent spellings the provider schemas and the engine produce (booleans
  and numbers sent as strings, a single string where a list is allowed, tags as a map or as a
  list of ``{key, value}`` objects, a policy document as a JSON string or an object);
- turns a value of the wrong shape into a finding *"cannot read X as Y"* on the resource, at
  the rule's enforcement level, and returns the accessor's default (so the rule goes on and
  never raises);
- handles the engine's unknown-value sentinel: during a preview it stops the check the way
  ``pulumi_policy`` does (an advisory "can't run during preview"); outside a preview (the
  engine says so with ``ConfigureStack(dry_run=false)`` / ``PULUMI_DRY_RUN=false``) an
  unknown value in an input the rule needs is a finding at the rule's level.

Names read only for messages go through ``.label()``, which never tracks unknowns: a literal
value that happens to equal the sentinel cannot downgrade a finding.

Each resource's inputs are deserialised once per Analyze / AnalyzeStack and shared by every
rule of the pack (see ``rule.install_dispatch``); nodes are thin views, created on access.
"""

from __future__ import annotations

import contextvars
import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from pulumi_policy.proxy import UnknownValueError

UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
"""The engine's unknown-value sentinels (``pulumi_policy.proxy``): a value not known yet."""


class UnknownInUpdate(Exception):  # noqa: N818 - named like the SDK's UnknownValueError
    """An input a rule needs is unknown outside a preview: the check stops here and the
    reading problem recorded for it is the finding."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


# --- run mode ------------------------------------------------------------------------------


class Mode:
    """Whether the engine runs a preview. ``ConfigureStack`` carries ``dry_run``; engines
    that do not call it launch the pack with ``PULUMI_DRY_RUN``; with neither, a preview is
    assumed (the SDK's own behaviour)."""

    configured: bool | None = None

    @classmethod
    def preview(cls) -> bool:
        if cls.configured is not None:
            return cls.configured
        env = os.environ.get("PULUMI_DRY_RUN")
        return env is None or env.strip().lower() != "false"


# --- evaluation context ----------------------------------------------------------------------


class Evaluation:
    """The problems one rule meets while reading (shape and, outside preview, unknowns),
    keyed by the URN of the resource they concern."""

    __slots__ = ("preview", "problems")

    def __init__(self, preview: bool) -> None:
        self.preview = preview
        self.problems: dict[tuple[str, str], None] = {}

    def add(self, urn: str, message: str) -> None:
        self.problems[(urn, message)] = None

    def by_urn(self) -> Iterator[tuple[str, str]]:
        yield from self.problems


_CURRENT: contextvars.ContextVar[Evaluation | None] = contextvars.ContextVar(
    "mlops_policy_evaluation", default=None
)


def begin(preview: bool | None = None) -> contextvars.Token[Evaluation | None]:
    """Start collecting reading problems for one rule run."""
    return _CURRENT.set(Evaluation(Mode.preview() if preview is None else preview))


def end(token: contextvars.Token[Evaluation | None]) -> Evaluation:
    """Stop collecting; the problems met."""
    ev = _CURRENT.get()
    _CURRENT.reset(token)
    assert ev is not None
    return ev


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "a list"
    return type(value).__name__


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is the engine's unknown sentinel."""
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


# --- nodes -------------------------------------------------------------------------------------


def _as_text(raw: Any) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float) and math.isfinite(raw):
        return str(int(raw)) if float(raw).is_integer() else str(raw)
    return None


def _as_flag(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return None


def _as_number(raw: Any) -> float | None:
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            return None
    return value if value is not None and math.isfinite(value) else None


class Node:
    """A read-only view of one value in a resource's inputs, with its path."""

    __slots__ = ("path", "raw", "urn")

    def __init__(self, raw: Any, path: tuple[str | int, ...] = (), urn: str = "") -> None:
        self.raw = raw
        self.path = path
        self.urn = urn

    # navigation (never raises; stepping into a value of the wrong shape is a problem, and
    # the child of an unknown value is unknown)
    def __getitem__(self, key: str | int) -> Node:
        raw = self.raw
        if isinstance(key, int):
            if isinstance(raw, list | tuple):
                if -len(raw) <= key < len(raw):
                    return Node(raw[key], (*self.path, key), self.urn)
                return Node(MISSING, (*self.path, key), self.urn)
            expected = "a list"
        else:
            if isinstance(raw, Mapping):
                if key in raw:
                    return Node(raw[key], (*self.path, key), self.urn)
                return Node(MISSING, (*self.path, key), self.urn)
            expected = "an object"
        if is_unknown(raw):
            return Node(raw, (*self.path, key), self.urn)
        if raw is not MISSING and raw is not None:
            self._problem(expected)
        return Node(MISSING, (*self.path, key), self.urn)

    def at(self, *keys: str | int) -> Node:
        """``self[k0][k1]...``."""
        node = self
        for key in keys:
            node = node[key]
        return node

    def get(self, key: str, default: Any = None) -> Any:
        """Compatibility: the raw value at ``key`` (unknown sentinels count as absent)."""
        value = self[key].raw
        return default if value is MISSING or value is None or is_unknown(value) else value

    def __contains__(self, key: object) -> bool:
        return isinstance(self.raw, Mapping) and key in self.raw

    @property
    def absent(self) -> bool:
        """Not given (missing or null)."""
        return self.raw is MISSING or self.raw is None

    @property
    def present(self) -> bool:
        """Given (even if unknown)."""
        return not self.absent

    def where(self) -> str:
        """The path as people read it: ``spec.containers[0].image``."""
        out = ""
        for step in self.path:
            out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
        return out or "(inputs)"

    # recording
    def _problem(self, expected: str) -> None:
        ev = _CURRENT.get()
        if ev is not None:
            ev.add(
                self.urn,
                f"cannot read {self.where()} as {expected} (it is {_kind(self.raw)}); the "
                "value is treated as not meeting the rule",
            )

    def _unknown(self) -> None:
        ev = _CURRENT.get()
        preview = ev.preview if ev is not None else Mode.preview()
        if preview:
            raise UnknownValueError(str(self.raw), [str(p) for p in self.path])
        if ev is not None:
            ev.add(
                self.urn,
                f"{self.where()} is unknown outside a preview (the engine sent the "
                "unknown-value sentinel in an update), so the rule cannot be verified",
            )
        raise UnknownInUpdate(self.where())

    def known(self) -> bool:
        """False (after recording/raising for the unknown) when this is the sentinel."""
        if is_unknown(self.raw):
            self._unknown()
            return False
        return True

    # typed leaves
    def _leaf(self, default: Any, expected: str, convert: Any) -> Any:
        """``convert(raw)`` of a scalar leaf: ``default`` when it is absent (or unknown, once
        the unknown is handled); when ``convert`` gives None (the value is not
        ``expected``), a reading problem and ``default``."""
        raw = self.raw
        if raw is MISSING or raw is None or (isinstance(raw, str) and not self.known()):
            return default
        value = convert(raw)
        if value is None:
            self._problem(expected)
            return default
        return value

    def text(self, default: Any = None) -> Any:
        """Text; numbers and booleans as their text."""
        return self._leaf(default, "text", _as_text)

    def flag(self, default: Any = None) -> Any:
        """A boolean; ``"true"``/``"false"`` in any case count."""
        return self._leaf(default, "a boolean (true/false)", _as_flag)

    def number(self, default: Any = None) -> Any:
        """A finite number; numeric strings (``"30"``, ``"1e3"``) count."""
        return self._leaf(default, "a finite number", _as_number)

    def items(self, *, single: bool = False) -> list[Node]:
        """The elements (absent: none). ``single``: a lone value counts as a one-element
        list (IAM's Action/Resource/Statement)."""
        raw = self.raw
        if raw is MISSING or raw is None:
            return []
        if isinstance(raw, list | tuple):
            return [Node(v, (*self.path, i), self.urn) for i, v in enumerate(raw)]
        if is_unknown(raw):
            self._unknown()
            return []
        if single:
            return [self]
        self._problem("a list")
        return []

    def entries(self) -> dict[str, Node]:
        """The entries (absent: none)."""
        raw = self.raw
        if raw is MISSING or raw is None:
            return {}
        if isinstance(raw, Mapping):
            return {str(k): Node(v, (*self.path, str(k)), self.urn) for k, v in raw.items()}
        if is_unknown(raw):
            self._unknown()
            return {}
        self._problem("an object")
        return {}

    def strings(self) -> list[str]:
        """A string or a list of strings (numbers as text); other elements are problems."""
        if isinstance(self.raw, str | int | float) and not isinstance(self.raw, bool):
            value = self.text()
            return [] if value is None else [value]
        out = []
        for item in self.items():
            if item.absent:
                continue
            value = item.text()
            if value is not None:
                out.append(value)
        return out

    def label(self, default: str = "?") -> str:
        """Text for a message only: never tracks unknowns, never records a problem."""
        raw = self.raw
        if isinstance(raw, str):
            return raw
        if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
            return str(int(raw)) if float(raw).is_integer() else str(raw)
        return default

    def tags(self) -> dict[str, str]:
        """Tags/labels: a map, or a list of ``{key, value}`` / ``{Key, Value}`` objects
        (Auto Scaling groups, some CloudFormation-shaped inputs)."""
        raw = self.raw
        out: dict[str, str] = {}
        if isinstance(raw, list | tuple):
            for item in self.items():
                entry = item.entries()
                key = (entry.get("key") or entry.get("Key") or Node(None)).text()
                if key is None:
                    if item.present and not entry:
                        item._problem("a {key, value} tag")
                    continue
                out[key] = (entry.get("value") or entry.get("Value") or Node(None)).text("")
            return out
        for key, value in self.entries().items():
            text = value.text("")
            out[key] = text
        return out

    def doc(self) -> Node:
        """A JSON document given as a JSON string or as an object (e.g. a policy)."""
        raw = self.raw
        if isinstance(raw, str):
            if not self.known():
                return Node(MISSING, self.path, self.urn)
            try:
                return Node(json.loads(raw), self.path, self.urn)
            except (ValueError, RecursionError):
                self._problem("a JSON document")
                return Node(MISSING, self.path, self.urn)
        if raw is MISSING or raw is None or isinstance(raw, Mapping):
            return self
        self._problem("a JSON document")
        return Node(MISSING, self.path, self.urn)


def root(props: Any, urn: str = "") -> Node:
    """The root node of a resource's (deserialised) inputs."""
    return Node(props if isinstance(props, Mapping) else {}, (), urn)


# --- Kubernetes quantities -----------------------------------------------------------------------

_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}


def parse_quantity(value: Any) -> Decimal | None:  # noqa: PLR0911
    """A Kubernetes resource quantity (``"1"``, ``"1000m"``, ``"0.001k"``, ``"1e0"``,
    ``"2Gi"``, a number) as a Decimal; None when it does not parse."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value)) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if match is None:
        return None
    try:
        number = Decimal(match.group("num"))
        suffix = match.group("suffix") or ""
        if suffix in _BINARY:
            return number * _BINARY[suffix]
        if suffix in _DECIMAL:
            return number * _DECIMAL[suffix]
        if suffix:
            exponent = int(suffix[1:])
            if abs(exponent) > 30:
                return None
            return number * (Decimal(10) ** exponent)
        return number
    except (InvalidOperation, ValueError):
        return None


# --- IAM-style wildcard matching ----------------------------------------------------------------


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, fold: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if fold else 0))


def wildcard_match(pattern: str, value: str, *, fold: bool = False) -> bool:
    """IAM/ECR-style matching: ``*`` any run, ``?`` one character, nothing else special
    (unlike fnmatch, ``[`` is literal). ``fold``: case-insensitive (IAM actions)."""
    return _wildcard(pattern, fold).fullmatch(value) is not None
