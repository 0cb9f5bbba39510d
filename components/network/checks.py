"""Checks of :class:`~.network.Network`'s args, collected before anything registers: the
subnet plan of a new network, and the IDs or Terraform outputs of an adopted one."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from ..core.limits import kms_deletion_window_problems, retention_problems
from ..core.patterns import SUBNET_ID, VPC_ID
from ..core.validation import Invalid, raise_if_invalid
from .args import NatStrategy, NetworkArgs, TerraformStateArgs
from .terraform_state import MissingOutputError, StateOutput, TerraformStateError, read_state

MIN_VPC_PREFIX = 16
"""The largest VPC AWS allows is a /16."""

MAX_SUBNET_PREFIX = 28
"""The smallest subnet (and VPC) AWS allows is a /28."""

MIN_NODE_SUBNET_PREFIX = 24
"""Node subnets hold at least a /24 (256 addresses): the VPC CNI gives every pod a VPC IP."""

_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


def _network(value: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except (ValueError, TypeError):
        return None


# --- checks the stack configuration makes too (plain values in, what is wrong out) ----------


def pod_cidr_overlap_problem(
    pod: ipaddress.IPv4Network, vpc: ipaddress.IPv4Network, vpc_is: str
) -> str | None:
    """A pod CIDR inside the VPC's range (``vpc_is`` names the VPC CIDR in the caller's words)."""
    if pod.overlaps(vpc):
        return f"overlaps {vpc_is} {vpc}; use a separate range such as 100.64.0.0/16"
    return None


def subnet_count_problem(subnet_ids: Sequence[Any], az_count: int, az_count_is: str) -> str | None:
    """Fewer private subnets than AZs (``az_count_is`` names the AZ count in the caller's
    words)."""
    if len(subnet_ids) < az_count:
        return (
            f"too few private subnets: {len(subnet_ids)} for {az_count_is} {az_count}; the "
            "cluster needs at least one private subnet per AZ"
        )
    return None


def zone_order_problem(zones: Sequence[str], private_subnet_ids: Sequence[Any]) -> str | None:
    """Availability zones that do not name one AZ per private subnet."""
    if zones and len(zones) != len(private_subnet_ids):
        return "one AZ name per private subnet, in the same order"
    return None


def min_vpc_prefix_for(az_count: int) -> int:
    """The smallest VPC (largest prefix) holding a /24 node subnet and a public subnet per AZ."""
    return MIN_NODE_SUBNET_PREFIX - math.ceil(math.log2(2 * max(az_count, 1)))


def check_new(args: NetworkArgs) -> list[Invalid]:
    """Every problem with the args of a network to create."""
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
    if vpc is not None and (overlap := pod_cidr_overlap_problem(pod, vpc, "vpc_cidr")):
        problems.append(Invalid("pod_cidr", args.pod_cidr, overlap))
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


def check_existing(name: str, args: NetworkArgs) -> dict[str, pulumi.Output[Any]]:
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
    zones = list(existing.availability_zones)
    if (
        private is not None
        and isinstance(private.value, list)
        and (order := zone_order_problem(zones, private.value))
    ):
        problems.append(Invalid("existing.availability_zones", zones, order))
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
    if vpc_id is not None and not VPC_ID.matches(vpc_id.value):
        problems.append(Invalid(where["vpc_id"], shown(vpc_id), "a VPC ID such as vpc-0abc12345"))
    cidr = values.get("vpc_cidr")
    if cidr is not None and not (isinstance(cidr.value, str) and _network(cidr.value)):
        problems.append(Invalid(where["vpc_cidr"], shown(cidr), "an IPv4 CIDR such as 10.0.0.0/16"))
    for key in ("private_subnet_ids", "public_subnet_ids", "pod_subnet_ids"):
        out = values.get(key)
        if out is None:
            continue
        ids = out.value
        if not isinstance(ids, list) or not all(SUBNET_ID.matches(s) for s in ids):
            problems.append(
                Invalid(where[key], shown(out), "a list of subnet IDs such as subnet-0abc12345")
            )
            continue
        if len(set(ids)) != len(ids):
            problems.append(Invalid(where[key], shown(out), "lists a subnet twice"))
        if key == "private_subnet_ids" and (
            too_few := subnet_count_problem(ids, az_count, "az_count")
        ):
            problems.append(Invalid(where[key], shown(out), too_few))
    return problems
