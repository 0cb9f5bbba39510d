"""The platform's Prometheus alert rules, as plain Python data.

:func:`alert_rules` renders every rule from :class:`AlertThresholds` and a few facts about
the environment (GPU pools and their maximum sizes, the serving metrics' names), and
:func:`prometheus_rule_groups` arranges them as the ``spec.groups`` of a ``PrometheusRule``.
Every rule carries a ``runbook_url`` annotation pointing at ``docs/runbooks/<slug>.md``.

GPU rules read the metrics of NVIDIA's DCGM exporter (``DCGM_FI_*``); the ServiceMonitor
that scrapes it adds a ``node`` label (the Kubernetes node name), so GPU alerts and the GPU
dashboard can name the node and, joined with ``kube_node_labels``, the GPU pool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from ..core.validation import Invalid


class Severity(StrEnum):
    """How urgently an alert needs a human."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class AlertThresholds:
    """The numbers alerts fire on. Each field has a documented valid range."""

    gpu_memory_used_percent: float = 95.0
    """Framebuffer memory used, in percent of the GPU's memory, sustained for 15 minutes."""

    gpu_temperature_celsius: float = 87.0
    """GPU core temperature that counts as thermal throttling territory (10 minutes)."""

    gpu_idle_utilization_percent: float = 5.0
    """Average GPU utilization below which an allocated GPU counts as idle."""

    gpu_idle_minutes: int = 60
    """How long a GPU must stay idle before the cost alert fires."""

    gpu_pending_pod_minutes: int = 15
    """How long a pod requesting ``nvidia.com/gpu`` may stay Pending."""

    inference_error_rate_percent: float = 1.0
    """Serving SLO: share of requests answered with a server error, over 5 minutes."""

    inference_p99_latency_seconds: float = 1.0
    """Serving SLO: 99th percentile request latency, over 5 minutes."""

    scrape_down_minutes: int = 10
    """How long a scrape target may be down before it pages."""

    prometheus_storage_used_percent: float = 85.0
    """Used share of the Prometheus volume that warns of storage filling."""


# (min, max, min inclusive, max inclusive) per threshold.
THRESHOLD_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "gpu_memory_used_percent": (50, 100, True, False),
    "gpu_temperature_celsius": (60, 110, True, True),
    "gpu_idle_utilization_percent": (0, 50, False, True),
    "gpu_idle_minutes": (10, 1440, True, True),
    "gpu_pending_pod_minutes": (1, 1440, True, True),
    "inference_error_rate_percent": (0, 50, False, True),
    "inference_p99_latency_seconds": (0, 300, False, True),
    "scrape_down_minutes": (1, 1440, True, True),
    "prometheus_storage_used_percent": (50, 100, True, False),
}
"""The valid range of each threshold; outside it an alert is meaningless or never fires."""


def _describe(low: float, high: float, low_inc: bool, high_inc: bool) -> str:
    left = "[" if low_inc else "("
    right = "]" if high_inc else ")"
    return f"a number in {left}{low:g}, {high:g}{right}"


def check_thresholds(thresholds: AlertThresholds, arg: str = "thresholds") -> list[Invalid]:
    """Every threshold outside its range, named ``<arg>.<field>``."""
    problems: list[Invalid] = []
    for field in fields(thresholds):
        value = getattr(thresholds, field.name)
        low, high, low_inc, high_inc = THRESHOLD_RANGES[field.name]
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        in_range = is_number and (
            (low <= value if low_inc else low < value)
            and (value <= high if high_inc else value < high)
        )
        if not in_range:
            problems.append(
                Invalid(f"{arg}.{field.name}", value, _describe(low, high, low_inc, high_inc))
            )
    return problems


@dataclass(frozen=True)
class ServingMetrics:
    """Names of the metrics model servers expose (Prometheus client conventions by default)."""

    requests_total: str = "http_requests_total"
    """Counter of requests, labelled with the response status."""

    status_label: str = "code"
    """Label on ``requests_total`` that holds the HTTP status code."""

    latency_histogram: str = "http_request_duration_seconds"
    """Histogram of request latency in seconds (base name, without ``_bucket``)."""


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule."""

    name: str
    """The alert name (``alertname``)."""
    group: str
    """The rule group it belongs to."""
    expr: str
    """The PromQL expression; the alert fires for every series it returns."""
    for_: str
    """How long the expression must hold before the alert fires."""
    severity: Severity
    """Routing and paging urgency."""
    summary: str
    """One line for the notification title."""
    description: str
    """What is happening, with label templates."""
    metrics: tuple[str, ...]
    """The metric names the expression reads (for tests and docs)."""

    @property
    def slug(self) -> str:
        """The runbook file stem: ``GpuXidError`` -> ``gpu-xid-error``."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", self.name).lower()


