"""Kubernetes: pod security, resources, GPUs, images, probes, service accounts, services,
RBAC, tenant namespaces, serving availability, and Helm releases."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from pulumi_policy import PolicyResource, Severity

from rules.cidrs import is_world
from rules.read import Node, parse_quantity
from rules.rule import Rule, StackContext, fmt, inputs

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
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
RBAC_GROUP = "rbac.authorization.k8s.io"
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
GPU = "nvidia.com/gpu"
PLATFORM_NAMESPACES = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "monitoring",
    "nvidia-gpu",
    "mlflow",
    "keda",
]
"""Namespaces the platform itself runs in (the components' defaults): not tenants."""
TENANT_LABEL = "mlops/tenant"


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


def is_workload(resource_type: str) -> bool:
    """Every pod-bearing kind, in every API version, and its ``*Patch`` form."""
    found = kind_of(resource_type)
    return found is not None and found[0] in _WORKLOAD_GROUPS and found[1] in POD_PATHS


def is_long_running(resource_type: str) -> bool:
    """Deployments, StatefulSets, DaemonSets (any version; not patches: a patch that does not
    mention probes leaves them as they are)."""
    found = kind_of(resource_type)
    return (
        found is not None
        and found[0] in _WORKLOAD_GROUPS
        and found[1] in LONG_RUNNING_KINDS
        and not found[2]
    )


def _is_kind(kinds: frozenset[str], group: str) -> Callable[[str], bool]:
    def check(resource_type: str) -> bool:
        found = kind_of(resource_type)
        return found is not None and found[0] == group and found[1] in kinds

    return check


is_rbac_role = _is_kind(frozenset({"Role", "ClusterRole"}), RBAC_GROUP)
is_rbac_binding = _is_kind(frozenset({"RoleBinding", "ClusterRoleBinding"}), RBAC_GROUP)
is_service = _is_kind(frozenset({"Service"}), "core")


def _patch(args: Any) -> bool:
    found = kind_of(args.resource_type)
    return bool(found and found[2])


def pod_spec(resource_type: str, props: Node) -> Node:
    """The pod spec of a pod-bearing resource (any version, ``*Patch`` included)."""
    found = kind_of(resource_type)
    path = POD_PATHS.get(found[1], ("spec",)) if found else ("spec",)
    return props.at(*path)


def _pod_spec(args: Any) -> Node:
    return pod_spec(args.resource_type, args.props)


def containers(spec: Node, init: bool = True) -> list[Node]:
    """A pod spec's containers; ``init``: with its init and ephemeral containers."""
    found = spec["containers"].items()
    if init:
        found += spec["initContainers"].items() + spec["ephemeralContainers"].items()
    return found


def _namespace(args: Any) -> str:
    return args.props.at("metadata", "namespace").text() or "default"


def _cname(c: Node) -> str:
    return c["name"].label()


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


def _host_paths(spec: Node) -> list[tuple[str, str]]:
    out = []
    for volume in spec["volumes"].items():
        host = volume["hostPath"]
        if host.present:
            out.append((volume["name"].label(), host["path"].text() or "/"))
    return out


def _privileged(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if _namespace(args) in cfg.get("exemptNamespaces", ["kube-system"]):
        return
    spec = _pod_spec(args)
    for flag in ("hostPID", "hostIPC", "hostNetwork"):
        if spec[flag].flag() is True:
            yield f"the pod sets {flag}"
    for c in containers(spec):
        if c.at("securityContext", "privileged").flag() is True:
            yield f"container {_cname(c)} is privileged"
    for name, path in _host_paths(spec):
        if sensitive_host_path(path):
            yield f"volume {name} mounts host path {path}, which exposes the node"


def _caps(node: Node) -> list[str]:
    return [c.strip().upper().removeprefix("CAP_") for c in node.strings()]


def _restricted(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    patch = _patch(args)
    spec = _pod_spec(args)
    pod_ctx = spec["securityContext"]
    pod_user = pod_ctx["runAsUser"].number()
    for name, path in _host_paths(spec):
        yield f"volume {name} mounts host path {path} (hostPath volumes are not allowed)"
    for c in containers(spec):
        ctx = c["securityContext"]
        name = _cname(c)
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


def _read_only(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    patch = _patch(args)
    for c in containers(_pod_spec(args)):
        value = c.at("securityContext", "readOnlyRootFilesystem").flag()
        if value is False or (value is None and not patch):
            yield f"container {_cname(c)} has a writable root filesystem"


def _resources(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if _patch(args):
        return
    need = [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")]
    if cfg.get("requireCpuLimits", True):
        need.append(("limits", "cpu"))
    for c in containers(_pod_spec(args)):
        missing = [f"{kind}.{res}" for kind, res in need if c.at("resources", kind, res).absent]
        if missing:
            yield f"container {_cname(c)} lacks {', '.join(missing)}"


def _tolerates_gpu(spec: Node) -> bool:
    for t in spec["tolerations"].items():
        key = t["key"].text()
        operator = (t["operator"].text() or "Equal").lower()
        key_ok = key == GPU or (not key and operator == "exists")
        effect_ok = (t["effect"].text() or "").lower() in ("", "noschedule")
        if key_ok and effect_ok:
            return True
    return False


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


def _gpu(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    spec = _pod_spec(args)
    total = Decimal(0)
    for c in containers(spec):
        problems: list[str] = []
        name = _cname(c)
        limit = gpu_quantity(
            c.at("resources", "limits", GPU), f"container {name}: {GPU} limit", problems
        )
        request = gpu_quantity(
            c.at("resources", "requests", GPU), f"container {name}: {GPU} request", problems
        )
        yield from problems
        if limit is None and request is None:
            continue
        if limit is None or (request is not None and request != limit):
            yield f"container {name}: {GPU} requests and limits differ (set both equal)"
        total += limit if limit is not None else (request or Decimal(0))
    if total == 0:
        return
    if not _patch(args) and not _tolerates_gpu(spec):
        yield f"the pod requests GPUs but does not tolerate the {GPU}:NoSchedule taint"
    cap = Decimal(str(cfg.get("maxGpusPerPod", 8)))
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


def _images(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    accounts = [str(a) for a in cfg.get("allowedEcrAccountIds", [])]
    hosts = [str(h) for h in cfg.get("allowedRegistryHosts", [])]
    patch = _patch(args)
    for c in containers(_pod_spec(args)):
        image = c["image"].text()
        if not image:
            if not patch:
                yield f"container {_cname(c)} has no image"
            continue
        for problem in _image_ok(image, accounts, hosts):
            yield f"container {_cname(c)} image {image} {problem}"


def _probes(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for c in containers(_pod_spec(args), init=False):
        missing = [p for p in ("livenessProbe", "readinessProbe") if c[p].absent]
        if missing:
            yield f"container {_cname(c)} has no {' or '.join(missing)}"


def _service_account(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    patch = _patch(args)
    spec = _pod_spec(args)
    named = spec["serviceAccountName"].text() or spec["serviceAccount"].text()
    account = named or "default"
    if account == "default" and (named or not patch):
        yield "the pod runs as the namespace's default service account"
    allowed = cfg.get("automountAllowed", [])
    mount = spec["automountServiceAccountToken"].flag()
    if (mount is True or (mount is None and not patch)) and (
        f"{_namespace(args)}/{account}" not in allowed
    ):
        yield "the pod mounts a service account token (automountServiceAccountToken not false)"


_INTERNAL_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}


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


def _bindings(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    platform = set(cfg.get("platformNamespaces", PLATFORM_NAMESPACES))
    roles: dict[tuple[str, str], PolicyResource] = {}
    for r in ctx.matching(is_rbac_role):
        name = ctx.guard(lambda r=r: inputs(r).at("metadata", "name").text())
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


def _ns_name(ctx: StackContext, ns: PolicyResource) -> str | None:
    value = ctx.guard(lambda: inputs(ns).at("metadata", "name").text())
    return value if isinstance(value, str) else None


def _in_namespace(
    ctx: StackContext, ns: PolicyResource, candidates: list[PolicyResource], name: str | None
) -> list[PolicyResource]:
    found = []
    for c in candidates:
        if any(d.urn == ns.urn for d in c.property_dependencies.get("metadata", [])):
            found.append(c)
            continue
        value = ctx.guard(lambda c=c: inputs(c).at("metadata", "namespace").text())
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


def _tenants(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    platform = set(cfg.get("platformNamespaces", PLATFORM_NAMESPACES))
    label = cfg.get("tenantLabelKey", TENANT_LABEL)
    policies, quotas = ctx.of_type(NETWORK_POLICY), ctx.of_type(RESOURCE_QUOTA)
    for ns in ctx.of_type(NAMESPACE):
        name = _ns_name(ctx, ns)
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


def _serving_ha(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    if not cfg.get("required"):
        return
    key = cfg.get("servingLabelKey", "mlops/workload")
    value = cfg.get("servingLabelValue", "serving")
    least = float(cfg.get("minReplicas", 2))
    pdbs = ctx.of_type(PDB)
    for dep in ctx.of_type(DEPLOYMENT):
        labels = ctx.guard(lambda d=dep: template_labels(inputs(d)), {})
        if labels.get(key) != value:
            continue
        replicas = ctx.guard(lambda d=dep: inputs(d).at("spec", "replicas").number(1.0), least)
        if replicas < least:
            yield (
                dep.urn,
                (
                    f"serving deployment {dep.name} runs {fmt(replicas)} replica(s); "
                    f"at least {fmt(least)} needed"
                ),
            )
        namespace = ctx.guard(lambda d=dep: inputs(d).at("metadata", "namespace").text() or "")
        if not any(
            ctx.guard(lambda p=p, n=namespace, ls=labels: pdb_covers(p, ls, n or ""), True)
            for p in pdbs
        ):
            yield dep.urn, f"serving deployment {dep.name} has no PodDisruptionBudget"


_URL = re.compile(r"^(oci|https?)://", re.IGNORECASE)
_EXACT = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def _helm(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    chart = (props["chart"].text() or "").strip()
    version = props["version"].text()
    if not version:
        yield f"chart {chart} has no version: every deploy may pull a different chart"
    elif not _EXACT.match(version.strip()):
        yield f"chart {chart} version {version!r} is a range, not an exact version"
    repo = (props.at("repositoryOpts", "repo").text() or "").strip()
    allowed = [str(r).rstrip("/") for r in cfg.get("allowedRepositories", [])]
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


_NOT_HELM = (
    "Workloads inside Helm releases are rendered by Helm at deploy time and are "
    "not visible to input checks; the charts are pinned and allowlisted (K8S-013)."
)

DEFAULT_REPOSITORIES = [
    "https://prometheus-community.github.io/helm-charts",
    "https://nvidia.github.io/k8s-device-plugin",
    "https://helm.ngc.nvidia.com/nvidia",
    "https://nvidia.github.io/dcgm-exporter/helm-charts",
    "oci://public.ecr.aws/karpenter",
    "https://aws.github.io/eks-charts",
    "https://kubernetes-sigs.github.io/metrics-server",
    "https://kubernetes.github.io/autoscaler",
    "https://community-charts.github.io/helm-charts",
    "https://kedacore.github.io/charts",
]

RULES: list[Rule] = [
    Rule(
        id="K8S-001",
        name="k8s-no-privileged-or-host-namespaces",
        severity=Severity.CRITICAL,
        description="Workloads (every pod-bearing kind and version, its *Patch form, init and "
        "ephemeral containers) run no privileged containers, share no host PID, IPC or "
        "network namespace, and mount no sensitive host path (/, system trees, kubelet state, "
        "container runtime sockets).",
        remediation=(
            "In the pod spec drop host_pid/host_ipc/host_network and set "
            "security_context=k8s.core.v1.SecurityContextArgs(privileged=False) per container."
        ),
        controls=(
            "CIS 4.2.1",
            "CIS 4.2.2",
            "CIS 4.2.3",
            "CIS 4.2.4",
            "CKV_K8S_1",
            "CKV_K8S_2",
            "CKV_K8S_3",
            "CKV_K8S_4",
            "CKV_K8S_16",
            "CKV_K8S_17",
            "CKV_K8S_18",
            "CKV_K8S_19",
        ),
        catalog=(51,),
        resource_check=_privileged,
        type_filter=is_workload,
        config={
            "exemptNamespaces": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["kube-system"],
                "description": "Namespaces whose node agents may need host access.",
            }
        },
        limits=_NOT_HELM,
    ),
    Rule(
        id="K8S-002",
        name="k8s-restricted-security-context",
        severity=Severity.HIGH,
        description="Containers (init and ephemeral included) disallow privilege escalation, "
        "drop ALL capabilities (adding back at most NET_BIND_SERVICE), run as non-root (never "
        "runAsUser 0), use the RuntimeDefault seccomp profile, and pods mount no hostPath "
        "volume. A *Patch resource is judged on the values it sets.",
        remediation=(
            "security_context=k8s.core.v1.SecurityContextArgs(allow_privilege_escalation=False, "
            'run_as_non_root=True, capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]), '
            'seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"))'
        ),
        controls=(
            "CIS 4.2.5",
            "CKV_K8S_5",
            "CKV_K8S_6",
            "CKV_K8S_20",
            "CKV_K8S_23",
            "CKV_K8S_28",
            "CKV_K8S_31",
            "CKV_K8S_37",
        ),
        catalog=(52,),
        resource_check=_restricted,
        type_filter=is_workload,
        limits=_NOT_HELM,
    ),
    Rule(
        id="K8S-003",
        name="k8s-read-only-root-filesystem",
        severity=Severity.MEDIUM,
        description="Containers run with a read-only root filesystem.",
        remediation=(
            "security_context=k8s.core.v1.SecurityContextArgs(read_only_root_filesystem=True) "
            "plus an emptyDir volume for scratch paths"
        ),
        controls=("CKV_K8S_22",),
        catalog=(53,),
        resource_check=_read_only,
        type_filter=is_workload,
        limits=_NOT_HELM,
    ),
    Rule(
        id="K8S-004",
        name="k8s-resource-requests-and-limits",
        severity=Severity.MEDIUM,
        description="Containers set CPU and memory requests and limits.",
        remediation=(
            'resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "500m", '
            '"memory": "1Gi"}, limits={"cpu": "2", "memory": "1Gi"})'
        ),
        controls=("CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"),
        catalog=(54,),
        resource_check=_resources,
        type_filter=is_workload,
        config={
            "requireCpuLimits": {
                "type": "boolean",
                "default": True,
                "description": "Whether CPU limits are required as well as requests.",
            }
        },
        limits=_NOT_HELM,
    ),
    Rule(
        id="K8S-005",
        name="k8s-gpu-requests-limits-toleration",
        severity=Severity.HIGH,
        description="Pods that use GPUs set nvidia.com/gpu requests equal to limits, tolerate "
        "the nvidia.com/gpu NoSchedule taint and stay under the per-pod GPU cap.",
        remediation=(
            'resources=k8s.core.v1.ResourceRequirementsArgs(limits={"nvidia.com/gpu": "1"}, '
            'requests={"nvidia.com/gpu": "1"}), tolerations=[k8s.core.v1.TolerationArgs('
            'key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")]'
        ),
        controls=("Kyverno check-nvidia-gpu",),
        catalog=(55,),
        resource_check=_gpu,
        type_filter=is_workload,
        config={
            "maxGpusPerPod": {
                "type": "integer",
                "minimum": 1,
                "default": 8,
                "description": "Most GPUs one pod may request.",
            }
        },
        limits=_NOT_HELM,
    ),
    Rule(
        id="K8S-006",
        name="k8s-images-pinned-from-allowed-registries",
        severity=Severity.HIGH,
        description="Container images come from the environment's registries and are pinned "
        "by digest or an immutable tag, never :latest.",
        remediation=(
            'image=f"{repository.repository_url}:{version}" (an ECR repository with '
            'image_tag_mutability="IMMUTABLE") or '
            'f"{repository.repository_url}@sha256:{digest}"'
        ),
        controls=("CKV_K8S_14", "CKV_K8S_43", "CIS 5.1.4"),
        catalog=(56,),
        resource_check=_images,
        type_filter=is_workload,
        config={
            "allowedEcrAccountIds": {
                "type": "array",
                "items": {"type": "string", "pattern": "^\\d{12}$"},
                "default": [],
                "description": "AWS accounts whose private ECR registries "
                "(<account>.dkr.ecr.<region>.amazonaws.com) images may come from; empty: "
                "any account's private ECR.",
            },
            "allowedRegistryHosts": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Other registry hosts allowed, matched exactly against the "
                "part of the image before the first '/'.",
            },
        },
        limits="Whether a tag points into an IMMUTABLE repository is checked by ECR-001 on "
        "the repositories in the stack, not per image. " + _NOT_HELM,
    ),
    Rule(
        id="K8S-007",
        name="k8s-liveness-and-readiness-probes",
        severity=Severity.MEDIUM,
        description="Long-running containers have liveness and readiness probes.",
        remediation=(
            "liveness_probe=k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs("
            'path="/healthz", port=8080)), readiness_probe=k8s.core.v1.ProbeArgs(http_get='
            'k8s.core.v1.HTTPGetActionArgs(path="/ready", port=8080))'
        ),
        controls=("CKV_K8S_8", "CKV_K8S_9"),
        catalog=(57,),
        resource_check=_probes,
        type_filter=is_long_running,
        limits=_NOT_HELM,
    ),
    Rule(
        id="K8S-008",
        name="k8s-service-account-token",
        severity=Severity.MEDIUM,
        description="Pods use their own service account and do not mount its API token "
        "unless allowed.",
        remediation=(
            "pod spec: service_account_name=sa.metadata.name, automount_service_account_token=False"
        ),
        controls=("CKV_K8S_38", "CKV_K8S_41", "CKV_K8S_42", "CIS 4.1.5", "CIS 4.1.6"),
        catalog=(58,),
        resource_check=_service_account,
        type_filter=is_workload,
        config={
            "automountAllowed": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "namespace/serviceaccount pairs that may mount an API token.",
            }
        },
        limits=_NOT_HELM,
    ),
    Rule(
        id="K8S-009",
        name="k8s-service-internal-only",
        severity=Severity.HIGH,
        description="Services are not NodePorts or internet-facing load balancers, and set no "
        "externalIPs (CVE-2020-8554).",
        remediation=(
            'metadata=k8s.meta.v1.ObjectMetaArgs(annotations={"service.beta.kubernetes.io/'
            'aws-load-balancer-scheme": "internal"}), or spec type ClusterIP behind an '
            "internal ingress"
        ),
        controls=("Gatekeeper k8sblocknodeport", "Kyverno restrict-service-external-ips"),
        catalog=(59,),
        resource_check=_service,
        type_filter=is_service,
    ),
    Rule(
        id="K8S-010",
        name="k8s-rbac-no-wildcards-or-escalation",
        severity=Severity.HIGH,
        description="Roles and ClusterRoles use no wildcards and grant no bind, escalate or "
        "impersonate.",
        remediation=(
            'rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["configmaps"], '
            'verbs=["get", "list", "watch"])]'
        ),
        controls=(
            "CIS 4.1.3",
            "CIS 4.1.8",
            "CKV_K8S_49",
            "CKV_K8S_155",
            "CKV_K8S_156",
            "CKV_K8S_157",
            "CKV_K8S_158",
        ),
        catalog=(60,),
        resource_check=_rbac,
        type_filter=is_rbac_role,
    ),
    Rule(
        id="K8S-011",
        name="k8s-tenant-namespace-guardrails",
        severity=Severity.MEDIUM,
        description="Every tenant namespace (any namespace but the platform's own) has a "
        "NetworkPolicy and a ResourceQuota, and none of its NetworkPolicies admits ingress "
        "from everywhere (an ingress rule with no 'from', any namespace, or a world CIDR).",
        remediation=(
            'k8s.networking.v1.NetworkPolicy(f"{ns}-default-deny", metadata={"namespace": ns},'
            ' spec={"pod_selector": {}, "policy_types": ["Ingress"]}) and '
            'k8s.core.v1.ResourceQuota(f"{ns}-quota", metadata={"namespace": ns}, spec={'
            '"hard": {"requests.nvidia.com/gpu": "4"}})'
        ),
        controls=("CIS 4.3.2",),
        catalog=(61,),
        stack_check=_tenants,
        config={
            "platformNamespaces": {
                "type": "array",
                "items": {"type": "string"},
                "default": PLATFORM_NAMESPACES,
                "description": "Namespaces the platform runs in; not tenants unless labelled.",
            },
            "tenantLabelKey": {
                "type": "string",
                "default": TENANT_LABEL,
                "description": "Namespace label that marks a tenant namespace.",
            },
        },
        limits="Every namespace outside platformNamespaces, and every namespace labelled "
        "with tenantLabelKey, is a tenant.",
    ),
    Rule(
        id="K8S-012",
        name="k8s-serving-high-availability",
        severity=Severity.MEDIUM,
        description="Where required (prod), serving Deployments run at least two replicas and "
        "have a PodDisruptionBudget.",
        remediation=(
            'spec replicas=2 and k8s.policy.v1.PodDisruptionBudget(..., spec={"min_available":'
            ' 1, "selector": {"match_labels": labels}})'
        ),
        controls=("Gatekeeper k8spoddisruptionbudget", "Compliance-ready replicas"),
        catalog=(62,),
        stack_check=_serving_ha,
        config={
            "required": {
                "type": "boolean",
                "default": False,
                "description": "Whether serving Deployments must be highly available.",
            },
            "minReplicas": {
                "type": "integer",
                "minimum": 1,
                "default": 2,
                "description": "Fewest replicas of a serving Deployment.",
            },
            "servingLabelKey": {
                "type": "string",
                "default": "mlops/workload",
                "description": "Pod label that marks serving workloads.",
            },
            "servingLabelValue": {
                "type": "string",
                "default": "serving",
                "description": "Its value for serving workloads.",
            },
        },
    ),
    Rule(
        id="K8S-013",
        name="helm-release-pinned-and-allowlisted",
        severity=Severity.HIGH,
        description="Helm releases pin an exact chart version from an allowlisted repository.",
        remediation=(
            'k8s.helm.v3.Release(..., chart="kube-prometheus-stack", version="77.0.0", '
            'repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo="https://prometheus-community'
            '.github.io/helm-charts"))'
        ),
        controls=("MLOPS 69",),
        catalog=(69,),
        resource_check=_helm,
        resource_types=HELM_TYPES,
        config={
            "allowedRepositories": {
                "type": "array",
                "items": {"type": "string"},
                "default": DEFAULT_REPOSITORIES,
                "description": "Chart repositories releases may use.",
            }
        },
    ),
    Rule(
        id="K8S-014",
        name="k8s-rbac-no-broad-binding",
        severity=Severity.CRITICAL,
        description="No RoleBinding or ClusterRoleBinding (or their *Patch forms) binds "
        "cluster-admin, admin, edit or a wildcard role to system:authenticated, "
        "system:unauthenticated, system:anonymous, all service accounts or a tenant's default "
        "service account; no ClusterRoleBinding grants cluster-wide read of Secrets.",
        remediation=(
            "Bind a narrow Role to a named service account: k8s.rbac.v1.RoleBinding(..., "
            'role_ref={"kind": "Role", "name": "model-reader", "api_group": '
            '"rbac.authorization.k8s.io"}, subjects=[{"kind": "ServiceAccount", "name": '
            '"model-server", "namespace": ns}])'
        ),
        controls=("CIS 4.1.1", "CIS 4.1.2", "CKV_K8S_155"),
        catalog=(60,),
        stack_check=_bindings,
        config={
            "platformNamespaces": {
                "type": "array",
                "items": {"type": "string"},
                "default": PLATFORM_NAMESPACES,
                "description": "Namespaces whose default service account is not a tenant's.",
            }
        },
        limits="A wildcard or Secrets-reading role is recognised when the Role/ClusterRole is "
        "in the stack (or is the built-in cluster-admin, admin or edit).",
    ),
]
