"""Tenancy and load balancing: GPU workloads only where a GPU quota caps them, no
internet-facing load balancer unless allowed, a default-deny NetworkPolicy in every tenant
namespace, and namespace-scoped cluster access for tenant roles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import PolicyResource, Severity

from components.core import labels, load_balancing
from rules.kubernetes import containers, gpu_quantity, is_workload, kind_of, pod_spec
from rules.read import Node, parse_quantity
from rules.rule import Rule, StackContext, fmt, inputs

NAMESPACE = "kubernetes:core/v1:Namespace"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
GPU = labels.GPU_TAINT_KEY
GPU_QUOTA_KEYS = (f"requests.{GPU}", f"limits.{GPU}")
"""ResourceQuota keys that cap GPUs (Kubernetes quotas extended resources by request)."""
GPU_QUOTA_NAMESPACES = "gpuQuotaNamespaces"
"""TEN-001's config key: namespaces outside the stack known to have a GPU quota -> quota."""
TENANT_ACCESS_POLICIES = [
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
]


def _is_kind(resource_type: str, groups: frozenset[str], kind: str) -> bool:
    found = kind_of(resource_type)
    return found is not None and found[0] in groups and found[1] == kind


def is_service(resource_type: str) -> bool:
    """A Service (any version, ``*Patch`` included)."""
    return _is_kind(resource_type, frozenset({"core"}), "Service")


def is_ingress(resource_type: str) -> bool:
    """An Ingress (any version, ``*Patch`` included)."""
    return _is_kind(resource_type, frozenset({"networking.k8s.io", "extensions"}), "Ingress")


# --- shared lookups --------------------------------------------------------------------------


def _namespaces(ctx: StackContext) -> dict[str, PolicyResource]:
    """Namespace resources by URN."""
    return {ns.urn: ns for ns in ctx.of_type(NAMESPACE)}


def _name_of(ctx: StackContext, ns: PolicyResource) -> str | None:
    return ctx.guard(lambda: inputs(ns).at("metadata", "name").text() or None)


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
        name = c["name"].label()
        limit = gpu_quantity(
            c.at("resources", "limits", GPU), f"container {name}: {GPU} limit", problems
        )
        request = gpu_quantity(
            c.at("resources", "requests", GPU), f"container {name}: {GPU} request", problems
        )
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


def _gpu_quota(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    namespaces = _namespaces(ctx)
    created = {n for n in (_name_of(ctx, ns) for ns in namespaces.values()) if n}
    capped, problems = _quota_caps(ctx, namespaces)
    yield from problems
    known = _configured_caps(cfg)
    exempt = {str(n) for n in cfg.get("exemptNamespaces", [])}

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


def _public_lb(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    why = internet_facing(args.resource_type, args.props)
    if why is None:
        return
    metadata = args.props["metadata"]
    namespace = metadata["namespace"].text() or "default"
    name = metadata["name"].text() or args.name
    allowed = [str(p) for p in cfg.get("allowInternetFacing", [])]
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


def _tags(r: PolicyResource) -> dict[str, str]:
    for key in ("tags", "tagsAll"):
        found = inputs(r)[key].tags()
        if found:
            return found
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
        description="Workloads (every pod-bearing kind and version, *Patch forms included) "
        "that request nvidia.com/gpu run only in namespaces whose GPU quota "
        "(ResourceQuota requests.nvidia.com/gpu) covers what one pod asks for. A namespace "
        "whose quota is in the stack, or that the stack creates, is judged on the stack alone; "
        "a namespace the stack neither creates nor quotas (a team project deploying into a "
        "platform tenant) must be listed in gpuQuotaNamespaces with its GPU quota.",
        remediation=(
            'Create the workload in a Tenant\'s namespace: Tenant("team", TenantArgs(team="team", '
            'owner="team-lead", gpus=4, ...)) gives it k8s.core.v1.ResourceQuota(..., spec='
            '{"hard": {"requests.nvidia.com/gpu": "4"}}). A team project deploying into a '
            "tenant namespace of the platform stack is judged against gpuQuotaNamespaces in "
            "policy/config/<env>.json, which python -m scripts.policy_docs writes from the "
            "stack's mlops:tenants (each team's namespace and gpus); add the tenant there, "
            "not an exemption."
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
            },
            GPU_QUOTA_NAMESPACES: {
                "type": "object",
                "additionalProperties": {"type": "number", "minimum": 0},
                "default": {},
                "description": "Namespaces created outside the stack that are known to have a "
                "GPU quota, with that quota (namespace -> requests.nvidia.com/gpu). Generated "
                "per environment from the platform stack's tenants by scripts.policy_docs. A "
                "quota the stack itself holds, or a namespace the stack creates, takes "
                "precedence.",
            },
        },
        limits="Workloads rendered by Helm charts are not visible to input checks; quotas "
        "of namespaces outside the stack are known only through gpuQuotaNamespaces.",
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
        type_filter=lambda t: is_service(t) or is_ingress(t),
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
