"""Cross-field rules of an environment's configuration.

Each rule is a plain function from a structurally valid :class:`EnvironmentConfig` to the
problems it finds, so every problem is reported at once, and so the policy pack can apply
the same predicates to what a stack registers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..core.gpu_catalog import (
    EFA_CAPABLE,
    GPU_INSTANCE_TYPES,
    MIG_BALANCED,
    MIG_PROFILES,
    max_gpus_per_node,
)
from ..core.limits import PROD_KMS_DELETION_WINDOW_DAYS
from ..core.tagging import REQUIRED_TAG_KEYS, tag_problems
from ..gpu.node_pool import AmiType
from ..gpu.nvidia import NvidiaMode
from ..network.network import MIN_NODE_SUBNET_PREFIX, MIN_VPC_PREFIX, min_vpc_prefix_for
from ..observability.observability import ObservabilityArgs
from ..serving.tenant import RESERVED_NAMESPACES
from ..storage.container_registry import repository_name_problems
from ..storage.model_registry import ModelRegistryArgs
from .model import (
    CapacityType,
    ClusterConfig,
    EnvironmentConfig,
    NetworkConfig,
    NodeGroupSize,
    Profile,
    Workload,
)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration: where, the bad value, what is allowed."""

    path: Path
    value: Any
    message: str


# --- the subnet plan -------------------------------------------------------------------------

_PRIVATE_SPLIT = 3  # private subnets: VPC prefix + 3 (an eighth of the VPC each)
_PUBLIC_SPLIT = 5  # public subnets: VPC prefix + 5, carved from the second half


def planned_subnets(network: NetworkConfig) -> tuple[list[str], list[str]]:
    """The private and public subnet CIDRs: the configured ones, or the default plan.

    The default plan gives each AZ a private subnet of an eighth of the VPC (a /19 in a
    /16) and a small public subnet (a /21 in a /16) from the VPC's second half.
    """
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    private = network.private_subnet_cidrs or [
        str(s) for s in list(vpc.subnets(prefixlen_diff=_PRIVATE_SPLIT))[: network.az_count]
    ]
    second_half = list(vpc.subnets(prefixlen_diff=1))[1]
    public = network.public_subnet_cidrs or [
        str(s)
        for s in list(second_half.subnets(prefixlen_diff=_PUBLIC_SPLIT - 1))[: network.az_count]
    ]
    return private, public


# --- rules -----------------------------------------------------------------------------------


def _sizes(size: NodeGroupSize, path: Path) -> list[Problem]:
    if size.min_size <= size.desired_size <= size.max_size:
        return []
    return [
        Problem(
            (*path, "desiredSize"),
            {"minSize": size.min_size, "desiredSize": size.desired_size, "maxSize": size.max_size},
            "node group sizes must satisfy minSize <= desiredSize <= maxSize",
        )
    ]


def node_group_sizes(config: EnvironmentConfig) -> list[Problem]:
    """min <= desired <= max for the system nodes and every GPU pool."""
    problems = _sizes(config.cluster.system_nodes, ("cluster", "systemNodes"))
    for i, pool in enumerate(config.gpu.pools):
        problems += _sizes(pool, ("gpu", "pools", i))
    return problems


def network_cidrs(config: EnvironmentConfig) -> list[Problem]:
    """Subnets: one per AZ, inside the VPC, not overlapping; the pod CIDR outside the VPC."""
    network = config.network
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    smallest = min_vpc_prefix_for(network.az_count)
    if not MIN_VPC_PREFIX <= vpc.prefixlen <= smallest:
        return [
            Problem(
                ("network", "vpcCidr"),
                network.vpc_cidr,
                f"the VPC must be a /{MIN_VPC_PREFIX} to /{smallest} to hold "
                f"{network.az_count} AZs of node subnets (each at least a "
                f"/{MIN_NODE_SUBNET_PREFIX}) and public subnets",
            )
        ]
    private, public = planned_subnets(network)
    problems = _node_subnet_sizes(network, private)
    for key, cidrs in (("privateSubnetCidrs", private), ("publicSubnetCidrs", public)):
        if len(cidrs) != network.az_count:
            problems.append(
                Problem(
                    ("network", key),
                    cidrs,
                    f"give exactly one subnet per AZ: azCount is {network.az_count}",
                )
            )
        for i, cidr in enumerate(cidrs):
            if not ipaddress.IPv4Network(cidr).subnet_of(vpc):
                problems.append(
                    Problem(("network", key, i), cidr, f"must lie inside the VPC {vpc}")
                )
    seen: list[tuple[Path, ipaddress.IPv4Network]] = []
    for key, cidrs in (("privateSubnetCidrs", private), ("publicSubnetCidrs", public)):
        for i, cidr in enumerate(cidrs):
            net = ipaddress.IPv4Network(cidr)
            for other_path, other in seen:
                if net.overlaps(other):
                    problems.append(
                        Problem(
                            ("network", key, i),
                            cidr,
                            f"overlaps {other} ({_dotted(other_path)}); subnets must not overlap",
                        )
                    )
            seen.append((("network", key, i), net))
    if network.pod_cidr is not None and ipaddress.IPv4Network(network.pod_cidr).overlaps(vpc):
        problems.append(
            Problem(
                ("network", "podCidr"),
                network.pod_cidr,
                f"overlaps the VPC CIDR {vpc}; use a separate range such as 100.64.0.0/16",
            )
        )
    return problems


