"""Tenancy and load balancing: GPU workloads only where a GPU quota caps them, no
internet-facing load balancer unless allowed, a default-deny NetworkPolicy in every tenant
namespace, and namespace-scoped cluster access for tenant roles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import PolicyResource

from components.core import load_balancing
from rules.catalog import resource_rule, rules_of, stack_rule
from rules.checks import fmt
from rules.context import StackContext, inputs
from rules.read import Node, parse_quantity
from rules.workloads import (
    GPU,
    container_gpus,
    containers,
    is_ingress,
    is_service,
    is_workload,
    namespace_of,
    pod_spec,
)

NAMESPACE = "kubernetes:core/v1:Namespace"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
GPU_QUOTA_KEYS = (f"requests.{GPU}", f"limits.{GPU}")
"""ResourceQuota keys that cap GPUs (Kubernetes quotas extended resources by request)."""
GPU_QUOTA_NAMESPACES = "gpuQuotaNamespaces"
"""TEN-001's config key: namespaces outside the stack known to have a GPU quota -> quota."""

# --- shared lookups --------------------------------------------------------------------------


def _namespaces(ctx: StackContext) -> dict[str, PolicyResource]:
    """Namespace resources by URN."""
    return {ns.urn: ns for ns in ctx.of_type(NAMESPACE)}


def _name_of(ctx: StackContext, ns: PolicyResource) -> str | None:
    return ctx.read(ns, "metadata", "name") or None


def _namespace_of(
    ctx: StackContext, r: PolicyResource, namespaces: Mapping[str, PolicyResource]
) -> str | None:
    """The namespace ``r`` is created in: its ``metadata.namespace``, or the name of the
    Namespace resource its metadata depends on; ``default`` when it names none (None when
    it cannot be read)."""
    node = inputs(r).at("metadata", "namespace")
    if not ctx.guard(node.known, False):
        return None  # unknown: remembered (preview) or recorded (update) by the guard
    value = node.text()
    if value:
        return value
    for dep in r.property_dependencies.get("metadata", []):
        if dep.urn in namespaces:
            return _name_of(ctx, namespaces[dep.urn])
    return "default" if node.absent else None


def _tenants(ctx: StackContext, label: str) -> dict[str, tuple[PolicyResource, str]]:
    """Tenant namespaces (labelled ``label``): name -> (resource, team)."""
    found: dict[str, tuple[PolicyResource, str]] = {}
    for ns in ctx.of_type(NAMESPACE):
        ns_labels = ctx.guard(lambda ns=ns: inputs(ns).at("metadata", "labels").tags(), {})
        name = _name_of(ctx, ns)
        if label in ns_labels and name:
            found[name] = (ns, ns_labels[label])
    return found


# --- TEN-001: GPU workloads only in namespaces with a GPU quota -----------------------------


def _pod_gpus(r: PolicyResource, problems: list[str]) -> Decimal:
    """GPUs one pod of ``r`` holds: the sum over its containers (the larger of limit and
    request each), or the largest init container's when that is more."""
    spec = pod_spec(r.resource_type, inputs(r))

    def gpus(c: Node) -> Decimal:
        limit, request = container_gpus(c, problems)
        return max(limit or Decimal(0), request or Decimal(0))

    total = sum((gpus(c) for c in containers(spec, init=False)), Decimal(0))
    init = [gpus(c) for c in spec["initContainers"].items()]
    return max([total, *init])


