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
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.coercion import accept_args
from ..core.kms import logs_key_policy
from ..core.limits import kms_deletion_window_problems, retention_problems
from ..core.load_balancing import INTERNAL_SUBNET_TAG, PUBLIC_SUBNET_TAG
from ..core.naming import NameKind, physical_name
from ..core.tagging import merge_tags
from ..core.tokens import component_options, component_token
from ..core.validation import Invalid, raise_if_invalid
from .terraform_state import (
    DEFAULT_OUTPUT_NAMES,
    MissingOutputError,
    StateOutput,
    TerraformStateError,
    read_state,
)

COMPONENT = component_token("Network")

MIN_VPC_PREFIX = 16
"""The largest VPC AWS allows is a /16."""

MAX_SUBNET_PREFIX = 28
"""The smallest subnet (and VPC) AWS allows is a /28."""

MIN_NODE_SUBNET_PREFIX = 24
"""Node subnets hold at least a /24 (256 addresses): the VPC CNI gives every pod a VPC IP."""

ENDPOINT_PORT = 443

_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")


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

    permissions_boundary: pulumi.Input[str] | None = None
    """ARN of a permissions boundary for the flow-log delivery role."""

    protect: bool = False
    """Protect and retain-on-delete the flow-log key and log group."""

    tags: Mapping[str, str] | None = None
    """Tags merged into every taggable child."""

    existing: ExistingNetworkArgs | None = None
    """Adopt this network instead of creating one; every creation arg above but
    ``name_prefix``, ``cluster_name``, ``az_count`` and ``tags`` is then ignored."""


class Network(pulumi.ComponentResource):
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
        args = accept_args("Network", name, args, _check_new if args.existing is None else None)
        adopted = _check_existing(name, args) if args.existing is not None else None
        super().__init__(
            component_token("Network"),
            name,
            None,
            component_options("network", "Network", opts),
        )
        if adopted is not None:
            self._adopt(adopted, args)
        else:
            self._build(name, args)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "pod_cidr": self.pod_cidr,
                "availability_zones": self.availability_zones,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "pod_subnet_ids": self.pod_subnet_ids,
                "private_route_table_ids": self.private_route_table_ids,
                "endpoint_security_group_id": self.endpoint_security_group_id,
                "flow_log_group_name": self.flow_log_group_name,
                "adopted": self.adopted,
            }
        )

    # --- adopting --------------------------------------------------------------------------

    def _adopt(self, values: dict[str, pulumi.Output[Any]], args: NetworkArgs) -> None:
        empty: pulumi.Output[Any] = pulumi.Output.from_input([])
        none: pulumi.Output[Any] = pulumi.Output.from_input(None)
        existing = args.existing
        assert existing is not None
        self.vpc_id = values["vpc_id"]
        self.vpc_cidr = values["vpc_cidr"]
        self.pod_cidr = none
        self.availability_zones = pulumi.Output.from_input(list(existing.availability_zones))
        self.private_subnet_ids = values["private_subnet_ids"]
        self.public_subnet_ids = values.get("public_subnet_ids", empty)
        self.pod_subnet_ids = values.get("pod_subnet_ids", empty)
        self.private_route_table_ids = empty
        self.endpoint_security_group_id = none
        self.flow_log_group_name = none
        self.adopted = pulumi.Output.from_input(True)

    # --- building --------------------------------------------------------------------------

    def _build(self, name: str, args: NetworkArgs) -> None:
        build = _Builder(name, args, self)
        vpc = build.vpc()
        private, public, pods = build.subnets(vpc)
        private_rts = build.routing(vpc, private, public, pods)
        endpoint_sg_id = build.endpoints(vpc, private, private_rts)
        log_group = build.flow_logs(vpc)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.pod_cidr = pulumi.Output.from_input(args.pod_cidr)
        self.availability_zones = pulumi.Output.all(*build.azs)
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.pod_subnet_ids = pulumi.Output.all(*[s.id for s in pods])
        self.private_route_table_ids = pulumi.Output.all(*[rt.id for rt in private_rts])
        self.endpoint_security_group_id = endpoint_sg_id
        self.flow_log_group_name = log_group.name.apply(lambda n: n)
        self.adopted = pulumi.Output.from_input(False)