def _node_subnet_sizes(network: NetworkConfig, private: list[str]) -> list[Problem]:
    """Node subnets hold at least a /24; the default plan says so on the VPC CIDR."""
    planned = not network.private_subnet_cidrs
    small = [
        (i, cidr)
        for i, cidr in enumerate(private)
        if ipaddress.IPv4Network(cidr).prefixlen > MIN_NODE_SUBNET_PREFIX
    ]
    if small and planned:
        cidr = small[0][1]
        return [
            Problem(
                ("network", "vpcCidr"),
                network.vpc_cidr,
                f"the default subnet plan (an eighth of the VPC per AZ) gives {cidr}, "
                f"smaller than a /{MIN_NODE_SUBNET_PREFIX}: use a VPC of "
                f"/{MIN_NODE_SUBNET_PREFIX - _PRIVATE_SPLIT} or larger, or give "
                "privateSubnetCidrs and publicSubnetCidrs yourself",
            )
        ]
    return [
        Problem(
            ("network", "privateSubnetCidrs", i),
            cidr,
            f"node subnets must be a /{MIN_NODE_SUBNET_PREFIX} or larger: every pod takes a "
            "VPC address",
        )
        for i, cidr in small
    ]


def existing_network(config: EnvironmentConfig) -> list[Problem]:
    """An adopted network comes by IDs or from a Terraform state, never both, and has a
    private subnet per AZ; a VPC the stack does not own gets no pod CIDR."""
    network = config.network
    existing = network.existing
    if existing is None:
        return []
    base: Path = ("network", "existing")
    problems: list[Problem] = []
    by_id = existing.vpc_id is not None or bool(existing.private_subnet_ids)
    if by_id and existing.terraform_state is not None:
        problems.append(
            Problem(
                base,
                "vpcId/subnet IDs and terraformState",
                "give either the IDs or terraformState, not both",
            )
        )
    elif existing.terraform_state is None:
        for key, value in (("vpcId", existing.vpc_id), ("vpcCidr", existing.vpc_cidr)):
            if value is None:
                problems.append(
                    Problem((*base, key), None, "required to adopt a VPC by ID, or terraformState")
                )
        if len(existing.private_subnet_ids) < network.az_count:
            problems.append(
                Problem(
                    (*base, "privateSubnetIds"),
                    existing.private_subnet_ids,
                    f"too few private subnets: {len(existing.private_subnet_ids)} for azCount "
                    f"{network.az_count}; give at least one per AZ",
                )
            )
        if existing.availability_zones and len(existing.availability_zones) != len(
            existing.private_subnet_ids
        ):
            problems.append(
                Problem(
                    (*base, "availabilityZones"),
                    existing.availability_zones,
                    "one AZ name per private subnet, in the same order",
                )
            )
    if network.pod_cidr is not None:
        problems.append(
            Problem(
                ("network", "podCidr"),
                network.pod_cidr,
                "cannot add a CIDR to an existing VPC; give network.existing.podSubnetIds",
            )
        )
    return problems


