"""``ModelRegistry``: an MLflow tracking server and model registry on the serving cluster.

* Backend store: RDS PostgreSQL in private subnets, KMS-encrypted, never publicly
  accessible, reachable on 5432 only from the cluster's security group, with automated
  backups, IAM database authentication, and (prod) multi-AZ, deletion protection and a
  final snapshot. The master password comes from ``pulumi_random`` and stays a secret.
* Artifact store: a prefix of the models bucket, reached through an EKS Pod Identity role
  that can touch only that prefix. MLflow proxies artifact access (``--serve-artifacts``),
  so clients need no S3 permissions of their own.
* Server: the community MLflow Helm chart at a pinned version; a ClusterIP service by
  default, optionally an internal load balancer, never an internet-facing one. A
  NetworkPolicy admits only namespaces labelled ``mlops/mlflow-client: "true"`` (and the
  server's own namespace, and with the load balancer ``ingress_cidrs``).

Why ``pulumi_random`` rather than RDS-managed master passwords: the chart reads the
database credentials from a Kubernetes Secret; a password generated in the program can be
written straight into that Secret (encrypted in the Pulumi state), whereas a Secrets
Manager password would need a secrets operator on the cluster to reach the pod.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..cluster.kubernetes import helm_release, pod_security_labels
from ..core.component import Component
from ..core.kms import service_key_policy
from ..core.load_balancing import internal_service_annotations
from ..core.naming import NameKind, physical_name
from ..core.tagging import merge_tags
from ..core.versions import MLFLOW_CHART, MLFLOW_CHART_REPOSITORY, POSTGRES_ENGINE_VERSION
from ..iam import POLICY_VERSION, PodIdentity, policy_json
from .artifact_store import AccessLevel, access_policy_document
from .model_registry_checks import (
    MONITORING_INTERVALS,  # noqa: F401 (re-exported: its old import path)
    STORAGE_GB_RANGE,  # noqa: F401 (re-exported: its old import path)
    validate,
)

DEFAULT_CHART_VERSION = MLFLOW_CHART
"""The community MLflow chart version this release is tested with."""

DEFAULT_CHART_REPOSITORY = MLFLOW_CHART_REPOSITORY
"""The chart's official repository."""

DEFAULT_ENGINE_VERSION = POSTGRES_ENGINE_VERSION
"""PostgreSQL major.minor; minor upgrades are deliberate config changes."""

POSTGRES_PORT = 5432
MLFLOW_CONTAINER_PORT = 5000  # the chart's container port (service.containerPort)
MLFLOW_SERVICE_NAME = "mlflow"  # fullnameOverride: the chart names its Service after it
MLFLOW_SERVICE_PORT = 80  # the chart's service.port
DATABASE_NAME = "mlflow"
MASTER_USERNAME = "mlflow"
LOG_EXPORTS = ("postgresql", "upgrade")
"""RDS for PostgreSQL logs exported to CloudWatch Logs (the engine log and upgrade log)."""
ENHANCED_MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"
"""AWS-managed policy of the Enhanced Monitoring role (partition-relative)."""
PASSWORD_LENGTH = 40

CLIENT_NAMESPACE_LABEL = "mlops/mlflow-client"
"""Namespaces labelled ``mlops/mlflow-client: "true"`` may reach the server (plus its own)."""


