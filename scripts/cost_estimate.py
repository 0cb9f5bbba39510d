"""The estimate of ``scripts.cost``: every registered resource AWS bills, priced.

:func:`estimate` walks a stack's offline :class:`Recording` family by family (EKS control
plane, NAT gateways, interface endpoints, node groups and Karpenter pools, RDS, S3,
CloudWatch Logs, ECR, KMS, metrics volumes, load balancers), prices each resource with a
:class:`~scripts.cost_prices.PriceTable` and the profile's usage volumes, and returns the
cost document: every line, idle and peak totals, per family and per top-level component.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mlops_platform.core.gpu_catalog import gpu_instance
from mlops_platform.core.tokens import component_token

from scripts.cost_prices import CostError, PriceTable, display_path, load_usage
from scripts.offline import Recording, Registration

SCHEMA_VERSION = 1

EKS = "EKS control plane"
NAT = "NAT gateways"
ENDPOINTS = "Interface endpoints"
SYSTEM_NODES = "System nodes"
GPU_POOLS = "GPU pools"
RDS = "RDS"
S3 = "S3"
LOGS = "CloudWatch Logs"
ECR = "ECR"
KMS = "KMS keys"
EBS = "EBS (metrics volumes)"
LOAD_BALANCERS = "Load balancers"
FAMILIES = (
    EKS,
    NAT,
    ENDPOINTS,
    SYSTEM_NODES,
    GPU_POOLS,
    RDS,
    S3,
    LOGS,
    ECR,
    KMS,
    EBS,
    LOAD_BALANCERS,
)

_PLATFORM = component_token("MlopsPlatform")
_RDS_INSTANCE = "aws:rds/instance:Instance"
_GPU_POOL = component_token("GpuNodePool")
_GIB = re.compile(r"^(\d+(?:\.\d+)?)(Gi|G|Ti|T)?$")


@dataclass
class Line:
    """One priced item: a resource (or a group of them) in one family and component."""

    family: str
    component: str
    resource: str
    detail: str
    idle: float
    peak: float
    price_source: str

    def rounded(self) -> dict[str, Any]:
        """The JSON form (cents)."""
        out = asdict(self)
        out["idle"] = round(self.idle, 2)
        out["peak"] = round(self.peak, 2)
        out["priceSource"] = out.pop("price_source")
        return out


@dataclass
class _Context:
    recording: Recording
    prices: PriceTable
    usage: dict[str, Any]
    by_urn: dict[str, Registration]
    by_id: dict[str, Registration]
    lines: list[Line] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return self.prices.hours_per_month

    @property
    def table_source(self) -> str:
        return f"table {self.prices.retrieved}"

    def component(self, r: Registration) -> str:
        """The top-level component that owns ``r``."""
        return owning_component(self.by_urn, r)

    def add(
        self, family: str, r: Registration, detail: str, cost: tuple[float, float], source: str = ""
    ) -> None:
        self.lines.append(
            Line(family, self.component(r), r.name, detail, *cost, source or self.table_source)
        )


def owning_component(by_urn: Mapping[str, Registration], r: Registration) -> str:
    """``<Type> <name>`` of the top-level component (a direct child of MlopsPlatform) that
    owns ``r``; ``r`` itself when no component is above it."""
    current = r
    while True:
        parent = by_urn.get(current.parent or "")
        if parent is None or parent.type == _PLATFORM:
            return f"{current.type.rsplit(':', 1)[-1]} {current.name}"
        current = parent


def _gib(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    match = _GIB.match(str(value))
    if not match:
        raise CostError(f"cannot read the volume size {value!r} (expected e.g. 200Gi)")
    number, unit = float(match.group(1)), match.group(2) or "Gi"
    return number * 1024 if unit in {"Ti", "T"} else number


def _ebs_month(ctx: _Context, ebs: Mapping[str, Any]) -> float:
    size = _gib(ebs.get("volumeSize", 0))
    iops = max(0.0, float(ebs.get("iops") or 3000) - 3000)
    throughput = max(0.0, float(ebs.get("throughput") or 125) - 125)
    p = ctx.prices
    return (
        size * p.rate("ebsGp3GbMonth")
        + iops * p.rate("ebsGp3IopsMonth")
        + throughput * p.rate("ebsGp3MbpsMonth")
    )


def _root_volume(block_devices: Iterable[Mapping[str, Any]] | None) -> Mapping[str, Any]:
    for mapping in block_devices or []:
        if mapping.get("ebs"):
            return mapping["ebs"]
    return {}


def _priciest(ctx: _Context, instance_types: Iterable[str]) -> tuple[str, float, str]:
    priced = [(name, *ctx.prices.ec2_hour(name)) for name in instance_types]
    if not priced:
        raise CostError("a node group lists no instance types")
    return max(priced, key=lambda item: item[1])


# --------------------------------------------------------------------- families


def _eks(ctx: _Context) -> None:
    for r in ctx.recording.of_type("aws:eks/cluster:Cluster"):
        support = (r.inputs.get("upgradePolicy") or {}).get("supportType", "STANDARD")
        rate = "eksExtendedSupportClusterHour" if support == "EXTENDED" else "eksClusterHour"
        monthly = ctx.prices.rate(rate) * ctx.hours
        detail = f"Kubernetes {r.inputs.get('version')}, {support.lower()} support"
        if support == "EXTENDED":
            detail += " (billed at the extended rate once the version leaves standard support)"
        ctx.add(EKS, r, detail, (monthly, monthly))


def _nat(ctx: _Context) -> None:
    gateways = ctx.recording.of_type("aws:ec2/natGateway:NatGateway")
    share = float(ctx.usage["natGbProcessed"]) / max(1, len(gateways))
    for r in gateways:
        hourly = ctx.prices.rate("natGatewayHour")
        if r.inputs.get("connectivityType", "public") == "public":
            hourly += ctx.prices.rate("publicIpv4Hour")
        monthly = hourly * ctx.hours + share * ctx.prices.rate("natGatewayGb")
        ctx.add(NAT, r, f"gateway + public IPv4, {share:g} GB processed", (monthly, monthly))


def _endpoints(ctx: _Context) -> None:
    interface = [
        r
        for r in ctx.recording.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs.get("vpcEndpointType") == "Interface"
    ]
    share = float(ctx.usage["interfaceEndpointGbProcessed"]) / max(1, len(interface))
    for r in interface:
        azs = len(r.inputs.get("subnetIds") or []) or 1
        monthly = azs * ctx.prices.rate(
            "interfaceEndpointAzHour"
        ) * ctx.hours + share * ctx.prices.rate("interfaceEndpointGb")
        service = str(r.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
        ctx.add(ENDPOINTS, r, f"{service} in {azs} AZs, {share:g} GB processed", (monthly, monthly))


def _under_gpu_pool(ctx: _Context, r: Registration) -> bool:
    current = ctx.by_urn.get(r.parent or "")
    while current is not None:
        if current.type == _GPU_POOL:
            return True
        current = ctx.by_urn.get(current.parent or "")
    return False


def _node_groups(ctx: _Context) -> None:
    for r in ctx.recording.of_type("aws:eks/nodeGroup:NodeGroup"):
        scaling = r.inputs.get("scalingConfig") or {}
        low, high = int(scaling.get("minSize", 0)), int(scaling.get("maxSize", 0))
        name, hourly, source = _priciest(ctx, r.inputs.get("instanceTypes") or [])
        template_ref = (r.inputs.get("launchTemplate") or {}).get("id")
        template = ctx.by_id.get(str(template_ref)) if template_ref else None
        ebs = _root_volume(template.inputs.get("blockDeviceMappings") if template else None)
        if not ebs and r.inputs.get("diskSize"):
            ebs = {"volumeSize": r.inputs["diskSize"]}
        per_node = hourly * ctx.hours + _ebs_month(ctx, ebs)
        gpu = _under_gpu_pool(ctx, r)
        capacity = str(r.inputs.get("capacityType", "ON_DEMAND")).lower().replace("_", "-")
        detail = f"{low}-{high} x {name} ({capacity}"
        detail += ", priced on-demand)" if capacity == "spot" else ")"
        if len(r.inputs.get("instanceTypes") or []) > 1:
            detail += ", priciest listed type"
        family = GPU_POOLS if gpu else SYSTEM_NODES
        ctx.add(family, r, detail, (low * per_node, high * per_node), source)


def _karpenter_pools(ctx: _Context) -> None:
    classes = {
        (c.inputs.get("metadata") or {}).get("name"): c
        for c in ctx.recording.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    }
    for r in ctx.recording.of_type("kubernetes:karpenter.sh/v1:NodePool"):
        spec = r.inputs.get("spec") or {}
        template = spec.get("template", {}).get("spec", {})
        types: list[str] = []
        capacity = "on-demand"
        for requirement in template.get("requirements", []):
            if requirement.get("key") == "node.kubernetes.io/instance-type":
                types = list(requirement.get("values", []))
            if requirement.get("key") == "karpenter.sh/capacity-type":
                capacity = "/".join(requirement.get("values", [])) or capacity
        gpu_limit = float((spec.get("limits") or {}).get("nvidia.com/gpu", 0) or 0)
        node_class = classes.get((template.get("nodeClassRef") or {}).get("name"))
        ebs = _root_volume(
            (node_class.inputs.get("spec") or {}).get("blockDeviceMappings") if node_class else None
        )
        peak, peak_detail, source = 0.0, "", ctx.table_source
        for name in types:
            hourly, where = ctx.prices.ec2_hour(name)
            gpu = gpu_instance(name)
            if gpu is None or gpu_limit <= 0:
                raise CostError(
                    f"Karpenter NodePool {r.name}: cannot bound its size (instance type "
                    f"{name!r} is not in components/gpu_catalog.py or limits lack nvidia.com/gpu)"
                )
            nodes = math.floor(gpu_limit / gpu.gpus)
            cost = nodes * (hourly * ctx.hours + _ebs_month(ctx, ebs))
            if cost > peak:
                peak, peak_detail, source = cost, f"{nodes} x {name}", where
        detail = f"0-{peak_detail.split(' x ')[0]} x {peak_detail.split(' x ')[-1]} "
        detail += f"(Karpenter, {capacity}, GPU limit {gpu_limit:g}"
        detail += ", priced on-demand)" if "spot" in capacity else ")"
        ctx.add(GPU_POOLS, r, detail, (0.0, peak), source)


def _rds(ctx: _Context) -> None:
    for r in ctx.recording.of_type(_RDS_INSTANCE):
        hourly, source = ctx.prices.rds_hour(str(r.inputs.get("instanceClass")))
        copies = 2 if r.inputs.get("multiAz") else 1
        storage = float(r.inputs.get("allocatedStorage") or 0)
        ceiling = float(r.inputs.get("maxAllocatedStorage") or storage)
        gb = ctx.prices.rate("rdsGp3GbMonth") * copies
        base = hourly * copies * ctx.hours
        detail = (
            f"{r.inputs.get('instanceClass')} {'Multi-AZ' if copies == 2 else 'single-AZ'}, "
            f"{storage:g} GB (peak: {ceiling:g} GB autoscaled)"
        )
        ctx.add(RDS, r, detail, (base + storage * gb, base + ceiling * gb), source)


def _s3(ctx: _Context) -> None:
    buckets = ctx.recording.of_type("aws:s3/bucket:Bucket")
    logs = [b for b in buckets if b.name.endswith("access-logs")]
    data = [b for b in buckets if b not in logs]
    rate = ctx.prices.rate("s3StandardGbMonth")
    for group, key in ((data, "s3DataGbStored"), (logs, "s3AccessLogGbStored")):
        share = float(ctx.usage[key]) / max(1, len(group))
        for r in group:
            ctx.add(S3, r, f"{share:g} GB Standard (assumed)", (share * rate, share * rate))


def _logs(ctx: _Context) -> None:
    volumes = ctx.usage["logsGbIngested"]
    for r in ctx.recording.of_type("aws:cloudwatch/logGroup:LogGroup"):
        name = str(r.inputs.get("name", r.name))
        if name.startswith("/aws/eks/"):
            kind = "controlPlane"
        elif "flow-logs" in name:
            kind = "flowLogs"
        elif name.endswith("applications"):
            kind = "applications"
        else:
            kind = "other"
        ingested = float(volumes[kind])
        retention = float(r.inputs.get("retentionInDays") or 3653)
        stored = ingested * retention / 30.0
        monthly = ingested * ctx.prices.rate("logsIngestGb") + stored * ctx.prices.rate(
            "logsStoredGbMonth"
        )
        detail = f"{ingested:g} GB/month ingested, {retention:g}-day retention (~{stored:g} GB)"
        ctx.add(LOGS, r, detail, (monthly, monthly))


def _ecr(ctx: _Context) -> None:
    repositories = ctx.recording.of_type("aws:ecr/repository:Repository")
    share = float(ctx.usage["ecrGbStored"]) / max(1, len(repositories))
    for r in repositories:
        monthly = share * ctx.prices.rate("ecrStorageGbMonth")
        ctx.add(ECR, r, f"{share:g} GB stored (assumed)", (monthly, monthly))
    for r in ctx.recording.of_type(
        "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
    ):
        if r.inputs.get("scanType") != "ENHANCED":
            continue
        images = float(ctx.usage["ecrImagesPushed"])
        monthly = images * ctx.prices.rate("inspectorEcrInitialScan")
        ctx.add(ECR, r, f"enhanced scanning, {images:g} images pushed", (monthly, monthly))


def _kms(ctx: _Context) -> None:
    for r in ctx.recording.of_type("aws:kms/key:Key"):
        monthly = ctx.prices.rate("kmsKeyMonth")
        ctx.add(KMS, r, "customer managed key", (monthly, monthly))


def _claims(values: Any) -> Iterable[tuple[float, int]]:
    """(GiB, replicas) of every volumeClaimTemplate in Helm values."""
    if isinstance(values, dict):
        for key in ("storageSpec", "storage"):
            template = (values.get(key) or {}) if isinstance(values.get(key), dict) else {}
            claim = template.get("volumeClaimTemplate")
            if isinstance(claim, dict):
                size = claim.get("spec", {}).get("resources", {}).get("requests", {})
                if "storage" in size:
                    yield _gib(size["storage"]), int(values.get("replicas", 1) or 1)
        for value in values.values():
            yield from _claims(value)
    elif isinstance(values, list):
        for value in values:
            yield from _claims(value)


def _metrics_volumes(ctx: _Context) -> None:
    for r in ctx.recording.of_type("kubernetes:helm.sh/v3:Release"):
        claims = list(_claims(r.inputs.get("values") or {}))
        if not claims:
            continue
        gib = sum(size * replicas for size, replicas in claims)
        monthly = gib * ctx.prices.rate("ebsGp3GbMonth")
        ctx.add(EBS, r, f"{gib:g} GiB gp3 in {len(claims)} volume claim(s)", (monthly, monthly))


def _load_balancer_services(values: Any) -> int:
    if isinstance(values, dict):
        own = 1 if values.get("type") == "LoadBalancer" else 0
        return own + sum(_load_balancer_services(v) for v in values.values())
    if isinstance(values, list):
        return sum(_load_balancer_services(v) for v in values)
    return 0


def _load_balancers(ctx: _Context) -> None:
    hourly = ctx.prices.rate("nlbHour") + float(ctx.usage["loadBalancerLcu"]) * ctx.prices.rate(
        "nlbLcuHour"
    )
    for r in ctx.recording.created():
        if r.type == "kubernetes:core/v1:Service":
            count = 1 if (r.inputs.get("spec") or {}).get("type") == "LoadBalancer" else 0
        elif r.type == "kubernetes:helm.sh/v3:Release":
            count = _load_balancer_services(r.inputs.get("values") or {})
        else:
            count = 0
        if count:
            monthly = count * hourly * ctx.hours
            lcu = ctx.usage["loadBalancerLcu"]
            ctx.add(LOAD_BALANCERS, r, f"{count} NLB, {lcu} LCU average", (monthly, monthly))


_FAMILY_PRICERS: tuple[Callable[[_Context], None], ...] = (
    _eks,
    _nat,
    _endpoints,
    _node_groups,
    _karpenter_pools,
    _rds,
    _s3,
    _logs,
    _ecr,
    _kms,
    _metrics_volumes,
    _load_balancers,
)


# ---------------------------------------------------------------------- estimate


def region_of(recording: Recording) -> str:
    """The stack's AWS region, from its aws provider."""
    for r in recording.of_type("pulumi:providers:aws"):
        if r.inputs.get("region"):
            return str(r.inputs["region"])
    raise CostError("the stack registers no aws provider with a region (aws:region)")


