"""The children of a new :class:`~.network.Network`, registered one concern at a time: the VPC,
its subnets, routing (internet and NAT gateways), VPC endpoints and flow logs."""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.component import Component
from ..core.kms import logs_key_policy
from ..core.load_balancing import INTERNAL_SUBNET_TAG, PUBLIC_SUBNET_TAG
from ..core.naming import NameKind, physical_name
from ..core.tagging import merge_tags
from .args import NetworkArgs, nat_gateway_count

ENDPOINT_PORT = 443


class NetworkBuilder:
    """Registers the children of a new network, one concern per method."""

    def __init__(self, name: str, args: NetworkArgs, network: Component) -> None:
        self.name = name
        self.args = args
        self.prefix = args.name_prefix
        self.network = network
        self.child = network.child()
        invoke = pulumi.InvokeOutputOptions(parent=network)
        self.azs = _zones(args, invoke)
        self.region = network.aws.region
        self.account = network.aws.account
        # The whole partition record, not only the name the component's AWS context gives:
        # endpoint service names and service principals need its DNS suffixes.
        self.partition = aws.get_partition_output(opts=invoke)

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
        args = self.args
        node_tags = {INTERNAL_SUBNET_TAG: "1", "karpenter.sh/discovery": args.cluster_name}
        private = [
            self.subnet("private", i, cidr, vpc.id, extra_tags=node_tags)
            for i, cidr in enumerate(args.private_subnet_cidrs)
        ]
        public = [
            self.subnet("public", i, cidr, vpc.id, extra_tags={PUBLIC_SUBNET_TAG: "1"})
            for i, cidr in enumerate(args.public_subnet_cidrs)
        ]
        if args.pod_cidr is None:
            return private, public, []
        secondary = aws.ec2.VpcIpv4CidrBlockAssociation(
            f"{self.name}-pod-cidr", vpc_id=vpc.id, cidr_block=args.pod_cidr, opts=self.child
        )
        # The pod subnets lie in the secondary CIDR: they exist only once it is associated.
        after_cidr = self.network.child(depends_on=[secondary])
        pods = [
            self.subnet("pods", i, cidr, secondary.vpc_id, opts=after_cidr)
            for i, cidr in enumerate(_pod_subnets(args))
        ]
        return private, public, pods

    def subnet(
        self,
        role: str,
        i: int,
        cidr: str,
        vpc_id: pulumi.Input[str],
        *,
        extra_tags: Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> aws.ec2.Subnet:
        """``{name}-{role}-{n}``: the ``role`` subnet of the ``i``-th AZ; no public IP on launch."""
        return aws.ec2.Subnet(
            f"{self.name}-{role}-{i + 1}",
            vpc_id=vpc_id,
            cidr_block=cidr,
            availability_zone=self.azs[i],
            map_public_ip_on_launch=False,
            tags=self.tags(role, extra_tags, Name=self.az_name(i, role)),
            opts=opts or self.child,
        )

    def route_table(
        self, logical: str, vpc: aws.ec2.Vpc, role: str, name_tag: Any
    ) -> aws.ec2.RouteTable:
        """A route table of ``role`` (``public``, ``private``) named ``name_tag``."""
        return aws.ec2.RouteTable(
            logical, vpc_id=vpc.id, tags=self.tags(role, Name=name_tag), opts=self.child
        )

    def default_route(self, logical: str, route_table: aws.ec2.RouteTable, **target: Any) -> None:
        """``0.0.0.0/0`` through ``target`` (``gateway_id=`` or ``nat_gateway_id=``)."""
        aws.ec2.Route(
            logical,
            route_table_id=route_table.id,
            destination_cidr_block="0.0.0.0/0",
            **target,
            opts=self.child,
        )

    def associate(
        self, role: str, i: int, subnet: aws.ec2.Subnet, route_table: aws.ec2.RouteTable
    ) -> None:
        """``{name}-{role}-{n}``: the ``role`` subnet of the ``i``-th AZ on ``route_table``."""
        aws.ec2.RouteTableAssociation(
            f"{self.name}-{role}-{i + 1}",
            subnet_id=subnet.id,
            route_table_id=route_table.id,
            opts=self.child,
        )

    def routing(
        self,
        vpc: aws.ec2.Vpc,
        private: list[aws.ec2.Subnet],
        public: list[aws.ec2.Subnet],
        pods: list[aws.ec2.Subnet],
    ) -> list[aws.ec2.RouteTable]:
        """Internet gateway and NAT gateways; one private route table per AZ, shared by the
        AZ's node and pod subnets."""
        nats = self.internet(vpc, public) if public else []
        route_tables = []
        for i, subnet in enumerate(private):
            rt = self.route_table(
                f"{self.name}-private-rt-{i + 1}", vpc, "private", self.az_name(i, "private")
            )
            route_tables.append(rt)
            if nats:
                nat = nats[i if len(nats) > 1 else 0]
                self.default_route(f"{self.name}-private-egress-{i + 1}", rt, nat_gateway_id=nat.id)
            self.associate("private", i, subnet, rt)
            if pods:
                self.associate("pods", i, pods[i], rt)
        return route_tables

    def internet(self, vpc: aws.ec2.Vpc, public: list[aws.ec2.Subnet]) -> list[aws.ec2.NatGateway]:
        """The internet gateway, the public route table and the NAT gateways."""
        name, prefix = self.name, self.prefix
        igw = aws.ec2.InternetGateway(
            f"{name}-igw",
            vpc_id=vpc.id,
            tags=self.tags("public", Name=f"{prefix}-igw"),
            opts=self.child,
        )
        public_rt = self.route_table(f"{name}-public-rt", vpc, "public", f"{prefix}-public")
        self.default_route(f"{name}-public-internet", public_rt, gateway_id=igw.id)
        for i, subnet in enumerate(public):
            self.associate("public", i, subnet, public_rt)
        # A NAT gateway needs the internet gateway attached before it can route.
        after_igw = self.network.child(depends_on=[igw])
        nats = []
        for i in range(nat_gateway_count(self.args.nat_strategy, self.args.az_count)):
            tags = self.tags("nat", Name=self.az_name(i, "nat"))
            eip = aws.ec2.Eip(f"{name}-nat-{i + 1}", domain="vpc", tags=tags, opts=after_igw)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i + 1}",
                    allocation_id=eip.id,
                    subnet_id=public[i].id,
                    connectivity_type="public",
                    tags=tags,
                    opts=after_igw,
                )
            )
        return nats

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
        stateful = self.network.stateful(args.protect)
        owner = self.network.owner
        log_group_name = physical_name("vpc-flow-logs", NameKind.LOG_GROUP, prefix, owner=owner)
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
            name="alias/" + physical_name("vpc-flow-logs", NameKind.KMS_ALIAS, prefix, owner=owner),
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
            name=physical_name("vpc-flow-logs", NameKind.IAM_ROLE, prefix, owner=owner),
            description="Lets VPC Flow Logs deliver to the network's log group",
            assume_role_policy=pulumi.Output.all(
                partition.partition, self.region, self.account
            ).apply(lambda v: json.dumps(_flow_log_trust(v[0], v[1], v[2]))),
            permissions_boundary=args.permission_boundary_arn,
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
