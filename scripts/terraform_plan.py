"""Terraform plans in the shape the policy pack reads: ``terraform show -json`` (format 1.x)
turned into the resource registrations a Pulumi preview of the same resources would send.

pulumi-aws is bridged from the Terraform AWS provider, so the translation is read from the
installed SDK rather than written out by hand:

- **type tokens**: the SDK registers every resource class under its token
  (``aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock``); a Terraform type
  ``aws_<service>_<name>`` maps to the token whose module is ``<service>`` (underscores
  dropped) and whose name is ``<name>``, or, for types without a service prefix
  (``aws_vpc``, ``aws_instance``), to the one token of that name (EC2 first, where the
  bridge puts them). :data:`TYPE_EXCEPTIONS` lists the few the bridge renames. A guessed
  token is accepted only when the attributes the plan configures are mostly the SDK's
  inputs, so a wrong guess is reported as unmapped instead of being judged as something else.
- **properties**: each resource's input type in the SDK gives the camelCase name of every
  Terraform attribute (plural names of repeated blocks included) and its shape: a nested
  block the SDK declares as one object (a ``MaxItems: 1`` block the bridge flattens) becomes
  that object, a list stays a list, map keys (tags) are left alone.
- ``tags_all`` (the resource's tags merged with the provider's ``default_tags``) becomes
  ``tags``, as a Pulumi resource under a provider with default tags is judged.
- values Terraform knows only after apply become the engine's unknown sentinel when the
  configuration sets them (a rule reading one reports "can't run during preview", advisory,
  as under ``pulumi preview``); optional attributes the configuration leaves to the provider
  are absent, as they are from a Pulumi program's inputs. Sensitive values are secrets.
- dependencies and property dependencies come from the references in the plan's
  configuration (through module inputs and outputs), resolved to planned resources.

The address of each resource (module path included) is its name and the last part of its
URN, so findings and exemption patterns name it.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mlops_platform.testing.engine import SECRET_SIG, SIG_KEY, wire_name
from mlops_platform.testing.engine import UNKNOWN_WIRE as UNKNOWN

from scripts.offline import Registration

SUPPORTED_FORMAT_MAJOR = "1"
"""``terraform show -json`` output format versions read here: 1.x."""

STACK_TYPE = "pulumi:pulumi:Stack"

TYPE_EXCEPTIONS: dict[str, str] = {
    # RDS instances, subnet and parameter groups keep Terraform's ``aws_db_`` names.
    "aws_db_instance": "aws:rds/instance:Instance",
    "aws_db_subnet_group": "aws:rds/subnetGroup:SubnetGroup",
    "aws_db_parameter_group": "aws:rds/parameterGroup:ParameterGroup",
    "aws_db_option_group": "aws:rds/optionGroup:OptionGroup",
    "aws_db_snapshot": "aws:rds/snapshot:Snapshot",
    "aws_db_proxy": "aws:rds/proxy:Proxy",
    "aws_db_event_subscription": "aws:rds/eventSubscription:EventSubscription",
    "aws_s3_bucket_replication_configuration": (
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
    ),
    "aws_lb": "aws:lb/loadBalancer:LoadBalancer",
    "aws_alb": "aws:alb/loadBalancer:LoadBalancer",
    "aws_elb": "aws:elb/loadBalancer:LoadBalancer",
    "aws_cloudtrail": "aws:cloudtrail/trail:Trail",
}
"""Terraform types whose Pulumi token the naming convention does not give (the bridge's
explicit ``Tok:`` overrides in pulumi-aws's provider)."""

LEGACY_TOKENS: dict[str, str] = {
    "aws:s3/bucketV2:BucketV2": "aws_s3_bucket",
    "aws:s3/bucketAclV2:BucketAclV2": "aws_s3_bucket_acl",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "aws_s3_bucket_versioning",
    "aws:s3/bucketLoggingV2:BucketLoggingV2": "aws_s3_bucket_logging",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": (
        "aws_s3_bucket_object_lock_configuration"
    ),
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
}
"""pulumi-aws v7's deprecated S3 tokens and the Terraform type they are another name of
(a Terraform plan always maps to the current token; the pack reads both)."""

PROPERTY_EXCEPTIONS: dict[str, dict[str, str]] = {
    "aws_cloudwatch_metric_alarm": {"alarm_name": "name"},
    "aws_lambda_function": {"function_name": "name"},
    "aws_cloudwatch_log_subscription_filter": {"log_group_name": "logGroup"},
}
"""Terraform attributes the bridge renames beyond camelCase and plurals."""

