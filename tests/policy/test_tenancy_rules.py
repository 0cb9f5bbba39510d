"""The tenancy rules on the real stacks: every shipped stack previews the load balancer
controller and an example tenant that pass them, and a copy of prod with one protection
removed fails the runner naming the rule. (The per-rule compliant and non-compliant cases
are in tenancy_cases.py and run through test_rules.py with every other rule's.)"""

from __future__ import annotations

import dataclasses
import json

import pytest

from scripts.offline import Recording, Registration
from scripts.policy_runner import EXIT_OK, EXIT_POLICY, evaluate, run_recording, with_changes
from tests.policy.builders import DEPLOYMENT
from tests.policy.tenancy_cases import gpu_deployment

STACKS = ("dev", "test", "prod")
TENANCY_RULES = {
    "k8s-gpu-workloads-need-gpu-quota",
    "k8s-no-internet-facing-load-balancers",
    "k8s-tenant-default-deny-network-policy",
    "eks-tenant-access-namespace-scoped",
}
NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
QUOTA = "kubernetes:core/v1:ResourceQuota"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"


@pytest.fixture(scope="module")
def recordings(synthesized) -> dict[str, Recording]:
    return {stack: synthesized(stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_previews_the_controller_and_an_example_tenant(stack, recordings):
    rec = recordings[stack]
    [release] = [
        r
        for r in rec.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "aws-load-balancer-controller"
    ]
    assert release.inputs["values"]["replicaCount"] == (1 if stack == "dev" else 2)
    quotas = [q.inputs["spec"]["hard"] for q in rec.of_type(QUOTA)]
    assert any(int(h.get("requests.nvidia.com/gpu", "0")) > 0 for h in quotas)
    deny = [
        p.inputs["spec"] for p in rec.of_type(NP) if p.inputs["metadata"]["name"] == "default-deny"
    ]
    assert deny and deny[0]["policyTypes"] == ["Ingress", "Egress"]
    scopes = [a.inputs["accessScope"] for a in rec.of_type(ASSOCIATION)]
    assert {"type": "namespace", "namespaces": ["recsys"]} in scopes


@pytest.mark.parametrize("stack", STACKS)
def test_tenancy_rules_find_nothing_in_the_shipped_stacks(stack, recordings, analyzer):
    report = evaluate(recordings[stack], stack, analyzer=analyzer)
    names = {p["name"] if isinstance(p, dict) else p for p in report["policies"]}
    assert names >= TENANCY_RULES
    assert [f for f in report["findings"] if f["rule"] in TENANCY_RULES] == []


def _add(recording: Recording, registration: Registration) -> Recording:
    return dataclasses.replace(recording, resources=[*recording.resources, registration])


def _mutations(prod: Recording) -> dict[str, Recording]:
    from tests.policy.builders import res  # noqa: PLC0415

    deny = next(p for p in prod.of_type(NP) if p.inputs["metadata"]["name"] == "default-deny")
    deny_spec = deny.raw["object"]["spec"]
    quota = prod.one(QUOTA, next(q.name for q in prod.of_type(QUOTA) if "recsys" in q.name))
    hard = {
        k: v for k, v in quota.raw["object"]["spec"]["hard"].items() if "nvidia.com/gpu" not in k
    }
    association = next(a for a in prod.of_type(ASSOCIATION) if "recsys" in a.name)
    public = res(
        "kubernetes:core/v1:Service",
        "public-web",
        {
            "metadata": {"name": "web", "namespace": "recsys"},
            "spec": {"type": "LoadBalancer"},
        },
    )
    return {
        "k8s-tenant-default-deny-network-policy": with_changes(
            prod, NP, deny.name, inputs={"spec": {**deny_spec, "policyTypes": ["Ingress"]}}
        ),
        "k8s-gpu-workloads-need-gpu-quota": _add(
            with_changes(prod, QUOTA, quota.name, inputs={"spec": {"hard": hard}}),
            res(DEPLOYMENT, "recsys-llm", gpu_deployment("recsys")),
        ),
        "eks-tenant-access-namespace-scoped": with_changes(
            prod, ASSOCIATION, association.name, inputs={"accessScope": {"type": "cluster"}}
        ),
        "k8s-no-internet-facing-load-balancers": _add(prod, public),
    }


def test_unmutated_prod_passes(recordings, analyzer):
    code, text = run_recording(recordings["prod"], "prod", analyzer=analyzer)
    assert code == EXIT_OK, text


@pytest.mark.parametrize("rule", sorted(TENANCY_RULES))
def test_removing_a_protection_fails_prod_naming_the_rule(rule, recordings, analyzer):
    mutated = _mutations(recordings["prod"])[rule]
    code, text = run_recording(mutated, "prod", "json", analyzer=analyzer)
    assert code == EXIT_POLICY, text
    mandatory = {f["rule"] for f in json.loads(text)["findings"] if f["enforcement"] == "mandatory"}
    assert rule in mandatory, mandatory


# --- TEN-001 across stacks: the platform stack holds the quota, a team stack the workload ---


def test_team_project_in_a_platform_tenant_is_not_flagged(analyzer):
    from scripts.offline.team import synthesize_project  # noqa: PLC0415
    from tests.conftest import REPO_ROOT  # noqa: PLC0415

    team, _ = synthesize_project(REPO_ROOT / "docs" / "examples" / "team-serving", "dev")
    # The team stack holds the GPU Deployment but not the tenant's quota (the platform
    # stack does); gpuQuotaNamespaces carries it, so the dev preview has no finding at all.
    assert team.of_type(QUOTA) == []
    assert evaluate(team, "dev", analyzer=analyzer)["findings"] == []
    for env in STACKS:
        report = evaluate(team, env, analyzer=analyzer)
        assert [f for f in report["findings"] if f["rule"] in TENANCY_RULES] == [], env


def _quota_hits(analyzer, resources, env, config=None):
    from scripts.policy_runner import evaluate_resources  # noqa: PLC0415

    report = evaluate_resources(analyzer, resources, env, config=config)
    return [f for f in report["findings"] if f["rule"] == "k8s-gpu-workloads-need-gpu-quota"]


def test_configured_quota_caps_what_a_pod_may_ask(analyzer):
    from tests.policy.builders import res  # noqa: PLC0415
    from tests.policy.tenancy_cases import KNOWN_TENANT  # noqa: PLC0415

    llm = res(DEPLOYMENT, "llm", gpu_deployment(KNOWN_TENANT, gpus="3"))
    # recsys's quota is 2 GPUs in dev and 8 in prod (stacks/Pulumi.<env>.yaml).
    [hit] = _quota_hits(analyzer, [llm], "dev")
    assert "gpuQuotaNamespaces) is 2: it can never be scheduled" in hit["message"]
    assert _quota_hits(analyzer, [llm], "prod") == []
    # Without the config entry the same workload is flagged: nothing tells its quota.
    config = {"k8s-gpu-workloads-need-gpu-quota": {"gpuQuotaNamespaces": {}}}
    [hit] = _quota_hits(analyzer, [llm], "prod", config=config)
    assert "not in gpuQuotaNamespaces" in hit["message"]
