"""Read ``Pulumi.yaml`` and a stack file the way the Pulumi CLI does, with no CLI.

The result is the config map the engine would hand the program: namespaced keys, string
values (objects and arrays as JSON), project-level defaults applied, declared types checked,
and ``secure:`` values replaced by a placeholder and listed as secret keys (there is no
secrets provider offline, and a placeholder never leaks a real secret).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_PLACEHOLDER = "[secret: not decrypted offline]"


class StackFileError(Exception):
    """The project or stack file cannot be used; the message says what and where."""


@dataclass(frozen=True)
class StackConfig:
    """What the engine passes to the program for one stack."""

    project: str
    stack: str
    values: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)
    source: Path | None = None


def load_project(root: Path = REPO_ROOT) -> dict[str, Any]:
    """The parsed ``Pulumi.yaml``."""
    path = root / "Pulumi.yaml"
    project = _read_yaml(path)
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise StackFileError(f"{path} must be a YAML map with at least a 'name' and a 'runtime'")
    return project


def _kind(value: Any) -> str:
    """What a YAML document turned out to be, in words."""
    kinds = {
        list: "a list",
        str: "plain text",
        int: "a number",
        float: "a number",
        bool: "a boolean",
    }
    return kinds.get(type(value), type(value).__name__)


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    """Where the stack's settings file lives (``stackConfigDir`` honoured)."""
    project = load_project(root)
    return root / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


def available_stacks(root: Path = REPO_ROOT) -> list[str]:
    """Stacks that have a settings file."""
    project = load_project(root)
    folder = root / project.get("stackConfigDir", ".")
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))


SecretPlaceholder = Callable[[str, tuple[str | int, ...]], str]
"""Chooses the stand-in for an encrypted value: ``(config key, path under it) -> text``."""


def generic_placeholder(key: str, path: tuple[str | int, ...]) -> str:
    """The same stand-in for every encrypted value."""
    return SECRET_PLACEHOLDER


def _without_secrets(
    value: Any,
    path: tuple[str | int, ...],
    found: list[tuple[str | int, ...]],
    placeholder: Callable[[tuple[str | int, ...]], str],
) -> Any:
    """``value`` with every ``{secure: ...}`` (at any depth) replaced by a stand-in."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            found.append(path)
            return placeholder(path)
        return {k: _without_secrets(v, (*path, k), found, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v, (*path, i), found, placeholder) for i, v in enumerate(value)]
    return value


def load_stack_config(
    stack: str,
    root: Path = REPO_ROOT,
    path: Path | None = None,
    placeholder: SecretPlaceholder = generic_placeholder,
) -> StackConfig:
    """The engine's view of ``stack``'s config; ``path`` overrides the stack file's location.

    Encrypted values (``secure:``, at any depth, as ``pulumi config set --secret --path``
    writes them) cannot be decrypted offline: ``placeholder`` chooses their stand-ins."""
    project = load_project(root)
    name = project["name"]
    source = path or stack_file(stack, root)
    if not source.is_file():
        known = ", ".join(available_stacks(root)) or "none"
        raise StackFileError(f"no stack file for stack '{stack}' at {source}; stacks: {known}")
    document = _read_yaml(source) or {}
    if not isinstance(document, dict):
        raise StackFileError(
            f"{source} holds {_kind(document)}; a stack file is a YAML map whose 'config' key "
            "maps config keys to values, e.g.\n  config:\n    mlops:profile: dev"
        )
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(
            f"{source}: 'config' holds {_kind(config)}; it must map config keys to values, "
            "e.g.\n  config:\n    mlops:profile: dev"
        )

    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        full = key if ":" in key else f"{name}:{key}"
        found: list[tuple[str | int, ...]] = []
        plain = _without_secrets(value, (), found, lambda path, k=full: placeholder(k, path))
        if found:
            # The CLI marks the whole key secret when any value under it is (`--path`).
            secret_keys.append(full)
        values[full] = plain if isinstance(plain, str) else json.dumps(plain)

    problems = _apply_project_config(project, config, values, secret_keys)
    if problems:
        raise StackFileError(
            f"stack '{stack}' does not match the config schema in Pulumi.yaml:\n"
            + "\n".join(problems)
        )
    return StackConfig(name, stack, dict(sorted(values.items())), sorted(secret_keys), source)


def _apply_project_config(
    project: dict[str, Any], config: dict[str, Any], values: dict[str, str], secret_keys: list[str]
) -> list[str]:
    """Apply Pulumi.yaml's project-level values and defaults to ``values`` (in place) and
    check its declared types, as the CLI does; returns the problems found."""
    name = project["name"]
    problems = []
    for key, declaration in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if not isinstance(declaration, dict) or "type" not in declaration:
            values.setdefault(full, _encode(declaration))  # a plain project-level value
            continue
        if full not in values:
            if "default" in declaration:
                values[full] = _encode(declaration["default"])
            else:
                about = declaration.get("description", "see Pulumi.yaml")
                problems.append(f"  - {full}: missing; every stack must set it ({about})")
            continue
        if full in secret_keys:
            continue
        problem = _type_problem(config.get(key, config.get(full)), declaration)
        if problem:
            problems.append(f"  - {full}: {problem}")
    return problems


_YAML_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
}


def _type_problem(value: Any, declaration: dict[str, Any]) -> str | None:
    expected = declaration["type"]
    ok = isinstance(value, _YAML_TYPES.get(expected, (object,)))
    if expected == "integer" and isinstance(value, bool):
        ok = False
    if not ok:
        return f"{json.dumps(value, default=str)} is not of the declared type '{expected}'"
    items = declaration.get("items")
    if expected == "array" and isinstance(items, dict) and isinstance(value, list):
        for i, item in enumerate(value):
            problem = _type_problem(item, items)
            if problem:
                return f"item [{i}]: {problem}"
    return None


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise StackFileError(f"{path} does not exist") from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path} is not valid YAML: {exc}") from None