def api_endpoint(config: EnvironmentConfig) -> list[Problem]:
    """A public endpoint needs an allowlist, never the whole internet; prod has none."""
    cluster = config.cluster
    problems: list[Problem] = []
    path: Path = ("cluster", "endpointPublicAccess")
    if cluster.endpoint_public_access and config.profile is Profile.PROD:
        problems.append(Problem(path, True, "prod clusters have a private API endpoint only"))
    if cluster.endpoint_public_access and not cluster.public_access_cidrs:
        problems.append(
            Problem(
                ("cluster", "publicAccessCidrs"),
                [],
                "a public endpoint needs an allowlist of CIDRs (e.g. your VPN's egress range)",
            )
        )
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


def adopted_pod_subnets(config: EnvironmentConfig) -> list[Problem]:
    """Pod subnets of an adopted VPC become one ENIConfig per AZ, named after the AZ: the
    AZs must be known, one pod subnet each, in the same order."""
    existing = config.network.existing
    if existing is None:
        return []
    state = existing.terraform_state
    from_state = state is not None and state.outputs.pod_subnet_ids is not None
    pods = existing.pod_subnet_ids
    zones = existing.availability_zones
    if not (pods or from_state):
        return []
    path: Path = ("network", "existing", "availabilityZones")
    if not zones:
        return [
            Problem(
                path,
                [],
                "pod subnets need the AZ of each (in the same order): they become one VPC CNI "
                "ENIConfig per AZ, named after it",
            )
        ]
    if pods and len(pods) != len(zones):
        return [
            Problem(
                ("network", "existing", "podSubnetIds"),
                pods,
                f"one pod subnet per AZ in availabilityZones order ({len(zones)} AZs given)",
            )
        ]
    if len(set(zones)) != len(zones):
        return [Problem(path, zones, "with pod subnets, each AZ once (one subnet of each kind)")]
    return []


def prod_profile(config: EnvironmentConfig) -> list[Problem]:
    """Prod spans >= 3 AZs, protects its cluster and its stateful resources, and gives every
    key the longest deletion window."""
    if config.profile is not Profile.PROD:
        return []
    problems: list[Problem] = []
    if config.network.az_count < 3:
        problems.append(
            Problem(("network", "azCount"), config.network.az_count, "prod needs at least 3 AZs")
        )
    if not config.cluster.deletion_protection:
        problems.append(
            Problem(
                ("cluster", "deletionProtection"), False, "prod clusters keep deletion protection"
            )
        )
    if not config.protect_stateful_resources:
        problems.append(
            Problem(
                ("protectStatefulResources",),
                False,
                "prod protects and retains its stateful resources",
            )
        )
    key_windows: dict[Path, int] = {
        (
            "cluster",
            "secretsKeyDeletionWindowDays",
        ): config.cluster.secrets_key_deletion_window_days,
        ("storage", "kmsDeletionWindowDays"): config.storage.kms_deletion_window_days,
        ("registry", "kmsDeletionWindowDays"): config.registry.kms_deletion_window_days,
        ("observability", "kmsDeletionWindowDays"): config.observability.kms_deletion_window_days,
    }
    problems += [
        Problem(
            path,
            days,
            f"prod keeps the longest KMS deletion window, {PROD_KMS_DELETION_WINDOW_DAYS} days",
        )
        for path, days in key_windows.items()
        if days < PROD_KMS_DELETION_WINDOW_DAYS
    ]
    return problems


def gpu_instance_types(config: EnvironmentConfig) -> list[Problem]:
    """Every pool uses known GPU instance types from the environment's allowlist."""
    problems: list[Problem] = []
    allowed = config.gpu.allowed_instance_types
    for i, name in enumerate(allowed):
        if name not in GPU_INSTANCE_TYPES:
            problems.append(
                Problem(("gpu", "allowedInstanceTypes", i), name, _not_gpu_message(name))
            )
    for i, pool in enumerate(config.gpu.pools):
        for j, name in enumerate(pool.instance_types):
            path: Path = ("gpu", "pools", i, "instanceTypes", j)
            if name not in GPU_INSTANCE_TYPES:
                problems.append(Problem(path, name, _not_gpu_message(name)))
            elif name not in allowed:
                problems.append(
                    Problem(
                        path,
                        name,
                        f"not in the {config.profile} allowlist (gpu.allowedInstanceTypes): "
                        + ", ".join(allowed),
                    )
                )
    return problems