_SKIPPED_ATTRIBUTES = frozenset({"id", "tags_all", "timeouts"})
_MIN_INPUT_OVERLAP = 0.5


class PlanError(Exception):
    """The file is not a readable ``terraform show -json`` plan of a supported format."""


# --- reading the plan ---------------------------------------------------------------------


def load_plan(path: Path) -> dict[str, Any]:
    """The plan document; :class:`PlanError` naming what is wrong otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise PlanError(
            f"{path} is not text: pass the JSON from `terraform show -json PLANFILE`, "
            "not the binary plan file"
        ) from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PlanError(
            f"{path} is not JSON ({exc}); expected the output of `terraform show -json PLANFILE`"
        ) from exc
    return check_plan(doc, str(path))


def check_plan(doc: Any, label: str = "the plan") -> dict[str, Any]:
    """``doc`` if it is a plan in a supported format; :class:`PlanError` otherwise."""
    if not isinstance(doc, dict):
        raise PlanError(f"{label} is not a JSON object; expected `terraform show -json` output")
    version = doc.get("format_version")
    if not isinstance(version, str):
        raise PlanError(
            f"{label} has no format_version: not `terraform show -json` output "
            "(a state file or another JSON document?)"
        )
    if version.split(".", 1)[0] != SUPPORTED_FORMAT_MAJOR:
        raise PlanError(
            f"{label} has format_version {version!r}; supported: "
            f"{SUPPORTED_FORMAT_MAJOR}.x (Terraform 1.x `terraform show -json`)"
        )
    if "resource_changes" not in doc and "planned_values" not in doc:
        raise PlanError(
            f"{label} has no resource_changes: it is not a plan (run `terraform show -json` "
            "on a saved plan file, `terraform plan -out=PLANFILE`)"
        )
    if not isinstance(doc.get("resource_changes", []), list):
        raise PlanError(f"{label}: resource_changes must be a list")
    return doc


# --- type tokens from the SDK ---------------------------------------------------------------


@cache
def sdk_tokens() -> dict[str, tuple[str, str]]:
    """Every pulumi-aws resource token -> (module, class name), read from the SDK's own
    registration table (without importing the whole SDK)."""
    import pulumi_aws  # noqa: PLC0415 - only its file location is needed

    source = Path(pulumi_aws.__file__).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "register"):
            continue
        for kw in node.keywords:
            if kw.arg == "resource_modules" and isinstance(kw.value, ast.Constant):
                table = json.loads(str(kw.value.value))
                return {
                    token: (entry["fqn"], cls)
                    for entry in table
                    for token, cls in entry["classes"].items()
                }
    raise RuntimeError("the installed pulumi-aws has no resource registration table")


@cache
def _token_index() -> tuple[dict[tuple[str, str], str], dict[str, list[str]]]:
    by_module: dict[tuple[str, str], str] = {}
    by_name: dict[str, list[str]] = {}
    for token in sdk_tokens():
        module, name = token.split(":")[1].split("/")
        by_module[(module.lower(), name.lower())] = token
        by_name.setdefault(name.lower(), []).append(token)
    return by_module, by_name


def guess_token(tf_type: str) -> str | None:
    """The Pulumi token of an ``aws_*`` Terraform type by the bridge's naming convention
    (or its explicit exception), None when there is none."""
    if tf_type in TYPE_EXCEPTIONS:
        return TYPE_EXCEPTIONS[tf_type]
    if not tf_type.startswith("aws_"):
        return None
    by_module, by_name = _token_index()
    words = tf_type[4:].split("_")
    for split in range(len(words) - 1, 0, -1):
        found = by_module.get(("".join(words[:split]), "".join(words[split:])))
        if found:
            return found
    candidates = by_name.get("".join(words), [])
    if len(candidates) > 1:
        candidates = [t for t in candidates if t.startswith("aws:ec2/")] or candidates
    return candidates[0] if len(candidates) == 1 else None


@cache
def input_class(token: str) -> type | None:
    """The SDK's input-arguments class of ``token`` (``<Resource>Args``)."""
    entry = sdk_tokens().get(token)
    if entry is None:
        return None
    module_name, cls_name = entry
    resource_cls = getattr(importlib.import_module(module_name), cls_name, None)
    if resource_cls is None:
        return None
    module = importlib.import_module(resource_cls.__module__)
    names = [n for n in getattr(module, "__all__", []) if n.endswith("Args")]
    return getattr(module, names[0], None) if names else None


