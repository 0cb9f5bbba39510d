"""EC2 and network: subnets, launch templates, EBS, security groups, NACLs, VPC flow logs
and endpoints."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, Severity

from rules.cidrs import is_world, world_cidrs
from rules.read import Node
from rules.rule import Rule, StackContext, fmt

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

DEFAULT_MAX_HOP_LIMIT = 1
"""The IMDS response hop limit launch templates and Karpenter node classes may use (1: only
the node itself reaches IMDS; pods use Pod Identity / IRSA)."""

EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"

_ALL_PROTOCOLS = frozenset({"-1", "all"})
_TCP = frozenset({"tcp", "6"})


def protocol(node: Node) -> str:
    """A protocol as one spelling: lower-case, numbers as text (``"Tcp"``, ``6`` -> tcp/6)."""
    return (node.text() or "").strip().lower()


# --- launch templates, instances and Karpenter node classes ------------------------------


def _public_ip_on_launch(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["mapPublicIpOnLaunch"].flag() is True:
        yield "the subnet gives every instance launched in it a public IP"


def _metadata(args: Any) -> Node:
    if args.resource_type == EC2_NODE_CLASS:
        return args.props.at("spec", "metadataOptions")
    return args.props["metadataOptions"]


def _imdsv2(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    tokens = _metadata(args)["httpTokens"].text()
    if (tokens or "").strip().lower() != "required":
        yield f"metadataOptions.httpTokens is {tokens or 'unset'}; IMDSv1 stays reachable"


def _hop_limit(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    limit = _metadata(args)["httpPutResponseHopLimit"].number()
    most = float(cfg.get("maxHopLimit", DEFAULT_MAX_HOP_LIMIT))
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


def _admin_ports(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    ports = [int(p) for p in cfg.get("adminPorts", [22, 3389])]
    for proto, low, high, what in _world_ingress(args):
        hit = [p for p in ports if _covers(proto, low, high, p)]
        if hit:
            yield f"{what} opens port(s) {', '.join(map(str, hit))} to the internet"


def _port(value: float | None) -> str:
    return "?" if value is None else fmt(value)


def _any_world(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    allowed = {int(p) for p in cfg.get("allowedPorts", [])}
    for proto, lo, hi, what in _world_ingress(args):
        single = lo is not None and lo == hi and int(lo) in allowed
        if not (single and proto in _TCP):
            span = "all ports" if proto in _ALL_PROTOCOLS else f"ports {_port(lo)}-{_port(hi)}"
            yield f"{what} allows ingress from the internet ({span})"


_DEFAULT_SG_DESCRIPTION = "Managed by Pulumi"


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


def _default_sg(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if args.props["ingress"].items() or args.props["egress"].items():
        yield "the VPC's default security group has rules"


def _vpc_children(
    ctx: StackContext, vpc: PolicyResource, types: tuple[str, ...], prop: str = "vpcId"
) -> list[PolicyResource]:
    return ctx.linked(vpc, ctx.of_type(*types), prop)


def _flow_logs(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    for vpc in ctx.of_type(VPC):
        if not _vpc_children(ctx, vpc, (FLOW_LOG,)):
            yield vpc.urn, f"VPC {vpc.name} has no flow log"


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


def _nacl(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    ports = [int(p) for p in cfg.get("adminPorts", [22, 3389])]
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


_SSH_CFG = {
    "adminPorts": {
        "type": "array",
        "items": {"type": "integer"},
        "default": [22, 3389],
        "description": "Remote administration ports never open to the world.",
    }
}

RULES: list[Rule] = [
    Rule(
        id="NET-001",
        name="ec2-subnet-no-public-ip-on-launch",
        severity=Severity.HIGH,
        description="Subnets do not assign public IPs to instances on launch.",
        remediation="aws.ec2.Subnet(..., map_public_ip_on_launch=False)",
        controls=("FSBP EC2.15", "CKV_AWS_130", "CIS 5.4.3"),
        catalog=(24,),
        resource_check=_public_ip_on_launch,
        resource_types=(SUBNET,),
    ),
    Rule(
        id="NET-002",
        name="ec2-launch-template-imdsv2",
        severity=Severity.HIGH,
        description="Launch templates and Karpenter EC2NodeClasses require IMDSv2 (httpTokens "
        "required).",
        remediation=(
            "aws.ec2.LaunchTemplate(..., metadata_options="
            "aws.ec2.LaunchTemplateMetadataOptionsArgs("
            'http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1)); '
            'EC2NodeClass spec: "metadataOptions": {"httpTokens": "required", '
            '"httpPutResponseHopLimit": 1}'
        ),
        controls=("FSBP EC2.170", "FSBP EC2.8", "FSBP AutoScaling.3", "CKV_AWS_79"),
        catalog=(25,),
        resource_check=_imdsv2,
        resource_types=(LAUNCH_TEMPLATE, EC2_NODE_CLASS),
    ),
    Rule(
        id="NET-003",
        name="ec2-launch-template-hop-limit",
        severity=Severity.MEDIUM,
        description="Launch templates and Karpenter EC2NodeClasses set the IMDS response hop "
        "limit explicitly, at most maxHopLimit (1 by default: pods cannot reach IMDS).",
        remediation=(
            'metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(http_tokens="required",'
            " http_put_response_hop_limit=1)  # pods get credentials from Pod Identity / IRSA"
        ),
        controls=("FSBP AutoScaling.4", "CKV_AWS_341"),
        catalog=(26,),
        resource_check=_hop_limit,
        resource_types=(LAUNCH_TEMPLATE, EC2_NODE_CLASS),
        config={
            "maxHopLimit": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULT_MAX_HOP_LIMIT,
                "description": "Highest acceptable httpPutResponseHopLimit.",
            }
        },
    ),
    Rule(
        id="NET-004",
        name="ec2-ebs-encrypted",
        severity=Severity.HIGH,
        description="EBS volumes of launch templates, instances, standalone volumes and "
        "Karpenter EC2NodeClasses are encrypted (a node class declares its root volume).",
        remediation=(
            "block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(device_name="
            '"/dev/xvda", ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs('
            'encrypted="true", kms_key_id=key.arn, volume_size=100, volume_type="gp3"))]'
        ),
        controls=("FSBP EC2.3", "CKV_AWS_8", "CKV_AWS_189"),
        catalog=(27,),
        resource_check=_encrypted,
        resource_types=(LAUNCH_TEMPLATE, INSTANCE, VOLUME, EC2_NODE_CLASS),
        limits="A launch template without block device mappings uses the AMI's volumes, whose "
        "encryption comes from the account's EBS default (row 30).",
    ),
    Rule(
        id="NET-005",
        name="ec2-no-public-ip",
        severity=Severity.HIGH,
        description="Launch templates, instances and Karpenter EC2NodeClasses do not "
        "associate public IPs.",
        remediation=(
            "network_interfaces=[aws.ec2.LaunchTemplateNetworkInterfaceArgs("
            'associate_public_ip_address="false", security_groups=[node_sg.id])]'
        ),
        controls=("FSBP EC2.9", "FSBP EC2.25", "CKV_AWS_88"),
        catalog=(28,),
        resource_check=_no_public_ip,
        resource_types=(LAUNCH_TEMPLATE, INSTANCE, EC2_NODE_CLASS),
    ),
    Rule(
        id="NET-006",
        name="ec2-no-secrets-in-user-data",
        severity=Severity.CRITICAL,
        description="User data (userData or userDataBase64, decoded) holds no access keys, "
        "private keys or literal passwords.",
        remediation=(
            "Read secrets at boot from AWS Secrets Manager or SSM Parameter Store through the "
            "instance role; keep user_data to bootstrap settings (e.g. a nodeadm NodeConfig)."
        ),
        controls=("CKV_AWS_46",),
        catalog=(29,),
        resource_check=_user_data,
        resource_types=(
            LAUNCH_TEMPLATE,
            INSTANCE,
            "aws:ec2/launchConfiguration:LaunchConfiguration",
            EC2_NODE_CLASS,
        ),
        limits="Pattern-based: finds AWS keys, PEM private keys and password=/token= literals.",
    ),
    Rule(
        id="NET-007",
        name="ec2-ebs-encryption-by-default",
        severity=Severity.MEDIUM,
        description="Where the stack manages it, EBS encryption by default is on.",
        remediation='aws.ebs.EncryptionByDefault(f"{name}-ebs-default", enabled=True)',
        controls=("FSBP EC2.7", "CKV_AWS_106"),
        catalog=(30,),
        resource_check=_ebs_default,
        resource_types=(EBS_DEFAULT,),
        limits="An account setting made outside the stack cannot be seen from inputs.",
    ),
    Rule(
        id="NET-008",
        name="ec2-sg-no-world-admin-ports",
        severity=Severity.CRITICAL,
        description="No security group rule opens SSH (22) or RDP (3389) to the internet.",
        remediation=(
            "Use SSM Session Manager instead of SSH; if a port must open, use "
            "aws.vpc.SecurityGroupIngressRule(..., referenced_security_group_id=bastion_sg.id)."
        ),
        controls=("FSBP EC2.19", "CKV_AWS_24", "CKV_AWS_25"),
        catalog=(31,),
        resource_check=_admin_ports,
        resource_types=(SECURITY_GROUP, SG_RULE, SG_INGRESS),
        config=_SSH_CFG,
    ),
    Rule(
        id="NET-009",
        name="ec2-sg-no-world-ingress",
        severity=Severity.HIGH,
        description="No security group rule allows ingress from the internet, except to ports "
        "the environment allows.",
        remediation=(
            "Scope ingress to the VPC or a security group: aws.vpc.SecurityGroupIngressRule(..., "
            'cidr_ipv4=vpc.cidr_block, from_port=443, to_port=443, ip_protocol="tcp")'
        ),
        controls=("FSBP EC2.18", "CKV_AWS_260", "CKV_AWS_277"),
        catalog=(32,),
        resource_check=_any_world,
        resource_types=(SECURITY_GROUP, SG_RULE, SG_INGRESS),
        config={
            "allowedPorts": {
                "type": "array",
                "items": {"type": "integer"},
                "default": [],
                "description": "TCP ports that may be open to the world (e.g. 443 for a "
                "public load balancer).",
            }
        },
    ),
    Rule(
        id="NET-010",
        name="ec2-sg-descriptions",
        severity=Severity.LOW,
        description="Security groups and their rules carry descriptions.",
        remediation=(
            'aws.ec2.SecurityGroup(..., description="EKS nodes: kubelet and pod traffic"); '
            'aws.vpc.SecurityGroupIngressRule(..., description="control plane to kubelet")'
        ),
        controls=("CKV_AWS_23",),
        catalog=(33,),
        resource_check=_descriptions,
        resource_types=(SECURITY_GROUP, SG_RULE, SG_INGRESS, SG_EGRESS),
    ),
    Rule(
        id="NET-011",
        name="ec2-sg-no-inline-and-standalone-rules",
        severity=Severity.MEDIUM,
        description="A security group uses either inline rules or standalone rule resources, "
        "never both.",
        remediation=(
            "Drop ingress=/egress= from aws.ec2.SecurityGroup and keep one "
            "aws.vpc.SecurityGroupIngressRule / SecurityGroupEgressRule per rule."
        ),
        controls=("AWSGuard ec2-security-group-rule-conflicts",),
        catalog=(34,),
        stack_check=_sg_conflicts,
    ),
    Rule(
        id="NET-012",
        name="ec2-default-sg-no-rules",
        severity=Severity.MEDIUM,
        description="A VPC's default security group has no rules.",
        remediation='aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id)  '
        "# no ingress / egress",
        controls=("FSBP EC2.2", "CKV2_AWS_12"),
        catalog=(35,),
        resource_check=_default_sg,
        resource_types=(DEFAULT_SG,),
        limits="A default security group the stack does not adopt is not visible.",
    ),
    Rule(
        id="NET-013",
        name="ec2-vpc-flow-logs",
        severity=Severity.MEDIUM,
        description="Every VPC has a flow log.",
        remediation=(
            'aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=vpc.id, traffic_type="ALL", '
            "log_destination=log_group.arn, iam_role_arn=flow_role.arn, opts=child)"
        ),
        controls=("FSBP EC2.6", "CKV2_AWS_11"),
        catalog=(36,),
        stack_check=_flow_logs,
    ),
    Rule(
        id="NET-014",
        name="ec2-vpc-endpoints",
        severity=Severity.MEDIUM,
        description="Every VPC has an S3 gateway endpoint and the interface endpoints the "
        "environment requires (ECR api/dkr where nodes are private).",
        remediation=(
            'aws.ec2.VpcEndpoint(f"{name}-s3", vpc_id=vpc.id, service_name=f"com.amazonaws.'
            '{region}.s3", vpc_endpoint_type="Gateway", route_table_ids=private_rt_ids); '
            "and one Interface endpoint per service (ecr.api, ecr.dkr, sts, logs)."
        ),
        controls=("FSBP EC2.10", "FSBP EC2.55", "FSBP EC2.56"),
        catalog=(37,),
        stack_check=_endpoints,
        config={
            "requiredInterfaceEndpoints": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["ecr.api", "ecr.dkr"],
                "description": "Interface endpoint services every VPC needs.",
            }
        },
    ),
    Rule(
        id="NET-015",
        name="ec2-nacl-no-world-admin-ports",
        severity=Severity.HIGH,
        description="No network ACL allows SSH (22) or RDP (3389) from the internet.",
        remediation=(
            'aws.ec2.NetworkAclRule(..., rule_action="allow", cidr_block=vpc.cidr_block, '
            'from_port=22, to_port=22, protocol="tcp")  # never 0.0.0.0/0'
        ),
        controls=("FSBP EC2.21",),
        catalog=(38,),
        resource_check=_nacl,
        resource_types=(NACL, NACL_RULE),
        config=_SSH_CFG,
    ),
]
