"""Where a model endpoint's weights come from: a prefix of the artifact store
(:class:`S3ModelSource`) or a registered MLflow model version (:class:`MlflowModelSource`),
each resolved to the ``(bucket, prefix)`` the weights are synced from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from ..core.checks import int_between
from ..core.validation import Invalid
from ..storage.artifact_store import KEY_PREFIX

_MLFLOW_NAME = re.compile(r"^[^/\s][^\n]{0,255}$")
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>.+/)$")
_MLFLOW_ARTIFACTS = re.compile(r"^mlflow-artifacts:/+(?P<path>.+/)$")


@dataclass(frozen=True)
class S3ModelSource:
    """Model weights under a prefix of an artifact bucket (the platform's ``models`` bucket)."""

    bucket_name: pulumi.Input[str]
    """The bucket (platform output ``artifactBuckets["models"]``)."""
    prefix: str
    """Key prefix of the model, ending in ``/`` (e.g. ``team-a/llama-3-8b/v3/``)."""
    kms_key_arn: pulumi.Input[str]
    """The bucket's KMS key (platform output ``artifactKmsKeyArn``)."""


@dataclass(frozen=True)
class MlflowModelSource:
    """A registered MLflow model version, served from its artifacts in S3."""

    name: str
    """Registered model name."""
    version: int
    """Model version."""
    artifact_location: str
    """Where the version's artifacts are, as MLflow reports it
    (``MlflowClient().get_model_version_download_uri(name, version)``): ``mlflow-artifacts:/...``
    (the platform's proxied artifact store) or ``s3://bucket/prefix/``."""
    artifact_root: pulumi.Input[str]
    """The platform's MLflow artifact root, ``s3://<bucket>/<prefix>`` (platform output
    ``mlflowArtifactUri``); resolves ``mlflow-artifacts:/`` locations."""
    kms_key_arn: pulumi.Input[str]
    """The bucket's KMS key (platform output ``artifactKmsKeyArn``)."""


def source_problems(model: Any) -> list[Invalid]:
    """What is wrong with ``model`` (named ``model.<field>``)."""
    if isinstance(model, S3ModelSource):
        if (
            not isinstance(model.prefix, str)
            or not model.prefix
            or not KEY_PREFIX.fullmatch(model.prefix)
        ):
            return [
                Invalid(
                    "model.prefix",
                    model.prefix,
                    "a non-empty key prefix ending in '/', e.g. team-a/llama-3-8b/v3/",
                )
            ]
        return []
    if isinstance(model, MlflowModelSource):
        problems = []
        if not isinstance(model.name, str) or not _MLFLOW_NAME.match(model.name):
            problems.append(Invalid("model.name", model.name, "a registered model name"))
        if not int_between(model.version, 1, 10**9):
            problems.append(Invalid("model.version", model.version, "a version number >= 1"))
        location = model.artifact_location
        if not isinstance(location, str) or not (
            _S3_URI.match(location) or _MLFLOW_ARTIFACTS.match(location)
        ):
            problems.append(
                Invalid(
                    "model.artifact_location",
                    location,
                    "mlflow-artifacts:/<path>/ or s3://<bucket>/<prefix>/ (ending in '/'); "
                    "resolve models:/ and runs:/ URIs with "
                    "MlflowClient().get_model_version_download_uri(name, version)",
                )
            )
        return problems
    return [Invalid("model", model, "an S3ModelSource or an MlflowModelSource")]


def resolve_model_uri(model: S3ModelSource | MlflowModelSource) -> pulumi.Output[tuple[str, str]]:
    """(bucket, prefix) of the model's artifacts."""
    if isinstance(model, S3ModelSource):
        return pulumi.Output.all(model.bucket_name, model.prefix).apply(lambda v: (v[0], v[1]))
    location = model.artifact_location
    direct = _S3_URI.match(location)
    if direct is not None:
        return pulumi.Output.from_input((direct.group("bucket"), direct.group("prefix")))
    path = _MLFLOW_ARTIFACTS.match(location)
    assert path is not None  # validated
    relative = path.group("path")

    def join(root: str) -> tuple[str, str]:
        match = re.match(r"^s3://(?P<bucket>[^/]+)/?(?P<prefix>.*)$", root)
        if match is None:
            raise pulumi.RunError(
                f"MlflowModelSource.artifact_root {root!r} is not an s3://bucket/prefix URI"
            )
        base = match.group("prefix").strip("/")
        return match.group("bucket"), f"{base}/{relative}" if base else relative

    return pulumi.Output.from_input(model.artifact_root).apply(join)
