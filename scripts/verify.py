"""Check, after a deploy, that the live resources match what the stack asked for.

    pulumi stack output --json --show-secrets > outputs.json
    python -m scripts.verify --stack prod --outputs outputs.json
    pulumi stack output --json --show-secrets | python -m scripts.verify --stack prod --outputs -

Reads the stack's outputs (names in :data:`OUTPUT_NAMES`) and its configuration, then asks
AWS about each resource: artifact buckets (SSE-KMS, versioning, all public access blocks,
TLS-only policy), ECR repositories (immutable tags, scan on push), the EKS cluster
(private endpoint, public exposure as configured, secrets encryption, version, audit
logs), log groups (retention as configured) and GPU node groups (GPU taint, scaling bounds
and capacity type as configured). Prints drift per resource.

Exit codes: 0 no drift; 1 drift (or nothing to verify); 2 bad input (unknown stack,
malformed outputs); 3 AWS could not be asked.
"""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_session import (
    Aws,
    Reporter,
    UserError,
    aws_parser,
    error_code,
    open_stack,
    read_json_input,
    run,
    table,
)
from scripts.cli import EXIT_FAIL, EXIT_OK

OUTPUT_NAMES: dict[str, str] = {
    "artifactBuckets": "map: purpose -> S3 bucket name",
    "ecrRepositories": "map: name -> ECR repository name or repository URL",
    "clusterName": "string: the EKS cluster's name",
    "vpcId": "string: the environment VPC's ID (teardown-guard uses it)",
    "logGroups": "list: CloudWatch log group names",
    "gpuNodeGroups": "list of maps: {clusterName, nodegroupName, pool?} (pool = the "
    "mlops:gpu.pools[].name it implements; without it the pool is matched by name)",
}
"""The stack outputs the operator scripts read: name -> shape. The one place they are
defined; ``__main__.py`` exports them and docs/operations.md lists them."""

GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_EFFECT = "NO_SCHEDULE"
REQUIRED_CLUSTER_LOGS = ("audit", "authenticator")
"""Control-plane log types every cluster must send to CloudWatch."""


@dataclass(frozen=True)
class Finding:
    """One checked setting of one resource."""

    kind: str
    resource: str
    setting: str
    expected: str
    actual: str

    @property
    def drift(self) -> bool:
        """Whether actual differs from expected."""
        return self.expected != self.actual


# --- reading the outputs -----------------------------------------------------------------


def parse_outputs(document: Any) -> dict[str, Any]:
    """Validate a ``pulumi stack output --json`` document; return the outputs we know.

    Raises :class:`UserError` naming the first malformed output.
    """
    if not isinstance(document, dict):
        raise UserError(
            "the outputs must be a JSON object of output names to values, as written by "
            "`pulumi stack output --json --show-secrets`"
        )
    outputs: dict[str, Any] = {}
    for name in OUTPUT_NAMES:
        if name not in document:
            continue
        value = document[name]
        if isinstance(value, str) and name not in {"clusterName", "vpcId"}:
            with contextlib.suppress(ValueError):  # structured outputs printed as strings
                value = json.loads(value)
        outputs[name] = _shape(name, value)
    return outputs


def _shape(name: str, value: Any) -> Any:
    def bad(expected: str) -> UserError:
        return UserError(f"output '{name}' should be {expected}, got {json.dumps(value)[:80]}")

    if name in {"clusterName", "vpcId"}:
        if not isinstance(value, str) or not value:
            raise bad("a non-empty string")
    elif name in {"artifactBuckets", "ecrRepositories"}:
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise bad("a map of names to strings")
    elif name == "logGroups":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad("a list of log group names")
    elif name == "gpuNodeGroups" and (
        not isinstance(value, list)
        or not all(
            isinstance(v, dict)
            and isinstance(v.get("clusterName"), str)
            and isinstance(v.get("nodegroupName"), str)
            for v in value
        )
    ):
        raise bad("a list of {clusterName, nodegroupName} maps")
    return value


def repository_name(value: str) -> str:
    """A repository name from a name or a ``<registry>/<name>`` URL (tag stripped)."""
    name = value.split("/", 1)[1] if "." in value.split("/", 1)[0] and "/" in value else value
    return name.split(":", 1)[0].split("@", 1)[0]


# --- checks ------------------------------------------------------------------------------


