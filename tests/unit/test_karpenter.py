"""Karpenter under the mock engine: controller chart, Pod Identity role, interruption
queue and rules, node role and access entry."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi_kubernetes as k8s
import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.gpu.karpenter import (
    INTERRUPTION_EVENTS,
    WILDCARD_RESOURCE_EXCEPTIONS,
    Karpenter,
    KarpenterArgs,
)

from scripts.offline import run_program
from scripts.offline.engine import Recording

CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/mlops-test"
RELEASE = "kubernetes:helm.sh/v3:Release"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:queue/mlops-test-karpenter"  # the mock's ARN


def run_karpenter(**overrides: Any) -> Recording:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = KarpenterArgs(
            cluster_name="mlops-test",
            cluster_arn=CLUSTER_ARN,
            cluster_endpoint="https://ABCDEF.gr7.us-east-1.eks.amazonaws.com",
            kubernetes_provider=provider,
            name_prefix="mlops-test",
            tags={"owner": "ml-platform-team"},
        )
        Karpenter("karpenter", dataclasses.replace(args, **overrides))

    return run_program(program, stack="test")


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_karpenter()


def controller_policy(rec: Recording) -> dict[str, Any]:
    [policy] = [r for r in rec.of_type("aws:iam/rolePolicy:RolePolicy") if "controller" in r.name]
    return json.loads(policy.inputs["policy"])


def test_interruption_queue_is_encrypted_and_short_lived(rec: Recording):
    queue = rec.one("aws:sqs/queue:Queue").inputs
    assert queue["sqsManagedSseEnabled"] is True
    assert queue["messageRetentionSeconds"] == 300
    assert queue["name"] == "mlops-test-karpenter"
    assert queue["tags"]["owner"] == "ml-platform-team"


def test_event_rules_cover_every_interruption_and_target_the_queue(rec: Recording):
    rules = rec.of_type("aws:cloudwatch/eventRule:EventRule")
    patterns = {json.loads(r.inputs["eventPattern"])["detail-type"][0] for r in rules}
    assert patterns == {
        "EC2 Spot Instance Interruption Warning",
        "EC2 Instance Rebalance Recommendation",
        "EC2 Instance State-change Notification",
        "AWS Health Event",
    }
    targets = rec.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == len(INTERRUPTION_EVENTS)
    assert {t.inputs["arn"] for t in targets} == {QUEUE_ARN}
    assert {t.inputs["rule"] for t in targets} == {r.inputs["name"] for r in rules}


def test_queue_policy_admits_only_the_rules_and_tls(rec: Recording):
    policy = json.loads(rec.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])
    send, deny = policy["Statement"]
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Action"] == "sqs:SendMessage"
    assert send["Resource"] == QUEUE_ARN
    assert len(send["Condition"]["ArnEquals"]["aws:SourceArn"]) == 4
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_node_role_trusts_ec2_and_has_an_ec2_linux_access_entry(rec: Recording):
    role = rec.one("aws:iam/role:Role", "karpenter-node-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    entry = rec.one("aws:eks/accessEntry:AccessEntry").inputs
    assert entry["type"] == "EC2_LINUX"
    assert entry["principalArn"] == f"arn:aws:iam::123456789012:role/{role.inputs['name']}"
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[1]
        for a in rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert attached == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKS_CNI_Policy",
    }


def test_controller_role_is_bound_by_pod_identity(rec: Recording):
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert association["namespace"] == "kube-system"
    assert association["serviceAccount"] == "karpenter"
    role = next(r for r in rec.of_type("aws:iam/role:Role") if "controller" in r.name)
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"] == CLUSTER_ARN


def test_controller_policy_is_least_privilege(rec: Recording):
    statements = {s["Sid"]: s for s in controller_policy(rec)["Statement"]}
    for statement in statements.values():
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions), statement["Sid"]
    on_everything = {sid for sid, s in statements.items() if s["Resource"] == "*"}
    assert (
        on_everything
        == set(WILDCARD_RESOURCE_EXCEPTIONS)
        == {
            "KarpenterRegionalRead",
            "KarpenterReadPrices",
        }
    )
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in statements.values())
    assert statements["KarpenterRegionalRead"]["Condition"] == {
        "StringEquals": {"aws:RequestedRegion": "us-east-1"}
    }
    pass_role = statements["KarpenterPassNodeRole"]
    assert pass_role["Resource"].endswith(":role/mlops-test-karpenter-node")
    assert pass_role["Condition"]["StringEquals"]["iam:PassedToService"] == "ec2.amazonaws.com"
    delete = statements["KarpenterDeleteOwnResources"]
    assert delete["Condition"]["StringEquals"] == {
        "aws:ResourceTag/kubernetes.io/cluster/mlops-test": "owned"
    }
    assert statements["KarpenterInterruptionQueue"]["Resource"] == QUEUE_ARN


def test_controller_chart_is_pinned_and_configured(rec: Recording):
    release = rec.one(RELEASE, "karpenter-controller-release").inputs
    assert release["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert release["version"] == "1.12.1"
    assert release["skipCrds"] is True
    settings = release["values"]["settings"]
    assert settings["clusterName"] == "mlops-test"
    assert settings["interruptionQueue"] == "mlops-test-karpenter"
    assert settings["clusterEndpoint"].startswith("https://")
    assert release["values"]["serviceAccount"]["name"] == "karpenter"
    assert release["values"]["replicas"] == 2


def test_crds_come_from_their_own_chart_at_the_same_version(rec: Recording):
    crds = rec.one(RELEASE, "karpenter-crds")
    assert crds.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd"
    assert crds.inputs["version"] == "1.12.1"
    controller = rec.one(RELEASE, "karpenter-controller-release")
    assert crds.urn in controller.dependencies


def test_controller_knows_its_region_without_imds(rec: Recording):
    """Nodes answer IMDS only to host-network processes (hop limit 1); Karpenter would ask IMDS
    for its region and exit unless AWS_REGION is set."""
    controller = rec.one(RELEASE, "karpenter-controller-release").inputs["values"]["controller"]
    assert {"name": "AWS_REGION", "value": "us-east-1"} in controller["env"]


def test_reserved_enis_follow_custom_networking(rec: Recording):
    values = rec.one(RELEASE, "karpenter-controller-release").inputs["values"]
    assert values["settings"]["reservedENIs"] == "0"
    custom = run_karpenter(reserved_enis=1)
    values = custom.one(RELEASE, "karpenter-controller-release").inputs["values"]
    assert values["settings"]["reservedENIs"] == "1"  # a string, as the chart's values.yaml


def test_controller_waits_for_its_identity_and_access(rec: Recording):
    controller = rec.one(RELEASE, "karpenter-controller-release")
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    entry = rec.one("aws:eks/accessEntry:AccessEntry")
    assert {association.urn, entry.urn} <= set(controller.dependencies)


def test_cluster_security_group_is_tagged_for_discovery():
    rec = run_karpenter(discovery_security_group_ids=["sg-0cluster"])
    tag = rec.one("aws:ec2/tag:Tag").inputs
    assert tag == {
        "resourceId": "sg-0cluster",
        "key": "karpenter.sh/discovery",
        "value": "mlops-test",
    }


def test_ssm_access_is_opt_in():
    rec = run_karpenter(node_ssm_access=True, reserved_capacity=True)
    attached = [
        a.inputs["policyArn"]
        for a in rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    ]
    assert any(arn.endswith("/AmazonSSMManagedInstanceCore") for arn in attached)
    values = rec.one(RELEASE, "karpenter-controller-release").inputs["values"]
    assert values["settings"]["featureGates"]["reservedCapacity"] is True


def test_bad_input_names_each_argument():
    with pytest.raises(ComponentInputError) as caught:
        run_karpenter(chart_version="latest", namespace="Kube_System", replicas=0)
    message = str(caught.value)
    for arg in ("chart_version", "namespace", "replicas"):
        assert arg in message
