"""Compliant and non-compliant cases of the serving rules (policy/rules/serving.py); appended to
the pack-wide case list in cases.py and used by test_serving_rules.py."""

from __future__ import annotations

from typing import Any

from scripts.offline import Registration
from tests.policy.builders import DEPLOYMENT, container, deployment, res, urn

PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
ACCOUNT = "222222222222"
"""The account of the environment-independent cases (the test environment's)."""
LABELS = {"mlops/model-endpoint": "chat", "mlops/workload": "serving"}
PROBES = {
    "startupProbe": {"httpGet": {"path": "/health", "port": "http"}, "failureThreshold": 180},
    "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}},
    "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}},
}


def image(account: str = ACCOUNT) -> str:
    """A digest-pinned image in ``account``'s ECR."""
    return f"{account}.dkr.ecr.us-east-1.amazonaws.com/mlops-serving@sha256:{'a' * 64}"


def endpoint(account: str = ACCOUNT, **pod: Any) -> dict[str, Any]:
    """Compliant endpoint Deployment inputs; ``pod`` entries go into the pod spec."""
    server = container(image=image(account), **PROBES)
    sync = container(name="model-sync", image=image(account))
    for probe in ("livenessProbe", "readinessProbe"):
        sync.pop(probe)
    inputs = deployment([server], replicas=2, labels=LABELS, initContainers=[sync], **pod)
    inputs["metadata"]["name"] = "chat"
    return inputs


def pdb() -> Registration:
    """The endpoint's PodDisruptionBudget."""
    return res(
        PDB,
        "chat-pdb",
        {
            "metadata": {"namespace": "serving"},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": LABELS}},
        },
    )


def scaled_object(minimum: int) -> Registration:
    """A KEDA ScaledObject for the endpoint with ``minReplicaCount`` ``minimum``."""
    return res(
        SCALED_OBJECT,
        "chat-scaled-object",
        {
            "metadata": {"name": "chat", "namespace": "serving"},
            "spec": {"scaleTargetRef": {"name": "chat"}, "minReplicaCount": minimum},
        },
    )


def good(account: str = ACCOUNT) -> list[Registration]:
    """A complete endpoint whose images come from ``account``."""
    return [res(DEPLOYMENT, "chat", endpoint(account)), pdb(), scaled_object(2)]


def serving_cases(case: Any, accounts: dict[str, str]) -> list[Any]:
    """The cases, built with cases.py's ``Case`` and per-environment ``accounts`` (passed in:
    no import cycle)."""
    target = urn(DEPLOYMENT, "chat")
    by_env = {env: good(account) for env, account in accounts.items()}
    probes = {k: v for k, v in PROBES.items() if k != "startupProbe"}
    no_startup = container(image=image(), **probes)
    tagged = container(image=f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/serving:v1", **PROBES)
    host = endpoint(hostNetwork=True, volumes=[{"name": "models", "hostPath": {"path": "/data"}}])
    return [
        case(
            "endpoint-probes",
            [res(DEPLOYMENT, "chat", deployment([no_startup], labels=LABELS))],
            good(),
            target,
            good_by_env=by_env,
        ),
        case(
            "endpoint-image-digest-pinned",
            [res(DEPLOYMENT, "chat", deployment([tagged], labels=LABELS))],
            good(),
            target,
            good_by_env=by_env,
        ),
        case(
            "endpoint-no-host-access",
            [res(DEPLOYMENT, "chat", host)],
            good(),
            target,
            good_by_env=by_env,
        ),
        case(
            "endpoint-has-pdb",
            [res(DEPLOYMENT, "chat", endpoint()), scaled_object(2)],
            good(),
            target,
            good_by_env=by_env,
        ),
        case(
            "endpoint-min-replicas",
            [res(DEPLOYMENT, "chat", endpoint()), pdb(), scaled_object(0)],
            good(),
            urn(SCALED_OBJECT, "chat-scaled-object"),
            envs=("test", "prod"),
            good_by_env=by_env,
        ),
    ]
