"""``Observability``: metrics, GPU dashboards, alerts that page, and application log groups.

Inside the cluster: kube-prometheus-stack from its official chart (version pinned) with
Prometheus on an encrypted gp3 storage class, Alertmanager, Grafana (generated admin
password, never public), node-exporter (also on GPU nodes) and kube-state-metrics; a
ServiceMonitor for NVIDIA's DCGM exporter; the platform's alert rules as a PrometheusRule;
two dashboards as ConfigMaps the Grafana sidecar loads. On AWS: a KMS key, application log
groups, an optional SNS alert topic, and an optional Amazon Managed Prometheus workspace
that Prometheus remote-writes to through a least-privilege Pod Identity role.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..cluster.kubernetes import helm_release, monitoring_object
from ..core.component import Component
from ..core.labels import POOL_LABEL
from ..core.limits import kms_deletion_window_problems, retention_problems
from ..core.naming import NameKind, physical_name
from ..core.patterns import DNS_LABEL, REGION
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..core.versions import KUBE_PROMETHEUS_STACK_CHART, KUBE_PROMETHEUS_STACK_CHART_REPOSITORY
from ..iam import PodIdentity
from .alert_rules import (
    AlertThresholds,
    ServingMetrics,
    alert_rules,
    check_thresholds,
    prometheus_rule_groups,
    sanitize_label,
)
from .documents import key_policy, remote_write_policy, sns_publish_policy, topic_policy
from .prometheus_stack import (
    ALERTMANAGER_SERVICE_ACCOUNT,
    DASHBOARD_LABEL,
    GRAFANA_ADMIN_SECRET,
    PROMETHEUS_SERVICE_ACCOUNT,
    RELEASE_NAME,
    WEBHOOK_SECRET,
    ReceiverType,
    chart_values,
)

KUBE_PROMETHEUS_STACK_VERSION = KUBE_PROMETHEUS_STACK_CHART
"""The kube-prometheus-stack chart version this release is tested with (pinned)."""

CHART_REPOSITORY = KUBE_PROMETHEUS_STACK_CHART_REPOSITORY
"""The chart's official repository."""

DEFAULT_RUNBOOK_BASE_URL = "docs/runbooks"
"""Where alerts' ``runbook_url`` annotations point by default: the repository's runbooks
folder. Set the browsable URL of that folder (e.g. your Git host's view of it) instead."""

DCGM_EXPORTER_LABELS: dict[str, str] = {"app.kubernetes.io/name": "dcgm-exporter"}
"""The label NVIDIA's dcgm-exporter Helm chart puts on its Service (chart defaults)."""


DASHBOARDS: tuple[str, ...] = ("gpu-fleet", "serving")
"""Dashboards shipped from :mod:`mlops_platform.observability.dashboards`."""