@dataclass
class ModelRegistryArgs:
    """Inputs of :class:`ModelRegistry`."""

    name_prefix: str
    """Prefix of physical names, normally ``{project}-{stack}``."""

    vpc_id: pulumi.Input[str]
    """The VPC the database lives in."""

    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets (at least two AZs) for the database subnet group."""

    client_security_group_id: pulumi.Input[str]
    """Security group of the cluster's nodes/pods: the only source allowed to reach 5432."""

    cluster_name: pulumi.Input[str]
    """EKS cluster the MLflow pod runs on (for the Pod Identity association)."""

    cluster_arn: pulumi.Input[str]
    """ARN of that cluster: the Pod Identity role trusts pods of this cluster only."""

    artifact_bucket_name: pulumi.Input[str]
    """Name of the models bucket."""

    artifact_bucket_arn: pulumi.Input[str]
    """ARN of the models bucket."""

    artifact_kms_key_arn: pulumi.Input[str]
    """ARN of the key that encrypts the models bucket."""

    region: pulumi.Input[str]
    """AWS region (MLflow's S3 client needs it)."""

    artifact_prefix: str = "mlflow/"
    """Key prefix of MLflow artifacts in the models bucket; the role reaches nothing else."""

    tags: Mapping[str, str] | None = None
    """Tags merged into every taggable child."""

    permission_boundary_arn: pulumi.Input[str] | None = None
    """Permission boundary for the artifact role (the platform's, when it has one)."""

    protect: bool = False
    """Protect and retain-on-delete the database and its key (prod)."""

    instance_class: str = "db.t4g.medium"
    """RDS instance class."""

    engine_version: str = DEFAULT_ENGINE_VERSION
    """PostgreSQL version, pinned as major.minor."""

    allocated_storage_gb: int = 20
    """Initial storage (GiB, gp3)."""

    max_allocated_storage_gb: int = 100
    """Storage autoscaling ceiling (GiB)."""

    backup_retention_days: int = 7
    """Automated backup retention (1-35 days)."""

    multi_az: bool = False
    """A synchronous standby in another AZ (prod)."""

    deletion_protection: bool = False
    """RDS deletion protection (prod)."""

    final_snapshot: bool = False
    """Take a final snapshot when the database is deleted (prod)."""

    kms_deletion_window_days: int = 30
    """Waiting period before a scheduled deletion of the database key takes effect."""

    log_retention_days: int = 30
    """Retention of the database's CloudWatch log groups (a period CloudWatch accepts)."""

    monitoring_interval_seconds: int = 0
    """Enhanced Monitoring (OS metrics) interval: 0 (off), 1, 5, 10, 15, 30 or 60."""

    slow_statement_ms: int = 1000
    """Statements running at least this long are logged (``log_min_duration_statement``);
    -1 turns it off."""

    namespace: str = "mlflow"
    """Kubernetes namespace of the server."""

    service_account: str = "mlflow"
    """Kubernetes service account the server runs as (bound to the Pod Identity role)."""

    chart_version: str = DEFAULT_CHART_VERSION
    """Pinned version of the community ``mlflow`` chart."""

    chart_repository: str = DEFAULT_CHART_REPOSITORY
    """Helm repository of the chart."""

    image_repository: str | None = None
    """Server image repository (e.g. a mirror in the environment's ECR); default: the chart's."""

    image_tag: str | None = None
    """Server image tag (immutable); required with ``image_repository``."""

    replicas: int = 1
    """Server replicas (the server is stateless; 2+ for prod availability)."""

    internal_load_balancer: bool = False
    """Also expose the server on an internal NLB (VPC only, IP targets), created by the AWS
    Load Balancer Controller (``aws-load-balancer-type: external``, scheme ``internal``); pass
    the controller's release in ``load_balancer_dependencies``."""

    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    """What the chart waits for when it creates a LoadBalancer Service: the AWS Load Balancer
    Controller's release (its webhook admits the Service)."""

    allowed_hosts: Sequence[str] = ()
    """Further ``Host`` header values MLflow 3 accepts (e.g. a DNS name in front of the load
    balancer; ``*`` wildcards allowed). The Service's in-cluster names are always accepted."""

    ingress_cidrs: Sequence[pulumi.Input[str]] = ()
    """CIDRs (e.g. the VPC's) the internal load balancer admits (its source ranges) and the
    NetworkPolicy admits (the load balancer reaches pods from node addresses, so they must
    cover the node subnets); required with ``internal_load_balancer``. ``0.0.0.0/0`` is
    never accepted."""

    namespace_quota: Mapping[str, str] = field(
        default_factory=lambda: {
            "pods": "20",
            "requests.cpu": "4",
            "requests.memory": "8Gi",
            "limits.cpu": "8",
            "limits.memory": "16Gi",
        }
    )
    """ResourceQuota of the namespace (LoadBalancer/NodePort counts are set by the component)."""

    resources: Mapping[str, Any] = field(
        default_factory=lambda: {
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        }
    )
    """Container requests and limits."""


