"""Conventions the code base keeps, checked mechanically (../shared/CONVENTIONS.md)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pulumi
from mlops_platform.core.component import Component

from tests.conftest import REPO_ROOT

COMPONENT_DIR = REPO_ROOT / "components"
PACKAGE = "mlops_platform"
# The composition layer: the typed stack config and the composite that maps it onto the
# library's args. The library below it never imports it.
COMPOSITION = ("config", "platform")
DOMAINS = ("network", "cluster", "iam", "gpu", "storage", "observability")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(COMPONENT_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def _library_files() -> list[Path]:
    return sorted(p for p in COMPONENT_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).split(".") if path.is_relative_to(COMPONENT_DIR) else []
    if package and path.stem != "__init__":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
                names.add(module)
                if not node.module:
                    names.update(f"{module}.{alias.name}" for alias in node.names)
            elif node.module:
                names.add(node.module)
    return names


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE else ""


def test_library_never_imports_the_composition_or_pydantic():
    offenders = {
        _module_name(path): sorted(
            name
            for name in _imports(path)
            if name.startswith("pydantic") or _layer(name) in COMPOSITION
        )
        for path in _library_files()
        if _layer(_module_name(path)) not in COMPOSITION and path != COMPONENT_DIR / "__init__.py"
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_imports_no_domain():
    offenders = {
        _module_name(path): sorted(n for n in _imports(path) if _layer(n) not in ("core", ""))
        for path in (COMPONENT_DIR / "core").glob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_inside_the_package_imports_are_relative():
    # The package is importable under its distribution's import name only; an absolute
    # `components.` or `mlops_platform.` import inside it would break one of the two.
    pattern = re.compile(r"^\s*(from|import)\s+(components|mlops_platform)\b", re.MULTILINE)
    offenders = [
        str(p.relative_to(REPO_ROOT)) for p in _library_files() if pattern.search(p.read_text())
    ]
    assert offenders == []


def test_nothing_outside_the_pack_imports_the_source_folder_name():
    # Everything but the policy pack (which runs from a checkout with only pulumi-policy
    # installed and loads components/core by folder) uses the import name.
    pattern = re.compile(r"^\s*(from|import)\s+components\b", re.MULTILINE)
    roots = [REPO_ROOT / "scripts", REPO_ROOT / "tests", REPO_ROOT / "__main__.py"]
    files = [f for r in roots for f in ([r] if r.is_file() else r.rglob("*.py"))]
    offenders = [str(p.relative_to(REPO_ROOT)) for p in files if pattern.search(p.read_text())]
    assert offenders == []


def test_the_policy_pack_imports_only_the_core():
    imported = {
        name
        for path in (REPO_ROOT / "policy").rglob("*.py")
        if "venv" not in path.parts
        for name in _imports(path)
        if name.startswith("components")
    }
    assert imported and all(name.startswith("components.core") for name in imported), imported


_IMPORT_PROBE = """
import importlib, pkgutil
import mlops_platform
from scripts.offline import run_program
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

names = [i.name for i in pkgutil.walk_packages(mlops_platform.__path__, "mlops_platform.")]
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
    assert int(count) >= 20
    assert built == "[]"


def test_every_component_registers_an_index_token_with_its_legacy_alias():
    # Pulumi's package convention (what the component provider host derives from a class
    # name) is mlops:index:<Name>; the pre-0.2.0 token stays as an alias, so existing stacks
    # move their components instead of replacing them.
    found = []
    for path in _library_files():
        module = importlib.import_module(_module_name(path))
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, pulumi.ComponentResource) or cls.__module__ != module.__name__:
                continue
            if cls is Component:
                continue  # the shared base, not a component
            found.append(cls.__name__)
            # Every component shares the preamble, which registers the token and the alias
            # from these two.
            assert issubclass(cls, Component), f"{cls.__name__} should subclass core.Component"
            assert cls.type_token() == f"mlops:index:{cls.__name__}", cls.__name__
            assert re.fullmatch(rf"mlops:[a-z_]+:{cls.__name__}", cls.legacy_type_token()), (
                f"{cls.__name__} should name its pre-0.2.0 module (legacy_module=...)"
            )
    assert len(found) >= 12, found