_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass
class ObservabilityArgs:
    """Inputs of :class:`Observability`."""

    name_prefix: str
    """Prefix of physical names, ``{project}-{stack}``."""

    kubernetes_provider: pulumi.ProviderResource
    """The Kubernetes provider of the serving cluster."""

    cluster_name: pulumi.Input[str] | None = None
    """EKS cluster name; needed for Pod Identity roles (SNS receiver, AMP remote write)."""

    cluster_arn: pulumi.Input[str] | None = None
    """EKS cluster ARN; the Pod Identity roles trust only this cluster."""

    permission_boundary_arn: pulumi.Input[str] | None = None
    """Permissions boundary on the Pod Identity roles, when the environment uses one."""

    namespace: str = "monitoring"
    """Namespace created for the monitoring stack."""

    chart_version: str = KUBE_PROMETHEUS_STACK_VERSION
    """kube-prometheus-stack chart version (pinned; never ``latest``)."""

    prometheus_retention_days: int = 15
    """How long Prometheus keeps metrics (1-3650)."""

    prometheus_storage_gib: int = 50
    """Size of each Prometheus volume in GiB (10-16384); retention by size stops at 90%."""

    prometheus_replicas: int = 1
    """Prometheus replicas (1-5); two give highly available scraping and alerting."""

    storage_kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed KMS key for the gp3 volumes; default: the account's EBS key."""

    grafana_internal_load_balancer: bool = False
    """Expose Grafana through an internal (VPC-only) NLB of the AWS Load Balancer Controller;
    never internet-facing. Pass the controller's release in ``load_balancer_dependencies``."""

    load_balancer_dependencies: Sequence[pulumi.Resource] = ()
    """What the chart waits for when Grafana gets a LoadBalancer Service: the AWS Load
    Balancer Controller's release (its webhook admits the Service)."""

    receivers: list[str] = field(default_factory=list)
    """Alert receivers: ``sns`` and/or ``webhook``; empty routes nowhere (dev)."""

    webhook_url: pulumi.Input[str] | None = None
    """The webhook receiver's URL, a secret; required with the ``webhook`` receiver."""

    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    """The numbers alerts fire on."""

    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
    """Base of every alert's ``runbook_url``; ``<base>/<alert-slug>.md``."""

    gpu_pool_label: str = POOL_LABEL
    """Node label key holding a GPU node's pool name (dashboards and the pool-at-max alert);
    default: the label :mod:`mlops_platform.gpu.node_pool` puts on GPU nodes."""

    gpu_pool_max_nodes: dict[str, int] = field(default_factory=dict)
    """GPU pool name -> maximum node count, for the pool-at-max alert."""

    serving_metrics: ServingMetrics = field(default_factory=ServingMetrics)
    """Names of the model servers' request and latency metrics."""

    dcgm_exporter_namespace: str = "nvidia-gpu"
    """Namespace the DCGM exporter's Service lives in (pass ``NvidiaSoftware.namespace``)."""

    dcgm_exporter_labels: dict[str, str] = field(default_factory=lambda: dict(DCGM_EXPORTER_LABELS))
    """Labels selecting the DCGM exporter's Service (default: the dcgm-exporter chart's)."""

    dcgm_exporter_port: str = "metrics"
    """Name of the DCGM exporter Service's metrics port (the chart's default)."""

    application_log_groups: list[str] = field(default_factory=lambda: ["applications"])
    """Roles of the CloudWatch log groups for application logs (one group each)."""

    log_retention_days: int = 30
    """Retention of the log groups, in days (a value CloudWatch accepts)."""

    kms_deletion_window_days: int = 30
    """Days KMS waits before deleting the observability key (7 to 30)."""

    amp_enabled: bool = False
    """Create an Amazon Managed Prometheus workspace and remote-write to it."""

    amp_region: str | None = None
    """Region of the AMP workspace (required with ``amp_enabled``; AMP is not in every region)."""

    protect: bool = False
    """Protect and retain-on-delete the KMS key, log groups and the AMP workspace."""

    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every taggable AWS child."""


def load_dashboard(name: str, replacements: dict[str, str]) -> str:
    """A shipped dashboard's JSON with its placeholders replaced."""
    text = (
        resources.files("mlops_platform.observability.dashboards")
        .joinpath(f"{name}.json")
        .read_text("utf-8")
    )
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    json.loads(text)  # fail loudly on a broken file
    return text