def gpu_budget(config: EnvironmentConfig) -> list[Problem]:
    """The pools' maximum GPUs fit the environment's GPU budget."""
    per_pool = {
        pool.name: pool.max_size * max_gpus_per_node(pool.instance_types)
        for pool in config.gpu.pools
    }
    total = sum(per_pool.values())
    if total <= config.gpu.budget_gpus:
        return []
    breakdown = ", ".join(f"{name}: {gpus}" for name, gpus in per_pool.items())
    return [
        Problem(
            ("gpu", "pools"),
            f"{total} GPUs at max size ({breakdown})",
            f"exceeds gpu.budgetGpus = {config.gpu.budget_gpus}; lower maxSize or raise the budget",
        )
    ]


def gpu_pools(config: EnvironmentConfig) -> list[Problem]:
    """Pool names are unique; prod serving pools keep an on-demand baseline."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, pool in enumerate(config.gpu.pools):
        if pool.name in seen:
            problems.append(
                Problem(("gpu", "pools", i, "name"), pool.name, "pool names must be unique")
            )
        seen.add(pool.name)
        if (
            config.profile is Profile.PROD
            and pool.workload is Workload.SERVING
            and pool.capacity_type is CapacityType.SPOT
        ):
            problems.append(
                Problem(
                    ("gpu", "pools", i, "capacityType"),
                    "spot",
                    "prod serving pools run on-demand; spot is for batch, training and notebooks",
                )
            )
    return problems


def required_tags(config: EnvironmentConfig) -> list[Problem]:
    """Required tags are present and every tag fits AWS's rules."""
    problems = [
        Problem(
            ("tags", key),
            config.tags.get(key),
            "required tag is missing or empty; required: " + ", ".join(REQUIRED_TAG_KEYS),
        )
        for key in REQUIRED_TAG_KEYS
        if not config.tags.get(key, "").strip()
    ]
    for key, value in config.tags.items():
        problems += [Problem(("tags", key), value, text) for text in tag_problems(key, value)]
    return problems


def cluster_access_and_keys(config: EnvironmentConfig) -> list[Problem]:
    """Read-only roles are namespace-scoped; prod keeps the 30-day secrets-key window;
    kube-proxy and the node AMI follow the cluster's Kubernetes minor."""
    cluster = config.cluster
    problems: list[Problem] = []
    default_version = ClusterConfig.model_fields["version"].default
    kube_proxy = cluster.addons.kube_proxy
    if kube_proxy is not None and not kube_proxy.startswith(f"v{cluster.version}."):
        problems.append(
            Problem(
                ("cluster", "addons", "kubeProxy"),
                kube_proxy,
                f"kube-proxy's minor follows the cluster's: a v{cluster.version}.x build",
            )
        )
    if cluster.version != default_version:
        pins = (
            (("cluster", "addons", "kubeProxy"), kube_proxy),
            (
                ("cluster", "systemNodes", "amiReleaseVersion"),
                cluster.system_nodes.ami_release_version,
            ),
        )
        problems += [
            Problem(
                path,
                None,
                f"the built-in pins are for Kubernetes {default_version}; pin this for "
                f"{cluster.version} too (and review every cluster.addons version)",
            )
            for path, value in pins
            if value is None
        ]
    ami = cluster.system_nodes.ami_release_version
    if ami is not None and not ami.startswith(f"{cluster.version}."):
        problems.append(
            Problem(
                ("cluster", "systemNodes", "amiReleaseVersion"),
                ami,
                f"an EKS AMI release of Kubernetes {cluster.version}",
            )
        )
    if cluster.access.read_only and not cluster.access.read_only_namespaces:
        problems.append(
            Problem(
                ("cluster", "access", "readOnlyNamespaces"),
                [],
                "read-only roles are scoped to namespaces: list at least one",
            )
        )
    return problems


