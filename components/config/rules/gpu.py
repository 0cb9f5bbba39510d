"""Rules of ``mlops:gpu``: known, allowed instance types within the budget; pools, sharing,
AMIs and the autoscaler that can really be built."""

from __future__ import annotations

from ...core.gpu_catalog import (
    EFA_CAPABLE,
    GPU_INSTANCE_TYPES,
    MIG_BALANCED,
    MIG_PROFILES,
    max_gpus_per_node,
)
from ...gpu.node_pool import (
    AmiType,
    CapacityType,
    PoolEngine,
    Workload,
    ami_release_problem,
    capacity_block_types_problem,
    reservation_capacity_problem,
)
from ...gpu.nvidia import NvidiaMode, exclusive_sharing_problem
from ..model import EnvironmentConfig, Profile
from .problem import Path, Problem


def gpu_instance_types(config: EnvironmentConfig) -> list[Problem]:
    """Every pool uses known GPU instance types from the environment's allowlist."""
    problems: list[Problem] = []
    allowed = config.gpu.allowed_instance_types
    for i, name in enumerate(allowed):
        if name not in GPU_INSTANCE_TYPES:
            problems.append(
                Problem(("gpu", "allowedInstanceTypes", i), name, _not_gpu_message(name))
            )
    for i, pool in enumerate(config.gpu.pools):
        for j, name in enumerate(pool.instance_types):
            path: Path = ("gpu", "pools", i, "instanceTypes", j)
            if name not in GPU_INSTANCE_TYPES:
                problems.append(Problem(path, name, _not_gpu_message(name)))
            elif name not in allowed:
                problems.append(
                    Problem(
                        path,
                        name,
                        f"not in the {config.profile} allowlist (gpu.allowedInstanceTypes): "
                        + ", ".join(allowed),
                    )
                )
    return problems


def gpu_budget(config: EnvironmentConfig) -> list[Problem]:
    """The pools' maximum GPUs fit the environment's GPU budget."""
    per_pool = {
        pool.name: pool.max_size * max_gpus_per_node(pool.instance_types)
        for pool in config.gpu.pools
    }
    total = sum(per_pool.values())
    if total <= config.gpu.budget_gpus:
        return []
    breakdown = ", ".join(f"{name}: {gpus}" for name, gpus in per_pool.items())
    return [
        Problem(
            ("gpu", "pools"),
            f"{total} GPUs at max size ({breakdown})",
            f"exceeds gpu.budgetGpus = {config.gpu.budget_gpus}; lower maxSize or raise the budget",
        )
    ]