class Observability(Component, legacy_module="observability"):
    """Metrics, dashboards, alerting and log groups of one environment."""

    namespace: pulumi.Output[str]
    """The monitoring namespace."""

    chart_version: pulumi.Output[str]
    """The kube-prometheus-stack chart version deployed."""

    grafana_url: pulumi.Output[str]
    """Grafana's in-cluster URL (reach it with ``kubectl port-forward`` or the internal LB)."""

    prometheus_url: pulumi.Output[str]
    """Prometheus' in-cluster URL (KEDA's Prometheus scaler and other in-cluster readers)."""

    grafana_admin_password: pulumi.Output[str]
    """Grafana's generated admin password (secret)."""

    alert_topic_arn: pulumi.Output[str | None]
    """ARN of the SNS alert topic, when the ``sns`` receiver is on."""

    kms_key_arn: pulumi.Output[str]
    """The KMS key encrypting the log groups and the alert topic."""

    log_group_names: pulumi.Output[list[str]]
    """Names of the application log groups."""

    amp_workspace_arn: pulumi.Output[str | None]
    """ARN of the Amazon Managed Prometheus workspace, when enabled."""

    amp_remote_write_url: pulumi.Output[str | None]
    """Remote-write URL of the AMP workspace, when enabled."""

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, _check)
        super().__init__(name, opts)
        self._name = name
        self._args = args
        self._receivers = [ReceiverType(r) for r in args.receivers]
        self._associations: list[pulumi.Resource] = []
        """Pod Identity associations (and policies) the chart's pods need before they start."""

        key, log_groups = self._key_and_log_groups()
        topic = self._alert_topic(key) if ReceiverType.SNS in self._receivers else None
        workspace, remote_write_url = self._amp_workspace() if args.amp_enabled else (None, None)
        ns, password, release = self._chart(topic, remote_write_url)
        self._operator_resources(ns, release)

        self.namespace = ns
        self.chart_version = pulumi.Output.from_input(args.chart_version)
        self.grafana_url = ns.apply(lambda n: f"http://{RELEASE_NAME}-grafana.{n}.svc")
        # The chart's Prometheus Service: <fullname>-prometheus on port 9090.
        self.prometheus_url = ns.apply(
            lambda n: f"http://{RELEASE_NAME}-prometheus.{n}.svc.cluster.local:9090"
        )
        self.grafana_admin_password = pulumi.Output.secret(password.result)
        self.alert_topic_arn = topic.arn if topic else pulumi.Output.from_input(None)
        self.kms_key_arn = key.arn
        self.log_group_names = pulumi.Output.all(*[g.name for g in log_groups])
        self.amp_workspace_arn = workspace.arn if workspace else pulumi.Output.from_input(None)
        self.amp_remote_write_url = (
            remote_write_url if remote_write_url is not None else pulumi.Output.from_input(None)
        )
        self.register_outputs(
            {
                "namespace": self.namespace,
                "chartVersion": self.chart_version,
                "grafanaUrl": self.grafana_url,
                "prometheusUrl": self.prometheus_url,
                "grafanaAdminPassword": self.grafana_admin_password,
                "alertTopicArn": self.alert_topic_arn,
                "kmsKeyArn": self.kms_key_arn,
                "logGroupNames": self.log_group_names,
                "ampWorkspaceArn": self.amp_workspace_arn,
                "ampRemoteWriteUrl": self.amp_remote_write_url,
            }
        )

    # --- AWS --------------------------------------------------------------------------------------

    def _key_and_log_groups(self) -> tuple[aws.kms.Key, list[aws.cloudwatch.LogGroup]]:
        """The observability KMS key (rotated) and the application log groups it encrypts."""
        name, args, prefix = self._name, self._args, self._args.name_prefix
        log_group_names = [
            physical_name(role, NameKind.LOG_GROUP, prefix, owner=self.owner)
            for role in args.application_log_groups
        ]
        key = self.customer_key(
            f"{name}-key",
            alias="observability",
            name_prefix=prefix,
            description=f"{prefix} observability: application log groups and alert topic",
            deletion_window_days=args.kms_deletion_window_days,
            policy=pulumi.Output.all(self.aws.account, self.aws.partition, self.aws.region).apply(
                lambda a: key_policy(a[0], a[1], a[2], log_group_names)
            ),
            tags=merge_tags(args.tags, {"role": "observability"}),
            protect=self._args.protect,
        )
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-logs-{role}",
                name=group_name,
                retention_in_days=args.log_retention_days,
                kms_key_id=key.arn,
                tags=merge_tags(args.tags, {"role": "application-logs", "log-source": role}),
                opts=self.stateful(self._args.protect),
            )
            for role, group_name in zip(args.application_log_groups, log_group_names, strict=True)
        ]
        return key, log_groups

    def _alert_topic(self, key: aws.kms.Key) -> aws.sns.Topic:
        """The KMS-encrypted SNS topic Alertmanager publishes to, TLS only."""
        name, args = self._name, self._args
        child = self.child()
        topic = aws.sns.Topic(
            f"{name}-alerts",
            name=physical_name("alerts", NameKind.SNS_TOPIC, args.name_prefix),
            kms_master_key_id=key.arn,
            tags=merge_tags(args.tags, {"role": "alerts"}),
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, self.aws.account).apply(
                lambda a: topic_policy(a[0], a[1])
            ),
            opts=child,
        )
        self._pod_identity_role(
            "alertmanager",
            service_account=ALERTMANAGER_SERVICE_ACCOUNT,
            policy=sns_publish_policy(topic.arn, key.arn, self.aws.region),
        )
        return topic

    def _amp_workspace(self) -> tuple[aws.amp.Workspace, pulumi.Output[str]]:
        """The AMP workspace, its remote-write URL and Prometheus's write-only role."""
        args = self._args
        workspace = aws.amp.Workspace(
            f"{self._name}-amp",
            # AMP aliases allow up to 100 characters, like EKS cluster names
            alias=physical_name("metrics", NameKind.EKS_CLUSTER, args.name_prefix),
            region=args.amp_region,
            tags=merge_tags(args.tags, {"role": "metrics"}),
            opts=self.stateful(self._args.protect),
        )
        remote_write_url = workspace.prometheus_endpoint.apply(
            lambda e: f"{e.rstrip('/')}/api/v1/remote_write"
        )
        self._pod_identity_role(
            "prometheus",
            service_account=PROMETHEUS_SERVICE_ACCOUNT,
            policy=remote_write_policy(workspace.arn),
        )
        return workspace, remote_write_url

    def _pod_identity_role(
        self, role: str, *, service_account: str, policy: Mapping[str, Any]
    ) -> None:
        """A least-privilege role for one monitoring service account, through Pod Identity.

        The chart release waits for the association (and the role's policy): a pod started
        before its association exists gets no AWS credentials until it restarts.
        """
        args = self._args
        # cluster_name and cluster_arn may be None only when no role is made (see _check)
        workload = PodIdentity.of(self, args).role(  # type: ignore[arg-type]
            f"{self._name}-{role}",
            role=f"{role}-observability",
            namespace=args.namespace,
            service_account=service_account,
            policy=policy,
            tags=merge_tags(args.tags, {"role": role}),
        )
        self._associations += [workload.policy, *filter(None, [workload.association])]

    # --- Kubernetes -------------------------------------------------------------------------------

    def _chart(
        self, topic: aws.sns.Topic | None, remote_write_url: pulumi.Output[str] | None
    ) -> tuple[pulumi.Output[str], random.RandomPassword, k8s.helm.v3.Release]:
        """Namespace, storage class, secrets, dashboards and the kube-prometheus-stack release."""
        name, args = self._name, self._args
        k8s_opts = self.child(provider=args.kubernetes_provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace, "labels": {"app.kubernetes.io/part-of": "mlops"}},
            opts=k8s_opts,
        )
        ns = namespace.metadata.apply(lambda m: m.name or args.namespace)
        storage_parameters: dict[str, pulumi.Input[str]] = {"type": "gp3", "encrypted": "true"}
        if args.storage_kms_key_arn is not None:
            storage_parameters["kmsKeyId"] = args.storage_kms_key_arn
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage",
            metadata={"name": physical_name("metrics-gp3", NameKind.KUBERNETES, args.name_prefix)},
            provisioner="ebs.csi.aws.com",
            parameters=storage_parameters,
            reclaim_policy="Retain" if args.protect else "Delete",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=k8s_opts,
        )

        password = random.RandomPassword(
            f"{name}-grafana-admin",
            length=32,
            special=True,
            override_special="-_.~",
            min_lower=2,
            min_upper=2,
            min_numeric=2,
            opts=self.child(),
        )
        secrets: list[pulumi.Resource] = [
            k8s.core.v1.Secret(
                f"{name}-grafana-admin",
                metadata={"name": GRAFANA_ADMIN_SECRET, "namespace": ns},
                type="Opaque",
                string_data={
                    "admin-user": "admin",
                    "admin-password": pulumi.Output.secret(password.result),
                },
                opts=k8s_opts,
            )
        ]
        if ReceiverType.WEBHOOK in self._receivers and args.webhook_url is not None:
            secrets.append(
                k8s.core.v1.Secret(
                    f"{name}-webhook",
                    metadata={"name": WEBHOOK_SECRET, "namespace": ns},
                    type="Opaque",
                    string_data={"url": pulumi.Output.secret(args.webhook_url)},
                    opts=k8s_opts,
                )
            )

        replacements = {
            "__POOL_LABEL__": sanitize_label(args.gpu_pool_label),
            "__REQUESTS_METRIC__": args.serving_metrics.requests_total,
            "__LATENCY_METRIC__": args.serving_metrics.latency_histogram,
            "__STATUS_LABEL__": args.serving_metrics.status_label,
        }
        for dashboard in DASHBOARDS:
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{dashboard}",
                metadata={
                    "name": f"mlops-dashboard-{dashboard}",
                    "namespace": ns,
                    "labels": {DASHBOARD_LABEL: "1"},
                },
                data={f"{dashboard}.json": load_dashboard(dashboard, replacements)},
                opts=k8s_opts,
            )

        release = helm_release(
            f"{name}-kube-prometheus-stack",
            chart=RELEASE_NAME,
            version=args.chart_version,
            repository=CHART_REPOSITORY,
            namespace=ns,
            atomic=False,
            values=chart_values(
                args,
                receivers=self._receivers,
                storage_class=storage_class.metadata.apply(lambda m: m.name or ""),
                topic=topic,
                region=self.aws.region,
                remote_write_url=remote_write_url,
            ),
            opts=self.child(
                provider=args.kubernetes_provider,
                depends_on=[
                    *secrets,
                    *self._associations,
                    *(
                        args.load_balancer_dependencies
                        if args.grafana_internal_load_balancer
                        else ()
                    ),
                ],
            ),
        )
        return ns, password, release

    def _operator_resources(self, ns: pulumi.Output[str], release: k8s.helm.v3.Release) -> None:
        """The DCGM ServiceMonitor and the alert rules (their CRDs come with the chart)."""
        name, args = self._name, self._args
        after_chart = self.child(provider=args.kubernetes_provider, depends_on=[release])
        monitoring_object(
            f"{name}-dcgm-exporter",
            "ServiceMonitor",
            metadata=_release_selected("dcgm-exporter", ns),
            spec={
                "selector": {"matchLabels": dict(args.dcgm_exporter_labels)},
                "namespaceSelector": {"matchNames": [args.dcgm_exporter_namespace]},
                "endpoints": [
                    {
                        "port": args.dcgm_exporter_port,
                        "interval": "15s",
                        "relabelings": [
                            {
                                "sourceLabels": ["__meta_kubernetes_pod_node_name"],
                                "targetLabel": "node",
                                "action": "replace",
                            }
                        ],
                    }
                ],
            },
            opts=after_chart,
        )
        rules = alert_rules(
            args.thresholds,
            gpu_pool_label=args.gpu_pool_label,
            gpu_pool_max_nodes=dict(args.gpu_pool_max_nodes),
            serving=args.serving_metrics,
        )
        monitoring_object(
            f"{name}-alert-rules",
            "PrometheusRule",
            metadata=_release_selected("mlops-platform-alerts", ns),
            spec={"groups": prometheus_rule_groups(rules, args.runbook_base_url)},
            opts=after_chart,
        )


