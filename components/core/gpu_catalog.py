"""What each supported GPU instance type carries.

One table serves the configuration model (allowlists, budgets), the GPU node pool
component (labels, MIG/time-slicing checks) and, later, the policy pack, so a rule
and a constructor can never disagree about how many GPUs an instance has.

Figures are AWS's published instance specifications (GPU count, GPU model, vCPUs).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


def _family(
    prefix: str,
    model: GpuModel,
    sizes: dict[str, tuple[int, int]],
    architecture: str = "x86_64",
) -> dict[str, GpuInstanceType]:
    return {
        f"{prefix}.{size}": GpuInstanceType(f"{prefix}.{size}", gpus, model, vcpus, architecture)
        for size, (gpus, vcpus) in sizes.items()
    }


# size -> (GPUs, vCPUs) for the G families that share one size ladder.
_G_LADDER: dict[str, tuple[int, int]] = {
    "xlarge": (1, 4),
    "2xlarge": (1, 8),
    "4xlarge": (1, 16),
    "8xlarge": (1, 32),
    "16xlarge": (1, 64),
    "12xlarge": (4, 48),
    "24xlarge": (4, 96),
    "48xlarge": (8, 192),
}

GPU_INSTANCE_TYPES: dict[str, GpuInstanceType] = {
    **_family(
        "g4dn",
        GpuModel.T4,
        {
            "xlarge": (1, 4),
            "2xlarge": (1, 8),
            "4xlarge": (1, 16),
            "8xlarge": (1, 32),
            "16xlarge": (1, 64),
            "12xlarge": (4, 48),
            "metal": (8, 96),
        },
    ),
    **_family("g5", GpuModel.A10G, _G_LADDER),
    **_family("g6", GpuModel.L4, _G_LADDER),
    **_family("g6e", GpuModel.L40S, _G_LADDER),
    **_family("p4d", GpuModel.A100_40GB, {"24xlarge": (8, 96)}),
    **_family("p4de", GpuModel.A100_80GB, {"24xlarge": (8, 96)}),
    **_family("p5", GpuModel.H100, {"4xlarge": (1, 16), "48xlarge": (8, 192)}),
    **_family("p5e", GpuModel.H200, {"48xlarge": (8, 192)}),
    **_family("p5en", GpuModel.H200, {"48xlarge": (8, 192)}),
    **_family(
        "g5g",
        GpuModel.T4G,
        {
            "xlarge": (1, 4),
            "2xlarge": (1, 8),
            "4xlarge": (1, 16),
            "8xlarge": (1, 32),
            "16xlarge": (2, 64),
            "metal": (2, 64),
        },
        architecture="arm64",
    ),
}


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


EFA_CAPABLE: frozenset[str] = frozenset(
    {
        *(f"g4dn.{s}" for s in ("8xlarge", "12xlarge", "16xlarge", "metal")),
        *(
            f"{f}.{s}"
            for f in ("g5", "g6", "g6e")
            for s in ("8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")
        ),
        "p4d.24xlarge",
        "p4de.24xlarge",
        "p5.48xlarge",
        "p5e.48xlarge",
        "p5en.48xlarge",
    }
)
"""Catalog types that support Elastic Fabric Adapter (AWS's EFA instance list). Smaller
sizes of the same families do not."""

UNSUPPORTED_ACCELERATOR_FAMILIES: frozenset[str] = frozenset(
    {
        "p2",
        "p3",
        "p3dn",
        "g3",
        "g3s",
        "g4ad",
        "inf1",
        "inf2",
        "trn1",
        "trn1n",
        "trn2",
        "dl1",
        "dl2q",
        "f1",
        "f2",
        "vt1",
    }
)
"""Families with accelerators this platform does not run (older NVIDIA, AMD, Inferentia,
Trainium, Gaudi, FPGAs); anything else outside the catalog is CPU-only."""


def is_gpu_family(family: str) -> bool:
    """Whether ``family`` (e.g. ``g5``) is one of the catalog's GPU families."""
    return any(t.family == family for t in GPU_INSTANCE_TYPES.values())
