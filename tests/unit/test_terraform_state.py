"""Reading Terraform state outputs from a local file (the S3 path is in tests/scripts)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from mlops_platform.network.terraform_state import (
    MissingOutputError,
    StateOutput,
    UnreadableStateError,
    UnsupportedStateVersionError,
    parse_state,
    read_state,
    split_s3_url,
)

from scripts.offline import run_program
from scripts.offline.engine import Secret

TERRAFORM = shutil.which("terraform")

_CONFIG = """
resource "terraform_data" "vpc" {
  input = "vpc-0123456789abcdef0"
}

output "vpc_id" {
  value = terraform_data.vpc.output
}

output "vpc_cidr_block" {
  value = "10.40.0.0/16"
}

output "private_subnets" {
  value = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2", "subnet-0aaaaaaaaaaaaaaa3"]
}

output "public_subnets" {
  value = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]
}

output "flow_log_token" {
  value     = "not-for-logs"
  sensitive = true
}
"""


def _state(outputs: dict, version: int = 4) -> dict:
    return {
        "version": version,
        "terraform_version": "1.9.0",
        "serial": 3,
        "lineage": "0f0e0d0c-0000-1111-2222-333344445555",
        "outputs": outputs,
        "resources": [],
    }


def _write(path: Path, document: object) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def test_reads_outputs_and_sensitivity_from_a_local_file(tmp_path):
    source = _write(
        tmp_path / "terraform.tfstate",
        _state(
            {
                "vpc_id": {"value": "vpc-1", "type": "string"},
                "token": {"value": "s3cr3t", "type": "string", "sensitive": True},
            }
        ),
    )
    state = read_state(source)
    assert state.version == 4
    assert state.serial == 3
    assert state.output("vpc_id") == StateOutput("vpc_id", "vpc-1", False, "string")
    assert state.output("token").sensitive is True


def test_select_maps_keys_to_output_names(tmp_path):
    state = parse_state(json.dumps(_state({"network_vpc": {"value": "vpc-9"}})), "mem")
    selected = state.select({"vpc_id": "network_vpc"})
    assert selected["vpc_id"].value == "vpc-9"


def test_missing_outputs_are_all_named_with_what_the_state_has(tmp_path):
    state = parse_state(
        json.dumps(_state({"vpc_id": {"value": "v"}, "subnets": {"value": []}})), "s.tfstate"
    )
    with pytest.raises(MissingOutputError) as err:
        state.select({"vpc_id": "vpc_id", "vpc_cidr": "cidr", "private_subnet_ids": "private"})
    message = str(err.value)
    assert "'cidr' (for vpc_cidr)" in message
    assert "'private' (for private_subnet_ids)" in message
    assert "outputs in the state: subnets, vpc_id" in message
    assert err.value.missing == {"vpc_cidr": "cidr", "private_subnet_ids": "private"}


def test_missing_file_is_unreadable_and_names_the_path(tmp_path):
    source = str(tmp_path / "nope.tfstate")
    with pytest.raises(UnreadableStateError, match=r"cannot read Terraform state .*nope\.tfstate"):
        read_state(source)


def test_not_json_is_unreadable(tmp_path):
    path = tmp_path / "garbage.tfstate"
    path.write_bytes(b"\x00\x01 not json")
    with pytest.raises(UnreadableStateError, match=r"garbage\.tfstate is not JSON"):
        read_state(str(path))


def test_json_that_is_not_a_state_is_unreadable():
    with pytest.raises(UnreadableStateError, match="expected a JSON object with a 'version' key"):
        parse_state("[1, 2]", "list.json")


@pytest.mark.parametrize("version", [3, "4", None])
def test_unsupported_state_versions_fail_clearly(version):
    with pytest.raises(UnsupportedStateVersionError, match="supported: 4"):
        parse_state(json.dumps(_state({}, version=version)), "old.tfstate")


def test_version_4_is_supported():
    assert parse_state(json.dumps(_state({})), "new.tfstate").outputs == {}


def test_malformed_output_is_unreadable():
    with pytest.raises(UnreadableStateError, match="malformed output 'x'"):
        parse_state(json.dumps(_state({"x": {"type": "string"}})), "bad.tfstate")


@pytest.mark.parametrize("url", ["s3://", "s3://bucket", "s3://bucket/", "s3:///key"])
def test_malformed_s3_urls_fail(url):
    with pytest.raises(UnreadableStateError, match="expected s3://<bucket>/<key>"):
        split_s3_url(url)


def test_s3_url_splits_into_bucket_and_key():
    assert split_s3_url("s3://tf-state/env:/prod/network.tfstate") == (
        "tf-state",
        "env:/prod/network.tfstate",
    )


def test_sensitive_outputs_become_pulumi_secrets_and_others_do_not():
    import pulumi  # noqa: PLC0415

    secret = StateOutput("token", "s3cr3t", sensitive=True)
    public = StateOutput("vpc_id", "vpc-1")

    def program() -> None:
        pulumi.export("token", secret.to_output())
        pulumi.export("vpc_id", public.to_output())

    rec = run_program(program)
    assert rec.outputs["token"] == Secret("s3cr3t")
    assert rec.outputs["vpc_id"] == "vpc-1"


@pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")
def test_reads_a_state_written_by_real_terraform(tmp_path):
    (tmp_path / "main.tf").write_text(_CONFIG)
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "HOME": str(tmp_path)}
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
    state = read_state(str(tmp_path / "terraform.tfstate"))
    assert state.terraform_version
    assert state.output("vpc_id").value == "vpc-0123456789abcdef0"
    assert state.output("private_subnets").value[2] == "subnet-0aaaaaaaaaaaaaaa3"
    assert state.output("flow_log_token").sensitive is True
    assert state.output("vpc_cidr_block").sensitive is False
