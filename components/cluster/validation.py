"""What :class:`~mlops_platform.cluster.serving_cluster.ServingCluster` checks before it builds:
every problem with its args, each naming the argument."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from ..core.checks import cidr_problems
from ..core.limits import kms_deletion_window_problems, retention_problems
from ..core.patterns import ADDON_VERSION, AMI_RELEASE, DNS_LABEL, SECURITY_GROUP_ID, SUBNET_ID
from ..core.validation import Invalid
from ..core.versions import KUBERNETES_VERSION, SYSTEM_NODE_AMI_RELEASE

if TYPE_CHECKING:
    from .serving_cluster import ServingClusterArgs

_K8S_VERSION = re.compile(r"^1\.\d{2}$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$")

# --- checks the stack configuration makes too (plain values in, what is wrong out) ----------


def public_endpoint_problem(public: bool, cidrs: Collection[object]) -> str | None:
    """A public API endpoint without an allowlist."""
    if public and not cidrs:
        return "a public endpoint needs an allowlist of CIDRs (e.g. your VPN's egress range)"
    return None


def kube_proxy_problem(kube_proxy: str, kubernetes_version: str) -> str | None:
    """A kube-proxy build (of add-on build shape) for another Kubernetes minor."""
    if ADDON_VERSION.matches(kube_proxy) and not kube_proxy.startswith(f"v{kubernetes_version}."):
        return f"kube-proxy's minor follows the cluster's: a v{kubernetes_version}.x build"
    return None


def system_ami_release_problem(release: str, kubernetes_version: str) -> str | None:
    """A system-node AMI release that is not an EKS AMI release of ``kubernetes_version``."""
    if AMI_RELEASE.matches(release) and release.startswith(f"{kubernetes_version}."):
        return None
    return (
        f"an EKS AMI release of Kubernetes {kubernetes_version} (`<k8s>.<patch>-<YYYYMMDD>`), "
        f"e.g. {SYSTEM_NODE_AMI_RELEASE} for {KUBERNETES_VERSION}"
    )


def read_only_scope_problem(
    read_only_roles: Collection[object], namespaces: Collection[str]
) -> str | None:
    """Read-only roles with no namespace to be scoped to."""
    if read_only_roles and not namespaces:
        return "read-only roles are scoped to namespaces: list at least one"
    return None


# --- the component's checks -----------------------------------------------------------------


def cluster_problems(args: ServingClusterArgs) -> list[Invalid]:
    """Every problem with ``args``, each naming the argument."""
    problems: list[Invalid] = []
    if not _K8S_VERSION.match(args.version):
        problems.append(Invalid("version", args.version, "a Kubernetes minor, e.g. 1.34"))
    problems += _endpoint_problems(args)
    problems += kms_deletion_window_problems(
        "kms_deletion_window_days", args.kms_deletion_window_days
    )
    problems += retention_problems("log_retention_days", args.log_retention_days)
    problems += _addon_problems(args)
    problems += _node_problems(args)
    problems += _api_ingress_problems(args)
    problems += _pod_subnet_problems(args)
    problems += _access_problems(args)
    return problems


def _addon_problems(args: ServingClusterArgs) -> list[Invalid]:
    problems = [
        Invalid(
            f"addon_versions.{field_name}",
            version,
            "a pinned EKS add-on build, e.g. " + ADDON_VERSION.example,
        )
        for field_name, version in vars(args.addon_versions).items()
        if not ADDON_VERSION.matches(version)
    ]
    kube_proxy = args.addon_versions.kube_proxy
    if other_minor := kube_proxy_problem(kube_proxy, args.version):
        problems.append(Invalid("addon_versions.kube_proxy", kube_proxy, other_minor))
    return problems


def _access_problems(args: ServingClusterArgs) -> list[Invalid]:
    problems = [
        Invalid(
            f"{arg}[{label!r}]",
            label,
            "labels are lowercase letters, digits and '-', at most 32 characters",
        )
        for arg, roles in (
            ("admin_roles", args.admin_roles),
            ("read_only_roles", args.read_only_roles),
        )
        for label in roles
        if not _LABEL.match(label)
    ]
    if unscoped := read_only_scope_problem(args.read_only_roles, args.read_only_namespaces):
        problems.append(Invalid("read_only_namespaces", [], unscoped))
    problems += [
        Invalid(f"read_only_namespaces[{i}]", ns, "a DNS-1123 label")
        for i, ns in enumerate(args.read_only_namespaces)
        if not DNS_LABEL.matches(ns)
    ]
    return problems


def _node_problems(args: ServingClusterArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if (
        not (
            0
            <= args.system_node_min_size
            <= args.system_node_desired_size
            <= args.system_node_max_size
        )
        or args.system_node_max_size < 1
    ):
        problems.append(
            Invalid(
                "system_node_desired_size",
                {
                    "min": args.system_node_min_size,
                    "desired": args.system_node_desired_size,
                    "max": args.system_node_max_size,
                },
                "0 <= min <= desired <= max and max >= 1",
            )
        )
    if not 1 <= args.system_node_max_unavailable <= max(args.system_node_max_size, 1):
        problems.append(
            Invalid(
                "system_node_max_unavailable",
                args.system_node_max_unavailable,
                "between 1 and system_node_max_size",
            )
        )
    if args.system_node_disk_gib < 20:
        problems.append(
            Invalid("system_node_disk_gib", args.system_node_disk_gib, "at least 20 GiB")
        )
    release = args.system_node_ami_release_version
    if release is not None and (wrong := system_ami_release_problem(release, args.version)):
        problems.append(Invalid("system_node_ami_release_version", release, wrong))
    return problems


def _api_ingress_problems(args: ServingClusterArgs) -> list[Invalid]:
    problems = cidr_problems(
        "api_ingress_cidrs",
        args.api_ingress_cidrs,
        allowed="an IPv4 CIDR with host bits zero, e.g. 10.0.0.0/16",
        internet="the whole internet (0.0.0.0/0) is never allowed to the API; list the VPC, "
        "VPN or runner ranges",
        ipv4_only=True,
    )
    problems += [
        Invalid(
            f"api_ingress_security_group_ids[{i}]",
            group,
            "a security group ID, e.g. sg-0123456789abcdef0",
        )
        for i, group in enumerate(args.api_ingress_security_group_ids)
        if isinstance(group, str) and not SECURITY_GROUP_ID.matches(group)
    ]
    problems += _listed_twice("api_ingress_cidrs", args.api_ingress_cidrs, "CIDR")
    problems += _listed_twice(
        "api_ingress_security_group_ids", args.api_ingress_security_group_ids, "security group"
    )
    return problems


def _listed_twice(arg: str, values: Sequence[object], what: str) -> list[Invalid]:
    """Plain values listed more than once (each repeat named by its position)."""
    return [
        Invalid(f"{arg}[{i}]", value, f"listed twice; each {what} once")
        for i, value in enumerate(values)
        if isinstance(value, str) and value in values[:i]
    ]


def _pod_subnet_problems(args: ServingClusterArgs) -> list[Invalid]:
    subnets, zones = list(args.pod_subnet_ids), list(args.availability_zones)
    if not subnets:
        return []
    problems: list[Invalid] = []
    if len(zones) != len(subnets):
        problems.append(
            Invalid(
                "availability_zones",
                zones,
                f"one AZ per pod subnet, in the same order ({len(subnets)} pod subnets given)",
            )
        )
    problems += [
        Invalid(f"pod_subnet_ids[{i}]", subnet, "a subnet ID, e.g. subnet-0123456789abcdef0")
        for i, subnet in enumerate(subnets)
        if isinstance(subnet, str) and not SUBNET_ID.matches(subnet)
    ]
    plain = [z for z in zones if isinstance(z, str)]
    problems += [
        Invalid(f"availability_zones[{i}]", zone, "an AZ name, e.g. us-east-1a")
        for i, zone in enumerate(zones)
        if isinstance(zone, str) and not DNS_LABEL.matches(zone)
    ]
    if len(set(plain)) != len(plain):
        problems.append(
            Invalid("availability_zones", zones, "each AZ once: it names that AZ's ENIConfig")
        )
    return problems


def _endpoint_problems(args: ServingClusterArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    cidrs = list(args.public_access_cidrs)
    if no_allowlist := public_endpoint_problem(args.endpoint_public_access, cidrs):
        problems.append(Invalid("public_access_cidrs", [], no_allowlist))
    if not args.endpoint_public_access and cidrs:
        problems.append(
            Invalid(
                "public_access_cidrs",
                cidrs,
                "has no effect while endpoint_public_access is false; remove it",
            )
        )
    problems += cidr_problems(
        "public_access_cidrs",
        cidrs,
        allowed="an IPv4 CIDR, e.g. 203.0.113.0/24",
        internet="the whole internet (0.0.0.0/0) is never allowed; list specific ranges",
    )
    return problems
