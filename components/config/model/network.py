"""``mlops:network``: the VPC the stack creates, or an existing one it adopts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from ...core import patterns
from ...network.network import NatStrategy
from ...network.terraform_state import DEFAULT_OUTPUT_NAMES
from .base import Cidr, Region, StrictModel, SubnetId, defaults_of


class InterfaceEndpoint(StrEnum):
    """AWS services reachable through interface VPC endpoints (PrivateLink)."""

    ECR_API = "ecr.api"
    ECR_DKR = "ecr.dkr"
    STS = "sts"
    LOGS = "logs"
    KMS = "kms"
    EC2 = "ec2"
    SSM = "ssm"
    SSM_MESSAGES = "ssmmessages"
    EC2_MESSAGES = "ec2messages"
    ELB = "elasticloadbalancing"
    AUTOSCALING = "autoscaling"
    EKS = "eks"
    EKS_AUTH = "eks-auth"
    SQS = "sqs"
    MONITORING = "monitoring"
    APS_WORKSPACES = "aps-workspaces"


def _state_source(value: str) -> str:
    if value.startswith("s3://"):
        bucket, _, key = value.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise ValueError("an S3 state location is s3://<bucket>/<key>")
    elif not value.strip() or "://" in value:
        raise ValueError("a local terraform.tfstate path or s3://<bucket>/<key>")
    return value


TerraformStateSource = Annotated[str, AfterValidator(_state_source)]


def _output_name(arg: str, description: str) -> Any:
    """A field naming the output that holds the network's ``arg``; by default the name the
    community VPC module gives it."""
    return Field(DEFAULT_OUTPUT_NAMES[arg], min_length=1, description=description)


class TerraformOutputNamesConfig(StrictModel):
    """Which Terraform outputs hold the network's values."""

    vpc_id: str = _output_name("vpc_id", "Output holding the VPC ID.")
    vpc_cidr: str = _output_name("vpc_cidr", "Output holding the VPC's primary IPv4 CIDR.")
    private_subnet_ids: str = _output_name(
        "private_subnet_ids", "Output holding the node (private) subnet IDs, a list."
    )
    public_subnet_ids: str | None = Field(
        None, description="Output holding the public subnet IDs; not read when unset."
    )
    pod_subnet_ids: str | None = Field(
        None, description="Output holding pod subnet IDs (custom networking); not read when unset."
    )


class TerraformStateConfig(StrictModel):
    """A Terraform state whose outputs describe an existing network."""

    source: TerraformStateSource = Field(
        description="A local `terraform.tfstate` path (relative to the project) or "
        "`s3://bucket/key`; S3 is read with the standard AWS environment (credentials, "
        "region, `AWS_ENDPOINT_URL`).",
    )
    region: Region | None = Field(
        None, description="Region of the state bucket; default: the AWS environment's region."
    )
    outputs: TerraformOutputNamesConfig = Field(
        default_factory=defaults_of(TerraformOutputNamesConfig),
        description="Output names to read; the defaults are the community VPC module's.",
    )


class ExistingNetworkConfig(StrictModel):
    """An existing VPC to use instead of creating one: by IDs or from a Terraform state."""

    vpc_id: str | None = Field(None, pattern=patterns.VPC_ID.regex, description="The VPC's ID.")
    vpc_cidr: Cidr | None = Field(None, description="The VPC's primary IPv4 CIDR.")
    private_subnet_ids: list[SubnetId] = Field(
        default_factory=list, description="Node subnets: at least one per AZ (azCount)."
    )
    public_subnet_ids: list[SubnetId] = Field(
        default_factory=list, description="Public subnets for internet-facing load balancers."
    )
    pod_subnet_ids: list[SubnetId] = Field(
        default_factory=list, description="Subnets for pod IPs (custom networking), if any."
    )
    availability_zones: list[str] = Field(
        default_factory=list,
        description="AZ names of the private subnets, in the same order, if known.",
    )
    terraform_state: TerraformStateConfig | None = Field(
        None, description="Read the VPC and subnets from a Terraform state's outputs instead."
    )


class NetworkConfig(StrictModel):
    """The environment's VPC."""

    vpc_cidr: Cidr = Field(
        "10.0.0.0/16",
        description="IPv4 CIDR of the VPC: /16 to /22 for 2 AZs, /21 for 3-4 (each AZ needs a "
        "/24 node subnet and a public subnet); below /21 give the subnet CIDRs yourself, since "
        "the default plan cuts an eighth of the VPC per AZ. Give each environment its own, "
        "so environments can be peered later.",
    )
    az_count: int = Field(
        ge=2, le=4, description="Availability zones to spread subnets and nodes over."
    )
    nat_gateways: NatStrategy = Field(
        description="NAT gateways: `none` (no egress), `single` (one, cheaper, one AZ "
        "failure domain) or `per-az` (one per AZ, highly available)."
    )
    interface_endpoints: list[InterfaceEndpoint] = Field(
        description="Interface VPC endpoints to create, so nodes reach AWS APIs without NAT. "
        "The S3 gateway endpoint is always created."
    )
    private_subnet_cidrs: list[Cidr] | None = Field(
        None,
        description="Node subnets, one per AZ. Default: the first AZ-count /19-equivalents "
        "(VPC prefix + 3) of the VPC.",
    )
    public_subnet_cidrs: list[Cidr] | None = Field(
        None,
        description="Subnets for NAT gateways and internet-facing load balancers, one per AZ. "
        "Default: VPC prefix + 5 blocks from the second half of the VPC.",
    )
    pod_cidr: Cidr | None = Field(
        None,
        description="Optional secondary VPC CIDR for pod IPs (e.g. 100.64.0.0/16); must not "
        "overlap the VPC CIDR.",
    )
    existing: ExistingNetworkConfig | None = Field(
        None,
        description="Bring your own network: use this existing VPC (by IDs or from a "
        "Terraform state) instead of creating one; the creation keys above are then unused.",
    )
