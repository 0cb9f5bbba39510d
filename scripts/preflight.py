"""Check, before a deploy, that the account and region can hold the stack.

    python -m scripts.preflight --stack prod
    python -m scripts.preflight --stack prod --backend-bucket my-state-bucket --json

Reads the stack's configuration through the project's own loader and checks:

* the caller's account is one of the stack's ``allowedAccountIds``;
* the region has the AZs the network will use, and offers every GPU instance type of
  every pool in each of them (``DescribeInstanceTypeOfferings`` by availability zone);
* the EC2 vCPU service quotas of the GPU families (on-demand and spot, G/VT and P) cover
  the pools at their maximum size; where the endpoint has no data for a quota the check
  is UNKNOWN, with the command to look it up by hand, never a pass;
* the cluster's Kubernetes version is one this release supports;
* the Pulumi state bucket exists (``--backend-bucket`` or ``PULUMI_BACKEND_URL=s3://...``);
* with ``--pins`` (or ``--pins-only``): every version the stack deploys exists upstream.
  The pins come from the stack's offline preview (EKS add-ons, node group AMI releases,
  Karpenter AMI aliases, Helm charts; see ``scripts/pin_check.py``); ``--preview-json``
  reads a saved ``python -m scripts.preview --format json`` document instead of
  synthesizing, and ``--chart-repo FROM=TO`` sends a chart repository (or ``oci://HOST``
  registry) to a mirror.

    python -m scripts.preflight --stack prod --pins-only

Prints a table of PASS / FAIL / UNKNOWN / UNREACHABLE with the fix for each failure.
Exit codes: 0 no failure (UNKNOWN allowed unless --strict); 1 a check failed (e.g. a pin
that does not exist; the newest valid one is named); 2 bad input (unknown stack, bad
configuration); 3 AWS could not be asked, or a pin source could not be asked (UNREACHABLE
"could not check" rows; the rest of the report is still printed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError
from mlops_platform.config.model import SUPPORTED_KUBERNETES_VERSIONS, CapacityType
from mlops_platform.core.gpu_catalog import GPU_INSTANCE_TYPES

from scripts.aws_session import (
    ACCESS_DENIED_CODES,
    EXIT_AWS,
    Aws,
    Reporter,
    UserError,
    aws_parser,
    bucket_missing,
    error_code,
    http_status,
    open_stack,
    paginate,
    read_json_input,
    run,
    table,
)
from scripts.cli import EXIT_FAIL, EXIT_OK


class Status(StrEnum):
    """A check's verdict."""

    PASS = "PASS"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"
    UNREACHABLE = "UNREACHABLE"
    """The source of the answer could not be asked (network, credentials, permissions)."""


@dataclass(frozen=True)
class Check:
    """One line of the preflight table."""

    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class QuotaSpec:
    """An EC2 vCPU service quota that GPU pools draw on."""

    code: str
    name: str
    quota_class: str
    """``G`` (G and VT families) or ``P``, as in :attr:`GpuInstanceType.quota_class`."""
    capacity: CapacityType


GPU_QUOTAS: tuple[QuotaSpec, ...] = (
    QuotaSpec("L-DB2E81BA", "Running On-Demand G and VT instances", "G", CapacityType.ON_DEMAND),
    QuotaSpec("L-417A185B", "Running On-Demand P instances", "P", CapacityType.ON_DEMAND),
    QuotaSpec("L-3819A6DF", "All G and VT Spot Instance Requests", "G", CapacityType.SPOT),
    QuotaSpec("L-7212CCBC", "All P Spot Instance Requests", "P", CapacityType.SPOT),
)
"""The EC2 quotas (Service Quotas codes, service ``ec2``), each counted in vCPUs."""


# --- pure helpers (the seams the tests drive directly) -----------------------------------


def required_vcpus(pools: Iterable[Any]) -> dict[str, int]:
    """vCPUs each GPU quota must allow for every pool at its maximum size, by quota code.

    A pool counts ``maxSize x`` the largest vCPU count among its instance types (the worst
    case the autoscaler may pick), against the quota of its family class and capacity type.
    Quotas no pool needs are absent.
    """
    needed: dict[str, int] = {}
    for pool in pools:
        for spec in GPU_QUOTAS:
            if pool.capacity_type != spec.capacity:
                continue
            vcpus = [
                GPU_INSTANCE_TYPES[t].vcpus
                for t in pool.instance_types
                if t in GPU_INSTANCE_TYPES and GPU_INSTANCE_TYPES[t].quota_class == spec.quota_class
            ]
            if vcpus:
                needed[spec.code] = needed.get(spec.code, 0) + pool.max_size * max(vcpus)
    return needed