class Verifier:
    """Compares each live resource with the stack's expectations."""

    def __init__(self, aws: Aws, config: Any, reporter: Reporter) -> None:
        self.aws = aws
        self.config = config
        self.reporter = reporter

    def bucket(self, purpose: str, name: str) -> list[Finding]:
        """SSE-KMS, versioning, public access blocked, TLS-only policy."""
        self.reporter.progress(f"bucket {name}")
        s3 = self.aws.client("s3")
        label = f"{name} ({purpose})"

        def find(setting: str, expected: str, actual: str) -> Finding:
            return Finding("bucket", label, setting, expected, actual)

        try:
            s3.head_bucket(Bucket=name)
        except ClientError:
            return [find("exists", "yes", "no (not found or not readable)")]
        try:
            rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
                "Rules"
            ]
            algorithm = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        except ClientError as exc:
            if error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
                raise
            algorithm = "none"
        encryption = "aws:kms" if algorithm in ("aws:kms", "aws:kms:dsse") else algorithm
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status") or "Disabled"
        try:
            block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
            block = {}
        blocked = all(
            block.get(k) is True
            for k in (
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            )
        )
        try:
            policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        except ClientError as exc:
            if error_code(exc) != "NoSuchBucketPolicy":
                raise
            policy = {}
        from scripts.bootstrap_backend import has_tls_only  # noqa: PLC0415

        return [
            find("encryption", "aws:kms", encryption),
            find("versioning", "Enabled", versioning),
            find(
                "public access block",
                "all four on",
                "all four on" if blocked else "incomplete: " + json.dumps(block, sort_keys=True),
            ),
            find("tls-only policy", "yes", "yes" if has_tls_only(policy) else "no"),
        ]

    def repository(self, key: str, value: str) -> list[Finding]:
        """Immutable tags and scan on push (repository or registry scanning rules)."""
        name = repository_name(value)
        self.reporter.progress(f"repository {name}")
        ecr = self.aws.client("ecr")
        try:
            repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        except ClientError as exc:
            if error_code(exc) != "RepositoryNotFoundException":
                raise
            return [Finding("repository", name, "exists", "yes", "no")]
        mutability = str(repo.get("imageTagMutability", "MUTABLE"))
        scan = bool(repo.get("imageScanningConfiguration", {}).get("scanOnPush"))
        if not scan:
            scan = self._registry_scans()
        return [
            Finding(
                "repository",
                name,
                "tag mutability",
                "IMMUTABLE",
                "IMMUTABLE" if mutability.startswith("IMMUTABLE") else mutability,
            ),
            Finding("repository", name, "scan on push", "yes", "yes" if scan else "no"),
        ]

    def _registry_scans(self) -> bool:
        try:
            config = self.aws.client("ecr").get_registry_scanning_configuration()
        except ClientError:
            return False
        for rule in config.get("scanningConfiguration", {}).get("rules", []):
            filters = [f.get("filter") for f in rule.get("repositoryFilters", [])]
            if rule.get("scanFrequency") in {"SCAN_ON_PUSH", "CONTINUOUS_SCAN"} and "*" in filters:
                return True
        return False

    def cluster(self, name: str) -> list[Finding]:
        """Endpoint exposure, secrets encryption, version and audit logging."""
        self.reporter.progress(f"cluster {name}")
        try:
            cluster = self.aws.client("eks").describe_cluster(name=name)["cluster"]
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            return [Finding("cluster", name, "exists", "yes", "no")]
        wanted = self.config.cluster
        vpc = cluster.get("resourcesVpcConfig", {})

        def find(setting: str, expected: str, actual: str) -> Finding:
            return Finding("cluster", name, setting, expected, actual)

        public = bool(vpc.get("endpointPublicAccess"))
        findings = [
            find("private endpoint", "on", "on" if vpc.get("endpointPrivateAccess") else "off"),
            find(
                "public endpoint",
                "on" if wanted.endpoint_public_access else "off",
                "on" if public else "off",
            ),
        ]
        if public:
            cidrs = sorted(vpc.get("publicAccessCidrs", []))
            findings.append(
                find(
                    "public access CIDRs",
                    ", ".join(sorted(wanted.public_access_cidrs)) or "(none)",
                    ", ".join(cidrs) or "(none)",
                )
            )
        encrypted = any(
            "secrets" in entry.get("resources", []) and entry.get("provider", {}).get("keyArn")
            for entry in cluster.get("encryptionConfig", []) or []
        )
        findings.append(find("secrets encryption", "KMS", "KMS" if encrypted else "off"))
        findings.append(find("version", wanted.version, str(cluster.get("version", "?"))))
        enabled: set[str] = set()
        for entry in cluster.get("logging", {}).get("clusterLogging", []):
            if entry.get("enabled"):
                enabled.update(entry.get("types", []))
        missing = [t for t in REQUIRED_CLUSTER_LOGS if t not in enabled]
        findings.append(
            find(
                "control-plane logs",
                ", ".join(REQUIRED_CLUSTER_LOGS) + " on",
                "missing: " + ", ".join(missing)
                if missing
                else ", ".join(REQUIRED_CLUSTER_LOGS) + " on",
            )
        )
        return findings

    def log_group(self, name: str) -> list[Finding]:
        """Retention as configured."""
        self.reporter.progress(f"log group {name}")
        logs = self.aws.client("logs")
        found = None
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
            found = next((g for g in page.get("logGroups", []) if g["logGroupName"] == name), None)
            if found:
                break
        if found is None:
            return [Finding("log group", name, "exists", "yes", "no")]
        retention = found.get("retentionInDays")
        return [
            Finding(
                "log group",
                name,
                "retention (days)",
                str(self.config.log_retention_days),
                str(retention) if retention else "never expire",
            )
        ]

    def node_group(self, entry: dict[str, Any]) -> list[Finding]:
        """GPU taint, scaling bounds and capacity type as the pool is configured."""
        cluster, name = entry["clusterName"], entry["nodegroupName"]
        label = f"{cluster}/{name}"
        self.reporter.progress(f"node group {label}")
        try:
            group = self.aws.client("eks").describe_nodegroup(
                clusterName=cluster, nodegroupName=name
            )["nodegroup"]
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            return [Finding("node group", label, "exists", "yes", "no")]
        tainted = any(
            t.get("key") == GPU_TAINT_KEY and t.get("effect") == GPU_TAINT_EFFECT
            for t in group.get("taints", []) or []
        )
        taint = f"{GPU_TAINT_KEY}:{GPU_TAINT_EFFECT}"
        findings = [
            Finding("node group", label, "gpu taint", taint, taint if tainted else "absent")
        ]
        pool = self._pool_for(entry)
        scaling = group.get("scalingConfig", {})
        if pool is None:
            findings.append(
                Finding(
                    "node group",
                    label,
                    "pool",
                    "a configured GPU pool",
                    "no pool matches (add 'pool' to the output entry)",
                )
            )
            return findings
        findings.append(
            Finding(
                "node group", label, "min size", str(pool.min_size), str(scaling.get("minSize"))
            )
        )
        findings.append(
            Finding(
                "node group", label, "max size", str(pool.max_size), str(scaling.get("maxSize"))
            )
        )
        capacity = "SPOT" if pool.capacity_type.value == "spot" else "ON_DEMAND"
        findings.append(
            Finding(
                "node group",
                label,
                "capacity type",
                capacity,
                str(group.get("capacityType", "ON_DEMAND")),
            )
        )
        return findings

    def _pool_for(self, entry: dict[str, Any]) -> Any:
        pools = list(self.config.gpu.pools)
        wanted = entry.get("pool")
        if wanted:
            return next((p for p in pools if p.name == wanted), None)
        matches = [p for p in pools if p.name in entry["nodegroupName"]]
        return max(matches, key=lambda p: len(p.name)) if matches else None


