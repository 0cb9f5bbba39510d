"""``mlops:gpu`` onto the GPU components: Karpenter and the Cluster Autoscaler (each when a
pool uses its engine), one :class:`GpuNodePool` per pool, the NVIDIA software."""

from __future__ import annotations

from ..config import EnvironmentConfig
from ..config.model import GpuPoolConfig, KarpenterDisruptionConfig
from ..gpu.cluster_autoscaler import ClusterAutoscalerArgs, Expander
from ..gpu.karpenter import Karpenter, KarpenterArgs
from ..gpu.node_pool import DisruptionBudget, GpuNodePoolArgs, KarpenterDisruption, PoolEngine
from ..gpu.nvidia import GpuSharing, NvidiaSoftwareArgs
from ..iam import PlatformIam
from ..network.network import Network
from .network import custom_networking
from .wiring import Wiring


def karpenter_args(
    config: EnvironmentConfig, wiring: Wiring, pools: list[GpuPoolConfig]
) -> KarpenterArgs:
    """The Karpenter controller for the pools on the karpenter engine."""
    assert wiring.cluster is not None  # GPU components run on the cluster (phase 2)
    return wiring.args(
        KarpenterArgs,
        config.gpu.karpenter,
        cluster_endpoint=wiring.cluster.endpoint,
        reserved_capacity=any(pool.capacity_reservation_id for pool in pools),
        # custom networking: the primary ENI holds no pod addresses
        reserved_enis=1 if custom_networking(config.network) else 0,
        discovery_security_group_ids=[wiring.cluster.cluster_security_group_id],
    )


def cluster_autoscaler_args(config: EnvironmentConfig, wiring: Wiring) -> ClusterAutoscalerArgs:
    """The Cluster Autoscaler, which scales the managed node groups (GPU pools and the system
    nodes); without it their desiredSize never moves."""
    autoscaler = config.gpu.cluster_autoscaler
    return wiring.args(
        ClusterAutoscalerArgs,
        autoscaler,
        handled=("expander",),
        expander=Expander(autoscaler.expander.value),  # the config offers a subset
    )


def gpu_pool_args(
    config: EnvironmentConfig,
    wiring: Wiring,
    pool: GpuPoolConfig,
    *,
    iam: PlatformIam,
    network: Network,
    karpenter: Karpenter | None,
) -> GpuNodePoolArgs:
    """One pool (with its defaults applied: ``GpuConfig.effective_pools``)."""
    assert wiring.cluster is not None  # GPU components run on the cluster (phase 2)
    on_karpenter = pool.engine is PoolEngine.KARPENTER
    return wiring.args(
        GpuNodePoolArgs,
        pool,
        handled=("name", "sharing", "disruption"),
        pool_name=pool.name,
        sharing=gpu_sharing(pool),
        disruption=None if pool.disruption is None else _disruption(pool.disruption),
        kubernetes_version=config.cluster.version,
        node_role_arn=iam.node_role_arn,
        subnet_ids=network.private_subnet_ids,
        karpenter_node_role_name=karpenter.node_role_name if karpenter else None,
        # Karpenter pools are Kubernetes objects (NodePool, EC2NodeClass); managed node
        # groups are not
        kubernetes_provider=wiring.cluster.kubernetes_provider if on_karpenter else None,
        kubernetes_dependencies=[karpenter.release] if karpenter and on_karpenter else [],
    )


def nvidia_args(
    config: EnvironmentConfig, wiring: Wiring, pools: list[GpuPoolConfig]
) -> NvidiaSoftwareArgs:
    """The device plugin or GPU operator, with each pool's GPU sharing."""
    return wiring.args(
        NvidiaSoftwareArgs,
        config.gpu.nvidia,
        sharing={pool.name: sharing for pool in pools if (sharing := gpu_sharing(pool))},
    )


def gpu_sharing(pool: GpuPoolConfig) -> GpuSharing | None:
    """A pool's GPU sharing settings (time-slicing or MIG), if any."""
    if pool.sharing is None:
        return None
    slicing, mig = pool.sharing.time_slicing, pool.sharing.mig
    return GpuSharing(
        time_slicing_replicas=slicing.replicas if slicing else None,
        mig_strategy=mig.strategy if mig else None,
        mig_profile=mig.profile if mig else None,
    )


def _disruption(disruption: KarpenterDisruptionConfig) -> KarpenterDisruption:
    """Karpenter disruption settings for a pool."""
    return KarpenterDisruption(
        consolidation_policy=disruption.consolidation_policy,
        consolidate_after=disruption.consolidate_after,
        expire_after=disruption.expire_after,
        budgets=tuple(
            DisruptionBudget(
                nodes=budget.nodes,
                reasons=tuple(budget.reasons),
                schedule=budget.schedule,
                duration=budget.duration,
            )
            for budget in disruption.budgets
        ),
    )
