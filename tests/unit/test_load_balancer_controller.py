"""LoadBalancerController under the mock engine: pinned chart, IMDS-free values, restricted
security context, PDB, and a Pod Identity role whose policy is upstream's, scoped."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi_kubernetes as k8s
import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.iam.documents import WILDCARD_RESOURCE_EXCEPTIONS
from mlops_platform.serving import LoadBalancerController, LoadBalancerControllerArgs

from scripts.offline import run_program
from scripts.offline.engine import Recording

CLUSTER = "mlops-test-eks"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:123456789012:cluster/{CLUSTER}"
VPC = "vpc-0a1b2c3d4e5f67890"
RELEASE = "kubernetes:helm.sh/v3:Release"


def run_lbc(**overrides: Any) -> Recording:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = LoadBalancerControllerArgs(
            cluster_name=CLUSTER,
            cluster_arn=CLUSTER_ARN,
            vpc_id=VPC,
            kubernetes_provider=provider,
            name_prefix="mlops-test",
            tags={"owner": "ml-platform-team"},
        )
        LoadBalancerController("lbc", dataclasses.replace(args, **overrides))

    return run_program(program, stack="test")


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_lbc()


def _policy(rec: Recording) -> dict[str, Any]:
    [policy] = rec.of_type("aws:iam/rolePolicy:RolePolicy")
    return json.loads(policy.inputs["policy"])


def test_chart_is_pinned_from_the_official_repository(rec: Recording):
    release = rec.one(RELEASE).inputs
    assert release["chart"] == "aws-load-balancer-controller"
    assert release["version"] == "3.5.0"
    assert release["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
    assert release["namespace"] == "kube-system"


def test_values_name_cluster_region_and_vpc_so_no_imds_is_needed(rec: Recording):
    values = rec.one(RELEASE).inputs["values"]
    assert values["clusterName"] == CLUSTER
    assert values["region"] == "us-east-1"
    assert values["vpcId"] == VPC
    assert values["defaultLoadBalancerScheme"] == "internal"
    assert (values["enableShield"], values["enableWaf"], values["enableWafv2"]) == (
        False,
        False,
        False,
    )


def test_restricted_security_context_replicas_and_pdb(rec: Recording):
    values = rec.one(RELEASE).inputs["values"]
    ctx = values["securityContext"]
    assert ctx["runAsNonRoot"] and ctx["readOnlyRootFilesystem"]
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    assert values["replicaCount"] == 2
    assert values["podDisruptionBudget"] == {"maxUnavailable": 1}
    single = run_lbc(replicas=1).one(RELEASE).inputs["values"]
    assert single["podDisruptionBudget"] == {}


def test_pod_identity_role_is_bound_to_the_controller_service_account(rec: Recording):
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert association["namespace"] == "kube-system"
    assert association["serviceAccount"] == "aws-load-balancer-controller"
    assert (
        rec.one(RELEASE).inputs["values"]["serviceAccount"]["name"]
        == "aws-load-balancer-controller"
    )
    release = rec.one(RELEASE)
    assert any("pod-identity" in d for d in release.dependencies)


def test_policy_is_tag_scoped_to_this_cluster(rec: Recording):
    statements = {s["Sid"]: s for s in _policy(rec)["Statement"]}
    tagged = [
        "LbcTagNewSecurityGroup",
        "LbcRetagOwnSecurityGroups",
        "LbcManageOwnSecurityGroups",
        "LbcCreateLoadBalancers",
        "LbcRetagOwnLoadBalancers",
        "LbcManageOwnLoadBalancers",
        "LbcTagOnCreate",
    ]
    for sid in tagged:
        equals = statements[sid]["Condition"]["StringEquals"]
        assert CLUSTER in equals.values(), sid
        assert any(k.endswith("/elbv2.k8s.aws/cluster") for k in equals), sid
    # Upstream's Null checks ("any cluster's tag") are gone.
    for sid in ("LbcManageOwnSecurityGroups", "LbcManageOwnLoadBalancers"):
        assert "Null" not in statements[sid]["Condition"]


def test_only_documented_statements_allow_every_resource(rec: Recording):
    statements = _policy(rec)["Statement"]
    on_everything = {s["Sid"] for s in statements if s["Resource"] == "*"}
    assert on_everything == {"LbcRegionalRead", "LbcListCertificates"}
    assert on_everything <= set(WILDCARD_RESOURCE_EXCEPTIONS)
    for s in statements:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert all("*" not in a for a in actions), s["Sid"]
        assert not any(
            a.startswith(("shield:", "waf", "elasticloadbalancing:SetWebAcl")) for a in actions
        )
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        for r in resources:
            assert (
                r == "*" or ":123456789012:" in r or r.startswith("arn:aws:iam::123456789012:")
            ), r


def test_node_security_group_rules_are_pinned_to_the_vpc(rec: Recording):
    [statement] = [s for s in _policy(rec)["Statement"] if s["Sid"] == "LbcNodeSecurityGroupRules"]
    assert statement["Condition"]["ArnEquals"]["ec2:Vpc"].endswith(f":vpc/{VPC}")


def test_bad_arguments_are_reported_together():
    with pytest.raises(ComponentInputError) as err:
        run_lbc(chart_version="3.x", vpc_id="vpc-nope", replicas=0, namespace="Kube_System")
    text = str(err.value)
    for arg in ("chart_version", "vpc_id", "replicas", "namespace"):
        assert arg in text
