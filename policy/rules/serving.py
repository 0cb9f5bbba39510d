"""Serving: model endpoints (Deployments labelled ``mlops/model-endpoint``) have startup,
readiness and liveness probes, images pinned by digest from the environment's ECR, no host
access, a PodDisruptionBudget, and an autoscaling floor per environment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from components.core.images import ecr_digest_problem
from components.core.labels import ENDPOINT_LABEL
from rules.catalog import resource_rule, rules_of, stack_rule
from rules.checks import fmt
from rules.context import StackContext, inputs
from rules.read import Node
from rules.workloads import (
    containers,
    has_pdb,
    is_deployment,
    is_patch,
    name_of,
    pod_of,
    template_labels,
    too_few_replicas,
)

PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
KEDA_DEFAULT_MIN_REPLICAS = 0.0
"""KEDA's default ``minReplicaCount``."""


def is_endpoint(props: Node) -> bool:
    """Whether a Deployment's pods carry the endpoint label."""
    return ENDPOINT_LABEL in template_labels(props)


@resource_rule("SRV-001", match=is_deployment)
def _probes(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    # A patch that does not mention probes leaves them as they are.
    if is_patch(args.resource_type) or not is_endpoint(args.props):
        return
    for c in containers(pod_of(args), init=False):
        missing = [p for p in PROBES if c[p].absent]
        if missing:
            yield f"endpoint container {name_of(c)} has no {', '.join(missing)}"


@resource_rule("SRV-002", match=is_deployment)
def _images(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if not is_endpoint(args.props):
        return
    accounts = [str(a) for a in cfg["allowedEcrAccountIds"]]
    patch = is_patch(args.resource_type)
    for c in containers(pod_of(args)):
        image = c["image"].text()
        if image is None and patch:
            continue
        why = ecr_digest_problem(image, accounts)
        if why is not None:
            yield f"endpoint container {name_of(c)} image {image or '(none)'}: {why}"


@resource_rule("SRV-003", match=is_deployment)
def _host_access(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    if not is_endpoint(args.props):
        return
    spec = pod_of(args)
    for flag in HOST_NAMESPACES:
        if spec[flag].flag() is True:
            yield f"the endpoint's pod sets {flag}"
    for volume in spec["volumes"].items():
        if volume["hostPath"].present:
            yield f"the endpoint mounts the node's filesystem (hostPath volume {name_of(volume)})"
    for c in containers(spec):
        security = c["securityContext"]
        if security["privileged"].flag() is True:
            yield f"endpoint container {name_of(c)} is privileged"
        if security.at("capabilities", "add").strings():
            yield f"endpoint container {name_of(c)} adds Linux capabilities"
        for port in c["ports"].items():
            if port["hostPort"].present:
                yield f"endpoint container {name_of(c)} binds hostPort {port['hostPort'].label()}"


def _endpoints(ctx: StackContext) -> list[tuple[PolicyResource, dict[str, str], str]]:
    """(Deployment, pod labels, namespace) of every endpoint in the stack."""
    found = []
    for dep in ctx.matching(lambda t: is_deployment(t) and not is_patch(t)):
        labels = ctx.guard(lambda d=dep: template_labels(inputs(d)), {})
        if ENDPOINT_LABEL not in labels:
            continue
        found.append((dep, labels, ctx.read(dep, "metadata", "namespace") or ""))
    return found


@stack_rule("SRV-004")
def _pdb(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    pdbs = ctx.of_type(PDB)
    for dep, labels, namespace in _endpoints(ctx):
        if not has_pdb(ctx, pdbs, labels, namespace):
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


@stack_rule("SRV-005")
def _floor(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    least = float(cfg["minReplicas"])
    scalers = ctx.of_type(SCALED_OBJECT)
    for dep, _, namespace in _endpoints(ctx):
        name = ctx.read(dep, "metadata", "name")
        mine = [
            s
            for s in scalers
            if ctx.guard(lambda s=s, n=name, ns=namespace: _scales(s, n, ns), True)
        ]
        if not mine:
            subject = f"model endpoint {dep.name} has no ScaledObject and"
            few = too_few_replicas(ctx, dep, least, subject)
            if few is not None:
                yield dep.urn, few
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


RULES = rules_of(__name__)
