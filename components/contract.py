"""The platform stack's outputs as a contract for team stacks.

A team stack reads the platform's facts (cluster, network, identity, buckets, registries)
through a ``pulumi.StackReference``. :data:`OUTPUTS` is the versioned list of output names the
platform program exports (docs/outputs.md renders it; a test fails when ``__main__.py`` and
this list drift apart), and :class:`PlatformOutputs` reads them with types:

>>> platform = PlatformOutputs.from_stack("my-org/mlops/prod")  # doctest: +SKIP
>>> GpuNodePool("pool", GpuNodePoolArgs(cluster_name=platform.cluster_name, ...))  # doctest: +SKIP

Versioning: :data:`CONTRACT_VERSION` is ``MAJOR.MINOR``. Adding an output is a minor bump;
renaming, removing or changing the type of one is a major bump, listed in docs/CHANGELOG.md.
The program exports the version as ``contractVersion``; :meth:`PlatformOutputs.require`
fails a team's preview when the platform stack speaks another major version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

CONTRACT_VERSION = "1.0"
"""``MAJOR.MINOR`` of the output contract (exported by the program as ``contractVersion``)."""


@dataclass(frozen=True)
class OutputSpec:
    """One output of the platform stack."""

    name: str
    """The exported name (camelCase)."""
    type: str
    """Its JSON shape, in words."""
    description: str
    """What it is."""
    secret: bool = False
    """Exported as a secret."""
    when: str | None = None
    """The condition under which it exists; ``None``: always exported."""


OUTPUTS: tuple[OutputSpec, ...] = (
    OutputSpec("contractVersion", "string", "The version of this output contract (MAJOR.MINOR)."),
    OutputSpec("profile", "string", "The environment profile: dev, test or prod."),
    OutputSpec(
        "phase", "string", "The deploy phase: phase-1 (AWS only) or full (cluster objects too)."
    ),
    OutputSpec("region", "string", "The AWS region of the environment."),
    OutputSpec("tags", "map of strings", "The tags every resource of the environment carries."),
    OutputSpec("vpcId", "string", "The environment VPC's ID."),
    OutputSpec("privateSubnetIds", "list of strings", "Private subnets of the nodes, one per AZ."),
    OutputSpec("publicSubnetIds", "list of strings", "Public subnets (NAT, load balancers)."),
    OutputSpec("podSubnetIds", "list of strings", "Pod subnets (custom networking); may be empty."),
    OutputSpec("availabilityZones", "list of strings", "The availability zones in use."),
    OutputSpec("clusterName", "string", "The EKS cluster's name."),
    OutputSpec("clusterArn", "string", "The EKS cluster's ARN (Pod Identity trust)."),
    OutputSpec("clusterEndpoint", "string", "The EKS API server endpoint (https URL)."),
    OutputSpec("oidcProviderArn", "string", "ARN of the cluster's IAM OIDC provider (IRSA)."),
    OutputSpec("oidcIssuerUrl", "string", "The cluster's OIDC issuer URL (IRSA)."),
    OutputSpec(
        "clusterSecurityGroupId", "string", "The cluster security group EKS attaches to nodes."
    ),
    OutputSpec("kubeconfig", "string (JSON)", "Kubeconfig using aws eks get-token.", secret=True),
    OutputSpec("nodeRoleArn", "string", "IAM role of the managed nodes."),
    OutputSpec("platformAdminRoleArn", "string", "Role with cluster-admin access."),
    OutputSpec("readOnlyRoleArn", "string", "Role with read-only cluster access."),
    OutputSpec(
        "ciRoleArn", "string", "The CI deploy role (GitHub OIDC).", when="iam.ciRepository is set"
    ),
    OutputSpec(
        "permissionBoundaryArn",
        "string",
        "Permission boundary every platform role carries (team roles should carry it too).",
        when="a boundary is configured",
    ),
    OutputSpec(
        "deployRunnerProjectName",
        "string",
        "CodeBuild project of the in-VPC deploy runner.",
        when="the deploy runner is on",
    ),
    OutputSpec(
        "deployRunnerProjectArn",
        "string",
        "ARN of the deploy runner's CodeBuild project.",
        when="the deploy runner is on",
    ),
    OutputSpec(
        "gpuPools",
        "map: pool -> {nodeGroupName, nodePoolName, maxGpus, nodeSelector}",
        "The GPU pools, by name.",
    ),
    OutputSpec(
        "gpuNodeGroups",
        "list of {clusterName, nodegroupName, pool}",
        "Managed node groups of the GPU pools (Karpenter pools have none).",
    ),
    OutputSpec(
        "clusterAutoscalerRoleArn",
        "string",
        "The Cluster Autoscaler's role.",
        when="a pool uses a managed node group",
    ),
    OutputSpec(
        "karpenterInterruptionQueue",
        "string",
        "Karpenter's SQS interruption queue.",
        when="a pool uses Karpenter",
    ),
    OutputSpec("artifactBuckets", "map: purpose -> bucket name", "The artifact buckets."),
    OutputSpec("artifactBucketArns", "map: purpose -> bucket ARN", "The artifact bucket ARNs."),
    OutputSpec("artifactKmsKeyArn", "string", "The KMS key that encrypts the artifact buckets."),
    OutputSpec("ecrRepositories", "map: name -> repository URL", "The ECR repositories."),
    OutputSpec(
        "mlflowTrackingUri", "string", "MLflow tracking URI.", when="the model registry is on"
    ),
    OutputSpec(
        "mlflowArtifactUri", "string", "MLflow artifact root (s3://).", when="the registry is on"
    ),
    OutputSpec(
        "grafanaUrl", "string", "Grafana's in-cluster URL.", when="observability is deployed"
    ),
    OutputSpec(
        "grafanaAdminPassword",
        "string",
        "Grafana's admin password.",
        secret=True,
        when="observability is deployed",
    ),
    OutputSpec(
        "alertTopicArn", "string", "SNS topic receiving alerts.", when="the SNS receiver is on"
    ),
    OutputSpec(
        "monitoringNamespace",
        "string",
        "Namespace of the monitoring stack.",
        when="observability is deployed",
    ),
    OutputSpec(
        "prometheusUrl",
        "string",
        "Prometheus' in-cluster URL (autoscaling queries).",
        when="observability is deployed",
    ),
    OutputSpec("kedaNamespace", "string", "Namespace of KEDA.", when="KEDA is deployed"),
    OutputSpec(
        "tenantNamespaces",
        "map: team -> namespace",
        "The tenants (one namespace per team) on the cluster.",
        when="the stack has tenants (phase 2)",
    ),
    OutputSpec("logGroups", "list of strings", "CloudWatch log groups of the environment."),
)
"""Every output the platform program exports, in the order docs/outputs.md lists them."""

OUTPUT_NAMES: frozenset[str] = frozenset(o.name for o in OUTPUTS)
"""The names of :data:`OUTPUTS`."""


class PlatformOutputs:
    """Typed reads of a platform stack's outputs through a ``pulumi.StackReference``."""

    def __init__(self, reference: pulumi.StackReference) -> None:
        self.reference = reference

    @classmethod
    def from_stack(
        cls, stack_name: str, opts: pulumi.ResourceOptions | None = None
    ) -> PlatformOutputs:
        """Read the platform stack ``stack_name`` (``org/project/stack``, or ``project/stack``
        on a self-managed backend)."""
        return cls(pulumi.StackReference(stack_name, opts=opts))

    def output(self, name: str) -> pulumi.Output[Any]:
        """Any output of the contract by name (refuses names the contract does not define)."""
        if name not in OUTPUT_NAMES:
            raise KeyError(f"{name!r} is not a platform output; known: {sorted(OUTPUT_NAMES)}")
        return self.reference.get_output(name)

    def require(self) -> pulumi.Output[str]:
        """The platform's contract version; fails when its MAJOR differs from this library's."""

        def check(version: Any) -> str:
            major = str(CONTRACT_VERSION).split(".", maxsplit=1)[0]
            if version is None or str(version).split(".", maxsplit=1)[0] != major:
                raise pulumi.RunError(
                    f"the platform stack exports output contract {version!r}; this "
                    f"mlops_platform reads {CONTRACT_VERSION}: upgrade one of them "
                    "(docs/CHANGELOG.md lists what changed)"
                )
            return str(version)

        return self.reference.get_output("contractVersion").apply(check)

    # -- typed properties ---------------------------------------------------------------
    @property
    def contract_version(self) -> pulumi.Output[str]:
        """The platform's contract version (``MAJOR.MINOR``)."""
        return self.output("contractVersion")

    @property
    def profile(self) -> pulumi.Output[str]:
        """dev, test or prod."""
        return self.output("profile")

    @property
    def region(self) -> pulumi.Output[str]:
        """The AWS region."""
        return self.output("region")

    @property
    def tags(self) -> pulumi.Output[dict[str, str]]:
        """The environment's tags."""
        return self.output("tags")

    @property
    def vpc_id(self) -> pulumi.Output[str]:
        """The VPC ID."""
        return self.output("vpcId")

    @property
    def private_subnet_ids(self) -> pulumi.Output[list[str]]:
        """Private node subnets."""
        return self.output("privateSubnetIds")

    @property
    def public_subnet_ids(self) -> pulumi.Output[list[str]]:
        """Public subnets."""
        return self.output("publicSubnetIds")

    @property
    def pod_subnet_ids(self) -> pulumi.Output[list[str]]:
        """Pod subnets (may be empty)."""
        return self.output("podSubnetIds")

    @property
    def cluster_name(self) -> pulumi.Output[str]:
        """The EKS cluster's name."""
        return self.output("clusterName")

    @property
    def cluster_endpoint(self) -> pulumi.Output[str]:
        """The EKS API endpoint."""
        return self.output("clusterEndpoint")

    @property
    def oidc_provider_arn(self) -> pulumi.Output[str]:
        """The cluster's OIDC provider ARN (IRSA)."""
        return self.output("oidcProviderArn")

    @property
    def oidc_issuer_url(self) -> pulumi.Output[str]:
        """The cluster's OIDC issuer URL (IRSA)."""
        return self.output("oidcIssuerUrl")

    @property
    def cluster_arn(self) -> pulumi.Output[str]:
        """The EKS cluster's ARN (Pod Identity trust)."""
        return self.output("clusterArn")

    @property
    def cluster_security_group_id(self) -> pulumi.Output[str]:
        """The cluster security group."""
        return self.output("clusterSecurityGroupId")

    @property
    def kubeconfig(self) -> pulumi.Output[str]:
        """The kubeconfig (secret)."""
        return self.output("kubeconfig")

    @property
    def node_role_arn(self) -> pulumi.Output[str]:
        """The managed nodes' role."""
        return self.output("nodeRoleArn")

    @property
    def permission_boundary_arn(self) -> pulumi.Output[str | None]:
        """The permission boundary (``None`` without one)."""
        return self.output("permissionBoundaryArn")

    @property
    def artifact_buckets(self) -> pulumi.Output[dict[str, str]]:
        """Bucket name per purpose."""
        return self.output("artifactBuckets")

    @property
    def artifact_bucket_arns(self) -> pulumi.Output[dict[str, str]]:
        """Bucket ARN per purpose."""
        return self.output("artifactBucketArns")

    @property
    def artifact_kms_key_arn(self) -> pulumi.Output[str]:
        """The artifact buckets' KMS key ARN."""
        return self.output("artifactKmsKeyArn")

    @property
    def ecr_repositories(self) -> pulumi.Output[dict[str, str]]:
        """Repository URL per name."""
        return self.output("ecrRepositories")

    @property
    def gpu_pools(self) -> pulumi.Output[dict[str, dict[str, Any]]]:
        """The GPU pools by name."""
        return self.output("gpuPools")

    @property
    def mlflow_tracking_uri(self) -> pulumi.Output[str | None]:
        """MLflow tracking URI (``None`` without the model registry)."""
        return self.output("mlflowTrackingUri")

    @property
    def tenant_namespaces(self) -> pulumi.Output[dict[str, str]]:
        """Namespace per tenant team."""
        return self.output("tenantNamespaces")

    @property
    def monitoring_namespace(self) -> pulumi.Output[str]:
        """The monitoring namespace."""
        return self.output("monitoringNamespace")


