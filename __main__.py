"""The MLOps platform program: load the stack's config, build the platform, export outputs.

Output names read by the operator scripts (``scripts.verify``, ``scripts.teardown_guard``)
are defined in ``scripts/verify.py`` (``OUTPUT_NAMES``) and listed in docs/operations.md.
"""

from typing import Any

import pulumi
from mlops_platform.config import load_environment
from mlops_platform.contract import CONTRACT_VERSION
from mlops_platform.platform import MlopsPlatform, MlopsPlatformArgs
from pydantic.alias_generators import to_camel


def export_attributes(component: Any, *attributes: str) -> None:
    """Export attributes of a component, each under its camelCase name (``vpc_id`` ->
    ``vpcId``): one name per concept, in the component and in the output contract. Outputs
    named otherwise than their attribute, secret or computed are exported one by one."""
    for attribute in attributes:
        pulumi.export(to_camel(attribute), getattr(component, attribute))


config = load_environment()
platform = MlopsPlatform(f"{pulumi.get_project()}-{pulumi.get_stack()}", MlopsPlatformArgs(config))
network, iam, cluster = platform.network, platform.iam, platform.cluster

# The names below are a contract with team stacks (mlops_platform.contract, docs/outputs.md).
pulumi.export("contractVersion", CONTRACT_VERSION)
pulumi.export("profile", config.profile.value)
pulumi.export("phase", config.phase.value)
export_attributes(platform, "region", "tags")

# network
export_attributes(
    network,
    "vpc_id",
    "private_subnet_ids",
    "public_subnet_ids",
    "pod_subnet_ids",
    "availability_zones",
)

# cluster and identity
export_attributes(
    cluster,
    "cluster_name",
    "cluster_arn",
    "oidc_provider_arn",
    "oidc_issuer_url",
    "cluster_security_group_id",
)
pulumi.export("clusterEndpoint", cluster.endpoint)
pulumi.export("kubeconfig", pulumi.Output.secret(cluster.kubeconfig))
export_attributes(
    iam,
    "node_role_arn",
    "platform_admin_role_arn",
    "read_only_role_arn",
    "ci_role_arn",
    "permission_boundary_arn",
)

# the in-VPC deploy runner (workflows: runs-on: codebuild-<project>-${{ github.run_id }}-...)
if platform.deploy_runner is not None:
    pulumi.export("deployRunnerProjectName", platform.deploy_runner.project_name)
    pulumi.export("deployRunnerProjectArn", platform.deploy_runner.project_arn)

# GPU capacity
pulumi.export(
    "gpuPools",
    {
        name: {
            "nodeGroupName": pool.node_group_name,
            "nodePoolName": pool.node_pool_name,
            "maxGpus": pool.max_gpus,
            "nodeSelector": pool.node_selector,
        }
        for name, pool in platform.gpu_pools.items()
    },
)
pulumi.export(
    "gpuNodeGroups",
    pulumi.Output.all(
        *[
            pulumi.Output.all(cluster.cluster_name, pool.node_group_name, name)
            for name, pool in platform.gpu_pools.items()
        ]
    ).apply(
        lambda rows: [
            {"clusterName": c, "nodegroupName": n, "pool": p} for c, n, p in rows if n
        ]  # Karpenter pools have no node group
    ),
)
if platform.cluster_autoscaler is not None:
    pulumi.export("clusterAutoscalerRoleArn", platform.cluster_autoscaler.role_arn)
if platform.karpenter is not None:
    pulumi.export("karpenterInterruptionQueue", platform.karpenter.interruption_queue_name)

# artifacts and registries
pulumi.export("artifactBuckets", platform.artifacts.bucket_names)
pulumi.export("artifactBucketArns", platform.artifacts.bucket_arns)
pulumi.export("artifactKmsKeyArn", platform.artifacts.kms_key_arn)
pulumi.export("ecrRepositories", platform.registry.repository_urls)
if platform.model_registry is not None:
    pulumi.export("mlflowTrackingUri", platform.model_registry.tracking_uri)
    pulumi.export("mlflowArtifactUri", platform.model_registry.artifact_uri)

# observability (phase 2)
obs = platform.observability
if obs is not None:
    export_attributes(obs, "grafana_url", "alert_topic_arn", "prometheus_url")
    pulumi.export("grafanaAdminPassword", pulumi.Output.secret(obs.grafana_admin_password))
    pulumi.export("monitoringNamespace", obs.namespace)
if platform.keda is not None:
    pulumi.export("kedaNamespace", platform.keda.namespace)
if platform.tenants:
    pulumi.export(
        "tenantNamespaces", {t: tenant.namespace for t, tenant in platform.tenants.items()}
    )
pulumi.export(
    "logGroups",
    pulumi.Output.all(
        network.flow_log_group_name,
        cluster.log_group.name,
        obs.log_group_names if obs is not None else [],
        platform.deploy_runner.log_group_name if platform.deploy_runner is not None else None,
    ).apply(lambda parts: [g for g in [parts[0], parts[1], *parts[2], parts[3]] if g]),
)
