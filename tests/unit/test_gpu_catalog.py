"""The GPU catalog: one data table (``core/gpu_instances.csv``) read into typed entries."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from mlops_platform.core import gpu_catalog
from mlops_platform.core.gpu_catalog import (
    CATALOG_FILE,
    EFA_CAPABLE,
    GPU_INSTANCE_TYPES,
    MIG_PROFILES,
    GpuModel,
)

from tests.conftest import REPO_ROOT


def test_every_row_is_a_typed_entry_named_by_its_instance_type():
    lines = CATALOG_FILE.read_text("utf-8").splitlines()
    header, *rows = [line for line in lines if line and not line.startswith("#")]
    assert header == "instance_type,gpus,gpu_model,vcpus,architecture,efa"
    assert len(GPU_INSTANCE_TYPES) == len(rows) >= 40
    for name, entry in GPU_INSTANCE_TYPES.items():
        assert entry.name == name and "." in name
        assert entry.gpus >= 1 and entry.vcpus >= 4
        assert entry.architecture in {"x86_64", "arm64"}


def test_a_family_has_one_gpu_model_and_one_architecture():
    families: dict[str, set[tuple[GpuModel, str]]] = {}
    for entry in GPU_INSTANCE_TYPES.values():
        families.setdefault(entry.family, set()).add((entry.gpu_model, entry.architecture))
    assert {f: len(kinds) for f, kinds in families.items() if len(kinds) != 1} == {}


def test_derived_facts_follow_the_table():
    assert {t.name for t in GPU_INSTANCE_TYPES.values() if t.efa} == EFA_CAPABLE
    assert "p5.48xlarge" in EFA_CAPABLE and "g5.xlarge" not in EFA_CAPABLE
    assert GPU_INSTANCE_TYPES["g5g.xlarge"].architecture == "arm64"
    assert GPU_INSTANCE_TYPES["p4d.24xlarge"].gpus == 8
    assert all(t.gpu_model in MIG_PROFILES for t in GPU_INSTANCE_TYPES.values() if t.mig_capable)


def test_a_type_listed_twice_or_an_unknown_value_fails_loudly(tmp_path: Path):
    header = "instance_type,gpus,gpu_model,vcpus,architecture,efa\n"
    row = "g5.xlarge,1,nvidia-a10g,4,x86_64,no\n"
    twice = tmp_path / "twice.csv"
    twice.write_text(header + row + row, "utf-8")
    with pytest.raises(ValueError, match="twice"):
        gpu_catalog._load(twice)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(header + row.replace("nvidia-a10g", "nvidia-a11"), "utf-8")
    with pytest.raises(ValueError, match="nvidia-a11"):
        gpu_catalog._load(unknown)


def test_the_table_ships_in_the_package():
    # Installed from a wheel, the catalog module still finds its table next to it.
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    assert any(fnmatch(CATALOG_FILE.name, glob) for glob in package_data["mlops_platform.core"])
