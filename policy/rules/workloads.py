"""Reading Kubernetes objects: which type tokens are which kind, where a workload keeps its
pod spec and containers, host paths, GPU quantities, pod labels and disruption budgets.

The Kubernetes, serving and tenancy rules all inspect workloads through these helpers, so
every kind is recognised in every API version and in its ``*Patch`` form the same way.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from pulumi_policy import PolicyResource

from components.core.labels import GPU_TAINT_KEY
from rules.checks import fmt
from rules.context import StackContext, inputs
from rules.read import Node, parse_quantity

GPU = GPU_TAINT_KEY
"""The extended resource (and taint key) of NVIDIA GPUs."""

_TEMPLATE = ("spec", "template", "spec")
POD_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": _TEMPLATE,
    "StatefulSet": _TEMPLATE,
    "DaemonSet": _TEMPLATE,
    "ReplicaSet": _TEMPLATE,
    "ReplicationController": _TEMPLATE,
    "Job": _TEMPLATE,
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
}
"""Where each pod-bearing kind keeps its pod spec."""
_WORKLOAD_GROUPS = frozenset({"apps", "batch", "core", "extensions"})
LONG_RUNNING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
RBAC_GROUP = "rbac.authorization.k8s.io"


def kind_of(resource_type: str) -> tuple[str, str, bool] | None:
    """(API group, kind without ``Patch``, whether it is a ``*Patch`` resource) of a
    Kubernetes type token (``kubernetes:apps/v1:DeploymentPatch``); None otherwise."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    group = parts[1].split("/", 1)[0]
    kind = parts[2]
    patch = kind.endswith("Patch")
    return group, kind.removesuffix("Patch") if patch else kind, patch


def of_kind(groups: Iterable[str], *kinds: str) -> Callable[[str], bool]:
    """A predicate on type tokens: one of ``kinds`` in one of the API ``groups``, in any
    version, ``*Patch`` forms included."""
    wanted_groups, wanted_kinds = frozenset(groups), frozenset(kinds)

    def check(resource_type: str) -> bool:
        found = kind_of(resource_type)
        return found is not None and found[0] in wanted_groups and found[1] in wanted_kinds

    return check


is_workload = of_kind(_WORKLOAD_GROUPS, *POD_PATHS)
"""Every pod-bearing kind, in every API version, and its ``*Patch`` form."""
is_deployment = of_kind({"apps", "extensions"}, "Deployment")
is_service = of_kind({"core"}, "Service")
is_ingress = of_kind({"networking.k8s.io", "extensions"}, "Ingress")
is_rbac_role = of_kind({RBAC_GROUP}, "Role", "ClusterRole")
is_rbac_binding = of_kind({RBAC_GROUP}, "RoleBinding", "ClusterRoleBinding")


def is_patch(resource_type: str) -> bool:
    """Whether a Kubernetes type token is a ``*Patch`` resource (judged on the values it
    sets: what it leaves out stays as it is)."""
    found = kind_of(resource_type)
    return bool(found and found[2])


_long_running_kind = of_kind(_WORKLOAD_GROUPS, *LONG_RUNNING_KINDS)


def is_long_running(resource_type: str) -> bool:
    """Deployments, StatefulSets, DaemonSets (any version; not patches: a patch that does not
    mention probes leaves them as they are)."""
    return _long_running_kind(resource_type) and not is_patch(resource_type)


def pod_spec(resource_type: str, props: Node) -> Node:
    """The pod spec of a pod-bearing resource (any version, ``*Patch`` included)."""
    found = kind_of(resource_type)
    path = POD_PATHS.get(found[1], ("spec",)) if found else ("spec",)
    return props.at(*path)


def pod_of(args: Any) -> Node:
    """The pod spec of the workload a resource check sees."""
    return pod_spec(args.resource_type, args.props)


def containers(spec: Node, init: bool = True) -> list[Node]:
    """A pod spec's containers; ``init``: with its init and ephemeral containers."""
    found = spec["containers"].items()
    if init:
        found += spec["initContainers"].items() + spec["ephemeralContainers"].items()
    return found


def name_of(node: Node) -> str:
    """The ``name`` of a container, volume or port, for messages."""
    return node["name"].label()


