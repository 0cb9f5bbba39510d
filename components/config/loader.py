"""Turn a stack's Pulumi configuration into a validated :class:`EnvironmentConfig`.

Config arrives as the engine passes it: a map of namespaced keys (``mlops:network``,
``aws:region``) to strings, objects as JSON. The profile's defaults go underneath, the
model checks structure, the rules check the rest, and every problem is reported in one
:class:`ConfigError` before any resource is registered.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from ..core.patterns import described
from .model import EnvironmentConfig, Profile
from .profiles import PROFILES, merge_over_profile
from .rules import Path, Problem, check

NAMESPACE = "mlops"
"""The config namespace of the project's own keys (the project name in Pulumi.yaml)."""

_PASSED_THROUGH = {"aws:region": "region"}
"""Keys of other namespaces that the model reads."""


class ConfigError(pulumi.RunError):
    """Bad configuration: every problem, each with its key path, value and what is allowed.

    A ``RunError`` so that ``pulumi up`` prints the message without a traceback.
    """

    def __init__(
        self, stack: str, problems: list[Problem], secret_keys: frozenset[str] = frozenset()
    ) -> None:
        self.stack = stack
        self.problems = problems
        super().__init__(format_problems(stack, problems, secret_keys))


def config_key(path: Path) -> str:
    """The user-facing key path of a problem, e.g. ``mlops:gpu.pools[0].maxSize``."""
    head, *rest = path
    text = next((k for k, v in _PASSED_THROUGH.items() if v == head), f"{NAMESPACE}:{head}")
    for part in rest:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def format_problems(
    stack: str, problems: list[Problem], secret_keys: frozenset[str] = frozenset()
) -> str:
    """One message listing every problem; values of secret keys and fields are redacted."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"stack '{stack}' has {len(problems)} configuration {noun}:"]
    for problem in problems:
        if problem.value is _MISSING:
            shown = "(missing)"
        elif _is_secret(problem.path, secret_keys):
            shown = '"[secret]"'
        else:
            shown = json.dumps(problem.value, default=str, ensure_ascii=False)
        message = problem.message
        if shown == '"[secret]"' and isinstance(problem.value, str) and problem.value:
            message = message.replace(problem.value, "[secret]")
        lines.append(f"  - {config_key(problem.path)} = {shown}: {message}")
    return "\n".join(lines)


def _is_secret(path: Path, secret_keys: frozenset[str]) -> bool:
    """Whether a problem's value comes from a secret config key or a secret model field."""
    if config_key(path[:1]) in secret_keys:
        return True
    model: type[BaseModel] | None = EnvironmentConfig
    for part in path:
        if isinstance(part, int) or model is None:
            continue
        field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return False
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("secret"):
            return True
        model = _model_in(field.annotation)
    return False


_MISSING = object()


def documented_example(key: str, path: tuple[str | int, ...] = ()) -> str | None:
    """The example the model documents for the field at config ``key`` + ``path``
    (e.g. ``mlops:observability`` + ``("webhookUrl",)``), if it has one.

    A tool that must stand in for a value it cannot read (an encrypted secret, offline)
    uses it so the stand-in has the field's shape."""
    if not key.startswith(f"{NAMESPACE}:"):
        return None
    model: type[BaseModel] | None = EnvironmentConfig
    field = None
    for part in (key.split(":", 1)[1], *path):
        if isinstance(part, int):
            continue
        if model is None:
            return None
        field = next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return None
        model = _model_in(field.annotation)
    examples = field.examples if field is not None else None
    return str(examples[0]) if examples else None


