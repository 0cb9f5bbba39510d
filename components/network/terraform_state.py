"""Read the outputs of a Terraform state, so a Terraform-managed landing zone can feed Pulumi.

A state is read from a local ``terraform.tfstate`` path or from ``s3://bucket/key`` (the
Terraform S3 backend's object). S3 is read with boto3 and the standard AWS environment:
credentials, region and endpoint (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``) come from
the usual variables and profiles, so any S3-compatible endpoint works.

Only state format version 4 (written by Terraform 0.12 and later, and by OpenTofu) is
understood; anything else fails with a message saying so. Outputs marked ``sensitive`` in
the state become Pulumi secrets when turned into :class:`pulumi.Output` values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

SUPPORTED_STATE_VERSIONS: tuple[int, ...] = (4,)
"""State format versions this module reads (4: Terraform 0.12+ and OpenTofu)."""

DEFAULT_OUTPUT_NAMES: dict[str, str] = {
    "vpc_id": "vpc_id",
    "vpc_cidr": "vpc_cidr_block",
    "private_subnet_ids": "private_subnets",
}
"""Default mapping from network values to Terraform output names: the required ones only.

The names are those of the widely used community VPC module, so a state written by it
needs no mapping; any other state maps its own output names in configuration. Optional
values (public and pod subnets) are read only when mapped.
"""

S3_SCHEME = "s3://"


class TerraformStateError(pulumi.RunError):
    """A Terraform state could not be used; the message says which and why."""


class UnreadableStateError(TerraformStateError):
    """The state file or object could not be read or is not a Terraform state."""


class UnsupportedStateVersionError(TerraformStateError):
    """The state is in a format version this module does not read."""


class MissingOutputError(TerraformStateError):
    """One or more mapped outputs are not in the state."""

    def __init__(self, source: str, missing: Mapping[str, str], available: list[str]) -> None:
        self.source = source
        self.missing = dict(missing)
        self.available = available
        wanted = ", ".join(f"'{out}' (for {key})" for key, out in missing.items())
        have = ", ".join(available) if available else "none"
        super().__init__(
            f"Terraform state {source} has no output {wanted}; outputs in the state: {have}"
        )


@dataclass(frozen=True)
class StateOutput:
    """One root-module output of a Terraform state."""

    name: str
    value: Any
    sensitive: bool = False
    type: Any = None

    def to_output(self) -> pulumi.Output[Any]:
        """The value as a Pulumi output; a secret when Terraform marked it sensitive."""
        if self.sensitive:
            return pulumi.Output.secret(self.value)
        return pulumi.Output.from_input(self.value)


@dataclass(frozen=True)
class TerraformState:
    """The parts of a Terraform state this module reads."""

    source: str
    version: int
    terraform_version: str
    serial: int
    lineage: str
    outputs: dict[str, StateOutput] = field(default_factory=dict)

    def output(self, name: str) -> StateOutput:
        """The output ``name``; :class:`MissingOutputError` lists what the state has."""
        return self.select({name: name})[name]

    def select(self, mapping: Mapping[str, str]) -> dict[str, StateOutput]:
        """``{key: output}`` for each ``key -> Terraform output name`` in ``mapping``.

        Every missing output is reported at once, together with the outputs the state has.
        """
        missing = {key: name for key, name in mapping.items() if name not in self.outputs}
        if missing:
            raise MissingOutputError(self.source, missing, sorted(self.outputs))
        return {key: self.outputs[name] for key, name in mapping.items()}


def read_state(source: str, *, region: str | None = None) -> TerraformState:
    """Read and parse the state at ``source``: a local path or ``s3://bucket/key``.

    ``region`` is the S3 bucket's region; by default boto3's (``AWS_REGION`` and profiles).
    """
    if source.startswith(S3_SCHEME):
        text = _read_s3(source, region)
    else:
        try:
            text = Path(source).read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise UnreadableStateError(f"cannot read Terraform state {source}: {reason}") from None
    return parse_state(text, source)


def parse_state(text: str | bytes, source: str) -> TerraformState:
    """Parse a state document read from ``source`` (used in messages)."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableStateError(
            f"Terraform state {source} is not JSON ({exc}); an encrypted state must be "
            "decrypted first"
        ) from None
    if isinstance(document, dict) and "encryption_version" in document:
        raise UnreadableStateError(
            f"Terraform state {source} is encrypted (OpenTofu state encryption, "
            f"{document.get('encryption_version')}); the platform cannot decrypt it. Either "
            "reference a decrypted copy (`tofu state pull > network.tfstate`, run where the "
            "key provider is configured, prints the state decrypted; keep that file private), "
            "or give the VPC and subnet IDs directly (vpcId, vpcCidr, privateSubnetIds under "
            "existing)"
        )
    if not isinstance(document, dict) or "version" not in document:
        raise UnreadableStateError(
            f"{source} is not a Terraform state: expected a JSON object with a 'version' key"
        )
    version = document["version"]
    if version not in SUPPORTED_STATE_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_STATE_VERSIONS)
        raise UnsupportedStateVersionError(
            f"Terraform state {source} has format version {version!r}; supported: {supported} "
            "(written by Terraform 0.12 and later, and OpenTofu). Run `terraform apply` with "
            "a current Terraform to upgrade the state."
        )
    raw_outputs = document.get("outputs") or {}
    if not isinstance(raw_outputs, dict):
        raise UnreadableStateError(f"Terraform state {source} has a malformed 'outputs' object")
    outputs = {}
    for name, body in raw_outputs.items():
        if not isinstance(body, dict) or "value" not in body:
            raise UnreadableStateError(
                f"Terraform state {source} has a malformed output '{name}' (no 'value')"
            )
        outputs[name] = StateOutput(
            name=name,
            value=body["value"],
            sensitive=bool(body.get("sensitive", False)),
            type=body.get("type"),
        )
    return TerraformState(
        source=source,
        version=int(version),
        terraform_version=str(document.get("terraform_version", "")),
        serial=int(document.get("serial", 0)),
        lineage=str(document.get("lineage", "")),
        outputs=outputs,
    )


def split_s3_url(source: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``; :class:`UnreadableStateError` if malformed."""
    bucket, _, key = source.removeprefix(S3_SCHEME).partition("/")
    if not bucket or not key:
        raise UnreadableStateError(
            f"{source} is not an S3 state location; expected s3://<bucket>/<key>"
        )
    return bucket, key


def _read_s3(source: str, region: str | None) -> bytes:
    from boto3.session import Session  # noqa: PLC0415 (only S3 sources need boto3)
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    bucket, key = split_s3_url(source)
    try:
        client = Session().client("s3", region_name=region)
        response = client.get_object(Bucket=bucket, Key=key)
        return response["Body"].read()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        message = error.get("Message") or str(exc)
        raise UnreadableStateError(
            f"cannot read Terraform state {source}: {code}: {message}"
        ) from None
    except BotoCoreError as exc:
        raise UnreadableStateError(f"cannot read Terraform state {source}: {exc}") from None
