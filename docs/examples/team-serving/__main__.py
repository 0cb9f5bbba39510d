"""A team's model endpoint on the MLOps platform.

Reads the platform stack's outputs through a StackReference (cluster, Prometheus, artifact
store) and serves one model from the platform's models bucket with vLLM, in the team's tenant
namespace. Preview it offline from the platform repository's root:

    python -m scripts.preview --project docs/examples/team-serving --stack dev
"""

import pulumi
import pulumi_kubernetes as k8s
from mlops_platform.serving import (
    ActiveHours,
    ModelEndpoint,
    ModelEndpointArgs,
    S3ModelSource,
)

config = pulumi.Config()
platform = pulumi.StackReference(config.require("platformStack"))
tenant = config.require("tenant")

# The platform's cluster, reached with the platform's kubeconfig (a secret output).
cluster = k8s.Provider(
    "platform-cluster",
    kubeconfig=platform.require_output("kubeconfig"),
    namespace=tenant,
)

hours = config.get_object("activeHours")
endpoint = ModelEndpoint(
    "chat",
    ModelEndpointArgs(
        kubernetes_provider=cluster,
        namespace=tenant,
        cluster_name=platform.require_output("clusterName"),
        cluster_arn=platform.require_output("clusterArn"),
        name_prefix=f"{pulumi.get_project()}-{pulumi.get_stack()}",
        model=S3ModelSource(
            bucket_name=platform.require_output("artifactBuckets").apply(lambda b: b["models"]),
            prefix=config.require("modelPrefix"),
            kms_key_arn=platform.require_output("artifactKmsKeyArn"),
        ),
        image=config.require("serverImage"),
        sync_image=config.require("syncImage"),
        prometheus_url=platform.require_output("prometheusUrl"),
        server="vllm",
        gpus=1,
        min_replicas=config.require_int("minReplicas"),
        max_replicas=config.require_int("maxReplicas"),
        active_hours=ActiveHours(**hours) if hours else None,
        permission_boundary_arn=platform.get_output("permissionBoundaryArn"),
        tags=config.require_object("tags"),
    ),
)

pulumi.export("profile", platform.require_output("profile"))
pulumi.export("endpointUrl", endpoint.url)
pulumi.export("modelUri", endpoint.model_uri)
pulumi.export("modelReaderRoleArn", endpoint.role_arn)
