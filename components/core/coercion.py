"""The component boundary: documented plain values in, typed values out, shapes checked once.

Every public component calls :func:`coerce_args` first thing. It walks the args dataclass
(nested dataclasses and lists of them included) and, for each field, by its annotation:

- an ``Enum`` field takes the enum member or its documented value (``"spot"`` for
  ``CapacityType.SPOT``); anything else is one problem, ``one of: a, b, c``;
- a list field (``Sequence[...]`` / ``list[...]``) given a single string is ONE problem
  ("a list ..., not a single string"), never one per character; list items of an enum type
  are coerced like enum fields;
- ``cluster_name`` given an EKS cluster ARN is refused with the name to use instead.

A bad value is reported and replaced by the field's default, so the component's own
validation still runs and every problem reaches the user in one message. Values that are
not known yet (``pulumi.Output``, awaitables) pass through untouched.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from enum import Enum
from typing import Any, TypeVar

import pulumi

from .validation import Invalid, raise_if_invalid

E = TypeVar("E", bound=Enum)

_EKS_CLUSTER_ARN_PREFIX = "arn:"
_CLUSTER_NAME_FIELDS = ("cluster_name",)


def allowed_values(enum_type: type[Enum]) -> str:
    """``one of: a, b, c``: the documented values of ``enum_type``, as every message says it."""
    return "one of: " + ", ".join(str(m.value) for m in enum_type)


def coerce_enum(enum_type: type[E], value: Any, arg: str) -> tuple[E | None, Invalid | None]:
    """``value`` as a member of ``enum_type`` (members and their values are accepted).

    Returns ``(member, None)``, or ``(None, problem)`` naming ``arg`` and the allowed values.
    """
    if isinstance(value, enum_type):
        return value, None
    try:
        return enum_type(value), None
    except (ValueError, TypeError):
        return None, Invalid(arg, _show(value), allowed_values(enum_type))


def coerce_str_list(
    value: Any, arg: str, what: str = "strings"
) -> tuple[list[Any] | None, Invalid | None]:
    """``value`` as a list; a single string (or a mapping) is one problem, not one per item."""
    if isinstance(value, str | bytes):
        return None, Invalid(
            arg, _show(value), f"a list of {what}, not a single string: write [{value!r}]"
        )
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        return None, Invalid(arg, _show(value), f"a list of {what}")
    return list(value), None


def check_cluster_name(value: Any, arg: str = "cluster_name") -> Invalid | None:
    """An EKS cluster ARN where the name belongs is refused, naming the name to use."""
    if isinstance(value, str) and value.startswith(_EKS_CLUSTER_ARN_PREFIX):
        name = value.rsplit("/", 1)[-1]
        return Invalid(
            arg,
            value,
            f"the EKS cluster's name, not its ARN: use {name!r} (the part after 'cluster/')",
        )
    return None


def coerce_args(args: Any, prefix: str = "") -> tuple[Any, list[Invalid]]:
    """Coerce and shape-check a component's args dataclass; see the module docstring.

    Returns a copy with plain values turned into their typed form (bad ones reset to the
    field's default) and the problems found, each named by its argument path.
    """
    if not dataclasses.is_dataclass(args) or isinstance(args, type):
        return args, []
    hints = _hints(type(args))
    problems: list[Invalid] = []
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(args):
        if not f.init:
            continue
        value = getattr(args, f.name)
        arg = f"{prefix}{f.name}"
        new, found = _coerce_value(hints.get(f.name, Any), value, arg)
        if f.name in _CLUSTER_NAME_FIELDS and (bad := check_cluster_name(value, arg)):
            found.append(bad)
            new = value
        if found:
            problems.extend(found)
            new = _default(f, value) if new is _BAD else new
        if new is not value:
            changes[f.name] = new
    if changes:
        args = dataclasses.replace(args, **changes)
    return args, problems


_BAD = object()


def accept_args(
    component: str,
    name: str,
    args: Any,
    validate: Callable[[Any], Iterable[Invalid]] | None = None,
) -> Any:
    """Coerce ``args`` (:func:`coerce_args`), run the component's ``validate`` on the result and
    raise every problem at once; returns the coerced args."""
    args, problems = coerce_args(args)
    if validate is not None:
        try:
            problems = [*problems, *validate(args)]
        except Exception:
            if not problems:
                raise
            # a required argument was unusable: its problem is reported, the rest waits
    raise_if_invalid(component, name, problems)
    return args


def _coerce_value(hint: Any, value: Any, arg: str) -> tuple[Any, list[Invalid]]:  # noqa: PLR0911
    if value is None or _unknown(value):
        return value, []
    hint = _strip_optional(hint)
    if inspect.isclass(hint) and issubclass(hint, Enum):
        member, problem = coerce_enum(hint, value, arg)
        return (member, []) if problem is None else (_BAD, [problem])
    if _is_list_hint(hint):
        item_hint = _strip_optional(_list_item(hint))
        what = (
            f"{item_hint.__name__} values ({allowed_values(item_hint)})"
            if inspect.isclass(item_hint) and issubclass(item_hint, Enum)
            else "strings"
            if item_hint is str
            else "values"
        )
        items, problem = coerce_str_list(value, arg, what)
        if problem is not None:
            return _BAD, [problem]
        assert items is not None
        problems: list[Invalid] = []
        out: list[Any] = []
        for i, item in enumerate(items):
            new, found = _coerce_value(item_hint, item, f"{arg}[{i}]")
            problems.extend(found)
            out.append(item if new is _BAD else new)
        if problems:
            return _BAD, problems
        if all(a is b for a, b in zip(out, items, strict=True)):
            return value, []
        return (tuple(out) if isinstance(value, tuple) else out), []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return coerce_args(value, f"{arg}.")
    if isinstance(value, Mapping) and any(
        dataclasses.is_dataclass(v) and not isinstance(v, type) for v in value.values()
    ):
        coerced = {k: coerce_args(v, f"{arg}[{k!r}].") for k, v in value.items()}
        found = [p for _, problems in coerced.values() for p in problems]
        if all(new is value[k] for k, (new, _) in coerced.items()):
            return value, found
        return {k: new for k, (new, _) in coerced.items()}, found
    return value, []


def _unknown(value: Any) -> bool:
    return isinstance(value, pulumi.Output) or inspect.isawaitable(value)


def _strip_optional(hint: Any) -> Any:
    """``X | None`` -> ``X``; ``Input[X]`` -> ``X`` (the plain member of the union)."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        plain = [
            a
            for a in typing.get_args(hint)
            if a is not type(None)
            and typing.get_origin(a) is not pulumi.Output
            and not _is_awaitable_hint(a)
        ]
        if len(plain) == 1:
            return _strip_optional(plain[0])
        enums = [a for a in plain if inspect.isclass(a) and issubclass(a, Enum)]
        if len(enums) == 1 and set(plain) == {enums[0], str}:
            return enums[0]  # ``Kind | str``: the documented strings of Kind
        return Any
    return hint


def _is_awaitable_hint(hint: Any) -> bool:
    return typing.get_origin(hint) is Awaitable or isinstance(hint, typing.ForwardRef)


def _is_list_hint(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return typing.get_args(hint)[-1:] == (Ellipsis,)
    return origin in (list, Sequence)


def _list_item(hint: Any) -> Any:
    args = typing.get_args(hint)
    return args[0] if args else Any


def _default(f: dataclasses.Field[Any], value: Any) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return value  # a required field keeps its (bad) value; the problem is already reported


def _hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of ``cls``; one that cannot be resolved is left unchecked."""
    # pulumi.Input[...] carries the forward reference "Output[T]".
    namespace = {**vars(sys.modules[cls.__module__]), "Output": pulumi.Output, "T": Any}
    try:
        return typing.get_type_hints(cls, namespace)
    except Exception:
        hints: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for key, text in getattr(klass, "__annotations__", {}).items():
                try:
                    hints[key] = eval(text, namespace) if isinstance(text, str) else text  # noqa: S307
                except Exception:  # noqa: S112
                    continue
        return hints


def _show(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value
