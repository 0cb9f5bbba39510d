"""Serving: model endpoints (Deployments labelled ``mlops/model-endpoint``) have startup,
readiness and liveness probes, images pinned by digest from the environment's ECR, no host
access, a PodDisruptionBudget, and an autoscaling floor per environment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, Severity

from components.core.images import ecr_digest_problem
from components.core.labels import ENDPOINT_LABEL
from rules.kubernetes import containers, kind_of, pdb_covers, pod_spec, template_labels
from rules.read import Node
from rules.rule import Rule, StackContext, fmt, inputs

PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
KEDA_DEFAULT_MIN_REPLICAS = 0.0
"""KEDA's default ``minReplicaCount``."""


def is_deployment(resource_type: str) -> bool:
    """A Deployment in any API version, ``DeploymentPatch`` included."""
    found = kind_of(resource_type)
    return found is not None and found[0] in ("apps", "extensions") and found[1] == "Deployment"


def _is_patch(resource_type: str) -> bool:
    found = kind_of(resource_type)
    return bool(found and found[2])


def is_endpoint(props: Node) -> bool:
    """Whether a Deployment's pods carry the endpoint label."""
    return ENDPOINT_LABEL in template_labels(props)


def _pod(args: Any) -> Node:
    return pod_spec(args.resource_type, args.props)


def _name(c: Node) -> str:
    return c["name"].label()


def _probes(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    # A patch that does not mention probes leaves them as they are.
    if _is_patch(args.resource_type) or not is_endpoint(args.props):
        return
    for c in containers(_pod(args), init=False):
        missing = [p for p in PROBES if c[p].absent]
        if missing:
            yield f"endpoint container {_name(c)} has no {', '.join(missing)}"


def _images(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if not is_endpoint(args.props):
        return
    accounts = [str(a) for a in cfg.get("allowedEcrAccountIds", [])]
    patch = _is_patch(args.resource_type)
    for c in containers(_pod(args)):
        image = c["image"].text()
        if image is None and patch:
            continue
        why = ecr_digest_problem(image, accounts)
        if why is not None:
            yield f"endpoint container {_name(c)} image {image or '(none)'}: {why}"


def _host_access(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if not is_endpoint(args.props):
        return
    spec = _pod(args)
    for flag in HOST_NAMESPACES:
        if spec[flag].flag() is True:
            yield f"the endpoint's pod sets {flag}"
    for volume in spec["volumes"].items():
        if volume["hostPath"].present:
            yield f"the endpoint mounts the node's filesystem (hostPath volume {_name(volume)})"
    for c in containers(spec):
        security = c["securityContext"]
        if security["privileged"].flag() is True:
            yield f"endpoint container {_name(c)} is privileged"
        if security.at("capabilities", "add").strings():
            yield f"endpoint container {_name(c)} adds Linux capabilities"
        for port in c["ports"].items():
            if port["hostPort"].present:
                yield f"endpoint container {_name(c)} binds hostPort {port['hostPort'].label()}"


def _endpoints(ctx: StackContext) -> list[tuple[PolicyResource, dict[str, str], str]]:
    """(Deployment, pod labels, namespace) of every endpoint in the stack."""
    found = []
    deployments = ctx.matching(lambda t: is_deployment(t) and not _is_patch(t))
    for dep in deployments:
        labels = ctx.guard(lambda d=dep: template_labels(inputs(d)), {})
        if ENDPOINT_LABEL not in labels:
            continue
        namespace = ctx.guard(lambda d=dep: inputs(d).at("metadata", "namespace").text())
        found.append((dep, labels, namespace or ""))
    return found


def _pdb(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    pdbs = ctx.of_type(PDB)
    for dep, labels, namespace in _endpoints(ctx):
        if not any(
            ctx.guard(lambda p=p, ls=labels, ns=namespace: pdb_covers(p, ls, ns), True)
            for p in pdbs
        ):
            yield (
                dep.urn,
                f"model endpoint {dep.name} has no PodDisruptionBudget selecting its pods",
            )


def _scales(s: PolicyResource, name: str | None, namespace: str) -> bool:
    props = inputs(s)
    return (
        props.at("spec", "scaleTargetRef", "name").text() == name
        and (props.at("metadata", "namespace").text() or "") == namespace
    )


def _floor(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    least = float(cfg.get("minReplicas", 2))
    scalers = ctx.of_type(SCALED_OBJECT)
    for dep, _, namespace in _endpoints(ctx):
        name = ctx.guard(lambda d=dep: inputs(d).at("metadata", "name").text())
        mine = [
            s
            for s in scalers
            if ctx.guard(lambda s=s, n=name, ns=namespace: _scales(s, n, ns), True)
        ]
        if not mine:
            # Kubernetes' default is one replica.
            replicas = ctx.guard(lambda d=dep: inputs(d).at("spec", "replicas").number(1.0), least)
            if replicas < least:
                yield (
                    dep.urn,
                    f"model endpoint {dep.name} has no ScaledObject and runs "
                    f"{fmt(replicas)} replica(s); at least {fmt(least)} needed",
                )
            continue
        for s in mine:
            floor = ctx.guard(
                lambda s=s: (
                    inputs(s).at("spec", "minReplicaCount").number(KEDA_DEFAULT_MIN_REPLICAS)
                ),
                least,
            )
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
    "An endpoint is a Deployment (any API version; a DeploymentPatch is judged on the values "
    "it sets) whose pod template carries the mlops/model-endpoint label (ModelEndpoint sets "
    "it)."
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
        type_filter=is_deployment,
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
        type_filter=is_deployment,
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
        type_filter=is_deployment,
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