def _check(args: ObservabilityArgs) -> list[Invalid]:
    """Every problem with ``args``."""
    return [*_check_routing(args), *_check_sizes(args), *_check_scraping(args)]


def _check_routing(args: ObservabilityArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    allowed_receivers = ", ".join(r.value for r in ReceiverType)
    known = {r.value for r in ReceiverType}
    problems += [
        Invalid(f"receivers[{i}]", receiver, f"one of: {allowed_receivers}")
        for i, receiver in enumerate(args.receivers)
        if receiver not in known
    ]
    if len(set(args.receivers)) != len(args.receivers):
        problems.append(Invalid("receivers", args.receivers, "each receiver type at most once"))
    if ReceiverType.WEBHOOK.value in args.receivers and args.webhook_url is None:
        problems.append(
            Invalid("webhook_url", None, "required with the webhook receiver (pass it as a secret)")
        )
    needs_cluster = ReceiverType.SNS.value in args.receivers or args.amp_enabled
    problems += [
        Invalid(key, None, "required with the sns receiver or amp_enabled (Pod Identity roles)")
        for key in ("cluster_name", "cluster_arn")
        if needs_cluster and getattr(args, key) is None
    ]
    if args.amp_enabled and not args.amp_region:
        problems.append(
            Invalid(
                "amp_region",
                args.amp_region,
                "required when amp_enabled is true: the region of the AMP workspace that "
                "Prometheus signs remote writes for, e.g. us-east-1",
            )
        )
    elif args.amp_region is not None and not REGION.matches(args.amp_region):
        problems.append(Invalid("amp_region", args.amp_region, "an AWS region, e.g. us-east-1"))
    if not args.runbook_base_url.strip():
        problems.append(Invalid("runbook_base_url", args.runbook_base_url, "a URL or path"))
    return problems + check_thresholds(args.thresholds)


def _check_sizes(args: ObservabilityArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if not args.chart_version or args.chart_version == "latest":
        problems.append(
            Invalid("chart_version", args.chart_version, "a pinned chart version, e.g. 88.5.3")
        )
    ranges: dict[str, tuple[int, int]] = {
        "prometheus_retention_days": (1, 3650),
        "prometheus_storage_gib": (10, 16384),
        "prometheus_replicas": (1, 5),
    }
    for key, (low, high) in ranges.items():
        value = getattr(args, key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(Invalid(key, value, f"an integer from {low} to {high}"))
    problems += retention_problems("log_retention_days", args.log_retention_days)
    problems += kms_deletion_window_problems(
        "kms_deletion_window_days", args.kms_deletion_window_days
    )
    problems += [
        Invalid(f"gpu_pool_max_nodes[{pool}]", maximum, "a positive node count")
        for pool, maximum in args.gpu_pool_max_nodes.items()
        if isinstance(maximum, bool) or not isinstance(maximum, int) or maximum < 1
    ]
    return problems


def _check_scraping(args: ObservabilityArgs) -> list[Invalid]:
    problems = [
        Invalid(key, getattr(args, key), "a Kubernetes namespace name")
        for key in ("namespace", "dcgm_exporter_namespace")
        if not DNS_LABEL.matches(getattr(args, key))
    ]
    if not args.dcgm_exporter_labels:
        problems.append(
            Invalid("dcgm_exporter_labels", {}, "at least one label selecting the exporter")
        )
    problems += [
        Invalid(f"serving_metrics.{key}", value, "a Prometheus name")
        for key in ("requests_total", "latency_histogram", "status_label")
        if not _METRIC_NAME.match(value := getattr(args.serving_metrics, key))
    ]
    return problems


def _release_selected(name: str, namespace: pulumi.Input[str]) -> dict[str, Any]:
    """Metadata of a monitoring object the release's Prometheus picks up (its ``release``
    label selects ServiceMonitors and PrometheusRules)."""
    return {"name": name, "namespace": namespace, "labels": {"release": RELEASE_NAME}}