class _Builder:
    """Registers the children of a new network, one concern per method."""

    def __init__(self, name: str, args: NetworkArgs, parent: pulumi.Resource) -> None:
        self.name = name
        self.args = args
        self.prefix = args.name_prefix
        self.child = pulumi.ResourceOptions(parent=parent)
        self.parent = parent
        invoke = pulumi.InvokeOutputOptions(parent=parent)
        self.azs = _zones(args, invoke)
        self.region = aws.get_region_output(opts=invoke).region
        self.partition = aws.get_partition_output(opts=invoke)
        self.account = aws.get_caller_identity_output(opts=invoke).account_id

    def tags(self, role: str, extra: Mapping[str, str] | None = None, **named: Any) -> Any:
        """The args' tags, a ``tier`` tag, ``extra`` tags and (output-valued) named tags."""
        return {**merge_tags(self.args.tags, {"tier": role}, extra), **named}

    def az_name(self, i: int, role: str) -> pulumi.Output[str]:
        """``{prefix}-{role}-{az}``: the Name tag of a per-AZ child."""
        return self.azs[i].apply(lambda az: f"{self.prefix}-{role}-{az}")

    def vpc(self) -> aws.ec2.Vpc:
        """The VPC, and its default security group stripped of every rule."""
        vpc = aws.ec2.Vpc(
            f"{self.name}-vpc",
            cidr_block=self.args.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self.tags("vpc", Name=f"{self.prefix}-vpc"),
            opts=self.child,
        )
        aws.ec2.DefaultSecurityGroup(
            f"{self.name}-default-sg",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags=self.tags("default-sg", Name=f"{self.prefix}-default-deny"),
            opts=self.child,
        )
        return vpc

    def subnets(
        self, vpc: aws.ec2.Vpc
    ) -> tuple[list[aws.ec2.Subnet], list[aws.ec2.Subnet], list[aws.ec2.Subnet]]:
        """Private (node), public and pod subnets, one of each kind per AZ."""
        args, name = self.args, self.name
        private = [
            aws.ec2.Subnet(
                f"{name}-private-{i + 1}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=self.azs[i],
                map_public_ip_on_launch=False,
                tags=self.tags(
                    "private",
                    {
                        INTERNAL_SUBNET_TAG: "1",
                        "karpenter.sh/discovery": args.cluster_name,
                    },
                    Name=self.az_name(i, "private"),
                ),
                opts=self.child,
            )
            for i, cidr in enumerate(args.private_subnet_cidrs)
        ]
        public = [
            aws.ec2.Subnet(
                f"{name}-public-{i + 1}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=self.azs[i],
                map_public_ip_on_launch=False,
                tags=self.tags("public", {PUBLIC_SUBNET_TAG: "1"}, Name=self.az_name(i, "public")),
                opts=self.child,
            )
            for i, cidr in enumerate(args.public_subnet_cidrs)
        ]
        if args.pod_cidr is None:
            return private, public, []
        secondary = aws.ec2.VpcIpv4CidrBlockAssociation(
            f"{name}-pod-cidr", vpc_id=vpc.id, cidr_block=args.pod_cidr, opts=self.child
        )
        pods = [
            aws.ec2.Subnet(
                f"{name}-pods-{i + 1}",
                vpc_id=secondary.vpc_id,
                cidr_block=cidr,
                availability_zone=self.azs[i],
                map_public_ip_on_launch=False,
                tags=self.tags("pods", Name=self.az_name(i, "pods")),
                # The subnet lies in the secondary CIDR: it exists only once associated.
                opts=pulumi.ResourceOptions(parent=self.parent, depends_on=[secondary]),
            )
            for i, cidr in enumerate(_pod_subnets(args))
        ]
        return private, public, pods

    def routing(
        self,
        vpc: aws.ec2.Vpc,
        private: list[aws.ec2.Subnet],
        public: list[aws.ec2.Subnet],
        pods: list[aws.ec2.Subnet],
    ) -> list[aws.ec2.RouteTable]:
        """Internet gateway and NAT gateways; one private route table per AZ."""
        name, prefix = self.name, self.prefix
        nats: list[aws.ec2.NatGateway] = []
        if public:
            igw = aws.ec2.InternetGateway(
                f"{name}-igw",
                vpc_id=vpc.id,
                tags=self.tags("public", Name=f"{prefix}-igw"),
                opts=self.child,
            )
            public_rt = aws.ec2.RouteTable(
                f"{name}-public-rt",
                vpc_id=vpc.id,
                tags=self.tags("public", Name=f"{prefix}-public"),
                opts=self.child,
            )
            aws.ec2.Route(
                f"{name}-public-internet",
                route_table_id=public_rt.id,
                destination_cidr_block="0.0.0.0/0",
                gateway_id=igw.id,
                opts=self.child,
            )
            for i, subnet in enumerate(public):
                aws.ec2.RouteTableAssociation(
                    f"{name}-public-{i + 1}",
                    subnet_id=subnet.id,
                    route_table_id=public_rt.id,
                    opts=self.child,
                )
            # A NAT gateway needs the internet gateway attached before it can route.
            after_igw = pulumi.ResourceOptions(parent=self.parent, depends_on=[igw])
            for i in range(nat_gateway_count(self.args.nat_strategy, self.args.az_count)):
                eip = aws.ec2.Eip(
                    f"{name}-nat-{i + 1}",
                    domain="vpc",
                    tags=self.tags("nat", Name=self.az_name(i, "nat")),
                    opts=after_igw,
                )
                nats.append(
                    aws.ec2.NatGateway(
                        f"{name}-nat-{i + 1}",
                        allocation_id=eip.id,
                        subnet_id=public[i].id,
                        connectivity_type="public",
                        tags=self.tags("nat", Name=self.az_name(i, "nat")),
                        opts=after_igw,
                    )
                )

        route_tables = []
        for i, subnet in enumerate(private):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i + 1}",
                vpc_id=vpc.id,
                tags=self.tags("private", Name=self.az_name(i, "private")),
                opts=self.child,
            )
            route_tables.append(rt)
            if nats:
                aws.ec2.Route(
                    f"{name}-private-egress-{i + 1}",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nats[i if len(nats) > 1 else 0].id,
                    opts=self.child,
                )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i + 1}",
                subnet_id=subnet.id,
                route_table_id=rt.id,
                opts=self.child,
            )
            if pods:
                aws.ec2.RouteTableAssociation(
                    f"{name}-pods-{i + 1}",
                    subnet_id=pods[i].id,
                    route_table_id=rt.id,
                    opts=self.child,
                )
        return route_tables

    def service(self, svc: str) -> pulumi.Output[str]:
        """The endpoint service name, e.g. ``com.amazonaws.us-east-1.sts``."""
        return pulumi.Output.concat(self.partition.reverse_dns_prefix, ".", self.region, ".", svc)

    def endpoints(
        self,
        vpc: aws.ec2.Vpc,
        private: list[aws.ec2.Subnet],
        route_tables: list[aws.ec2.RouteTable],
    ) -> pulumi.Output[str | None]:
        """The S3 gateway endpoint; interface endpoints and their security group."""
        args, name, prefix = self.args, self.name, self.prefix
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=self.service("s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in route_tables],
            tags=self.tags("endpoint", Name=f"{prefix}-s3"),
            opts=self.child,
        )
        if not args.interface_endpoints:
            return pulumi.Output.from_input(None)
        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            name=physical_name("vpc-endpoints", NameKind.SECURITY_GROUP, prefix),
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            vpc_id=vpc.id,
            tags=self.tags("endpoint", Name=f"{prefix}-vpc-endpoints"),
            opts=self.child,
        )
        sources = [("vpc", args.vpc_cidr)]
        if args.pod_cidr is not None:
            sources.append(("pods", args.pod_cidr))
        for role, cidr in sources:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoints-https-{role}",
                security_group_id=sg.id,
                ip_protocol="tcp",
                from_port=ENDPOINT_PORT,
                to_port=ENDPOINT_PORT,
                cidr_ipv4=cidr,
                description=f"HTTPS to AWS APIs from the {role} CIDR",
                tags=self.tags("endpoint"),
                opts=self.child,
            )
        for svc in args.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{svc.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=self.service(svc),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private],
                security_group_ids=[sg.id],
                tags=self.tags("endpoint", Name=f"{prefix}-{svc}"),
                opts=self.child,
            )
        return sg.id.apply(lambda i: i)

    def flow_logs(self, vpc: aws.ec2.Vpc) -> aws.cloudwatch.LogGroup:
        """Flow logs of all traffic into a log group encrypted with its own rotated key."""
        args, name, prefix, partition = self.args, self.name, self.prefix, self.partition
        stateful = pulumi.ResourceOptions(
            parent=self.parent, protect=args.protect, retain_on_delete=args.protect
        )
        log_group_name = physical_name(
            "vpc-flow-logs", NameKind.LOG_GROUP, prefix, owner=_owner(name)
        )
        key = aws.kms.Key(
            f"{name}-flow-logs",
            description=f"Encrypts the VPC flow logs of {prefix}",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=pulumi.Output.all(
                partition.partition, partition.dns_suffix, self.region, self.account
            ).apply(lambda v: json.dumps(_key_policy(v[0], v[1], v[2], v[3], log_group_name))),
            tags=self.tags("flow-logs"),
            opts=stateful,
        )
        aws.kms.Alias(
            f"{name}-flow-logs",
            name="alias/"
            + physical_name("vpc-flow-logs", NameKind.KMS_ALIAS, prefix, owner=_owner(name)),
            target_key_id=key.key_id,
            opts=self.child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=log_group_name,
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=key.arn,
            tags=self.tags("flow-logs"),
            opts=stateful,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            name=physical_name("vpc-flow-logs", NameKind.IAM_ROLE, prefix, owner=_owner(name)),
            description="Lets VPC Flow Logs deliver to the network's log group",
            assume_role_policy=pulumi.Output.all(
                partition.partition, self.region, self.account
            ).apply(lambda v: json.dumps(_flow_log_trust(v[0], v[1], v[2]))),
            permissions_boundary=args.permissions_boundary,
            tags=self.tags("flow-logs"),
            opts=self.child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=pulumi.Output.all(
                log_group.arn, partition.partition, self.region, self.account
            ).apply(lambda v: json.dumps(_flow_log_delivery(v[0], v[1], v[2], v[3]))),
            opts=self.child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            tags=self.tags("flow-logs", Name=f"{prefix}-vpc"),
            opts=self.child,
        )
        return log_group


