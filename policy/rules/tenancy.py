"""Tenancy and load balancing: GPU workloads only where a GPU quota caps them, no
internet-facing load balancer unless allowed, a default-deny NetworkPolicy in every tenant
namespace, and namespace-scoped cluster access for tenant roles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity

from components.core import labels, load_balancing
from rules.rule import Rule, StackContext, as_number, dig, fmt, items

_TEMPLATE = ("spec", "template", "spec")
_POD_SPECS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": _TEMPLATE,
    "kubernetes:apps/v1:StatefulSet": _TEMPLATE,
    "kubernetes:apps/v1:DaemonSet": _TEMPLATE,
    "kubernetes:apps/v1:ReplicaSet": _TEMPLATE,
    "kubernetes:batch/v1:Job": _TEMPLATE,
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
NAMESPACE = "kubernetes:core/v1:Namespace"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
GPU = labels.GPU_TAINT_KEY
GPU_QUOTA_KEYS = (f"requests.{GPU}", f"limits.{GPU}")
"""ResourceQuota keys that cap GPUs (Kubernetes quotas extended resources by request)."""
TENANT_ACCESS_POLICIES = [
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
]


# --- shared lookups --------------------------------------------------------------------------


def _namespaces(ctx: StackContext) -> dict[str, PolicyResource]:
    """Namespace resources by URN."""
    return {ns.urn: ns for ns in ctx.of_type(NAMESPACE)}


def _name_of(ctx: StackContext, ns: PolicyResource) -> str | None:
    value = ctx.guard(lambda: dig(ns.props, "metadata", "name"))
    return value if isinstance(value, str) else None


def _namespace_of(
    ctx: StackContext, r: PolicyResource, namespaces: Mapping[str, PolicyResource]
) -> str | None:
    """The namespace ``r`` is created in: its ``metadata.namespace``, or the name of the
    Namespace resource its metadata depends on; ``default`` when it names none."""
    value = ctx.guard(lambda: dig(r.props, "metadata", "namespace"))
    if isinstance(value, str) and value:
        return value
    for dep in r.property_dependencies.get("metadata", []):
        if dep.urn in namespaces:
            return _name_of(ctx, namespaces[dep.urn])
    return "default" if value is None else None


def _tenants(ctx: StackContext, label: str) -> dict[str, tuple[PolicyResource, str]]:
    """Tenant namespaces (labelled ``label``): name -> (resource, team)."""
    found: dict[str, tuple[PolicyResource, str]] = {}
    for ns in ctx.of_type(NAMESPACE):
        ns_labels = ctx.guard(lambda ns=ns: dig(ns.props, "metadata", "labels", default={}), {})
        name = _name_of(ctx, ns)
        if isinstance(ns_labels, Mapping) and label in ns_labels and name:
            found[name] = (ns, str(ns_labels[label]))
    return found


# --- TEN-001: GPU workloads only in namespaces with a GPU quota -----------------------------


def _gpus(r: PolicyResource) -> float:
    spec = dig(r.props, *_POD_SPECS[r.resource_type], default={})
    total = 0.0
    for c in items(dig(spec, "containers")):
        limit = as_number(dig(c, "resources", "limits", GPU))
        request = as_number(dig(c, "resources", "requests", GPU))
        total += max(limit or 0.0, request or 0.0)
    return total


def _gpu_quota(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    namespaces = _namespaces(ctx)
    capped: dict[str, float] = {}
    for quota in ctx.of_type(RESOURCE_QUOTA):
        ns = _namespace_of(ctx, quota, namespaces)
        hard = ctx.guard(lambda q=quota: dig(q.props, "spec", "hard", default={}), {})
        for key in GPU_QUOTA_KEYS:
            value = as_number(dig(hard, key)) if isinstance(hard, Mapping) else None
            if ns and value is not None:
                capped[ns] = max(capped.get(ns, 0.0), value)
    exempt = set(cfg.get("exemptNamespaces", []))

    def check(r: PolicyResource) -> Iterator[tuple[str | None, str]]:
        gpus = _gpus(r)
        if not gpus:
            return
        ns = _namespace_of(ctx, r, namespaces)
        if ns is None or ns in exempt:
            return
        cap = capped.get(ns)
        if cap is None:
            yield (
                r.urn,
                (
                    f"{r.name} requests {fmt(gpus)} GPU(s) in namespace {ns}, which has no "
                    f"ResourceQuota on {GPU_QUOTA_KEYS[0]}"
                ),
            )
        elif cap < gpus:
            yield (
                r.urn,
                (
                    f"{r.name} requests {fmt(gpus)} GPU(s) in namespace {ns}, whose GPU quota is "
                    f"{fmt(cap)}: it can never be scheduled"
                ),
            )

    yield from ctx.per_resource(ctx.of_type(*_POD_SPECS), check)


# --- TEN-002: no internet-facing load balancer unless allowed -------------------------------


def _annotations(args: ResourceValidationArgs) -> Mapping[str, Any]:
    value = dig(args.props, "metadata", "annotations", default={})
    return value if isinstance(value, Mapping) else {}


def internet_facing(args: ResourceValidationArgs) -> str | None:
    """Why a Service or Ingress gets an internet-facing load balancer (None when it does
    not): the controller's scheme annotation, or a LoadBalancer Service left to the in-tree
    provider (internet-facing by default) without its internal annotation."""
    notes = _annotations(args)
    lb = load_balancing
    if args.resource_type == INGRESS:
        scheme = str(notes.get(lb.INGRESS_SCHEME_ANNOTATION, lb.INTERNAL)).lower()
        return f"{lb.INGRESS_SCHEME_ANNOTATION}: {scheme}" if scheme == lb.INTERNET_FACING else None
    if dig(args.props, "spec", "type") != "LoadBalancer":
        return None
    scheme = str(notes.get(lb.SERVICE_SCHEME_ANNOTATION, "")).lower()
    if scheme == lb.INTERNET_FACING:
        return f"{lb.SERVICE_SCHEME_ANNOTATION}: {scheme}"
    by_controller = (
        str(notes.get(lb.SERVICE_TYPE_ANNOTATION, "")).lower() in lb.CONTROLLER_SERVICE_TYPES
        or dig(args.props, "spec", "loadBalancerClass") == lb.CONTROLLER_LOAD_BALANCER_CLASS
    )
    if by_controller or scheme == lb.INTERNAL:
        return None
    if str(notes.get(lb.LEGACY_INTERNAL_ANNOTATION, "")).lower() == "true":
        return None
    return "a LoadBalancer Service with no internal scheme (the in-tree default is public)"


def _public_lb(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    why = internet_facing(args)
    if why is None:
        return
    namespace = dig(args.props, "metadata", "namespace", default="default")
    name = dig(args.props, "metadata", "name", default=args.name)
    allowed = [str(p) for p in cfg.get("allowInternetFacing", [])]
    if any(fnmatchcase(f"{namespace}/{name}", pattern) for pattern in allowed):
        return
    kind = "Ingress" if args.resource_type == INGRESS else "Service"
    yield (
        f"{kind} {namespace}/{name} gets an internet-facing load balancer ({why}) and is not "
        "in allowInternetFacing"
    )


# --- TEN-003: default-deny NetworkPolicy in every tenant namespace --------------------------


def _selects_all(selector: Any) -> bool:
    return not dig(selector, "matchLabels") and not dig(selector, "matchExpressions")


def _is_default_deny(policy: PolicyResource) -> bool:
    spec = dig(policy.props, "spec", default={})
    types = set(items(dig(spec, "policyTypes")))
    return (
        _selects_all(dig(spec, "podSelector", default={}))
        and {"Ingress", "Egress"} <= types
        and not items(dig(spec, "ingress"))
        and not items(dig(spec, "egress"))
    )


def _default_deny(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    namespaces = _namespaces(ctx)
    denied: set[str] = set()
    for policy in ctx.of_type(NETWORK_POLICY):
        ns = _namespace_of(ctx, policy, namespaces)
        if ns and ctx.guard(lambda p=policy: _is_default_deny(p), False):
            denied.add(ns)
    label = str(cfg.get("tenantLabelKey", labels.TENANT_LABEL))
    for name, (ns, team) in sorted(_tenants(ctx, label).items()):
        if name not in denied:
            yield (
                ns.urn,
                (
                    f"tenant namespace {name} (team {team}) has no default-deny NetworkPolicy "
                    "(podSelector {}, policyTypes Ingress and Egress, no rules)"
                ),
            )


# --- TEN-004: tenant roles get namespace-scoped access only ---------------------------------


def _tags(r: PolicyResource) -> Mapping[str, Any]:
    for key in ("tags", "tagsAll"):
        value = dig(r.props, key)
        if isinstance(value, Mapping) and value:
            return value
    return {}


def _scoped_access(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    tag = str(cfg.get("tenantTagKey", labels.TENANT_TAG))
    label = str(cfg.get("tenantLabelKey", labels.TENANT_LABEL))
    allowed = [str(p) for p in cfg.get("allowedPolicyArns", TENANT_ACCESS_POLICIES)]
    tenant_namespaces = _tenants(ctx, label)
    associations = ctx.of_type(ACCESS_ASSOCIATION)

    def check(entry: PolicyResource) -> Iterator[tuple[str | None, str]]:
        team = _tags(entry).get(tag)
        if not team:
            return
        groups = items(dig(entry.props, "kubernetesGroups"))
        if groups:
            yield (
                entry.urn,
                (
                    f"tenant {team}'s access entry {entry.name} maps to Kubernetes groups "
                    f"{', '.join(map(str, groups))} (RBAC outside the namespace-scoped policy)"
                ),
            )
        team_namespaces = {n for n, (_, t) in tenant_namespaces.items() if t == team}
        for assoc in ctx.linked(entry, associations, "principalArn", ("principalArn",)):
            policy = str(dig(assoc.props, "policyArn", default=""))
            scope = dig(assoc.props, "accessScope", default={})
            namespaces = [str(n) for n in items(dig(scope, "namespaces"))]
            where = f"tenant {team}'s access association {assoc.name}"
            if dig(scope, "type") != "namespace" or not namespaces:
                yield assoc.urn, f"{where} is cluster-wide; scope it to the tenant's namespace"
            outside = [n for n in namespaces if team_namespaces and n not in team_namespaces]
            if outside:
                yield assoc.urn, f"{where} reaches namespaces {', '.join(outside)} outside {team}'s"
            if policy not in allowed:
                yield assoc.urn, f"{where} grants {policy or 'no policy'}, not one of the allowed"

    yield from ctx.per_resource(ctx.of_type(ACCESS_ENTRY), check)


_TENANT_LABEL_SCHEMA = {
    "type": "string",
    "default": labels.TENANT_LABEL,
    "description": "Namespace label that marks a tenant namespace (its value: the team).",
}

RULES: list[Rule] = [
    Rule(
        id="TEN-001",
        name="k8s-gpu-workloads-need-gpu-quota",
        severity=Severity.HIGH,
        description="Workloads that request nvidia.com/gpu run only in namespaces whose "
        "ResourceQuota caps requests.nvidia.com/gpu (at least what the pod asks for).",
        remediation=(
            'Create the workload in a Tenant\'s namespace: Tenant("team", TenantArgs(team="team", '
            'owner="team-lead", gpus=4, ...)) gives it k8s.core.v1.ResourceQuota(..., spec='
            '{"hard": {"requests.nvidia.com/gpu": "4"}})'
        ),
        controls=("MLOPS tenant-gpu-quota", "Kyverno check-nvidia-gpu"),
        catalog=(55, 61),
        stack_check=_gpu_quota,
        config={
            "exemptNamespaces": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Namespaces whose GPU workloads need no quota (none by default).",
            }
        },
        limits="Workloads rendered by Helm charts are not visible to input checks.",
    ),
    Rule(
        id="TEN-002",
        name="k8s-no-internet-facing-load-balancers",
        severity=Severity.HIGH,
        description="Services and Ingresses get internal load balancers only, unless "
        "allowInternetFacing names them (mandatory in test and prod).",
        remediation=(
            'metadata={"annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": '
            '"external", "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}} '
            '(Service) or {"alb.ingress.kubernetes.io/scheme": "internal"} (Ingress); a '
            "deliberate public endpoint goes into policy/config/<env>.json "
            '"k8s-no-internet-facing-load-balancers": {"allowInternetFacing": ["ns/name"]}'
        ),
        controls=("Gatekeeper k8sblocknodeport", "Kyverno restrict-service-external-ips"),
        catalog=(59,),
        resource_check=_public_lb,
        resource_types=(SERVICE, INGRESS),
        config={
            "allowInternetFacing": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "namespace/name patterns (fnmatch) of Services and Ingresses "
                "explicitly allowed an internet-facing load balancer.",
            }
        },
        limits="Services inside Helm releases (the platform's MLflow and Grafana) are set by "
        "the components to the controller's internal scheme; IngressClassParams schemes are "
        "not read.",
    ),
    Rule(
        id="TEN-003",
        name="k8s-tenant-default-deny-network-policy",
        severity=Severity.HIGH,
        description="Every tenant namespace has a NetworkPolicy that selects all pods and "
        "denies ingress and egress; other policies then allow what the tenant needs.",
        remediation=(
            'k8s.networking.v1.NetworkPolicy("team-default-deny", metadata={"namespace": ns}, '
            'spec={"pod_selector": {}, "policy_types": ["Ingress", "Egress"]}) '
            "(the Tenant component creates it)"
        ),
        controls=("CIS 4.3.2",),
        catalog=(61,),
        stack_check=_default_deny,
        config={"tenantLabelKey": _TENANT_LABEL_SCHEMA},
        limits="Tenant namespaces are those labelled with tenantLabelKey.",
    ),
    Rule(
        id="TEN-004",
        name="eks-tenant-access-namespace-scoped",
        severity=Severity.HIGH,
        description="EKS access entries of tenant roles map to no Kubernetes groups and are "
        "associated only with allowed access policies scoped to the tenant's own namespaces.",
        remediation=(
            'aws.eks.AccessPolicyAssociation(..., policy_arn="arn:aws:eks::aws:cluster-access-'
            'policy/AmazonEKSEditPolicy", access_scope=aws.eks.AccessPolicyAssociation'
            'AccessScopeArgs(type="namespace", namespaces=[tenant_namespace]))'
        ),
        controls=("CIS 4.1.1", "CIS 4.1.8"),
        catalog=(60,),
        stack_check=_scoped_access,
        config={
            "tenantTagKey": {
                "type": "string",
                "default": labels.TENANT_TAG,
                "description": "AWS tag (value: the team) that marks a tenant's access entry.",
            },
            "tenantLabelKey": _TENANT_LABEL_SCHEMA,
            "allowedPolicyArns": {
                "type": "array",
                "items": {"type": "string"},
                "default": TENANT_ACCESS_POLICIES,
                "description": "EKS access policies a tenant role may be associated with.",
            },
        },
        limits="Tenant access entries are those tagged with tenantTagKey; the namespaces are "
        "checked against the team's labelled namespaces when the stack holds them.",
    ),
]
