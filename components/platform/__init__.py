"""``MlopsPlatform``: one complete environment, composed from the validated stack config.

This is the one module that knows both the stack-config layer (:mod:`mlops_platform.config`) and
the components: it builds each component, in dependency order, from an
:class:`EnvironmentConfig`:

    aws Provider -> PlatformIam -> Network -> (DeployRunner) -> ServingCluster
      -> LoadBalancerController (before any LoadBalancer Service: its webhook admits them)
      -> Observability (needs the cluster; owns the Prometheus operator CRDs) -> Keda
      -> Karpenter (when a pool uses it) / Cluster Autoscaler (when a managed node group pool
         does) -> GpuNodePool per pool -> NvidiaSoftware
      -> ArtifactStore -> ContainerRegistry -> ModelRegistry (MLflow)
      -> Tenant per team (namespace, quota, network policies, workload role, access)

How each config section becomes a component's args lives beside this module, one module per
section (``network``, ``cluster``, ``iam``, ``gpu``, ``storage``, ``observability``,
``serving``, ``deploy``), through :mod:`.wiring`: the platform passes the effective config
straight through. Every AWS child uses the environment's provider (first tag layer:
``default_tags``); every component also receives the merged ``tags`` (second layer).
Kubernetes children use the cluster's provider and wait for the cluster to be ready (system
nodes and add-ons).
"""

from __future__ import annotations

import dataclasses

import pulumi
import pulumi_aws as aws

from ..cluster.serving_cluster import ServingCluster
from ..config import EnvironmentConfig
from ..config.component_errors import reported_as_config_errors
from ..config.model import DeployPhase, GpuPoolConfig
from ..core.component import Component
from ..core.tagging import platform_tags
from ..deploy import DeployRunner
from ..gpu.cluster_autoscaler import ClusterAutoscaler
from ..gpu.karpenter import Karpenter
from ..gpu.node_pool import CapacityType, GpuNodePool, PoolEngine
from ..gpu.nvidia import NvidiaSoftware
from ..iam import PlatformIam, ServiceLinkedRoleMode, spot_service_linked_role
from ..network.network import Network
from ..observability.observability import Observability
from ..serving.keda import Keda, KedaArgs
from ..serving.load_balancer_controller import LoadBalancerController
from ..serving.tenant import Tenant
from ..storage.artifact_store import ArtifactStore
from ..storage.container_registry import ContainerRegistry
from ..storage.model_registry import ModelRegistry
from .cluster import cluster_args, deployer_admins
from .deploy import deploy_runner_args
from .gpu import cluster_autoscaler_args, gpu_pool_args, karpenter_args, nvidia_args
from .iam import iam_args, permission_boundary_arn
from .network import network_args
from .observability import observability_args
from .serving import load_balancer_controller_args, tenant_args
from .storage import artifact_store_args, container_registry_args, model_registry_args
from .wiring import Wiring


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


