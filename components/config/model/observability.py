"""``mlops:observability``: metrics, dashboards, alerting (thresholds and receivers) and the
application log groups."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ...core import patterns
from ...observability.alert_rules import THRESHOLD_RANGES, AlertThresholds
from ...observability.observability import DEFAULT_RUNBOOK_BASE_URL, ReceiverType
from .base import KmsDeletionWindowDays, Region, StrictModel, defaults_of

_COMPONENT_DEFAULTS = AlertThresholds()


def _threshold(key: str, *, description: str, profiled: bool = True) -> Any:
    """A threshold field whose bounds come from the alert rules (one source of truth): the
    profiles give its value per environment, or (``profiled=False``) it keeps the
    component's default everywhere."""
    low, high, low_inclusive, high_inclusive = THRESHOLD_RANGES[key]
    ge, gt = (low, None) if low_inclusive else (None, low)
    le, lt = (high, None) if high_inclusive else (None, high)
    if profiled:
        return Field(ge=ge, gt=gt, le=le, lt=lt, description=description)
    default = getattr(_COMPONENT_DEFAULTS, key)
    return Field(default, ge=ge, gt=gt, le=le, lt=lt, description=description)


class AlertThresholdsConfig(StrictModel):
    """The numbers the platform's alerts fire on."""

    gpu_memory_used_percent: float = _threshold(
        "gpu_memory_used_percent",
        description="GPU memory used (percent) sustained for 15 minutes (GpuMemoryNearFull).",
    )
    gpu_temperature_celsius: float = _threshold(
        "gpu_temperature_celsius",
        profiled=False,
        description="GPU temperature (C) held for 10 minutes (GpuThermalThrottling).",
    )
    gpu_idle_utilization_percent: float = _threshold(
        "gpu_idle_utilization_percent",
        profiled=False,
        description="Average utilization (percent) under which a GPU counts as idle (GpuIdle).",
    )
    gpu_idle_minutes: int = _threshold(
        "gpu_idle_minutes", description="Minutes a GPU stays idle before GpuIdle fires."
    )
    gpu_pending_pod_minutes: int = _threshold(
        "gpu_pending_pod_minutes",
        description="Minutes a pod requesting GPUs may stay Pending (GpuPodsPending).",
    )
    inference_error_rate_percent: float = _threshold(
        "inference_error_rate_percent",
        description="Serving SLO: percent of requests answered 5xx (InferenceErrorRateHigh).",
    )
    inference_p99_latency_seconds: float = _threshold(
        "inference_p99_latency_seconds",
        description="Serving SLO: p99 latency in seconds (InferenceLatencyHigh).",
    )
    scrape_down_minutes: int = _threshold(
        "scrape_down_minutes", description="Minutes a scrape target may be down (ScrapeTargetDown)."
    )
    prometheus_storage_used_percent: float = _threshold(
        "prometheus_storage_used_percent",
        profiled=False,
        description="Percent of the Prometheus volume used (PrometheusStorageFilling).",
    )


class AmpConfig(StrictModel):
    """Amazon Managed Prometheus: a workspace Prometheus remote-writes to."""

    enabled: bool = Field(False, description="Create the workspace and remote-write to it.")
    region: Region | None = Field(
        None,
        description="Region of the workspace; required when enabled (AMP is not in every region).",
    )


class ObservabilityConfig(StrictModel):
    """Metrics, dashboards, alerting and application log groups."""

    receivers: list[ReceiverType] = Field(
        description="Alert receivers: `sns` (a KMS-encrypted topic created by the stack) "
        "and/or `webhook`; empty: alerts route nowhere."
    )
    webhook_url: str | None = Field(
        None,
        pattern=patterns.HTTPS_URL.regex,
        json_schema_extra={"secret": True},
        examples=["https://hooks.example.com/alertmanager"],
        description="HTTPS URL of the webhook receiver; set it as a secret: "
        "`pulumi config set --secret --path mlops:observability.webhookUrl <url>`.",
    )
    thresholds: AlertThresholdsConfig = Field(description="Alert thresholds.")
    prometheus_retention_days: int = Field(
        ge=1, le=3650, description="Days Prometheus keeps metrics."
    )
    kms_deletion_window_days: KmsDeletionWindowDays = Field(
        description="Waiting period of a scheduled deletion of the observability key (log "
        "groups and alert topic)."
    )
    prometheus_storage_gib: int = Field(
        ge=10, le=16384, description="Size (GiB) of each Prometheus volume (encrypted gp3)."
    )
    prometheus_replicas: int = Field(ge=1, le=5, description="Prometheus replicas.")
    grafana_internal_load_balancer: bool = Field(
        False, description="Expose Grafana on an internal load balancer (VPC only)."
    )
    application_log_groups: list[Annotated[str, Field(pattern=patterns.LOG_GROUP_NAME.regex)]] = (
        Field(
            default_factory=lambda: ["applications"],
            description="CloudWatch log groups for application logs, one per name "
            "(`{project}-{stack}-<name>`), retained for logRetentionDays.",
        )
    )
    runbook_base_url: str = Field(
        DEFAULT_RUNBOOK_BASE_URL,
        min_length=1,
        description="Base URL of docs/runbooks that alerts link to (e.g. your Git host's "
        "view of the folder); by default the repository-relative path.",
    )
    amp: AmpConfig = Field(
        default_factory=defaults_of(AmpConfig),
        description="Amazon Managed Prometheus remote write.",
    )
