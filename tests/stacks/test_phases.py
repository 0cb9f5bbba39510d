"""The two-phase bootstrap and the deploying identity's cluster access, on the real stacks.

Phase 1 (``mlops:phase: infrastructure``) must register nothing on Kubernetes, not even a
Kubernetes provider, and must build the in-VPC runner; the deploying identity gets a cluster
admin access entry, or a configuration error says why it cannot.
"""

from __future__ import annotations

import json

import pytest
from mlops_platform.cluster.serving_cluster import CLUSTER_ADMIN_POLICY
from mlops_platform.config import ConfigError

from scripts.offline import load_stack_config, run_program
from scripts.offline.engine import Recording
from scripts.offline.mocks import PlatformMocks
from tests.conftest import REPO_ROOT

ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
PROJECT = "aws:codebuild/project:Project"
WEBHOOK = "aws:codebuild/webhook:Webhook"


def synth(stack: str, *, caller: str | None = None, **overrides: object) -> Recording:
    """The real program on the real stack file, with config overrides and a chosen caller."""
    config = load_stack_config(stack, REPO_ROOT)
    values = dict(config.values)
    for key, value in overrides.items():
        values[f"mlops:{key}"] = value if isinstance(value, str) else json.dumps(value)
    account = json.loads(values["mlops:allowedAccountIds"])[0]
    mocks = PlatformMocks(region=values.get("aws:region", "us-east-1"), account=account)
    mocks.caller_arn = caller.format(account=account) if caller else None

    def program() -> None:
        import runpy  # noqa: PLC0415

        runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")

    return run_program(program, project=config.project, stack=stack, config=values, mocks=mocks)


def admin_principals(recording: Recording) -> list[str]:
    return sorted(
        a.inputs["principalArn"]
        for a in recording.of_type(ASSOCIATION)
        if a.inputs["policyArn"] == CLUSTER_ADMIN_POLICY
    )


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_phase_one_registers_nothing_on_kubernetes_and_builds_the_runner(stack):
    recording = synth(stack, phase="infrastructure")
    types = {r.type for r in recording}
    kubernetes = sorted(t for t in types if t.startswith("kubernetes:"))
    assert kubernetes == []
    assert "pulumi:providers:kubernetes" not in types
    # the foundation is there: cluster, system nodes, EKS add-ons, buckets, ECR, the runner
    for token in (
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:s3/bucket:Bucket",
        "aws:ecr/repository:Repository",
        PROJECT,
        WEBHOOK,
    ):
        assert token in types, token
    assert recording.outputs["phase"] == "infrastructure"
    assert recording.outputs["deployRunnerProjectName"] == f"mlops-{stack}-deploy"
    # the runner's security group may reach the private API endpoint
    runner_sg = recording.one(
        "aws:ec2/securityGroup:SecurityGroup", f"mlops-{stack}-deploy-runner-sg"
    )
    ingress = recording.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert any(r.inputs.get("referencedSecurityGroupId") == runner_sg.id for r in ingress)


def test_phase_all_adds_the_kubernetes_side():
    recording = synth("prod")
    types = {r.type for r in recording}
    assert "pulumi:providers:kubernetes" in types
    assert any(t.startswith("kubernetes:") for t in types)
    assert PROJECT in types  # the runner stays


def test_an_assumed_role_caller_gets_a_cluster_admin_entry():
    recording = synth("prod", caller="arn:aws:sts::{account}:assumed-role/AdminSSO/alice")
    assert "arn:aws:iam::333333333333:role/AdminSSO" in admin_principals(recording)
    entries = [e.inputs["principalArn"] for e in recording.of_type(ACCESS_ENTRY)]
    assert len(entries) == len(set(entries))  # one entry per principal


def test_the_stack_roles_get_no_duplicate_entry():
    for role in ("mlops-prod-ci-deploy", "mlops-prod-platform-admin"):
        recording = synth("prod", caller=f"arn:aws:sts::{{account}}:assumed-role/{role}/gha")
        names = [e.name for e in recording.of_type(ACCESS_ENTRY)]
        assert not any(name.endswith(f"-admin-{role}") for name in names), names
        principals = [e.inputs["principalArn"] for e in recording.of_type(ACCESS_ENTRY)]
        assert len(principals) == len(set(principals))
        # the deployer's own entry is the only difference from another caller's run
        other = synth("prod", caller="arn:aws:sts::{account}:assumed-role/AdminSSO/alice")
        assert len(other.of_type(ACCESS_ENTRY)) == len(names) + 1


def test_a_listed_admin_gets_no_second_entry():
    role = "arn:aws:iam::333333333333:role/ops/Deployer"
    recording = synth(
        "prod",
        caller="arn:aws:sts::{account}:assumed-role/Deployer/bob",
        cluster={"access": {"admins": [role]}},
    )
    principals = [e.inputs["principalArn"] for e in recording.of_type(ACCESS_ENTRY)]
    assert principals.count(role) == 1
    assert not any(p.endswith(":role/Deployer") for p in principals)


def test_an_iam_user_without_admins_is_a_configuration_error():
    with pytest.raises(ConfigError) as info:
        synth("prod", caller="arn:aws:iam::{account}:user/deployer")
    message = str(info.value)
    assert "mlops:cluster.access.admins" in message
    assert "user/deployer" in message


def test_an_iam_user_with_admins_listed_deploys_without_an_own_entry():
    role = "arn:aws:iam::333333333333:role/PlatformDeployer"
    recording = synth(
        "prod",
        caller="arn:aws:iam::{account}:user/deployer",
        cluster={"access": {"admins": [role]}},
    )
    principals = [e.inputs["principalArn"] for e in recording.of_type(ACCESS_ENTRY)]
    assert role in principals
    assert not any(":user/" in p for p in principals)


def test_an_iam_user_may_run_phase_one():
    recording = synth(
        "test", caller="arn:aws:iam::{account}:user/bootstrap", phase="infrastructure"
    )
    principals = [e.inputs["principalArn"] for e in recording.of_type(ACCESS_ENTRY)]
    assert not any(":user/" in p for p in principals)
