"""Conventions the code base keeps, checked mechanically (../shared/CONVENTIONS.md)."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pulumi

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


_IMPORT_PROBE = """
import importlib, pkgutil, sys
import components
from scripts.offline import run_program
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

names = [i.name for i in pkgutil.iter_modules(components.__path__, "components.")]
monitor = RecordingMonitor(PlatformMocks())
run_program(lambda: [importlib.import_module(n) for n in names], monitor=monitor)
built = [t for r in monitor.registrations if (t := r.request["type"]) != "pulumi:pulumi:Stack"]
print(len(names), built)
"""


def test_component_modules_create_nothing_at_import_time():
    # A fresh interpreter imports every module for the first time inside a mocked program:
    # a module that built a resource at import time would show up as a registration.
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    count, built = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert int(count) >= 10
    assert built == "[]"


def test_component_type_tokens_follow_mlops_module_name():
    for path in _component_modules():
        module = importlib.import_module(f"components.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, pulumi.ComponentResource) or cls.__module__ != module.__name__:
                continue
            source = inspect.getsource(module)
            expected = f'"mlops:{path.stem}:{cls.__name__}"'
            assert expected in source, f"{cls.__name__} should register as {expected}"