def deploy_path(config: EnvironmentConfig) -> list[Problem]:
    """Every stack has a way to reach its API: the runner (with its GitHub connection and
    repository), a public allowlisted endpoint, or an alternative named explicitly."""
    runner = config.deploy_runner
    problems: list[Problem] = []
    if runner.enabled:
        if runner.connection_arn is None:
            problems.append(
                Problem(
                    ("deployRunner", "connectionArn"),
                    None,
                    "the deploy runner needs the ARN of an AWS CodeConnections connection to "
                    "GitHub; create it once (docs/operations.md, First deploy) and set it here, "
                    "or set deployRunner.enabled to false",
                )
            )
        if config.iam.ci_repository is None:
            problems.append(
                Problem(
                    ("iam", "ciRepository"),
                    None,
                    "the deploy runner takes the jobs of this GitHub repository (org/repo); "
                    "set it, or set deployRunner.enabled to false",
                )
            )
        if runner.alternative_access is not None:
            problems.append(
                Problem(
                    ("deployRunner", "alternativeAccess"),
                    runner.alternative_access,
                    "only with the runner off; remove it or set deployRunner.enabled to false",
                )
            )
        return problems
    private_only = not config.cluster.endpoint_public_access
    if config.profile is not Profile.DEV and private_only and runner.alternative_access is None:
        problems.append(
            Problem(
                ("deployRunner", "enabled"),
                False,
                f"a {config.profile} cluster has a private API endpoint only: nothing outside "
                "the VPC can run the Kubernetes phase. Keep the runner (deployRunner.enabled: "
                "true with deployRunner.connectionArn), or name the path that replaces it in "
                "deployRunner.alternativeAccess (a VPN or peered network routed into the VPC; "
                "cluster.apiIngressCidrs lists other source ranges)",
            )
        )
    return problems


def iam_settings(config: EnvironmentConfig) -> list[Problem]:
    """One permission boundary: an existing one or the platform's own, not both; a human
    role that is on names who may assume it (never the whole account)."""
    iam = config.iam
    problems: list[Problem] = []
    if iam.permission_boundary_arn and iam.create_permission_boundary:
        problems.append(
            Problem(
                ("iam", "createPermissionBoundary"),
                True,
                "set either iam.permissionBoundaryArn or iam.createPermissionBoundary, not both",
            )
        )
    for key, enabled, principals in (
        ("adminPrincipalArns", iam.platform_admin_role, iam.admin_principal_arns),
        ("readOnlyPrincipalArns", iam.read_only_role, iam.read_only_principal_arns),
    ):
        if enabled is True and not principals:
            role = "platformAdminRole" if key.startswith("admin") else "readOnlyRole"
            problems.append(
                Problem(
                    ("iam", key),
                    [],
                    f"at least one principal while iam.{role} is true (role ARNs, IAM user "
                    "ARNs or an SSO permission-set role ARN pattern); or set it to false",
                )
            )
    return problems


# --- storage, registry and model registry ------------------------------------------------------

_IA_MIN_DAYS = 30
_PROD_MIN_BACKUP_DAYS = 7


def storage(config: EnvironmentConfig) -> list[Problem]:
    """Buckets: no force-destroy where things are protected, sane lifecycle, replication
    with a destination, lock/replication only on buckets that exist; prod keeps a copy."""
    s = config.storage
    problems: list[Problem] = []
    purposes = [p.value for p in s.purposes]
    data = [p for p in purposes if p != "access-logs"]
    if len(set(purposes)) != len(purposes):
        problems.append(Problem(("storage", "purposes"), purposes, "each purpose at most once"))
    if s.force_destroy and (config.protect_stateful_resources or config.profile is Profile.PROD):
        problems.append(
            Problem(
                ("storage", "forceDestroy"),
                True,
                "never with protectStatefulResources or in prod: protected buckets are not "
                "emptied on destroy",
            )
        )
    if s.transition_storage_class.value == "STANDARD_IA" and s.transition_days < _IA_MIN_DAYS:
        problems.append(
            Problem(
                ("storage", "transitionDays"),
                s.transition_days,
                f"S3 moves objects to STANDARD_IA after at least {_IA_MIN_DAYS} days",
            )
        )
    rep = s.replication
    if rep.enabled and not rep.region:
        problems.append(
            Problem(
                ("storage", "replication", "region"),
                None,
                "required when replication is enabled: a region other than the stack's",
            )
        )
    if rep.region and rep.region == config.region:
        problems.append(
            Problem(
                ("storage", "replication", "region"),
                rep.region,
                f"must differ from the stack's region ({config.region})",
            )
        )
    for key, chosen in (
        (("storage", "replication", "purposes"), rep.purposes or []),
        (("storage", "objectLock", "purposes"), s.object_lock.purposes),
    ):
        for i, purpose in enumerate(chosen):
            if purpose.value not in data:
                problems.append(
                    Problem(
                        (*key, i),
                        purpose.value,
                        "not a data bucket of this stack (storage.purposes): " + ", ".join(data),
                    )
                )
    if config.profile is Profile.PROD and not rep.enabled and s.object_lock.mode is None:
        problems.append(
            Problem(
                ("storage", "objectLock", "mode"),
                None,
                "prod artifact buckets keep a protected copy: set objectLock.mode or enable "
                "replication (with a region)",
            )
        )
    return problems


