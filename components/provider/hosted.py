"""Public components, shaped for ``pulumi.provider.experimental.component_provider_host``.

The SDK's analyser reads a component's schema from annotations it does not evaluate: the
``args`` parameter of ``__init__``, the fields of the args type and the component's class
attributes must be concrete types (the library's modules use postponed annotations, which
arrive as strings), unions other than ``X | None`` are refused, and the host constructs a
component with a plain ``dict`` of inputs. So, for each public component ``C`` with its args
dataclass ``CArgs``, this module builds, without restating any field:

- an inputs type named ``CArgs`` whose annotations are ``CArgs``'s resolved hints in the
  shapes the analyser reads (``Sequence`` -> ``list``, ``Mapping`` -> ``dict``, nested
  dataclasses -> nested types, enums kept, ``pulumi.Input`` kept where the library takes
  one). Its ``__module__``/``__qualname__`` are ``CArgs``'s, so the analyser reads the field
  docstrings from the library's own source;
- a subclass of ``C`` with the same name and token whose ``__init__`` turns the inputs dict
  back into ``CArgs`` and calls ``C.__init__``.

Fields no other language can pass are left out of the schema: a Kubernetes provider comes
from the resource options (``providers={"kubernetes": ...}``, the Pulumi idiom in every
language) and dependencies from ``dependsOn``.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Awaitable, Mapping, Sequence
from enum import Enum
from typing import Any

import pulumi

from ..core.coercion import _hints
from ..core.tokens import PACKAGE
from ..core.validation import Invalid, raise_if_invalid

PACKAGE_NAME = PACKAGE
"""The package name consumers ``pulumi package add`` (the tokens' ``mlops``)."""

_KUBERNETES_PROVIDER = "kubernetes_provider"
_FROM_OPTIONS = {_KUBERNETES_PROVIDER, "kubernetes_dependencies"}
_NOT_HOSTED = {"MlopsPlatform"}  # built from the pydantic stack config, not from plain args


def hosted_components() -> list[type[pulumi.ComponentResource]]:
    """Every public component of ``mlops_platform`` with its ``<Name>Args``, hostable."""
    import importlib  # noqa: PLC0415

    package = importlib.import_module(__name__.rsplit(".", 2)[0])
    found = []
    for name in sorted(package.__all__):
        if name in _NOT_HOSTED:
            continue
        component = getattr(package, name)
        if not (inspect.isclass(component) and issubclass(component, pulumi.ComponentResource)):
            continue
        args_type = getattr(package, f"{name}Args", None)
        if args_type is None or not dataclasses.is_dataclass(args_type):
            continue
        found.append(_hosted(component, typing.cast(type, args_type)))
    return found


def serve(version: str) -> None:
    """Start the component provider host for :func:`hosted_components` (the plugin's main)."""
    from pulumi.provider.experimental import component_provider_host  # noqa: PLC0415

    component_provider_host(hosted_components(), PACKAGE_NAME, version=version)


# --- building the hostable classes ---------------------------------------------------------

_TYPES: dict[type, type] = {}


def _hosted(component: type, args_type: type) -> type:
    inputs = _inputs_type(args_type)
    outputs = {
        key: _output_annotation(hint)
        for key, hint in _hints(component).items()
        if not key.startswith("_")
    }

    def __init__(  # noqa: N807 (the constructor the host calls)
        self: Any, name: str, args: Any, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = args if isinstance(args, args_type) else _from_inputs(args_type, args, opts, name)
        typing.cast(Any, component).__init__(self, name, built, opts)

    __init__.__annotations__ = {
        "name": str,
        "args": inputs,
        "opts": typing.Optional[pulumi.ResourceOptions],  # noqa: UP045 (evaluated at runtime)
        "return": None,
    }
    return types.new_class(
        component.__name__,
        (component,),
        exec_body=lambda ns: ns.update(
            {
                "__init__": __init__,
                "__annotations__": outputs,
                "__doc__": component.__doc__,
                "__module__": component.__module__,
                "__qualname__": component.__qualname__,
            }
        ),
    )


def _inputs_type(args_type: type) -> type:
    if args_type in _TYPES:
        return _TYPES[args_type]
    made = types.new_class(args_type.__name__)
    _TYPES[args_type] = made  # before the fields: a type may refer to itself
    annotations: dict[str, Any] = {}
    defaults = {f.name: f for f in dataclasses.fields(args_type)}
    for key, hint in _hints(args_type).items():
        if key in _FROM_OPTIONS or key not in defaults or not defaults[key].init:
            continue
        converted = _schema_type(hint)
        if converted is None:
            continue
        required = (
            defaults[key].default is dataclasses.MISSING
            and defaults[key].default_factory is dataclasses.MISSING
        )
        annotations[key] = converted if required else typing.Optional[converted]  # noqa: UP045
    made.__annotations__ = annotations
    made.__doc__ = args_type.__doc__
    made.__module__ = args_type.__module__
    made.__qualname__ = args_type.__qualname__
    return made


def _schema_type(hint: Any) -> Any:  # noqa: PLR0911 (one case per shape)
    """``hint`` in a shape the analyser reads, or ``None`` when no other language can pass it."""
    origin, params = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        members = [p for p in params if p is not type(None)]
        awaitable = [p for p in members if typing.get_origin(p) is Awaitable]
        plain = [
            p
            for p in members
            if typing.get_origin(p) not in (Awaitable, pulumi.Output)
            and not isinstance(p, typing.ForwardRef)
        ]
        if awaitable and len(plain) >= 1:
            inner = _schema_type(plain[0])
            return None if inner is None else pulumi.Input[inner]
        enums = [p for p in plain if inspect.isclass(p) and issubclass(p, Enum)]
        if len(enums) == 1 and set(plain) == {enums[0], str}:
            plain = enums  # ``Kind | str``: the schema offers Kind's values
        if len(plain) == 1:
            inner = _schema_type(plain[0])
            return None if inner is None else typing.Optional[inner]  # noqa: UP045
        return None
    if hint in (str, int, float, bool) or hint is Any:
        return hint
    if origin in (list, Sequence) or (origin is tuple and params[-1:] == (Ellipsis,)):
        item = _schema_type(params[0]) if params else Any
        return None if item is None else list[item]
    if origin in (dict, Mapping):
        if not params or params[0] is not str:
            return None
        value = _schema_type(params[1])
        return None if value is None else dict[str, value]
    if inspect.isclass(hint) and issubclass(hint, Enum):
        return hint
    if inspect.isclass(hint) and dataclasses.is_dataclass(hint):
        return _inputs_type(hint)
    return None


def _output_annotation(hint: Any) -> Any:
    if typing.get_origin(hint) is pulumi.Output:
        (inner,) = typing.get_args(hint)
        return pulumi.Output[_schema_type(inner) or Any]
    return pulumi.Output[_schema_type(hint) or Any]


# --- turning the host's inputs dict back into the library's args ---------------------------


def _from_inputs(
    args_type: type, values: Mapping[str, Any], opts: pulumi.ResourceOptions | None, name: str
) -> Any:
    extra: dict[str, Any] = {}
    if _KUBERNETES_PROVIDER in {f.name for f in dataclasses.fields(args_type)}:
        provider = _kubernetes_provider(opts)
        if provider is None:
            raise_if_invalid(
                args_type.__name__.removesuffix("Args"),
                name,
                [
                    Invalid(
                        _KUBERNETES_PROVIDER,
                        None,
                        "the cluster's Kubernetes provider, passed in the resource options: "
                        'providers={"kubernetes": <provider>}',
                    )
                ],
            )
        extra[_KUBERNETES_PROVIDER] = provider
    return _dataclass(args_type, values, extra)


def _kubernetes_provider(opts: pulumi.ResourceOptions | None) -> Any:
    providers = opts.providers if opts is not None else None
    if isinstance(providers, Mapping):
        return providers.get("kubernetes")
    for provider in providers or []:
        if getattr(provider, "package", None) == "kubernetes":
            return provider
    return None


def _dataclass(
    args_type: type, values: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> Any:
    hints = _hints(args_type)
    kwargs: dict[str, Any] = dict(extra or {})
    for f in dataclasses.fields(args_type):
        if f.init and f.name in values and values[f.name] is not None:
            kwargs[f.name] = _value(hints.get(f.name, Any), values[f.name])
    return args_type(**kwargs)


def _value(hint: Any, value: Any) -> Any:
    origin, params = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        plain = [p for p in params if p is not type(None) and typing.get_origin(p) is not Awaitable]
        return _value(plain[0], value) if len(plain) == 1 else value
    if inspect.isclass(hint) and dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return _dataclass(hint, value)
    if origin in (list, Sequence, tuple) and isinstance(value, list) and params:
        items = [_value(params[0], v) for v in value]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) and isinstance(value, Mapping) and len(params) == 2:
        return {k: _value(params[1], v) for k, v in value.items()}
    return value
