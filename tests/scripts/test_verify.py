"""verify against a moto server: a compliant deployment, then drift, then bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest

from scripts.verify import OUTPUT_NAMES, main, parse_outputs, repository_name

CLUSTER = "mlops-dev"
BUCKET = "mlops-dev-models"
REPO = "mlops-dev/serving"
LOG_GROUP = f"/aws/eks/{CLUSTER}/cluster"
ROLE = "arn:aws:iam::123456789012:role/test"
KEY = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"


def _deploy_compliant_dev() -> dict:
    """What the dev stack would build (as the real stack file asks), and its outputs."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": KEY,
                    }
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )

    repo = boto3.client("ecr").create_repository(
        repositoryName=REPO,
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
    )["repository"]

    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    eks = boto3.client("eks")
    eks.create_cluster(
        name=CLUSTER,
        version="1.34",
        roleArn=ROLE,
        resourcesVpcConfig={
            "subnetIds": subnets,
            "endpointPrivateAccess": True,
            "endpointPublicAccess": True,
            "publicAccessCidrs": ["203.0.113.0/24"],
        },
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY}}],
        logging={"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]},
    )
    groups = []
    for pool in ("notebooks", "serving"):
        name = f"{CLUSTER}-{pool}"
        eks.create_nodegroup(
            clusterName=CLUSTER,
            nodegroupName=name,
            nodeRole=ROLE,
            subnets=subnets,
            capacityType="SPOT",
            scalingConfig={"minSize": 0, "maxSize": 2, "desiredSize": 0},
            taints=[{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
        )
        groups.append({"clusterName": CLUSTER, "nodegroupName": name})
    groups[1]["pool"] = "serving"  # explicit pool on one, matched by name on the other

    logs = boto3.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=7)

    return {
        "artifactBuckets": {"models": BUCKET},
        "ecrRepositories": {"serving": repo["repositoryUri"]},
        "clusterName": CLUSTER,
        "vpcId": vpc,
        "logGroups": [LOG_GROUP],
        "gpuNodeGroups": groups,
        "region": "us-east-1",  # outputs verify does not know are ignored
    }


@pytest.fixture
def outputs_file(tmp_path: Path):
    def write(outputs: object) -> str:
        path = tmp_path / "outputs.json"
        path.write_text(outputs if isinstance(outputs, str) else json.dumps(outputs))
        return str(path)

    return write


def test_compliant_deployment_has_no_drift(moto_endpoint, run_cli, outputs_file):
    path = outputs_file(_deploy_compliant_dev())
    code, out, err = run_cli(main, "--stack", "dev", "--outputs", path, "--json")
    assert out, err
    document = json.loads(out)
    assert code == 0, [f for f in document["findings"] if f["drift"]]
    assert document["drift"] is False
    checked = {(f["kind"], f["setting"]) for f in document["findings"]}
    assert {
        ("bucket", "encryption"),
        ("bucket", "versioning"),
        ("bucket", "public access block"),
        ("bucket", "tls-only policy"),
        ("repository", "tag mutability"),
        ("repository", "scan on push"),
        ("cluster", "public endpoint"),
        ("cluster", "secrets encryption"),
        ("cluster", "public access CIDRs"),
        ("log group", "retention (days)"),
        ("node group", "gpu taint"),
        ("node group", "max size"),
        ("node group", "capacity type"),
    } <= checked
    assert {f["resource"] for f in document["findings"] if f["kind"] == "repository"} == {REPO}
    assert "... bucket" in err


def test_drift_is_reported_per_resource_and_exits_non_zero(moto_endpoint, run_cli, outputs_file):
    outputs = _deploy_compliant_dev()
    boto3.client("s3").put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"}
    )
    boto3.client("ecr").put_image_tag_mutability(repositoryName=REPO, imageTagMutability="MUTABLE")
    boto3.client("logs").put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=30)
    boto3.client("eks").update_nodegroup_config(
        clusterName=CLUSTER,
        nodegroupName=f"{CLUSTER}-serving",
        scalingConfig={"minSize": 0, "maxSize": 6, "desiredSize": 0},
    )

    code, out, _ = run_cli(main, "--stack", "dev", "--outputs", outputs_file(outputs), "--json")
    assert code == 1
    drift = {
        (f["resource"], f["setting"], f["expected"], f["actual"])
        for f in json.loads(out)["findings"]
        if f["drift"]
    }
    assert drift == {
        (f"{BUCKET} (models)", "versioning", "Enabled", "Suspended"),
        (REPO, "tag mutability", "IMMUTABLE", "MUTABLE"),
        (LOG_GROUP, "retention (days)", "7", "30"),
        (f"{CLUSTER}/{CLUSTER}-serving", "max size", "2", "6"),
    }

    code, out, _ = run_cli(main, "--stack", "dev", "--outputs", outputs_file(outputs))
    assert code == 1
    assert out.splitlines()[4].startswith("DRIFT")
    assert "4 drifted" in out