def compare_quota(spec: QuotaSpec, needed: int, value: float | None, region: str) -> Check:
    """The verdict for one quota: PASS when it covers ``needed`` vCPUs, FAIL when it does
    not, UNKNOWN when its value could not be read (``value`` is None)."""
    name = f"quota {spec.code} ({spec.name})"
    if value is None:
        return Check(
            name,
            Status.UNKNOWN,
            f"no quota data from the endpoint; the pools need {needed} vCPUs",
            "check by hand: aws service-quotas get-service-quota --service-code ec2 "
            f"--quota-code {spec.code} --region {region} (or Service Quotas > Amazon EC2 in "
            "the console)",
        )
    if value >= needed:
        return Check(name, Status.PASS, f"{value:g} vCPUs >= {needed} needed at max size")
    return Check(
        name,
        Status.FAIL,
        f"{value:g} vCPUs < {needed} needed at max size",
        "request an increase: aws service-quotas request-service-quota-increase "
        f"--service-code ec2 --quota-code {spec.code} --desired-value {needed} "
        f"--region {region} (or lower the pools' maxSize)",
    )


def check_version(version: str) -> Check:
    """Whether the cluster's Kubernetes version is one this release supports."""
    allowed = ", ".join(SUPPORTED_KUBERNETES_VERSIONS)
    if version in SUPPORTED_KUBERNETES_VERSIONS:
        return Check("eks version", Status.PASS, f"{version} is supported ({allowed})")
    return Check(
        "eks version",
        Status.FAIL,
        f"{version} is not supported by this release",
        f"set mlops:cluster.version to one of {allowed}",
    )


def backend_bucket(explicit: str | None, env: dict[str, str] | None = None) -> str | None:
    """The state bucket: ``--backend-bucket`` or the bucket of ``PULUMI_BACKEND_URL``."""
    if explicit:
        return explicit
    url = (env if env is not None else dict(os.environ)).get("PULUMI_BACKEND_URL", "")
    parsed = urlparse(url)
    if parsed.scheme == "s3" and parsed.netloc:
        return parsed.netloc
    return None


# --- checks against AWS ------------------------------------------------------------------


