"""``MlopsPlatform``: one complete environment, composed from the validated stack config.

This is the one module that knows both the stack-config layer (:mod:`mlops_platform.config`) and
the components: it maps an :class:`EnvironmentConfig` onto each component's typed args, in
dependency order:

    aws Provider -> PlatformIam -> Network -> ServingCluster
      -> LoadBalancerController (before any LoadBalancer Service: its webhook admits them)
      -> Observability (needs the cluster; owns the Prometheus operator CRDs) -> Keda
      -> Karpenter (when a pool uses it) / Cluster Autoscaler (when a managed node group pool
         does) -> GpuNodePool per pool -> NvidiaSoftware
      -> ArtifactStore -> ContainerRegistry -> ModelRegistry (MLflow)
      -> Tenant per team (namespace, quota, network policies, workload role, access)

Every AWS child uses the environment's provider (first tag layer: ``default_tags``); every
component also receives the merged ``tags`` (second layer). Kubernetes children use the
cluster's provider and wait for the cluster to be ready (system nodes and add-ons).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_aws as aws

from .cluster.serving_cluster import (
    AddonVersions,
    ServingCluster,
    ServingClusterArgs,
    access_label,
)
from .config import EnvironmentConfig, planned_subnets
from .config.component_errors import reported_as_config_errors
from .config.loader import ConfigError
from .config.model import DeployPhase, GpuPoolConfig, KarpenterDisruptionConfig, NetworkConfig
from .config.rules import Problem
from .core.naming import NameKind, physical_name
from .core.tagging import platform_tags
from .core.tokens import component_options, component_token
from .deploy import CallerKind, DeployerIdentity, DeployRunner, DeployRunnerArgs, resolve_deployer
from .deploy.identity import same_role
from .gpu.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs, Expander
from .gpu.karpenter import Karpenter, KarpenterArgs
from .gpu.node_pool import (
    DisruptionBudget,
    GpuNodePool,
    GpuNodePoolArgs,
    KarpenterDisruption,
)
from .gpu.nvidia import GpuSharing, NvidiaMode, NvidiaSoftware, NvidiaSoftwareArgs
from .iam import PlatformIam, PlatformIamArgs, ServiceLinkedRoleMode, spot_service_linked_role
from .network.network import (
    ExistingNetworkArgs,
    Network,
    NetworkArgs,
    TerraformStateArgs,
)
from .observability.alert_rules import AlertThresholds
from .observability.observability import DEFAULT_RUNBOOK_BASE_URL, Observability, ObservabilityArgs
from .serving.keda import Keda, KedaArgs
from .serving.load_balancer_controller import CHART_VERSION as LBC_CHART_VERSION
from .serving.load_balancer_controller import (
    LoadBalancerController,
    LoadBalancerControllerArgs,
)
from .serving.tenant import Tenant, TenantArgs
from .storage.artifact_store import (
    ArtifactStore,
    ArtifactStoreArgs,
)
from .storage.container_registry import ContainerRegistry, ContainerRegistryArgs
from .storage.model_registry import (
    DEFAULT_CHART_VERSION,
    DEFAULT_ENGINE_VERSION,
    ModelRegistry,
    ModelRegistryArgs,
)


@dataclasses.dataclass
class MlopsPlatformArgs:
    """Inputs of :class:`MlopsPlatform`: the environment's configuration and how to name it."""

    config: EnvironmentConfig
    """The validated environment (``mlops_platform.config.load_environment()`` reads it from
    the stack's ``mlops:`` config; :func:`mlops_platform.config.environment_from_config` builds
    it from a dict)."""

    name_prefix: str | None = None
    """Prefix of every physical name; default ``{project}-{stack}``. Two platforms in one
    account (or one stack) need different prefixes."""

    project: str | None = None
    """Project name in the ``project`` tag; default the running Pulumi project."""

    stack: str | None = None
    """Stack name in the ``stack`` tag; default the running Pulumi stack."""


@dataclasses.dataclass(frozen=True)
class _Context:
    """What every part of the platform is built with."""

    prefix: str
    tags: dict[str, str]
    protect: bool
    boundary: pulumi.Output[str] | None
    aws_opts: pulumi.ResourceOptions
    k8s_opts: pulumi.ResourceOptions


