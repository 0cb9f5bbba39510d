"""``ServingCluster``: a private EKS cluster with encrypted secrets, full audit logs and add-ons.

What it builds, in order:

1. a customer-managed KMS key (rotation on) for Kubernetes secrets and the control-plane logs;
2. the ``/aws/eks/<cluster>/cluster`` log group (retention, KMS) BEFORE the cluster, so EKS
   never creates an unencrypted, never-expiring one;
3. the cluster: private endpoint always, public endpoint only on request and only from an
   allowlist, authentication mode ``API`` without a bootstrap admin, all five log types;
4. access entries and access-policy associations (admins: cluster admin; read-only: view,
   scoped to namespaces), and an IAM OIDC provider for IRSA;
5. TCP 443 ingress rules on the cluster security group for the networks that run
   ``pulumi up`` and ``kubectl`` against the private endpoint (self-hosted runners, VPN);
6. a Kubernetes provider built from the cluster's outputs (``aws eks get-token``);
7. networking add-ons (vpc-cni with network-policy enforcement and, when pod subnets are
   given, custom networking; kube-proxy; eks-pod-identity-agent) and one ``ENIConfig``
   per AZ, all BEFORE compute;
8. a small on-demand AL2023 system node group through a launch template (IMDSv2 required,
   hop limit 1 so pods cannot use the node role, encrypted gp3 root volume, no key pair);
9. coredns and aws-ebs-csi-driver (with its own Pod Identity role) AFTER the node group.

IAM roles of the control plane and nodes come in as ARNs from
:class:`mlops_platform.iam.platform_iam.PlatformIam`, which is built first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..core.component import Component
from ..core.naming import NameKind, physical_name
from ..core.nodes import IMDS_HOP_LIMIT
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..core.versions import (
    COREDNS_ADDON,
    EBS_CSI_DRIVER_ADDON,
    KUBE_PROXY_ADDON,
    KUBERNETES_VERSION,
    POD_IDENTITY_AGENT_ADDON,
    SYSTEM_NODE_AMI_RELEASE,
    VPC_CNI_ADDON,
)
from ..iam import PodIdentity, WorkloadRole, policy_json
from .documents import ebs_csi_policy, key_policy, kubeconfig_json
from .kubernetes import SYSTEM_NODE_LABELS
from .validation import cluster_problems

LOG_TYPES: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
"""Every EKS control-plane log type; all are always on."""

CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

SYSTEM_AMI_TYPE = "AL2023_x86_64_STANDARD"
EBS_CSI_NAMESPACE = "kube-system"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"

ENI_CONFIG_API_VERSION = "crd.k8s.amazonaws.com/v1alpha1"
"""The ENIConfig custom resource of the VPC CNI (its CRD ships with the vpc-cni add-on)."""
ENI_CONFIG_LABEL = "topology.kubernetes.io/zone"
"""Node label whose value names a node's ENIConfig: one ENIConfig per AZ, named after it."""


class SupportType(StrEnum):
    """What EKS does at the end of a version's standard support."""

    STANDARD = "STANDARD"
    """Upgrade automatically at the end of standard support (no extended-support fee)."""
    EXTENDED = "EXTENDED"
    """Stay on the version through extended support (charged per cluster-hour)."""


@dataclass(frozen=True)
class AddonVersions:
    """Pinned EKS managed add-on versions.

    Defaults are builds published for Kubernetes 1.34; confirm or bump with
    ``aws eks describe-addon-versions --kubernetes-version 1.34 --addon-name <name>``.
    """

    vpc_cni: str = VPC_CNI_ADDON
    """vpc-cni (before compute)."""
    kube_proxy: str = KUBE_PROXY_ADDON
    """kube-proxy (before compute); its minor follows the cluster's."""
    pod_identity_agent: str = POD_IDENTITY_AGENT_ADDON
    """eks-pod-identity-agent (before compute)."""
    coredns: str = COREDNS_ADDON
    """coredns (after the system node group: it needs nodes to schedule on)."""
    ebs_csi_driver: str = EBS_CSI_DRIVER_ADDON
    """aws-ebs-csi-driver (after the system node group; own Pod Identity role)."""


