"""The network domain: ``Network`` (VPC, subnets, NAT, endpoints, flow logs) and adoption
of existing VPCs from Terraform state."""

from .network import (
    ExistingNetworkArgs,
    NatStrategy,
    Network,
    NetworkArgs,
    TerraformStateArgs,
    nat_gateway_count,
)
from .terraform_state import (
    MissingOutputError,
    StateOutput,
    TerraformState,
    TerraformStateError,
    UnreadableStateError,
    UnsupportedStateVersionError,
    parse_state,
    read_state,
    split_s3_url,
)

__all__ = [
    "ExistingNetworkArgs",
    "MissingOutputError",
    "NatStrategy",
    "Network",
    "NetworkArgs",
    "StateOutput",
    "TerraformState",
    "TerraformStateArgs",
    "TerraformStateError",
    "UnreadableStateError",
    "UnsupportedStateVersionError",
    "nat_gateway_count",
    "parse_state",
    "read_state",
    "split_s3_url",
]