def test_missing_resources_are_drift(moto_endpoint, run_cli, outputs_file):
    outputs = {"clusterName": "gone", "artifactBuckets": {"data": "no-such-bucket"}}
    code, out, _ = run_cli(main, "--stack", "dev", "--outputs", outputs_file(outputs), "--json")
    assert code == 1
    drift = {(f["resource"], f["setting"], f["actual"]) for f in json.loads(out)["findings"]}
    assert ("gone", "exists", "no") in drift
    assert ("no-such-bucket (data)", "exists", "no (not found or not readable)") in drift
    assert "logGroups" in json.loads(out)["notExported"]


def test_outputs_from_stdin(moto_endpoint, run_cli, monkeypatch):
    outputs = _deploy_compliant_dev()
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(outputs)))
    code, _, _ = run_cli(main, "--stack", "dev", "--outputs", "-")
    assert code == 0


def test_outputs_naming_nothing_is_not_a_pass(moto_endpoint, run_cli, outputs_file):
    code, _, err = run_cli(main, "--stack", "dev", "--outputs", outputs_file({"region": "x"}))
    assert code == 1
    assert "name no resource to verify" in err


# --- bad input ---------------------------------------------------------------------------


def test_malformed_outputs_file_is_a_clear_error(moto_endpoint, run_cli, outputs_file):
    code, out, err = run_cli(main, "--stack", "dev", "--outputs", outputs_file("{not json"))
    assert code == 2
    assert out == ""
    assert "is not valid JSON" in err
    assert "pulumi stack output --json --show-secrets" in err


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ([1, 2], "must be a JSON object of output names to values"),
        ({"artifactBuckets": ["a"]}, "output 'artifactBuckets' should be a map"),
        ({"gpuNodeGroups": [{"clusterName": "c"}]}, "output 'gpuNodeGroups' should be a list"),
        ({"clusterName": ""}, "output 'clusterName' should be a non-empty string"),
    ],
)
def test_wrongly_shaped_outputs_name_the_output(
    moto_endpoint, run_cli, outputs_file, outputs, message
):
    code, _, err = run_cli(main, "--stack", "dev", "--outputs", outputs_file(outputs))
    assert code == 2
    assert message in err


def test_missing_outputs_file(moto_endpoint, run_cli, tmp_path):
    code, _, err = run_cli(main, "--stack", "dev", "--outputs", str(tmp_path / "none.json"))
    assert code == 2
    assert "cannot read" in err


def test_unknown_stack_is_a_clear_error(moto_endpoint, run_cli, outputs_file):
    code, _, err = run_cli(main, "--stack", "nope", "--outputs", outputs_file({}))
    assert code == 2
    assert "no stack file for stack 'nope'" in err


def test_unreachable_endpoint_is_one_clear_line(closed_endpoint, run_script):
    result = run_script(
        "scripts.verify",
        "--stack",
        "dev",
        "--outputs",
        "-",
        stdin=json.dumps({"clusterName": CLUSTER}),
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1].startswith(f"error: cannot reach {closed_endpoint}")
    )


def test_output_names_and_repository_names():
    assert set(OUTPUT_NAMES) == {
        "artifactBuckets",
        "ecrRepositories",
        "clusterName",
        "vpcId",
        "logGroups",
        "gpuNodeGroups",
    }
    assert parse_outputs({"logGroups": json.dumps(["a"])}) == {"logGroups": ["a"]}
    assert repository_name("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/model") == (
        "team/model"
    )
    assert repository_name("team/model:1.0") == "team/model"