class MlopsPlatform(pulumi.ComponentResource):
    """A whole MLOps environment built from one validated :class:`EnvironmentConfig`."""

    region: pulumi.Output[str]
    """The AWS region the environment lives in."""

    tags: pulumi.Output[dict[str, str]]
    """The tags every resource of the environment carries."""

    @reported_as_config_errors
    def __init__(
        self,
        name: str,
        args: MlopsPlatformArgs | EnvironmentConfig | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        config: EnvironmentConfig | None = None,
    ) -> None:
        """``MlopsPlatform(name, MlopsPlatformArgs(config=...))``; ``MlopsPlatform(name,
        config)`` and ``MlopsPlatform(name, config=config)`` keep working."""
        if isinstance(args, EnvironmentConfig) or args is None:
            chosen = args if args is not None else config
            if chosen is None:
                raise TypeError("MlopsPlatform needs args=MlopsPlatformArgs(config=...)")
            args = MlopsPlatformArgs(config=chosen)
        config = args.config
        project = args.project or pulumi.get_project()
        stack = args.stack or pulumi.get_stack()
        super().__init__(
            component_token("MlopsPlatform"),
            name,
            None,
            component_options("platform", "MlopsPlatform", opts),
        )
        self.config = config
        prefix = args.name_prefix or f"{project}-{stack}"
        tags = platform_tags(project, stack, config.profile.value, config.tags)
        protect = config.protect_stateful_resources

        self.provider = aws.Provider(
            f"{name}-aws",
            region=config.region,
            allowed_account_ids=config.allowed_account_ids,
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws_opts = pulumi.ResourceOptions(parent=self, providers=[self.provider])

        # --- identity first: every role below takes the permission boundary ---------------
        ic = config.iam
        self.iam = PlatformIam(
            f"{name}-iam",
            PlatformIamArgs(
                name_prefix=prefix,
                ci_repository=ic.ci_repository,
                ci_environment=ic.ci_environment,
                github_oidc_provider_arn=ic.github_oidc_provider_arn,
                permission_boundary_arn=ic.permission_boundary_arn,
                create_permission_boundary=ic.create_permission_boundary,
                platform_admin_role=_wanted(ic.platform_admin_role, ic.admin_principal_arns),
                admin_principal_arns=ic.admin_principal_arns,
                read_only_role=_wanted(ic.read_only_role, ic.read_only_principal_arns),
                read_only_principal_arns=ic.read_only_principal_arns,
                state_bucket=ic.state_bucket,
                secrets_kms_key_alias=ic.secrets_key_alias,
                tags=tags,
            ),
            opts=aws_opts,
        )
        # Whether roles get a boundary is known from config; the ARN itself may be computed.
        boundary: pulumi.Output[str] | None = None
        if ic.permission_boundary_arn or ic.create_permission_boundary:
            boundary = self.iam.permission_boundary_arn.apply(_present)

        # Kubernetes options exist once the cluster does; until then they are the AWS ones.
        ctx = _Context(prefix, tags, protect, boundary, aws_opts, k8s_opts=aws_opts)
        self._build_network(name, config, ctx)
        self._build_runner(name, config, ctx)
        k8s_opts = self._build_cluster(name, config, ctx)
        ctx = dataclasses.replace(ctx, k8s_opts=k8s_opts)
        # Phase 1 (``mlops:phase: infrastructure``) stops at what needs no Kubernetes API.
        self.observability: Observability | None = None
        self.karpenter: Karpenter | None = None
        self.cluster_autoscaler: ClusterAutoscaler | None = None
        self.nvidia: NvidiaSoftware | None = None
        self.gpu_pools: dict[str, GpuNodePool] = {}
        self.model_registry: ModelRegistry | None = None
        self.load_balancer_controller: LoadBalancerController | None = None
        self.tenants: dict[str, Tenant] = {}
        self.keda: Keda | None = None
        kubernetes = config.phase is DeployPhase.ALL
        pools = config.gpu.effective_pools()
        if kubernetes:
            self._build_load_balancing(name, config, ctx)  # before any LoadBalancer Service
            self._build_observability(name, config, ctx, pools)
            # KEDA scales model endpoints on their Prometheus metrics (and needs the operator
            # CRDs for its own ServiceMonitors): after the cluster and the observability stack.
            self.keda = Keda(
                f"{name}-keda",
                KedaArgs(kubernetes_provider=self.cluster.kubernetes_provider),
                opts=pulumi.ResourceOptions.merge(
                    k8s_opts,
                    pulumi.ResourceOptions(
                        depends_on=[o for o in (self.observability,) if o is not None]
                    ),
                ),
            )
            self._build_gpu(name, config, ctx, pools)
        self._build_data(name, config, ctx, kubernetes=kubernetes)
        if kubernetes:
            self._build_tenants(name, config, ctx)  # after the cluster and the artifact store

        self.region = pulumi.Output.from_input(config.region)
        self.tags = pulumi.Output.from_input(tags)
        self.register_outputs(
            {
                "region": self.region,
                "tags": self.tags,
                "clusterName": self.cluster.cluster_name,
                "vpcId": self.network.vpc_id,
                "tenantNamespaces": {t: tenant.namespace for t, tenant in self.tenants.items()},
            }
        )

    def _load_balancer_dependencies(self) -> list[pulumi.Resource]:
        """What a Service of type LoadBalancer waits for: the controller that serves it."""
        lbc = self.load_balancer_controller
        return [lbc.release] if lbc is not None else []

    def _build_load_balancing(self, name: str, config: EnvironmentConfig, ctx: _Context) -> None:
        """The AWS Load Balancer Controller (internal load balancers for Services/Ingresses)."""
        lbc = config.load_balancer_controller
        self.load_balancer_controller = LoadBalancerController(
            f"{name}-lb-controller",
            LoadBalancerControllerArgs(
                cluster_name=self.cluster.cluster_name,
                cluster_arn=self.cluster.cluster_arn,
                vpc_id=self.network.vpc_id,
                kubernetes_provider=self.cluster.kubernetes_provider,
                name_prefix=ctx.prefix,
                chart_version=lbc.chart_version or LBC_CHART_VERSION,
                replicas=lbc.replicas,
                permission_boundary_arn=ctx.boundary,
                tags=ctx.tags,
            ),
            opts=ctx.k8s_opts,
        )

    def _build_tenants(self, name: str, config: EnvironmentConfig, ctx: _Context) -> None:
        """One Tenant per team in ``tenants.teams``."""
        t, vpc_cidr = config.tenants, _vpc_cidr(config.network, self.network)
        defaults = t.quota_defaults
        for team in t.teams:
            args = TenantArgs(
                team=team.name,
                owner=team.owner or "",
                name_prefix=ctx.prefix,
                cluster_name=self.cluster.cluster_name,
                cluster_arn=self.cluster.cluster_arn,
                kubernetes_provider=self.cluster.kubernetes_provider,
                gpus=team.gpus,
                cpu=team.cpu or defaults.cpu,
                memory=team.memory or defaults.memory,
                pods=team.pods or defaults.pods,
                load_balancers=(
                    defaults.load_balancers if team.load_balancers is None else team.load_balancers
                ),
                artifact_bucket_arns=self.artifacts.bucket_arns,
                artifact_kms_key_arn=self.artifacts.kms_key_arn,
                access_role_arns=list(team.access_role_arns),
                load_balancer_cidrs=[vpc_cidr],
                permission_boundary_arn=ctx.boundary,
                tags=ctx.tags,
            )
            if team.https_egress_cidrs is not None:
                args = dataclasses.replace(args, https_egress_cidrs=list(team.https_egress_cidrs))
            self.tenants[team.name] = Tenant(f"{name}-tenant-{team.name}", args, opts=ctx.k8s_opts)

    def _build_network(self, name: str, config: EnvironmentConfig, ctx: _Context) -> None:
        """VPC, subnets, NAT, endpoints and flow logs (or an adopted VPC)."""
        prefix, tags, protect, boundary = ctx.prefix, ctx.tags, ctx.protect, ctx.boundary
        aws_opts = ctx.aws_opts
        cluster_name = physical_name("eks", NameKind.EKS_CLUSTER, prefix)
        net = config.network
        private, public = planned_subnets(net)
        self.network = Network(
            f"{name}-network",
            NetworkArgs(
                name_prefix=prefix,
                cluster_name=cluster_name,
                az_count=net.az_count,
                vpc_cidr=net.vpc_cidr,
                private_subnet_cidrs=private,
                public_subnet_cidrs=public,
                nat_strategy=net.nat_gateways,
                interface_endpoints=[s.value for s in net.interface_endpoints],
                pod_cidr=net.pod_cidr,
                flow_log_retention_days=config.log_retention_days,
                permissions_boundary=boundary,
                protect=protect,
                tags=tags,
                existing=_existing_network(net),
            ),
            opts=aws_opts,
        )

    def _build_runner(self, name: str, config: EnvironmentConfig, ctx: _Context) -> None:
        """The in-VPC deploy runner (phase 1), when enabled."""
        runner = config.deploy_runner
        self.deploy_runner: DeployRunner | None = None
        if not runner.enabled:
            return
        # the deploy_path config rule guarantees both when the runner is enabled
        assert runner.connection_arn is not None and config.iam.ci_repository is not None
        self.deploy_runner = DeployRunner(
            f"{name}-deploy-runner",
            DeployRunnerArgs(
                name_prefix=ctx.prefix,
                vpc_id=self.network.vpc_id,
                subnet_ids=self.network.private_subnet_ids,
                repository_url=f"https://github.com/{config.iam.ci_repository}",
                connection_arn=runner.connection_arn,
                image=runner.image,
                compute_type=runner.compute_type,
                concurrent_build_limit=runner.concurrent_build_limit,
                build_timeout_minutes=runner.build_timeout_minutes,
                log_retention_days=config.log_retention_days,
                permission_boundary_arn=ctx.boundary,
                protect=ctx.protect,
                tags=ctx.tags,
            ),
            opts=ctx.aws_opts,
        )

    def _deployer_admins(self, config: EnvironmentConfig, prefix: str) -> dict[str, str]:
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
                pulumi.log.warn(_no_deployer_role(deployer).message, self)
            return {}
        role_arn = deployer.role_arn
        stack_roles = {
            physical_name(role, NameKind.IAM_ROLE, prefix)
            for role in ("platform-admin", "ci-deploy")
        }
        if deployer.role_name in stack_roles or any(same_role(role_arn, a) for a in access.admins):
            return {}
        if any(same_role(role_arn, r) for r in access.read_only):
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

    def _build_cluster(
        self, name: str, config: EnvironmentConfig, ctx: _Context
    ) -> pulumi.ResourceOptions:
        """The EKS cluster; returns the options Kubernetes children use."""
        prefix, tags, protect, boundary = ctx.prefix, ctx.tags, ctx.protect, ctx.boundary
        aws_opts = ctx.aws_opts
        c, nodes = config.cluster, config.cluster.system_nodes
        admins: dict[str, pulumi.Input[str]] = {}
        if self.iam.platform_admin_role is not None:
            admins["platform-admin"] = self.iam.platform_admin_role.arn
        if self.iam.ci_role is not None:
            admins["ci-deploy"] = self.iam.ci_role.arn
        admins |= {access_label(arn): arn for arn in c.access.admins}
        admins |= self._deployer_admins(config, prefix)
        readers: dict[str, pulumi.Input[str]] = {}
        if c.access.read_only_namespaces:
            if self.iam.read_only_role is not None:
                readers["read-only"] = self.iam.read_only_role.arn
            readers |= {access_label(arn): arn for arn in c.access.read_only}
        pod_subnet_ids, pod_zones = _pod_subnets(config.network, self.network)
        cluster_args = ServingClusterArgs(
            name_prefix=prefix,
            subnet_ids=self.network.private_subnet_ids,
            cluster_role_arn=self.iam.cluster_role_arn,
            node_role_arn=self.iam.node_role_arn,
            version=c.version,
            endpoint_public_access=c.endpoint_public_access,
            public_access_cidrs=c.public_access_cidrs,
            support_type=c.support_type,
            deletion_protection=c.deletion_protection,
            kms_deletion_window_days=c.secrets_key_deletion_window_days,
            log_retention_days=config.log_retention_days,
            admin_roles=admins,
            read_only_roles=readers,
            read_only_namespaces=c.access.read_only_namespaces,
            addon_versions=AddonVersions(**{k: v for k, v in c.addons.model_dump().items() if v}),
            system_node_instance_type=nodes.instance_type,
            system_node_min_size=nodes.min_size,
            system_node_desired_size=nodes.desired_size,
            system_node_max_size=nodes.max_size,
            system_node_disk_gib=nodes.disk_size_gib,
            api_ingress_cidrs=_api_ingress_cidrs(config.network, c.api_ingress_cidrs, self.network),
            api_ingress_security_group_ids=[
                *c.api_ingress_security_group_ids,
                *([self.deploy_runner.security_group_id] if self.deploy_runner else []),
            ],
            pod_subnet_ids=pod_subnet_ids,
            availability_zones=pod_zones,
            permission_boundary_arn=boundary,
            protect=protect,
            kubernetes_resources=config.phase is DeployPhase.ALL,
            tags=tags,
        )
        if nodes.ami_release_version:  # otherwise the component's pinned default
            cluster_args = dataclasses.replace(
                cluster_args, system_node_ami_release_version=nodes.ami_release_version
            )
        self.cluster = ServingCluster(f"{name}-cluster", cluster_args, opts=aws_opts)
        if config.phase is not DeployPhase.ALL:
            return aws_opts  # phase 1: no Kubernetes provider exists
        return pulumi.ResourceOptions(
            parent=self,
            providers=[self.provider, self.cluster.kubernetes_provider],
            depends_on=self.cluster.ready,
        )

    def _build_observability(
        self, name: str, config: EnvironmentConfig, ctx: _Context, pools: list[GpuPoolConfig]
    ) -> None:
        """Metrics, dashboards, alerts and log groups (installs the Prometheus operator CRDs)."""
        prefix, tags, protect, boundary = ctx.prefix, ctx.tags, ctx.protect, ctx.boundary
        k8s_opts = ctx.k8s_opts
        cluster = self.cluster
        obs = config.observability
        self.observability = Observability(
            f"{name}-observability",
            ObservabilityArgs(
                name_prefix=prefix,
                kubernetes_provider=cluster.kubernetes_provider,
                cluster_name=cluster.cluster_name,
                cluster_arn=cluster.cluster_arn,
                permission_boundary_arn=boundary,
                receivers=[r.value for r in obs.receivers],
                webhook_url=pulumi.Output.secret(obs.webhook_url) if obs.webhook_url else None,
                thresholds=AlertThresholds(**obs.thresholds.model_dump()),
                prometheus_retention_days=obs.prometheus_retention_days,
                prometheus_storage_gib=obs.prometheus_storage_gib,
                prometheus_replicas=obs.prometheus_replicas,
                grafana_internal_load_balancer=obs.grafana_internal_load_balancer,
                load_balancer_dependencies=self._load_balancer_dependencies(),
                runbook_base_url=obs.runbook_base_url or DEFAULT_RUNBOOK_BASE_URL,
                gpu_pool_max_nodes={p.name: p.max_size for p in pools},
                **_dcgm_scrape_target(config),
                application_log_groups=list(obs.application_log_groups),
                log_retention_days=config.log_retention_days,
                kms_deletion_window_days=obs.kms_deletion_window_days,
                amp_enabled=obs.amp.enabled,
                amp_region=obs.amp.region,
                protect=protect,
                tags=tags,
            ),
            opts=k8s_opts,
        )

    def _build_gpu(
        self, name: str, config: EnvironmentConfig, ctx: _Context, pools: list[GpuPoolConfig]
    ) -> None:
        """Karpenter (when a pool uses it), one GpuNodePool per pool, the NVIDIA software."""
        prefix, tags, boundary = ctx.prefix, ctx.tags, ctx.boundary
        aws_opts, k8s_opts = ctx.aws_opts, ctx.k8s_opts
        cluster, gpu, c = self.cluster, config.gpu, config.cluster
        defaults = gpu.pool_defaults
        karpenter_pools = [p for p in pools if p.engine.value == "karpenter"]
        if karpenter_pools:
            self.karpenter = Karpenter(
                f"{name}-karpenter",
                KarpenterArgs(
                    cluster_name=cluster.cluster_name,
                    cluster_arn=cluster.cluster_arn,
                    cluster_endpoint=cluster.endpoint,
                    kubernetes_provider=cluster.kubernetes_provider,
                    name_prefix=prefix,
                    chart_version=gpu.karpenter.chart_version,
                    node_ssm_access=gpu.karpenter.node_ssm_access,
                    reserved_capacity=any(p.capacity_reservation_id for p in karpenter_pools),
                    # custom networking: the primary ENI holds no pod addresses
                    reserved_enis=1 if _custom_networking(config.network) else 0,
                    discovery_security_group_ids=[cluster.cluster_security_group_id],
                    permission_boundary_arn=boundary,
                    tags=tags,
                ),
                opts=k8s_opts,
            )
        # Managed node groups (GPU pools and the system nodes) are scaled by the Cluster
        # Autoscaler; without it their desiredSize never moves.
        managed_pools = [p for p in pools if p.engine.value == "managed-node-group"]
        if managed_pools:
            ca = gpu.cluster_autoscaler
            self.cluster_autoscaler = ClusterAutoscaler(
                f"{name}-cluster-autoscaler",
                ClusterAutoscalerArgs(
                    cluster_name=cluster.cluster_name,
                    cluster_arn=cluster.cluster_arn,
                    kubernetes_provider=cluster.kubernetes_provider,
                    name_prefix=prefix,
                    chart_version=ca.chart_version,
                    image_tag=ca.image_tag,
                    expander=Expander(ca.expander.value),
                    scale_down_unneeded_time=ca.scale_down_unneeded_time,
                    scale_down_delay_after_add=ca.scale_down_delay_after_add,
                    skip_nodes_with_local_storage=ca.skip_nodes_with_local_storage,
                    permission_boundary_arn=boundary,
                    tags=tags,
                ),
                opts=k8s_opts,  # depends on cluster.ready: it runs on the system nodes
            )
        karpenter = self.karpenter
        # EC2 launches no Spot Instance without the account's Spot service-linked role.
        self.spot_role: aws.iam.ServiceLinkedRole | None = None
        spot = any(p.capacity_type.value == "spot" for p in pools)
        if spot and gpu.spot_service_linked_role is ServiceLinkedRoleMode.CREATE:
            self.spot_role = spot_service_linked_role(f"{name}-spot-service-role", opts=aws_opts)
        for pool in pools:
            on_karpenter = pool.engine.value == "karpenter"
            spot_role = (
                [self.spot_role] if self.spot_role and pool.capacity_type.value == "spot" else []
            )
            self.gpu_pools[pool.name] = GpuNodePool(
                f"{name}-gpu-{pool.name}",
                GpuNodePoolArgs(
                    cluster_name=cluster.cluster_name,
                    instance_types=pool.instance_types,
                    workload=pool.workload,
                    name_prefix=prefix,
                    pool_name=pool.name,
                    engine=pool.engine,
                    capacity_type=pool.capacity_type,
                    min_size=pool.min_size,
                    desired_size=pool.desired_size,
                    max_size=pool.max_size,
                    ami_type=pool.ami_type or defaults.ami_type,
                    ami_release_version=pool.ami_release_version or defaults.ami_release_version,
                    kubernetes_version=c.version,
                    node_role_arn=self.iam.node_role_arn,
                    subnet_ids=self.network.private_subnet_ids,
                    root_volume_gib=pool.root_volume_gib or defaults.root_volume_gib,
                    max_unavailable=pool.max_unavailable or defaults.max_unavailable,
                    sharing=_sharing(pool),
                    efa=pool.efa,
                    capacity_reservation_id=pool.capacity_reservation_id,
                    capacity_block=pool.capacity_block,
                    karpenter_node_role_name=karpenter.node_role_name if karpenter else None,
                    disruption=_disruption(pool.disruption or defaults.disruption),
                    kubernetes_provider=cluster.kubernetes_provider if on_karpenter else None,
                    kubernetes_dependencies=(
                        [karpenter.release] if karpenter and on_karpenter else []
                    ),
                    tags=tags,
                ),
                # Managed node groups are AWS resources, but their nodes need the cluster's
                # networking add-ons (and system nodes) up first, as Karpenter pools do.
                opts=pulumi.ResourceOptions.merge(
                    k8s_opts
                    if on_karpenter
                    else pulumi.ResourceOptions.merge(
                        aws_opts, pulumi.ResourceOptions(depends_on=self.cluster.ready)
                    ),
                    pulumi.ResourceOptions(depends_on=spot_role),
                ),
            )
        self.nvidia = NvidiaSoftware(
            f"{name}-nvidia",
            NvidiaSoftwareArgs(
                kubernetes_provider=cluster.kubernetes_provider,
                mode=NvidiaMode(gpu.nvidia.mode.value),
                sharing={p.name: s for p in pools if (s := _sharing(p)) is not None},
                device_plugin_chart_version=gpu.nvidia.device_plugin_chart_version,
                gpu_operator_chart_version=gpu.nvidia.gpu_operator_chart_version,
                dcgm_exporter_chart_version=gpu.nvidia.dcgm_exporter_chart_version,
                dcgm_exporter=gpu.nvidia.dcgm_exporter,
                service_monitor=gpu.nvidia.service_monitor,
            ),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts,
                pulumi.ResourceOptions(depends_on=[o for o in [self.observability] if o]),
            ),
        )

    def _build_data(
        self, name: str, config: EnvironmentConfig, ctx: _Context, *, kubernetes: bool
    ) -> None:
        """Artifact buckets, ECR repositories (phase 1) and the MLflow model registry (its
        database and its chart are one component: phase 2)."""
        prefix, tags, protect, boundary = ctx.prefix, ctx.tags, ctx.protect, ctx.boundary
        aws_opts, k8s_opts = ctx.aws_opts, ctx.k8s_opts
        cluster, net = self.cluster, config.network
        s = config.storage
        self.artifacts = ArtifactStore(
            f"{name}-artifacts",
            ArtifactStoreArgs(
                name_prefix=prefix,
                purposes=[p.value for p in s.purposes],
                tags=tags,
                protect=protect,
                force_destroy=s.force_destroy,
                noncurrent_version_expiration_days=s.noncurrent_version_expiration_days,
                newer_noncurrent_versions=s.newer_noncurrent_versions,
                abort_incomplete_multipart_upload_days=s.abort_incomplete_multipart_upload_days,
                transition_days=s.transition_days,
                transition_storage_class=s.transition_storage_class,
                access_log_expiration_days=s.access_log_expiration_days,
                kms_deletion_window_days=s.kms_deletion_window_days,
                replication_enabled=s.replication.enabled,
                replication_region=s.replication.region,
                replication_purposes=(
                    [p.value for p in s.replication.purposes] if s.replication.purposes else None
                ),
                object_lock_mode=s.object_lock.mode,
                object_lock_days=s.object_lock.days,
                object_lock_purposes=[p.value for p in s.object_lock.purposes],
            ),
            opts=aws_opts,
        )

        r = config.registry
        self.registry = ContainerRegistry(
            f"{name}-registry",
            ContainerRegistryArgs(
                name_prefix=prefix,
                repositories=list(r.repositories),
                pull_principal_arns=[self.iam.node_role_arn],
                push_principal_arns=[self.iam.ci_role.arn] if self.iam.ci_role else [],
                tags=tags,
                protect=protect,
                keep_tagged_images=r.keep_tagged_images,
                release_tag_patterns=list(r.release_tag_patterns),
                untagged_expiry_days=r.untagged_expiry_days,
                enhanced_scanning=r.enhanced_scanning,
                pull_through_cache=list(r.pull_through_cache),
                kms_deletion_window_days=r.kms_deletion_window_days,
            ),
            opts=aws_opts,
        )

        m = config.model_registry
        if m.enabled and kubernetes:
            self.model_registry = ModelRegistry(
                f"{name}-mlflow",
                ModelRegistryArgs(
                    name_prefix=prefix,
                    vpc_id=self.network.vpc_id,
                    private_subnet_ids=self.network.private_subnet_ids,
                    client_security_group_id=cluster.cluster_security_group_id,
                    cluster_name=cluster.cluster_name,
                    cluster_arn=cluster.cluster_arn,
                    artifact_bucket_name=self.artifacts.bucket_names["models"],
                    artifact_bucket_arn=self.artifacts.bucket_arns["models"],
                    artifact_kms_key_arn=self.artifacts.kms_key_arn,
                    region=config.region,
                    artifact_prefix=m.artifact_prefix,
                    tags=tags,
                    protect=protect,
                    permission_boundary_arn=boundary,
                    instance_class=m.instance_class,
                    allocated_storage_gb=m.allocated_storage_gb,
                    max_allocated_storage_gb=m.max_allocated_storage_gb,
                    backup_retention_days=m.backup_retention_days,
                    multi_az=m.multi_az,
                    deletion_protection=m.deletion_protection,
                    final_snapshot=m.final_snapshot,
                    kms_deletion_window_days=s.kms_deletion_window_days,
                    log_retention_days=config.log_retention_days,
                    monitoring_interval_seconds=m.monitoring_interval_seconds,
                    slow_statement_ms=m.slow_statement_ms,
                    replicas=m.replicas,
                    internal_load_balancer=m.internal_load_balancer,
                    load_balancer_dependencies=self._load_balancer_dependencies(),
                    ingress_cidrs=[net.vpc_cidr] if m.internal_load_balancer else [],
                    engine_version=m.engine_version or DEFAULT_ENGINE_VERSION,
                    chart_version=m.chart_version or DEFAULT_CHART_VERSION,
                ),
                opts=k8s_opts,
            )


