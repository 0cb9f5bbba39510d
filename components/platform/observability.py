"""``mlops:observability`` onto :class:`Observability`: metrics, dashboards, alerts, logs."""

from __future__ import annotations

from typing import Any

import pulumi

from ..config import EnvironmentConfig
from ..config.model import GpuPoolConfig
from ..gpu.nvidia import NvidiaMode
from ..observability.alert_rules import AlertThresholds
from ..observability.observability import ObservabilityArgs
from .wiring import Wiring


def observability_args(
    config: EnvironmentConfig,
    wiring: Wiring,
    pools: list[GpuPoolConfig],
    load_balancer_dependencies: list[pulumi.Resource],
) -> ObservabilityArgs:
    """The monitoring stack on the cluster, alerting on the GPU pools and the serving SLOs."""
    observability = config.observability
    return wiring.args(
        ObservabilityArgs,
        observability,
        handled=("webhook_url", "thresholds", "amp"),
        webhook_url=pulumi.Output.secret(observability.webhook_url)
        if observability.webhook_url
        else None,
        thresholds=AlertThresholds(**dict(observability.thresholds)),
        amp_enabled=observability.amp.enabled,
        amp_region=observability.amp.region,
        load_balancer_dependencies=load_balancer_dependencies,
        gpu_pool_max_nodes={pool.name: pool.max_size for pool in pools},
        **_dcgm_scrape_target(config),
    )


def _dcgm_scrape_target(config: EnvironmentConfig) -> dict[str, Any]:
    """Where the DCGM exporter's Service is, by NVIDIA mode: the standalone exporter chart
    (device-plugin mode) and the GPU operator label and name its port differently."""
    if config.gpu.nvidia.mode is NvidiaMode.GPU_OPERATOR:
        return {
            "dcgm_exporter_labels": {"app": "nvidia-dcgm-exporter"},
            "dcgm_exporter_port": "gpu-metrics",
        }
    return {}