def _quota_caps(
    ctx: StackContext, namespaces: Mapping[str, PolicyResource]
) -> tuple[dict[str, Decimal], list[tuple[str | None, str]]]:
    """The GPU cap of each namespace whose ResourceQuota the stack holds (several quotas
    all apply: the smallest cap counts), and findings for caps that do not parse."""
    caps: dict[str, Decimal] = {}
    problems: list[tuple[str | None, str]] = []

    def read(quota: PolicyResource) -> None:
        ns = _namespace_of(ctx, quota, namespaces)
        hard = inputs(quota).at("spec", "hard")
        for key in GPU_QUOTA_KEYS:
            node = hard[key]
            if node.absent or not node.known() or ns is None:
                continue
            value = parse_quantity(node.raw)
            if value is None or value < 0:
                problems.append(
                    (
                        quota.urn,
                        f"ResourceQuota {quota.name}: spec.hard.{key} {node.label()!r} is not "
                        "a Kubernetes quantity",
                    )
                )
                continue
            caps[ns] = min(caps.get(ns, value), value)

    for quota in ctx.of_type(RESOURCE_QUOTA):
        ctx.guard(lambda q=quota: read(q))
    return caps, problems


def _configured_caps(cfg: Mapping[str, Any]) -> dict[str, Decimal]:
    out = {}
    for ns, value in (cfg.get(GPU_QUOTA_NAMESPACES) or {}).items():
        cap = parse_quantity(value)
        if cap is not None:
            out[str(ns)] = cap
    return out