def outputs_markdown() -> str:
    """docs/outputs.md: the contract as a table (its staleness test compares the file)."""
    lines = [
        "# Platform stack outputs (contract " + CONTRACT_VERSION + ")",
        "",
        "<!-- Generated from mlops_platform/contract.py (components/contract.py) by",
        "     `python -m scripts.package_docs`; do not edit by hand. -->",
        "",
        "A team stack reads these through `mlops_platform.contract.PlatformOutputs`:",
        "",
        "```python",
        "from mlops_platform.contract import PlatformOutputs",
        "",
        'platform = PlatformOutputs.from_stack("my-org/mlops/prod")',
        "platform.require()  # fails the preview on another MAJOR contract version",
        "cluster_name = platform.cluster_name  # pulumi.Output[str]",
        "```",
        "",
        "Adding an output bumps the MINOR version; renaming, removing or retyping one bumps the",
        "MAJOR version and is listed in [CHANGELOG.md](CHANGELOG.md). The program exports the",
        "version as `contractVersion`. `tests/stacks/test_contract.py` fails when the program's",
        "exports and this list drift apart.",
        "",
        "| output | type | exported | what |",
        "|---|---|---|---|",
    ]
    for o in OUTPUTS:
        when = f"when {o.when}" if o.when else "always"
        secret = " (secret)" if o.secret else ""
        lines.append(f"| `{o.name}` | {o.type}{secret} | {when} | {o.description} |")
    return "\n".join(lines) + "\n"