def sanitize_label(key: str) -> str:
    """The Prometheus label kube-state-metrics derives from a Kubernetes label key."""
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


def alert_rules(
    thresholds: AlertThresholds,
    *,
    gpu_pool_label: str,
    gpu_pool_max_nodes: dict[str, int],
    serving: ServingMetrics,
    prometheus_pvc_regex: str = "prometheus-.*-db-prometheus-.*",
) -> list[AlertRule]:
    """Every platform alert, rendered with ``thresholds``.

    ``gpu_pool_max_nodes`` maps each GPU pool name to its maximum node count; the
    "node pool at its max" alert compares it with the nodes carrying ``gpu_pool_label``.
    Without pools that alert is left out (there is nothing to compare).
    """
    t = thresholds
    pool = sanitize_label(gpu_pool_label)
    status = serving.status_label
    rules = [
        AlertRule(
            name="GpuXidError",
            group="gpu-health",
            expr="max by (node, gpu, UUID) (DCGM_FI_DEV_XID_ERRORS) > 0",
            for_="0m",
            severity=Severity.CRITICAL,
            summary="GPU reported an XID error",
            description="GPU {{ $labels.gpu }} on node {{ $labels.node }} reported XID "
            "{{ $value }}. XIDs 48, 63, 64, 74, 79 and 95 usually need the node drained.",
            metrics=("DCGM_FI_DEV_XID_ERRORS",),
        ),
        AlertRule(
            name="GpuEccRowRemapErrors",
            group="gpu-health",
            expr="(max by (node, gpu, UUID) "
            "(increase(DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS[30m])) > 0) "
            "or (max by (node, gpu, UUID) (DCGM_FI_DEV_ROW_REMAP_FAILURE) > 0) "
            "or (max by (node, gpu, UUID) (increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[30m])) > 0)",
            for_="0m",
            severity=Severity.CRITICAL,
            summary="GPU memory has uncorrectable ECC errors or failed row remapping",
            description="GPU {{ $labels.gpu }} on node {{ $labels.node }} has uncorrectable "
            "memory errors; its results can be wrong until it is reset or replaced.",
            metrics=(
                "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
                "DCGM_FI_DEV_ROW_REMAP_FAILURE",
                "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
            ),
        ),
        AlertRule(
            name="GpuThermalThrottling",
            group="gpu-health",
            expr="(max by (node, gpu, UUID) (DCGM_FI_DEV_GPU_TEMP) "
            f"> {t.gpu_temperature_celsius:g}) "
            "or (max by (node, gpu, UUID) (rate(DCGM_FI_DEV_THERMAL_VIOLATION[5m])) > 0)",
            for_="10m",
            severity=Severity.WARNING,
            summary="GPU is running hot or being throttled for temperature",
            description="GPU {{ $labels.gpu }} on node {{ $labels.node }} is above "
            f"{t.gpu_temperature_celsius:g} C or reports thermal throttling; it runs slower.",
            metrics=("DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_THERMAL_VIOLATION"),
        ),
        AlertRule(
            name="GpuMemoryNearFull",
            group="gpu-usage",
            expr="max by (node, gpu, UUID, namespace, pod) (DCGM_FI_DEV_FB_USED "
            "/ (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) * 100) "
            f"> {t.gpu_memory_used_percent:g}",
            for_="15m",
            severity=Severity.WARNING,
            summary="GPU memory is nearly full",
            description="GPU {{ $labels.gpu }} on node {{ $labels.node }} (pod "
            '{{ $labels.pod }}) uses {{ $value | printf "%.0f" }}% of its memory; the next '
            "large batch or model load may fail with out-of-memory.",
            metrics=("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"),
        ),
        AlertRule(
            name="GpuIdle",
            group="gpu-usage",
            expr="max by (node, gpu, UUID) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[15m])) "
            f"< {t.gpu_idle_utilization_percent:g}",
            for_=f"{t.gpu_idle_minutes}m",
            severity=Severity.INFO,
            summary="GPU idle for a long time (cost)",
            description="GPU {{ $labels.gpu }} on node {{ $labels.node }} has averaged under "
            f"{t.gpu_idle_utilization_percent:g}% utilization for {t.gpu_idle_minutes} minutes; "
            "you pay for it anyway.",
            metrics=("DCGM_FI_DEV_GPU_UTIL",),
        ),
        AlertRule(
            name="GpuPodsPending",
            group="gpu-capacity",
            expr='(max by (namespace, pod) (kube_pod_status_phase{phase="Pending"}) == 1) '
            "and on (namespace, pod) "
            "(sum by (namespace, pod) "
            '(kube_pod_container_resource_requests{resource="nvidia_com_gpu"}) > 0)',
            for_=f"{t.gpu_pending_pod_minutes}m",
            severity=Severity.WARNING,
            summary="Pods requesting GPUs are stuck Pending",
            description="Pod {{ $labels.namespace }}/{{ $labels.pod }} requests GPUs and has "
            f"been Pending for over {t.gpu_pending_pod_minutes} minutes.",
            metrics=("kube_pod_status_phase", "kube_pod_container_resource_requests"),
        ),
    ]
    if gpu_pool_max_nodes:
        per_pool = " or ".join(
            f'(count by ({pool}) (kube_node_labels{{{pool}="{name}"}}) >= {maximum})'
            for name, maximum in sorted(gpu_pool_max_nodes.items())
        )
        rules.append(
            AlertRule(
                name="GpuNodePoolAtMax",
                group="gpu-capacity",
                expr=per_pool,
                for_="15m",
                severity=Severity.WARNING,
                summary="GPU node pool is at its maximum size",
                description=f"Pool {{{{ $labels.{pool} }}}} runs {{{{ $value }}}} nodes, its "
                "maximum; new GPU pods will wait until capacity frees up.",
                metrics=("kube_node_labels",),
            )
        )
    requests = serving.requests_total
    latency = f"{serving.latency_histogram}_bucket"
    rules += [
        AlertRule(
            name="InferenceErrorRateHigh",
            group="serving-slo",
            expr=f'(sum by (namespace, service) (rate({requests}{{{status}=~"5.."}}[5m])) '
            f"/ sum by (namespace, service) (rate({requests}[5m]))) * 100 "
            f"> {t.inference_error_rate_percent:g}",
            for_="5m",
            severity=Severity.CRITICAL,
            summary="Inference error rate is over its SLO",
            description="{{ $labels.namespace }}/{{ $labels.service }} answers "
            '{{ $value | printf "%.2f" }}% of requests with a server error (SLO: '
            f"{t.inference_error_rate_percent:g}%).",
            metrics=(requests,),
        ),
        AlertRule(
            name="InferenceLatencyHigh",
            group="serving-slo",
            expr="histogram_quantile(0.99, sum by (namespace, service, le) "
            f"(rate({latency}[5m]))) > {t.inference_p99_latency_seconds:g}",
            for_="10m",
            severity=Severity.WARNING,
            summary="Inference p99 latency is over its SLO",
            description="{{ $labels.namespace }}/{{ $labels.service }} p99 latency is "
            '{{ $value | printf "%.3f" }}s (SLO: '
            f"{t.inference_p99_latency_seconds:g}s).",
            metrics=(latency,),
        ),
        AlertRule(
            name="ScrapeTargetDown",
            group="platform",
            expr="up == 0",
            for_=f"{t.scrape_down_minutes}m",
            severity=Severity.WARNING,
            summary="A metrics target is down",
            description="{{ $labels.job }} target {{ $labels.instance }} in "
            "{{ $labels.namespace }} has not been scraped for "
            f"{t.scrape_down_minutes} minutes; alerts that depend on it are blind.",
            metrics=("up",),
        ),
        AlertRule(
            name="PrometheusStorageFilling",
            group="platform",
            expr="(1 - kubelet_volume_stats_available_bytes"
            f'{{persistentvolumeclaim=~"{prometheus_pvc_regex}"}} '
            "/ kubelet_volume_stats_capacity_bytes"
            f'{{persistentvolumeclaim=~"{prometheus_pvc_regex}"}}) * 100 '
            f"> {t.prometheus_storage_used_percent:g}",
            for_="15m",
            severity=Severity.WARNING,
            summary="Prometheus storage is filling up",
            description="Volume {{ $labels.persistentvolumeclaim }} is "
            '{{ $value | printf "%.0f" }}% full; Prometheus will soon drop old data early '
            "or stop ingesting.",
            metrics=("kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"),
        ),
    ]
    return rules


def prometheus_rule_groups(rules: list[AlertRule], runbook_base_url: str) -> list[dict[str, Any]]:
    """``spec.groups`` of a PrometheusRule: one group per rule group, in first-seen order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    base = runbook_base_url.rstrip("/")
    for rule in rules:
        groups.setdefault(rule.group, []).append(
            {
                "alert": rule.name,
                "expr": rule.expr,
                "for": rule.for_,
                "labels": {"severity": rule.severity.value},
                "annotations": {
                    "summary": rule.summary,
                    "description": rule.description,
                    "runbook_url": f"{base}/{rule.slug}.md",
                },
            }
        )
    return [{"name": f"mlops-{name}", "rules": items} for name, items in groups.items()]
