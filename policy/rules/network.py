"""EC2 and network: subnets, launch templates, EBS, security groups, NACLs, VPC flow logs
and endpoints."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from rules.catalog import resource_rule, rules_of, stack_rule
from rules.checks import fmt
from rules.cidrs import is_world, world_cidrs
from rules.context import StackContext
from rules.read import Node

SUBNET = "aws:ec2/subnet:Subnet"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
EBS_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
NACL = "aws:ec2/networkAcl:NetworkAcl"
NACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"

LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
SG_INGRESS_TYPES = (SECURITY_GROUP, SG_RULE, SG_INGRESS)
"""Security groups and the rule resources that can open ingress."""
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"

_ALL_PROTOCOLS = frozenset({"-1", "all"})
_TCP = frozenset({"tcp", "6"})


def protocol(node: Node) -> str:
    """A protocol as one spelling: lower-case, numbers as text (``"Tcp"``, ``6`` -> tcp/6)."""
    return (node.text() or "").strip().lower()


# --- launch templates, instances and Karpenter node classes ------------------------------


@resource_rule("NET-001", SUBNET)
def _public_ip_on_launch(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["mapPublicIpOnLaunch"].flag() is True:
        yield "the subnet gives every instance launched in it a public IP"


def _metadata(args: Any) -> Node:
    if args.resource_type == EC2_NODE_CLASS:
        return args.props.at("spec", "metadataOptions")
    return args.props["metadataOptions"]


@resource_rule("NET-002", LAUNCH_TEMPLATE, EC2_NODE_CLASS)
def _imdsv2(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    tokens = _metadata(args)["httpTokens"].text()
    if (tokens or "").strip().lower() != "required":
        yield f"metadataOptions.httpTokens is {tokens or 'unset'}; IMDSv1 stays reachable"


@resource_rule("NET-003", LAUNCH_TEMPLATE, EC2_NODE_CLASS)
def _hop_limit(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    limit = _metadata(args)["httpPutResponseHopLimit"].number()
    most = float(cfg["maxHopLimit"])
    if limit is None:
        yield "metadataOptions.httpPutResponseHopLimit is not set explicitly"
    elif limit > most:
        yield f"httpPutResponseHopLimit is {fmt(limit)}; at most {fmt(most)} keeps pods off IMDS"


def _node_class_volumes(spec: Node) -> Iterator[str]:
    devices = spec["blockDeviceMappings"].items()
    if not devices:
        yield "blockDeviceMappings is not set: the root volume's encryption is not declared"
        return
    roots = [d for d in devices if d["rootVolume"].flag() is True] or devices[:1]
    for d in devices:
        ebs = d["ebs"]
        if ebs.present and ebs["encrypted"].flag() is not True:
            which = "root volume" if d in roots else "EBS volume"
            yield f"{which} {d['deviceName'].label()} is not encrypted"


@resource_rule("NET-004", LAUNCH_TEMPLATE, INSTANCE, VOLUME, EC2_NODE_CLASS)
def _encrypted(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    if args.resource_type == LAUNCH_TEMPLATE:
        for m in props["blockDeviceMappings"].items():
            ebs = m["ebs"]
            if ebs.present and ebs["encrypted"].flag() is not True:
                yield f"EBS volume {m['deviceName'].label()} is not encrypted"
    elif args.resource_type == EC2_NODE_CLASS:
        yield from _node_class_volumes(props["spec"])
    elif args.resource_type == VOLUME:
        if props["encrypted"].flag() is not True:
            yield "the EBS volume is not encrypted"
    else:
        if props.at("rootBlockDevice", "encrypted").flag() is not True:
            yield "the root volume is not encrypted"
        for dev in props["ebsBlockDevices"].items():
            if dev["encrypted"].flag() is not True:
                yield f"EBS volume {dev['deviceName'].label()} is not encrypted"


@resource_rule("NET-005", LAUNCH_TEMPLATE, INSTANCE, EC2_NODE_CLASS)
def _no_public_ip(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.resource_type == INSTANCE:
        if args.props["associatePublicIpAddress"].flag() is True:
            yield "the instance gets a public IP"
        return
    if args.resource_type == EC2_NODE_CLASS:
        if args.props.at("spec", "associatePublicIPAddress").flag() is True:
            yield "the node class associates public IPs (spec.associatePublicIPAddress)"
        return
    for nic in args.props["networkInterfaces"].items():
        if nic["associatePublicIpAddress"].flag() is True:
            yield "a network interface associates a public IP"


_SECRET_PATTERNS = (
    (re.compile(r"AKIA[0-9A-Z]{16}"), "an AWS access key ID"),
    (re.compile(r"aws_secret_access_key\s*[=:]", re.I), "an AWS secret access key"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (
        re.compile(
            r"\b(password|passwd|secret|api[_-]?key|token)\s*[=:]\s*['\"]?[^\s'\"$]{6,}", re.I
        ),
        "a literal password or token",
    ),
)


def _decode_user_data(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "ignore")
    except (binascii.Error, ValueError):
        return value


@resource_rule("NET-006", LAUNCH_TEMPLATE, INSTANCE, LAUNCH_CONFIGURATION, EC2_NODE_CLASS)
def _user_data(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    sources = ["userData", "userDataBase64"]
    root = args.props
    if args.resource_type == EC2_NODE_CLASS:
        root = args.props["spec"]
        sources = ["userData"]
    for key in sources:
        raw = root[key].text()
        if not raw:
            continue
        text = _decode_user_data(raw)
        for pattern, what in _SECRET_PATTERNS:
            if pattern.search(text):
                yield f"{key} contains {what}"


@resource_rule("NET-007", EBS_DEFAULT)
def _ebs_default(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["enabled"].flag(True) is not True:
        yield "EBS encryption by default is turned off"


# --- security groups and NACLs ---------------------------------------------------------


def _covers(proto: str, low: float | None, high: float | None, port: int) -> bool:
    if proto in _ALL_PROTOCOLS:
        return True
    if proto not in _TCP:
        return False
    if low is None or high is None:
        return False
    if low == -1 and high == -1:
        return True
    return low <= port <= high


def _world_ingress(args: Any) -> list[tuple[str, float | None, float | None, str]]:
    """(protocol, from, to, what) for every ingress rule open to the world."""
    props = args.props
    found = []
    if args.resource_type == SECURITY_GROUP:
        for rule in props["ingress"].items():
            cidrs = rule["cidrBlocks"].strings() + rule["ipv6CidrBlocks"].strings()
            if world_cidrs(cidrs):
                found.append(
                    (
                        protocol(rule["protocol"]),
                        rule["fromPort"].number(),
                        rule["toPort"].number(),
                        "an inline ingress rule",
                    )
                )
    elif args.resource_type == SG_RULE:
        cidrs = props["cidrBlocks"].strings() + props["ipv6CidrBlocks"].strings()
        if (props["type"].text() or "").strip().lower() == "ingress" and world_cidrs(cidrs):
            found.append(
                (
                    protocol(props["protocol"]),
                    props["fromPort"].number(),
                    props["toPort"].number(),
                    "the rule",
                )
            )
    elif args.resource_type == SG_INGRESS and (
        is_world(props["cidrIpv4"].text()) or is_world(props["cidrIpv6"].text())
    ):
        found.append(
            (
                protocol(props["ipProtocol"]),
                props["fromPort"].number(),
                props["toPort"].number(),
                "the rule",
            )
        )
    return found


@resource_rule("NET-008", *SG_INGRESS_TYPES)
def _admin_ports(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    ports = [int(p) for p in cfg["adminPorts"]]
    for proto, low, high, what in _world_ingress(args):
        hit = [p for p in ports if _covers(proto, low, high, p)]
        if hit:
            yield f"{what} opens port(s) {', '.join(map(str, hit))} to the internet"


def _port(value: float | None) -> str:
    return "?" if value is None else fmt(value)


@resource_rule("NET-009", *SG_INGRESS_TYPES)
def _any_world(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    allowed = {int(p) for p in cfg["allowedPorts"]}
    for proto, lo, hi, what in _world_ingress(args):
        single = lo is not None and lo == hi and int(lo) in allowed
        if not (single and proto in _TCP):
            span = "all ports" if proto in _ALL_PROTOCOLS else f"ports {_port(lo)}-{_port(hi)}"
            yield f"{what} allows ingress from the internet ({span})"


_DEFAULT_SG_DESCRIPTION = "Managed by Pulumi"


@resource_rule("NET-010", *SG_INGRESS_TYPES, SG_EGRESS)
def _descriptions(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    if args.resource_type == SECURITY_GROUP:
        if (props["description"].text() or "").strip() in ("", _DEFAULT_SG_DESCRIPTION):
            yield "the security group keeps the default description"
        for kind in ("ingress", "egress"):
            for rule in props[kind].items():
                if not (rule["description"].text() or "").strip():
                    yield f"an inline {kind} rule has no description"
    elif not (props["description"].text() or "").strip():
        yield "the rule has no description"


@stack_rule("NET-011")
def _sg_conflicts(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    standalone = ctx.of_type(SG_RULE, SG_INGRESS, SG_EGRESS)
    for group in ctx.of_type(SECURITY_GROUP):
        inline = ctx.guard(
            lambda g=group: bool(g.props["ingress"].items() or g.props["egress"].items()),
            False,
        )
        if inline and ctx.linked(group, standalone, "securityGroupId"):
            yield (
                group.urn,
                (
                    f"security group {group.name} has inline rules and standalone rule resources; "
                    "they overwrite each other"
                ),
            )


@resource_rule("NET-012", DEFAULT_SG)
def _default_sg(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["ingress"].items() or args.props["egress"].items():
        yield "the VPC's default security group has rules"


def _vpc_children(
    ctx: StackContext, vpc: PolicyResource, types: tuple[str, ...], prop: str = "vpcId"
) -> list[PolicyResource]:
    return ctx.linked(vpc, ctx.of_type(*types), prop)


@stack_rule("NET-013")
def _flow_logs(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for vpc in ctx.of_type(VPC):
        if not _vpc_children(ctx, vpc, (FLOW_LOG,)):
            yield vpc.urn, f"VPC {vpc.name} has no flow log"


@stack_rule("NET-014")
def _endpoints(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    required = ["s3", *(cfg.get("requiredInterfaceEndpoints") or [])]

    def check(vpc: PolicyResource) -> Iterator[tuple[str | None, str]]:
        names = set()
        for ep in _vpc_children(ctx, vpc, (VPC_ENDPOINT,)):
            service = ep.props["serviceName"].text()  # unknown (preview): the VPC is skipped
            if isinstance(service, str):
                service = service.strip().lower()
                names.add(service.split(".", 3)[-1] if service.count(".") >= 3 else service)
        missing = [s for s in required if s not in names]
        if missing:
            yield vpc.urn, f"VPC {vpc.name} lacks endpoints for: {', '.join(missing)}"

    return ctx.per_resource(ctx.of_type(VPC), check)


@resource_rule("NET-015", NACL, NACL_RULE)
def _nacl(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    ports = [int(p) for p in cfg["adminPorts"]]
    props = args.props
    if args.resource_type == NACL:
        entries = [
            (r, r["action"], r["cidrBlock"], r["ipv6CidrBlock"]) for r in props["ingress"].items()
        ]
    elif props["egress"].flag() is True:
        entries = []
    else:
        entries = [(props, props["ruleAction"], props["cidrBlock"], props["ipv6CidrBlock"])]
    for entry, action, cidr, cidr6 in entries:
        if (action.text() or "").strip().lower() != "allow" or not (
            is_world(cidr.text()) or is_world(cidr6.text())
        ):
            continue
        low, high = entry["fromPort"].number(), entry["toPort"].number()
        hit = [p for p in ports if _covers(protocol(entry["protocol"]), low, high, p)]
        if hit:
            yield f"the network ACL allows port(s) {', '.join(map(str, hit))} from the internet"


RULES = rules_of(__name__)
