"""Serving: model endpoints (Deployments labelled ``mlops/model-endpoint``) have startup,
readiness and liveness probes, images pinned by digest from the environment's ECR, no host
access, a PodDisruptionBudget, and an autoscaling floor per environment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity

from components.core.images import ecr_digest_problem
from components.core.labels import ENDPOINT_LABEL
from rules.rule import Rule, StackContext, as_number, dig, fmt, items

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def _pod_labels(props: Any) -> Mapping[str, Any]:
    labels = dig(props, "spec", "template", "metadata", "labels", default={})
    return labels if isinstance(labels, Mapping) else {}


def is_endpoint(props: Any) -> bool:
    """Whether a Deployment's pods carry the endpoint label."""
    return ENDPOINT_LABEL in _pod_labels(props)


def _pod(props: Any) -> Any:
    return dig(props, "spec", "template", "spec", default={})


def _name(c: Any) -> str:
    return str(dig(c, "name", default="?"))


def _probes(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    if not is_endpoint(args.props):
        return
    for c in items(dig(_pod(args.props), "containers")):
        missing = [p for p in PROBES if dig(c, p) is None]
        if missing:
            yield f"endpoint container {_name(c)} has no {', '.join(missing)}"


def _images(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    if not is_endpoint(args.props):
        return
    accounts = [str(a) for a in cfg.get("allowedEcrAccountIds", [])]
    spec = _pod(args.props)
    for c in [*items(dig(spec, "initContainers")), *items(dig(spec, "containers"))]:
        image = dig(c, "image")
        why = ecr_digest_problem(image, accounts)
        if why is not None:
            yield f"endpoint container {_name(c)} image {image}: {why}"


def _host_access(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    if not is_endpoint(args.props):
        return
    spec = _pod(args.props)
    for flag in HOST_NAMESPACES:
        if dig(spec, flag) is True:
            yield f"the endpoint's pod sets {flag}"
    for volume in items(dig(spec, "volumes")):
        if dig(volume, "hostPath") is not None:
            yield f"the endpoint mounts the node's filesystem (hostPath volume {_name(volume)})"
    for c in [*items(dig(spec, "initContainers")), *items(dig(spec, "containers"))]:
        ctx = dig(c, "securityContext", default={})
        if dig(ctx, "privileged") is True:
            yield f"endpoint container {_name(c)} is privileged"
        if items(dig(ctx, "capabilities", "add")):
            yield f"endpoint container {_name(c)} adds Linux capabilities"
        for port in items(dig(c, "ports")):
            if dig(port, "hostPort") is not None:
                yield f"endpoint container {_name(c)} binds hostPort {dig(port, 'hostPort')}"


def _endpoints(ctx: StackContext) -> list[tuple[PolicyResource, dict[str, Any], str]]:
    found = []
    for dep in ctx.of_type(DEPLOYMENT):
        labels = ctx.guard(lambda d=dep: dict(_pod_labels(d.props)), {})
        if ENDPOINT_LABEL not in labels:
            continue
        namespace = ctx.guard(lambda d=dep: dig(d.props, "metadata", "namespace", default=""), "")
        found.append((dep, labels, str(namespace)))
    return found


def _pdb(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    pdbs = ctx.of_type(PDB)
    for dep, labels, namespace in _endpoints(ctx):

        def covers(p: PolicyResource, labels: dict[str, Any] = labels, ns: str = namespace) -> bool:
            selector = dict(dig(p.props, "spec", "selector", "matchLabels", default={}))
            same_ns = dig(p.props, "metadata", "namespace", default="") == ns
            return (
                bool(selector) and same_ns and all(labels.get(k) == v for k, v in selector.items())
            )

        if not any(ctx.guard(lambda p=p: covers(p), True) for p in pdbs):
            yield (
                dep.urn,
                f"model endpoint {dep.name} has no PodDisruptionBudget selecting its pods",
            )


def _floor(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    least = float(cfg.get("minReplicas", 2))
    scalers = ctx.of_type(SCALED_OBJECT)
    for dep, _, namespace in _endpoints(ctx):
        name = ctx.guard(lambda d=dep: dig(d.props, "metadata", "name"))
        mine = [
            s
            for s in scalers
            if ctx.guard(
                lambda s=s, name=name, namespace=namespace: (
                    dig(s.props, "spec", "scaleTargetRef", "name") == name
                    and dig(s.props, "metadata", "namespace", default="") == namespace
                ),
                True,
            )
        ]
        if not mine:
            replicas = ctx.guard(lambda d=dep: as_number(dig(d.props, "spec", "replicas")), least)
            if replicas is None or replicas < least:
                yield (
                    dep.urn,
                    f"model endpoint {dep.name} has no ScaledObject and runs "
                    f"{fmt(replicas or 1)} replica(s); at least {fmt(least)} needed",
                )
            continue
        for s in mine:
            floor = ctx.guard(lambda s=s: as_number(dig(s.props, "spec", "minReplicaCount")), least)
            floor = 0.0 if floor is None else floor  # KEDA's default minReplicaCount is 0
            if floor < least:
                yield (
                    s.urn,
                    f"model endpoint {dep.name} may scale down to {fmt(floor)} replica(s) "
                    f"(minReplicaCount); this environment needs at least {fmt(least)}",
                )


_ACCOUNTS_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "pattern": r"^\d{12}$"},
    "default": [],
    "description": "AWS accounts whose ECR may serve endpoint images (empty: any account's "
    "private ECR).",
}

_ENDPOINT = (
    "An endpoint is a Deployment whose pod template carries the mlops/model-endpoint label "
    "(ModelEndpoint sets it)."
)

RULES: list[Rule] = [
    Rule(
        id="SRV-001",
        name="endpoint-probes",
        severity=Severity.HIGH,
        description="Every container of a model endpoint has a startup, a readiness and a "
        "liveness probe, so a loading model gets no traffic and a hung server is restarted.",
        remediation="Use ModelEndpoint (it sets all three), or add them to the server container: "
        'startup_probe={"httpGet": {"path": "/health", "port": "http"}, "failureThreshold": '
        "180}, readiness_probe=..., liveness_probe=...",
        controls=("CKV_K8S_8", "CKV_K8S_9", "MLOPS serving"),
        catalog=(57,),
        resource_check=_probes,
        resource_types=(DEPLOYMENT,),
        limits=_ENDPOINT,
    ),
    Rule(
        id="SRV-002",
        name="endpoint-image-digest-pinned",
        severity=Severity.HIGH,
        description="Every image of a model endpoint (init containers included) is a private "
        "ECR image of an allowed account, pinned by sha256 digest.",
        remediation="ModelEndpointArgs(image='<account>.dkr.ecr.<region>.amazonaws.com/<repo>"
        "@sha256:<digest>', sync_image=...); find the digest with aws ecr describe-images.",
        controls=("CKV_K8S_43", "CIS 5.1.4", "MLOPS serving"),
        catalog=(56,),
        resource_check=_images,
        resource_types=(DEPLOYMENT,),
        config={"allowedEcrAccountIds": _ACCOUNTS_SCHEMA},
        limits=_ENDPOINT,
    ),
    Rule(
        id="SRV-003",
        name="endpoint-no-host-access",
        severity=Severity.CRITICAL,
        description="A model endpoint shares nothing with its node: no host network, PID or "
        "IPC namespace, no hostPath volume, no hostPort, no privileged container and no added "
        "capabilities.",
        remediation="Remove hostNetwork/hostPID/hostIPC, hostPath volumes, hostPort and "
        "privileged/capabilities.add from the endpoint's pod spec; GPUs come through the "
        "nvidia.com/gpu resource, not host access.",
        controls=("CIS 4.2.1", "CKV_K8S_16", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"),
        catalog=(51,),
        resource_check=_host_access,
        resource_types=(DEPLOYMENT,),
        limits=_ENDPOINT,
    ),
    Rule(
        id="SRV-004",
        name="endpoint-has-pdb",
        severity=Severity.HIGH,
        description="Every model endpoint has a PodDisruptionBudget in its namespace whose "
        "selector matches its pods, so a node drain never takes all replicas at once.",
        remediation="ModelEndpoint creates one; by hand: k8s.policy.v1.PodDisruptionBudget("
        '..., spec={"maxUnavailable": 1, "selector": {"matchLabels": {"mlops/model-endpoint": '
        "name}}})",
        controls=("Gatekeeper k8spoddisruptionbudget", "MLOPS serving"),
        catalog=(62,),
        stack_check=_pdb,
        limits="Only PDBs in the same stack are seen. " + _ENDPOINT,
    ),
    Rule(
        id="SRV-005",
        name="endpoint-min-replicas",
        severity=Severity.MEDIUM,
        description="A model endpoint's autoscaling floor (KEDA minReplicaCount, or the "
        "Deployment's replicas without a ScaledObject) is at least the environment's minimum: "
        "dev may scale to zero, prod keeps two.",
        remediation="ModelEndpointArgs(min_replicas=2) (min_replicas=0 with active_hours only "
        "where this rule's minReplicas allows it).",
        controls=("Compliance-ready availability", "MLOPS serving"),
        catalog=(62,),
        stack_check=_floor,
        config={
            "minReplicas": {
                "type": "integer",
                "minimum": 0,
                "default": 2,
                "description": "Fewest replicas an endpoint may scale down to.",
            }
        },
        limits=_ENDPOINT,
    ),
]
