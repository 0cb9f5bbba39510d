"""The shared session: retry config from the standard env, one-line AWS errors, no traceback."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from scripts import bootstrap_backend
from scripts.aws_session import (
    EXIT_AWS,
    EXIT_INPUT,
    UserError,
    describe_aws_error,
    retry_config,
    run,
)


def _client_error(code: str, operation: str = "HeadBucket", status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


def test_retry_config_is_standard_mode_with_env_attempts(monkeypatch):
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "7")
    config = retry_config()
    assert vars(config)["retries"] == {"mode": "standard", "max_attempts": 7}
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "not-a-number")
    assert vars(retry_config())["retries"] == {"mode": "standard", "max_attempts": 5}


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (NoCredentialsError(), "no usable AWS credentials"),
        (NoRegionError(), "no AWS region: pass --region or set AWS_REGION"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
            "cannot reach http://127.0.0.1:9 (retries exhausted)",
        ),
        (
            _client_error("AccessDenied", status=403),
            "access denied on HeadBucket: AccessDenied happened",
        ),
        (_client_error("UnauthorizedOperation", "DescribeVpcs"), "access denied on DescribeVpcs"),
        (_client_error("ExpiredToken"), "AWS rejected the credentials on HeadBucket"),
        (_client_error("AuthorizationHeaderMalformed"), "wrong region for HeadBucket"),
        (_client_error("ThrottlingException"), "kept throttling HeadBucket after all retries"),
    ],
)
def test_aws_errors_become_one_clear_line(exc, expected):
    message = describe_aws_error(exc)
    assert message is not None
    assert expected in message
    assert "\n" not in message


def test_run_prints_one_line_and_exits_non_zero(capsys):
    def denied() -> int:
        raise _client_error("AccessDenied", status=403)

    assert run(denied) == EXIT_AWS
    err = capsys.readouterr().err
    assert err.startswith("error: access denied on HeadBucket")
    assert len(err.strip().splitlines()) == 1

    def bad_input() -> int:
        raise UserError("the stack file is broken")

    assert run(bad_input) == EXIT_INPUT
    assert capsys.readouterr().err == "error: the stack file is broken\n"

    def bug() -> int:
        raise KeyError("surprise")

    assert run(bug) == EXIT_AWS
    err = capsys.readouterr().err
    assert "unexpected failure: KeyError" in err and "Traceback" not in err


def test_missing_credentials_against_the_endpoint(moto_endpoint, run_cli, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, out, err = run_cli(bootstrap_backend.main, "--region", "us-east-1")
    assert code == EXIT_AWS
    assert out == ""
    assert err.strip().splitlines()[-1].startswith("error: no usable AWS credentials")
