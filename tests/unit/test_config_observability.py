"""The `mlops:observability` config section: per-profile defaults and its rules, each with a
failing and a passing case; bad values are reported under their full key path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.config import ConfigError, EnvironmentConfig, environment_from_config
from mlops_platform.observability.alert_rules import THRESHOLD_RANGES

from scripts.offline import load_stack_config

KEY = "mlops:observability"


def _load(stack: str, section: dict[str, Any] | None = None) -> EnvironmentConfig:
    values = dict(load_stack_config(stack).values)
    if section is not None:
        values[KEY] = json.dumps(section)
    return environment_from_config(values, stack)


def _fails(stack: str, section: dict[str, Any], key: str, fragment: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(stack, section)
    message = str(caught.value)
    line = next((ln for ln in message.splitlines() if ln.startswith(f"  - {key} = ")), None)
    assert line is not None, message
    assert fragment in line, line
    return message


def test_profiles_set_receivers_retention_storage_and_thresholds():
    dev, test, prod = (_load(s).observability for s in ("dev", "test", "prod"))
    assert dev.receivers == []  # dev may route nowhere
    assert test.receivers == ["sns"]
    assert prod.receivers == ["sns"]
    assert (dev.prometheus_retention_days, test.prometheus_retention_days) == (7, 15)
    assert prod.prometheus_retention_days == 30
    assert dev.prometheus_storage_gib < test.prometheus_storage_gib < prod.prometheus_storage_gib
    assert prod.prometheus_replicas == 2
    # prod pages sooner and holds serving to a stricter SLO
    assert (
        prod.thresholds.inference_error_rate_percent < dev.thresholds.inference_error_rate_percent
    )
    assert (
        prod.thresholds.inference_p99_latency_seconds < dev.thresholds.inference_p99_latency_seconds
    )
    assert prod.thresholds.gpu_pending_pod_minutes < dev.thresholds.gpu_pending_pod_minutes
    assert prod.thresholds.scrape_down_minutes < dev.thresholds.scrape_down_minutes
    assert dev.amp.enabled is False and dev.grafana_internal_load_balancer is False


def test_stack_overrides_merge_over_the_profile():
    obs = _load("dev", {"thresholds": {"gpuIdleMinutes": 240}, "prometheusRetentionDays": 3})
    assert obs.observability.thresholds.gpu_idle_minutes == 240
    assert obs.observability.thresholds.inference_p99_latency_seconds == 2.5  # from the profile
    assert obs.observability.prometheus_retention_days == 3


def test_unknown_receiver_type_names_the_key():
    _fails("dev", {"receivers": ["pagerduty"]}, f"{KEY}.receivers[0]", "'sns' or 'webhook'")
    assert _load("dev", {"receivers": ["sns"]}).observability.receivers == ["sns"]


@pytest.mark.parametrize(
    ("field", "bad", "good", "fragment"),
    [
        ("gpuMemoryUsedPercent", 100, 99.5, "less than 100"),
        ("gpuMemoryUsedPercent", 20, 50, "greater than or equal to 50"),
        ("inferenceErrorRatePercent", 0, 0.1, "greater than 0"),
        ("inferenceP99LatencySeconds", -1, 0.05, "greater than 0"),
        ("gpuIdleMinutes", 5, 10, "greater than or equal to 10"),
        ("scrapeDownMinutes", 0, 1, "greater than or equal to 1"),
        ("gpuTemperatureCelsius", 150, 110, "less than or equal to 110"),
    ],
)
def test_threshold_out_of_range_names_the_key(field, bad, good, fragment):
    _fails("test", {"thresholds": {field: bad}}, f"{KEY}.thresholds.{field}", fragment)
    _load("test", {"thresholds": {field: good}})


def test_threshold_bounds_are_the_component_ranges():
    fields = (
        EnvironmentConfig.model_fields["observability"]
        .annotation.model_fields[  # type: ignore[union-attr]
            "thresholds"
        ]
        .annotation.model_fields
    )  # type: ignore[union-attr]
    assert set(THRESHOLD_RANGES) == set(fields)


def test_amp_enabled_without_region_names_the_key():
    _fails("test", {"amp": {"enabled": True}}, f"{KEY}.amp.region", "required when amp.enabled")
    amp = _load("test", {"amp": {"enabled": True, "region": "eu-west-1"}}).observability.amp
    assert (amp.enabled, amp.region) == (True, "eu-west-1")


def test_webhook_receiver_needs_its_url():
    _fails("dev", {"receivers": ["webhook"]}, f"{KEY}.webhookUrl", "set it as a secret")
    section = {"receivers": ["webhook"], "webhookUrl": "https://hooks.example.com/x"}
    assert _load("dev", section).observability.webhook_url == "https://hooks.example.com/x"


def test_webhook_url_without_the_receiver_is_reported_without_its_value():
    message = _fails(
        "dev", {"webhookUrl": "https://hooks.example.com/x"}, f"{KEY}.webhookUrl", "no effect"
    )
    assert "hooks.example.com" not in message


def test_webhook_url_must_be_https():
    section = {"receivers": ["webhook"], "webhookUrl": "http://hooks.example.com/x"}
    _fails("dev", section, f"{KEY}.webhookUrl", "https://")


def test_receivers_are_listed_once():
    _fails("test", {"receivers": ["sns", "sns"]}, f"{KEY}.receivers", "once")


def test_prod_alerts_must_reach_someone():
    _fails("prod", {"receivers": []}, f"{KEY}.receivers", "prod alerts must reach someone")
    assert _load("dev", {"receivers": []}).observability.receivers == []


def test_unknown_key_lists_the_allowed_ones():
    _fails("dev", {"retention": 7}, f"{KEY}.retention", "prometheusRetentionDays")