def _dcgm_scrape_target(config: EnvironmentConfig) -> dict[str, Any]:
    """Where the DCGM exporter's Service is, by NVIDIA mode: the standalone exporter chart
    (device-plugin mode) and the GPU operator label and name its port differently."""
    if config.gpu.nvidia.mode.value == NvidiaMode.GPU_OPERATOR.value:
        return {
            "dcgm_exporter_labels": {"app": "nvidia-dcgm-exporter"},
            "dcgm_exporter_port": "gpu-metrics",
        }
    return {}


def _api_ingress_cidrs(
    net: NetworkConfig, cidrs: list[str] | None, network: Network
) -> list[pulumi.Input[str]]:
    """Who reaches the private API: config, else the VPC CIDR (plain when the stack owns it)."""
    if cidrs is not None:
        return list(cidrs)
    if net.existing is None:
        return [net.vpc_cidr]
    return [network.vpc_cidr]


def _wanted(switch: bool | None, principals: list[str]) -> bool:
    """A human role is on when asked for, or (unset) when someone may assume it."""
    return bool(principals) if switch is None else switch


def _custom_networking(net: NetworkConfig) -> bool:
    """Whether pods get addresses from their own subnets (VPC CNI custom networking)."""
    return bool(net.pod_cidr) if net.existing is None else bool(net.existing.pod_subnet_ids)


