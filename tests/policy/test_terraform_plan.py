"""The pack judges real Terraform plans: the fixture under tests/fixtures/terraform is planned
once per session with the real ``terraform`` binary and the real AWS provider (from a
filesystem mirror on this machine, no network), then driven through the runner.

Assertions name rules whose meaning is stable (S3 public access, KMS rotation, IAM admin,
EKS public endpoint, ECR immutability, log retention, RDS public access, SSH open to the
world), never exact counts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts import terraform_plan as tf
from scripts.offline.project import REPO_ROOT
from scripts.policy_runner import (
    EXIT_CONFIG,
    EXIT_OK,
    EXIT_POLICY,
    POLICY_DIR,
    Analyzer,
    evaluate_terraform_plan,
    main,
)
from tests.policy import terraform_plans

NONCOMPLIANT = "module.noncompliant"
COMPLIANT = "module.compliant"
REPOSITORY = 'module.noncompliant.module.registry.aws_ecr_repository.this["serving"]'


@pytest.fixture(scope="session")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's real plan (``terraform show -json``), made once per session."""
    terraform = terraform_plans.terraform_binary()
    if terraform is None:
        pytest.skip("no terraform binary on PATH: the Terraform-plan path cannot be exercised")
    mirror = terraform_plans.find_aws_mirror()
    if mirror is None:
        pytest.skip(
            "no filesystem mirror of the hashicorp/aws provider found (set "
            f"{terraform_plans.MIRROR_ENV} to a folder holding {terraform_plans.PROVIDER_DIR})"
        )
    work = tmp_path_factory.mktemp("terraform")
    config = terraform_plans.cli_config(mirror, work)
    return terraform_plans.plan(work, config, terraform)