def gpu_pools(config: EnvironmentConfig) -> list[Problem]:
    """Pool names are unique; prod serving pools keep an on-demand baseline."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, pool in enumerate(config.gpu.pools):
        if pool.name in seen:
            problems.append(
                Problem(("gpu", "pools", i, "name"), pool.name, "pool names must be unique")
            )
        seen.add(pool.name)
        if (
            config.profile is Profile.PROD
            and pool.workload is Workload.SERVING
            and pool.capacity_type is CapacityType.SPOT
        ):
            problems.append(
                Problem(
                    ("gpu", "pools", i, "capacityType"),
                    "spot",
                    "prod serving pools run on-demand; spot is for batch, training and notebooks",
                )
            )
    return problems


def gpu_sharing(config: EnvironmentConfig) -> list[Problem]:
    """Time-slicing or MIG per pool, never both; MIG only on MIG GPUs, with the operator."""
    problems: list[Problem] = []
    for i, pool in enumerate(config.gpu.pools):
        sharing = pool.sharing
        if sharing is None:
            continue
        path: Path = ("gpu", "pools", i, "sharing")
        if both := exclusive_sharing_problem(
            sharing.time_slicing is not None, sharing.mig is not None
        ):
            problems.append(Problem(path, {"timeSlicing": "...", "mig": "..."}, both))
        if config.gpu.pool_settings(pool).ami_type.bottlerocket:
            problems.append(
                Problem(
                    path,
                    "timeSlicing" if sharing.time_slicing else "mig",
                    "Bottlerocket runs its own NVIDIA device plugin, which the platform's sharing "
                    "configs do not reach; use an AL2023 NVIDIA amiType for shared GPUs",
                )
            )
        if sharing.mig is None:
            continue
        profile = sharing.mig.profile
        for name in pool.instance_types:
            gpu = GPU_INSTANCE_TYPES.get(name)
            if gpu is None:
                continue  # reported by gpu_instance_types
            if not gpu.mig_capable:
                problems.append(
                    Problem(
                        (*path, "mig", "profile"),
                        profile,
                        f"{name} ({gpu.gpu_model.value}) has no MIG; MIG needs A100, H100 or "
                        "H200 instances (p4d, p4de, p5, p5e, p5en)",
                    )
                )
            elif profile != MIG_BALANCED and profile not in MIG_PROFILES[gpu.gpu_model]:
                problems.append(
                    Problem(
                        (*path, "mig", "profile"),
                        profile,
                        f"not a MIG profile of {gpu.gpu_model.value} ({name}); allowed: "
                        + ", ".join((*MIG_PROFILES[gpu.gpu_model], MIG_BALANCED)),
                    )
                )
        if config.gpu.nvidia.mode is not NvidiaMode.GPU_OPERATOR:
            problems.append(
                Problem(
                    ("gpu", "nvidia", "mode"),
                    config.gpu.nvidia.mode.value,
                    f"pool '{pool.name}' uses MIG, which the GPU operator's MIG manager applies; "
                    "set gpu.nvidia.mode: gpu-operator",
                )
            )
    return problems


def gpu_pool_capacity(config: EnvironmentConfig) -> list[Problem]:
    """Engine, AMI, EFA and reservation settings each pool can actually be built with."""
    problems: list[Problem] = []
    for i, pool in enumerate(config.gpu.pools):
        settings = config.gpu.pool_settings(pool)
        path: Path = ("gpu", "pools", i)
        release_path: Path = (
            path if pool.ami_release_version or pool.ami_type else ("gpu", "poolDefaults")
        )
        known = [GPU_INSTANCE_TYPES[t] for t in pool.instance_types if t in GPU_INSTANCE_TYPES]
        ami = settings.ami_type
        if pool.engine is PoolEngine.KARPENTER and pool.min_size > 0:
            problems.append(
                Problem(
                    (*path, "minSize"),
                    pool.min_size,
                    "Karpenter launches nodes for pending pods and keeps no minimum; use 0, "
                    "or engine managed-node-group for an always-on baseline",
                )
            )
        wrong_arch = [t.name for t in known if t.architecture != ami.architecture]
        if wrong_arch:
            problems.append(
                Problem(
                    (*path, "amiType"),
                    ami.value,
                    f"{', '.join(wrong_arch)} need an AMI type for their architecture "
                    f"({'arm64: *_ARM_64_NVIDIA' if ami.architecture == 'x86_64' else 'x86_64'})",
                )
            )
        problems += _release_problems(config, settings.ami_release_version, ami, release_path)
        if pool.efa:
            missing = [t for t in pool.instance_types if t not in EFA_CAPABLE]
            if missing:
                problems.append(Problem((*path, "efa"), True, "no EFA on: " + ", ".join(missing)))
            if pool.engine is not PoolEngine.MANAGED_NODE_GROUP:
                problems.append(
                    Problem(
                        (*path, "efa"),
                        True,
                        "EFA with a cluster placement group is built on engine managed-node-group",
                    )
                )
        if spot := reservation_capacity_problem(
            bool(pool.capacity_reservation_id), pool.capacity_type
        ):
            problems.append(Problem((*path, "capacityType"), "spot", spot))
        if pool.capacity_block and not pool.capacity_reservation_id:
            problems.append(
                Problem(
                    (*path, "capacityReservationId"),
                    None,
                    "capacityBlock needs the block's reservation ID (cr-...)",
                )
            )
        if one_type := capacity_block_types_problem(pool.capacity_block, pool.instance_types):
            problems.append(Problem((*path, "instanceTypes"), pool.instance_types, one_type))
    return problems


def _release_problems(
    config: EnvironmentConfig, release: str, ami: AmiType, path: Path
) -> list[Problem]:
    version = config.cluster.version
    wrong = ami_release_problem(release, ami.bottlerocket, version, "cluster.version is")
    return [Problem((*path, "amiReleaseVersion"), release, wrong)] if wrong else []


def cluster_autoscaler(config: EnvironmentConfig) -> list[Problem]:
    """The Cluster Autoscaler's minor version must equal the cluster's Kubernetes minor."""
    tag = config.gpu.cluster_autoscaler.image_tag
    minor = ".".join(tag.removeprefix("v").split(".")[:2])
    if minor != config.cluster.version:
        return [
            Problem(
                ("gpu", "clusterAutoscaler", "imageTag"),
                tag,
                f"the autoscaler {minor} does not match cluster.version "
                f"{config.cluster.version}; pin a v{config.cluster.version}.x image and the chart "
                "release that ships it",
            )
        ]
    return []


def _not_gpu_message(name: str) -> str:
    families = sorted({t.family for t in GPU_INSTANCE_TYPES.values()})
    return "not a supported GPU instance type; supported families: " + ", ".join(families)