@dataclass
class ServingClusterArgs:
    """Inputs of :class:`ServingCluster`."""

    name_prefix: str
    """Physical-name prefix, ``{project}-{stack}``; the cluster is ``{name_prefix}-eks``."""

    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets (two or more AZs) for the control-plane ENIs and the system nodes."""

    cluster_role_arn: pulumi.Input[str]
    """IAM role of the control plane (``PlatformIam.cluster_role_arn``)."""

    node_role_arn: pulumi.Input[str]
    """IAM role of the node instances (``PlatformIam.node_role_arn``)."""

    version: str = KUBERNETES_VERSION
    """Kubernetes version, pinned; an upgrade is a deliberate change of this value."""

    endpoint_public_access: bool = False
    """Also expose a public API endpoint (the private one is always on)."""

    public_access_cidrs: Sequence[str] = ()
    """CIDRs allowed to the public endpoint; required with it, never ``0.0.0.0/0``."""

    api_ingress_cidrs: Sequence[pulumi.Input[str]] = ()
    """Networks allowed to the private API endpoint (TCP 443 on the cluster security group):
    the VPC CIDR (in-VPC runners), VPN client pools, peered networks. Never a ``/0``; plain
    strings are validated here, Outputs (e.g. ``Network.vpc_cidr``) are taken as they are."""

    api_ingress_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups (e.g. of a self-hosted CI runner) allowed to the private API endpoint."""

    enable_network_policy: bool = True
    """Let the vpc-cni add-on enforce Kubernetes NetworkPolicies (its network-policy agent)."""

    pod_subnet_ids: Sequence[pulumi.Input[str]] = ()
    """Pod subnets, one per AZ (``Network.pod_subnet_ids``); non-empty turns on VPC CNI custom
    networking: pods take IPs from these subnets, not the node subnets."""

    availability_zones: Sequence[pulumi.Input[str]] = ()
    """The AZ of each pod subnet, index-aligned with ``pod_subnet_ids``
    (``Network.availability_zones``); each names its ENIConfig."""

    support_type: SupportType = SupportType.STANDARD
    """Upgrade policy at the end of standard support."""

    deletion_protection: bool = True
    """EKS deletion protection: the cluster cannot be deleted until this is turned off."""

    kms_deletion_window_days: int = 30
    """Waiting period (7..30 days) before the secrets key is deleted."""

    log_retention_days: int = 365
    """Retention of the control-plane log group (a CloudWatch-accepted value)."""

    admin_roles: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Label -> IAM role ARN mapped to AmazonEKSClusterAdminPolicy (cluster scope).

    The label names the access entry's logical resource, so reordering never replaces one."""

    read_only_roles: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Label -> IAM role ARN mapped to AmazonEKSViewPolicy on ``read_only_namespaces``."""

    read_only_namespaces: Sequence[str] = ()
    """Namespaces the read-only roles may view; required when there are read-only roles."""

    addon_versions: AddonVersions = field(default_factory=AddonVersions)
    """Pinned add-on versions."""

    system_node_instance_type: str = "m7i.large"
    """Instance type of the system node group (x86_64)."""

    system_node_min_size: int = 2
    """Fewest system nodes."""

    system_node_desired_size: int = 2
    """System nodes at creation (then the autoscaler's; changes are ignored)."""

    system_node_max_size: int = 3
    """Most system nodes."""

    system_node_max_unavailable: int = 1
    """Nodes replaced at once during a node group update."""

    system_node_disk_gib: int = 50
    """Size of the encrypted gp3 root volume."""

    system_node_ami_release_version: str | None = SYSTEM_NODE_AMI_RELEASE
    """Pinned EKS AL2023 AMI release (``<k8s>-<yyyymmdd>``); ``None`` takes the newest at create."""

    ebs_kms_key_arn: pulumi.Input[str] | None = None
    """CMK for the node root volumes; ``None`` uses the account's default EBS key."""

    permission_boundary_arn: pulumi.Input[str | None] | None = None
    """Boundary attached to the roles this component creates (the EBS CSI role)."""

    protect: bool = False
    """Protect and retain the KMS key and the log group."""

    kubernetes_resources: bool = True
    """Register the Kubernetes provider and the Kubernetes objects (ENIConfigs). ``False``
    for phase 1 of a first deploy: nothing then needs the Kubernetes API. With pod subnets,
    VPC CNI custom networking is turned on in the Kubernetes phase, when the ENIConfigs exist
    (nodes started before keep taking pod IPs from their own subnet until replaced)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags merged into every taggable child."""


class ServingCluster(Component, legacy_module="serving_cluster"):
    """A private, encrypted, fully logged EKS cluster with its system nodes and add-ons."""

    cluster_name: pulumi.Output[str]
    """The EKS cluster's name."""

    cluster_arn: pulumi.Output[str]
    """The EKS cluster's ARN."""

    endpoint: pulumi.Output[str]
    """The API server endpoint."""

    certificate_authority: pulumi.Output[str]
    """Base64 CA bundle of the API server."""

    oidc_provider_arn: pulumi.Output[str]
    """ARN of the cluster's IAM OIDC provider (for IRSA trusts)."""

    oidc_issuer_url: pulumi.Output[str]
    """The cluster's OIDC issuer URL (``https://oidc.eks...``)."""

    cluster_security_group_id: pulumi.Output[str]
    """The EKS-created cluster security group (control plane <-> nodes)."""

    node_role_arn: pulumi.Output[str]
    """The node role (passed through for node pools and access entries)."""

    kms_key_arn: pulumi.Output[str]
    """The CMK that encrypts secrets and the control-plane logs."""

    kubeconfig: pulumi.Output[str]
    """Kubeconfig using ``aws eks get-token`` (a secret)."""

    def __init__(
        self, name: str, args: ServingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, self.validate)
        super().__init__(name, opts)
        child, stateful = self.child(), self.stateful(args.protect)
        account, partition, region = self.aws.account, self.aws.partition, self.aws.region

        cluster_name = physical_name(
            "eks", NameKind.EKS_CLUSTER, args.name_prefix, owner=self.owner
        )
        log_group_name = f"/aws/eks/{cluster_name}/cluster"
        log_group_arn = self.aws.arn("logs", f"log-group:{log_group_name}")

        # 1. The CMK for secrets and logs.
        self.key = self.customer_key(
            f"{name}-secrets-key",
            alias="eks-secrets",
            name_prefix=args.name_prefix,
            description=f"EKS secrets and control-plane logs of {cluster_name}",
            deletion_window_days=args.kms_deletion_window_days,
            policy=policy_json(
                key_policy(partition, account, region, args.cluster_role_arn, log_group_arn)
            ),
            tags=merge_tags(args.tags, {"role": "eks-secrets"}),
            protect=args.protect,
        )

        # 2. The log group, before the cluster.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=self.key.arn,
            tags=merge_tags(args.tags, {"role": "eks-control-plane-logs"}),
            opts=stateful,
        )

        # 3. The cluster.
        vpc_config = aws.eks.ClusterVpcConfigArgs(
            subnet_ids=args.subnet_ids,
            endpoint_private_access=True,
            endpoint_public_access=args.endpoint_public_access,
            public_access_cidrs=list(args.public_access_cidrs)
            if args.endpoint_public_access
            else None,
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            version=args.version,
            role_arn=args.cluster_role_arn,
            vpc_config=vpc_config,
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=self.key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(LOG_TYPES),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=args.support_type.value),
            deletion_protection=args.deletion_protection,
            # Managed add-ons below replace the self-managed defaults.
            bootstrap_self_managed_addons=False,
            tags=merge_tags(args.tags, {"role": "serving-cluster"}),
            opts=self.child(depends_on=[self.log_group]),
        )

        # 4. Access entries and IRSA.
        self.access_entries: list[aws.eks.AccessEntry] = []
        for label, arn in args.admin_roles.items():
            self._access(name, f"admin-{label}", arn, CLUSTER_ADMIN_POLICY, args=args)
        for label, arn in args.read_only_roles.items():
            self._access(
                name,
                f"read-only-{label}",
                arn,
                VIEW_POLICY,
                args=args,
                namespaces=list(args.read_only_namespaces),
            )

        issuer = self.cluster.identities.apply(_issuer)
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            # No thumbprint_lists: IAM verifies EKS issuers against its own trusted root
            # CAs; pulumi-aws 7 leaves thumbprints optional.
            tags=merge_tags(args.tags, {"role": "eks-oidc"}),
            opts=child,
        )

        cluster_sg = self.cluster.vpc_config.apply(lambda vpc: vpc.cluster_security_group_id or "")

        # 5. Who reaches the private endpoint: the networks pulumi up and kubectl run from.
        self.api_ingress_rules: list[aws.vpc.SecurityGroupIngressRule] = [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-{key}",
                security_group_id=cluster_sg,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                referenced_security_group_id=source_sg,
                description=pulumi.Output.concat("EKS private API endpoint from ", source),
                tags=merge_tags(args.tags, {"role": "eks-api-ingress"}),
                opts=child,
            )
            for key, source, cidr, source_sg in _api_sources(args)
        ]
        """TCP 443 rules on the cluster security group, one per CIDR or security group."""

        # 6. Kubeconfig and the Kubernetes provider (the ENIConfigs below need it).
        self._k8s_provider = self._kubernetes_provider(name, region, args.kubernetes_resources)
        custom_networking = bool(args.pod_subnet_ids) and args.kubernetes_resources

        # 7. Networking add-ons and the per-AZ ENIConfigs before compute.
        versions = args.addon_versions
        self.addons: dict[str, aws.eks.Addon] = {}
        """The managed add-ons by add-on name."""
        vpc_cni = self._addon(
            name,
            "vpc-cni",
            versions.vpc_cni,
            args,
            [],
            configuration_values=vpc_cni_configuration(
                enable_network_policy=args.enable_network_policy,
                custom_networking=custom_networking,
            ),
        )
        pod_identity_agent = self._addon(
            name, "eks-pod-identity-agent", versions.pod_identity_agent, args, []
        )
        self.eni_configs = self._eni_configs(name, args, cluster_sg, vpc_cni)
        """One ENIConfig per AZ (custom networking); every node starts after them."""
        before_compute: list[pulumi.Resource] = [
            vpc_cni,
            self._addon(name, "kube-proxy", versions.kube_proxy, args, []),
            pod_identity_agent,
            *self.eni_configs,
        ]

        # 8. The system node group.
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-system-nodes",
            name=physical_name(
                "system-nodes", NameKind.LAUNCH_TEMPLATE, args.name_prefix, owner=self.owner
            ),
            description=f"System nodes of {cluster_name}",
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=IMDS_HOP_LIMIT,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.system_node_disk_gib,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=args.ebs_kms_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind,
                    tags=merge_tags(args.tags, {"role": "system-node"}),
                )
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=merge_tags(args.tags, {"role": "system-nodes"}),
            opts=child,
        )
        self.node_group = aws.eks.NodeGroup(
            f"{name}-system",
            cluster_name=self.cluster.name,
            node_group_name=physical_name("system", NameKind.EKS_NODE_GROUP, args.name_prefix),
            version=self.cluster.version,
            release_version=args.system_node_ami_release_version,
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            ami_type=SYSTEM_AMI_TYPE,
            capacity_type="ON_DEMAND",
            instance_types=[args.system_node_instance_type],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.system_node_min_size,
                desired_size=args.system_node_desired_size,
                max_size=args.system_node_max_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(
                max_unavailable=args.system_node_max_unavailable
            ),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id,
                version=self.launch_template.latest_version.apply(str),
            ),
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            labels=dict(SYSTEM_NODE_LABELS),
            tags=merge_tags(args.tags, {"role": "system-nodes"}),
            opts=self.child(
                depends_on=before_compute, ignore_changes=["scalingConfig.desiredSize"]
            ),
        )

        # 9. Add-ons that need nodes; the EBS CSI driver with its own Pod Identity role.
        roles = PodIdentity(
            self,
            args.name_prefix,
            self.cluster.name,
            self.cluster.arn,
            args.permission_boundary_arn,
        )
        self.ebs_csi_role: WorkloadRole = roles.role(
            f"{name}-ebs-csi",
            role="ebs-csi-driver",
            namespace=EBS_CSI_NAMESPACE,
            service_account=EBS_CSI_SERVICE_ACCOUNT,
            policy=ebs_csi_policy(partition, region, account),
            tags=args.tags,
            depends_on=[pod_identity_agent],
        )
        after_compute = [
            self._addon(name, "coredns", versions.coredns, args, [self.node_group]),
            self._addon(
                name,
                "aws-ebs-csi-driver",
                versions.ebs_csi_driver,
                args,
                [self.node_group, self.ebs_csi_role.ready],
            ),
        ]
        self.ready: list[pulumi.Resource] = [
            self.node_group,
            *after_compute,
            *self.eni_configs,
            *self.api_ingress_rules,
        ]
        """Depend on these before deploying workloads or other nodes (nodes, DNS, storage,
        pod-subnet ENIConfigs and API reachability are in place)."""

        self.publish(
            cluster_name=self.cluster.name,
            cluster_arn=self.cluster.arn,
            endpoint=self.cluster.endpoint,
            certificate_authority=self.cluster.certificate_authority.apply(
                lambda ca: ca.data or ""
            ),
            oidc_provider_arn=self.oidc_provider.arn,
            oidc_issuer_url=issuer,
            cluster_security_group_id=cluster_sg,
            node_role_arn=pulumi.Output.from_input(args.node_role_arn),
            kms_key_arn=self.key.arn,
            kubeconfig=self.kubeconfig,
        )

    # --- validation ------------------------------------------------------------------------

    @staticmethod
    def validate(args: ServingClusterArgs) -> list[Invalid]:
        """Every problem with ``args``, each naming the argument."""
        return cluster_problems(args)

    # --- children --------------------------------------------------------------------------

    def _access(
        self,
        name: str,
        key: str,
        principal_arn: pulumi.Input[str],
        policy_arn: str,
        *,
        args: ServingClusterArgs,
        namespaces: list[str] | None = None,
    ) -> None:
        entry = aws.eks.AccessEntry(
            f"{name}-access-{key}",
            cluster_name=self.cluster.name,
            principal_arn=principal_arn,
            type="STANDARD",
            tags=merge_tags(args.tags, {"role": f"access-{key}"}),
            opts=self.child(),
        )
        aws.eks.AccessPolicyAssociation(
            f"{name}-access-{key}",
            cluster_name=self.cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=policy_arn,
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                type="namespace" if namespaces else "cluster",
                namespaces=namespaces,
            ),
            opts=self.child(depends_on=[entry]),
        )
        self.access_entries.append(entry)

    @property
    def kubernetes_provider(self) -> k8s.Provider:
        """Kubernetes provider for this cluster; pass it to every Kubernetes resource."""
        if self._k8s_provider is None:
            raise AttributeError(
                "this ServingCluster was built with kubernetes_resources=False (phase 1): it "
                "has no Kubernetes provider"
            )
        return self._k8s_provider

    def _kubernetes_provider(
        self, name: str, region: pulumi.Input[str], create: bool
    ) -> k8s.Provider | None:
        """Sets ``self.kubeconfig`` (exec-based, a secret) and returns a provider using it."""
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name,
                self.cluster.endpoint,
                self.cluster.certificate_authority.apply(lambda ca: ca.data or ""),
                region,
            ).apply(lambda parts: kubeconfig_json(*parts))
        )
        if not create:
            return None
        return k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=self.child(),
        )

    def _eni_configs(
        self,
        name: str,
        args: ServingClusterArgs,
        security_group_id: pulumi.Input[str],
        vpc_cni: aws.eks.Addon,
    ) -> list[k8s.apiextensions.CustomResource]:
        """One ``ENIConfig`` per AZ, named after it: the pod subnet there, the cluster SG."""
        if not args.pod_subnet_ids or not args.kubernetes_resources:
            return []
        pairs = zip(args.availability_zones, args.pod_subnet_ids, strict=True)
        return [
            k8s.apiextensions.CustomResource(
                f"{name}-eni-config-{i + 1}",
                api_version=ENI_CONFIG_API_VERSION,
                kind="ENIConfig",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=zone, labels={"app.kubernetes.io/managed-by": "pulumi"}
                ),
                spec={"subnet": subnet, "securityGroups": [security_group_id]},
                # The ENIConfig CRD ships with the vpc-cni add-on; the API must be reachable.
                opts=self.child(
                    provider=self.kubernetes_provider,
                    depends_on=[vpc_cni, *self.api_ingress_rules],
                ),
            )
            for i, (zone, subnet) in enumerate(pairs)
        ]

    def _addon(
        self,
        name: str,
        addon: str,
        version: str,
        args: ServingClusterArgs,
        depends_on: list[pulumi.Resource],
        *,
        configuration_values: str | None = None,
    ) -> aws.eks.Addon:
        self.addons[addon] = aws.eks.Addon(
            f"{name}-addon-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            addon_version=version,
            configuration_values=configuration_values,
            # The add-on's configuration is owned here: overwrite drift on create and update.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=merge_tags(args.tags, {"role": f"addon-{addon}"}),
            opts=self.child(depends_on=depends_on),
        )
        return self.addons[addon]