class MlopsPlatform(Component, legacy_module="platform"):
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
        super().__init__(name, opts)
        self.config = config
        tags = platform_tags(project, stack, config.profile.value, config.tags)
        self.provider = aws.Provider(
            f"{name}-aws",
            region=config.region,
            allowed_account_ids=config.allowed_account_ids,
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
            opts=self.child(),
        )
        aws_opts = self.child(providers=[self.provider])
        # Kubernetes options exist once the cluster does; until then they are the AWS ones.
        wiring = Wiring(
            name_prefix=args.name_prefix or f"{project}-{stack}",
            tags=tags,
            protect=config.protect_stateful_resources,
            log_retention_days=config.log_retention_days,
            aws_opts=aws_opts,
            k8s_opts=aws_opts,
        )

        # --- phase 1: everything that needs no Kubernetes API -----------------------------
        # Identity first: every role below takes the permission boundary.
        self.iam = PlatformIam(f"{name}-iam", iam_args(config.iam, wiring), opts=aws_opts)
        wiring = dataclasses.replace(
            wiring, permission_boundary_arn=permission_boundary_arn(config.iam, self.iam)
        )
        self.network = Network(f"{name}-network", network_args(config, wiring), opts=aws_opts)
        self.deploy_runner: DeployRunner | None = None
        if config.deploy_runner.enabled:
            self.deploy_runner = DeployRunner(
                f"{name}-deploy-runner",
                deploy_runner_args(config, wiring, self.network),
                opts=aws_opts,
            )
        self.cluster = ServingCluster(
            f"{name}-cluster",
            cluster_args(
                config,
                wiring,
                iam=self.iam,
                network=self.network,
                deploy_runner=self.deploy_runner,
                deployer_admins=deployer_admins(config, wiring.name_prefix, self),
            ),
            opts=aws_opts,
        )
        self.artifacts = ArtifactStore(
            f"{name}-artifacts", artifact_store_args(config, wiring), opts=aws_opts
        )
        self.registry = ContainerRegistry(
            f"{name}-registry", container_registry_args(config, wiring, self.iam), opts=aws_opts
        )

        # --- phase 2 (``mlops:phase: all``): everything on the cluster ---------------------
        self.load_balancer_controller: LoadBalancerController | None = None
        self.observability: Observability | None = None
        self.keda: Keda | None = None
        self.karpenter: Karpenter | None = None
        self.cluster_autoscaler: ClusterAutoscaler | None = None
        self.spot_role: aws.iam.ServiceLinkedRole | None = None
        self.gpu_pools: dict[str, GpuNodePool] = {}
        self.nvidia: NvidiaSoftware | None = None
        self.model_registry: ModelRegistry | None = None
        self.tenants: dict[str, Tenant] = {}
        if config.phase is DeployPhase.ALL:
            k8s_opts = self.child(
                providers=[self.provider, self.cluster.kubernetes_provider],
                depends_on=self.cluster.ready,
            )
            self._build_on_cluster(
                name, config, dataclasses.replace(wiring, cluster=self.cluster, k8s_opts=k8s_opts)
            )

        self.region = pulumi.Output.from_input(config.region)
        self.tags = pulumi.Output.from_input(tags)
        self.register_outputs(
            {
                "region": self.region,
                "tags": self.tags,
                "clusterName": self.cluster.cluster_name,
                "vpcId": self.network.vpc_id,
                "tenantNamespaces": {
                    team: tenant.namespace for team, tenant in self.tenants.items()
                },
            }
        )

    def _build_on_cluster(self, name: str, config: EnvironmentConfig, wiring: Wiring) -> None:
        """Phase 2: the serving layer, observability, GPU capacity, MLflow and the tenants."""
        k8s_opts = wiring.k8s_opts
        self.load_balancer_controller = LoadBalancerController(
            f"{name}-lb-controller",
            load_balancer_controller_args(config, wiring, self.network),
            opts=k8s_opts,
        )  # before any LoadBalancer Service: its webhook admits them
        pools = config.gpu.effective_pools()
        self.observability = Observability(
            f"{name}-observability",
            observability_args(config, wiring, pools, self._load_balancer_dependencies()),
            opts=k8s_opts,
        )
        # KEDA scales model endpoints on their Prometheus metrics (and needs the operator
        # CRDs for its own ServiceMonitors): after the cluster and the observability stack.
        self.keda = Keda(
            f"{name}-keda",
            wiring.args(KedaArgs),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=[self.observability])
            ),
        )
        self._build_gpu(name, config, wiring, pools, self.observability)
        if config.model_registry.enabled:
            self.model_registry = ModelRegistry(
                f"{name}-mlflow",
                model_registry_args(
                    config,
                    wiring,
                    network=self.network,
                    artifacts=self.artifacts,
                    load_balancer_dependencies=self._load_balancer_dependencies(),
                ),
                opts=k8s_opts,
            )
        for team in config.tenants.effective_teams():  # after the cluster and the buckets
            self.tenants[team.name] = Tenant(
                f"{name}-tenant-{team.name}",
                tenant_args(config, wiring, team, network=self.network, artifacts=self.artifacts),
                opts=k8s_opts,
            )

    def _build_gpu(
        self,
        name: str,
        config: EnvironmentConfig,
        wiring: Wiring,
        pools: list[GpuPoolConfig],
        observability: Observability,
    ) -> None:
        """Karpenter (when a pool uses it) and the Cluster Autoscaler (when a managed node
        group does), one GpuNodePool per pool, the NVIDIA software."""
        aws_opts, k8s_opts = wiring.aws_opts, wiring.k8s_opts
        karpenter_pools = [pool for pool in pools if pool.engine is PoolEngine.KARPENTER]
        if karpenter_pools:
            self.karpenter = Karpenter(
                f"{name}-karpenter", karpenter_args(config, wiring, karpenter_pools), opts=k8s_opts
            )
        if any(pool.engine is PoolEngine.MANAGED_NODE_GROUP for pool in pools):
            self.cluster_autoscaler = ClusterAutoscaler(
                f"{name}-cluster-autoscaler",
                cluster_autoscaler_args(config, wiring),
                opts=k8s_opts,  # depends on cluster.ready: it runs on the system nodes
            )
        # EC2 launches no Spot Instance without the account's Spot service-linked role.
        spot = any(pool.capacity_type is CapacityType.SPOT for pool in pools)
        if spot and config.gpu.spot_service_linked_role is ServiceLinkedRoleMode.CREATE:
            self.spot_role = spot_service_linked_role(f"{name}-spot-service-role", opts=aws_opts)
        spot_role = self.spot_role
        for pool in pools:
            on_karpenter = pool.engine is PoolEngine.KARPENTER
            on_spot = pool.capacity_type is CapacityType.SPOT
            self.gpu_pools[pool.name] = GpuNodePool(
                f"{name}-gpu-{pool.name}",
                gpu_pool_args(
                    config,
                    wiring,
                    pool,
                    iam=self.iam,
                    network=self.network,
                    karpenter=self.karpenter,
                ),
                # Managed node groups are AWS resources, but their nodes need the cluster's
                # networking add-ons (and system nodes) up first, as Karpenter pools do.
                opts=pulumi.ResourceOptions.merge(
                    k8s_opts
                    if on_karpenter
                    else pulumi.ResourceOptions.merge(
                        aws_opts, pulumi.ResourceOptions(depends_on=self.cluster.ready)
                    ),
                    pulumi.ResourceOptions(depends_on=[spot_role] if spot_role and on_spot else []),
                ),
            )
        self.nvidia = NvidiaSoftware(
            f"{name}-nvidia",
            nvidia_args(config, wiring, pools),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=[observability])
            ),
        )

    def _load_balancer_dependencies(self) -> list[pulumi.Resource]:
        """What a Service of type LoadBalancer waits for: the controller that serves it."""
        controller = self.load_balancer_controller
        return [controller.release] if controller is not None else []


__all__ = ["MlopsPlatform", "MlopsPlatformArgs"]