def namespace_of(props: Node) -> str:
    """The namespace an object's metadata names (``default`` when it names none)."""
    return props.at("metadata", "namespace").text() or "default"


RUNTIME_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
)
SENSITIVE_HOST_PATHS = (
    "/",
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/root",
    "/home",
    "/boot",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/etc/kubernetes",
    *RUNTIME_SOCKETS,
)
"""Host paths that hand a pod the node: the root, system trees, kubelet and runtime state,
and every container runtime socket (mounting a parent of a socket counts)."""


def sensitive_host_path(path: str) -> bool:
    """Whether mounting host ``path`` exposes the node (normalised: ``//var/run/`` is
    ``/var/run``)."""
    norm = posixpath.normpath("/" + path.strip())
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    for sensitive in SENSITIVE_HOST_PATHS:
        if norm == sensitive or (sensitive != "/" and norm.startswith(sensitive + "/")):
            return True
        if sensitive.startswith(norm.rstrip("/") + "/"):
            return True  # a parent of a sensitive path
    return False


def host_paths(spec: Node) -> list[tuple[str, str]]:
    """(volume name, host path) of a pod spec's hostPath volumes."""
    out = []
    for volume in spec["volumes"].items():
        host = volume["hostPath"]
        if host.present:
            out.append((name_of(volume), host["path"].text() or "/"))
    return out


def gpu_quantity(node: Node, what: str, problems: list[str]) -> Decimal | None:
    """A GPU count given as a Kubernetes quantity (``"1"``, ``"1000m"``); None when absent or
    unknown in a preview. A value that is not a non-negative quantity adds a problem naming
    ``what`` to ``problems`` (a finding for the rule) and reads as None."""
    if node.absent or not node.known():
        return None
    value = parse_quantity(node.raw)
    if value is None or value < 0:
        problems.append(f"{what} {node.label()!r} is not a Kubernetes quantity")
        return None
    return value


def container_gpus(c: Node, problems: list[str]) -> tuple[Decimal | None, Decimal | None]:
    """(limit, request) of a container's ``nvidia.com/gpu``, each read by
    :func:`gpu_quantity`."""
    name = name_of(c)
    resources = c["resources"]
    return (
        gpu_quantity(resources.at("limits", GPU), f"container {name}: {GPU} limit", problems),
        gpu_quantity(resources.at("requests", GPU), f"container {name}: {GPU} request", problems),
    )


def template_labels(props: Node) -> dict[str, str]:
    """A Deployment's (or other templated workload's) pod labels."""
    return props.at("spec", "template", "metadata", "labels").tags()


def pdb_covers(pdb: PolicyResource, labels: Mapping[str, str], namespace: str) -> bool:
    """Whether a PodDisruptionBudget in ``namespace`` selects pods labelled ``labels`` (a
    non-empty matchLabels selector, every label matching)."""
    props = inputs(pdb)
    selector = props.at("spec", "selector", "matchLabels").tags()
    same_ns = (props.at("metadata", "namespace").text() or "") == namespace
    return bool(selector) and same_ns and all(labels.get(k) == v for k, v in selector.items())


def has_pdb(
    ctx: StackContext, pdbs: Iterable[PolicyResource], labels: Mapping[str, str], namespace: str
) -> bool:
    """Whether one of ``pdbs`` selects pods labelled ``labels`` in ``namespace`` (a budget
    that cannot be read in a preview counts: an unknown is never a finding)."""
    return any(ctx.guard(lambda p=p: pdb_covers(p, labels, namespace), True) for p in pdbs)


def too_few_replicas(
    ctx: StackContext, deployment: PolicyResource, least: float, subject: str
) -> str | None:
    """ "``subject`` runs N replica(s); at least ``least`` needed" when a Deployment's
    ``spec.replicas`` (Kubernetes' default: 1) is below ``least``; None when it is not, or
    cannot be read in a preview."""
    count = ctx.guard(lambda: inputs(deployment).at("spec", "replicas").number(1.0), least)
    if count < least:
        return f"{subject} runs {fmt(count)} replica(s); at least {fmt(least)} needed"
    return None