class Preflight:
    """Runs every check for one stack."""

    def __init__(self, aws: Aws, config: Any, reporter: Reporter) -> None:
        self.aws = aws
        self.config = config
        self.region: str = config.region
        self.reporter = reporter

    def account(self) -> Check:
        """The caller's account is allowed for the stack."""
        self.reporter.progress("checking the caller's account")
        account = self.aws.account_id()
        allowed = list(self.config.allowed_account_ids)
        if account in allowed:
            return Check("account", Status.PASS, f"{account} is allowed")
        return Check(
            "account",
            Status.FAIL,
            f"credentials are for {account}; the stack allows {', '.join(allowed)}",
            "switch to a profile for an allowed account (AWS_PROFILE=...), or add the account "
            "to mlops:allowedAccountIds if it really belongs to this stack",
        )

    def zones(self, override: list[str] | None) -> tuple[Check, list[str]]:
        """The AZs the network will use: those of an existing network when the config names
        them, else the first ``azCount`` available, non-opt-in zones by name (the Network
        component's rule)."""
        self.reporter.progress(f"listing availability zones in {self.region}")
        count = self.config.network.az_count
        response = self.aws.client("ec2").describe_availability_zones(
            Filters=[
                {"Name": "state", "Values": ["available"]},
                {"Name": "opt-in-status", "Values": ["opt-in-not-required"]},
            ]
        )
        available = sorted(z["ZoneName"] for z in response.get("AvailabilityZones", []))
        existing = getattr(self.config.network, "existing", None)
        if not override and existing is not None:
            override = list(getattr(existing, "availability_zones", None) or []) or None
        if override:
            missing = [z for z in override if z not in available]
            if missing:
                return Check(
                    "availability zones",
                    Status.FAIL,
                    f"not available in {self.region}: {', '.join(missing)}",
                    f"choose from {', '.join(available)}",
                ), [z for z in override if z in available]
            chosen = override
        else:
            chosen = available[:count]
        if len(chosen) < count:
            return Check(
                "availability zones",
                Status.FAIL,
                f"network.azCount is {count} but {self.region} has {len(chosen)} usable AZs",
                "lower mlops:network.azCount or use a larger region",
            ), chosen
        return Check("availability zones", Status.PASS, ", ".join(chosen)), chosen

    def offerings(self, zones: list[str]) -> list[Check]:
        """Every pool's instance types are offered in every chosen AZ."""
        pools = list(self.config.gpu.pools)
        types = sorted({t for pool in pools for t in pool.instance_types})
        if not types:
            return [Check("gpu offerings", Status.PASS, "no GPU pools configured")]
        if not zones:
            return [
                Check(
                    "gpu offerings",
                    Status.FAIL,
                    "no availability zones to check",
                    "fix the availability zone check first",
                )
            ]
        self.reporter.progress(f"checking offerings of {len(types)} GPU instance types")
        offered: dict[str, set[str]] = {t: set() for t in types}
        for offer in paginate(
            self.aws.client("ec2"),
            "describe_instance_type_offerings",
            "InstanceTypeOfferings",
            LocationType="availability-zone",
            Filters=[
                {"Name": "instance-type", "Values": types},
                {"Name": "location", "Values": zones},
            ],
        ):
            offered.setdefault(offer["InstanceType"], set()).add(offer["Location"])
        checks = []
        for name in types:
            users = [p.name for p in pools if name in p.instance_types]
            missing = [z for z in zones if z not in offered.get(name, set())]
            label = f"offering {name}"
            if not missing:
                checks.append(Check(label, Status.PASS, f"offered in {', '.join(zones)}"))
            else:
                checks.append(
                    Check(
                        label,
                        Status.FAIL,
                        f"not offered in {', '.join(missing)} (pools: {', '.join(users)})",
                        f"remove {name} from those pools' instanceTypes, or run in a region "
                        "whose first AZs offer it",
                    )
                )
        return checks

    def quotas(self) -> list[Check]:
        """The GPU vCPU quotas cover the pools at maximum size."""
        needed = required_vcpus(self.config.gpu.pools)
        if not needed:
            return [Check("gpu quotas", Status.PASS, "no GPU pools configured")]
        client = self.aws.client("service-quotas")
        checks = []
        for spec in GPU_QUOTAS:
            if spec.code not in needed:
                continue
            self.reporter.progress(f"reading quota {spec.code}")
            value, why = self._quota_value(client, spec.code)
            check = compare_quota(spec, needed[spec.code], value, self.region)
            if value is None and why:
                check = Check(check.name, check.status, f"{check.detail} ({why})", check.fix)
            checks.append(check)
        return checks

    @staticmethod
    def _quota_value(client: Any, code: str) -> tuple[float | None, str]:
        try:
            quota = client.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchResourceException" or http_status(exc) in {404, 501}:
                return None, error_code(exc) or "no data"
            if error_code(exc) in ACCESS_DENIED_CODES:
                return None, "servicequotas:GetServiceQuota was denied"
            raise
        value = quota.get("Value")
        return (float(value), "") if value is not None else (None, "the quota has no value")

    def backend(self, bucket: str | None) -> Check:
        """The Pulumi state bucket exists and can be reached."""
        if bucket is None:
            return Check(
                "state backend",
                Status.UNKNOWN,
                "no S3 backend given",
                "pass --backend-bucket NAME or set PULUMI_BACKEND_URL=s3://NAME",
            )
        self.reporter.progress(f"checking state bucket {bucket}")
        try:
            self.aws.client("s3").head_bucket(Bucket=bucket)
        except ClientError as exc:
            status = http_status(exc)
            if bucket_missing(exc):
                return Check(
                    "state backend",
                    Status.FAIL,
                    f"bucket {bucket} does not exist",
                    f"python -m scripts.bootstrap_backend --region {self.region} --bucket {bucket}",
                )
            if status in {301, 400}:
                return Check(
                    "state backend",
                    Status.FAIL,
                    f"bucket {bucket} is in another region",
                    "use the region in the pulumi login URL (?region=...)",
                )
            if status == 403:
                return Check(
                    "state backend",
                    Status.FAIL,
                    f"bucket {bucket} exists but this identity may not read it",
                    "grant s3:ListBucket/GetObject/PutObject on it, or check the account",
                )
            raise
        return Check("state backend", Status.PASS, f"s3://{bucket} exists")


def render(stack: str, checks: list[Check]) -> str:
    """The table and a summary line."""
    rows = [[c.status.value, c.name, c.detail] for c in checks]
    lines = [f"Preflight for stack '{stack}'", "", table(["status", "check", "detail"], rows)]
    fixes = [c for c in checks if c.status is not Status.PASS and c.fix]
    if fixes:
        lines += ["", "How to fix:"]
        lines += [f"  [{c.status.value}] {c.name}: {c.fix}" for c in fixes]
    counts = {s: sum(1 for c in checks if c.status is s) for s in Status}
    summary = (
        f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, "
        f"{counts[Status.UNKNOWN]} unknown"
    )
    if counts[Status.UNREACHABLE]:
        summary += f", {counts[Status.UNREACHABLE]} could not be checked"
    lines += ["", summary]
    return "\n".join(lines)


