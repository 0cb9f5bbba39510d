"""The Kubernetes objects of a model endpoint as plain specs: the Deployment (model-sync init
container, server, probes, GPU placement), the Service's ports, KEDA's ScaledObject, the
Ingress of its internal ALB and its SLO alerts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pulumi

from ..cluster.kubernetes import (
    GPU_TOLERATION,
    NON_ROOT_CONTAINER_SECURITY,
    RESTRICTED_POD_SECURITY,
)
from ..core.labels import ENDPOINT_LABEL, GPU_TAINT_KEY, POOL_LABEL, WORKLOAD_LABEL
from ..core.load_balancing import INGRESS_SCHEME_ANNOTATION, INTERNAL
from ..gpu.node_pool import Workload
from ..observability.alert_rules import AlertRule, Severity
from .servers import MODEL_DIR, SELECTOR, ServerSpec

if TYPE_CHECKING:
    from .model_endpoint import EndpointIngress, ModelEndpointArgs

SCRATCH_DIR = "/tmp"  # noqa: S108 (a path inside the container, on its own emptyDir)
"""The containers' writable scratch space (``HOME``, caches): an ``emptyDir``."""

SHM_DIR = "/dev/shm"  # noqa: S108 (the container's shared memory, a RAM-backed emptyDir)

ZONE_KEY = "topology.kubernetes.io/zone"
HOSTNAME_KEY = "kubernetes.io/hostname"


def series_selector(namespace: str, endpoint: str) -> str:
    """The PromQL selector of the endpoint's series; it replaces :data:`SELECTOR` in queries."""
    return f'namespace="{namespace}",service="{endpoint}"'


def alert_rules(
    endpoint: str, namespace: str, spec: ServerSpec, args: ModelEndpointArgs, target: float
) -> list[AlertRule]:
    """The endpoint's SLO alerts (latency p95, error rate, saturation)."""
    selector = series_selector(namespace, endpoint)
    slo = args.slo
    queue = spec.queue_query.replace(SELECTOR, selector)
    latency = spec.latency_p95_query.replace(SELECTOR, selector)
    errors = spec.error_ratio_query.replace(SELECTOR, selector)
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


def _named_ports(spec: ServerSpec) -> list[tuple[str, int]]:
    """The server's ports by name: ``http`` (the API), the extra ones, ``metrics`` if apart."""
    ports = [("http", spec.port), *spec.extra_ports.items()]
    if spec.metrics_port is not None:
        ports.append(("metrics", spec.metrics_port))
    return ports


def service_ports(spec: ServerSpec) -> list[dict[str, Any]]:
    """The ClusterIP Service's ports: each of the server's named ports."""
    return [
        {"name": port, "port": number, "targetPort": port, "protocol": "TCP"}
        for port, number in _named_ports(spec)
    ]


def scaled_object_spec(
    endpoint: str, args: ModelEndpointArgs, spec: ServerSpec, target: float
) -> dict[str, Any]:
    """KEDA's ``ScaledObject``: the queue per replica against ``target`` (a Prometheus
    trigger); with ``active_hours``, a cron trigger that holds replicas in those hours."""
    triggers: list[dict[str, Any]] = [
        {
            "type": "prometheus",
            "metadata": {
                "serverAddress": args.prometheus_url,
                "query": spec.queue_query.replace(
                    SELECTOR, series_selector(args.namespace, endpoint)
                ),
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
    return {
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
    }


def deployment_spec(
    endpoint: str,
    args: ModelEndpointArgs,
    *,
    spec: ServerSpec,
    meta_labels: dict[str, str],
    region: pulumi.Output[str],
    source: pulumi.Output[str],
) -> dict[str, Any]:
    """The Deployment: ``aws s3 sync`` of ``source`` into the model volume, then the server on
    GPUs of a serving pool, spread over zones and nodes, restricted, probed."""
    labels = {ENDPOINT_LABEL: endpoint}
    gpu = str(args.gpus)
    node_terms = [{"key": WORKLOAD_LABEL, "operator": "In", "values": [Workload.SERVING.value]}]
    if args.pool:
        node_terms.append({"key": POOL_LABEL, "operator": "In", "values": [args.pool]})
    ports = [
        {"name": port, "containerPort": number, "protocol": "TCP"}
        for port, number in _named_ports(spec)
    ]
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
        "securityContext": dict(NON_ROOT_CONTAINER_SECURITY),
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
        "securityContext": dict(NON_ROOT_CONTAINER_SECURITY),
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
                    **RESTRICTED_POD_SECURITY,
                    "runAsUser": uid,
                    "runAsGroup": uid,
                    "fsGroup": uid,
                },
                "tolerations": [dict(GPU_TOLERATION)],
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


def alb_ingress(
    endpoint: str, ingress: EndpointIngress, spec: ServerSpec
) -> tuple[dict[str, str], dict[str, Any]]:
    """Annotations and spec of the endpoint's Ingress: an internal ALB of the AWS Load Balancer
    Controller targeting pod IPs, TLS with the ACM certificate, HTTP redirected to HTTPS."""
    annotations = {
        INGRESS_SCHEME_ANNOTATION: INTERNAL,
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
    return annotations, {"ingressClassName": "alb", "rules": [rule]}
