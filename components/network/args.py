"""What a :class:`~.network.Network` is given: the NAT strategy, the args of a created network
and of an adopted one (by ID or from a Terraform state)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi

from .terraform_state import DEFAULT_OUTPUT_NAMES


class NatStrategy(StrEnum):
    """How private subnets reach the internet."""

    NONE = "none"
    """No NAT gateway: no internet egress; AWS APIs through VPC endpoints only."""
    SINGLE = "single"
    """One NAT gateway in the first AZ: cheaper, but one AZ is a failure domain for egress."""
    PER_AZ = "per-az"
    """One NAT gateway per AZ: egress survives the loss of an AZ."""


@dataclass
class TerraformStateArgs:
    """Where a Terraform state lives and which of its outputs describe the network."""

    source: str
    """A local ``terraform.tfstate`` path or ``s3://bucket/key`` (read with boto3; endpoint,
    credentials and region from the standard AWS environment)."""

    outputs: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_OUTPUT_NAMES))
    """Network value -> Terraform output name. Keys: ``vpc_id``, ``vpc_cidr``,
    ``private_subnet_ids`` (these three required), ``public_subnet_ids``,
    ``pod_subnet_ids`` (read only when mapped). The default maps the required ones to the
    community VPC module's names (``vpc_id``, ``vpc_cidr_block``, ``private_subnets``)."""

    region: str | None = None
    """Region of the state bucket; default: the AWS environment's region."""


@dataclass
class ExistingNetworkArgs:
    """An existing VPC to adopt, by ID or from a Terraform state (exactly one of the two).

    Plain values, not outputs: the subnet count is checked before anything registers.
    """

    vpc_id: str | None = None
    """The VPC's ID (``vpc-...``)."""

    vpc_cidr: str | None = None
    """The VPC's primary IPv4 CIDR."""

    private_subnet_ids: Sequence[str] = ()
    """Node subnets: at least one per AZ."""

    public_subnet_ids: Sequence[str] = ()
    """Public subnets for internet-facing load balancers (may be empty)."""

    pod_subnet_ids: Sequence[str] = ()
    """Subnets for pod IPs (custom networking), if the VPC has them."""

    availability_zones: Sequence[str] = ()
    """The AZ names the private subnets cover, in the same order, if known."""

    terraform_state: TerraformStateArgs | None = None
    """Read all of the above from a Terraform state's outputs instead."""


@dataclass
class NetworkArgs:
    """Inputs of :class:`Network`."""

    name_prefix: str
    """``{project}-{stack}``: the start of every physical name."""

    cluster_name: str
    """Physical name of the EKS cluster using this network: the ``karpenter.sh/discovery``
    tag value on the private subnets."""

    az_count: int = 2
    """Availability zones to span (2 to 6)."""

    vpc_cidr: str = "10.0.0.0/16"
    """The VPC's IPv4 CIDR: a /16 to a /28, large enough for the subnets."""

    private_subnet_cidrs: Sequence[str] = ()
    """Node subnets, one per AZ, each at least a /24. Required unless ``existing``."""

    public_subnet_cidrs: Sequence[str] = ()
    """Public subnets, one per AZ, or none for a network without internet access."""

    availability_zones: Sequence[str] | None = None
    """AZ names to use; default: the first ``az_count`` available (non-local) zones of the
    region, looked up with ``aws.get_availability_zones``."""

    nat_strategy: NatStrategy = NatStrategy.PER_AZ
    """``none``, ``single`` or ``per-az`` NAT gateways; ``single`` and ``per-az`` need public
    subnets."""

    interface_endpoints: Sequence[str] = ()
    """Services reached through interface endpoints (``ecr.api``, ``sts``, ...), with private
    DNS. The S3 gateway endpoint is always created."""

    pod_cidr: str | None = None
    """Optional secondary VPC CIDR for pod IPs (e.g. ``100.64.0.0/16``); pods use it once
    ``pod_subnet_ids`` reach ``ServingClusterArgs`` (VPC CNI custom networking, ENIConfigs)."""

    pod_subnet_cidrs: Sequence[str] | None = None
    """Pod subnets, one per AZ, inside ``pod_cidr``; default: ``pod_cidr`` split evenly."""

    flow_log_retention_days: int = 365
    """Retention of the flow-log group, in days."""

    kms_deletion_window_days: int = 30
    """Waiting period (7-30 days) before the flow-log key is deleted."""

    permission_boundary_arn: pulumi.Input[str] | None = None
    """ARN of a permissions boundary for the flow-log delivery role (the name every component
    uses)."""

    permissions_boundary: pulumi.Input[str] | None = None
    """Deprecated spelling of ``permission_boundary_arn`` (before 0.2.0); still honoured."""

    def __post_init__(self) -> None:
        if self.permission_boundary_arn is None and self.permissions_boundary is not None:
            self.permission_boundary_arn = self.permissions_boundary

    protect: bool = False
    """Protect and retain-on-delete the flow-log key and log group."""

    tags: Mapping[str, str] | None = None
    """Tags merged into every taggable child."""

    existing: ExistingNetworkArgs | None = None
    """Adopt this network instead of creating one; every creation arg above but
    ``name_prefix``, ``cluster_name``, ``az_count`` and ``tags`` is then ignored."""


def nat_gateway_count(strategy: NatStrategy | str, az_count: int) -> int:
    """How many NAT gateways a strategy creates over ``az_count`` AZs."""
    return {NatStrategy.NONE: 0, NatStrategy.SINGLE: 1, NatStrategy.PER_AZ: az_count}[
        NatStrategy(strategy)
    ]
