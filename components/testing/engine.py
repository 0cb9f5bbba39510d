"""Run a Pulumi program under the SDK's mock runtime and return everything it registered.

The engine of ``mlops_platform.testing``: :func:`run_program` starts a fresh mocked stack,
runs the program, and returns a :class:`Recording` of every ``RegisterResourceRequest`` whole
(type, name, inputs, parent, provider, dependencies, protect, aliases...), the stack's
outputs and every invoke. The repository's offline preview (``scripts/offline``) runs the
real program with it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import set_mocks
from pulumi.runtime.stack import run_in_stack

from .mocks import DEFAULT_ACCOUNT, PlatformMocks, RecordingMonitor

# The engine's wire form of special values: the Pulumi SDK's own (pulumi/runtime/rpc.py keeps
# them module-private), named here once for every tool of the repository that reads or writes
# that form.
UNKNOWN_WIRE: str = rpc.UNKNOWN
"""The value of an output not known until the resources it depends on exist."""
SIG_KEY: str = rpc._special_sig_key
"""The key that marks a map as a special value; its value says which kind."""
SECRET_SIG: str = rpc._special_secret_sig
"""A secret: ``{SIG_KEY: SECRET_SIG, "value": ...}``."""
RESOURCE_SIG: str = rpc._special_resource_sig
"""A resource reference: ``{SIG_KEY: RESOURCE_SIG, "urn": ..., "id": ...}``."""
OUTPUT_SIG: str = rpc._special_output_value_sig
"""An output value: ``{SIG_KEY: OUTPUT_SIG, "value": ..., "secret": ..., "dependencies": ...}``."""


class Secret:
    """A secret input value: readable by tests, never written out."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Secret([redacted])"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.value == self.value

    def __hash__(self) -> int:
        return hash(repr(self.value))


class Unknown:
    """A value not known until the resources it depends on exist."""

    def __repr__(self) -> str:
        return "Unknown"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return 0


def wire_name(name: str) -> str:
    """The wire (camelCase) name of a property: ``retain_on_delete`` -> ``retainOnDelete``."""
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def decode(value: Any) -> Any:
    """Wire form -> Python: secrets as :class:`Secret`, unknowns as :class:`Unknown`,
    resource references as the referenced resource's ID (custom) or URN (component)."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return Secret(decode(value.get("value")))
        if sig == RESOURCE_SIG:
            return value.get("id") or value.get("urn")
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    if value == UNKNOWN_WIRE:
        return Unknown()
    return value


def plain(value: Any) -> Any:
    """A JSON-safe form with secrets redacted and unknowns marked."""
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, Unknown):
        return "[unknown]"
    if isinstance(value, dict):
        return {k: plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a double
    return value


@dataclass(frozen=True)
class Registration:
    """One resource registration, as the engine would have received it."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str | None
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    delete_before_replace: bool
    aliases: list[Any]
    additional_secret_outputs: list[str]
    replace_on_changes: list[str]
    deleted_with: str | None
    import_id: str | None
    version: str | None
    custom_timeouts: dict[str, str]
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_request(cls, request: dict[str, Any], urn: str, rid: str | None) -> Registration:
        """Build from the monitor's request record (camelCase protobuf JSON)."""
        return cls(
            urn=urn,
            type=request["type"],
            name=request["name"],
            custom=bool(request.get("custom", False)),
            id=rid,
            parent=request.get("parent") or None,
            provider=request.get("provider") or None,
            inputs=decode(request.get("object", {})),
            protect=bool(request.get("protect", False)),
            retain_on_delete=bool(request.get("retainOnDelete", False)),
            ignore_changes=list(request.get("ignoreChanges", [])),
            dependencies=sorted(set(request.get("dependencies", []))),
            property_dependencies={
                key: sorted(set(deps.get("urns", [])))
                for key, deps in sorted(request.get("propertyDependencies", {}).items())
            },
            delete_before_replace=bool(request.get("deleteBeforeReplace", False)),
            aliases=list(request.get("aliases", [])) + list(request.get("aliasSpecs", [])),
            additional_secret_outputs=list(request.get("additionalSecretOutputs", [])),
            replace_on_changes=list(request.get("replaceOnChanges", [])),
            deleted_with=request.get("deletedWith") or None,
            import_id=request.get("importId") or None,
            version=request.get("version") or None,
            custom_timeouts=dict(request.get("customTimeouts", {})),
            raw=request,
        )

    def to_json(self) -> dict[str, Any]:
        """The deterministic, secret-free form written by ``preview --format json``: every
        field but ``raw``, under its wire (camelCase) name, with :func:`plain` values."""
        return {
            wire_name(f.name): plain(getattr(self, f.name)) for f in fields(self) if f.name != "raw"
        }


