"""``mlops:storage``, ``mlops:registry`` and ``mlops:modelRegistry`` onto the data
components: artifact buckets, ECR repositories, the MLflow tracking server."""

from __future__ import annotations

import pulumi

from ..config import EnvironmentConfig
from ..iam import PlatformIam
from ..network.network import Network
from ..storage.artifact_store import ArtifactStore, ArtifactStoreArgs
from ..storage.container_registry import ContainerRegistryArgs
from ..storage.model_registry import ModelRegistryArgs
from .network import vpc_cidr
from .wiring import Wiring


def artifact_store_args(config: EnvironmentConfig, wiring: Wiring) -> ArtifactStoreArgs:
    """A bucket per purpose (plus access logs), with replication and Object Lock."""
    storage = config.storage
    replication, object_lock = storage.replication, storage.object_lock
    return wiring.args(
        ArtifactStoreArgs,
        storage,
        handled=("replication", "object_lock"),
        replication_enabled=replication.enabled,
        replication_region=replication.region,
        replication_purposes=replication.purposes or None,  # none listed: every data bucket
        object_lock_mode=object_lock.mode,
        object_lock_days=object_lock.days,
        object_lock_purposes=object_lock.purposes,
    )


def container_registry_args(
    config: EnvironmentConfig, wiring: Wiring, iam: PlatformIam
) -> ContainerRegistryArgs:
    """The repositories: nodes pull, the CI deploy role (if any) pushes."""
    return wiring.args(
        ContainerRegistryArgs,
        config.registry,
        pull_principal_arns=[iam.node_role_arn],
        push_principal_arns=[iam.ci_role.arn] if iam.ci_role else [],
    )


def model_registry_args(
    config: EnvironmentConfig,
    wiring: Wiring,
    *,
    network: Network,
    artifacts: ArtifactStore,
    load_balancer_dependencies: list[pulumi.Resource],
) -> ModelRegistryArgs:
    """MLflow on the cluster, its database in the private subnets, its artifacts in the
    models bucket (under that bucket's key)."""
    mlflow = config.model_registry
    assert wiring.cluster is not None  # MLflow runs on the cluster (phase 2)
    return wiring.args(
        ModelRegistryArgs,
        mlflow,
        handled=("enabled",),
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids,
        client_security_group_id=wiring.cluster.cluster_security_group_id,
        artifact_bucket_name=artifacts.bucket_names["models"],
        artifact_bucket_arn=artifacts.bucket_arns["models"],
        artifact_kms_key_arn=artifacts.kms_key_arn,
        region=config.region,
        kms_deletion_window_days=config.storage.kms_deletion_window_days,
        load_balancer_dependencies=load_balancer_dependencies,
        ingress_cidrs=[vpc_cidr(config.network, network)] if mlflow.internal_load_balancer else [],
    )
