"""``Network``: the environment's VPC, private by default; or an adopted, existing one.

Built: a VPC over the given availability zones with private node subnets (no public IP on
launch), public subnets only for NAT gateways and internet-facing load balancers, a NAT
strategy (``none`` / ``single`` / ``per-az``), an S3 gateway endpoint, interface endpoints
with private DNS behind a security group that admits HTTPS from the VPC only, VPC flow logs
(all traffic) to a KMS-encrypted log group, the default security group stripped of every
rule, and optionally a secondary CIDR with one pod subnet per AZ.

Adopted (``existing``): a VPC and its subnets given by ID, or read from the outputs of a
Terraform state (a local path or ``s3://bucket/key``). Nothing is created in an adopted
network; the component only checks it and exposes the same outputs.

The component is this module; its args live in :mod:`.args`, their checks in :mod:`.checks`
and the children of a new network are registered by :mod:`.builder`.
"""

from __future__ import annotations

from typing import Any

import pulumi

from ..core.component import Component
from ..core.tokens import component_token
from .args import (
    ExistingNetworkArgs,
    NatStrategy,
    NetworkArgs,
    TerraformStateArgs,
    nat_gateway_count,
)
from .builder import ENDPOINT_PORT, NetworkBuilder
from .checks import (
    MAX_SUBNET_PREFIX,
    MIN_NODE_SUBNET_PREFIX,
    MIN_VPC_PREFIX,
    check_existing,
    check_new,
    min_vpc_prefix_for,
)

__all__ = [
    "COMPONENT",
    "ENDPOINT_PORT",
    "MAX_SUBNET_PREFIX",
    "MIN_NODE_SUBNET_PREFIX",
    "MIN_VPC_PREFIX",
    "ExistingNetworkArgs",
    "NatStrategy",
    "Network",
    "NetworkArgs",
    "TerraformStateArgs",
    "min_vpc_prefix_for",
    "nat_gateway_count",
]

COMPONENT = component_token("Network")


class Network(Component, legacy_module="network"):
    """A private VPC for an EKS serving cluster, created or adopted."""

    vpc_id: pulumi.Output[str]
    """The VPC's ID."""

    vpc_cidr: pulumi.Output[str]
    """The VPC's primary IPv4 CIDR."""

    pod_cidr: pulumi.Output[str | None]
    """The secondary CIDR for pod IPs, if any (allow it wherever the VPC CIDR is allowed)."""

    availability_zones: pulumi.Output[list[str]]
    """AZ names, in the order of the private (and pod) subnets."""

    private_subnet_ids: pulumi.Output[list[str]]
    """Node subnets, one per AZ."""

    public_subnet_ids: pulumi.Output[list[str]]
    """Public subnets (NAT, internet-facing load balancers); may be empty."""

    pod_subnet_ids: pulumi.Output[list[str]]
    """Pod subnets (custom networking), one per AZ in ``availability_zones`` order; empty
    without a pod CIDR. Pass both to ``ServingClusterArgs`` so the VPC CNI uses them."""

    private_route_table_ids: pulumi.Output[list[str]]
    """Route tables of the private and pod subnets (empty when adopted)."""

    endpoint_security_group_id: pulumi.Output[str | None]
    """Security group of the interface endpoints (None without them, or when adopted)."""

    flow_log_group_name: pulumi.Output[str | None]
    """CloudWatch log group receiving the VPC flow logs (None when adopted)."""

    adopted: pulumi.Output[bool]
    """Whether the network was adopted rather than created."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate = check_new if args.existing is None else None
        args = self.accept(name, args, validate)
        adopted = check_existing(name, args) if args.existing is not None else None
        super().__init__(name, opts)
        outputs = self._adopt(adopted, args) if adopted is not None else self._build(name, args)
        self.publish(**outputs)

    # --- adopting --------------------------------------------------------------------------

    def _adopt(
        self, values: dict[str, pulumi.Output[Any]], args: NetworkArgs
    ) -> dict[str, pulumi.Output[Any]]:
        empty: pulumi.Output[Any] = pulumi.Output.from_input([])
        none: pulumi.Output[Any] = pulumi.Output.from_input(None)
        existing = args.existing
        assert existing is not None
        return {
            "vpc_id": values["vpc_id"],
            "vpc_cidr": values["vpc_cidr"],
            "pod_cidr": none,
            "availability_zones": pulumi.Output.from_input(list(existing.availability_zones)),
            "private_subnet_ids": values["private_subnet_ids"],
            "public_subnet_ids": values.get("public_subnet_ids", empty),
            "pod_subnet_ids": values.get("pod_subnet_ids", empty),
            "private_route_table_ids": empty,
            "endpoint_security_group_id": none,
            "flow_log_group_name": none,
            "adopted": pulumi.Output.from_input(True),
        }

    # --- building --------------------------------------------------------------------------

    def _build(self, name: str, args: NetworkArgs) -> dict[str, pulumi.Output[Any]]:
        build = NetworkBuilder(name, args, self)
        vpc = build.vpc()
        private, public, pods = build.subnets(vpc)
        private_rts = build.routing(vpc, private, public, pods)
        endpoint_sg_id = build.endpoints(vpc, private, private_rts)
        log_group = build.flow_logs(vpc)
        return {
            "vpc_id": vpc.id,
            "vpc_cidr": vpc.cidr_block,
            "pod_cidr": pulumi.Output.from_input(args.pod_cidr),
            "availability_zones": pulumi.Output.all(*build.azs),
            "private_subnet_ids": pulumi.Output.all(*[s.id for s in private]),
            "public_subnet_ids": pulumi.Output.all(*[s.id for s in public]),
            "pod_subnet_ids": pulumi.Output.all(*[s.id for s in pods]),
            "private_route_table_ids": pulumi.Output.all(*[rt.id for rt in private_rts]),
            "endpoint_security_group_id": endpoint_sg_id,
            "flow_log_group_name": log_group.name.apply(lambda n: n),
            "adopted": pulumi.Output.from_input(False),
        }