def _pod_subnets(
    net: NetworkConfig, network: Network
) -> tuple[list[pulumi.Input[str]], list[pulumi.Input[str]]]:
    """Pod subnets and their AZs, index-aligned, for VPC CNI custom networking (or none)."""
    existing = net.existing
    if existing is None:
        count = net.az_count if net.pod_cidr else 0
        ids: list[pulumi.Input[str]] = [
            network.pod_subnet_ids.apply(lambda v, i=i: v[i]) for i in range(count)
        ]
        zones: list[pulumi.Input[str]] = [
            network.availability_zones.apply(lambda v, i=i: v[i]) for i in range(count)
        ]
        return ids, zones
    if existing.pod_subnet_ids:
        return list(existing.pod_subnet_ids), list(existing.availability_zones)
    state = existing.terraform_state
    if state is not None and state.outputs.pod_subnet_ids:
        # the adopted_pod_subnets config rule requires availabilityZones here
        count = len(existing.availability_zones)
        ids = [network.pod_subnet_ids.apply(lambda v, i=i: v[i]) for i in range(count)]
        return ids, list(existing.availability_zones)
    return [], []


def _vpc_cidr(net: NetworkConfig, network: Network) -> pulumi.Input[str]:
    """The VPC CIDR: plain when the stack owns the VPC, else the adopted VPC's output."""
    return net.vpc_cidr if net.existing is None else network.vpc_cidr


