"""What every operator CLI shares: boto3 clients, retries, output and clear AWS errors.

* Clients retry throttling and transient faults with botocore's ``standard`` retry mode
  (exponential backoff with jitter). ``AWS_MAX_ATTEMPTS`` and ``AWS_RETRY_MODE`` from the
  standard AWS environment tune it; the default is 5 attempts.
* The endpoint comes from the standard AWS environment as well: ``AWS_ENDPOINT_URL`` (or a
  per-service ``AWS_ENDPOINT_URL_<SERVICE>``) points every client elsewhere, e.g. at a local
  emulator. Nothing here hard-codes an endpoint.
* :func:`run` wraps a CLI's body and turns the usual AWS failures (no credentials, an
  endpoint that cannot be reached, access denied, a wrong or missing region, bad input
  files) into one line on stderr and a non-zero exit code, never a traceback.
* :class:`Reporter` keeps stdout for the result (a table, or JSON with ``--json``) and
  writes progress lines to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    UnknownRegionError,
)

from scripts.cli import EXIT_ERROR, EXIT_INPUT, command_parser

EXIT_AWS = EXIT_ERROR
"""AWS could not be asked: credentials, endpoint, permissions or region. (Input AWS itself
rejects as invalid, :data:`VALIDATION_CODES`, is bad input: ``EXIT_INPUT``.)"""

DEFAULT_MAX_ATTEMPTS = 5
"""Attempts per API call (first try included) unless ``AWS_MAX_ATTEMPTS`` says otherwise."""

ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "AuthorizationError",
    "Forbidden",
    "403",
}
VALIDATION_CODES = {
    "ValidationException",
    "ValidationError",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidParameterException",
    "InvalidParameterCombination",
    "InvalidArgument",
    "InvalidBucketName",
    "InvalidAliasNameException",
    "MalformedPolicyDocumentException",
    "InvalidTagException",
    "TagException",
}
"""Error codes with which AWS rejects the request's input (4xx): bad input, exit 2."""
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthFailure",
    "InvalidAccessKeyId",
    "IncompleteSignature",
}
_WRONG_REGION = {
    "AuthorizationHeaderMalformed",
    "PermanentRedirect",
    "IllegalLocationConstraintException",
    "InvalidRegion",
    "OptInRequired",
}


