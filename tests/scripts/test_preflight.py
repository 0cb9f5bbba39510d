"""preflight: account, offerings, quotas (seam + unknown against moto), version, backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from mlops_platform.config import environment_from_config

from scripts.aws_session import Aws, Reporter
from scripts.offline.project import load_stack_config
from scripts.preflight import (
    GPU_QUOTAS,
    Preflight,
    Status,
    backend_bucket,
    check_version,
    compare_quota,
    main,
    required_vcpus,
)

MOTO_ACCOUNT = "123456789012"
STATE_BUCKET = "preflight-state-bucket"


@pytest.fixture
def stack_file(stack_document, write_stack):
    """A stack file from a real stack, deployable to moto's account, with edits applied."""

    def make(stack: str = "dev", **config: Any) -> Path:
        document = stack_document(stack)
        document["config"]["mlops:allowedAccountIds"] = [MOTO_ACCOUNT]
        document["config"].update(config)
        return write_stack(document)

    return make


def _checks(out: str) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(out)["checks"]}


def test_dev_stack_passes_with_quotas_unknown_on_moto(moto_endpoint, run_cli, stack_file):
    boto3.client("s3").create_bucket(Bucket=STATE_BUCKET)
    code, out, err = run_cli(
        main,
        "--stack",
        "dev",
        "--stack-file",
        str(stack_file()),
        "--backend-bucket",
        STATE_BUCKET,
        "--json",
    )
    assert code == 0, out + err
    checks = _checks(out)
    assert checks["account"]["status"] == "PASS"
    assert checks["availability zones"]["detail"] == "us-east-1a, us-east-1b"
    for name in ("g4dn.xlarge", "g5.xlarge", "g6.xlarge"):
        assert checks[f"offering {name}"]["status"] == "PASS"
    assert checks["eks version"]["status"] == "PASS"
    assert checks["state backend"]["status"] == "PASS"
    # dev pools are spot G only; moto holds no EC2 quota data, so: UNKNOWN, never PASS.
    quota = checks["quota L-3819A6DF (All G and VT Spot Instance Requests)"]
    assert quota["status"] == "UNKNOWN"
    assert "the pools need 16 vCPUs" in quota["detail"]
    assert "get-service-quota --service-code ec2 --quota-code L-3819A6DF" in quota["fix"]
    assert not any(name.startswith("quota L-DB2E81BA") for name in checks)
    assert "UNKNOWN checks are not passes" in err


def test_unknown_fails_only_under_strict(moto_endpoint, run_cli, stack_file):
    boto3.client("s3").create_bucket(Bucket=STATE_BUCKET)
    code, out, _ = run_cli(
        main,
        "--stack",
        "dev",
        "--stack-file",
        str(stack_file()),
        "--backend-bucket",
        STATE_BUCKET,
        "--strict",
    )
    assert code == 1
    assert "UNKNOWN" in out and "0 failed" in out


def test_wrong_account_fails_with_the_fix(moto_endpoint, run_cli):
    code, out, _ = run_cli(main, "--stack", "dev")  # the real dev stack allows 111111111111
    assert code == 1
    assert "FAIL" in out
    assert "credentials are for 123456789012; the stack allows 111111111111" in out
    assert "AWS_PROFILE" in out


def test_missing_instance_offering_fails_naming_the_zone_and_pools(
    moto_endpoint, run_cli, stack_file
):
    # moto's eu-north-1 data: g5.xlarge is offered in 1b and 1c, not 1a.
    path = stack_file(**{"aws:region": "eu-north-1"})
    code, out, _ = run_cli(main, "--stack", "dev", "--stack-file", str(path), "--json")
    assert code == 1
    checks = _checks(out)
    g5 = checks["offering g5.xlarge"]
    assert g5["status"] == "FAIL"
    assert g5["detail"] == "not offered in eu-north-1a (pools: notebooks, serving)"
    assert "remove g5.xlarge" in g5["fix"]
    assert checks["offering g6.xlarge"]["status"] == "PASS"


def test_missing_state_backend_fails_and_points_at_bootstrap(moto_endpoint, run_cli, stack_file):
    code, out, _ = run_cli(
        main,
        "--stack",
        "dev",
        "--stack-file",
        str(stack_file()),
        "--backend-bucket",
        "no-such-state-bucket",
        "--json",
    )
    assert code == 1
    backend = _checks(out)["state backend"]
    assert backend["status"] == "FAIL"
    assert "python -m scripts.bootstrap_backend" in backend["fix"]