@cache
def _properties(cls: type) -> dict[str, tuple[str, Any]]:
    """Python (snake_case) name -> (wire name, declared type) of an SDK input type."""
    from pulumi import _types  # noqa: PLC0415

    names = _types.input_type_py_to_pulumi_names(cls)
    types = _types.input_type_types(cls)
    return {py: (wire, types.get(wire)) for py, wire in names.items()}


def _plurals(name: str) -> list[str]:
    out = [name + "s", name + "es"]
    if name.endswith("y"):
        out.append(name[:-1] + "ies")
    return out


def _lookup(cls: type | None, key: str, renames: Mapping[str, str]) -> tuple[str, Any, bool]:
    """(wire name, SDK type, found) for Terraform attribute ``key`` of SDK type ``cls``."""
    if key in renames:
        wire = renames[key]
        props = _properties(cls) if cls is not None else {}
        found = next((p for p in props.values() if p[0] == wire), None)
        return wire, found[1] if found else None, found is not None
    if cls is not None:
        props = _properties(cls)
        for candidate in (key, *_plurals(key)):
            if candidate in props:
                wire, typ = props[candidate]
                return wire, typ, True
    return wire_name(key), None, False


def input_overlap(token: str, attributes: Iterable[str]) -> float:
    """Share of ``attributes`` (Terraform names) that are inputs of ``token`` in the SDK."""
    cls = input_class(token)
    keys = [a for a in attributes if a not in _SKIPPED_ATTRIBUTES and a != "tags"]
    if cls is None:
        return 0.0
    if not keys:
        return 1.0
    return sum(1 for k in keys if _lookup(cls, k, {})[2]) / len(keys)


# --- values -----------------------------------------------------------------------------


class _AnyConfig:
    """Stands for "configured, details unknown" (a whole expression, a dynamic block)."""


ANY = _AnyConfig()


def _child_config(config: Any, key: str) -> Any:
    """The configuration expression of attribute/block ``key`` under ``config``: ANY when
    the value is set as a whole, a dict (block body), a list (block bodies), or None."""
    if config is ANY:
        return ANY
    if not isinstance(config, dict):
        return None
    expr = config.get(key)
    if expr is None:
        return None
    if isinstance(expr, dict) and ("constant_value" in expr or "references" in expr or not expr):
        return ANY
    return expr


def _item_config(config: Any, index: int, count: int) -> Any:
    if config is ANY:
        return ANY
    if isinstance(config, list):
        return config[index] if len(config) == count and index < len(config) else ANY
    if isinstance(config, dict):
        return config
    return ANY


def _index(value: Any, i: int) -> Any:
    return value[i] if isinstance(value, list) and i < len(value) else None


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def _is_input_type(typ: Any) -> bool:
    return isinstance(typ, type) and getattr(typ, "_pulumi_input_type", False) is True


def _element_type(typ: Any) -> Any:
    """The element type of ``Sequence[Input[T]]`` / value type of ``Mapping[str, Input[T]]``."""
    import typing  # noqa: PLC0415

    from pulumi import _types  # noqa: PLC0415

    args = typing.get_args(typ)
    if not args:
        return None
    return _types.unwrap_type(args[-1])


def _kind(typ: Any) -> str:
    """``object``, ``list``, ``map`` or ``scalar`` for an SDK type (``unknown`` for None)."""
    import collections.abc  # noqa: PLC0415
    import typing  # noqa: PLC0415

    if typ is None:
        return "unknown"
    if _is_input_type(typ):
        return "object"
    origin = typing.get_origin(typ)
    if origin in (list, collections.abc.Sequence):
        return "list"
    if origin in (dict, collections.abc.Mapping):
        return "map"
    return "scalar"


