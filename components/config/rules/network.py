"""Rules of ``mlops:network``: the subnet plan fits the VPC and the AZs; an adopted VPC is
complete."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from ...network.checks import pod_cidr_overlap_problem, subnet_count_problem, zone_order_problem
from ...network.network import MIN_NODE_SUBNET_PREFIX, MIN_VPC_PREFIX, min_vpc_prefix_for
from ..model import EnvironmentConfig, NetworkConfig
from .problem import Path, Problem

# --- the subnet plan -------------------------------------------------------------------------

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


def network_cidrs(config: EnvironmentConfig) -> list[Problem]:
    """Subnets: one per AZ, inside the VPC, not overlapping; the pod CIDR outside the VPC."""
    network = config.network
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    smallest = min_vpc_prefix_for(network.az_count)
    if not MIN_VPC_PREFIX <= vpc.prefixlen <= smallest:
        return [
            Problem(
                ("network", "vpcCidr"),
                network.vpc_cidr,
                f"the VPC must be a /{MIN_VPC_PREFIX} to /{smallest} to hold "
                f"{network.az_count} AZs of node subnets (each at least a "
                f"/{MIN_NODE_SUBNET_PREFIX}) and public subnets",
            )
        ]
    private, public = planned_subnets(network)
    problems = _node_subnet_sizes(network, private)
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
    if network.pod_cidr is not None and (
        overlap := pod_cidr_overlap_problem(
            ipaddress.IPv4Network(network.pod_cidr), vpc, "the VPC CIDR"
        )
    ):
        problems.append(Problem(("network", "podCidr"), network.pod_cidr, overlap))
    return problems


def _node_subnet_sizes(network: NetworkConfig, private: list[str]) -> list[Problem]:
    """Node subnets hold at least a /24; the default plan says so on the VPC CIDR."""
    planned = not network.private_subnet_cidrs
    small = [
        (i, cidr)
        for i, cidr in enumerate(private)
        if ipaddress.IPv4Network(cidr).prefixlen > MIN_NODE_SUBNET_PREFIX
    ]
    if small and planned:
        cidr = small[0][1]
        return [
            Problem(
                ("network", "vpcCidr"),
                network.vpc_cidr,
                f"the default subnet plan (an eighth of the VPC per AZ) gives {cidr}, "
                f"smaller than a /{MIN_NODE_SUBNET_PREFIX}: use a VPC of "
                f"/{MIN_NODE_SUBNET_PREFIX - _PRIVATE_SPLIT} or larger, or give "
                "privateSubnetCidrs and publicSubnetCidrs yourself",
            )
        ]
    return [
        Problem(
            ("network", "privateSubnetCidrs", i),
            cidr,
            f"node subnets must be a /{MIN_NODE_SUBNET_PREFIX} or larger: every pod takes a "
            "VPC address",
        )
        for i, cidr in small
    ]


def existing_network(config: EnvironmentConfig) -> list[Problem]:
    """An adopted network comes by IDs or from a Terraform state, never both, and has a
    private subnet per AZ; a VPC the stack does not own gets no pod CIDR."""
    network = config.network
    existing = network.existing
    if existing is None:
        return []
    base: Path = ("network", "existing")
    problems: list[Problem] = []
    by_id = existing.vpc_id is not None or bool(existing.private_subnet_ids)
    if by_id and existing.terraform_state is not None:
        problems.append(
            Problem(
                base,
                "vpcId/subnet IDs and terraformState",
                "give either the IDs or terraformState, not both",
            )
        )
    elif existing.terraform_state is None:
        for key, value in (("vpcId", existing.vpc_id), ("vpcCidr", existing.vpc_cidr)):
            if value is None:
                problems.append(
                    Problem((*base, key), None, "required to adopt a VPC by ID, or terraformState")
                )
        subnets, zones = existing.private_subnet_ids, existing.availability_zones
        if too_few := subnet_count_problem(subnets, network.az_count, "azCount"):
            problems.append(Problem((*base, "privateSubnetIds"), subnets, too_few))
        if order := zone_order_problem(zones, subnets):
            problems.append(Problem((*base, "availabilityZones"), zones, order))
    if network.pod_cidr is not None:
        problems.append(
            Problem(
                ("network", "podCidr"),
                network.pod_cidr,
                "cannot add a CIDR to an existing VPC; give network.existing.podSubnetIds",
            )
        )
    return problems


def adopted_pod_subnets(config: EnvironmentConfig) -> list[Problem]:
    """Pod subnets of an adopted VPC become one ENIConfig per AZ, named after the AZ: the
    AZs must be known, one pod subnet each, in the same order."""
    existing = config.network.existing
    if existing is None:
        return []
    state = existing.terraform_state
    from_state = state is not None and state.outputs.pod_subnet_ids is not None
    pods = existing.pod_subnet_ids
    zones = existing.availability_zones
    if not (pods or from_state):
        return []
    path: Path = ("network", "existing", "availabilityZones")
    if not zones:
        return [
            Problem(
                path,
                [],
                "pod subnets need the AZ of each (in the same order): they become one VPC CNI "
                "ENIConfig per AZ, named after it",
            )
        ]
    if pods and len(pods) != len(zones):
        return [
            Problem(
                ("network", "existing", "podSubnetIds"),
                pods,
                f"one pod subnet per AZ in availabilityZones order ({len(zones)} AZs given)",
            )
        ]
    if len(set(zones)) != len(zones):
        return [Problem(path, zones, "with pod subnets, each AZ once (one subnet of each kind)")]
    return []


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