def registry(config: EnvironmentConfig) -> list[Problem]:
    """Repository names are names ECR accepts, and unique."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, name in enumerate(config.registry.repositories):
        for invalid in repository_name_problems("", name):
            problems.append(Problem(("registry", "repositories", i), name, invalid.allowed))
        if name in seen:
            problems.append(
                Problem(("registry", "repositories", i), name, "repository names must be unique")
            )
        seen.add(name)
    return problems


def model_registry(config: EnvironmentConfig) -> list[Problem]:
    """Storage bounds agree; prod's MLflow database is multi-AZ, protected and backed up."""
    m = config.model_registry
    problems: list[Problem] = []
    if m.max_allocated_storage_gb < m.allocated_storage_gb:
        problems.append(
            Problem(
                ("modelRegistry", "maxAllocatedStorageGb"),
                m.max_allocated_storage_gb,
                f"at least allocatedStorageGb ({m.allocated_storage_gb})",
            )
        )
    if config.profile is not Profile.PROD or not m.enabled:
        return problems
    for key, value in (
        ("multiAz", m.multi_az),
        ("deletionProtection", m.deletion_protection),
        ("finalSnapshot", m.final_snapshot),
    ):
        if not value:
            problems.append(
                Problem(("modelRegistry", key), value, "prod's MLflow database keeps this on")
            )
    if m.backup_retention_days < _PROD_MIN_BACKUP_DAYS:
        problems.append(
            Problem(
                ("modelRegistry", "backupRetentionDays"),
                m.backup_retention_days,
                f"prod keeps at least {_PROD_MIN_BACKUP_DAYS} days of backups",
            )
        )
    return problems


def observability_settings(config: EnvironmentConfig) -> list[Problem]:
    """Receivers have what they need, prod pages someone, AMP names its region."""
    obs = config.observability
    problems: list[Problem] = []
    receivers = [str(r) for r in obs.receivers]
    if len(set(receivers)) != len(receivers):
        problems.append(
            Problem(("observability", "receivers"), receivers, "list each receiver type once")
        )
    if "webhook" in receivers and not obs.webhook_url:
        problems.append(
            Problem(
                ("observability", "webhookUrl"),
                None,
                "required with the webhook receiver; set it as a secret: pulumi config set "
                "--secret --path mlops:observability.webhookUrl <https-url>",
            )
        )
    if obs.webhook_url and "webhook" not in receivers:
        problems.append(
            Problem(
                ("observability", "webhookUrl"),
                "[secret]",
                "has no effect without the webhook receiver in observability.receivers",
            )
        )
    if config.profile is Profile.PROD and not receivers:
        problems.append(
            Problem(
                ("observability", "receivers"),
                [],
                "prod alerts must reach someone: add sns and/or webhook",
            )
        )
    if obs.amp.enabled and obs.amp.region is None:
        problems.append(
            Problem(
                ("observability", "amp", "region"),
                None,
                "required when amp.enabled is true: the region of the Amazon Managed "
                "Prometheus workspace, e.g. " + config.region,
            )
        )
    return problems