def _no_deployer_role(deployer: DeployerIdentity) -> Problem:
    return Problem(
        ("cluster", "access", "admins"),
        [],
        f"the deploying identity {deployer.caller_arn} is an IAM {deployer.kind.value}, not a "
        "role session, so it cannot be given an EKS access entry: deploy as a role (SSO "
        "permission set, an assumed admin role, the CI role) or list in cluster.access.admins "
        "the role ARN(s) that run the Kubernetes phase",
    )


def _present(value: str | None) -> str:
    if value is None:  # PlatformIam always yields an ARN when a boundary is configured
        raise ValueError("the permission boundary ARN resolved to nothing")
    return value


def _existing_network(net: NetworkConfig) -> ExistingNetworkArgs | None:
    """Map ``network.existing`` (IDs or a Terraform state) onto the component's args."""
    existing = net.existing
    if existing is None:
        return None
    state = None
    if existing.terraform_state is not None:
        outputs = existing.terraform_state.outputs
        names = {
            "vpc_id": outputs.vpc_id,
            "vpc_cidr": outputs.vpc_cidr,
            "private_subnet_ids": outputs.private_subnet_ids,
        }
        if outputs.public_subnet_ids:
            names["public_subnet_ids"] = outputs.public_subnet_ids
        if outputs.pod_subnet_ids:
            names["pod_subnet_ids"] = outputs.pod_subnet_ids
        state = TerraformStateArgs(
            source=existing.terraform_state.source,
            outputs=names,
            region=existing.terraform_state.region,
        )
    return ExistingNetworkArgs(
        vpc_id=existing.vpc_id,
        vpc_cidr=existing.vpc_cidr,
        private_subnet_ids=existing.private_subnet_ids,
        public_subnet_ids=existing.public_subnet_ids,
        pod_subnet_ids=existing.pod_subnet_ids,
        availability_zones=existing.availability_zones,
        terraform_state=state,
    )


def _sharing(pool: GpuPoolConfig) -> GpuSharing | None:
    """A pool's GPU sharing settings (time-slicing or MIG), if any."""
    if pool.sharing is None:
        return None
    slicing, mig = pool.sharing.time_slicing, pool.sharing.mig
    return GpuSharing(
        time_slicing_replicas=slicing.replicas if slicing else None,
        mig_strategy=mig.strategy if mig else None,
        mig_profile=mig.profile if mig else None,
    )


def _disruption(d: KarpenterDisruptionConfig) -> KarpenterDisruption:
    """Karpenter disruption settings for a pool."""
    return KarpenterDisruption(
        consolidation_policy=d.consolidation_policy,
        consolidate_after=d.consolidate_after,
        expire_after=d.expire_after,
        budgets=tuple(
            DisruptionBudget(
                nodes=b.nodes, reasons=tuple(b.reasons), schedule=b.schedule, duration=b.duration
            )
            for b in d.budgets
        ),
    )
