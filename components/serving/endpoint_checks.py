"""What :class:`~mlops_platform.serving.model_endpoint.ModelEndpoint` checks before it builds:
every problem with its args, each naming the argument."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..core.checks import int_between
from ..core.coercion import allowed_values
from ..core.images import ecr_digest_problem
from ..core.validation import Invalid
from .model_source import source_problems
from .servers import SELECTOR, ServerKind

if TYPE_CHECKING:
    from .model_endpoint import EndpointIngress, ModelEndpointArgs

MAX_NAME_LENGTH = 40
"""Longest endpoint name: derived names (``<name>-model-sync``, the HPA KEDA creates as
``keda-hpa-<name>``) must stay within Kubernetes' 63 characters."""

_K8S_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_QUANTITY = re.compile(r"^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$")
_CRON = re.compile(r"^(\S+\s+){4}\S+$")
_TIMEZONE = re.compile(r"^(UTC|[A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$")
_HTTP_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")


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
            if value is not None and not int_between(value, 1, 65535):
                problems.append(Invalid(f"custom_server.{key}", value, "a port 1-65535"))
        for key in ("liveness_path", "readiness_path", "metrics_path"):
            value = getattr(spec, key)
            if not isinstance(value, str) or not _HTTP_PATH.match(value):
                problems.append(
                    Invalid(f"custom_server.{key}", value, "an HTTP path such as /health")
                )
        for key in ("queue_query", "latency_p95_query", "error_ratio_query"):
            value = getattr(spec, key)
            if not isinstance(value, str) or SELECTOR not in value:
                problems.append(
                    Invalid(
                        f"custom_server.{key}",
                        value,
                        f"a PromQL query containing {SELECTOR} where the endpoint's series "
                        "selector goes",
                    )
                )
    return problems


def _scaling_problems(args: ModelEndpointArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if not int_between(args.min_replicas, 0, 100):
        problems.append(Invalid("min_replicas", args.min_replicas, "an integer from 0 to 100"))
    if not int_between(args.max_replicas, 1, 100):
        problems.append(Invalid("max_replicas", args.max_replicas, "an integer from 1 to 100"))
    elif int_between(args.min_replicas, 0, 100) and args.max_replicas < args.min_replicas:
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
        if not int_between(hours.replicas, 1, 100) or (
            int_between(args.max_replicas, 1, 100) and hours.replicas > args.max_replicas
        ):
            problems.append(Invalid("active_hours.replicas", hours.replicas, "1 to max_replicas"))
    return problems


def _resource_problems(args: ModelEndpointArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    if not int_between(args.gpus, 1, 8):
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
        if not int_between(getattr(args, key), low, high)
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
    if not int_between(ingress.idle_timeout_seconds, 1, 4000):
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
    problems += source_problems(args.model)
    problems += _server_problems(args)
    problems += _scaling_problems(args)
    problems += _resource_problems(args)
    problems += _ingress_problems(args.ingress)
    slo = args.slo
    if not (isinstance(slo.latency_p95_seconds, int | float) and slo.latency_p95_seconds > 0):
        problems.append(Invalid("slo.latency_p95_seconds", slo.latency_p95_seconds, "> 0"))
    if not (isinstance(slo.error_rate_percent, int | float) and 0 < slo.error_rate_percent < 100):
        problems.append(Invalid("slo.error_rate_percent", slo.error_rate_percent, "in (0, 100)"))
    if not int_between(slo.saturation_minutes, 1, 1440):
        problems.append(Invalid("slo.saturation_minutes", slo.saturation_minutes, "1 to 1440"))
    return problems