def gpu_sharing(config: EnvironmentConfig) -> list[Problem]:
    """Time-slicing or MIG per pool, never both; MIG only on MIG GPUs, with the operator."""
    problems: list[Problem] = []
    for i, pool in enumerate(config.gpu.pools):
        sharing = pool.sharing
        if sharing is None:
            continue
        path: Path = ("gpu", "pools", i, "sharing")
        if sharing.time_slicing is not None and sharing.mig is not None:
            problems.append(
                Problem(
                    path,
                    {"timeSlicing": "...", "mig": "..."},
                    "time-slicing and MIG cannot both be on one pool; choose one",
                )
            )
        ami = pool.ami_type or config.gpu.pool_defaults.ami_type
        if ami.bottlerocket:
            problems.append(
                Problem(
                    path,
                    "timeSlicing" if sharing.time_slicing else "mig",
                    "Bottlerocket runs its own NVIDIA device plugin, which the platform's sharing "
                    "configs do not reach; use an AL2023 NVIDIA amiType for shared GPUs",
                )
            )
        if sharing.mig is None:
            continue
        profile = sharing.mig.profile
        for name in pool.instance_types:
            gpu = GPU_INSTANCE_TYPES.get(name)
            if gpu is None:
                continue  # reported by gpu_instance_types
            if not gpu.mig_capable:
                problems.append(
                    Problem(
                        (*path, "mig", "profile"),
                        profile,
                        f"{name} ({gpu.gpu_model.value}) has no MIG; MIG needs A100, H100 or "
                        "H200 instances (p4d, p4de, p5, p5e, p5en)",
                    )
                )
            elif profile != MIG_BALANCED and profile not in MIG_PROFILES[gpu.gpu_model]:
                problems.append(
                    Problem(
                        (*path, "mig", "profile"),
                        profile,
                        f"not a MIG profile of {gpu.gpu_model.value} ({name}); allowed: "
                        + ", ".join((*MIG_PROFILES[gpu.gpu_model], MIG_BALANCED)),
                    )
                )
        if config.gpu.nvidia.mode is not NvidiaMode.GPU_OPERATOR:
            problems.append(
                Problem(
                    ("gpu", "nvidia", "mode"),
                    config.gpu.nvidia.mode.value,
                    f"pool '{pool.name}' uses MIG, which the GPU operator's MIG manager applies; "
                    "set gpu.nvidia.mode: gpu-operator",
                )
            )
    return problems


def gpu_pool_capacity(config: EnvironmentConfig) -> list[Problem]:
    """Engine, AMI, EFA and reservation settings each pool can actually be built with."""
    problems: list[Problem] = []
    for i, (pool, own) in enumerate(
        zip(config.gpu.effective_pools(), config.gpu.pools, strict=True)
    ):
        path: Path = ("gpu", "pools", i)
        release_path: Path = (
            path if own.ami_release_version or own.ami_type else ("gpu", "poolDefaults")
        )
        known = [GPU_INSTANCE_TYPES[t] for t in pool.instance_types if t in GPU_INSTANCE_TYPES]
        ami = pool.ami_type or AmiType.AL2023_X86_64_NVIDIA
        if pool.engine.value == "karpenter" and pool.min_size > 0:
            problems.append(
                Problem(
                    (*path, "minSize"),
                    pool.min_size,
                    "Karpenter launches nodes for pending pods and keeps no minimum; use 0, "
                    "or engine managed-node-group for an always-on baseline",
                )
            )
        wrong_arch = [t.name for t in known if t.architecture != ami.architecture]
        if wrong_arch:
            problems.append(
                Problem(
                    (*path, "amiType"),
                    ami.value,
                    f"{', '.join(wrong_arch)} need an AMI type for their architecture "
                    f"({'arm64: *_ARM_64_NVIDIA' if ami.architecture == 'x86_64' else 'x86_64'})",
                )
            )
        problems += _release_problems(config, pool.ami_release_version or "", ami, release_path)
        if pool.efa:
            missing = [t for t in pool.instance_types if t not in EFA_CAPABLE]
            if missing:
                problems.append(Problem((*path, "efa"), True, "no EFA on: " + ", ".join(missing)))
            if pool.engine.value != "managed-node-group":
                problems.append(
                    Problem(
                        (*path, "efa"),
                        True,
                        "EFA with a cluster placement group is built on engine managed-node-group",
                    )
                )
        if pool.capacity_reservation_id and pool.capacity_type is CapacityType.SPOT:
            problems.append(
                Problem(
                    (*path, "capacityType"),
                    "spot",
                    "a capacity reservation is on-demand capacity; use on-demand",
                )
            )
        if pool.capacity_block and not pool.capacity_reservation_id:
            problems.append(
                Problem(
                    (*path, "capacityReservationId"),
                    None,
                    "capacityBlock needs the block's reservation ID (cr-...)",
                )
            )
        if pool.capacity_block and len(pool.instance_types) != 1:
            problems.append(
                Problem(
                    (*path, "instanceTypes"),
                    pool.instance_types,
                    "a Capacity Block holds one instance type; list exactly that one",
                )
            )
    return problems


