"""Terraform state in S3, served by a real moto server (AWS_ENDPOINT_URL), read with boto3."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
from mlops_platform.network.terraform_state import UnreadableStateError, read_state

TERRAFORM = shutil.which("terraform")
BUCKET = "landing-zone-tf-state"

_STATE = {
    "version": 4,
    "terraform_version": "1.9.0",
    "serial": 7,
    "lineage": "4b7c2e1a-0000-1111-2222-333344445555",
    "outputs": {
        "vpc_id": {"value": "vpc-0123456789abcdef0", "type": "string"},
        "private_subnets": {"value": ["subnet-01", "subnet-02"], "type": ["list", "string"]},
        "db_password": {"value": "hunter2", "type": "string", "sensitive": True},
    },
    "resources": [],
}


def _bucket() -> None:
    boto3.client("s3").create_bucket(Bucket=BUCKET)


def test_reads_a_state_object_through_the_env_endpoint(moto_endpoint):
    _bucket()
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="env:/prod/network.tfstate", Body=json.dumps(_STATE).encode()
    )
    state = read_state(f"s3://{BUCKET}/env:/prod/network.tfstate")
    assert state.serial == 7
    assert state.output("private_subnets").value == ["subnet-01", "subnet-02"]
    assert state.output("db_password").sensitive is True


def test_missing_key_is_unreadable_and_names_the_location(moto_endpoint):
    _bucket()
    with pytest.raises(UnreadableStateError) as err:
        read_state(f"s3://{BUCKET}/absent.tfstate")
    assert f"s3://{BUCKET}/absent.tfstate" in str(err.value)
    assert "NoSuchKey" in str(err.value)


def test_missing_bucket_is_unreadable(moto_endpoint):
    with pytest.raises(UnreadableStateError, match="NoSuchBucket"):
        read_state("s3://no-such-bucket-here/network.tfstate")


@pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")
def test_reads_a_state_written_by_terraform_s3_backend(moto_endpoint, tmp_path: Path):
    _bucket()
    (tmp_path / "main.tf").write_text(
        f"""
terraform {{
  backend "s3" {{
    bucket                      = "{BUCKET}"
    key                         = "network/terraform.tfstate"
    region                      = "us-east-1"
    endpoints                   = {{ s3 = "{moto_endpoint}" }}
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
  }}
}}

resource "terraform_data" "vpc" {{
  input = "vpc-0fedcba9876543210"
}}

output "vpc_id" {{
  value = terraform_data.vpc.output
}}

output "private_subnets" {{
  value = ["subnet-0c1", "subnet-0c2", "subnet-0c3"]
}}

output "admin_token" {{
  value     = "t0ken"
  sensitive = true
}}
"""
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key.startswith("AWS_") and key != "AWS_ENDPOINT_URL"
    }
    env |= {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "HOME": str(tmp_path)}
    assert TERRAFORM is not None
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(
            [TERRAFORM, *command, "-no-color"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "terraform.tfstate").exists(), "state must live in S3, not locally"

    state = read_state(f"s3://{BUCKET}/network/terraform.tfstate")
    assert state.output("vpc_id").value == "vpc-0fedcba9876543210"
    assert state.output("private_subnets").value == ["subnet-0c1", "subnet-0c2", "subnet-0c3"]
    assert state.output("admin_token").sensitive is True


def test_network_adopts_a_vpc_from_a_state_in_s3(moto_endpoint):
    from mlops_platform.network.network import (  # noqa: PLC0415
        ExistingNetworkArgs,
        Network,
        NetworkArgs,
        TerraformStateArgs,
    )

    from scripts.offline import run_program  # noqa: PLC0415

    _bucket()
    state = dict(
        _STATE,
        outputs={
            "lz_vpc_id": {"value": "vpc-0123456789abcdef0"},
            "lz_vpc_cidr": {"value": "10.60.0.0/16"},
            "lz_private_subnets": {
                "value": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
            },
        },
    )
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key="lz/network.tfstate", Body=json.dumps(state).encode()
    )
    tf = TerraformStateArgs(
        source=f"s3://{BUCKET}/lz/network.tfstate",
        outputs={
            "vpc_id": "lz_vpc_id",
            "vpc_cidr": "lz_vpc_cidr",
            "private_subnet_ids": "lz_private_subnets",
        },
    )
    args = NetworkArgs(
        name_prefix="mlops-dev",
        cluster_name="mlops-dev-serving",
        existing=ExistingNetworkArgs(terraform_state=tf),
    )
    rec = run_program(lambda: Network("net", args))
    (urn,) = [r.urn for r in rec.of_type("mlops:index:Network")]
    out = rec.component_outputs[urn]
    assert out["vpc_id"] == "vpc-0123456789abcdef0"
    assert out["vpc_cidr"] == "10.60.0.0/16"
    assert out["private_subnet_ids"] == ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
