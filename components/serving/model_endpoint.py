"""``ModelEndpoint``: serve one model on GPUs, in a team's namespace, with the platform's defaults.

A team creates it in its own stack (see ``docs/examples/team-serving``). What it builds:

* **Model source**: a prefix of the artifact store (:class:`S3ModelSource`) or an MLflow model
  version (:class:`MlflowModelSource`, resolved to the S3 prefix of its artifacts: a
  ``mlflow-artifacts:/<path>`` location maps onto the platform's MLflow artifact root
  ``s3://<models bucket>/<prefix>``, an ``s3://`` location is used as is).
* **Weights on an ephemeral volume**: an init container runs ``aws s3 sync`` of the model's
  prefix into an ``emptyDir`` before the server starts. Why an init container rather than the
  server's own S3 loading: it works the same for every server (vLLM, Triton, a custom one),
  the server needs no AWS credentials or S3 client, and a half-downloaded model never reaches
  the server (the pod starts only when the sync succeeded). The AWS CLI image is an argument,
  pinned by digest in the environment's ECR (mirror it, e.g. through an ECR pull-through
  cache rule), like the server image.
* **Deployment**: the server image from ECR pinned by digest; ``nvidia.com/gpu`` requests ==
  limits; a toleration for the GPU taint; required node affinity to serving GPU pools (the
  ``mlops/workload=serving`` node label, optionally one pool); spread across zones and nodes;
  restricted security context (non-root, read-only root filesystem, no privilege escalation,
  all capabilities dropped, ``RuntimeDefault`` seccomp); startup, readiness and liveness
  probes; a ``preStop`` pause and a termination grace period so in-flight requests finish.
* **Identity**: a ServiceAccount (no token mounted) and an EKS Pod Identity role that can only
  list and read the model's prefix and decrypt with the bucket's key.
* **Traffic**: a ClusterIP Service; optionally an internal ALB Ingress through the AWS Load
  Balancer Controller (``scheme: internal``, ``target-type: ip``, TLS with an ACM certificate,
  HTTP redirected to HTTPS).
* **Autoscaling**: a KEDA ``ScaledObject`` with a Prometheus trigger on the server's queue
  depth (per replica). ``min_replicas`` is 2 unless asked; 0 (scale to zero, for dev) needs
  ``active_hours``: with no pods there is no queue metric to wake on, so a KEDA cron trigger
  keeps one replica up in those hours and the endpoint sleeps outside them.
* **Operations**: a PodDisruptionBudget; a ServiceMonitor for the server's metrics; a
  PrometheusRule with SLO alerts (p95 latency, error rate, saturation), each with a
  ``runbook_url`` into ``docs/runbooks/``, routed by the platform's Alertmanager.

Servers: ``vllm`` (OpenAI-compatible; metrics on the API port), ``triton`` (HTTP 8000, gRPC
8001, metrics 8002; latency summaries switched on), or ``custom`` with a :class:`ServerSpec`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from ..core.coercion import accept_args, allowed_values
from ..core.images import ecr_digest_problem
from ..core.labels import ENDPOINT_LABEL, GPU_TAINT_KEY, POOL_LABEL, WORKLOAD_LABEL
from ..core.tagging import merge_tags
from ..core.tokens import component_options, component_token
from ..core.validation import Invalid
from ..gpu.node_pool import Workload
from ..iam import pod_identity_role
from ..observability.alert_rules import AlertRule, Severity, prometheus_rule_groups
from ..observability.observability import DEFAULT_RUNBOOK_BASE_URL
from ..storage.artifact_store import KEY_PREFIX, AccessLevel, access_policy_document

MODEL_DIR = "/models"
"""Where the weights are synced to and served from (an ``emptyDir``)."""

SCRATCH_DIR = "/tmp"  # noqa: S108 (a path inside the container, on its own emptyDir)
"""The containers' writable scratch space (``HOME``, caches): an ``emptyDir``."""

SHM_DIR = "/dev/shm"  # noqa: S108 (the container's shared memory, a RAM-backed emptyDir)

ZONE_KEY = "topology.kubernetes.io/zone"
HOSTNAME_KEY = "kubernetes.io/hostname"

MAX_NAME_LENGTH = 40
"""Longest endpoint name: derived names (``<name>-model-sync``, the HPA KEDA creates as
``keda-hpa-<name>``) must stay within Kubernetes' 63 characters."""

_K8S_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_MLFLOW_NAME = re.compile(r"^[^/\s][^\n]{0,255}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>.+/)$")
_MLFLOW_ARTIFACTS = re.compile(r"^mlflow-artifacts:/+(?P<path>.+/)$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_QUANTITY = re.compile(r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$")
_CRON = re.compile(r"^(\S+\s+){4}\S+$")
_TIMEZONE = re.compile(r"^(UTC|[A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$")
_HTTP_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_SELECTOR = "$selector"


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


