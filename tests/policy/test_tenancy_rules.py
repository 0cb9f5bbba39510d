"""The tenancy rules on the real stacks: every shipped stack previews the load balancer
controller and an example tenant that pass them, and a copy of prod with one protection
removed fails the runner naming the rule. (The per-rule compliant and non-compliant cases
are in tenancy_cases.py and run through test_rules.py with every other rule's.)"""

from __future__ import annotations

import dataclasses
import json

import pytest

from scripts.offline import Recording, Registration, synthesize
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
def recordings() -> dict[str, Recording]:
    return {stack: synthesize(stack) for stack in STACKS}


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