def nat_gateway_count(strategy: NatStrategy | str, az_count: int) -> int:
    """How many NAT gateways a strategy creates over ``az_count`` AZs."""
    return {NatStrategy.NONE: 0, NatStrategy.SINGLE: 1, NatStrategy.PER_AZ: az_count}[
        NatStrategy(strategy)
    ]


# --- helpers -------------------------------------------------------------------------------


def _zones(args: NetworkArgs, invoke: pulumi.InvokeOutputOptions) -> list[pulumi.Output[str]]:
    """One AZ name per AZ: the given ones, or the region's first available ones."""
    if args.availability_zones:
        return [pulumi.Output.from_input(az) for az in args.availability_zones]
    names = aws.get_availability_zones_output(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=invoke,
    ).names

    def pick(i: int) -> pulumi.Output[str]:
        def nth(found: list[str]) -> str:
            if len(found) <= i:
                raise pulumi.RunError(
                    f"az_count = {args.az_count}, but the region has only {len(found)} "
                    f"available zones: {', '.join(found)}"
                )
            return sorted(found)[i]

        return names.apply(nth)

    return [pick(i) for i in range(args.az_count)]


def _pod_subnets(args: NetworkArgs) -> list[str]:
    if args.pod_subnet_cidrs:
        return list(args.pod_subnet_cidrs)
    if args.pod_cidr is None:
        return []
    pod = ipaddress.IPv4Network(args.pod_cidr)
    bits = math.ceil(math.log2(args.az_count)) if args.az_count > 1 else 0
    return [str(s) for s in list(pod.subnets(prefixlen_diff=bits))[: args.az_count]]