_Source = tuple[str, pulumi.Input[str], pulumi.Input[str] | None, pulumi.Input[str] | None]


def _api_sources(args: ServingClusterArgs) -> list[_Source]:
    """(logical-name key, source, CIDR, security group) of each API ingress source.

    Plain values name their rule (``cidr-10-0-0-0-16``, ``sg-0abc...``), so adding or
    reordering sources never replaces an existing rule; Outputs are named by position.
    """
    sources: list[_Source] = []
    for i, cidr in enumerate(args.api_ingress_cidrs):
        key = "cidr-" + re.sub("[./]", "-", cidr) if isinstance(cidr, str) else f"cidr-{i + 1}"
        sources.append((key, cidr, cidr, None))
    for i, group in enumerate(args.api_ingress_security_group_ids):
        key = group if isinstance(group, str) else f"sg-{i + 1}"
        sources.append((key, group, None, group))
    return sources


def vpc_cni_configuration(*, enable_network_policy: bool, custom_networking: bool) -> str | None:
    """The vpc-cni add-on's configuration values as JSON (``None``: the add-on's defaults).

    ``enableNetworkPolicy`` starts the network-policy agent that enforces NetworkPolicies;
    custom networking makes ipamd take pod IPs from the ENIConfig of the node's zone
    (``topology.kubernetes.io/zone``), i.e. from the pod subnets, not the node subnet.
    The add-on's schema takes both as strings.
    """
    values: dict[str, Any] = {}
    if enable_network_policy:
        values["enableNetworkPolicy"] = "true"
    if custom_networking:
        values["env"] = {
            "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
            "ENI_CONFIG_LABEL_DEF": ENI_CONFIG_LABEL,
        }
    return json.dumps(values, sort_keys=True) if values else None


def access_label(role_arn: str) -> str:
    """A stable access-entry label from a role ARN: its name, lowercased, at most 32 characters.

    ``arn:aws:iam::111122223333:role/aws-reserved/sso/AWSReservedSSO_Admin_0a1b`` ->
    ``awsreservedsso-admin-0a1b``.
    """
    role_name = role_arn.rsplit("/", 1)[-1].lower()
    text = re.sub("[^a-z0-9]+", "-", role_name).strip("-")
    return text[:32].strip("-") or "role"


def _issuer(identities: Sequence[Any]) -> str:
    oidcs = identities[0].oidcs if identities else None
    return (oidcs[0].issuer or "") if oidcs else ""
