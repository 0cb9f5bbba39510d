"""Kubernetes: pod security, resources, GPUs, images, probes, service accounts, services,
RBAC, tenant namespaces, serving availability, and Helm releases.

Workloads are read through :mod:`rules.workloads` (every pod-bearing kind, every API
version, ``*Patch`` forms judged on the values they set)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from pulumi_policy import PolicyResource

from rules.catalog import resource_rule, rules_of, stack_rule
from rules.checks import fmt
from rules.cidrs import is_world
from rules.context import StackContext, inputs
from rules.read import Node
from rules.workloads import (
    GPU,
    container_gpus,
    containers,
    has_pdb,
    host_paths,
    is_long_running,
    is_patch,
    is_rbac_binding,
    is_rbac_role,
    is_service,
    is_workload,
    kind_of,
    name_of,
    namespace_of,
    pod_of,
    sensitive_host_path,
    template_labels,
    too_few_replicas,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")


# --- pods ------------------------------------------------------------------------------------


@resource_rule("K8S-001", match=is_workload)
def _privileged(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if namespace_of(args.props) in cfg["exemptNamespaces"]:
        return
    spec = pod_of(args)
    for flag in ("hostPID", "hostIPC", "hostNetwork"):
        if spec[flag].flag() is True:
            yield f"the pod sets {flag}"
    for c in containers(spec):
        if c.at("securityContext", "privileged").flag() is True:
            yield f"container {name_of(c)} is privileged"
    for name, path in host_paths(spec):
        if sensitive_host_path(path):
            yield f"volume {name} mounts host path {path}, which exposes the node"


def _caps(node: Node) -> list[str]:
    return [c.strip().upper().removeprefix("CAP_") for c in node.strings()]


@resource_rule("K8S-002", match=is_workload)
def _restricted(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    patch = is_patch(args.resource_type)
    spec = pod_of(args)
    pod_ctx = spec["securityContext"]
    pod_user = pod_ctx["runAsUser"].number()
    for name, path in host_paths(spec):
        yield f"volume {name} mounts host path {path} (hostPath volumes are not allowed)"
    for c in containers(spec):
        ctx = c["securityContext"]
        name = name_of(c)
        escalation = ctx["allowPrivilegeEscalation"].flag()
        if escalation is True or (escalation is None and not patch):
            yield f"container {name} does not set allowPrivilegeEscalation: false"
        drop = ctx.at("capabilities", "drop")
        if "ALL" not in _caps(drop) and (drop.present or not patch):
            yield f"container {name} does not drop ALL capabilities"
        extra = [cap for cap in _caps(ctx.at("capabilities", "add")) if cap != "NET_BIND_SERVICE"]
        if extra:
            yield (
                f"container {name} adds capabilities {', '.join(extra)} "
                "(only NET_BIND_SERVICE is allowed)"
            )
        own = ctx["runAsNonRoot"].flag()
        non_root = own if own is not None else pod_ctx["runAsNonRoot"].flag()
        if non_root is False or (non_root is None and not patch):
            yield f"container {name} may run as root (runAsNonRoot is not true)"
        user = ctx["runAsUser"].number()
        user = pod_user if user is None else user
        if user == 0:
            yield f"container {name} runs as root (runAsUser 0)"
        seccomp = (
            ctx.at("seccompProfile", "type").text() or pod_ctx.at("seccompProfile", "type").text()
        )
        if (seccomp or "").lower() not in ("runtimedefault", "localhost") and (
            seccomp is not None or not patch
        ):
            yield f"container {name} has no RuntimeDefault/Localhost seccomp profile"


@resource_rule("K8S-003", match=is_workload)
def _read_only(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    patch = is_patch(args.resource_type)
    for c in containers(pod_of(args)):
        value = c.at("securityContext", "readOnlyRootFilesystem").flag()
        if value is False or (value is None and not patch):
            yield f"container {name_of(c)} has a writable root filesystem"


@resource_rule("K8S-004", match=is_workload)
def _resources(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if is_patch(args.resource_type):
        return
    need = [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")]
    if cfg["requireCpuLimits"]:
        need.append(("limits", "cpu"))
    for c in containers(pod_of(args)):
        missing = [f"{kind}.{res}" for kind, res in need if c.at("resources", kind, res).absent]
        if missing:
            yield f"container {name_of(c)} lacks {', '.join(missing)}"


def _tolerates_gpu(spec: Node) -> bool:
    for t in spec["tolerations"].items():
        key = t["key"].text()
        operator = (t["operator"].text() or "Equal").lower()
        key_ok = key == GPU or (not key and operator == "exists")
        effect_ok = (t["effect"].text() or "").lower() in ("", "noschedule")
        if key_ok and effect_ok:
            return True
    return False


@resource_rule("K8S-005", match=is_workload)
def _gpu(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    spec = pod_of(args)
    total = Decimal(0)
    for c in containers(spec):
        problems: list[str] = []
        limit, request = container_gpus(c, problems)
        yield from problems
        if limit is None and request is None:
            continue
        if limit is None or (request is not None and request != limit):
            yield f"container {name_of(c)}: {GPU} requests and limits differ (set both equal)"
        total += limit if limit is not None else (request or Decimal(0))
    if total == 0:
        return
    if not is_patch(args.resource_type) and not _tolerates_gpu(spec):
        yield f"the pod requests GPUs but does not tolerate the {GPU}:NoSchedule taint"
    cap = Decimal(str(cfg["maxGpusPerPod"]))
    if total > cap:
        yield f"the pod asks for {fmt(float(total))} GPUs; the per-pod cap is {fmt(float(cap))}"


_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"
)


def registry_host(image: str) -> str:
    """The registry host of an image reference (``docker.io`` when it names none): the
    part before the first ``/`` when it looks like a host (has a dot or a port, or is
    ``localhost``)."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def registry_allowed(host: str, accounts: list[str], hosts: list[str]) -> bool:
    """An ECR private registry of an allowed account (any account when ``accounts`` is
    empty), or one of the exact ``hosts``."""
    match = _ECR_HOST.match(host)
    if match is not None and (not accounts or match.group("account") in accounts):
        return True
    return host in {h.lower() for h in hosts}


