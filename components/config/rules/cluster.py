"""Rules of ``mlops:cluster``: who reaches the API endpoint, access entries, pins that follow
the Kubernetes version."""

from __future__ import annotations

import ipaddress

from ...cluster.validation import (
    kube_proxy_problem,
    public_endpoint_problem,
    read_only_scope_problem,
    system_ami_release_problem,
)
from ..model import ClusterConfig, EnvironmentConfig, Profile
from .problem import Path, Problem


def api_endpoint(config: EnvironmentConfig) -> list[Problem]:
    """A public endpoint needs an allowlist, never the whole internet; prod has none."""
    cluster = config.cluster
    problems: list[Problem] = []
    path: Path = ("cluster", "endpointPublicAccess")
    if cluster.endpoint_public_access and config.profile is Profile.PROD:
        problems.append(Problem(path, True, "prod clusters have a private API endpoint only"))
    if no_allowlist := public_endpoint_problem(
        cluster.endpoint_public_access, cluster.public_access_cidrs
    ):
        problems.append(Problem(("cluster", "publicAccessCidrs"), [], no_allowlist))
    if not cluster.endpoint_public_access and cluster.public_access_cidrs:
        problems.append(
            Problem(
                ("cluster", "publicAccessCidrs"),
                cluster.public_access_cidrs,
                "has no effect while endpointPublicAccess is false; remove it or turn the "
                "public endpoint on",
            )
        )
    for i, cidr in enumerate(cluster.public_access_cidrs):
        if ipaddress.IPv4Network(cidr).prefixlen == 0:
            problems.append(
                Problem(
                    ("cluster", "publicAccessCidrs", i),
                    cidr,
                    "the whole internet is never allowed; list specific ranges",
                )
            )
    return problems


def api_ingress(config: EnvironmentConfig) -> list[Problem]:
    """Who reaches the private API endpoint: never the whole internet, each source once."""
    cluster = config.cluster
    problems: list[Problem] = []
    for i, cidr in enumerate(cluster.api_ingress_cidrs or []):
        path: Path = ("cluster", "apiIngressCidrs", i)
        if ipaddress.IPv4Network(cidr).prefixlen == 0:
            problems.append(
                Problem(
                    path,
                    cidr,
                    "the whole internet is never allowed to the API endpoint; list the VPC, "
                    "VPN or runner ranges",
                )
            )
        if cidr in (cluster.api_ingress_cidrs or [])[:i]:
            problems.append(Problem(path, cidr, "listed twice; list each CIDR once"))
    groups = cluster.api_ingress_security_group_ids
    problems += [
        Problem(("cluster", "apiIngressSecurityGroupIds", i), group, "listed twice")
        for i, group in enumerate(groups)
        if group in groups[:i]
    ]
    return problems


def cluster_access_and_keys(config: EnvironmentConfig) -> list[Problem]:
    """Read-only roles are namespace-scoped; kube-proxy and the node AMI follow the cluster's
    Kubernetes minor, and are pinned when the cluster leaves the built-in version."""
    cluster = config.cluster
    version = cluster.version
    default_version = ClusterConfig.model_fields["version"].default
    problems: list[Problem] = []
    # (key, the pinned build if any, what is wrong with a pinned build for this version)
    pins = (
        (("cluster", "addons", "kubeProxy"), cluster.addons.kube_proxy, kube_proxy_problem),
        (
            ("cluster", "systemNodes", "amiReleaseVersion"),
            cluster.system_nodes.ami_release_version,
            system_ami_release_problem,
        ),
    )
    for path, pinned, wrong in pins:
        if pinned is None and version != default_version:
            problems.append(
                Problem(
                    path,
                    None,
                    f"the built-in pins are for Kubernetes {default_version}; pin this for "
                    f"{version} too (and review every cluster.addons version)",
                )
            )
        elif pinned is not None and (allowed := wrong(pinned, version)):
            problems.append(Problem(path, pinned, allowed))
    access = cluster.access
    if unscoped := read_only_scope_problem(access.read_only, access.read_only_namespaces):
        problems.append(Problem(("cluster", "access", "readOnlyNamespaces"), [], unscoped))
    return problems