@stack_rule("TEN-001")
def _gpu_quota(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    namespaces = _namespaces(ctx)
    created = {n for n in (_name_of(ctx, ns) for ns in namespaces.values()) if n}
    capped, problems = _quota_caps(ctx, namespaces)
    yield from problems
    known = _configured_caps(cfg)
    exempt = {str(n) for n in cfg["exemptNamespaces"]}

    def check(r: PolicyResource) -> Iterator[tuple[str | None, str]]:
        problems: list[str] = []
        gpus = _pod_gpus(r, problems)
        for problem in problems:
            yield r.urn, f"{r.name}: {problem}"
        if not gpus:
            return
        ns = _namespace_of(ctx, r, namespaces)
        if ns is None or ns in exempt:
            return
        asks = f"{r.name} requests {fmt(float(gpus))} GPU(s) in namespace {ns}"
        if ns in capped:
            cap, source = capped[ns], "whose GPU quota"
        elif ns in created:
            yield (
                r.urn,
                f"{asks}, which this stack creates with no ResourceQuota on {GPU_QUOTA_KEYS[0]}",
            )
            return
        elif ns in known:
            cap, source = known[ns], "whose GPU quota (gpuQuotaNamespaces)"
        else:
            yield (
                r.urn,
                f"{asks}: this stack holds no ResourceQuota on {GPU_QUOTA_KEYS[0]} for it and "
                "it is not in gpuQuotaNamespaces (namespaces known to have a GPU quota)",
            )
            return
        if cap < gpus:
            yield (
                r.urn,
                f"{asks}, {source} is {fmt(float(cap))}: it can never be scheduled",
            )

    yield from ctx.per_resource(ctx.matching(is_workload), check)


# --- TEN-002: no internet-facing load balancer unless allowed -------------------------------


def internet_facing(resource_type: str, props: Node) -> str | None:
    """Why a Service or Ingress gets an internet-facing load balancer (None when it does
    not): the controller's scheme annotation, or a LoadBalancer Service left to the in-tree
    provider (internet-facing by default) without its internal annotation."""
    notes = props.at("metadata", "annotations").tags()
    lb = load_balancing

    def note(key: str, default: str = "") -> str:
        return notes.get(key, default).strip().lower()

    if is_ingress(resource_type):
        scheme = note(lb.INGRESS_SCHEME_ANNOTATION, lb.INTERNAL)
        return f"{lb.INGRESS_SCHEME_ANNOTATION}: {scheme}" if scheme == lb.INTERNET_FACING else None
    if (props.at("spec", "type").text() or "").strip().lower() != "loadbalancer":
        return None
    scheme = note(lb.SERVICE_SCHEME_ANNOTATION)
    if scheme == lb.INTERNET_FACING:
        return f"{lb.SERVICE_SCHEME_ANNOTATION}: {scheme}"
    by_controller = (
        note(lb.SERVICE_TYPE_ANNOTATION) in lb.CONTROLLER_SERVICE_TYPES
        or props.at("spec", "loadBalancerClass").text() == lb.CONTROLLER_LOAD_BALANCER_CLASS
    )
    if by_controller or scheme == lb.INTERNAL:
        return None
    if note(lb.LEGACY_INTERNAL_ANNOTATION) == "true":
        return None
    return "a LoadBalancer Service with no internal scheme (the in-tree default is public)"


@resource_rule("TEN-002", match=lambda t: is_service(t) or is_ingress(t))
def _public_lb(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    why = internet_facing(args.resource_type, args.props)
    if why is None:
        return
    namespace = namespace_of(args.props)
    name = args.props.at("metadata", "name").text() or args.name
    allowed = [str(p) for p in cfg["allowInternetFacing"]]
    if any(fnmatchcase(f"{namespace}/{name}", pattern) for pattern in allowed):
        return
    kind = "Ingress" if is_ingress(args.resource_type) else "Service"
    yield (
        f"{kind} {namespace}/{name} gets an internet-facing load balancer ({why}) and is not "
        "in allowInternetFacing"
    )


# --- TEN-003: default-deny NetworkPolicy in every tenant namespace --------------------------


def _selects_all(selector: Node) -> bool:
    return not selector["matchLabels"].entries() and not selector["matchExpressions"].items()


def _is_default_deny(policy: PolicyResource) -> bool:
    spec = inputs(policy)["spec"]
    types = set(spec["policyTypes"].strings())
    return (
        _selects_all(spec["podSelector"])
        and {"Ingress", "Egress"} <= types
        and not spec["ingress"].items()
        and not spec["egress"].items()
    )


@stack_rule("TEN-003")
def _default_deny(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    namespaces = _namespaces(ctx)
    denied: set[str] = set()
    for policy in ctx.of_type(NETWORK_POLICY):
        ns = _namespace_of(ctx, policy, namespaces)
        if ns and ctx.guard(lambda p=policy: _is_default_deny(p), False):
            denied.add(ns)
    label = str(cfg["tenantLabelKey"])
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


def _tags(r: PolicyResource) -> dict[str, str]:
    for key in ("tags", "tagsAll"):
        found = inputs(r)[key].tags()
        if found:
            return found
    return {}


@stack_rule("TEN-004")
def _scoped_access(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    tag = str(cfg["tenantTagKey"])
    label = str(cfg["tenantLabelKey"])
    allowed = [str(p) for p in cfg["allowedPolicyArns"]]
    tenant_namespaces = _tenants(ctx, label)
    associations = ctx.of_type(ACCESS_ASSOCIATION)

    def check(entry: PolicyResource) -> Iterator[tuple[str | None, str]]:
        team = _tags(entry).get(tag)
        if not team:
            return
        groups = inputs(entry)["kubernetesGroups"].strings()
        if groups:
            yield (
                entry.urn,
                (
                    f"tenant {team}'s access entry {entry.name} maps to Kubernetes groups "
                    f"{', '.join(groups)} (RBAC outside the namespace-scoped policy)"
                ),
            )
        team_namespaces = {n for n, (_, t) in tenant_namespaces.items() if t == team}
        for assoc in ctx.linked(entry, associations, "principalArn", ("principalArn",)):
            props = inputs(assoc)
            policy = props["policyArn"].text() or ""
            scope = props["accessScope"]
            namespaces = scope["namespaces"].strings()
            where = f"tenant {team}'s access association {assoc.name}"
            if (scope["type"].text() or "").strip().lower() != "namespace" or not namespaces:
                yield assoc.urn, f"{where} is cluster-wide; scope it to the tenant's namespace"
            outside = [n for n in namespaces if team_namespaces and n not in team_namespaces]
            if outside:
                yield assoc.urn, f"{where} reaches namespaces {', '.join(outside)} outside {team}'s"
            if policy not in allowed:
                yield assoc.urn, f"{where} grants {policy or 'no policy'}, not one of the allowed"

    yield from ctx.per_resource(ctx.of_type(ACCESS_ENTRY), check)


RULES = rules_of(__name__)