def _image_ok(image: str, accounts: list[str], hosts: list[str]) -> list[str]:
    problems = []
    name, _, digest = image.strip().partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if not digest and not tag:
        problems.append("has no tag or digest (implicitly :latest)")
    elif not digest and tag.lower() == "latest":
        problems.append("uses :latest")
    host = registry_host(name)
    if not registry_allowed(host, accounts, hosts):
        problems.append(f"comes from registry {host}, outside the allowlist")
    return problems


@resource_rule("K8S-006", match=is_workload)
def _images(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    accounts = [str(a) for a in cfg["allowedEcrAccountIds"]]
    hosts = [str(h) for h in cfg["allowedRegistryHosts"]]
    patch = is_patch(args.resource_type)
    for c in containers(pod_of(args)):
        image = c["image"].text()
        if not image:
            if not patch:
                yield f"container {name_of(c)} has no image"
            continue
        for problem in _image_ok(image, accounts, hosts):
            yield f"container {name_of(c)} image {image} {problem}"


@resource_rule("K8S-007", match=is_long_running)
def _probes(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for c in containers(pod_of(args), init=False):
        missing = [p for p in ("livenessProbe", "readinessProbe") if c[p].absent]
        if missing:
            yield f"container {name_of(c)} has no {' or '.join(missing)}"


@resource_rule("K8S-008", match=is_workload)
def _service_account(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    patch = is_patch(args.resource_type)
    spec = pod_of(args)
    named = spec["serviceAccountName"].text() or spec["serviceAccount"].text()
    account = named or "default"
    if account == "default" and (named or not patch):
        yield "the pod runs as the namespace's default service account"
    mount = spec["automountServiceAccountToken"].flag()
    if (mount is True or (mount is None and not patch)) and (
        f"{namespace_of(args.props)}/{account}" not in cfg["automountAllowed"]
    ):
        yield "the pod mounts a service account token (automountServiceAccountToken not false)"


# --- services and RBAC -------------------------------------------------------------------------

_INTERNAL_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}


@resource_rule("K8S-009", match=is_service)
def _service(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    spec = args.props["spec"]
    kind = (spec["type"].text() or "ClusterIP").strip().lower()
    annotations = args.props.at("metadata", "annotations").tags()
    if kind == "nodeport":
        yield "the service is a NodePort"
    elif kind == "loadbalancer":
        internal = any(
            annotations.get(k, "").strip().lower() == v for k, v in _INTERNAL_ANNOTATIONS.items()
        )
        if not internal:
            yield "the LoadBalancer service is internet-facing (no internal scheme annotation)"
    external = spec["externalIPs"].strings()
    if external:
        yield (
            f"the service sets externalIPs ({', '.join(external)}): any namespace can intercept "
            "that traffic (CVE-2020-8554)"
        )


_RISKY_VERBS = frozenset({"bind", "escalate", "impersonate"})
_READ_VERBS = frozenset({"get", "list", "watch"})


def _rule_wild(rule: Node) -> list[str]:
    return [f for f in ("verbs", "resources", "apiGroups") if "*" in rule[f].strings()]


@resource_rule("K8S-010", match=is_rbac_role)
def _rbac(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for i, rule in enumerate(args.props["rules"].items()):
        for field in _rule_wild(rule):
            yield f"rule {i} uses '*' in {field}"
        verbs = {v.strip().lower() for v in rule["verbs"].strings()}
        risky = sorted(_RISKY_VERBS & verbs)
        if risky:
            yield f"rule {i} grants {', '.join(risky)}"


def reads_secrets(rules: Node) -> bool:
    """Whether RBAC rules let the holder read Secrets (get/list/watch or '*' on secrets or
    '*' in the core API group)."""
    for rule in rules.items():
        groups = rule["apiGroups"].strings()
        resources = {r.strip().lower() for r in rule["resources"].strings()}
        verbs = {v.strip().lower() for v in rule["verbs"].strings()}
        core = not groups or "" in groups or "*" in groups
        if core and ({"secrets", "*"} & resources) and (verbs & (_READ_VERBS | {"*"})):
            return True
    return False


ADMIN_ROLES = frozenset({"cluster-admin", "admin", "edit"})
"""Built-in ClusterRoles that can read Secrets and (cluster-admin) do anything."""
BROAD_GROUPS = frozenset(
    {"system:authenticated", "system:unauthenticated", "system:serviceaccounts"}
)


def _broad_subject(subject: Node, binding_ns: str, platform: set[str]) -> str | None:
    kind = (subject["kind"].text() or "").strip().lower()
    name = (subject["name"].text() or "").strip()
    if kind == "group" and (name in BROAD_GROUPS or name.startswith("system:serviceaccounts:")):
        return f"group {name}"
    if kind == "user" and name in ("system:anonymous", "*"):
        return f"user {name}"
    if kind == "serviceaccount" and name == "default":
        ns = (subject["namespace"].text() or binding_ns or "default").strip()
        if ns not in platform:
            return f"the default service account of namespace {ns}"
    if "*" in name:
        return f"{kind or 'subject'} {name}"
    return None


@stack_rule("K8S-014")
def _bindings(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    platform = set(cfg["platformNamespaces"])
    roles: dict[tuple[str, str], PolicyResource] = {}
    for r in ctx.matching(is_rbac_role):
        name = ctx.read(r, "metadata", "name")
        found = kind_of(r.resource_type)
        if name and found:
            roles[(found[1], name)] = r

    def check(binding: PolicyResource) -> Iterator[tuple[str | None, str]]:
        props = inputs(binding)
        found = kind_of(binding.resource_type)
        cluster_wide = bool(found and found[1] == "ClusterRoleBinding")
        ref_kind = props.at("roleRef", "kind").text() or "ClusterRole"
        ref_name = props.at("roleRef", "name").text() or ""
        role = roles.get((ref_kind, ref_name))
        wildcard = role is not None and any(_rule_wild(r) for r in inputs(role)["rules"].items())
        powerful = (ref_kind == "ClusterRole" and ref_name in ADMIN_ROLES) or wildcard
        secrets = (ref_kind == "ClusterRole" and ref_name in ADMIN_ROLES) or (
            role is not None and reads_secrets(inputs(role)["rules"])
        )
        ns = props.at("metadata", "namespace").text() or ""
        what = f"{ref_kind} {ref_name}"
        for subject in props["subjects"].items():
            broad = _broad_subject(subject, ns, platform)
            if powerful and broad:
                yield binding.urn, f"binds {what} to {broad}"
            elif secrets and cluster_wide and broad:
                yield binding.urn, f"binds {what} (reads Secrets) cluster-wide to {broad}"
        if secrets and cluster_wide and ref_name != "cluster-admin":
            yield binding.urn, f"grants cluster-wide read of Secrets through {what}"

    return ctx.per_resource(ctx.matching(is_rbac_binding), check)


# --- namespaces and availability ---------------------------------------------------------------


def _in_namespace(
    ctx: StackContext, ns: PolicyResource, candidates: list[PolicyResource], name: str | None
) -> list[PolicyResource]:
    found = []
    for c in candidates:
        if any(d.urn == ns.urn for d in c.property_dependencies.get("metadata", [])):
            found.append(c)
            continue
        value = ctx.read(c, "metadata", "namespace")
        if name and value == name:
            found.append(c)
    return found


def allows_all_ingress(policy: Node) -> bool:
    """Whether a NetworkPolicy admits ingress from everywhere: an ingress rule with no
    ``from`` (or an empty one), or a peer that is any pod in any namespace or a world CIDR."""
    for rule in policy.at("spec", "ingress").items():
        peers = rule["from"].items()
        if not peers:
            return True
        for peer in peers:
            ns_sel, pod_sel, block = peer["namespaceSelector"], peer["podSelector"], peer["ipBlock"]
            if ns_sel.present and not ns_sel.entries() and not pod_sel.entries():
                return True
            if block.present and is_world(block["cidr"].text()) and not block["except"].strings():
                return True
    return False


@stack_rule("K8S-011")
def _tenants(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    platform = set(cfg["platformNamespaces"])
    label = cfg["tenantLabelKey"]
    policies, quotas = ctx.of_type(NETWORK_POLICY), ctx.of_type(RESOURCE_QUOTA)
    for ns in ctx.of_type(NAMESPACE):
        value = ctx.read(ns, "metadata", "name")
        name = value if isinstance(value, str) else None
        labels = ctx.guard(lambda ns=ns: inputs(ns).at("metadata", "labels").tags(), {})
        tenant = label in labels
        if name in platform and not tenant:
            continue
        own_policies = _in_namespace(ctx, ns, policies, name)
        missing = [
            what
            for what, found in (("NetworkPolicy", own_policies), ("ResourceQuota", None))
            if not (found if found is not None else _in_namespace(ctx, ns, quotas, name))
        ]
        if missing:
            yield ns.urn, f"namespace {name or ns.name} has no {' or '.join(missing)}"
        for p in own_policies:
            if ctx.guard(lambda p=p: allows_all_ingress(inputs(p)), False):
                yield (
                    ns.urn,
                    f"namespace {name or ns.name}: NetworkPolicy {p.name} allows ingress from "
                    "everywhere, which is not isolation",
                )


@stack_rule("K8S-012")
def _serving_ha(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    if not cfg["required"]:
        return
    key, value = cfg["servingLabelKey"], cfg["servingLabelValue"]
    least = float(cfg["minReplicas"])
    pdbs = ctx.of_type(PDB)
    for dep in ctx.of_type(DEPLOYMENT):
        labels = ctx.guard(lambda d=dep: template_labels(inputs(d)), {})
        if labels.get(key) != value:
            continue
        few = too_few_replicas(ctx, dep, least, f"serving deployment {dep.name}")
        if few is not None:
            yield dep.urn, few
        namespace = ctx.read(dep, "metadata", "namespace") or ""
        if not has_pdb(ctx, pdbs, labels, namespace):
            yield dep.urn, f"serving deployment {dep.name} has no PodDisruptionBudget"


# --- Helm ---------------------------------------------------------------------------------------

_URL = re.compile(r"^(oci|https?)://", re.IGNORECASE)
_EXACT = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


@resource_rule("K8S-013", *HELM_TYPES)
def _helm(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    chart = (props["chart"].text() or "").strip()
    version = props["version"].text()
    if not version:
        yield f"chart {chart} has no version: every deploy may pull a different chart"
    elif not _EXACT.match(version.strip()):
        yield f"chart {chart} version {version!r} is a range, not an exact version"
    repo = (props.at("repositoryOpts", "repo").text() or "").strip()
    allowed = [str(r).rstrip("/") for r in cfg["allowedRepositories"]]
    if _URL.match(chart):
        # A chart given as a URL is fetched from there, whatever repositoryOpts says.
        if not any(chart.rstrip("/") == a or chart.startswith(a + "/") for a in allowed):
            yield f"chart {chart} is fetched from outside the allowlisted repositories"
        if repo and repo.rstrip("/") not in allowed:
            yield f"chart repository {repo} is not in the allowlist"
    elif not repo:
        yield f"chart {chart} names no repository (a local path or a name resolved elsewhere)"
    elif repo.rstrip("/") not in allowed:
        yield f"chart repository {repo} is not in the allowlist"


RULES = rules_of(__name__)
