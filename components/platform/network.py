"""``mlops:network`` onto :class:`Network` (a VPC the stack creates, or an adopted one), and
what the other components need to know about the network."""

from __future__ import annotations

import pulumi

from ..config import EnvironmentConfig, planned_subnets
from ..config.model import ExistingNetworkConfig, NetworkConfig
from ..core.naming import NameKind, physical_name
from ..network.network import ExistingNetworkArgs, Network, NetworkArgs, TerraformStateArgs
from .wiring import Wiring, straight_through


def network_args(config: EnvironmentConfig, wiring: Wiring) -> NetworkArgs:
    """VPC, subnets (the configured ones or the default plan), NAT, endpoints, flow logs."""
    network = config.network
    private, public = planned_subnets(network)
    return wiring.args(
        NetworkArgs,
        network,
        handled=("nat_gateways", "private_subnet_cidrs", "public_subnet_cidrs", "existing"),
        cluster_name=physical_name("eks", NameKind.EKS_CLUSTER, wiring.name_prefix),
        nat_strategy=network.nat_gateways,
        private_subnet_cidrs=private,
        public_subnet_cidrs=public,
        flow_log_retention_days=config.log_retention_days,
        permission_boundary_arn=wiring.permission_boundary_arn,
        existing=_existing_network(network.existing),
    )


def _existing_network(existing: ExistingNetworkConfig | None) -> ExistingNetworkArgs | None:
    """``network.existing`` (by IDs or from a Terraform state) as the component takes it."""
    if existing is None:
        return None
    state = existing.terraform_state
    return straight_through(
        ExistingNetworkArgs,
        existing,
        handled=("terraform_state",),
        terraform_state=None
        if state is None
        else straight_through(
            TerraformStateArgs,
            state,
            handled=("outputs",),
            # the outputs to read: those named (public and pod subnets are read when named)
            outputs={arg: output for arg, output in state.outputs if output},
        ),
    )


def vpc_cidr(network: NetworkConfig, component: Network) -> pulumi.Input[str]:
    """The VPC CIDR: plain when the stack owns the VPC, else the adopted VPC's output."""
    return network.vpc_cidr if network.existing is None else component.vpc_cidr


def custom_networking(network: NetworkConfig) -> bool:
    """Whether pods get addresses from their own subnets (VPC CNI custom networking)."""
    if network.existing is None:
        return bool(network.pod_cidr)
    return bool(network.existing.pod_subnet_ids)


def pod_subnets(
    network: NetworkConfig, component: Network
) -> tuple[list[pulumi.Input[str]], list[pulumi.Input[str]]]:
    """Pod subnets and their AZs, index-aligned, for VPC CNI custom networking (or none)."""
    existing = network.existing
    if existing is None:
        count = network.az_count if network.pod_cidr else 0
        zones: list[pulumi.Input[str]] = [
            component.availability_zones.apply(lambda zones, i=i: zones[i]) for i in range(count)
        ]
        return _pod_subnet_ids(component, count), zones
    if existing.pod_subnet_ids:
        return list(existing.pod_subnet_ids), list(existing.availability_zones)
    state = existing.terraform_state
    if state is not None and state.outputs.pod_subnet_ids:
        # the adopted_pod_subnets config rule requires availabilityZones here
        count = len(existing.availability_zones)
        return _pod_subnet_ids(component, count), list(existing.availability_zones)
    return [], []


def _pod_subnet_ids(component: Network, count: int) -> list[pulumi.Input[str]]:
    return [component.pod_subnet_ids.apply(lambda ids, i=i: ids[i]) for i in range(count)]
