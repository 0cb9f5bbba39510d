"""The serving domain: what runs models on the cluster (KEDA, model endpoints)."""

from .keda import Keda, KedaArgs
from .model_endpoint import (
    ActiveHours,
    EndpointIngress,
    EndpointSlo,
    MlflowModelSource,
    ModelEndpoint,
    ModelEndpointArgs,
    S3ModelSource,
    ServerKind,
    ServerSpec,
)

__all__ = [
    "ActiveHours",
    "EndpointIngress",
    "EndpointSlo",
    "Keda",
    "KedaArgs",
    "MlflowModelSource",
    "ModelEndpoint",
    "ModelEndpointArgs",
    "S3ModelSource",
    "ServerKind",
    "ServerSpec",
]
