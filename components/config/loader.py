"""Turn a stack's Pulumi configuration into a validated :class:`EnvironmentConfig`.

Config arrives as the engine passes it: a map of namespaced keys (``mlops:network``,
``aws:region``) to strings, objects as JSON. The profile's defaults go underneath, the
model checks structure, the rules check the rest, and every problem is reported in one
:class:`ConfigError` before any resource is registered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

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
            shown = json.dumps(problem.value, default=str)
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
    problems = []
    for error in exc.errors(include_url=False):
        path: Path = tuple(error["loc"])
        value = error.get("input", _MISSING) if error["type"] != "missing" else _MISSING
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(path[:-1])
            message = "unknown key; allowed keys here: " + ", ".join(allowed)
        elif error["type"] == "missing":
            message = "required, and the profile gives no default"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        problems.append(Problem(path, value, message))
    return problems


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
