"""Cross-field rules of an environment's configuration.

Each rule is a plain function from a structurally valid :class:`EnvironmentConfig` to the
problems it finds, so every problem is reported at once, and so the policy pack can apply
the same predicates to what a stack registers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from components.config.model import (
    CapacityType,
    EnvironmentConfig,
    NetworkConfig,
    NodeGroupSize,
    Profile,
    Workload,
)
from components.gpu_catalog import GPU_INSTANCE_TYPES, max_gpus_per_node
from components.tagging import REQUIRED_TAG_KEYS

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration: where, the bad value, what is allowed."""

    path: Path
    value: Any
    message: str


# --- the subnet plan -------------------------------------------------------------------------

MIN_VPC_PREFIX = 16
MAX_VPC_PREFIX = 22
_PRIVATE_SPLIT = 3  # private subnets: VPC prefix + 3 (an eighth of the VPC each)
_PUBLIC_SPLIT = 5  # public subnets: VPC prefix + 5, carved from the second half


def planned_subnets(network: NetworkConfig) -> tuple[list[str], list[str]]:
    """The private and public subnet CIDRs: the configured ones, or the default plan.

    The default plan gives each AZ a private subnet of an eighth of the VPC (a /19 in a
    /16) and a small public subnet (a /21 in a /16) from the VPC's second half.
    """
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    private = network.private_subnet_cidrs or [
        str(s) for s in list(vpc.subnets(prefixlen_diff=_PRIVATE_SPLIT))[: network.az_count]
    ]
    second_half = list(vpc.subnets(prefixlen_diff=1))[1]
    public = network.public_subnet_cidrs or [
        str(s)
        for s in list(second_half.subnets(prefixlen_diff=_PUBLIC_SPLIT - 1))[: network.az_count]
    ]
    return private, public


# --- rules -----------------------------------------------------------------------------------


def _sizes(size: NodeGroupSize, path: Path) -> list[Problem]:
    if size.min_size <= size.desired_size <= size.max_size:
        return []
    return [
        Problem(
            (*path, "desiredSize"),
            {"minSize": size.min_size, "desiredSize": size.desired_size, "maxSize": size.max_size},
            "node group sizes must satisfy minSize <= desiredSize <= maxSize",
        )
    ]


def node_group_sizes(config: EnvironmentConfig) -> list[Problem]:
    """min <= desired <= max for the system nodes and every GPU pool."""
    problems = _sizes(config.cluster.system_nodes, ("cluster", "systemNodes"))
    for i, pool in enumerate(config.gpu.pools):
        problems += _sizes(pool, ("gpu", "pools", i))
    return problems


def network_cidrs(config: EnvironmentConfig) -> list[Problem]:
    """Subnets: one per AZ, inside the VPC, not overlapping; the pod CIDR outside the VPC."""
    network = config.network
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    if not MIN_VPC_PREFIX <= vpc.prefixlen <= MAX_VPC_PREFIX:
        return [
            Problem(
                ("network", "vpcCidr"),
                network.vpc_cidr,
                f"the VPC must be a /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX} to hold "
                f"{network.az_count} AZs of node and public subnets",
            )
        ]
    problems: list[Problem] = []
    private, public = planned_subnets(network)
    for key, cidrs in (("privateSubnetCidrs", private), ("publicSubnetCidrs", public)):
        if len(cidrs) != network.az_count:
            problems.append(
                Problem(
                    ("network", key),
                    cidrs,
                    f"give exactly one subnet per AZ: azCount is {network.az_count}",
                )
            )
        for i, cidr in enumerate(cidrs):
            if not ipaddress.IPv4Network(cidr).subnet_of(vpc):
                problems.append(
                    Problem(("network", key, i), cidr, f"must lie inside the VPC {vpc}")
                )
    seen: list[tuple[Path, ipaddress.IPv4Network]] = []
    for key, cidrs in (("privateSubnetCidrs", private), ("publicSubnetCidrs", public)):
        for i, cidr in enumerate(cidrs):
            net = ipaddress.IPv4Network(cidr)
            for other_path, other in seen:
                if net.overlaps(other):
                    problems.append(
                        Problem(
                            ("network", key, i),
                            cidr,
                            f"overlaps {other} ({_dotted(other_path)}); subnets must not overlap",
                        )
                    )
            seen.append((("network", key, i), net))
    if network.pod_cidr is not None and ipaddress.IPv4Network(network.pod_cidr).overlaps(vpc):
        problems.append(
            Problem(
                ("network", "podCidr"),
                network.pod_cidr,
                f"overlaps the VPC CIDR {vpc}; use a separate range such as 100.64.0.0/16",
            )
        )
    return problems