def environment_from_config(
    values: Mapping[str, Any], stack: str, secret_keys: frozenset[str] = frozenset()
) -> EnvironmentConfig:
    """Validate the stack's config values (namespaced keys) into an :class:`EnvironmentConfig`.

    Raises :class:`ConfigError` naming every problem; values under ``secret_keys`` (and
    fields the model marks secret) are never echoed.
    """
    raw: dict[str, Any] = {}
    for key, value in values.items():
        if key in _PASSED_THROUGH:
            raw[_PASSED_THROUGH[key]] = value
        elif key.startswith(f"{NAMESPACE}:"):
            raw[key.split(":", 1)[1]] = _decode(value)

    profile_name = raw.get("profile", _MISSING)
    allowed_profiles = ", ".join(p.value for p in Profile)
    if profile_name not in {p.value for p in Profile}:
        message = f"every stack names its profile; allowed: {allowed_profiles}"
        raise ConfigError(stack, [Problem(("profile",), profile_name, message)], secret_keys)

    merged = merge_over_profile(PROFILES[Profile(profile_name)], raw)
    try:
        config = EnvironmentConfig.model_validate_json(json.dumps(merged))
    except ValidationError as exc:
        raise ConfigError(stack, _structural_problems(exc, merged), secret_keys) from None
    problems = check(config)
    if problems:
        raise ConfigError(stack, problems, secret_keys)
    return config


def load_environment() -> EnvironmentConfig:
    """The running stack's validated configuration (as passed by the engine)."""
    from pulumi.runtime.config import CONFIG, get_config_env, is_config_secret  # noqa: PLC0415

    values = {**get_config_env(), **CONFIG.get()}
    secret_keys = frozenset(key for key in values if is_config_secret(key))
    return environment_from_config(values, pulumi.get_stack(), secret_keys)


def _decode(value: Any) -> Any:
    """Config values arrive as strings; objects, arrays, numbers and booleans as JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _structural_problems(exc: ValidationError, data: dict[str, Any]) -> list[Problem]:
    errors = exc.errors(include_url=False)
    # A misspelled key shows up twice: as an unknown key and as the missing one it meant.
    meant: set[Path] = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            path = tuple(error["loc"])
            close = _closest(str(path[-1]), _allowed_keys(path[:-1]))
            if close:
                meant.add((*path[:-1], close))
    problems = []
    for error in errors:
        path: Path = tuple(error["loc"])
        value = error.get("input", _MISSING) if error["type"] != "missing" else _MISSING
        message = error["msg"]
        kind = error["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(path[:-1])
            close = _closest(str(path[-1]), allowed)
            hint = f"did you mean {close}? " if close else ""
            message = f"unknown key; {hint}allowed keys here: " + ", ".join(allowed)
        elif kind == "missing":
            if path in meant:
                continue  # reported as the misspelled key, with the suggestion
            message = "required, and the profile gives no default"
        elif kind == "string_pattern_mismatch":
            pattern = described(str((error.get("ctx") or {}).get("pattern", "")))
            message = f"not {pattern.allowed}" if pattern else "does not have the accepted form"
        elif (
            kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool)
        ):
            message = (
                f"a string, but YAML read the number {value}: quote the value as written "
                '(e.g. "1.30", not 1.30, which YAML reads as 1.3)'
            )
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        problems.append(Problem(path, value, message))
    return problems


def _closest(key: str, allowed: list[str]) -> str | None:
    """The allowed key ``key`` most likely meant (case and small typos forgiven)."""
    plain = {k.split(":")[-1].lower(): k for k in allowed}
    if key.lower() in plain:
        return plain[key.lower()]
    close = difflib.get_close_matches(key.lower(), list(plain), n=1, cutoff=0.75)
    return plain[close[0]] if close else None


def _allowed_keys(path: Path) -> list[str]:
    """The camelCase keys the model accepts at ``path`` (list indices skipped)."""
    model: type[BaseModel] = EnvironmentConfig
    for part in path:
        if isinstance(part, int):
            continue
        field = next((f for f in model.model_fields.values() if f.alias == part), None)
        annotation = field.annotation if field else None
        inner = _model_in(annotation)
        if inner is None:
            return []
        model = inner
    keys = [f.alias or n for n, f in model.model_fields.items()]
    if model is EnvironmentConfig:  # top level: shown as config keys
        return sorted(config_key((k,)) for k in keys)
    return keys


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
