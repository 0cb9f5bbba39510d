"""Monthly cost of a stack, estimated from its offline preview, before it exists.

    python -m scripts.cost --stack dev                  # table per family and per component
    python -m scripts.cost --stack prod --format json   # idle and peak totals, every line
    python -m scripts.cost --stack prod --live-prices   # EC2/RDS rates from the AWS Price List API

The real program runs under the mock runtime (as ``scripts.preview`` does) and every
registered resource that AWS bills is priced: EKS control plane, NAT gateways (and their public
IPv4 addresses), interface endpoints, system nodes, GPU pools (at their minimum for ``idle``,
at their maximum for ``peak``), RDS, S3, CloudWatch Logs, ECR, KMS keys, EBS volumes claimed
by the metrics stack, and load balancers. Rates come from the dated table in
``scripts/prices/<region>.json``; usage-priced families (GB stored, processed, ingested) take
the per-environment volumes stated in ``scripts/prices/usage.json``. With ``--live-prices``
the EC2 and RDS instance rates are asked of the AWS Price List API (``pricing`` client,
``GetProducts``; ``AWS_ENDPOINT_URL`` is honoured); any rate it cannot give falls back to the
table, and each line says where its rate came from.

Exit codes: 0 estimate printed; 2 bad input (unknown stack, bad configuration, a resource the
price table has no rate for, an unwritable output file); 3 the program failed.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlops_platform.config import ConfigError
from mlops_platform.core.gpu_catalog import gpu_instance
from mlops_platform.core.tokens import component_token

from scripts.offline import Recording, Registration, StackFileError, synthesize
from scripts.offline.project import REPO_ROOT, available_stacks

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_PROGRAM = 3

SCHEMA_VERSION = 1
PRICE_DIR = Path(__file__).resolve().parent / "prices"
USAGE_FILE = PRICE_DIR / "usage.json"
PRICING_API_REGION = "us-east-1"
"""The Price List API answers from a few regions only; us-east-1 is one of them."""

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


class CostError(Exception):
    """Input the estimate cannot price; the message names it and what is allowed."""


# --------------------------------------------------------------------------- prices


@dataclass
class PriceTable:
    """One region's dated rates, optionally overlaid by live instance rates."""

    path: Path
    region: str
    retrieved: str
    hours_per_month: float
    rates: dict[str, float]
    ec2: dict[str, float]
    rds: dict[str, float]
    sources: dict[str, str]
    live: dict[str, float] = field(default_factory=dict)
    """Rates fetched from the Price List API, keyed ``ec2:<type>`` / ``rds:<class>``."""

    @classmethod
    def load(cls, region: str, directory: Path = PRICE_DIR) -> PriceTable:
        """The table for ``region``; a clear error names the regions that have one."""
        path = directory / f"{region}.json"
        if not path.is_file():
            have = sorted(p.stem for p in directory.glob("*.json") if p.name != USAGE_FILE.name)
            raise CostError(
                f"no price table for region {region!r} (aws:region of the stack); tables "
                f"exist for: {', '.join(have)}. Add {_relative(path)} or use --live-prices"
            )
        doc = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            path=path,
            region=doc["region"],
            retrieved=doc["retrieved"],
            hours_per_month=float(doc["hoursPerMonth"]),
            rates={k: float(v["usd"]) for k, v in doc["rates"].items()},
            ec2={k: float(v) for k, v in doc["ec2InstanceHour"]["usd"].items()},
            rds={k: float(v) for k, v in doc["rdsPostgresInstanceHour"]["usd"].items()},
            sources=dict(doc["sources"]),
        )

    def rate(self, name: str) -> float:
        """A flat rate of the table (always present: the table file defines them)."""
        return self.rates[name]

    def _instance(self, kind: str, table: Mapping[str, float], name: str) -> tuple[float, str]:
        live = self.live.get(f"{kind}:{name}")
        if live is not None:
            return live, "live"
        if name not in table:
            raise CostError(
                f"no {kind.upper()} price for {name!r} in {_relative(self.path)} "
                f"(retrieved {self.retrieved}); priced types: {', '.join(sorted(table))}. "
                "Add it to the table or use --live-prices"
            )
        return table[name], f"table {self.retrieved}"

    def ec2_hour(self, instance_type: str) -> tuple[float, str]:
        """On-demand Linux hourly rate of an EC2 instance type, and where it came from."""
        return self._instance("ec2", self.ec2, instance_type)

    def rds_hour(self, instance_class: str) -> tuple[float, str]:
        """Single-AZ PostgreSQL hourly rate of an RDS instance class, and where it came from."""
        return self._instance("rds", self.rds, instance_class)


def load_usage(profile: str, path: Path = USAGE_FILE) -> dict[str, Any]:
    """The usage volumes stated for an environment profile."""
    profiles = json.loads(path.read_text(encoding="utf-8"))["profiles"]
    if profile not in profiles:
        raise CostError(
            f"no usage assumptions for profile {profile!r} in {_relative(path)}; "
            f"profiles: {', '.join(sorted(profiles))}"
        )
    return dict(profiles[profile])


# ------------------------------------------------------------------- live prices


def _on_demand_usd(item: Any) -> float | None:
    product = json.loads(item) if isinstance(item, str) else item
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None and float(usd) > 0:
                return float(usd)
    return None


def _filters(pairs: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in pairs.items()]