def api_endpoint(config: EnvironmentConfig) -> list[Problem]:
    """A public endpoint needs an allowlist, never the whole internet; prod has none."""
    cluster = config.cluster
    problems: list[Problem] = []
    path: Path = ("cluster", "endpointPublicAccess")
    if cluster.endpoint_public_access and config.profile is Profile.PROD:
        problems.append(Problem(path, True, "prod clusters have a private API endpoint only"))
    if cluster.endpoint_public_access and not cluster.public_access_cidrs:
        problems.append(
            Problem(
                ("cluster", "publicAccessCidrs"),
                [],
                "a public endpoint needs an allowlist of CIDRs (e.g. your VPN's egress range)",
            )
        )
    if not cluster.endpoint_public_access and cluster.public_access_cidrs:
        problems.append(
            Problem(
                ("cluster", "publicAccessCidrs"),
                cluster.public_access_cidrs,
                "has no effect while endpointPublicAccess is false; remove it or turn the "
                "public endpoint on",
            )
        )
    for i, cidr in enumerate(cluster.public_access_cidrs):
        if ipaddress.IPv4Network(cidr).prefixlen == 0:
            problems.append(
                Problem(
                    ("cluster", "publicAccessCidrs", i),
                    cidr,
                    "the whole internet is never allowed; list specific ranges",
                )
            )
    return problems


def prod_profile(config: EnvironmentConfig) -> list[Problem]:
    """Prod spans >= 3 AZs, protects its cluster and its stateful resources."""
    if config.profile is not Profile.PROD:
        return []
    problems: list[Problem] = []
    if config.network.az_count < 3:
        problems.append(
            Problem(("network", "azCount"), config.network.az_count, "prod needs at least 3 AZs")
        )
    if not config.cluster.deletion_protection:
        problems.append(
            Problem(
                ("cluster", "deletionProtection"), False, "prod clusters keep deletion protection"
            )
        )
    if not config.protect_stateful_resources:
        problems.append(
            Problem(
                ("protectStatefulResources",),
                False,
                "prod protects and retains its stateful resources",
            )
        )
    return problems


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


_TAG_KEY_MAX = 128
_TAG_VALUE_MAX = 256


def required_tags(config: EnvironmentConfig) -> list[Problem]:
    """Required tags are present and every tag fits AWS's rules."""
    problems = [
        Problem(
            ("tags", key),
            config.tags.get(key),
            "required tag is missing or empty; required: " + ", ".join(REQUIRED_TAG_KEYS),
        )
        for key in REQUIRED_TAG_KEYS
        if not config.tags.get(key, "").strip()
    ]
    for key, value in config.tags.items():
        if key.lower().startswith("aws:"):
            problems.append(Problem(("tags", key), value, "the aws: prefix is reserved by AWS"))
        if len(key) > _TAG_KEY_MAX or len(value) > _TAG_VALUE_MAX:
            problems.append(
                Problem(
                    ("tags", key),
                    value,
                    f"tag keys are at most {_TAG_KEY_MAX} and values {_TAG_VALUE_MAX} characters",
                )
            )
    return problems


RULES: tuple[Callable[[EnvironmentConfig], list[Problem]], ...] = (
    required_tags,
    network_cidrs,
    api_endpoint,
    prod_profile,
    node_group_sizes,
    gpu_instance_types,
    gpu_budget,
    gpu_pools,
)


def check(config: EnvironmentConfig) -> list[Problem]:
    """Every problem every rule finds."""
    return [problem for rule in RULES for problem in rule(config)]


def _not_gpu_message(name: str) -> str:
    families = sorted({t.family for t in GPU_INSTANCE_TYPES.values()})
    return "not a supported GPU instance type; supported families: " + ", ".join(families)


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
