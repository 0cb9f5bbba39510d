"""What each supported GPU instance type carries.

One table serves the configuration model (allowlists, budgets), the GPU node pool
component (labels, MIG/time-slicing checks) and, later, the policy pack, so a rule
and a constructor can never disagree about how many GPUs an instance has.

The instance types are a data table, ``gpu_instances.csv`` next to this module (AWS's
published instance specifications: GPU count, GPU model, vCPUs, architecture, EFA support);
this module reads it once and adds what is derived from it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class GpuModel(StrEnum):
    """NVIDIA accelerators behind the supported instance families."""

    T4 = "nvidia-t4"
    A10G = "nvidia-a10g"
    L4 = "nvidia-l4"
    L40S = "nvidia-l40s"
    A100_40GB = "nvidia-a100-40gb"
    A100_80GB = "nvidia-a100-80gb"
    H100 = "nvidia-h100"
    H200 = "nvidia-h200"
    T4G = "nvidia-t4g"


# Multi-Instance GPU exists only on the A100 / H100 / H200 class.
MIG_CAPABLE: frozenset[GpuModel] = frozenset(
    {GpuModel.A100_40GB, GpuModel.A100_80GB, GpuModel.H100, GpuModel.H200}
)


@dataclass(frozen=True)
class GpuInstanceType:
    """One EC2 instance type with NVIDIA GPUs."""

    name: str
    gpus: int
    gpu_model: GpuModel
    vcpus: int
    architecture: str = "x86_64"
    """CPU architecture: ``x86_64`` or ``arm64`` (Graviton, e.g. g5g)."""
    efa: bool = False
    """Whether the type supports Elastic Fabric Adapter."""

    @property
    def family(self) -> str:
        """The family prefix, e.g. ``g5`` for ``g5.xlarge``."""
        return self.name.split(".", 1)[0]

    @property
    def mig_capable(self) -> bool:
        """Whether the GPU supports Multi-Instance GPU partitioning."""
        return self.gpu_model in MIG_CAPABLE

    @property
    def quota_class(self) -> str:
        """The EC2 on-demand vCPU quota bucket: ``G`` (G and VT) or ``P``."""
        return "P" if self.family.startswith("p") else "G"


CATALOG_FILE = Path(__file__).with_name("gpu_instances.csv")
"""The table itself: one row per supported instance type (data, not code)."""

_YES_NO = {"yes": True, "no": False}


def _row(row: dict[str, str]) -> GpuInstanceType:
    return GpuInstanceType(
        name=row["instance_type"],
        gpus=int(row["gpus"]),
        gpu_model=GpuModel(row["gpu_model"]),
        vcpus=int(row["vcpus"]),
        architecture=row["architecture"],
        efa=_YES_NO[row["efa"]],
    )


def _load(path: Path) -> dict[str, GpuInstanceType]:
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
    types = []
    for row in csv.DictReader(lines):
        try:
            types.append(_row(row))
        except (KeyError, ValueError) as error:
            raise ValueError(f"{path.name}, row {row.get('instance_type')!r}: {error}") from error
    by_name = {t.name: t for t in types}
    if len(by_name) != len(types):
        raise ValueError(f"{path.name} lists an instance type twice")
    return by_name


GPU_INSTANCE_TYPES: dict[str, GpuInstanceType] = _load(CATALOG_FILE)
"""Every supported GPU instance type by name, in the order of :data:`CATALOG_FILE`."""


def gpu_instance(name: str) -> GpuInstanceType | None:
    """The catalog entry for ``name``, or None when it is not a known GPU instance type."""
    return GPU_INSTANCE_TYPES.get(name)


def max_gpus_per_node(instance_types: list[str]) -> int:
    """The most GPUs any one node of a pool with these instance types can bring.

    Unknown types count as zero; the configuration model rejects them separately.
    """
    return max(
        (GPU_INSTANCE_TYPES[t].gpus for t in instance_types if t in GPU_INSTANCE_TYPES), default=0
    )


MIG_PROFILES: dict[GpuModel, tuple[str, ...]] = {
    GpuModel.A100_40GB: ("1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"),
    GpuModel.A100_80GB: ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
    GpuModel.H100: ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
    GpuModel.H200: ("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"),
}
"""MIG instance profiles per GPU model (NVIDIA's MIG user guide). ``balanced`` (a mix the
MIG manager defines per GPU) is accepted on every MIG-capable model as well."""

MIG_BALANCED = "balanced"
"""The MIG manager's mixed partition layout (``all-balanced``)."""

_MIG_INSTANCES_PER_GPU = {1: 7, 2: 3, 3: 2, 4: 1, 7: 1}


def mig_instances_per_gpu(profile: str) -> int | None:
    """How many MIG instances of ``profile`` (e.g. ``1g.10gb``) one GPU holds, or None
    for the mixed ``balanced`` layout."""
    head = profile.split("g.", 1)[0]
    return _MIG_INSTANCES_PER_GPU.get(int(head)) if head.isdigit() else None


EFA_CAPABLE: frozenset[str] = frozenset(t.name for t in GPU_INSTANCE_TYPES.values() if t.efa)
"""Catalog types that support Elastic Fabric Adapter (AWS's EFA instance list). Smaller
sizes of the same families do not."""

UNSUPPORTED_ACCELERATOR_FAMILIES: frozenset[str] = frozenset(
    {
        *("p2", "p3", "p3dn", "g3", "g3s"),  # older NVIDIA GPUs (K80, V100, M60)
        "g4ad",  # AMD Radeon Pro
        *("inf1", "inf2", "trn1", "trn1n", "trn2"),  # AWS Inferentia and Trainium
        *("dl1", "dl2q"),  # Habana Gaudi, Qualcomm AI 100
        *("f1", "f2", "vt1"),  # FPGAs, Xilinx video transcoders
    }
)
"""Families with accelerators this platform does not run (older NVIDIA, AMD, Inferentia,
Trainium, Gaudi, FPGAs); anything else outside the catalog is CPU-only."""


def is_gpu_family(family: str) -> bool:
    """Whether ``family`` (e.g. ``g5``) is one of the catalog's GPU families."""
    return any(t.family == family for t in GPU_INSTANCE_TYPES.values())