class UserError(Exception):
    """A problem the operator can fix; its message is printed alone (exit code attached)."""

    def __init__(self, message: str, exit_code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def retry_config() -> Config:
    """Botocore client config: standard retries with backoff, bounded timeouts."""
    raw = os.environ.get("AWS_MAX_ATTEMPTS", "")
    attempts = int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_ATTEMPTS
    mode = os.environ.get("AWS_RETRY_MODE", "standard")
    if mode not in {"standard", "adaptive", "legacy"}:
        mode = "standard"
    return Config(
        retries={"mode": mode, "max_attempts": attempts},
        connect_timeout=10,
        read_timeout=60,
    )


@dataclass
class Aws:
    """A boto3 session for one region, handing out retrying clients (cached per service)."""

    region: str | None = None
    profile: str | None = None
    _session: boto3.Session | None = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def session(self) -> boto3.Session:
        """The underlying boto3 session (created on first use)."""
        if self._session is None:
            self._session = boto3.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    def client(self, service: str) -> Any:
        """A client for ``service`` in this session's region, with the retry config."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service, config=retry_config())
        return self._clients[service]

    @property
    def region_name(self) -> str:
        """The effective region (raises the botocore error when none is configured)."""
        name = self.session.region_name
        if not name:
            raise NoRegionError
        return name

    def account_id(self) -> str:
        """The caller's AWS account ID (STS GetCallerIdentity)."""
        return str(self.client("sts").get_caller_identity()["Account"])


def paginate(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Each item listed under ``key`` on each page of a paginated call (``operation`` as the
    client's method name, e.g. ``describe_load_balancers``), fetching pages as they are read."""
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def error_code(exc: ClientError) -> str:
    """The AWS error code of a client error ('' when absent)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status(exc: ClientError) -> int:
    """The HTTP status of a client error (0 when absent)."""
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def bucket_missing(exc: ClientError) -> bool:
    """Whether an S3 error (HeadBucket's bare 404 included) says the bucket does not exist."""
    return http_status(exc) == 404 or error_code(exc) in {"404", "NoSuchBucket", "NotFound"}


def describe_aws_error(exc: BaseException) -> str | None:  # noqa: PLR0911 - one case each
    """One line that tells the operator what went wrong and what to do, or None."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return (
            "no usable AWS credentials: set AWS_PROFILE (then `aws sso login` if it is an SSO "
            "profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and try again"
        )
    if isinstance(exc, ProfileNotFound):
        return f"{exc}: check AWS_PROFILE / --profile against your AWS config file"
    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region or set AWS_REGION (the stack's aws:region)"
    if isinstance(exc, InvalidRegionError | UnknownRegionError):
        return f"{exc}: use a region name such as us-east-1"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        where = getattr(exc, "kwargs", {}).get("endpoint_url") or endpoint or "the AWS endpoint"
        hint = "check AWS_ENDPOINT_URL" if endpoint else "check the region name and your network"
        return f"cannot reach {where} (retries exhausted): {hint}"
    if isinstance(exc, ClientError):
        code = error_code(exc)
        operation = getattr(exc, "operation_name", "the call")
        message = exc.response.get("Error", {}).get("Message", "") or code
        if code in ACCESS_DENIED_CODES:
            return (
                f"access denied on {operation}: {message}. The identity in use lacks this "
                "permission; use a role that has it (see docs/operations.md)"
            )
        if code in _BAD_CREDENTIALS:
            return (
                f"AWS rejected the credentials on {operation} ({code}): refresh them "
                "(e.g. `aws sso login`) or check the account and the region"
            )
        if code in _WRONG_REGION:
            return (
                f"wrong region for {operation} ({code}): {message}. Use the region the "
                "resource lives in (the stack's aws:region)"
            )
        if code in {"Throttling", "ThrottlingException", "RequestLimitExceeded", "SlowDown"}:
            return f"AWS kept throttling {operation} after all retries; wait and run again"
        return None
    return None


def run(body: Callable[[], int]) -> int:  # noqa: PLR0911 - one exit per kind of failure
    """Run a CLI body; expected failures become one line on stderr and an exit code."""
    try:
        return body()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, ClientError) and error_code(exc) in VALIDATION_CODES:
            message = exc.response.get("Error", {}).get("Message", "") or error_code(exc)
            print(
                f"error: AWS rejected the input of {exc.operation_name} ({error_code(exc)}): "
                f"{message}. Check the names and values given",
                file=sys.stderr,
            )
            return EXIT_INPUT
        described = describe_aws_error(exc)
        if described is not None:
            print(f"error: {described}", file=sys.stderr)
            return EXIT_AWS
        if isinstance(exc, ClientError):
            print(f"error: AWS refused {exc.operation_name}: {exc}", file=sys.stderr)
            return EXIT_AWS
        if os.environ.get("MLOPS_DEBUG"):
            raise
        print(
            f"error: unexpected failure: {type(exc).__name__}: {exc} "
            "(set MLOPS_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_AWS


class Reporter:
    """Progress lines on stderr; the result on stdout as text or JSON."""

    def __init__(
        self, *, as_json: bool = False, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.as_json = as_json
        self._out = out
        self._err = err

    @property
    def out(self) -> TextIO:
        """Where results go (stdout unless given)."""
        return self._out or sys.stdout

    @property
    def err(self) -> TextIO:
        """Where progress goes (stderr unless given)."""
        return self._err or sys.stderr

    def progress(self, message: str) -> None:
        """One progress line on stderr."""
        print(f"... {message}", file=self.err, flush=True)

    def result(self, document: dict[str, Any], text: str) -> None:
        """The final result: JSON document with ``--json``, else the text."""
        if self.as_json:
            self.out.write(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
        else:
            self.out.write(text.rstrip("\n") + "\n")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with aligned columns."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    return "\n".join(lines)


def load_stack(stack: str, stack_file: str | Path | None = None) -> Any:
    """The stack's validated :class:`EnvironmentConfig`, through the project's real loader.

    Unknown stacks and bad configuration become a :class:`UserError` (exit 2).
    """
    from mlops_platform.config import ConfigError, environment_from_config  # noqa: PLC0415

    from scripts.offline.project import StackFileError, load_stack_config  # noqa: PLC0415

    try:
        loaded = load_stack_config(stack, path=Path(stack_file) if stack_file else None)
        return environment_from_config(loaded.values, stack)
    except (StackFileError, ConfigError) as exc:
        raise UserError(str(exc)) from None


def aws_parser(
    module: str, doc: str | None, *, stack: str | None = None
) -> argparse.ArgumentParser:
    """:func:`scripts.cli.command_parser` with the options of a tool that asks AWS:
    ``--profile`` and ``--json`` (for :func:`open_stack`, or :class:`Aws` and
    :class:`Reporter`)."""
    parser = command_parser(module, doc, stack=stack)
    shared = parser.add_argument_group("AWS and output")
    shared.add_argument("--profile", help="AWS profile to use (default: AWS_PROFILE)")
    shared.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def open_stack(args: argparse.Namespace) -> tuple[Any, Aws, Reporter]:
    """What a tool that checks one stack in AWS works with, from the options of
    :func:`aws_parser`: the stack's validated configuration (bad input: :class:`UserError`),
    an AWS session in the stack's region, and the reporter. Nothing is asked of AWS yet."""
    config = load_stack(args.stack, args.stack_file)
    return config, Aws(region=config.region, profile=args.profile), Reporter(as_json=args.json)


def read_json_input(source: str) -> Any:
    """JSON from a file path, or from stdin when ``source`` is ``-``."""
    where = "standard input" if source == "-" else source
    if source == "-" and sys.stdin.isatty():
        raise UserError(
            "no outputs given: pass --outputs FILE, or pipe "
            "`pulumi stack output --json --show-secrets` into this command"
        )
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {where}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UserError(
            f"{where} is not valid JSON ({exc}); write it with "
            "`pulumi stack output --json --show-secrets > outputs.json`"
        ) from None