def allowed_hosts(args: ModelRegistryArgs, region: pulumi.Input[str]) -> pulumi.Output[list[str]]:
    """``Host`` headers the MLflow 3 security middleware accepts (chart ``serverAllowedHosts``,
    env ``MLFLOW_SERVER_ALLOWED_HOSTS``; anything else gets 403, ``/health`` is exempt).

    The Service's DNS names (``mlflow``, ``mlflow.<ns>``, ``mlflow.<ns>.svc``,
    ``mlflow.<ns>.svc.cluster.local``), each with and without the port; with the internal
    load balancer also the region's load balancer host names; then ``args.allowed_hosts``.
    """
    name, ns = MLFLOW_SERVICE_NAME, args.namespace
    names = [name, f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"]
    hosts = [h for n in names for h in (n, f"{n}:{MLFLOW_SERVICE_PORT}")]

    def with_region(r: str) -> list[str]:
        balancers: list[str] = []
        if args.internal_load_balancer:
            # NLB (AWS Load Balancer Controller) and classic ELB host names of the region
            for pattern in (f"*.elb.{r}.amazonaws.com", f"*.{r}.elb.amazonaws.com"):
                balancers += [pattern, f"{pattern}:*"]
        return [*hosts, *balancers, *args.allowed_hosts]

    return pulumi.Output.from_input(region).apply(with_region)


def internal_lb_annotations(args: ModelRegistryArgs) -> dict[str, pulumi.Input[str]]:
    """Service annotations of the internal load balancer: served by the AWS Load Balancer
    Controller, internal scheme, IP targets, source ranges (the chart's Service template has
    no ``loadBalancerSourceRanges`` field, so the standard annotation carries them)."""
    return internal_service_annotations(args.ingress_cidrs)


class ModelRegistry(Component, legacy_module="model_registry"):
    """MLflow on the cluster, backed by private, encrypted RDS PostgreSQL and an S3 prefix."""

    tracking_uri: pulumi.Output[str]
    """In-cluster URL of the MLflow server."""

    db_endpoint: pulumi.Output[str]
    """``host:port`` of the database."""

    db_instance_arn: pulumi.Output[str]
    """ARN of the database instance."""

    db_security_group_id: pulumi.Output[str]
    """Security group of the database."""

    db_kms_key_arn: pulumi.Output[str]
    """ARN of the key that encrypts the database."""

    artifact_role_arn: pulumi.Output[str]
    """ARN of the Pod Identity role that reaches the artifact prefix."""

    artifact_uri: pulumi.Output[str]
    """``s3://bucket/prefix`` where MLflow stores artifacts."""

    def __init__(
        self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, validate)
        super().__init__(name, opts)
        child, stateful = self.child(), self.stateful(args.protect)
        tags = args.tags

        # --- database --------------------------------------------------------------------
        partition, account, region = self.aws.partition, self.aws.account, self.aws.region
        identifier = physical_name(
            "mlflow", NameKind.RDS_INSTANCE, args.name_prefix, owner=self.owner
        )
        log_group_names = [f"/aws/rds/instance/{identifier}/{log}" for log in LOG_EXPORTS]
        self.db_key = self.customer_key(
            f"{name}-db-key",
            alias="mlflow-db",
            name_prefix=args.name_prefix,
            description=f"{args.name_prefix} MLflow database",
            deletion_window_days=args.kms_deletion_window_days,
            # used only through RDS (storage, Performance Insights) and, for the database's
            # own log groups, by CloudWatch Logs
            policy=pulumi.Output.all(partition, account, region).apply(
                lambda v: json.dumps(
                    service_key_policy(
                        partition=v[0],
                        account=v[1],
                        region=v[2],
                        services=["rds"],
                        log_group_arns=[
                            f"arn:{v[0]}:logs:{v[2]}:{v[1]}:log-group:{group}"
                            for group in log_group_names
                        ],
                    )
                )
            ),
            tags=merge_tags(tags, {"role": "model-registry-db-key"}),
            protect=args.protect,
        )
        self.db_security_group = aws.ec2.SecurityGroup(
            f"{name}-db-sg",
            name=physical_name("mlflow-db", NameKind.SECURITY_GROUP, args.name_prefix),
            description="MLflow PostgreSQL: 5432 from the cluster only",
            vpc_id=args.vpc_id,
            tags=merge_tags(tags, {"role": "model-registry-db"}),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-db-from-cluster",
            security_group_id=self.db_security_group.id,
            referenced_security_group_id=args.client_security_group_id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description="PostgreSQL from the cluster's nodes and pods",
            tags=merge_tags(tags, {"role": "model-registry-db"}),
            opts=child,
        )
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-db-subnets",
            name=physical_name("mlflow-db", NameKind.RDS_INSTANCE, args.name_prefix),
            description="MLflow database: private subnets only",
            subnet_ids=args.private_subnet_ids,
            tags=merge_tags(tags, {"role": "model-registry-db"}),
            opts=child,
        )
        major = args.engine_version.split(".")[0]
        parameters = aws.rds.ParameterGroup(
            f"{name}-db-params",
            name=physical_name("mlflow-db", NameKind.RDS_INSTANCE, args.name_prefix),
            family=f"postgres{major}",
            description="MLflow database: TLS only, connection and slow statement logging",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                aws.rds.ParameterGroupParameterArgs(name="log_connections", value="1"),
                aws.rds.ParameterGroupParameterArgs(name="log_disconnections", value="1"),
                aws.rds.ParameterGroupParameterArgs(
                    name="log_min_duration_statement", value=str(args.slow_statement_ms)
                ),
            ],
            tags=merge_tags(tags, {"role": "model-registry-db"}),
            opts=child,
        )
        self.password = random.RandomPassword(
            f"{name}-db-password",
            length=PASSWORD_LENGTH,
            special=False,  # alphanumeric: safe in a DSN, still ~238 bits
            opts=child,
        )
        # RDS writes to /aws/rds/instance/<id>/<log>; created first, they are ours: encrypted
        # with the database key and kept for the environment's retention.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-db-logs-{log}",
                name=group,
                retention_in_days=args.log_retention_days,
                kms_key_id=self.db_key.arn,
                tags=merge_tags(tags, {"role": "model-registry-db-logs", "log-source": log}),
                opts=stateful,
            )
            for log, group in zip(LOG_EXPORTS, log_group_names, strict=True)
        ]
        monitoring_role = (
            self._monitoring_role(name, args, partition, account)
            if args.monitoring_interval_seconds
            else None
        )
        self.db = aws.rds.Instance(
            f"{name}-db",
            identifier=identifier,
            engine="postgres",
            engine_version=args.engine_version,
            auto_minor_version_upgrade=False,
            instance_class=args.instance_class,
            allocated_storage=args.allocated_storage_gb,
            max_allocated_storage=args.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=self.db_key.arn,
            db_name=DATABASE_NAME,
            username=MASTER_USERNAME,
            password=self.password.result,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnet_group.name,
            parameter_group_name=parameters.name,
            vpc_security_group_ids=[self.db_security_group.id],
            publicly_accessible=False,
            multi_az=args.multi_az,
            backup_retention_period=args.backup_retention_days,
            copy_tags_to_snapshot=True,
            delete_automated_backups=not args.protect,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=not args.final_snapshot,
            final_snapshot_identifier=(
                physical_name("mlflow-final", NameKind.RDS_INSTANCE, args.name_prefix)
                if args.final_snapshot
                else None
            ),
            iam_database_authentication_enabled=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=self.db_key.arn,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            monitoring_interval=args.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
            apply_immediately=not args.protect,
            tags=merge_tags(tags, {"role": "model-registry-db"}),
            opts=pulumi.ResourceOptions.merge(
                stateful,
                pulumi.ResourceOptions(
                    depends_on=[*log_groups, *([monitoring_role] if monitoring_role else [])]
                ),
            ),
        )

        # --- artifact access: a Pod Identity role limited to the prefix -------------------
        workload = PodIdentity.of(self, args).role(
            f"{name}-artifacts",
            role="mlflow-artifacts",
            namespace=args.namespace,
            service_account=args.service_account,
            policy=pulumi.Output.all(args.artifact_bucket_arn, args.artifact_kms_key_arn).apply(
                lambda v: access_policy_document(
                    v[0], v[1], args.artifact_prefix, AccessLevel.READ_WRITE
                )
            ),
            tags=merge_tags(tags, {"role": "model-registry-artifacts"}),
        )
        self.artifact_role = workload.role
        association = workload.association
        assert association is not None

        # --- the server ------------------------------------------------------------------
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.namespace,
                labels={
                    "app.kubernetes.io/part-of": "mlops-platform",
                    **pod_security_labels("baseline", warn="restricted", audit="restricted"),
                },
            ),
            opts=child,
        )
        secret_name = "mlflow-database"
        dsn = pulumi.Output.all(self.db.address, self.password.result).apply(
            lambda v: (
                f"postgresql://{MASTER_USERNAME}:{v[1]}@{v[0]}:{POSTGRES_PORT}/"
                f"{DATABASE_NAME}?sslmode=require"
            )
        )
        db_secret = k8s.core.v1.Secret(
            f"{name}-db-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=secret_name, namespace=namespace.metadata.name
            ),
            type="Opaque",
            string_data={
                "username": MASTER_USERNAME,
                "password": self.password.result,
                "dsn": pulumi.Output.secret(dsn),
            },
            opts=child,
        )
        self._guardrails(name, args, namespace)
        service: dict[str, Any] = {"type": "ClusterIP", "annotations": {}}
        if args.internal_load_balancer:
            service = {"type": "LoadBalancer", "annotations": internal_lb_annotations(args)}
        bucket_and_prefix = args.artifact_prefix.rstrip("/")
        values: dict[str, Any] = {
            "fullnameOverride": MLFLOW_SERVICE_NAME,
            "replicaCount": args.replicas,
            "serviceAccount": {"create": True, "name": args.service_account, "automount": False},
            "podSecurityContext": {
                "runAsNonRoot": True,
                "fsGroup": 1001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "service": service,
            "telemetry": {"enabled": False},
            "serverAllowedHosts": allowed_hosts(args, args.region),
            "backendStore": {
                "databaseMigration": True,
                "postgres": {
                    "enabled": True,
                    "host": self.db.address,
                    "port": POSTGRES_PORT,
                    "database": DATABASE_NAME,
                    "driver": "psycopg2",
                },
                "existingDatabaseSecret": {
                    "name": secret_name,
                    "usernameKey": "username",
                    "passwordKey": "password",
                },
            },
            "artifactRoot": {
                "proxiedArtifactStorage": True,
                "s3": {
                    "enabled": True,
                    "bucket": args.artifact_bucket_name,
                    "path": bucket_and_prefix,
                },
            },
            "extraEnvVars": {"AWS_REGION": args.region, "AWS_DEFAULT_REGION": args.region},
            "resources": dict(args.resources),
        }
        if args.image_repository is not None:
            image = {"repository": args.image_repository, "tag": args.image_tag}
            values["image"] = image
            values["initImages"] = {"mlflowDbMigration": image}
        self.release = helm_release(
            f"{name}-mlflow",
            chart="mlflow",
            version=args.chart_version,
            repository=args.chart_repository,
            namespace=namespace.metadata.name,
            values=values,
            opts=self.child(
                depends_on=[
                    db_secret,
                    association,
                    self.db,
                    *(args.load_balancer_dependencies if args.internal_load_balancer else ()),
                ],
            ),
        )

        self.publish(
            tracking_uri=pulumi.Output.from_input(
                f"http://{MLFLOW_SERVICE_NAME}.{args.namespace}.svc.cluster.local:"
                f"{MLFLOW_SERVICE_PORT}"
            ),
            db_endpoint=self.db.endpoint,
            db_instance_arn=self.db.arn,
            db_security_group_id=self.db_security_group.id,
            db_kms_key_arn=self.db_key.arn,
            artifact_role_arn=self.artifact_role.arn,
            artifact_uri=pulumi.Output.concat(
                "s3://", args.artifact_bucket_name, "/", bucket_and_prefix
            ),
        )

    def _monitoring_role(
        self,
        name: str,
        args: ModelRegistryArgs,
        partition: pulumi.Output[str],
        account: pulumi.Output[str],
    ) -> aws.iam.Role:
        """The role RDS Enhanced Monitoring publishes OS metrics with (AWS-managed policy)."""
        role = aws.iam.Role(
            f"{name}-db-monitoring",
            name=physical_name("mlflow-db-monitoring", NameKind.IAM_ROLE, args.name_prefix),
            description="RDS Enhanced Monitoring of the MLflow database",
            assume_role_policy=policy_json(
                {
                    "Version": POLICY_VERSION,
                    "Statement": [
                        {
                            "Sid": "RdsMonitoringAssume",
                            "Effect": "Allow",
                            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                            "Action": ["sts:AssumeRole"],
                            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                        }
                    ],
                }
            ),
            permissions_boundary=args.permission_boundary_arn,
            tags=merge_tags(args.tags, {"role": "model-registry-db-monitoring"}),
            opts=self.child(),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-db-monitoring-policy",
            role=role.name,
            policy_arn=pulumi.Output.concat(
                "arn:", partition, ":iam::aws:policy/", ENHANCED_MONITORING_POLICY
            ),
            opts=self.child(),
        )
        return role

    def _guardrails(
        self, name: str, args: ModelRegistryArgs, namespace: k8s.core.v1.Namespace
    ) -> None:
        """Only opted-in namespaces, the server's own (and, with the internal LB,
        ``ingress_cidrs``) reach the server; a quota caps the namespace and forbids NodePort
        services and extra load balancers."""
        child = self.child()
        sources = [
            # opted-in client namespaces
            k8s.networking.v1.NetworkPolicyPeerArgs(
                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels={CLIENT_NAMESPACE_LABEL: "true"}
                )
            ),
            # the server's own namespace (migrations, probes from sidecars, replicas)
            k8s.networking.v1.NetworkPolicyPeerArgs(
                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels={"kubernetes.io/metadata.name": args.namespace}
                )
            ),
            *[
                k8s.networking.v1.NetworkPolicyPeerArgs(
                    ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr)
                )
                for cidr in args.ingress_cidrs
            ],
        ]
        k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="mlflow-ingress", namespace=namespace.metadata.name
            ),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Ingress"],
                ingress=[
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=sources,
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(
                                port=MLFLOW_CONTAINER_PORT, protocol="TCP"
                            )
                        ],
                    )
                ],
            ),
            opts=child,
        )
        hard = {
            **dict(args.namespace_quota),
            "services.loadbalancers": "1" if args.internal_load_balancer else "0",
            # A LoadBalancer Service counts its node ports against this quota (the service
            # controller's load balancers target node ports): one port with the LB.
            "services.nodeports": "1" if args.internal_load_balancer else "0",
        }
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="mlflow-quota", namespace=namespace.metadata.name
            ),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=hard),
            opts=child,
        )