def profile_of(recording: Recording) -> str:
    """The stack's environment profile (its ``profile`` output)."""
    return str(recording.outputs.get("profile") or recording.stack)


def instance_names(recording: Recording) -> tuple[set[str], set[str]]:
    """EC2 instance types and RDS instance classes the stack can run."""
    ec2: set[str] = set()
    for r in recording.of_type("aws:eks/nodeGroup:NodeGroup"):
        ec2.update(r.inputs.get("instanceTypes") or [])
    for r in recording.of_type("kubernetes:karpenter.sh/v1:NodePool"):
        template = (r.inputs.get("spec") or {}).get("template", {}).get("spec", {})
        for requirement in template.get("requirements", []):
            if requirement.get("key") == "node.kubernetes.io/instance-type":
                ec2.update(requirement.get("values", []))
    rds = {
        str(r.inputs.get("instanceClass")) for r in recording.of_type("aws:rds/instance:Instance")
    }
    return ec2, rds


def estimate(
    recording: Recording, prices: PriceTable, usage: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The cost document of a recording: lines, totals per family and component, idle/peak."""
    profile = profile_of(recording)
    usage = dict(usage) if usage is not None else load_usage(profile)
    ctx = _Context(
        recording=recording,
        prices=prices,
        usage=usage,
        by_urn={r.urn: r for r in recording.resources},
        by_id={r.id: r for r in recording.resources if r.id},
    )
    for pricer in _FAMILY_PRICERS:
        pricer(ctx)
    lines = sorted(ctx.lines, key=lambda line: (FAMILIES.index(line.family), line.resource))

    def totals(key: Callable[[Line], str]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for line in lines:
            entry = out.setdefault(key(line), {"idle": 0.0, "peak": 0.0})
            entry["idle"] += line.idle
            entry["peak"] += line.peak
        return {k: {t: round(v, 2) for t, v in entry.items()} for k, entry in sorted(out.items())}

    by_family = totals(lambda line: line.family)
    for family in FAMILIES:  # every family is reported, zero when the stack has none
        by_family.setdefault(family, {"idle": 0.0, "peak": 0.0})
    idle = round(sum(line.idle for line in lines), 2)
    peak = round(sum(line.peak for line in lines), 2)
    target = usage.get("idleTargetUsd")
    return {
        "schemaVersion": SCHEMA_VERSION,
        "stack": recording.stack,
        "profile": profile,
        "region": prices.region,
        "currency": "USD",
        "hoursPerMonth": prices.hours_per_month,
        "prices": {
            "table": display_path(prices.path),
            "retrieved": prices.retrieved,
            "live": sorted(prices.live),
            "sources": prices.sources,
        },
        "assumptions": {
            "usage": {k: v for k, v in usage.items() if k != "idleTargetUsd"},
            "idle": "every node group and Karpenter pool at its minimum size",
            "peak": "every node group and Karpenter pool at its maximum size (Karpenter: the "
            "GPU limit in whole nodes), RDS storage at its autoscaling ceiling",
            "spot": "spot capacity priced at the on-demand rate (upper bound)",
            "logsStored": "ingested GB x retention days / 30, uncompressed",
        },
        "totals": {"idle": idle, "peak": peak},
        "target": (None if target is None else {"idleMax": target, "met": idle <= float(target)}),
        "byFamily": {f: by_family[f] for f in FAMILIES},
        "byComponent": totals(lambda line: line.component),
        "lines": [line.rounded() for line in lines],
    }
