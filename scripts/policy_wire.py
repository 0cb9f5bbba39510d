"""Resources as the Pulumi engine sends them to an analyzer (a policy pack).

A recorded registration (``scripts.offline.Registration``, inputs in protobuf JSON with the
engine's signatures intact) becomes the ``AnalyzeRequest`` of one resource or its entry in
``AnalyzeStack``: numbers as doubles, secrets as secret values, unknown (preview-time)
values as the unknown sentinel, and resource references replaced by the referenced
resource's ID (custom) or URN (component). The signatures are the Pulumi SDK's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2
from mlops_platform.testing.engine import (
    OUTPUT_SIG as _OUTPUT_SIG,
)
from mlops_platform.testing.engine import (
    RESOURCE_SIG as _RESOURCE_SIG,
)
from mlops_platform.testing.engine import (
    SECRET_SIG as _SECRET_SIG,
)
from mlops_platform.testing.engine import (
    SIG_KEY as _SIG,
)
from mlops_platform.testing.engine import (
    UNKNOWN_WIRE,
)
from pulumi.runtime.proto import analyzer_pb2

from scripts.offline import Registration

UNKNOWN: str = UNKNOWN_WIRE
"""The engine's unknown-value sentinel (a preview-time value)."""


def wire_value(value: Any) -> Any:  # noqa: PLR0911 - one return per wire signature
    """A recorded input (protobuf JSON, signatures intact) as the engine sends it to an
    analyzer: resource references downgraded to ID/URN, output values unwrapped, secrets
    and unknowns kept."""
    if isinstance(value, list):
        return [wire_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG)
    if sig == _RESOURCE_SIG:
        rid = value.get("id")
        return rid if rid else value.get("urn", "")
    if sig == _OUTPUT_SIG:
        if "value" not in value:
            return UNKNOWN
        inner = wire_value(value["value"])
        return {_SIG: _SECRET_SIG, "value": inner} if value.get("secret") else inner
    if sig == _SECRET_SIG:
        return {_SIG: _SECRET_SIG, "value": wire_value(value.get("value"))}
    return {k: wire_value(v) for k, v in value.items()}


def wire_properties(obj: Mapping[str, Any] | None) -> struct_pb2.Struct:
    """The Struct an analyzer receives (internal ``__`` keys skipped, as the engine does)."""
    struct = struct_pb2.Struct()
    struct.update({k: wire_value(v) for k, v in (obj or {}).items() if not k.startswith("__")})
    return struct


def _seconds(duration: str | None) -> float:
    if not duration:
        return 0.0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    total, number = 0.0, ""
    for ch in duration:
        if ch.isdigit() or ch == ".":
            number += ch
        elif ch in units and number:
            total += float(number) * units[ch]
            number = ""
    return total


def _options(r: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    timeouts = r.custom_timeouts or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect,
        ignoreChanges=r.ignore_changes,
        deleteBeforeReplace=r.delete_before_replace,
        deleteBeforeReplaceDefined=bool(r.raw.get("deleteBeforeReplaceDefined", False)),
        additionalSecretOutputs=r.additional_secret_outputs,
        aliases=[a for a in r.aliases if isinstance(a, str)],
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=_seconds(timeouts.get("create")),
            update=_seconds(timeouts.get("update")),
            delete=_seconds(timeouts.get("delete")),
        ),
        parent=r.parent or "",
    )


def _provider(
    r: Registration, index: Mapping[str, Registration]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    if not r.provider:
        return None
    # A provider reference is "<provider urn>::<provider id>".
    found = index.get(r.provider) or index.get(r.provider.rsplit("::", 1)[0])
    if found is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=found.type,
        urn=found.urn,
        name=found.name,
        properties=wire_properties(found.raw.get("object")),
    )


def _described(r: Registration, index: Mapping[str, Registration]) -> dict[str, Any]:
    """What every analyzer message about ``r`` carries: type, URN, name, inputs, options
    and (when it has one the stack registered) its provider."""
    fields: dict[str, Any] = {
        "type": r.type,
        "urn": r.urn,
        "name": r.name,
        "properties": wire_properties(r.raw.get("object")),
        "options": _options(r),
    }
    provider = _provider(r, index)
    if provider is not None:
        fields["provider"] = provider
    return fields


def analyze_request(r: Registration, index: Mapping[str, Registration]) -> Any:
    """The ``AnalyzeRequest`` the engine sends for ``r``."""
    return analyzer_pb2.AnalyzeRequest(**_described(r, index))


def stack_resource(r: Registration, index: Mapping[str, Registration]) -> Any:
    """The ``AnalyzerResource`` entry of ``r`` in ``AnalyzeStack``."""
    return analyzer_pb2.AnalyzerResource(
        **_described(r, index),
        parent=r.parent or "",
        dependencies=r.dependencies,
        propertyDependencies={
            k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
            for k, v in r.property_dependencies.items()
        },
    )