def fetch_live_prices(
    client: Any, region: str, ec2_types: Iterable[str], rds_classes: Iterable[str]
) -> tuple[dict[str, float], list[str]]:
    """Hourly rates from the Price List API (``GetProducts``), and one warning per miss."""
    found: dict[str, float] = {}
    warnings: list[str] = []
    queries: list[tuple[str, str, str, dict[str, str]]] = [
        (
            "ec2",
            name,
            "AmazonEC2",
            {
                "instanceType": name,
                "regionCode": region,
                "operatingSystem": "Linux",
                "tenancy": "Shared",
                "preInstalledSw": "NA",
                "capacitystatus": "Used",
                "licenseModel": "No License required",
            },
        )
        for name in sorted(set(ec2_types))
    ]
    queries += [
        (
            "rds",
            name,
            "AmazonRDS",
            {
                "instanceType": name,
                "regionCode": region,
                "databaseEngine": "PostgreSQL",
                "deploymentOption": "Single-AZ",
            },
        )
        for name in sorted(set(rds_classes))
    ]
    for kind, name, service, pairs in queries:
        response = client.get_products(
            ServiceCode=service, Filters=_filters(pairs), FormatVersion="aws_v1", MaxResults=10
        )
        prices = [p for p in map(_on_demand_usd, response.get("PriceList", [])) if p]
        if prices:
            found[f"{kind}:{name}"] = prices[0]
        else:
            warnings.append(f"the Price List API has no on-demand {service} price for {name}")
    return found, warnings


# ------------------------------------------------------------------------ model


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
            "table": _relative(prices.path),
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


# ----------------------------------------------------------------------- render


def _money(value: float) -> str:
    return f"${value:,.2f}"


def render_table(doc: Mapping[str, Any]) -> str:
    """Totals, then per family, per component, and every line."""
    from scripts.aws_session import table  # noqa: PLC0415

    out = [
        f"Monthly cost estimate of stack '{doc['stack']}' ({doc['region']}, "
        f"prices {doc['prices']['retrieved']} from {doc['prices']['table']}"
        + (f", {len(doc['prices']['live'])} live" if doc["prices"]["live"] else "")
        + ")",
        "",
        f"Idle (pools at minimum): {_money(doc['totals']['idle'])}/month",
        f"Peak (pools at maximum): {_money(doc['totals']['peak'])}/month",
    ]
    if doc.get("target"):
        verdict = "met" if doc["target"]["met"] else "MISSED"
        out.append(f"Idle target: at most {_money(doc['target']['idleMax'])} ({verdict})")
    for title, key in (("By family", "byFamily"), ("By component", "byComponent")):
        rows = [[k, _money(v["idle"]), _money(v["peak"])] for k, v in doc[key].items()]
        out += ["", f"{title}:", table([title.split()[-1], "idle", "peak"], rows)]
    rows = [
        [
            line["family"],
            line["resource"],
            line["detail"],
            _money(line["idle"]),
            _money(line["peak"]),
            line["priceSource"],
        ]
        for line in doc["lines"]
    ]
    out += ["", "Lines:", table(["family", "resource", "detail", "idle", "peak", "rate"], rows)]
    out += ["", "Assumptions:"]
    out += [f"  {k}: {json.dumps(v)}" for k, v in doc["assumptions"].items()]
    return "\n".join(out)


# -------------------------------------------------------------------------- CLI


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _live_client() -> Any:
    from scripts.aws_session import Aws  # noqa: PLC0415

    return Aws(region=PRICING_API_REGION).client("pricing")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.cost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack", required=True, help=f"stack to estimate: {', '.join(available_stacks())}"
    )
    parser.add_argument("--stack-file", type=Path, help="settings file instead of the stack's")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--output", type=Path, help="write here instead of stdout")
    parser.add_argument(
        "--live-prices",
        action="store_true",
        help="ask the AWS Price List API for EC2/RDS instance rates (table as fallback)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    args = parser.parse_args(argv)
    try:
        recording = synthesize(args.stack, REPO_ROOT, args.stack_file)
        doc = _estimate_with_prices(recording, live=args.live_prices)
        text = (
            json.dumps(doc, indent=2, sort_keys=True) + "\n"
            if args.format == "json"
            else render_table(doc) + "\n"
        )
        if args.output is None:
            sys.stdout.write(text)
        else:
            try:
                args.output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CostError(f"cannot write {args.output}: {exc.strerror}") from None
    except (ConfigError, StackFileError, CostError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"error: the estimate failed: {type(exc).__name__}: {exc}\n"
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_PROGRAM
    return EXIT_OK


def _estimate_with_prices(recording: Recording, *, live: bool) -> dict[str, Any]:
    prices = PriceTable.load(region_of(recording))
    if live:
        from scripts.aws_session import describe_aws_error  # noqa: PLC0415

        ec2, rds = instance_names(recording)
        try:
            found, warnings = fetch_live_prices(_live_client(), prices.region, ec2, rds)
        except Exception as exc:
            reason = describe_aws_error(exc) or f"{type(exc).__name__}: {exc}"
            found, warnings = {}, [f"live prices unavailable ({reason})"]
        prices.live = found
        for warning in warnings:
            print(f"warning: {warning}; using {_relative(prices.path)}", file=sys.stderr)
    return estimate(recording, prices)


if __name__ == "__main__":
    sys.exit(main())