@pytest.fixture(scope="session")
def plan_doc(plan_file: Path) -> dict[str, Any]:
    return json.loads(plan_file.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def compliant_file(plan_doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compliant module's part of the real plan, as its own plan file."""
    path = tmp_path_factory.mktemp("compliant") / "plan.json"
    path.write_text(json.dumps(terraform_plans.module_part(plan_doc, "compliant")), "utf-8")
    return path


@pytest.fixture(scope="session")
def reports(plan_doc: dict[str, Any], analyzer: Analyzer) -> Iterator[dict[str, dict]]:
    """The whole plan judged for each environment (one pack, reconfigured)."""
    yield {
        env: evaluate_terraform_plan(plan_doc, env, analyzer=analyzer) for env in ("dev", "prod")
    }


def _findings(report: dict[str, Any], rule: str, prefix: str) -> list[dict[str, Any]]:
    return [
        f
        for f in report["findings"]
        if f["rule"] == rule and f["resource"].startswith(prefix) and f["kind"] == "violation"
    ]


# --- the mapping ---------------------------------------------------------------------------


def _terraform_names(token: str) -> set[str]:
    """The Terraform type names the bridge's convention gives ``aws:<module>/<name>:<Name>``."""
    module, name = token.split(":")[1].split("/")
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return {f"aws_{module.lower()}_{snake}", f"aws_{snake}"}


def test_every_type_the_rules_read_is_mapped_from_a_terraform_type() -> None:
    """Each ``aws:`` token named in policy/rules is what some Terraform type maps to (or is
    pulumi-aws's legacy name of a token one maps to)."""
    pack = tf.pack_types(POLICY_DIR / "rules")
    assert len(pack) > 40  # the grep found the rules' types
    candidates = set(tf.TYPE_EXCEPTIONS).union(*(_terraform_names(t) for t in pack))
    mapped = {tf.guess_token(c) for c in candidates} - {None}
    missing = sorted(
        t
        for t in pack
        if t not in mapped
        and not (t in tf.LEGACY_TOKENS and tf.guess_token(tf.LEGACY_TOKENS[t]) in mapped)
    )
    assert not missing, f"pack types no Terraform type maps to: {missing}"
    for legacy in tf.LEGACY_TOKENS:
        assert legacy in tf.sdk_tokens(), legacy


@pytest.mark.parametrize(
    ("tf_type", "token"),
    [
        ("aws_s3_bucket", "aws:s3/bucket:Bucket"),
        (
            "aws_s3_bucket_public_access_block",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        ),
        ("aws_vpc", "aws:ec2/vpc:Vpc"),
        ("aws_instance", "aws:ec2/instance:Instance"),
        ("aws_security_group", "aws:ec2/securityGroup:SecurityGroup"),
        (
            "aws_vpc_security_group_ingress_rule",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        ),
        ("aws_iam_openid_connect_provider", "aws:iam/openIdConnectProvider:OpenIdConnectProvider"),
        ("aws_cloudwatch_log_group", "aws:cloudwatch/logGroup:LogGroup"),
        ("aws_db_instance", "aws:rds/instance:Instance"),
        ("aws_rds_cluster", "aws:rds/cluster:Cluster"),
        ("aws_eks_node_group", "aws:eks/nodeGroup:NodeGroup"),
        ("aws_lb", "aws:lb/loadBalancer:LoadBalancer"),
    ],
)
def test_terraform_types_map_to_their_pulumi_tokens(tf_type: str, token: str) -> None:
    assert tf.guess_token(tf_type) == token
    assert token in tf.sdk_tokens()


def test_non_aws_types_have_no_token() -> None:
    assert tf.guess_token("terraform_data") is None
    assert tf.guess_token("kubernetes_namespace") is None


def test_every_planned_aws_type_maps_and_the_shapes_follow_the_sdk(plan_doc: dict) -> None:
    conversion = tf.convert(plan_doc, known_types=tf.pack_types(POLICY_DIR / "rules"))
    by_address = {r.name: r for r in conversion.resources}
    lt = by_address["module.compliant.aws_launch_template.nodes"]
    assert lt.type == "aws:ec2/launchTemplate:LaunchTemplate"
    # A MaxItems-1 block becomes an object; a repeated block stays a list (plural name).
    assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
    # The provider (and so the SDK) types ebs.encrypted as a string.
    assert lt.inputs["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    sg = by_address["module.compliant.aws_security_group.nodes"]
    assert sg.inputs["ingress"][0]["cidrBlocks"] == ["10.0.0.0/16"]
    # tags_all (provider default tags) is what the pack sees as tags.
    key = by_address["module.compliant.aws_kms_key.data"]
    assert key.inputs["tags"] == {
        "owner": "ml-platform-team",
        "environment": "dev",
        "cost-center": "ml-1234",
    }
    # Attributes Terraform knows after apply: unknown when configured, absent when the
    # provider computes them on its own.
    pab = by_address["module.compliant.aws_s3_bucket_public_access_block.artifacts"]
    assert type(pab.inputs["bucket"]).__name__ == "Unknown"
    bucket = by_address["module.compliant.aws_s3_bucket.artifacts"]
    assert "arn" not in bucket.inputs and "versioning" not in bucket.inputs
    # Dependencies come from the configuration's references.
    bucket_urn = bucket.urn
    assert pab.property_dependencies["bucket"] == [bucket_urn]
    assert bucket_urn in pab.dependencies
    # The resource in a module, with a for_each key, keeps its full address as its name.
    assert REPOSITORY in by_address
    assert by_address[REPOSITORY].urn.endswith("::" + REPOSITORY)
    # What the pack cannot judge is listed, not dropped.
    missing = {n.address: n.reason for n in conversion.not_evaluated}
    assert "not an AWS resource" in missing["module.noncompliant.terraform_data.marker"]
    assert (
        "no rule of the pack reads"
        in missing["module.noncompliant.aws_iam_instance_profile.worker"]
    )


# --- the pack over real plans ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "address"),
    [
        ("s3-public-access-block-all-flags", "aws_s3_bucket_public_access_block.artifacts"),
        ("kms-key-rotation", "aws_kms_key.data"),
        ("iam-no-admin-policy", "aws_iam_policy.admin"),
        ("eks-endpoint-private", "aws_eks_cluster.serving"),
        ("ec2-launch-template-imdsv2", "aws_launch_template.nodes"),
        ("ec2-sg-no-world-admin-ports", "aws_security_group.nodes"),
        ("logs-retention", "aws_cloudwatch_log_group.app"),
        ("rds-not-public", "aws_db_instance.mlflow"),
        ("rds-storage-encrypted", "aws_db_instance.mlflow"),
    ],
)
def test_each_family_flags_the_careless_resource_and_passes_the_compliant_one(
    reports: dict[str, dict], rule: str, address: str
) -> None:
    report = reports["prod"]
    assert _findings(report, rule, f"{NONCOMPLIANT}.{address}"), (rule, address)
    assert not _findings(report, rule, f"{COMPLIANT}.{address}"), (rule, address)


def test_ecr_mutability_is_found_on_the_module_nested_address(reports: dict[str, dict]) -> None:
    found = _findings(reports["prod"], "ecr-immutable-tags", REPOSITORY)
    assert found and found[0]["enforcement"] == "mandatory"
    assert not _findings(reports["prod"], "ecr-immutable-tags", COMPLIANT)


def test_enforcement_follows_the_environment(reports: dict[str, dict]) -> None:
    """Same plan, same rules: KMS rotation (high) is advisory in dev, mandatory in prod;
    the open EKS endpoint (critical) is mandatory in both."""
    address = f"{NONCOMPLIANT}.aws_kms_key.data"
    assert {f["enforcement"] for f in _findings(reports["dev"], "kms-key-rotation", address)} == {
        "advisory"
    }
    assert {f["enforcement"] for f in _findings(reports["prod"], "kms-key-rotation", address)} == {
        "mandatory"
    }
    eks = f"{NONCOMPLIANT}.aws_eks_cluster.serving"
    for env in ("dev", "prod"):
        assert {f["enforcement"] for f in _findings(reports[env], "eks-endpoint-private", eks)} == {
            "mandatory"
        }


def test_a_value_known_only_after_apply_downgrades_to_not_evaluable(
    reports: dict[str, dict],
) -> None:
    """The role policy's document names the bucket's ARN, unknown until apply: the IAM rules
    cannot run on it and say so (advisory), as under ``pulumi preview``; the same statement
    with a literal resource (the admin policy) is a mandatory violation."""
    report = reports["prod"]
    unknown = [f for f in report["findings"] if f["rule"] == "iam-no-admin-policy"]
    assert any(f["kind"] == "unknown" and f["enforcement"] == "advisory" for f in unknown)
    target = f"{NONCOMPLIANT}.aws_iam_role_policy.after_apply"
    assert not [
        f for f in report["findings"] if f["resource"] == target and f["enforcement"] == "mandatory"
    ]


# --- the command line ----------------------------------------------------------------------


def test_cli_exit_codes_and_sarif_point_at_terraform_addresses(
    plan_file: Path,
    compliant_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shared_pack: None,
) -> None:
    sarif = tmp_path / "plan.sarif"
    args = ["--terraform-plan", str(plan_file), "--environment", "prod", "--format", "sarif"]
    assert main([*args, "--output", str(sarif)]) == EXIT_POLICY
    run = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]
    names = {
        loc["logicalLocations"][0]["fullyQualifiedName"]
        for result in run["results"]
        for loc in result["locations"]
    }
    assert f"{NONCOMPLIANT}.aws_eks_cluster.serving" in names
    assert REPOSITORY in names
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in run["results"]
        for loc in result["locations"]
    }
    assert uris == {plan_file.as_posix()}
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("terraform_data.marker" in n["message"]["text"] for n in notes)

    assert main(["--terraform-plan", str(compliant_file), "--environment", "dev"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Terraform plan" in out and "planned resources judged" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"format_version": "2.0", "resource_changes": []}', "format_version '2.0'"),
        ('{"version": 4, "resources": []}', "no format_version"),
        ('{"format_version": "1.2", "values": {}}', "no resource_changes"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_bad_plans_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text(content, encoding="utf-8")
    assert main(["--terraform-plan", str(bad), "--environment", "dev"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_missing_or_binary_plan_and_missing_environment_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--terraform-plan", str(tmp_path / "absent.json"), "--environment", "dev"]) == 2
    assert "cannot read" in capsys.readouterr().err
    binary = tmp_path / "plan.bin"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00binary plan")
    assert main(["--terraform-plan", str(binary), "--environment", "dev"]) == 2
    assert "terraform show -json" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--terraform-plan", str(binary)])
    assert exc.value.code == 2
    assert "--environment" in capsys.readouterr().err


def test_benchmark_times_the_pack_over_a_saved_plan(plan_file: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.benchmark",
            "--terraform-plan",
            str(plan_file),
            "--runs",
            "1",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "pack over the plan" in done.stdout and "ratio" in done.stdout
