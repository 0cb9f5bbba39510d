"""Tenant under the mock engine: namespace with Pod Security labels, quota with GPUs,
LimitRange, default-deny NetworkPolicies, the workload role and namespace-scoped access."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi_kubernetes as k8s
import pytest
from mlops_platform.core.labels import TENANT_LABEL
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.serving import Tenant, TenantArgs

from scripts.offline import run_program
from scripts.offline.engine import Recording

ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/mlops-test-eks"
BUCKETS = {
    "models": "arn:aws:s3:::mlops-test-models",
    "datasets": "arn:aws:s3:::mlops-test-datasets",
}
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234"
TEAM_ROLE = f"arn:aws:iam::{ACCOUNT}:role/recsys-test"
NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def run_tenant(**overrides: Any) -> Recording:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = TenantArgs(
            team="recsys",
            owner="recsys-team",
            name_prefix="mlops-test",
            cluster_name="mlops-test-eks",
            cluster_arn=CLUSTER_ARN,
            kubernetes_provider=provider,
            gpus=4,
            artifact_bucket_arns=BUCKETS,
            artifact_kms_key_arn=KEY,
            access_role_arns=[TEAM_ROLE],
            load_balancer_cidrs=["10.20.0.0/16"],
            tags={"owner": "ml-platform-team"},
        )
        Tenant("recsys", dataclasses.replace(args, **overrides))

    return run_program(program, stack="test")


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_tenant()


def _policies(rec: Recording) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in rec.of_type(NP)}


def test_namespace_enforces_restricted_pod_security(rec: Recording):
    labels = rec.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels[TENANT_LABEL] == "recsys"
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_quota_caps_gpus_and_forbids_node_ports(rec: Recording):
    quota = rec.one("kubernetes:core/v1:ResourceQuota").inputs
    assert quota["metadata"]["namespace"] == "recsys"
    hard = quota["spec"]["hard"]
    assert hard["requests.nvidia.com/gpu"] == "4"
    assert hard["services.nodeports"] == "0"
    assert hard["services.loadbalancers"] == "0"
    assert {"requests.cpu", "requests.memory", "limits.memory", "pods"} <= set(hard)
    # A team with no GPUs still gets the key, at zero.
    none = run_tenant(gpus=0).one("kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]
    assert none["requests.nvidia.com/gpu"] == "0"


def test_limit_range_gives_defaults(rec: Recording):
    [item] = rec.one("kubernetes:core/v1:LimitRange").inputs["spec"]["limits"]
    assert item["type"] == "Container"
    assert set(item["default"]) == set(item["defaultRequest"]) == {"cpu", "memory"}


def test_default_deny_then_narrow_allows(rec: Recording):
    policies = _policies(rec)
    deny = policies["default-deny"]
    assert deny["podSelector"] == {}
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny and "egress" not in deny
    dns = policies["allow-dns"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "kube-system"
    }
    scrape = policies["allow-monitoring-scrape"]["ingress"][0]["from"][0]
    assert scrape["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "monitoring"
    assert policies["allow-load-balancers"]["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": "10.20.0.0/16"}}
    ]
    https = policies["allow-aws-apis"]["egress"][1]
    assert https["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]
    assert "allow-same-namespace" in policies


def test_no_load_balancer_policy_without_cidrs():
    assert "allow-load-balancers" not in _policies(run_tenant(load_balancer_cidrs=[]))


def test_workload_role_reaches_only_the_team_prefix_repositories_and_key_via_s3(rec: Recording):
    [policy] = rec.of_type("aws:iam/rolePolicy:RolePolicy")
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["ReadObjectsModels"]["Resource"] == f"{BUCKETS['models']}/teams/recsys/*"
    assert statements["WriteObjectsDatasets"]["Resource"] == f"{BUCKETS['datasets']}/teams/recsys/*"
    assert statements["ListPrefixModels"]["Condition"]["StringLike"]["s3:prefix"] == [
        "teams/recsys/*"
    ]
    kms = statements["UseBucketKeyThroughS3"]
    assert kms["Resource"] == KEY
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    assert not any(
        s.startswith("UseBucketKey") and s != "UseBucketKeyThroughS3" for s in statements
    )
    assert statements["TenantEcrRepositories"]["Resource"] == (
        f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/mlops-test-recsys/*"
    )
    actions = [
        a
        for s in statements.values()
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert "s3:DeleteObjectVersion" not in actions


def test_workload_role_is_bound_to_the_namespace_service_account(rec: Recording):
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("recsys", "workloads")
    sa = rec.one("kubernetes:core/v1:ServiceAccount").inputs
    assert sa["automountServiceAccountToken"] is False


def test_team_roles_get_edit_in_their_namespace_only(rec: Recording):
    entry = rec.one("aws:eks/accessEntry:AccessEntry").inputs
    assert entry["principalArn"] == TEAM_ROLE
    assert entry["type"] == "STANDARD"
    assert "kubernetesGroups" not in entry
    assert entry["tags"]["mlops:tenant"] == "recsys"
    assoc = rec.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation").inputs
    assert assoc["policyArn"].endswith("/AmazonEKSEditPolicy")
    assert assoc["accessScope"] == {"type": "namespace", "namespaces": ["recsys"]}


def test_bad_arguments_are_reported_together():
    with pytest.raises(ComponentInputError) as err:
        run_tenant(
            team="Rec_Sys",
            owner=" ",
            gpus=-1,
            memory="lots",
            namespace="kube-system",
            load_balancer_cidrs=["0.0.0.0/0"],
        )
    text = str(err.value)
    for arg in ("team", "owner", "gpus", "memory", "namespace", "load_balancer_cidrs[0]"):
        assert arg in text