@dataclass
class Recording:
    """Everything one run registered, in URN order (deterministic whatever the scheduling)."""

    project: str
    stack: str
    resources: list[Registration]
    outputs: dict[str, Any]
    component_outputs: dict[str, dict[str, Any]]
    invokes: list[dict[str, Any]]

    def __iter__(self) -> Iterator[Registration]:
        return iter(self.resources)

    def of_type(self, type_: str) -> list[Registration]:
        """Registrations of one type token."""
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        """The single registration of ``type_`` (named ``name``); fails loudly otherwise."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise LookupError(f"expected one {type_} named {name!r}, found {len(found)}: {names}")
        return found[0]

    def children(self, urn: str) -> list[Registration]:
        """Direct children of ``urn``."""
        return [r for r in self.resources if r.parent == urn]

    @property
    def stack_urn(self) -> str:
        """The root stack resource's URN."""
        name = f"{self.project}-{self.stack}"
        return f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{name}"

    def created(self) -> list[Registration]:
        """Everything but the root stack resource."""
        return [r for r in self.resources if r.type != "pulumi:pulumi:Stack"]


def run_program(
    program: Callable[[], Any],
    *,
    project: str = "mlops",
    stack: str = "dev",
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    mocks: PlatformMocks | None = None,
    monitor: RecordingMonitor | None = None,
    preview: bool = True,
) -> Recording:
    """Run ``program`` in a fresh mocked stack and return what it registered.

    Each call starts from clean runtime state (config, root resource, pending outputs), so
    tests never share mock state. Exceptions from the program propagate unchanged; pass your
    own ``monitor`` to see what was registered before one was raised.
    """
    config = dict(config or {})
    if mocks is None:
        mocks = PlatformMocks(
            region=config.get("aws:region", "us-east-1"),
            account=_first_account(config.get(f"{project}:allowedAccountIds")),
        )
    monitor = monitor if monitor is not None else RecordingMonitor(mocks)
    set_all_config(config, list(secret_keys or []))
    pulumi_settings.ROOT.set(None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        # A program that raised leaves its pending outputs behind, bound to its closed loop;
        # this run must not wait for them.
        # (Settings declares neither attribute; both exist since the SDK's output tracking.)
        settings: Any = pulumi_settings.SETTINGS
        with settings.lock:
            settings.outputs.clear()
        # set_mocks leaves a finished placeholder stack as the root; run_in_stack makes the
        # real one, as the language host does, so stack exports are registered as outputs.
        pulumi_settings.ROOT.set(None)
        loop.run_until_complete(run_in_stack(program))
    finally:
        # A program that raised also leaves tasks pending on this loop: cancel them here, so
        # they neither run later nor are reported as destroyed while pending at exit.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        # What is still in flight belongs to a run that already raised its error: a late
        # "exception never retrieved" of it would only repeat that error at exit.
        loop.set_exception_handler(lambda _loop, _context: None)
        loop.close()
        asyncio.set_event_loop(None)

    registrations: dict[str, Registration] = {}
    for raw in monitor.registrations:
        registrations.setdefault(raw.urn, Registration.from_request(raw.request, raw.urn, raw.id))
    resources = [registrations[urn] for urn in sorted(registrations)]
    stack_urn = next((r.urn for r in resources if r.type == "pulumi:pulumi:Stack"), None)
    outputs = decode(monitor.outputs.get(stack_urn, {})) if stack_urn else {}
    component_outputs = {
        urn: decode(out) for urn, out in sorted(monitor.outputs.items()) if urn != stack_urn
    }
    return Recording(project, stack, resources, outputs, component_outputs, monitor.invokes)


def _first_account(value: str | None) -> str:
    import json  # noqa: PLC0415

    try:
        accounts = json.loads(value) if value else []
    except ValueError:
        accounts = []
    return str(accounts[0]) if accounts and isinstance(accounts, list) else DEFAULT_ACCOUNT


def stack_reference_state(outputs: dict[str, Any]) -> dict[str, Any]:
    """What a StackReference read returns for a stack with these (decoded) ``outputs``:
    plain values, the names of the secret ones, unknowns in their wire form."""
    secret: set[str] = set()

    def wire(value: Any, name: str) -> Any:
        if isinstance(value, Secret):
            secret.add(name)
            return wire(value.value, name)
        if isinstance(value, Unknown):
            return UNKNOWN_WIRE
        if isinstance(value, dict):
            return {k: wire(v, name) for k, v in value.items()}
        if isinstance(value, list):
            return [wire(v, name) for v in value]
        return value

    plain = {name: wire(value, name) for name, value in outputs.items()}
    return {"outputs": plain, "secretOutputNames": sorted(secret)}
