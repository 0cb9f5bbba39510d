"""kube-prometheus-stack as the platform installs it: the names its values set (release,
service accounts, secrets, the dashboard label), the alert receivers it can route to, and its
values (keys checked against the pinned chart's ``values.yaml``)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

from ..cluster.kubernetes import GPU_TOLERATION
from ..core.load_balancing import internal_service_annotations

if TYPE_CHECKING:
    from .observability import ObservabilityArgs

RELEASE_NAME = "kube-prometheus-stack"
"""The Helm release name; the chart derives its objects' names from it."""

PROMETHEUS_SERVICE_ACCOUNT = "prometheus"
ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"
GRAFANA_ADMIN_SECRET = "grafana-admin"
WEBHOOK_SECRET = "alertmanager-webhook"
DASHBOARD_LABEL = "grafana_dashboard"
"""The label the chart's Grafana sidecar watches (``grafana.sidecar.dashboards.label``)."""


class ReceiverType(StrEnum):
    """Where Alertmanager sends notifications."""

    SNS = "sns"
    """An SNS topic created here (KMS-encrypted); subscribe e-mail, chat or paging to it."""
    WEBHOOK = "webhook"
    """An HTTPS webhook whose URL is a secret (``webhook_url``)."""


def chart_values(
    args: ObservabilityArgs,
    *,
    receivers: list[ReceiverType],
    storage_class: pulumi.Output[str],
    topic: aws.sns.Topic | None,
    region: pulumi.Output[str],
    remote_write_url: pulumi.Output[str] | None,
) -> dict[str, Any]:
    """kube-prometheus-stack values (keys checked against the pinned chart's values.yaml)."""

    def volume(size: str) -> dict[str, Any]:
        return {
            "volumeClaimTemplate": {
                "spec": {
                    "storageClassName": storage_class,
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                }
            }
        }

    prometheus_spec: dict[str, Any] = {
        "replicas": args.prometheus_replicas,
        "retention": f"{args.prometheus_retention_days}d",
        "retentionSize": f"{args.prometheus_storage_gib * 9 // 10}GiB",
        "storageSpec": volume(f"{args.prometheus_storage_gib}Gi"),
        # Select every ServiceMonitor, PodMonitor and PrometheusRule in the cluster, so
        # model teams' monitors are scraped without carrying this release's label.
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
    }
    if remote_write_url is not None:
        prometheus_spec["remoteWrite"] = [
            {"url": remote_write_url, "sigv4": {"region": args.amp_region}}
        ]

    platform: dict[str, Any] = {"name": "platform"}
    alertmanager_spec: dict[str, Any] = {"storage": volume("2Gi")}
    if topic is not None:
        platform["sns_configs"] = [
            {"topic_arn": topic.arn, "sigv4": {"region": region}, "send_resolved": True}
        ]
    if ReceiverType.WEBHOOK in receivers:
        platform["webhook_configs"] = [
            {"url_file": f"/etc/alertmanager/secrets/{WEBHOOK_SECRET}/url", "send_resolved": True}
        ]
        alertmanager_spec["secrets"] = [WEBHOOK_SECRET]
    default_receiver = "platform" if receivers else "null"
    alertmanager_config = {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": default_receiver,
            "group_by": ["alertname", "namespace", "node"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"receiver": "null", "matchers": ['alertname = "Watchdog"']},
                {"receiver": "null", "matchers": ['alertname = "InfoInhibitor"']},
            ],
        },
        "receivers": [{"name": "null"}, *([platform] if receivers else [])],
    }

    grafana_service: dict[str, Any] = {"type": "ClusterIP"}
    if args.grafana_internal_load_balancer:
        grafana_service = {"type": "LoadBalancer", "annotations": internal_service_annotations()}

    return {
        "crds": {"enabled": True},
        "defaultRules": {"create": True},
        "prometheus": {
            **_in_cluster_only(PROMETHEUS_SERVICE_ACCOUNT),
            "prometheusSpec": prometheus_spec,
        },
        "alertmanager": {
            **_in_cluster_only(ALERTMANAGER_SERVICE_ACCOUNT),
            "config": alertmanager_config,
            "alertmanagerSpec": alertmanager_spec,
        },
        "grafana": {
            "enabled": True,
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "service": grafana_service,
            "ingress": {"enabled": False},
            "sidecar": {
                "dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1"}
            },
        },
        "kubeStateMetrics": {"enabled": True},
        "kube-state-metrics": {"metricLabelsAllowlist": [f"nodes=[{args.gpu_pool_label}]"]},
        "nodeExporter": {"enabled": True},
        # node-exporter is a DaemonSet: tolerate the GPU taint (and, as the chart does by
        # default, any other NoSchedule taint) so every node, GPU nodes included, is measured.
        "prometheus-node-exporter": {
            "tolerations": [dict(GPU_TOLERATION), {"operator": "Exists", "effect": "NoSchedule"}]
        },
    }


def _in_cluster_only(service_account: str) -> dict[str, Any]:
    """A chart server reachable only inside the cluster (ClusterIP, no ingress), running as
    its own service account (the name its Pod Identity association binds)."""
    return {
        "enabled": True,
        "service": {"type": "ClusterIP"},
        "ingress": {"enabled": False},
        "serviceAccount": {"create": True, "name": service_account},
    }