def convert_value(  # noqa: PLR0911 - one return per shape
    value: Any, unknown: Any, sensitive: Any, config: Any, typ: Any
) -> Any:
    """One Terraform value as the Pulumi input of SDK type ``typ`` would carry it (None:
    leave it out)."""
    if unknown is True:
        return UNKNOWN
    if sensitive is True:
        inner = convert_value(value, unknown, None, config, typ)
        return None if inner is None else _secret(inner)
    kind = _kind(typ)
    if kind == "object":
        if isinstance(value, list):  # a block list the SDK flattens to one object
            if not value:
                return None
            n = len(value)
            return convert_value(
                value[0], _index(unknown, 0), _index(sensitive, 0), _item_config(config, 0, n), typ
            )
        if isinstance(value, dict):
            return convert_object(value, unknown, sensitive, config, typ)
        return value
    if isinstance(value, list):
        item = _element_type(typ) if kind == "list" else None
        n = len(value)
        out = [
            convert_value(
                v, _index(unknown, i), _index(sensitive, i), _item_config(config, i, n), item
            )
            for i, v in enumerate(value)
        ]
        return [v for v in out if v is not None]
    if isinstance(value, dict):
        if kind == "map":
            item = _element_type(typ)
            converted = {
                k: convert_value(v, _get(unknown, k), _get(sensitive, k), ANY, item)
                for k, v in value.items()
            }
            for k, u in (unknown or {}).items() if isinstance(unknown, dict) else ():
                if u is True and k not in converted:
                    converted[k] = UNKNOWN
            return {k: v for k, v in converted.items() if v is not None}
        return convert_object(value, unknown, sensitive, config, None)
    return value


def convert_object(  # noqa: PLR0917 - the parallel after/unknown/sensitive/config trees
    after: Mapping[str, Any],
    unknown: Any,
    sensitive: Any,
    config: Any,
    cls: type | None,
    renames: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Terraform object (a resource's attributes or a block body) as Pulumi inputs."""
    renames = renames or {}
    unknown_map = unknown if isinstance(unknown, dict) else {}
    out: dict[str, Any] = {}
    for key in sorted(set(after) | set(unknown_map)):
        if key in _SKIPPED_ATTRIBUTES:
            continue
        wire, typ, known_input = _lookup(cls, key, renames)
        child_unknown = unknown_map.get(key)
        child_config = _child_config(config, key)
        if child_unknown is True:
            # Known only after apply: unknown if the configuration sets it; absent if the
            # provider computes it (as an unset optional input is absent in Pulumi).
            if child_config is not None and (known_input or cls is None):
                out[wire] = UNKNOWN
            continue
        value = after.get(key)
        if value is None:
            continue
        if cls is not None and not known_input and not _has_value(value):
            continue
        converted = convert_value(value, child_unknown, _get(sensitive, key), child_config, typ)
        if converted is None or (converted == [] and child_config is None):
            continue  # an empty block list the configuration does not write is an unset input
        out[wire] = converted
    return out


def _has_value(value: Any) -> bool:
    return value not in (None, [], {}, "")


def merged_tags(change: Mapping[str, Any]) -> Any:
    """``tags_all`` (own tags plus the provider's default tags), unknown where Terraform
    does not know it yet; None for resources without tags."""
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    if unknown.get("tags_all") is True:
        return UNKNOWN
    if "tags_all" not in after:
        return None
    tags = dict(after.get("tags_all") or {})
    tags.update(after.get("tags") or {})
    for key, flag in (unknown.get("tags_all") or {}).items():
        if flag is True:
            tags[key] = UNKNOWN
    return tags


# --- the configuration: expressions and references ------------------------------------------


_INDEX = re.compile(r"\[[^\]]*\]")


def _config_module(address: str | None) -> tuple[str, ...]:
    """``module.a[0].module.b`` -> ("a", "b")."""
    if not address:
        return ()
    parts = _INDEX.sub("", address).split(".")
    return tuple(parts[i + 1] for i in range(0, len(parts) - 1, 2) if parts[i] == "module")


@dataclass
class _ConfigIndex:
    """The plan's configuration: resources, module calls and outputs, per module path."""

    resources: dict[tuple[tuple[str, ...], str], dict[str, Any]] = field(default_factory=dict)
    calls: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)
    outputs: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, configuration: Mapping[str, Any] | None) -> _ConfigIndex:
        index = cls()

        def walk(module: Mapping[str, Any], path: tuple[str, ...]) -> None:
            for res in module.get("resources") or []:
                index.resources[(path, str(res.get("address", "")))] = res
            index.outputs[path] = dict(module.get("outputs") or {})
            for name, call in (module.get("module_calls") or {}).items():
                index.calls[(*path, name)] = call
                walk(call.get("module") or {}, (*path, name))

        walk((configuration or {}).get("root_module") or {}, ())
        return index