def test_backend_from_pulumi_backend_url(moto_endpoint, run_cli, stack_file, monkeypatch):
    boto3.client("s3").create_bucket(Bucket=STATE_BUCKET)
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"s3://{STATE_BUCKET}?region=us-east-1")
    code, out, _ = run_cli(main, "--stack", "dev", "--stack-file", str(stack_file()), "--json")
    assert code == 0
    assert _checks(out)["state backend"]["detail"] == f"s3://{STATE_BUCKET} exists"


def test_backend_bucket_parsing():
    assert backend_bucket("explicit", {"PULUMI_BACKEND_URL": "s3://other"}) == "explicit"
    assert backend_bucket(None, {"PULUMI_BACKEND_URL": "s3://b/prefix?region=x"}) == "b"
    assert backend_bucket(None, {"PULUMI_BACKEND_URL": "https://api.example"}) is None
    assert backend_bucket(None, {}) is None


# --- the quota comparison, through its own seam --------------------------------------------


def _prod_pools():
    loaded = load_stack_config("prod")
    return environment_from_config(loaded.values, "prod").gpu.pools


def test_required_vcpus_takes_each_pool_at_max_size_and_its_largest_type():
    # serving: 8 x max(g6e.xlarge 4, g6.2xlarge 8, g5.2xlarge 8) = 64, on-demand G
    # serving-large: 4 x g6e.12xlarge 48 = 192, on-demand G;  training: 4 x p4d 96, spot P
    assert required_vcpus(_prod_pools()) == {"L-DB2E81BA": 256, "L-7212CCBC": 384}


def test_quota_comparison_pass_fail_unknown():
    spec = next(s for s in GPU_QUOTAS if s.code == "L-DB2E81BA")
    assert compare_quota(spec, 256, 256.0, "us-east-1").status is Status.PASS
    short = compare_quota(spec, 256, 64.0, "us-east-1")
    assert short.status is Status.FAIL
    assert short.detail == "64 vCPUs < 256 needed at max size"
    assert "--quota-code L-DB2E81BA --desired-value 256 --region us-east-1" in short.fix
    unknown = compare_quota(spec, 256, None, "us-east-1")
    assert unknown.status is Status.UNKNOWN


class _Quotas:
    """A service-quotas client that answers fixed values (the endpoint seam)."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def get_service_quota(self, ServiceCode: str, QuotaCode: str) -> dict[str, Any]:  # noqa: N803
        assert ServiceCode == "ec2"
        return {"Quota": {"QuotaCode": QuotaCode, "Value": self.values[QuotaCode]}}


class _SeamAws(Aws):
    def __init__(self, quotas: _Quotas) -> None:
        super().__init__(region="us-east-1")
        self._clients["service-quotas"] = quotas


def test_quota_that_does_not_cover_the_pools_fails():
    loaded = load_stack_config("prod")
    config = environment_from_config(loaded.values, "prod")
    aws = _SeamAws(_Quotas({"L-DB2E81BA": 128.0, "L-7212CCBC": 384.0}))
    checks = {c.name.split()[1]: c for c in Preflight(aws, config, Reporter()).quotas()}
    assert checks["L-DB2E81BA"].status is Status.FAIL
    assert checks["L-DB2E81BA"].detail == "128 vCPUs < 256 needed at max size"
    assert checks["L-7212CCBC"].status is Status.PASS


def test_version_check():
    assert check_version("1.34").status is Status.PASS
    old = check_version("1.29")
    assert old.status is Status.FAIL
    assert "mlops:cluster.version" in old.fix


# --- bad input ---------------------------------------------------------------------------


def test_unknown_stack_is_a_clear_error(moto_endpoint, run_cli):
    code, out, err = run_cli(main, "--stack", "staging")
    assert code == 2
    assert out == ""
    assert "no stack file for stack 'staging'" in err
    assert "stacks: dev, prod, test" in err


def test_bad_stack_configuration_is_a_clear_error(moto_endpoint, run_cli, stack_file):
    path = stack_file(**{"mlops:logRetentionDays": 8})
    code, _, err = run_cli(main, "--stack", "dev", "--stack-file", str(path))
    assert code == 2
    assert "mlops:logRetentionDays = 8" in err


def test_unreachable_endpoint_is_one_clear_line(closed_endpoint, run_script):
    result = run_script("scripts.preflight", "--stack", "dev")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot reach {closed_endpoint}/ (retries exhausted): check AWS_ENDPOINT_URL"
    )