def _release_problems(
    config: EnvironmentConfig, release: str, ami: AmiType, path: Path
) -> list[Problem]:
    import re  # noqa: PLC0415

    key: Path = (*path, "amiReleaseVersion")
    al2023 = re.fullmatch(r"(\d+\.\d+)\.\d+-(\d{8})", release)
    if ami.bottlerocket:
        if al2023 or not re.fullmatch(r"\d+\.\d+\.\d+-[0-9a-f]{8}", release):
            return [
                Problem(
                    key,
                    release,
                    "a pinned Bottlerocket release '<version>-<commit>', e.g. 1.50.0-a1b2c3d4",
                )
            ]
        return []
    if al2023 is None:
        return [Problem(key, release, "a pinned AL2023 release '<kubernetes>-<YYYYMMDD>'")]
    if al2023.group(1) != config.cluster.version:
        return [
            Problem(
                key,
                release,
                f"built for Kubernetes {al2023.group(1)}, but cluster.version is "
                f"{config.cluster.version}; pin a {config.cluster.version}.x release",
            )
        ]
    return []


def cluster_autoscaler(config: EnvironmentConfig) -> list[Problem]:
    """The Cluster Autoscaler's minor version must equal the cluster's Kubernetes minor."""
    tag = config.gpu.cluster_autoscaler.image_tag
    minor = ".".join(tag.removeprefix("v").split(".")[:2])
    if minor != config.cluster.version:
        return [
            Problem(
                ("gpu", "clusterAutoscaler", "imageTag"),
                tag,
                f"the autoscaler {minor} does not match cluster.version "
                f"{config.cluster.version}; pin a v{config.cluster.version}.x image and the chart "
                "release that ships it",
            )
        ]
    return []


_NOT_TENANTS = (
    *RESERVED_NAMESPACES,
    ObservabilityArgs.__dataclass_fields__["namespace"].default,
    ModelRegistryArgs.__dataclass_fields__["namespace"].default,
)
"""Namespaces Kubernetes reserves or the platform uses: no tenant may take one."""


def tenants(config: EnvironmentConfig) -> list[Problem]:
    """Every tenant names an owner and a namespace of its own; the tenants' GPU quotas fit
    the GPU budget times the profile's overcommit factor."""
    t = config.tenants
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, team in enumerate(t.teams):
        if team.owner is None or not team.owner.strip():
            problems.append(
                Problem(
                    ("tenants", "teams", i, "owner"),
                    team.owner,
                    f"tenant {team.name!r} names no owner; every tenant names the team or "
                    "person who answers for it",
                )
            )
        if team.name in seen:
            problems.append(
                Problem(("tenants", "teams", i, "name"), team.name, "each tenant name once")
            )
        seen.add(team.name)
        if team.name in _NOT_TENANTS:
            problems.append(
                Problem(
                    ("tenants", "teams", i, "name"),
                    team.name,
                    "a namespace of its own, not one of " + ", ".join(_NOT_TENANTS),
                )
            )
    total = sum(team.gpus for team in t.teams)
    ceiling = config.gpu.budget_gpus * t.gpu_overcommit
    if total > ceiling:
        breakdown = ", ".join(f"{team.name}: {team.gpus}" for team in t.teams if team.gpus)
        problems.append(
            Problem(
                ("tenants", "teams"),
                f"{total} GPUs of quota ({breakdown})",
                f"exceeds gpu.budgetGpus ({config.gpu.budget_gpus}) x tenants.gpuOvercommit "
                f"({t.gpu_overcommit:g}) = {ceiling:g}; lower the tenants' gpus or raise "
                "tenants.gpuOvercommit explicitly",
            )
        )
    return problems


RULES: tuple[Callable[[EnvironmentConfig], list[Problem]], ...] = (
    required_tags,
    network_cidrs,
    existing_network,
    api_endpoint,
    api_ingress,
    adopted_pod_subnets,
    prod_profile,
    node_group_sizes,
    gpu_instance_types,
    gpu_budget,
    gpu_pools,
    gpu_sharing,
    gpu_pool_capacity,
    cluster_access_and_keys,
    iam_settings,
    deploy_path,
    storage,
    registry,
    model_registry,
    observability_settings,
    cluster_autoscaler,
    tenants,
)


def check(config: EnvironmentConfig) -> list[Problem]:
    """Every problem every rule finds."""
    return [problem for rule in RULES for problem in rule(config)]


def _not_gpu_message(name: str) -> str:
    families = sorted({t.family for t in GPU_INSTANCE_TYPES.values()})
    return "not a supported GPU instance type; supported families: " + ", ".join(families)


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
