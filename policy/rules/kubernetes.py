"""Kubernetes: pod security, resources, GPUs, images, probes, service accounts, services,
RBAC, tenant namespaces, serving availability, and Helm releases."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity

from rules.rule import Rule, StackContext, as_number, dig, fmt, items

_TEMPLATE = ("spec", "template", "spec")
WORKLOADS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": _TEMPLATE,
    "kubernetes:apps/v1:StatefulSet": _TEMPLATE,
    "kubernetes:apps/v1:DaemonSet": _TEMPLATE,
    "kubernetes:apps/v1:ReplicaSet": _TEMPLATE,
    "kubernetes:batch/v1:Job": _TEMPLATE,
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
LONG_RUNNING = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
)
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
RBAC_TYPES = (
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
)
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


def _pod_spec(args: ResourceValidationArgs) -> Any:
    return dig(args.props, *WORKLOADS[args.resource_type], default={})


def _containers(spec: Any, init: bool = True) -> list[Any]:
    found = items(dig(spec, "containers"))
    return found + items(dig(spec, "initContainers")) if init else found


def _namespace(args: ResourceValidationArgs) -> str:
    return str(dig(args.props, "metadata", "namespace", default="default"))


def _cname(c: Any) -> str:
    return str(dig(c, "name", default="?"))


def _privileged(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    if _namespace(args) in cfg.get("exemptNamespaces", ["kube-system"]):
        return
    spec = _pod_spec(args)
    for flag in ("hostPID", "hostIPC", "hostNetwork"):
        if dig(spec, flag) is True:
            yield f"the pod sets {flag}"
    for c in _containers(spec):
        if dig(c, "securityContext", "privileged") is True:
            yield f"container {_cname(c)} is privileged"


def _restricted(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    spec = _pod_spec(args)
    pod_ctx = dig(spec, "securityContext", default={})
    for c in _containers(spec):
        ctx = dig(c, "securityContext", default={})
        name = _cname(c)
        if dig(ctx, "allowPrivilegeEscalation") is not False:
            yield f"container {name} does not set allowPrivilegeEscalation: false"
        if "ALL" not in items(dig(ctx, "capabilities", "drop")):
            yield f"container {name} does not drop ALL capabilities"
        added = [str(c) for c in items(dig(ctx, "capabilities", "add"))]
        extra = [c for c in added if c.upper().removeprefix("CAP_") != "NET_BIND_SERVICE"]
        if extra:
            yield (
                f"container {name} adds capabilities {', '.join(extra)} "
                "(only NET_BIND_SERVICE is allowed)"
            )
        if not (
            dig(ctx, "runAsNonRoot") is True
            or (dig(ctx, "runAsNonRoot") is None and dig(pod_ctx, "runAsNonRoot") is True)
        ):
            yield f"container {name} may run as root (runAsNonRoot is not true)"
        seccomp = dig(ctx, "seccompProfile", "type") or dig(pod_ctx, "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield f"container {name} has no RuntimeDefault/Localhost seccomp profile"


def _read_only(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for c in _containers(_pod_spec(args)):
        if dig(c, "securityContext", "readOnlyRootFilesystem") is not True:
            yield f"container {_cname(c)} has a writable root filesystem"


def _resources(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    need = [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")]
    if cfg.get("requireCpuLimits", True):
        need.append(("limits", "cpu"))
    for c in _containers(_pod_spec(args)):
        missing = [f"{kind}.{res}" for kind, res in need if dig(c, "resources", kind, res) is None]
        if missing:
            yield f"container {_cname(c)} lacks {', '.join(missing)}"


def _quantity(value: Any) -> float | None:
    return as_number(value)


def _tolerates_gpu(spec: Any) -> bool:
    for t in items(dig(spec, "tolerations")):
        key_ok = dig(t, "key") == GPU or (dig(t, "key") is None and dig(t, "operator") == "Exists")
        effect_ok = dig(t, "effect") in (None, "", "NoSchedule")
        if key_ok and effect_ok:
            return True
    return False


def _gpu(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    spec = _pod_spec(args)
    total = 0.0
    for c in _containers(spec):
        limit = _quantity(dig(c, "resources", "limits", GPU))
        request = _quantity(dig(c, "resources", "requests", GPU))
        if limit is None and request is None:
            continue
        if limit is None or (request is not None and request != limit):
            yield f"container {_cname(c)}: {GPU} requests and limits differ (set both equal)"
        total += limit or request or 0.0
    if total == 0:
        return
    if not _tolerates_gpu(spec):
        yield f"the pod requests GPUs but does not tolerate the {GPU}:NoSchedule taint"
    cap = float(cfg.get("maxGpusPerPod", 8))
    if total > cap:
        yield f"the pod asks for {fmt(total)} GPUs; the per-pod cap is {fmt(cap)}"


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
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if not digest and not tag:
        problems.append("has no tag or digest (implicitly :latest)")
    elif not digest and tag == "latest":
        problems.append("uses :latest")
    host = registry_host(name)
    if not registry_allowed(host, accounts, hosts):
        problems.append(f"comes from registry {host}, outside the allowlist")
    return problems


def _images(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    accounts = [str(a) for a in cfg.get("allowedEcrAccountIds", [])]
    hosts = [str(h) for h in cfg.get("allowedRegistryHosts", [])]
    for c in _containers(_pod_spec(args)):
        image = dig(c, "image")
        if not isinstance(image, str):
            yield f"container {_cname(c)} has no image"
            continue
        for problem in _image_ok(image, accounts, hosts):
            yield f"container {_cname(c)} image {image} {problem}"


def _probes(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for c in _containers(_pod_spec(args), init=False):
        missing = [p for p in ("livenessProbe", "readinessProbe") if dig(c, p) is None]
        if missing:
            yield f"container {_cname(c)} has no {' or '.join(missing)}"


def _service_account(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    spec = _pod_spec(args)
    account = dig(spec, "serviceAccountName") or "default"
    if account == "default":
        yield "the pod runs as the namespace's default service account"
    allowed = cfg.get("automountAllowed", [])
    if dig(spec, "automountServiceAccountToken") is not False and (
        f"{_namespace(args)}/{account}" not in allowed
    ):
        yield "the pod mounts a service account token (automountServiceAccountToken not false)"


_INTERNAL_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}


def _service(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    kind = dig(args.props, "spec", "type", default="ClusterIP")
    annotations = dig(args.props, "metadata", "annotations", default={})
    if kind == "NodePort":
        yield "the service is a NodePort"
    elif kind == "LoadBalancer":
        internal = any(
            str(dig(annotations, k, default="")).lower() == v
            for k, v in _INTERNAL_ANNOTATIONS.items()
        )
        if not internal:
            yield "the LoadBalancer service is internet-facing (no internal scheme annotation)"


def _rbac(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    for i, rule in enumerate(items(args.props.get("rules"))):
        for field in ("verbs", "resources", "apiGroups"):
            if "*" in items(dig(rule, field)):
                yield f"rule {i} uses '*' in {field}"
        risky = sorted({"bind", "escalate", "impersonate"} & set(items(dig(rule, "verbs"))))
        if risky:
            yield f"rule {i} grants {', '.join(risky)}"


def _ns_name(ctx: StackContext, ns: PolicyResource) -> str | None:
    value = ctx.guard(lambda: dig(ns.props, "metadata", "name"))
    return value if isinstance(value, str) else None


def _in_namespace(
    ctx: StackContext, ns: PolicyResource, candidates: list[PolicyResource], name: str | None
) -> bool:
    for c in candidates:
        if any(d.urn == ns.urn for d in c.property_dependencies.get("metadata", [])):
            return True
        value = ctx.guard(lambda c=c: dig(c.props, "metadata", "namespace"))
        if name and value == name:
            return True
    return False


def _tenants(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    platform = set(cfg.get("platformNamespaces", PLATFORM_NAMESPACES))
    label = cfg.get("tenantLabelKey", TENANT_LABEL)
    policies, quotas = ctx.of_type(NETWORK_POLICY), ctx.of_type(RESOURCE_QUOTA)
    for ns in ctx.of_type(NAMESPACE):
        name = _ns_name(ctx, ns)
        labels = ctx.guard(lambda ns=ns: dict(dig(ns.props, "metadata", "labels", default={})))
        tenant = isinstance(labels, dict) and label in labels
        if name in platform and not tenant:
            continue
        missing = [
            what
            for what, found in (("NetworkPolicy", policies), ("ResourceQuota", quotas))
            if not _in_namespace(ctx, ns, found, name)
        ]
        if missing:
            yield ns.urn, f"namespace {name or ns.name} has no {' or '.join(missing)}"


def _labels(r: PolicyResource) -> Mapping[str, Any]:
    return dig(r.props, "spec", "template", "metadata", "labels", default={})


def _serving_ha(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    if not cfg.get("required"):
        return
    key = cfg.get("servingLabelKey", "mlops/workload")
    value = cfg.get("servingLabelValue", "serving")
    least = float(cfg.get("minReplicas", 2))
    pdbs = ctx.of_type(PDB)
    for dep in ctx.of_type(DEPLOYMENT):
        labels = ctx.guard(lambda d=dep: dict(_labels(d)), {})
        if labels.get(key) != value:
            continue
        replicas = ctx.guard(lambda d=dep: as_number(dig(d.props, "spec", "replicas")), least)
        if replicas is None or replicas < least:
            yield (
                dep.urn,
                (
                    f"serving deployment {dep.name} runs "
                    f"{fmt(replicas) if replicas is not None else 1} replica(s); "
                    f"at least {fmt(least)} needed"
                ),
            )
        namespace = ctx.guard(lambda d=dep: dig(d.props, "metadata", "namespace", default=""))

        def covers(
            p: PolicyResource, labels: dict[str, Any] = labels, namespace: Any = namespace
        ) -> bool:
            selector = dict(dig(p.props, "spec", "selector", "matchLabels", default={}))
            same_ns = dig(p.props, "metadata", "namespace", default="") == namespace
            return (
                bool(selector) and same_ns and all(labels.get(k) == v for k, v in selector.items())
            )

        if not any(ctx.guard(lambda p=p: covers(p), True) for p in pdbs):
            yield dep.urn, f"serving deployment {dep.name} has no PodDisruptionBudget"


_URL = re.compile(r"^(oci|https?)://", re.IGNORECASE)
_EXACT = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def _helm(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    chart = str(props.get("chart") or "")
    version = props.get("version")
    if not version:
        yield f"chart {chart} has no version: every deploy may pull a different chart"
    elif not _EXACT.match(str(version)):
        yield f"chart {chart} version {version!r} is a range, not an exact version"
    repo = str(dig(props, "repositoryOpts", "repo", default="") or "")
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


_WORKLOAD_TYPES = tuple(WORKLOADS)
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
        description="Workloads run no privileged containers and share no host PID, IPC or "
        "network namespace.",
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
        resource_types=_WORKLOAD_TYPES,
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
        description="Containers disallow privilege escalation, drop ALL capabilities (adding "
        "back at most NET_BIND_SERVICE), run as non-root and use the RuntimeDefault seccomp "
        "profile.",
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
        resource_types=_WORKLOAD_TYPES,
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
        resource_types=_WORKLOAD_TYPES,
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
        resource_types=_WORKLOAD_TYPES,
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
        resource_types=_WORKLOAD_TYPES,
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
        resource_types=_WORKLOAD_TYPES,
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
        resource_types=LONG_RUNNING,
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
        resource_types=_WORKLOAD_TYPES,
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
        description="Services are not NodePorts or internet-facing load balancers.",
        remediation=(
            'metadata=k8s.meta.v1.ObjectMetaArgs(annotations={"service.beta.kubernetes.io/'
            'aws-load-balancer-scheme": "internal"}), or spec type ClusterIP behind an '
            "internal ingress"
        ),
        controls=("Gatekeeper k8sblocknodeport", "Kyverno restrict-service-external-ips"),
        catalog=(59,),
        resource_check=_service,
        resource_types=(SERVICE,),
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
        resource_types=RBAC_TYPES,
    ),
    Rule(
        id="K8S-011",
        name="k8s-tenant-namespace-guardrails",
        severity=Severity.MEDIUM,
        description="Every tenant namespace (any namespace but the platform's own) has a "
        "NetworkPolicy and a ResourceQuota.",
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
]
