"""Conventions the code base keeps, checked mechanically (../shared/CONVENTIONS.md)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pulumi

import components
from tests.conftest import REPO_ROOT

COMPONENT_DIR = REPO_ROOT / "components"
# Modules allowed to know about the stack-config layer: the config package itself and the
# composite that maps config onto component args.
CONFIG_AWARE = {"platform"}


def _component_modules() -> list[Path]:
    return sorted(p for p in COMPONENT_DIR.glob("*.py") if p.stem != "__init__")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_components_stay_packageable_without_the_config_layer():
    offenders = {
        path.name: sorted(
            name for name in _imports(path) if name.startswith(("pydantic", "components.config"))
        )
        for path in _component_modules()
        if path.stem not in CONFIG_AWARE
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_component_modules_create_nothing_at_import_time():
    # Importing every module must register no resource: the modules define, never build.
    # (Running outside any Pulumi program, a registration would raise here.)
    for info in pkgutil.iter_modules(components.__path__, "components."):
        importlib.import_module(info.name)


def test_component_type_tokens_follow_mlops_module_name():
    for path in _component_modules():
        module = importlib.import_module(f"components.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, pulumi.ComponentResource) or cls.__module__ != module.__name__:
                continue
            source = inspect.getsource(module)
            expected = f'"mlops:{path.stem}:{cls.__name__}"'
            assert expected in source, f"{cls.__name__} should register as {expected}"