def pin_checks(args: argparse.Namespace, aws: Aws, reporter: Reporter) -> list[Check]:
    """The pin check's verdicts, from the stack's preview (synthesized or ``--preview-json``)."""
    from scripts import pin_check  # noqa: PLC0415 - it imports this module's Check

    try:
        mapping = pin_check.parse_mapping(args.chart_repo)
    except ValueError as exc:
        raise UserError(f"--chart-repo {exc}") from None
    if args.http_timeout is not None and args.http_timeout <= 0:
        raise UserError("--http-timeout must be a positive number of seconds")
    timeout = args.http_timeout or pin_check.HTTP_TIMEOUT_S
    resources = _preview_resources(args, reporter)
    pins = pin_check.pins_from_resources(resources)
    reporter.progress(f"checking {len(pins)} pinned versions")
    record = Path(args.record_pins) if args.record_pins else None
    try:
        return pin_check.check_pins(pins, aws, mapping, timeout, record)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _preview_resources(args: argparse.Namespace, reporter: Reporter) -> list[dict[str, Any]]:
    if args.preview_json:
        document = read_json_input(args.preview_json)
        if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
            raise UserError(
                f"{args.preview_json} is not a preview document: write one with "
                f"`python -m scripts.preview --stack {args.stack} --format json --output FILE`"
            )
        if document.get("stack") != args.stack:
            raise UserError(
                f"{args.preview_json} is the preview of stack '{document.get('stack')}', "
                f"not '{args.stack}'"
            )
        return list(document["resources"])
    from mlops_platform.config import ConfigError  # noqa: PLC0415

    from scripts.offline import StackFileError, synthesize  # noqa: PLC0415
    from scripts.offline.project import REPO_ROOT  # noqa: PLC0415

    reporter.progress(f"synthesizing stack {args.stack} offline to read its pins")
    try:
        recording = synthesize(args.stack, REPO_ROOT, args.stack_file)
    except (ConfigError, StackFileError) as exc:
        raise UserError(str(exc)) from None
    return [r.to_json() for r in recording.created()]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = aws_parser("scripts.preflight", __doc__, stack="stack to check")
    parser.add_argument(
        "--backend-bucket",
        help="Pulumi state bucket (default: from PULUMI_BACKEND_URL when it is s3://...)",
    )
    parser.add_argument(
        "--azs",
        help="comma-separated AZs to check instead of the first network.azCount available ones",
    )
    parser.add_argument(
        "--pins", action="store_true", help="also check that every pinned version exists"
    )
    parser.add_argument(
        "--pins-only", action="store_true", help="check the pinned versions and nothing else"
    )
    parser.add_argument(
        "--preview-json",
        help="read the pins from this `python -m scripts.preview --format json` document",
    )
    parser.add_argument(
        "--chart-repo",
        action="append",
        default=[],
        metavar="FROM=TO",
        help="ask TO instead of the chart repository (or oci://HOST registry) FROM; repeatable",
    )
    parser.add_argument(
        "--http-timeout",
        type=float,
        default=None,
        help="seconds to wait for a chart repository or registry (default 20)",
    )
    parser.add_argument(
        "--record-pins",
        metavar="FIXTURE",
        help="merge what the pin sources answered into this JSON file (refreshes the tests' "
        "recorded answers, tests/scripts/fixtures/pin_sources.json)",
    )
    parser.add_argument("--strict", action="store_true", help="treat UNKNOWN as a failure")
    args = parser.parse_args(argv)

    def body() -> int:
        config, aws, reporter = open_stack(args)
        preflight = Preflight(aws, config, reporter)
        override = [z.strip() for z in args.azs.split(",") if z.strip()] if args.azs else None
        checks: list[Check] = []
        if not args.pins_only:
            checks.append(preflight.account())
            zone_check, zones = preflight.zones(override)
            checks.append(zone_check)
            checks += preflight.offerings(zones)
            checks += preflight.quotas()
            checks.append(check_version(config.cluster.version))
            checks.append(preflight.backend(backend_bucket(args.backend_bucket)))
        if args.pins or args.pins_only:
            checks += pin_checks(args, aws, reporter)
        failed = any(c.status is Status.FAIL for c in checks)
        unknown = any(c.status is Status.UNKNOWN for c in checks)
        unreachable = any(c.status is Status.UNREACHABLE for c in checks)
        document = {
            "stack": args.stack,
            "region": config.region,
            "checks": [{**asdict(c), "status": c.status.value} for c in checks],
            "failed": failed,
            "unknown": unknown,
            "unreachable": unreachable,
        }
        reporter.result(document, render(args.stack, checks))
        if failed or (args.strict and unknown):
            return EXIT_FAIL
        if unreachable:
            print(
                "error: some pins could not be checked (UNREACHABLE rows): their source "
                "could not be asked",
                file=sys.stderr,
            )
            return EXIT_AWS
        if unknown:
            print(
                "note: UNKNOWN checks are not passes; check them by hand (see the fixes)",
                file=sys.stderr,
            )
        return EXIT_OK

    return run(body)


if __name__ == "__main__":
    sys.exit(main())
