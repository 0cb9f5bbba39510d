"""Model servers a :class:`~mlops_platform.serving.model_endpoint.ModelEndpoint` runs: how each
is started, probed and observed (PromQL with :data:`SELECTOR` where the endpoint's series
selector goes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

MODEL_DIR = "/models"
"""Where the weights are synced to and served from (an ``emptyDir``)."""

SELECTOR = "$selector"
"""Placeholder in a server's queries for the endpoint's series selector
(``namespace="<ns>",service="<name>"``)."""


class ServerKind(StrEnum):
    """Which model server the image runs."""

    VLLM = "vllm"
    """vLLM's OpenAI-compatible server (``vllm serve``)."""
    TRITON = "triton"
    """NVIDIA Triton Inference Server (``tritonserver``)."""
    CUSTOM = "custom"
    """Any server described by a :class:`ServerSpec`."""


@dataclass(frozen=True)
class ServerSpec:
    """How to run and observe a model server. Queries are PromQL with ``$selector`` where the
    endpoint's series selector goes (``namespace="<ns>",service="<name>"``)."""

    port: int
    """The API port (named ``http``)."""
    liveness_path: str
    """HTTP path of the liveness probe."""
    readiness_path: str
    """HTTP path of the readiness (and startup) probe."""
    queue_query: str
    """PromQL: requests waiting across all replicas (KEDA divides by the replicas)."""
    latency_p95_query: str
    """PromQL: the endpoint's 95th percentile request latency, in seconds."""
    error_ratio_query: str
    """PromQL: the share (0-1) of requests that failed on the server's side."""
    command: tuple[str, ...] = ()
    """Container command (empty: the image's entrypoint)."""
    args: tuple[str, ...] = ()
    """Container arguments before the endpoint's ``extra_args``."""
    metrics_port: int | None = None
    """Port serving ``metrics_path`` (named ``metrics``); ``None``: the API port."""
    metrics_path: str = "/metrics"
    """HTTP path of the Prometheus metrics."""
    extra_ports: Mapping[str, int] = field(default_factory=dict)
    """Further named container ports (e.g. Triton's gRPC port)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment variables the server needs."""
    default_queue_target: float = 5.0
    """Waiting requests per replica KEDA aims for, unless the endpoint sets ``queue_target``."""


def vllm_server(model_name: str) -> ServerSpec:
    """vLLM's OpenAI-compatible server serving ``/models`` as ``model_name``."""
    return ServerSpec(
        port=8000,
        liveness_path="/health",
        readiness_path="/health",
        command=("vllm", "serve"),
        args=(MODEL_DIR, "--served-model-name", model_name, "--port", "8000"),
        # vLLM's gauges and histograms (vllm: prefix) and the HTTP metrics of its API server
        # (prometheus-fastapi-instrumentator: status grouped as 2xx/4xx/5xx).
        queue_query="sum(vllm:num_requests_waiting{$selector})",
        latency_p95_query="histogram_quantile(0.95, sum by (le) "
        "(rate(vllm:e2e_request_latency_seconds_bucket{$selector}[5m])))",
        error_ratio_query='sum(rate(http_requests_total{$selector,status="5xx"}[5m])) '
        "/ sum(rate(http_requests_total{$selector}[5m]))",
        env={"HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"},
    )


def triton_server() -> ServerSpec:
    """Triton serving the model repository in ``/models``, latency summaries on."""
    return ServerSpec(
        port=8000,
        liveness_path="/v2/health/live",
        readiness_path="/v2/health/ready",
        command=("tritonserver",),
        args=(
            f"--model-repository={MODEL_DIR}",
            "--http-port=8000",
            "--grpc-port=8001",
            "--metrics-port=8002",
            "--metrics-config=summary_latencies=true",
        ),
        metrics_port=8002,
        extra_ports={"grpc": 8001},
        queue_query="sum(nv_inference_pending_request_count{$selector})",
        latency_p95_query='max(nv_inference_request_summary_us{$selector,quantile="0.95"}) / 1e6',
        error_ratio_query="sum(rate(nv_inference_request_failure{$selector}[5m])) / "
        "(sum(rate(nv_inference_request_success{$selector}[5m])) "
        "+ sum(rate(nv_inference_request_failure{$selector}[5m])))",
    )
