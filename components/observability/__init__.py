"""The observability domain: ``Observability`` (kube-prometheus-stack, dashboards, alerts
and log groups)."""

from .alert_rules import (
    AlertRule,
    AlertThresholds,
    ServingMetrics,
    Severity,
    alert_rules,
    check_thresholds,
    prometheus_rule_groups,
    sanitize_label,
)
from .observability import (
    Observability,
    ObservabilityArgs,
    ReceiverType,
    load_dashboard,
)

__all__ = [
    "AlertRule",
    "AlertThresholds",
    "Observability",
    "ObservabilityArgs",
    "ReceiverType",
    "ServingMetrics",
    "Severity",
    "alert_rules",
    "check_thresholds",
    "load_dashboard",
    "prometheus_rule_groups",
    "sanitize_label",
]