def _references(expr: Any) -> list[str]:
    """Every reference inside an expression, block or list of blocks."""
    if isinstance(expr, dict):
        refs = list(expr.get("references") or [])
        for key, value in expr.items():
            if key not in ("references", "constant_value"):
                refs += _references(value)
        return refs
    if isinstance(expr, list):
        return [r for item in expr for r in _references(item)]
    return []


def _resource_key(ref: str) -> str | None:
    """``aws_kms_key.k.arn`` / ``aws_kms_key.k[0]`` -> ``aws_kms_key.k`` (None: not a
    managed resource)."""
    parts = _INDEX.sub("", ref).split(".")
    if len(parts) < 2 or parts[0] in ("var", "local", "module", "data", "each", "count", "path"):
        return None
    if parts[0] in ("self", "terraform"):
        return None
    return f"{parts[0]}.{parts[1]}"


def _resolve(
    refs: Iterable[str], path: tuple[str, ...], config: _ConfigIndex, depth: int = 0
) -> set[tuple[tuple[str, ...], str]]:
    """The configuration resources (module path, address) ``refs`` lead to, through module
    inputs (``var.x``) and outputs (``module.m.o``)."""
    found: set[tuple[tuple[str, ...], str]] = set()
    if depth > 32:
        return found
    for ref in refs:
        parts = _INDEX.sub("", ref).split(".")
        if parts[0] == "var" and len(parts) > 1 and path:
            call = config.calls.get(path) or {}
            expr = (call.get("expressions") or {}).get(parts[1])
            found |= _resolve(_references(expr), path[:-1], config, depth + 1)
        elif parts[0] == "module" and len(parts) > 2:
            child = (*path, parts[1])
            output = (config.outputs.get(child) or {}).get(parts[2]) or {}
            found |= _resolve(_references(output.get("expression")), child, config, depth + 1)
        else:
            key = _resource_key(ref)
            if key is not None:
                found.add((path, key))
    return found


# --- the conversion -----------------------------------------------------------------------


@dataclass
class NotEvaluated:
    """A planned resource the pack does not judge, and why."""

    address: str
    type: str
    reason: str


@dataclass
class Conversion:
    """A plan as registrations, with what could not be judged."""

    project: str
    stack: str
    resources: list[Registration]
    """The stack resource first, then one registration per planned resource."""
    addresses: dict[str, str]
    """URN -> Terraform address."""
    terraform_types: dict[str, str]
    """URN -> Terraform type."""
    not_evaluated: list[NotEvaluated]
    skipped: dict[str, int]
    """Planned changes not judged at all, by reason (deletions, data sources)."""


def stack_urn(project: str, stack: str) -> str:
    """The URN of the stack resource the converted resources belong to."""
    return f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"


def resource_urn(project: str, stack: str, token: str, address: str) -> str:
    """The URN of a converted resource: its Terraform address is its name."""
    return f"urn:pulumi:{stack}::{project}::{token}::{address}"


_PACK_TOKEN = re.compile(r"[\"'](aws:[A-Za-z0-9]+/[A-Za-z0-9]+:[A-Za-z0-9]+)[\"']")


def pack_types(rules_dir: Path) -> frozenset[str]:
    """The AWS type tokens the pack's rules name (what a planned resource must map to for
    a rule to read it)."""
    found: set[str] = set()
    for source in sorted(rules_dir.glob("*.py")):
        found |= set(_PACK_TOKEN.findall(source.read_text(encoding="utf-8")))
    return frozenset(found)


def _map_type(tf_type: str, configured: Iterable[str]) -> tuple[str | None, str]:
    """(token, "") or (None, why not)."""
    token = guess_token(tf_type)
    if token is None:
        return None, "no pulumi-aws resource corresponds to this Terraform type"
    if tf_type not in TYPE_EXCEPTIONS and input_overlap(token, configured) < _MIN_INPUT_OVERLAP:
        return None, (
            f"the configured attributes do not match {token}'s inputs in the installed "
            "pulumi-aws (a different provider version, or a type the naming convention "
            "does not give)"
        )
    return token, ""


