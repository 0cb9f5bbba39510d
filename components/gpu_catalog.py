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
    prefix: str, model: GpuModel, sizes: dict[str, tuple[int, int]]
) -> dict[str, GpuInstanceType]:
    return {
        f"{prefix}.{size}": GpuInstanceType(f"{prefix}.{size}", gpus, model, vcpus)
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
}


def gpu_instance(name: str) -> GpuInstanceType | None:
    """The catalog entry for ``name``, or None when it is not a known GPU instance type."""
    return GPU_INSTANCE_TYPES.get(name)


def max_gpus_per_node(instance_types: list[str]) -> int:
    """The most GPUs any one node of a pool with these instance types can bring.

    Unknown types count as zero; the configuration model rejects them separately.
    """
    return max((GPU_INSTANCE_TYPES[t].gpus for t in instance_types if t in GPU_INSTANCE_TYPES),
               default=0)