def _key_policy(
    partition: str, dns_suffix: str, region: str, account: str, log_group: str
) -> dict[str, Any]:
    return logs_key_policy(
        partition=partition,
        account=account,
        region=region,
        log_groups=log_group,
        sid="CloudWatchLogsEncryptsFlowLogGroup",
        dns_suffix=dns_suffix,
    )


def _flow_log_trust(partition: str, region: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*"
                    },
                },
            }
        ],
    }


def _flow_log_delivery(
    log_group_arn: str, partition: str, region: str, account: str
) -> dict[str, Any]:
    group = log_group_arn.removesuffix(":*")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteFlowLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [group, f"{group}:*"],
            },
            {
                # DescribeLogGroups is authorized against the account's log groups, not one.
                "Sid": "FindLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": f"arn:{partition}:logs:{region}:{account}:log-group:*",
            },
        ],
    }


# --- validation ----------------------------------------------------------------------------


def _network(value: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except (ValueError, TypeError):
        return None


def min_vpc_prefix_for(az_count: int) -> int:
    """The smallest VPC (largest prefix) holding a /24 node subnet and a public subnet per AZ."""
    return MIN_NODE_SUBNET_PREFIX - math.ceil(math.log2(2 * max(az_count, 1)))


def _check_new(args: NetworkArgs) -> list[Invalid]:
    vpc = _network(args.vpc_cidr)
    return [
        *_check_common(args),
        *_check_vpc_cidr(args, vpc),
        *_check_subnets(args, vpc),
        *_check_pods(args, vpc),
        *_check_services_and_logs(args),
    ]


def _check_vpc_cidr(args: NetworkArgs, vpc: ipaddress.IPv4Network | None) -> list[Invalid]:
    count = args.az_count
    if vpc is None:
        return [
            Invalid("vpc_cidr", args.vpc_cidr, "an IPv4 CIDR with host bits zero, e.g. 10.0.0.0/16")
        ]
    if vpc.prefixlen < MIN_VPC_PREFIX:
        return [Invalid("vpc_cidr", args.vpc_cidr, f"AWS allows /{MIN_VPC_PREFIX} at most")]
    if isinstance(count, int) and 1 <= count <= 6:
        smallest = min_vpc_prefix_for(count)
        if vpc.prefixlen > smallest:
            return [
                Invalid(
                    "vpc_cidr",
                    args.vpc_cidr,
                    f"too small for {count} AZs (az_count): each AZ needs a node subnet of at "
                    f"least /{MIN_NODE_SUBNET_PREFIX} and a public subnet; use a "
                    f"/{MIN_VPC_PREFIX} to /{smallest}",
                )
            ]
    return []


def _check_subnets(args: NetworkArgs, vpc: ipaddress.IPv4Network | None) -> list[Invalid]:
    problems: list[Invalid] = []
    count = args.az_count
    if not args.private_subnet_cidrs:
        problems.append(
            Invalid("private_subnet_cidrs", [], f"required: one node subnet per AZ ({count})")
        )
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for arg, cidrs in (
        ("private_subnet_cidrs", args.private_subnet_cidrs),
        ("public_subnet_cidrs", args.public_subnet_cidrs),
    ):
        if cidrs and len(cidrs) != count:
            problems.append(
                Invalid(arg, list(cidrs), f"give exactly one subnet per AZ: az_count is {count}")
            )
        for i, cidr in enumerate(cidrs):
            where = f"{arg}[{i}]"
            net = _network(cidr)
            if net is None:
                problems.append(Invalid(where, cidr, "an IPv4 CIDR with host bits zero"))
                continue
            smallest = (
                MIN_NODE_SUBNET_PREFIX if arg == "private_subnet_cidrs" else MAX_SUBNET_PREFIX
            )
            if vpc is not None and not net.subnet_of(vpc):
                problems.append(Invalid(where, cidr, f"must lie inside vpc_cidr {vpc}"))
            if net.prefixlen > smallest:
                problems.append(Invalid(where, cidr, f"must be a /{smallest} or larger"))
            problems += [
                Invalid(where, cidr, f"overlaps {other_where} ({other})")
                for other_where, other in seen
                if net.overlaps(other)
            ]
            seen.append((where, net))
    try:
        nat: NatStrategy | None = NatStrategy(args.nat_strategy)
    except ValueError:
        nat = None
        problems.append(Invalid("nat_strategy", args.nat_strategy, "one of: none, single, per-az"))
    if nat is not None and nat is not NatStrategy.NONE and not args.public_subnet_cidrs:
        problems.append(
            Invalid(
                "public_subnet_cidrs",
                [],
                f"nat_strategy '{nat.value}' needs public subnets for its NAT gateways; give "
                "one per AZ or use nat_strategy 'none'",
            )
        )
    azs = args.availability_zones
    if azs is not None and (len(azs) != count or len(set(azs)) != len(azs)):
        problems.append(
            Invalid(
                "availability_zones",
                list(azs),
                f"{count} distinct AZ names (az_count), or leave unset to look them up",
            )
        )
    return problems


def _check_services_and_logs(args: NetworkArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    seen: set[str] = set()
    for i, svc in enumerate(args.interface_endpoints):
        where = f"interface_endpoints[{i}]"
        if not isinstance(svc, str) or not _SERVICE.match(svc):
            problems.append(Invalid(where, svc, "a service name such as ecr.api"))
        elif svc == "s3":
            problems.append(
                Invalid(where, svc, "S3 is always reached through the gateway endpoint")
            )
        elif svc in seen:
            problems.append(Invalid(where, svc, "listed twice"))
        seen.add(str(svc))
    problems += retention_problems("flow_log_retention_days", args.flow_log_retention_days)
    problems += kms_deletion_window_problems(
        "kms_deletion_window_days", args.kms_deletion_window_days
    )
    return problems


def _check_pods(args: NetworkArgs, vpc: ipaddress.IPv4Network | None) -> list[Invalid]:
    problems: list[Invalid] = []
    if args.pod_cidr is None:
        if args.pod_subnet_cidrs:
            problems.append(
                Invalid("pod_subnet_cidrs", list(args.pod_subnet_cidrs), "needs pod_cidr")
            )
        return problems
    pod = _network(args.pod_cidr)
    if pod is None:
        problems.append(
            Invalid(
                "pod_cidr", args.pod_cidr, "an IPv4 CIDR with host bits zero, e.g. 100.64.0.0/16"
            )
        )
        return problems
    if vpc is not None and pod.overlaps(vpc):
        problems.append(
            Invalid(
                "pod_cidr",
                args.pod_cidr,
                f"overlaps vpc_cidr {vpc}; use a separate range such as 100.64.0.0/16",
            )
        )
    if not MIN_VPC_PREFIX <= pod.prefixlen <= MAX_SUBNET_PREFIX:
        problems.append(
            Invalid("pod_cidr", args.pod_cidr, f"a /{MIN_VPC_PREFIX} to /{MAX_SUBNET_PREFIX}")
        )
    if args.pod_subnet_cidrs:
        if len(args.pod_subnet_cidrs) != args.az_count:
            problems.append(
                Invalid(
                    "pod_subnet_cidrs",
                    list(args.pod_subnet_cidrs),
                    f"give exactly one subnet per AZ: az_count is {args.az_count}",
                )
            )
        for i, cidr in enumerate(args.pod_subnet_cidrs):
            net = _network(cidr)
            if net is None or not net.subnet_of(pod):
                problems.append(
                    Invalid(f"pod_subnet_cidrs[{i}]", cidr, f"a CIDR inside pod_cidr {pod}")
                )
    elif pod.prefixlen + math.ceil(math.log2(max(args.az_count, 1))) > MAX_SUBNET_PREFIX:
        problems.append(
            Invalid("pod_cidr", args.pod_cidr, f"too small to split over {args.az_count} AZs")
        )
    return problems


def _check_common(args: NetworkArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if not args.name_prefix:
        problems.append(Invalid("name_prefix", args.name_prefix, "a non-empty {project}-{stack}"))
    if not args.cluster_name:
        problems.append(
            Invalid("cluster_name", args.cluster_name, "the EKS cluster's physical name")
        )
    if not isinstance(args.az_count, int) or not 1 <= args.az_count <= 6:
        problems.append(Invalid("az_count", args.az_count, "1 to 6 availability zones"))
    return problems


def _check_existing(name: str, args: NetworkArgs) -> dict[str, pulumi.Output[Any]]:
    """Validate an adopted network; its values as outputs (sensitive ones as secrets)."""
    existing = args.existing
    assert existing is not None
    problems = _check_common(args)
    if args.pod_cidr is not None:
        problems.append(
            Invalid(
                "pod_cidr",
                args.pod_cidr,
                "cannot add a CIDR to an adopted VPC; give existing.pod_subnet_ids instead",
            )
        )
    by_id = existing.vpc_id is not None or bool(existing.private_subnet_ids)
    tf = existing.terraform_state
    values: dict[str, StateOutput] = {}
    if tf is not None and by_id:
        problems.append(
            Invalid(
                "existing",
                "vpc_id/subnet IDs and terraform_state",
                "give either IDs or terraform_state, not both",
            )
        )
    elif tf is not None:
        values = _from_state(tf, problems)
        problems += _check_values(values, _STATE_ARG, args.az_count)
    else:
        given = {
            "vpc_id": existing.vpc_id,
            "vpc_cidr": existing.vpc_cidr,
            "private_subnet_ids": list(existing.private_subnet_ids),
            "public_subnet_ids": list(existing.public_subnet_ids),
            "pod_subnet_ids": list(existing.pod_subnet_ids),
        }
        for key, value in given.items():
            if value is None and key in _REQUIRED:
                problems.append(Invalid(_ID_ARG[key], None, "required to adopt a VPC by ID"))
            elif value is not None:
                values[key] = StateOutput(key, value)
        problems += _check_values(values, _ID_ARG, args.az_count)
    private = values.get("private_subnet_ids")
    if (
        existing.availability_zones
        and private is not None
        and isinstance(private.value, list)
        and len(existing.availability_zones) != len(private.value)
    ):
        problems.append(
            Invalid(
                "existing.availability_zones",
                list(existing.availability_zones),
                "one AZ name per private subnet, in the same order",
            )
        )
    pods = values.get("pod_subnet_ids")
    if (
        existing.availability_zones
        and pods is not None
        and isinstance(pods.value, list)
        and pods.value
        and len(existing.availability_zones) != len(pods.value)
    ):
        where = _STATE_ARG if tf is not None else _ID_ARG
        problems.append(
            Invalid(
                where["pod_subnet_ids"],
                pods.value,
                f"{len(pods.value)} pod subnets for {len(existing.availability_zones)} AZs in "
                "existing.availability_zones: give exactly one pod subnet per AZ, in the same "
                "order (each becomes that AZ's VPC CNI ENIConfig)",
            )
        )
    raise_if_invalid("Network", name, problems)
    return {key: out.to_output() for key, out in values.items()}


_KEYS = ("vpc_id", "vpc_cidr", "private_subnet_ids", "public_subnet_ids", "pod_subnet_ids")
_REQUIRED = ("vpc_id", "vpc_cidr", "private_subnet_ids")
_ID_ARG = {key: f"existing.{key}" for key in _KEYS}
_STATE_ARG = {key: f"existing.terraform_state.outputs.{key}" for key in _KEYS}


def _from_state(tf: TerraformStateArgs, problems: list[Invalid]) -> dict[str, StateOutput]:
    """The mapped outputs of the state; reading problems are appended to ``problems``."""
    where = _STATE_ARG
    unknown = sorted(set(tf.outputs) - set(_KEYS))
    for key in unknown:
        problems.append(
            Invalid(
                f"existing.terraform_state.outputs.{key}",
                tf.outputs[key],
                "unknown key; allowed: " + ", ".join(_KEYS),
            )
        )
    for key in _REQUIRED:
        if key not in tf.outputs:
            problems.append(
                Invalid(where[key], None, "required: the name of the Terraform output to read")
            )
    if unknown or any(key not in tf.outputs for key in _REQUIRED):
        return {}
    try:
        state = read_state(tf.source, region=tf.region)
        return state.select(tf.outputs)
    except MissingOutputError as exc:
        have = ", ".join(exc.available) or "none"
        for key, output in exc.missing.items():
            problems.append(
                Invalid(
                    where[key],
                    output,
                    f"Terraform state {exc.source} has no such output; outputs in the state: "
                    f"{have}",
                )
            )
    except TerraformStateError as exc:
        problems.append(Invalid("existing.terraform_state.source", tf.source, str(exc)))
    return {}


def _check_values(
    values: Mapping[str, StateOutput], where: Mapping[str, str], az_count: int
) -> list[Invalid]:
    problems: list[Invalid] = []
    if not values:
        return problems

    def shown(out: StateOutput) -> Any:
        return "[sensitive]" if out.sensitive else out.value

    vpc_id = values.get("vpc_id")
    if vpc_id is not None and not (isinstance(vpc_id.value, str) and _VPC_ID.match(vpc_id.value)):
        problems.append(Invalid(where["vpc_id"], shown(vpc_id), "a VPC ID such as vpc-0abc12345"))
    cidr = values.get("vpc_cidr")
    if cidr is not None and not (isinstance(cidr.value, str) and _network(cidr.value)):
        problems.append(Invalid(where["vpc_cidr"], shown(cidr), "an IPv4 CIDR such as 10.0.0.0/16"))
    for key in ("private_subnet_ids", "public_subnet_ids", "pod_subnet_ids"):
        out = values.get(key)
        if out is None:
            continue
        ids = out.value
        if not isinstance(ids, list) or not all(
            isinstance(s, str) and _SUBNET_ID.match(s) for s in ids
        ):
            problems.append(
                Invalid(where[key], shown(out), "a list of subnet IDs such as subnet-0abc12345")
            )
            continue
        if len(set(ids)) != len(ids):
            problems.append(Invalid(where[key], shown(out), "lists a subnet twice"))
        if key == "private_subnet_ids" and len(ids) < az_count:
            problems.append(
                Invalid(
                    where[key],
                    shown(out),
                    f"too few private subnets: {len(ids)} for az_count {az_count}; the cluster "
                    "needs at least one private subnet per AZ",
                )
            )
    return problems


def _owner(name: str) -> str:
    """How a physical-name collision names this component (core.naming.claim_name)."""
    return f"Network '{name}'"
