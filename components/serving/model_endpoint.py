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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import pulumi
import pulumi_kubernetes as k8s

from ..cluster.kubernetes import monitoring_object
from ..core.component import Component
from ..core.labels import ENDPOINT_LABEL, WORKLOAD_LABEL
from ..core.tagging import merge_tags
from ..gpu.node_pool import Workload
from ..iam import PodIdentity, arn_part
from ..observability.alert_rules import prometheus_rule_groups
from ..observability.observability import DEFAULT_RUNBOOK_BASE_URL
from ..storage.artifact_store import AccessLevel, access_policy_document
from .endpoint_checks import (
    MAX_NAME_LENGTH,  # noqa: F401 (re-exported: its old import path)
    validate,
)
from .endpoint_objects import (
    alb_ingress,
    alert_rules,
    deployment_spec,
    scaled_object_spec,
    service_ports,
)
from .model_source import MlflowModelSource, S3ModelSource, resolve_model_uri
from .servers import (
    MODEL_DIR,  # noqa: F401 (re-exported: its old import path)
    ServerKind,
    ServerSpec,
    triton_server,
    vllm_server,
)


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


class ModelEndpoint(Component, legacy_module="model_endpoint"):
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
        endpoint = args.endpoint_name or name
        args = self.accept(name, args, lambda a: validate(endpoint, a))
        super().__init__(name, opts)
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
        object_meta: k8s.meta.v1.ObjectMetaArgsDict = {
            "name": endpoint,
            "namespace": ns,
            "labels": meta_labels,
        }
        k8s_opts = self.child(provider=args.kubernetes_provider)
        tags = merge_tags(
            args.tags, {"mlops:component": "model-endpoint", "mlops:endpoint": endpoint}
        )

        # --- identity: read the model's prefix, nothing else ------------------------------
        location = resolve_model_uri(args.model)
        partition = arn_part(args.cluster_arn, "partition")
        document = pulumi.Output.all(location, partition, args.model.kms_key_arn).apply(
            lambda v: access_policy_document(
                f"arn:{v[1]}:s3:::{v[0][0]}", v[2], v[0][1], AccessLevel.READ_ONLY
            )
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=object_meta,
            automount_service_account_token=False,
            opts=k8s_opts,
        )
        reader = PodIdentity.of(self, args).role(
            f"{name}-model-reader",
            role=f"{ns}-{endpoint}-model",
            namespace=ns,
            service_account=endpoint,
            policy=document,
            tags=tags,
        )
        model_uri = location.apply(lambda v: f"s3://{v[0]}/{v[1]}")

        # --- the server ---------------------------------------------------------------------
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=object_meta,
            spec=cast(
                "k8s.apps.v1.DeploymentSpecArgsDict",
                deployment_spec(
                    endpoint,
                    args,
                    spec=spec,
                    meta_labels=meta_labels,
                    region=arn_part(args.cluster_arn, "region"),
                    source=model_uri,
                ),
            ),
            opts=self.child(
                provider=args.kubernetes_provider,
                depends_on=[account, reader.ready],
                # KEDA owns the replica count once the ScaledObject exists.
                ignore_changes=["spec.replicas"],
            ),
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=object_meta,
            spec=cast(
                "k8s.core.v1.ServiceSpecArgsDict",
                {"type": "ClusterIP", "selector": dict(labels), "ports": service_ports(spec)},
            ),
            opts=k8s_opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=object_meta,
            spec=cast(
                "k8s.policy.v1.PodDisruptionBudgetSpecArgsDict",
                {"maxUnavailable": 1, "selector": {"matchLabels": dict(labels)}},
            ),
            opts=k8s_opts,
        )
        if args.ingress is not None:
            annotations, ingress_spec = alb_ingress(endpoint, args.ingress, spec)
            k8s.networking.v1.Ingress(
                f"{name}-ingress",
                metadata={**object_meta, "annotations": annotations},
                spec=cast("k8s.networking.v1.IngressSpecArgsDict", ingress_spec),
                opts=self.child(provider=args.kubernetes_provider, depends_on=[service]),
            )

        # --- autoscaling, metrics, alerts -----------------------------------------------------
        k8s.apiextensions.CustomResource(
            f"{name}-scaled-object",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata=object_meta,
            spec=scaled_object_spec(endpoint, args, spec, target),
            opts=self.child(provider=args.kubernetes_provider, depends_on=[deployment]),
        )
        monitoring_object(
            f"{name}-service-monitor",
            "ServiceMonitor",
            metadata=object_meta,
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
        monitoring_object(
            f"{name}-alert-rules",
            "PrometheusRule",
            metadata={"name": f"{endpoint}-slo", "namespace": ns, "labels": meta_labels},
            spec={"groups": groups},
            opts=k8s_opts,
        )

        self.publish(
            service_name=service.metadata.apply(lambda m: m.name or endpoint),
            url=pulumi.Output.from_input(f"http://{endpoint}.{ns}.svc.cluster.local:{spec.port}"),
            role_arn=reader.role.arn,
            model_uri=model_uri,
        )