def convert(
    plan: Mapping[str, Any],
    *,
    project: str = "terraform",
    stack: str = "plan",
    known_types: frozenset[str] | None = None,
) -> Conversion:
    """Every planned managed resource of ``plan`` as a registration under one stack.

    ``known_types`` are the tokens the pack's rules read: a mapped resource of another type
    is still sent (the generic rules, such as required tags, apply) but listed as not
    evaluated; a resource with no Pulumi type (another provider, an unmapped AWS type) is
    listed and not sent.
    """
    config = _ConfigIndex.of(plan.get("configuration"))
    root = stack_urn(project, stack)
    stack_request = {"type": STACK_TYPE, "name": f"{project}-{stack}", "custom": False}
    registrations = [Registration.from_request(stack_request, root, None)]
    addresses: dict[str, str] = {}
    tf_types: dict[str, str] = {}
    not_evaluated: list[NotEvaluated] = []
    skipped: dict[str, int] = {}
    pending: list[tuple[dict[str, Any], str, dict[str, Any], tuple[str, ...], str]] = []
    by_config: dict[tuple[tuple[str, ...], str], list[tuple[str, str]]] = {}

    for change in plan.get("resource_changes") or []:
        address = str(change.get("address", ""))
        tf_type = str(change.get("type", ""))
        if change.get("mode") != "managed":
            skipped["data sources"] = skipped.get("data sources", 0) + 1
            continue
        actions = list((change.get("change") or {}).get("actions") or [])
        if actions in (["delete"], ["forget"]):
            skipped["planned deletions"] = skipped.get("planned deletions", 0) + 1
            continue
        module_address = change.get("module_address")
        path = _config_module(module_address)
        config_address = f"{tf_type}.{change.get('name', '')}"
        res_config = config.resources.get((path, config_address)) or {}
        expressions = res_config.get("expressions")
        token, why = _map_type(tf_type, (expressions or {}).keys())
        if token is None:
            provider = str(change.get("provider_name", "")).rsplit("/", 1)[-1]
            reason = why if tf_type.startswith("aws_") else f"not an AWS resource ({provider})"
            not_evaluated.append(NotEvaluated(address, tf_type, reason))
            continue
        if known_types is not None and token not in known_types:
            not_evaluated.append(
                NotEvaluated(
                    address,
                    tf_type,
                    f"no rule of the pack reads {token} (only rules for every resource, "
                    "such as required tags, apply)",
                )
            )
        urn = resource_urn(project, stack, token, address)
        addresses[urn] = address
        tf_types[urn] = tf_type
        by_config.setdefault((path, config_address), []).append((urn, module_address or ""))
        pending.append((change, token, res_config, path, urn))

    for change, token, res_config, path, urn in pending:
        registrations.append(
            _registration(change, token, res_config, path, urn, root, config, by_config)
        )
    return Conversion(project, stack, registrations, addresses, tf_types, not_evaluated, skipped)


def _registration(  # noqa: PLR0917 - private helper of convert()
    change: Mapping[str, Any],
    token: str,
    res_config: Mapping[str, Any],
    path: tuple[str, ...],
    urn: str,
    root: str,
    config: _ConfigIndex,
    by_config: Mapping[tuple[tuple[str, ...], str], list[tuple[str, str]]],
) -> Registration:
    body = change.get("change") or {}
    after = body.get("after") or {}
    tf_type = str(change.get("type", ""))
    expressions = res_config.get("expressions")
    inputs = convert_object(
        after,
        body.get("after_unknown"),
        body.get("after_sensitive"),
        expressions if isinstance(expressions, dict) else ANY,
        input_class(token),
        PROPERTY_EXCEPTIONS.get(tf_type, {}),
    )
    tags = merged_tags(body)
    if tags is not None:
        inputs["tags"] = tags
    module_address = str(change.get("module_address") or "")

    def urns(refs: Iterable[str]) -> list[str]:
        out: set[str] = set()
        for target in _resolve(refs, path, config):
            candidates = by_config.get(target, [])
            # Prefer the instance in the same module instance (count/for_each modules).
            same = [u for u, mod in candidates if mod == module_address]
            out.update(same or [u for u, _ in candidates])
        out.discard(urn)
        return sorted(out)

    property_dependencies: dict[str, dict[str, list[str]]] = {}
    renames = PROPERTY_EXCEPTIONS.get(tf_type, {})
    for key, expr in (expressions or {}).items():
        deps = urns(_references(expr))
        if deps:
            wire = _lookup(input_class(token), key, renames)[0]
            property_dependencies[wire] = {"urns": deps}
    dependencies = urns([*_references(expressions or {}), *(res_config.get("depends_on") or [])])
    request = {
        "type": token,
        "name": str(change.get("address", "")),
        "custom": True,
        "parent": root,
        "object": inputs,
        "dependencies": dependencies,
        "propertyDependencies": property_dependencies,
    }
    return Registration.from_request(request, urn, None)
