"""``mlops:cluster`` onto :class:`ServingCluster`: the EKS cluster, its system nodes and add-ons,
and who gets an access entry (the platform's roles, the configured ones, the deployer)."""

from __future__ import annotations

import pulumi

from ..cluster.serving_cluster import AddonVersions, ServingClusterArgs, access_label
from ..config import EnvironmentConfig
from ..config.loader import ConfigError
from ..config.model import DeployPhase
from ..config.rules import Problem
from ..core.naming import NameKind, physical_name
from ..deploy import CallerKind, DeployerIdentity, DeployRunner, resolve_deployer
from ..deploy.identity import same_role
from ..iam import PlatformIam
from ..network.network import Network
from .network import pod_subnets
from .wiring import Wiring


def cluster_args(
    config: EnvironmentConfig,
    wiring: Wiring,
    *,
    iam: PlatformIam,
    network: Network,
    deploy_runner: DeployRunner | None,
    deployer_admins: dict[str, str],
) -> ServingClusterArgs:
    """The cluster in the network's private subnets, with the platform's roles."""
    cluster, nodes, access = config.cluster, config.cluster.system_nodes, config.cluster.access
    admins: dict[str, pulumi.Input[str]] = {}
    if iam.platform_admin_role is not None:
        admins["platform-admin"] = iam.platform_admin_role.arn
    if iam.ci_role is not None:
        admins["ci-deploy"] = iam.ci_role.arn
    admins |= {access_label(arn): arn for arn in access.admins}
    admins |= deployer_admins
    readers: dict[str, pulumi.Input[str]] = {}
    if access.read_only_namespaces:
        if iam.read_only_role is not None:
            readers["read-only"] = iam.read_only_role.arn
        readers |= {access_label(arn): arn for arn in access.read_only}
    pod_subnet_ids, pod_zones = pod_subnets(config.network, network)
    return wiring.args(
        ServingClusterArgs,
        cluster,
        handled=(
            "api_ingress_cidrs",
            "api_ingress_security_group_ids",
            "system_nodes",
            "secrets_key_deletion_window_days",
            "addons",
            "access",
        ),
        subnet_ids=network.private_subnet_ids,
        cluster_role_arn=iam.cluster_role_arn,
        node_role_arn=iam.node_role_arn,
        kms_deletion_window_days=cluster.secrets_key_deletion_window_days,
        admin_roles=admins,
        read_only_roles=readers,
        read_only_namespaces=access.read_only_namespaces,
        addon_versions=AddonVersions(**{addon: build for addon, build in cluster.addons if build}),
        system_node_instance_type=nodes.instance_type,
        system_node_min_size=nodes.min_size,
        system_node_desired_size=nodes.desired_size,
        system_node_max_size=nodes.max_size,
        system_node_disk_gib=nodes.disk_size_gib,
        system_node_ami_release_version=nodes.ami_release_version,
        api_ingress_cidrs=_api_ingress_cidrs(config, network),
        api_ingress_security_group_ids=[
            *cluster.api_ingress_security_group_ids,
            *([deploy_runner.security_group_id] if deploy_runner else []),
        ],
        pod_subnet_ids=pod_subnet_ids,
        availability_zones=pod_zones,
        kubernetes_resources=config.phase is DeployPhase.ALL,
    )


def _api_ingress_cidrs(config: EnvironmentConfig, network: Network) -> list[pulumi.Input[str]]:
    """Who reaches the private API: config, else the VPC CIDR (plain when the stack owns it)."""
    cidrs = config.cluster.api_ingress_cidrs
    if cidrs is not None:
        return list(cidrs)
    if config.network.existing is None:
        return [config.network.vpc_cidr]
    return [network.vpc_cidr]


def deployer_admins(
    config: EnvironmentConfig, name_prefix: str, resource: pulumi.Resource
) -> dict[str, str]:
    """The deploying identity's admin access entry, unless it already has one.

    Resolved from the caller's session; a stack-created role (platform-admin, ci-deploy)
    or a role in ``cluster.access.admins`` already has an entry. An IAM user or root
    cannot be resolved to a role: then ``cluster.access.admins`` must name who deploys.
    """
    access = config.cluster.access
    deployer = resolve_deployer()
    if deployer.kind is not CallerKind.ROLE or deployer.role_arn is None:
        if not access.admins and config.phase is DeployPhase.ALL:
            raise ConfigError(pulumi.get_stack(), [_no_deployer_role(deployer)])
        if not access.admins:
            pulumi.log.warn(_no_deployer_role(deployer).message, resource)
        return {}
    role_arn = deployer.role_arn
    stack_roles = {
        physical_name(role, NameKind.IAM_ROLE, name_prefix)
        for role in ("platform-admin", "ci-deploy")
    }
    mapped = any(same_role(role_arn, admin) for admin in access.admins)
    if deployer.role_name in stack_roles or mapped:
        return {}
    if any(same_role(role_arn, reader) for reader in access.read_only):
        raise ConfigError(
            pulumi.get_stack(),
            [
                Problem(
                    ("cluster", "access", "readOnly"),
                    role_arn,
                    "the deploying role is mapped read-only, and one IAM principal has one "
                    "access entry: move it to cluster.access.admins, or deploy as another "
                    "role",
                )
            ],
        )
    return {access_label(role_arn): role_arn}


def _no_deployer_role(deployer: DeployerIdentity) -> Problem:
    return Problem(
        ("cluster", "access", "admins"),
        [],
        f"the deploying identity {deployer.caller_arn} is an IAM {deployer.kind.value}, not a "
        "role session, so it cannot be given an EKS access entry: deploy as a role (SSO "
        "permission set, an assumed admin role, the CI role) or list in cluster.access.admins "
        "the role ARN(s) that run the Kubernetes phase",
    )