def verify(verifier: Verifier, outputs: dict[str, Any]) -> list[Finding]:
    """Every finding for every resource named in the outputs."""
    findings: list[Finding] = []
    for purpose, bucket in sorted(outputs.get("artifactBuckets", {}).items()):
        findings += verifier.bucket(purpose, bucket)
    for key, repo in sorted(outputs.get("ecrRepositories", {}).items()):
        findings += verifier.repository(key, repo)
    if "clusterName" in outputs:
        findings += verifier.cluster(outputs["clusterName"])
    for group in outputs.get("logGroups", []):
        findings += verifier.log_group(group)
    for entry in outputs.get("gpuNodeGroups", []):
        findings += verifier.node_group(entry)
    return findings


def render(stack: str, findings: list[Finding], missing: list[str]) -> str:
    """Findings grouped by resource, drift first."""
    rows = [
        ["DRIFT" if f.drift else "ok", f.kind, f.resource, f.setting, f.expected, f.actual]
        for f in sorted(findings, key=lambda f: (not f.drift, f.kind, f.resource))
    ]
    lines = [f"Verification of stack '{stack}'", ""]
    lines.append(table(["status", "kind", "resource", "setting", "expected", "actual"], rows))
    if missing:
        lines += ["", "Outputs not exported (not checked): " + ", ".join(missing)]
    drifted = sorted({(f.kind, f.resource) for f in findings if f.drift})
    resources = {(f.kind, f.resource) for f in findings}
    lines += ["", f"{len(resources)} resources checked, {len(drifted)} drifted"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = aws_parser("scripts.verify", __doc__, stack="stack the outputs belong to")
    parser.add_argument(
        "--outputs", default="-", help="outputs JSON file, or - for standard input (default)"
    )
    args = parser.parse_args(argv)

    def body() -> int:
        config, aws, reporter = open_stack(args)
        outputs = parse_outputs(read_json_input(args.outputs))
        missing = [n for n in OUTPUT_NAMES if n not in outputs and n != "vpcId"]
        findings = verify(Verifier(aws, config, reporter), outputs)
        drift = [f for f in findings if f.drift]
        document = {
            "stack": args.stack,
            "region": config.region,
            "findings": [{**asdict(f), "drift": f.drift} for f in findings],
            "drift": bool(drift),
            "notExported": missing,
        }
        reporter.result(document, render(args.stack, findings, missing))
        if not findings:
            print(
                "error: the outputs name no resource to verify; expected some of: "
                + ", ".join(OUTPUT_NAMES),
                file=sys.stderr,
            )
            return EXIT_FAIL
        return EXIT_FAIL if drift else EXIT_OK

    return run(body)


if __name__ == "__main__":
    sys.exit(main())
