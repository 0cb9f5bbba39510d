"""The serving rules through the real analyzer protocol, on the example team project's real
offline preview: it is clean, and each mutation that removes a protection is flagged."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from scripts.offline.engine import Recording, Registration
from scripts.offline.team import synthesize_project
from scripts.policy_docs import load_pack
from scripts.policy_runner import Analyzer, evaluate
from tests.conftest import REPO_ROOT
from tests.policy.builders import DEPLOYMENT

EXAMPLE = REPO_ROOT / "docs" / "examples" / "team-serving"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
PACK = load_pack()


@pytest.fixture(scope="module")
def example() -> Recording:
    team, _ = synthesize_project(EXAMPLE, "dev")
    return team


def _findings(doc: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule"] == rule and f["kind"] == "violation"]


def _with_pod(recording: Recording, change: Any) -> Recording:
    """``recording`` with the endpoint Deployment's pod spec (wire form) changed by ``change``."""
    target = recording.one(DEPLOYMENT)
    request = copy.deepcopy(target.raw)
    change(request["object"]["spec"]["template"]["spec"])
    changed = Registration.from_request(request, target.urn, target.id)
    return dataclasses.replace(
        recording, resources=[changed if r.urn == target.urn else r for r in recording.resources]
    )


def test_example_previews_clean_under_the_pack(example: Recording, analyzer: Analyzer) -> None:
    doc = evaluate(example, "dev", analyzer=analyzer)
    assert doc["mandatoryViolations"] == 0, doc["findings"]
    serving = [f for f in doc["findings"] if f["rule"].startswith("endpoint-")]
    assert serving == []


def _drop_startup_probe(pod: dict[str, Any]) -> None:
    del pod["containers"][0]["startupProbe"]


def _tag_instead_of_digest(pod: dict[str, Any]) -> None:
    server = pod["containers"][0]
    server["image"] = server["image"].split("@")[0] + ":v1"


def _host_path(pod: dict[str, Any]) -> None:
    pod["volumes"].append({"name": "host", "hostPath": {"path": "/var/lib"}})


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (_drop_startup_probe, "endpoint-probes"),
        (_tag_instead_of_digest, "endpoint-image-digest-pinned"),
        (_host_path, "endpoint-no-host-access"),
    ],
)
def test_a_mutation_removing_a_protection_is_flagged(
    example: Recording, analyzer: Analyzer, mutate: Any, rule: str
) -> None:
    doc = evaluate(_with_pod(example, mutate), "dev", analyzer=analyzer)
    hits = _findings(doc, rule)
    assert hits and {f["urn"] for f in hits} == {example.one(DEPLOYMENT).urn}


def test_removing_the_pdb_is_flagged(example: Recording, analyzer: Analyzer) -> None:
    without = dataclasses.replace(
        example, resources=[r for r in example.resources if r.type != PDB]
    )
    doc = evaluate(without, "dev", analyzer=analyzer)
    assert [f["urn"] for f in _findings(doc, "endpoint-has-pdb")] == [example.one(DEPLOYMENT).urn]


def test_scale_to_zero_is_dev_only(example: Recording, analyzer: Analyzer) -> None:
    # The example scales to zero in dev; the same endpoint in prod's config is refused.
    doc = evaluate(example, "prod", analyzer=analyzer)
    hits = _findings(doc, "endpoint-min-replicas")
    assert hits and {f["enforcement"] for f in hits} == {"mandatory"}


@pytest.mark.parametrize(
    "rule", ["endpoint-probes", "endpoint-image-digest-pinned", "endpoint-has-pdb"]
)
def test_protections_are_mandatory_outside_dev(rule: str) -> None:
    severity = next(r.severity for r in PACK.ALL_RULES if r.name == rule)
    assert PACK.rule.enforcement_for(severity, "test") == "mandatory"
    assert PACK.rule.enforcement_for(severity, "prod") == "mandatory"


def test_the_example_endpoint_is_complete(example: Recording) -> None:
    deployment = example.one(DEPLOYMENT).inputs
    pod = deployment["spec"]["template"]["spec"]
    server = pod["containers"][0]
    assert server["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert "@sha256:" in server["image"] and "@sha256:" in pod["initContainers"][0]["image"]
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(server)
    example.one(PDB)
    scaled = example.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]
    assert scaled["triggers"][0]["type"] == "prometheus"
    assert "vllm:num_requests_waiting" in scaled["triggers"][0]["metadata"]["query"]
    example.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    rules = example.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs["spec"]
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    assert set(alerts) == {
        "ModelEndpointLatencyHigh",
        "ModelEndpointErrorRateHigh",
        "ModelEndpointSaturated",
    }
    for alert in alerts.values():
        runbook = alert["annotations"]["runbook_url"]
        assert (REPO_ROOT / runbook).is_file(), runbook


def test_the_stack_reference_is_answered_from_the_platform_preview(example: Recording) -> None:
    # The model prefix lives in the platform's models bucket, in the platform's account.
    assert example.outputs["modelUri"] == (
        "s3://mlops-dev-models-111111111111/teams/recsys/llama-3-1-8b-instruct/v1/"
    )
    assert example.outputs["profile"] == "dev"