@dataclass(frozen=True)
class S3ModelSource:
    """Model weights under a prefix of an artifact bucket (the platform's ``models`` bucket)."""

    bucket_name: pulumi.Input[str]
    """The bucket (platform output ``artifactBuckets["models"]``)."""
    prefix: str
    """Key prefix of the model, ending in ``/`` (e.g. ``team-a/llama-3-8b/v3/``)."""
    kms_key_arn: pulumi.Input[str]
    """The bucket's KMS key (platform output ``artifactKmsKeyArn``)."""


@dataclass(frozen=True)
class MlflowModelSource:
    """A registered MLflow model version, served from its artifacts in S3."""

    name: str
    """Registered model name."""
    version: int
    """Model version."""
    artifact_location: str
    """Where the version's artifacts are, as MLflow reports it
    (``MlflowClient().get_model_version_download_uri(name, version)``): ``mlflow-artifacts:/...``
    (the platform's proxied artifact store) or ``s3://bucket/prefix/``."""
    artifact_root: pulumi.Input[str]
    """The platform's MLflow artifact root, ``s3://<bucket>/<prefix>`` (platform output
    ``mlflowArtifactUri``); resolves ``mlflow-artifacts:/`` locations."""
    kms_key_arn: pulumi.Input[str]
    """The bucket's KMS key (platform output ``artifactKmsKeyArn``)."""


@dataclass(frozen=True)
class ActiveHours:
    """When a scale-to-zero endpoint is kept up (a KEDA cron trigger)."""

    start: str
    """Cron expression of the window's start, e.g. ``0 8 * * 1-5``."""
    end: str
    """Cron expression of the window's end, e.g. ``0 19 * * 1-5``."""
    timezone: str = "UTC"
    """IANA time zone of the expressions."""
    replicas: int = 1
    """Replicas held during the window."""


@dataclass(frozen=True)
class EndpointIngress:
    """An internal ALB in front of the endpoint (AWS Load Balancer Controller)."""

    certificate_arn: str
    """ACM certificate for the HTTPS listener."""
    host: str | None = None
    """Host name the rule matches (``None``: any)."""
    inbound_cidrs: Sequence[str] = ()
    """Client CIDRs allowed to the ALB (empty: the controller's default, the VPC)."""
    idle_timeout_seconds: int = 300
    """ALB idle timeout: long generations keep connections open."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """The listener's TLS policy (TLS 1.3 and 1.2 only)."""


@dataclass(frozen=True)
class EndpointSlo:
    """The service level the endpoint's alerts fire on."""

    latency_p95_seconds: float = 10.0
    """95th percentile request latency (over 5 minutes), in seconds."""
    error_rate_percent: float = 1.0
    """Share of requests failing on the server's side (over 5 minutes), in percent."""
    saturation_minutes: int = 15
    """How long the queue may stay over target at the maximum replica count."""


@dataclass
class ModelEndpointArgs:
    """Inputs of :class:`ModelEndpoint`."""

    kubernetes_provider: pulumi.ProviderResource
    """The serving cluster's Kubernetes provider."""
    namespace: str
    """The team's (tenant's) namespace."""
    cluster_name: pulumi.Input[str]
    """EKS cluster name (Pod Identity association); platform output ``clusterName``."""
    cluster_arn: pulumi.Input[str]
    """EKS cluster ARN (role trust, partition, region); platform output ``clusterArn``."""
    name_prefix: str
    """Physical-name prefix of the IAM role, e.g. ``{project}-{stack}``."""
    model: S3ModelSource | MlflowModelSource
    """Where the weights are."""
    image: str
    """Server image from ECR pinned by digest (``core.images.ECR_DIGEST_FORM``)."""
    sync_image: str
    """AWS CLI image for the model-sync init container, ECR pinned by digest."""
    prometheus_url: pulumi.Input[str]
    """The platform's in-cluster Prometheus (KEDA's scaler queries it); output ``prometheusUrl``."""
    server: ServerKind | str = ServerKind.VLLM
    """``vllm``, ``triton`` or ``custom`` (then ``custom_server`` is required)."""
    custom_server: ServerSpec | None = None
    """How to run and observe a ``custom`` server."""
    endpoint_name: str | None = None
    """Kubernetes name of the endpoint's objects (default: the component's name)."""
    model_name: str | None = None
    """Name the server serves the model under (default: the endpoint name)."""
    extra_args: Sequence[str] = ()
    """Further server arguments."""
    gpus: int = 1
    """GPUs per replica (``nvidia.com/gpu`` requests == limits)."""
    cpu: str = "4"
    """CPU per replica (requests == limits)."""
    memory: str = "32Gi"
    """Memory per replica (requests == limits)."""
    model_volume_gib: int = 100
    """Size of the ephemeral weights volume, GiB (also requested as ephemeral storage)."""
    shm_gib: int = 8
    """Shared memory (``/dev/shm``, RAM-backed) for the server's worker processes, GiB."""
    pool: str | None = None
    """Run only on this GPU pool (``mlops/gpu-pool``); default: any serving pool."""
    min_replicas: int = 2
    """Fewest replicas (2 keeps the endpoint up through a node loss; 0 needs ``active_hours``)."""
    max_replicas: int = 4
    """Most replicas (each holds ``gpus`` GPUs of the tenant's quota)."""
    queue_target: float | None = None
    """Waiting requests per replica to scale on (default: the server's)."""
    active_hours: ActiveHours | None = None
    """Required with ``min_replicas=0``: when the endpoint is up."""
    ingress: EndpointIngress | None = None
    """An internal ALB with TLS (``None``: in-cluster only)."""
    slo: EndpointSlo = field(default_factory=EndpointSlo)
    """What the SLO alerts fire on."""
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
    """Base of the alerts' ``runbook_url`` (``<base>/<alert-slug>.md``)."""
    startup_timeout_seconds: int = 1800
    """How long the server may take to load the model before it is restarted."""
    termination_grace_seconds: int = 120
    """How long in-flight requests get to finish on shutdown."""
    run_as_user: int = 1000
    """Non-root UID (and GID, fsGroup) the pod runs as."""
    permission_boundary_arn: pulumi.Input[str] | None = None
    """Permission boundary of the role (platform output ``permissionBoundaryArn``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the AWS children."""


