"""The rule catalog (``catalog.toml``) bound to the checks that implement it.

The catalog says what each rule is for: ID, name, severity, description, remediation,
controls, catalog rows, limits and settings. A service module binds a check to its entry::

    @resource_rule("S3-001", PAB)
    def _pab_flags(args, cfg): ...

    @stack_rule("S3-002")
    def _has_pab(ctx, cfg): ...

and ends with ``RULES = rules_of(__name__)``. The pack refuses to load when an entry has no
check or two (:func:`check_complete`), so the catalog and the code cannot drift apart.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pulumi_policy import Severity

from rules.rule import ResourceCheck, Rule, StackCheck
from rules.settings import setting_schema

CATALOG_FILE = Path(__file__).with_name("catalog.toml")

PLATFORM = "components.core"
"""Where ``default-from`` / ``bounds-from`` names are looked up (``labels.TENANT_LABEL``)."""


class CatalogError(ValueError):
    """The catalog file, or a binding to it, is wrong (the pack does not load)."""


def _platform_value(ref: str) -> Any:
    """The value a ``*-from`` reference names in the platform's shared floor, as JSON
    (tuples as lists)."""
    module, _, name = ref.rpartition(".")
    try:
        value = getattr(importlib.import_module(f"{PLATFORM}.{module}"), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise CatalogError(f"{ref!r} names nothing in {PLATFORM}: {exc}") from exc
    return list(value) if isinstance(value, tuple) else value


_CITATION = re.compile(r"\{(?P<ref>\w+\.[A-Z][A-Z0-9_]*)(?:\[(?P<index>\d+)\])?\}")


def _cite(text: str) -> str:
    """``text`` with each citation of a platform value (``{limits.PROD_KMS_DELETION_WINDOW_DAYS}``,
    ``{limits.KMS_DELETION_WINDOW_DAYS[0]}``) replaced by the value."""

    def value(match: re.Match[str]) -> str:
        found = _platform_value(match["ref"])
        return str(found if match["index"] is None else found[int(match["index"])])

    return _CITATION.sub(value, text)


def _setting(where: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """One setting's JSON schema from its catalog entry."""
    bounds = {k: raw[k] for k in ("minimum", "maximum") if k in raw}
    if "bounds-from" in raw:
        bounds["minimum"], bounds["maximum"] = _platform_value(raw["bounds-from"])
    if "default-from" in raw:
        default = _platform_value(raw["default-from"])
    elif "default" in raw:
        default = raw["default"]
    elif "minimum" in bounds:
        default = bounds["minimum"]
    else:
        raise CatalogError(f"{where}: no default (default, default-from or bounds)")
    try:
        return setting_schema(raw["shape"], default, _cite(raw["description"]), bounds)
    except KeyError as exc:
        raise CatalogError(f"{where}: {exc.args[0]!r} is missing") from exc
    except ValueError as exc:
        raise CatalogError(f"{where}: {exc}") from exc


def _entry(
    raw: Mapping[str, Any], shared: Mapping[str, Any], notes: Mapping[str, str]
) -> dict[str, Any]:
    """The keyword arguments of one rule's :class:`Rule`, but its check."""
    rule_id = raw["id"]
    config = {k: shared[k] for k in raw.get("shared-settings", [])}
    for key, setting in raw.get("settings", {}).items():
        config[key] = _setting(f"settings.{key}", setting)
    limits = [_cite(raw.get("limits", "")), *(notes[n] for n in raw.get("notes", []))]
    return {
        "id": rule_id,
        "name": raw["name"],
        "severity": Severity(raw["severity"]),
        "description": _cite(raw["description"]),
        "remediation": _cite(raw["remediation"]),
        "controls": tuple(raw["controls"]),
        "catalog": tuple(raw["catalog-rows"]),
        "config": config,
        "limits": " ".join(text for text in limits if text),
    }


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Rule ID -> the keyword arguments of its :class:`Rule` but the check, in catalog
    order; a :class:`CatalogError` names what is wrong and where."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path.name}: {exc}") from exc
    notes = {k: _cite(v) for k, v in data.get("notes", {}).items()}
    shared = {
        k: _setting(f"{path.name}, settings.{k}", v) for k, v in data.get("settings", {}).items()
    }
    entries: dict[str, dict[str, Any]] = {}
    for raw in data.get("rule", []):
        where = f"{path.name}, rule {raw.get('id', '?')}"
        try:
            entry = _entry(raw, shared, notes)
        except KeyError as exc:
            raise CatalogError(f"{where}: {exc.args[0]!r} is missing") from exc
        except ValueError as exc:
            raise CatalogError(f"{where}: {exc}") from exc
        if entry["id"] in entries or entry["name"] in {e["name"] for e in entries.values()}:
            raise CatalogError(f"{where}: its ID or name {entry['name']!r} is taken")
        entries[entry["id"]] = entry
    return entries


ENTRIES: dict[str, dict[str, Any]] = load(CATALOG_FILE)
"""Every catalog entry by rule ID, in catalog order."""

_BOUND: dict[str, list[Rule]] = {}
"""Module name -> the rules its checks are bound to."""


def rule(
    rule_id: str,
    *,
    resource_check: ResourceCheck | None = None,
    stack_check: StackCheck | None = None,
    resource_types: Iterable[str] = (),
    type_filter: Callable[[str], bool] | None = None,
) -> Rule:
    """The catalog's rule ``rule_id`` with its check."""
    if rule_id not in ENTRIES:
        raise CatalogError(f"rule {rule_id} is not in {CATALOG_FILE.name}")
    return Rule(
        **ENTRIES[rule_id],
        resource_check=resource_check,
        stack_check=stack_check,
        resource_types=tuple(resource_types),
        type_filter=type_filter,
    )


_Check = TypeVar("_Check", bound=Callable[..., Any])


def resource_rule(
    rule_id: str, *types: str, match: Callable[[str], bool] | None = None
) -> Callable[[_Check], _Check]:
    """Bind the decorated function as the check of resource rule ``rule_id``, run on each
    resource of ``types`` (or whose type ``match`` accepts; every resource when neither)."""

    def bind(check: _Check) -> _Check:
        made = rule(rule_id, resource_check=check, resource_types=types, type_filter=match)
        _BOUND.setdefault(check.__module__, []).append(made)
        return check

    return bind


def stack_rule(rule_id: str) -> Callable[[_Check], _Check]:
    """Bind the decorated function as the check of stack rule ``rule_id``."""

    def bind(check: _Check) -> _Check:
        _BOUND.setdefault(check.__module__, []).append(rule(rule_id, stack_check=check))
        return check

    return bind


def rules_of(module: str) -> list[Rule]:
    """The rules ``module``'s checks are bound to, in catalog order."""
    order = list(ENTRIES)
    return sorted(_BOUND.get(module, []), key=lambda r: order.index(r.id))


def check_complete(rules: Iterable[Rule]) -> None:
    """Fail unless every catalog entry is bound to exactly one check among ``rules``."""
    ids = [r.id for r in rules]
    unbound = [i for i in ENTRIES if i not in ids]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if unbound or twice:
        raise CatalogError(
            f"{CATALOG_FILE.name}: rules with no check: {', '.join(unbound) or 'none'}; "
            f"rules with more than one: {', '.join(twice) or 'none'}"
        )