def server_spec(args: ModelEndpointArgs, model_name: str) -> ServerSpec | None:
    """The spec the endpoint runs (``None`` for ``custom`` without one)."""
    kind = ServerKind(args.server)
    if kind is ServerKind.VLLM:
        return vllm_server(model_name)
    if kind is ServerKind.TRITON:
        return triton_server()
    return args.custom_server


def _positive_int(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _source_problems(model: Any) -> list[Invalid]:
    if isinstance(model, S3ModelSource):
        if (
            not isinstance(model.prefix, str)
            or not model.prefix
            or not KEY_PREFIX.fullmatch(model.prefix)
        ):
            return [
                Invalid(
                    "model.prefix",
                    model.prefix,
                    "a non-empty key prefix ending in '/', e.g. team-a/llama-3-8b/v3/",
                )
            ]
        return []
    if isinstance(model, MlflowModelSource):
        problems = []
        if not isinstance(model.name, str) or not _MLFLOW_NAME.match(model.name):
            problems.append(Invalid("model.name", model.name, "a registered model name"))
        if not _positive_int(model.version, 1, 10**9):
            problems.append(Invalid("model.version", model.version, "a version number >= 1"))
        location = model.artifact_location
        if not isinstance(location, str) or not (
            _S3_URI.match(location) or _MLFLOW_ARTIFACTS.match(location)
        ):
            problems.append(
                Invalid(
                    "model.artifact_location",
                    location,
                    "mlflow-artifacts:/<path>/ or s3://<bucket>/<prefix>/ (ending in '/'); "
                    "resolve models:/ and runs:/ URIs with "
                    "MlflowClient().get_model_version_download_uri(name, version)",
                )
            )
        return problems
    return [Invalid("model", model, "an S3ModelSource or an MlflowModelSource")]


def _server_problems(args: ModelEndpointArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    try:
        kind = ServerKind(args.server)
    except ValueError:
        return [Invalid("server", args.server, allowed_values(ServerKind))]
    if kind is ServerKind.CUSTOM and args.custom_server is None:
        problems.append(Invalid("custom_server", None, "a ServerSpec, required with server=custom"))
    if kind is not ServerKind.CUSTOM and args.custom_server is not None:
        problems.append(Invalid("custom_server", "ServerSpec", "only with server=custom"))
    spec = args.custom_server if kind is ServerKind.CUSTOM else None
    if spec is not None:
        for key in ("port", "metrics_port"):
            value = getattr(spec, key)
            if value is not None and not _positive_int(value, 1, 65535):
                problems.append(Invalid(f"custom_server.{key}", value, "a port 1-65535"))
        for key in ("liveness_path", "readiness_path", "metrics_path"):
            value = getattr(spec, key)
            if not isinstance(value, str) or not _HTTP_PATH.match(value):
                problems.append(
                    Invalid(f"custom_server.{key}", value, "an HTTP path such as /health")
                )
        for key in ("queue_query", "latency_p95_query", "error_ratio_query"):
            value = getattr(spec, key)
            if not isinstance(value, str) or _SELECTOR not in value:
                problems.append(
                    Invalid(
                        f"custom_server.{key}",
                        value,
                        f"a PromQL query containing {_SELECTOR} where the endpoint's series "
                        "selector goes",
                    )
                )
    return problems


def _scaling_problems(args: ModelEndpointArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if not _positive_int(args.min_replicas, 0, 100):
        problems.append(Invalid("min_replicas", args.min_replicas, "an integer from 0 to 100"))
    if not _positive_int(args.max_replicas, 1, 100):
        problems.append(Invalid("max_replicas", args.max_replicas, "an integer from 1 to 100"))
    elif _positive_int(args.min_replicas, 0, 100) and args.max_replicas < args.min_replicas:
        problems.append(
            Invalid("max_replicas", args.max_replicas, f">= min_replicas ({args.min_replicas})")
        )
    target = args.queue_target
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, int | float) or target <= 0
    ):
        problems.append(Invalid("queue_target", target, "a number > 0 (requests per replica)"))
    hours = args.active_hours
    if args.min_replicas == 0 and hours is None:
        problems.append(
            Invalid(
                "active_hours",
                None,
                "required with min_replicas=0: a scaled-to-zero endpoint has no pods and so no "
                "queue metric to wake on; give the hours it must be up (or min_replicas >= 1)",
            )
        )
    if hours is not None:
        if args.min_replicas != 0:
            problems.append(Invalid("active_hours", "ActiveHours", "only with min_replicas=0"))
        for key in ("start", "end"):
            value = getattr(hours, key)
            if not isinstance(value, str) or not _CRON.match(value.strip()):
                problems.append(Invalid(f"active_hours.{key}", value, "a 5-field cron expression"))
        if hours.start == hours.end:
            problems.append(Invalid("active_hours.end", hours.end, "different from start"))
        if not isinstance(hours.timezone, str) or not _TIMEZONE.match(hours.timezone):
            problems.append(
                Invalid("active_hours.timezone", hours.timezone, "an IANA zone, e.g. Europe/Paris")
            )
        if not _positive_int(hours.replicas, 1, 100) or (
            _positive_int(args.max_replicas, 1, 100) and hours.replicas > args.max_replicas
        ):
            problems.append(Invalid("active_hours.replicas", hours.replicas, "1 to max_replicas"))
    return problems


def _resource_problems(args: ModelEndpointArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if not _positive_int(args.gpus, 1, 8):
        problems.append(Invalid("gpus", args.gpus, "an integer from 1 to 8"))
    for key in ("cpu", "memory"):
        value = getattr(args, key)
        if not isinstance(value, str) or not _QUANTITY.match(value):
            problems.append(Invalid(key, value, "a Kubernetes quantity, e.g. 4 or 32Gi"))
    checks = (
        ("model_volume_gib", 1, 10_000, "GiB from 1 to 10000"),
        ("shm_gib", 1, 1024, "GiB from 1 to 1024"),
        ("startup_timeout_seconds", 60, 7200, "seconds from 60 to 7200"),
        ("termination_grace_seconds", 30, 3600, "seconds from 30 to 3600"),
        ("run_as_user", 1, 2**31 - 1, "a non-root UID (>= 1)"),
    )
    problems += [
        Invalid(key, getattr(args, key), allowed)
        for key, low, high, allowed in checks
        if not _positive_int(getattr(args, key), low, high)
    ]
    if args.pool is not None and (not isinstance(args.pool, str) or not _K8S_NAME.match(args.pool)):
        problems.append(Invalid("pool", args.pool, "a GPU pool name (DNS-1123 label)"))
    return problems


def _ingress_problems(ingress: EndpointIngress | None) -> list[Invalid]:
    if ingress is None:
        return []
    problems: list[Invalid] = []
    if not isinstance(ingress.certificate_arn, str) or not _ACM_ARN.match(ingress.certificate_arn):
        problems.append(
            Invalid(
                "ingress.certificate_arn",
                ingress.certificate_arn,
                "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
            )
        )
    if not _positive_int(ingress.idle_timeout_seconds, 1, 4000):
        problems.append(
            Invalid("ingress.idle_timeout_seconds", ingress.idle_timeout_seconds, "1 to 4000")
        )
    for cidr in ingress.inbound_cidrs:
        if cidr in ("0.0.0.0/0", "::/0"):
            problems.append(
                Invalid("ingress.inbound_cidrs", cidr, "private client ranges, not the internet")
            )
    return problems


def validate(name: str, args: ModelEndpointArgs) -> list[Invalid]:
    """Every problem with ``args`` (``name`` is the endpoint's Kubernetes name)."""
    problems: list[Invalid] = []
    if not _K8S_NAME.match(name) or len(name) > MAX_NAME_LENGTH:
        problems.append(
            Invalid(
                "endpoint_name",
                name,
                f"a DNS-1123 label starting with a letter, at most {MAX_NAME_LENGTH} characters",
            )
        )
    if not isinstance(args.namespace, str) or not _K8S_NAME.match(args.namespace):
        problems.append(Invalid("namespace", args.namespace, "the tenant's namespace name"))
    if not isinstance(args.name_prefix, str) or not args.name_prefix.strip():
        problems.append(Invalid("name_prefix", args.name_prefix, "a non-empty prefix"))
    for key in ("image", "sync_image"):
        why = ecr_digest_problem(getattr(args, key))
        if why is not None:
            problems.append(Invalid(key, getattr(args, key), why))
    problems += _source_problems(args.model)
    problems += _server_problems(args)
    problems += _scaling_problems(args)
    problems += _resource_problems(args)
    problems += _ingress_problems(args.ingress)
    slo = args.slo
    if not (isinstance(slo.latency_p95_seconds, int | float) and slo.latency_p95_seconds > 0):
        problems.append(Invalid("slo.latency_p95_seconds", slo.latency_p95_seconds, "> 0"))
    if not (isinstance(slo.error_rate_percent, int | float) and 0 < slo.error_rate_percent < 100):
        problems.append(Invalid("slo.error_rate_percent", slo.error_rate_percent, "in (0, 100)"))
    if not _positive_int(slo.saturation_minutes, 1, 1440):
        problems.append(Invalid("slo.saturation_minutes", slo.saturation_minutes, "1 to 1440"))
    return problems


def resolve_model_uri(model: S3ModelSource | MlflowModelSource) -> pulumi.Output[tuple[str, str]]:
    """(bucket, prefix) of the model's artifacts."""
    if isinstance(model, S3ModelSource):
        return pulumi.Output.all(model.bucket_name, model.prefix).apply(lambda v: (v[0], v[1]))
    location = model.artifact_location
    direct = _S3_URI.match(location)
    if direct is not None:
        return pulumi.Output.from_input((direct.group("bucket"), direct.group("prefix")))
    path = _MLFLOW_ARTIFACTS.match(location)
    assert path is not None  # validated
    relative = path.group("path")

    def join(root: str) -> tuple[str, str]:
        match = re.match(r"^s3://(?P<bucket>[^/]+)/?(?P<prefix>.*)$", root)
        if match is None:
            raise pulumi.RunError(
                f"MlflowModelSource.artifact_root {root!r} is not an s3://bucket/prefix URI"
            )
        base = match.group("prefix").strip("/")
        return match.group("bucket"), f"{base}/{relative}" if base else relative

    return pulumi.Output.from_input(model.artifact_root).apply(join)


def alert_rules(
    endpoint: str, namespace: str, spec: ServerSpec, args: ModelEndpointArgs, target: float
) -> list[AlertRule]:
    """The endpoint's SLO alerts (latency p95, error rate, saturation)."""
    selector = f'namespace="{namespace}",service="{endpoint}"'
    slo = args.slo
    queue = spec.queue_query.replace(_SELECTOR, selector)
    latency = spec.latency_p95_query.replace(_SELECTOR, selector)
    errors = spec.error_ratio_query.replace(_SELECTOR, selector)
    deployment = f'namespace="{namespace}",deployment="{endpoint}"'
    where = f"{namespace}/{endpoint}"
    return [
        AlertRule(
            name="ModelEndpointLatencyHigh",
            group="model-endpoint",
            expr=f"({latency}) > {slo.latency_p95_seconds:g}",
            for_="10m",
            severity=Severity.WARNING,
            summary="Model endpoint p95 latency is over its SLO",
            description=f"Endpoint {where} answers with a p95 latency of "
            '{{ $value | printf "%.2f" }}s (SLO: ' + f"{slo.latency_p95_seconds:g}s).",
            metrics=(),
        ),
        AlertRule(
            name="ModelEndpointErrorRateHigh",
            group="model-endpoint",
            expr=f"({errors}) * 100 > {slo.error_rate_percent:g}",
            for_="5m",
            severity=Severity.CRITICAL,
            summary="Model endpoint error rate is over its SLO",
            description=f"Endpoint {where} fails "
            '{{ $value | printf "%.2f" }}% of requests (SLO: ' + f"{slo.error_rate_percent:g}%).",
            metrics=(),
        ),
        AlertRule(
            name="ModelEndpointSaturated",
            group="model-endpoint",
            expr=f"(({queue}) / clamp_min(max(kube_deployment_status_replicas_available"
            f"{{{deployment}}}), 1) > {target:g}) and on() "
            f"(max(kube_deployment_spec_replicas{{{deployment}}}) >= {args.max_replicas})",
            for_=f"{slo.saturation_minutes}m",
            severity=Severity.WARNING,
            summary="Model endpoint is saturated at its maximum replicas",
            description=f"Endpoint {where} runs its maximum of {args.max_replicas} replicas "
            f"and still queues over {target:g} requests per replica; requests wait. Raise "
            "max_replicas (and the tenant's GPU quota) or add GPU capacity.",
            metrics=("kube_deployment_status_replicas_available", "kube_deployment_spec_replicas"),
        ),
    ]


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


_CONTAINER_SECURITY: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


class ModelEndpoint(pulumi.ComponentResource):
    """One model served on GPUs: Deployment, identity, Service, autoscaling, SLO alerts."""

    service_name: pulumi.Output[str]
    """The ClusterIP Service's name."""

    url: pulumi.Output[str]
    """In-cluster URL of the API (``http://<service>.<namespace>.svc.cluster.local:<port>``)."""

    role_arn: pulumi.Output[str]
    """ARN of the Pod Identity role that reads the model's prefix."""

    model_uri: pulumi.Output[str]
    """``s3://bucket/prefix/`` the weights are synced from."""

    def __init__(
        self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            component_token("ModelEndpoint"),
            name,
            None,
            component_options("model_endpoint", "ModelEndpoint", opts),
        )
        endpoint = args.endpoint_name or name
        args = accept_args("ModelEndpoint", name, args, lambda a: validate(endpoint, a))
        spec = server_spec(args, args.model_name or endpoint)
        assert spec is not None  # validated
        ns = args.namespace
        target = float(args.queue_target or spec.default_queue_target)
        labels = {ENDPOINT_LABEL: endpoint}
        meta_labels = {
            **labels,
            WORKLOAD_LABEL: Workload.SERVING.value,
            "app.kubernetes.io/name": endpoint,
            "app.kubernetes.io/component": "model-server",
            "app.kubernetes.io/managed-by": "pulumi",
        }
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.kubernetes_provider)
        tags = merge_tags(
            args.tags, {"mlops:component": "model-endpoint", "mlops:endpoint": endpoint}
        )

        # --- identity: read the model's prefix, nothing else ------------------------------
        location = resolve_model_uri(args.model)
        arn = pulumi.Output.from_input(args.cluster_arn)
        partition = arn.apply(lambda a: a.split(":")[1])
        region = arn.apply(lambda a: a.split(":")[3])
        document = pulumi.Output.all(location, partition, args.model.kms_key_arn).apply(
            lambda v: access_policy_document(
                f"arn:{v[1]}:s3:::{v[0][0]}", v[2], v[0][1], AccessLevel.READ_ONLY
            )
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={"name": endpoint, "namespace": ns, "labels": meta_labels},
            automount_service_account_token=False,
            opts=k8s_opts,
        )
        reader = pod_identity_role(
            f"{name}-model-reader",
            parent=self,
            name_prefix=args.name_prefix,
            role=f"{ns}-{endpoint}-model",
            cluster_name=args.cluster_name,
            cluster_arn=args.cluster_arn,
            namespace=ns,
            service_account=endpoint,
            policy=document,
            permission_boundary_arn=args.permission_boundary_arn,
            tags=tags,
        )
        self.model_uri = location.apply(lambda v: f"s3://{v[0]}/{v[1]}")

        # --- the server ---------------------------------------------------------------------
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={"name": endpoint, "namespace": ns, "labels": meta_labels},
            spec=cast(
                "k8s.apps.v1.DeploymentSpecArgsDict",
                self._deployment_spec(
                    endpoint,
                    args,
                    spec=spec,
                    meta_labels=meta_labels,
                    region=region,
                    source=self.model_uri,
                ),
            ),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts,
                pulumi.ResourceOptions(
                    depends_on=[account, reader.association or reader.policy],
                    # KEDA owns the replica count once the ScaledObject exists.
                    ignore_changes=["spec.replicas"],
                ),
            ),
        )
        ports = [{"name": "http", "port": spec.port, "targetPort": "http", "protocol": "TCP"}]
        ports += [
            {"name": port, "port": number, "targetPort": port, "protocol": "TCP"}
            for port, number in spec.extra_ports.items()
        ]
        if spec.metrics_port is not None:
            ports.append(
                {
                    "name": "metrics",
                    "port": spec.metrics_port,
                    "targetPort": "metrics",
                    "protocol": "TCP",
                }
            )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={"name": endpoint, "namespace": ns, "labels": meta_labels},
            spec=cast(
                "k8s.core.v1.ServiceSpecArgsDict",
                {"type": "ClusterIP", "selector": dict(labels), "ports": ports},
            ),
            opts=k8s_opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": endpoint, "namespace": ns, "labels": meta_labels},
            spec=cast(
                "k8s.policy.v1.PodDisruptionBudgetSpecArgsDict",
                {"maxUnavailable": 1, "selector": {"matchLabels": dict(labels)}},
            ),
            opts=k8s_opts,
        )
        if args.ingress is not None:
            self._ingress(
                name,
                endpoint,
                ns=ns,
                ingress=args.ingress,
                spec=spec,
                meta_labels=meta_labels,
                service=service,
                k8s_opts=k8s_opts,
            )

        # --- autoscaling, metrics, alerts -----------------------------------------------------
        selector = f'namespace="{ns}",service="{endpoint}"'
        triggers: list[dict[str, Any]] = [
            {
                "type": "prometheus",
                "metadata": {
                    "serverAddress": args.prometheus_url,
                    "query": spec.queue_query.replace(_SELECTOR, selector),
                    "threshold": f"{target:g}",
                    "activationThreshold": "0",
                },
            }
        ]
        if args.active_hours is not None:
            hours = args.active_hours
            triggers.append(
                {
                    "type": "cron",
                    "metadata": {
                        "timezone": hours.timezone,
                        "start": hours.start,
                        "end": hours.end,
                        "desiredReplicas": str(hours.replicas),
                    },
                }
            )
        k8s.apiextensions.CustomResource(
            f"{name}-scaled-object",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={"name": endpoint, "namespace": ns, "labels": meta_labels},
            spec={
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": endpoint},
                "minReplicaCount": args.min_replicas,
                "maxReplicaCount": args.max_replicas,
                "pollingInterval": 15,
                # A GPU replica is slow to start: keep it a while once the queue drains.
                "cooldownPeriod": 600,
                "advanced": {
                    "horizontalPodAutoscalerConfig": {
                        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 600}}
                    }
                },
                "triggers": triggers,
            },
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=[deployment])
            ),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": endpoint, "namespace": ns, "labels": meta_labels},
            spec={
                "selector": {"matchLabels": dict(labels)},
                "namespaceSelector": {"matchNames": [ns]},
                "endpoints": [
                    {
                        "port": "metrics" if spec.metrics_port is not None else "http",
                        "path": spec.metrics_path,
                        "interval": "15s",
                    }
                ],
            },
            opts=k8s_opts,
        )
        groups = prometheus_rule_groups(
            alert_rules(endpoint, ns, spec, args, target), args.runbook_base_url
        )
        for group in groups:
            group["name"] = f"{group['name']}-{ns}-{endpoint}"
            for rule in group["rules"]:
                rule["labels"] |= {"namespace": ns, "endpoint": endpoint}
        k8s.apiextensions.CustomResource(
            f"{name}-alert-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"name": f"{endpoint}-slo", "namespace": ns, "labels": meta_labels},
            spec={"groups": groups},
            opts=k8s_opts,
        )

        self.service_name = service.metadata.apply(lambda m: m.name or endpoint)
        self.url = pulumi.Output.from_input(f"http://{endpoint}.{ns}.svc.cluster.local:{spec.port}")
        self.role_arn = reader.role.arn
        self.register_outputs(
            {
                "service_name": self.service_name,
                "url": self.url,
                "role_arn": self.role_arn,
                "model_uri": self.model_uri,
            }
        )

    @staticmethod
    def _deployment_spec(
        endpoint: str,
        args: ModelEndpointArgs,
        *,
        spec: ServerSpec,
        meta_labels: dict[str, str],
        region: pulumi.Output[str],
        source: pulumi.Output[str],
    ) -> dict[str, Any]:
        labels = {ENDPOINT_LABEL: endpoint}
        gpu = str(args.gpus)
        node_terms = [{"key": WORKLOAD_LABEL, "operator": "In", "values": [Workload.SERVING.value]}]
        if args.pool:
            node_terms.append({"key": POOL_LABEL, "operator": "In", "values": [args.pool]})
        ports = [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}]
        ports += [
            {"name": port, "containerPort": number, "protocol": "TCP"}
            for port, number in spec.extra_ports.items()
        ]
        if spec.metrics_port is not None:
            ports.append({"name": "metrics", "containerPort": spec.metrics_port, "protocol": "TCP"})
        env = [
            {"name": "HOME", "value": SCRATCH_DIR},
            {"name": "XDG_CACHE_HOME", "value": f"{SCRATCH_DIR}/.cache"},
            *({"name": k, "value": v} for k, v in sorted(spec.env.items())),
        ]
        server: dict[str, Any] = {
            "name": "server",
            "image": args.image,
            "imagePullPolicy": "IfNotPresent",
            "args": [*spec.args, *args.extra_args],
            "ports": ports,
            "env": env,
            "resources": {
                "requests": {
                    "cpu": args.cpu,
                    "memory": args.memory,
                    GPU_TAINT_KEY: gpu,
                    "ephemeral-storage": "2Gi",
                },
                "limits": {"cpu": args.cpu, "memory": args.memory, GPU_TAINT_KEY: gpu},
            },
            "securityContext": dict(_CONTAINER_SECURITY),
            "startupProbe": _probe(
                spec.readiness_path, 10, math.ceil(args.startup_timeout_seconds / 10)
            ),
            "readinessProbe": _probe(spec.readiness_path, 10, 3),
            "livenessProbe": _probe(spec.liveness_path, 15, 4),
            # Let the Service and the ALB stop sending before the server gets SIGTERM.
            "lifecycle": {"preStop": {"sleep": {"seconds": 15}}},
            "volumeMounts": [
                {"name": "model", "mountPath": MODEL_DIR, "readOnly": True},
                {"name": "tmp", "mountPath": SCRATCH_DIR},
                {"name": "shm", "mountPath": SHM_DIR},
            ],
        }
        if spec.command:
            server["command"] = list(spec.command)
        sync = {
            "name": "model-sync",
            "image": args.sync_image,
            "imagePullPolicy": "IfNotPresent",
            "args": ["s3", "sync", source, MODEL_DIR, "--only-show-errors", "--no-progress"],
            "env": [
                {"name": "HOME", "value": SCRATCH_DIR},
                {"name": "AWS_REGION", "value": region},
                {"name": "AWS_DEFAULT_REGION", "value": region},
            ],
            "resources": {
                "requests": {
                    "cpu": "1",
                    "memory": "1Gi",
                    "ephemeral-storage": f"{args.model_volume_gib}Gi",
                },
                "limits": {"cpu": "2", "memory": "2Gi"},
            },
            "securityContext": dict(_CONTAINER_SECURITY),
            "volumeMounts": [
                {"name": "model", "mountPath": MODEL_DIR},
                {"name": "tmp", "mountPath": SCRATCH_DIR},
            ],
        }
        spread = [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(labels)},
            }
            for key in (ZONE_KEY, HOSTNAME_KEY)
        ]
        uid = args.run_as_user
        return {
            "replicas": args.min_replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": dict(labels)},
            # Capacity never drops during a rollout: one new replica at a time, and an old one
            # leaves only once the new one is ready (the surge needs one more GPU).
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "progressDeadlineSeconds": args.startup_timeout_seconds + 600,
            "template": {
                "metadata": {"labels": dict(meta_labels)},
                "spec": {
                    "serviceAccountName": endpoint,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": args.termination_grace_seconds,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": uid,
                        "runAsGroup": uid,
                        "fsGroup": uid,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "tolerations": [
                        {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}
                    ],
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {
                                "nodeSelectorTerms": [{"matchExpressions": node_terms}]
                            }
                        }
                    },
                    "topologySpreadConstraints": spread,
                    "initContainers": [sync],
                    "containers": [server],
                    "volumes": [
                        {"name": "model", "emptyDir": {"sizeLimit": f"{args.model_volume_gib}Gi"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "10Gi"}},
                        {
                            "name": "shm",
                            "emptyDir": {"medium": "Memory", "sizeLimit": f"{args.shm_gib}Gi"},
                        },
                    ],
                },
            },
        }

    @staticmethod
    def _ingress(
        name: str,
        endpoint: str,
        *,
        ns: str,
        ingress: EndpointIngress,
        spec: ServerSpec,
        meta_labels: dict[str, str],
        service: k8s.core.v1.Service,
        k8s_opts: pulumi.ResourceOptions,
    ) -> None:
        annotations = {
            "alb.ingress.kubernetes.io/scheme": "internal",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/certificate-arn": ingress.certificate_arn,
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
            "alb.ingress.kubernetes.io/ssl-redirect": "443",
            "alb.ingress.kubernetes.io/ssl-policy": ingress.ssl_policy,
            "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
            "alb.ingress.kubernetes.io/healthcheck-path": spec.readiness_path,
            "alb.ingress.kubernetes.io/load-balancer-attributes": (
                f"idle_timeout.timeout_seconds={ingress.idle_timeout_seconds}"
            ),
        }
        if ingress.inbound_cidrs:
            annotations["alb.ingress.kubernetes.io/inbound-cidrs"] = ",".join(ingress.inbound_cidrs)
        rule: dict[str, Any] = {
            "http": {
                "paths": [
                    {
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": endpoint, "port": {"name": "http"}}},
                    }
                ]
            }
        }
        if ingress.host:
            rule["host"] = ingress.host
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={
                "name": endpoint,
                "namespace": ns,
                "labels": meta_labels,
                "annotations": annotations,
            },
            spec=cast(
                "k8s.networking.v1.IngressSpecArgsDict",
                {"ingressClassName": "alb", "rules": [rule]},
            ),
            opts=pulumi.ResourceOptions.merge(
                k8s_opts, pulumi.ResourceOptions(depends_on=[service])
            ),
        )
