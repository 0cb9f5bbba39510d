"""DeployRunner under the mock engine: a CodeBuild GitHub Actions runner in the private
subnets, its own egress-only security group, a least-privilege role, encrypted logs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.deploy import WORKFLOW_JOB_EVENT, DeployRunner, DeployRunnerArgs
from mlops_platform.deploy.runner import DEFAULT_IMAGE

from scripts.offline import run_program
from scripts.offline.engine import Recording

PROJECT = "aws:codebuild/project:Project"
WEBHOOK = "aws:codebuild/webhook:Webhook"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SG = "aws:ec2/securityGroup:SecurityGroup"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
CONNECTION = (
    "arn:aws:codeconnections:us-east-1:123456789012:connection/0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
)
BOUNDARY = "arn:aws:iam::123456789012:policy/mlops-test-boundary"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]


def args(**overrides: Any) -> DeployRunnerArgs:
    values: dict[str, Any] = {
        "name_prefix": "mlops-test",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": SUBNETS,
        "repository_url": "https://github.com/example-org/ml-platform",
        "connection_arn": CONNECTION,
        "permission_boundary_arn": BOUNDARY,
        "log_retention_days": 30,
        "tags": {"owner": "ml-platform-team"},
    }
    values.update(overrides)
    return DeployRunnerArgs(**values)


@pytest.fixture(scope="module")
def recording() -> Recording:
    return run_program(lambda: DeployRunner("runner", args()), stack="test")


def test_project_is_a_github_actions_runner_in_the_private_subnets(recording):
    project = recording.one(PROJECT).inputs
    assert project["name"] == "mlops-test-deploy"
    source = project["source"]
    assert source["type"] == "GITHUB"
    assert source["location"] == "https://github.com/example-org/ml-platform"
    assert source["auth"] == {"type": "CODECONNECTIONS", "resource": CONNECTION}
    assert project["vpcConfig"]["subnets"] == SUBNETS
    assert project["vpcConfig"]["vpcId"] == "vpc-0123456789abcdef0"
    env = project["environment"]
    assert env["privilegedMode"] is False
    assert env["image"] == DEFAULT_IMAGE
    assert env["type"] == "LINUX_CONTAINER"
    assert project["concurrentBuildLimit"] == 2
    assert project["artifacts"] == {"type": "NO_ARTIFACTS"}

    webhook = recording.one(WEBHOOK).inputs
    assert webhook["buildType"] == "BUILD"
    assert webhook["projectName"] == "mlops-test-deploy"
    filters = [f for group in webhook["filterGroups"] for f in group["filters"]]
    assert filters == [{"type": "EVENT", "pattern": WORKFLOW_JOB_EVENT}]


def test_security_group_has_no_ingress_and_https_egress_only(recording):
    recording.one(SG)
    assert recording.of_type(INGRESS) == []
    egress = recording.one(EGRESS).inputs
    assert (egress["ipProtocol"], egress["fromPort"], egress["toPort"]) == ("tcp", 443, 443)
    assert egress["description"]
    project = recording.one(PROJECT).inputs
    assert project["vpcConfig"]["securityGroupIds"] == [recording.one(SG).id]


def test_logs_are_encrypted_retained_and_written_before_the_project(recording):
    group = recording.one(LOG_GROUP)
    assert group.inputs["name"] == "/aws/codebuild/mlops-test-deploy"
    assert group.inputs["retentionInDays"] == 30
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    key = recording.one(KEY).inputs
    assert key["enableKeyRotation"] is True
    policy = json.loads(key["policy"])
    logs = next(s for s in policy["Statement"] if s["Principal"].get("Service"))
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].endswith(
        ":log-group:/aws/codebuild/mlops-test-deploy"
    )
    project = recording.one(PROJECT)
    assert project.inputs["logsConfig"]["cloudwatchLogs"]["groupName"] == group.inputs["name"]
    assert recording.one(ROLE_POLICY).urn in project.dependencies


def test_role_is_its_own_bounded_and_trusted_by_codebuild_for_this_project(recording):
    role = recording.one(ROLE).inputs
    assert role["permissionsBoundary"] == BOUNDARY
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "codebuild.amazonaws.com"}]
    condition = trust[0]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert condition["ArnLike"]["aws:SourceArn"].endswith(":project/mlops-test-deploy")


def test_role_policy_is_least_privilege(recording):
    document = json.loads(recording.one(ROLE_POLICY).inputs["policy"])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["RunnerUsesGithubConnection"]["Resource"] == [CONNECTION]
    assert set(by_sid["RunnerUsesGithubConnection"]["Action"]) == {
        "codeconnections:GetConnectionToken",
        "codeconnections:GetConnection",
    }
    logs = by_sid["RunnerWritesItsLogs"]["Resource"]
    assert all(":log-group:/aws/codebuild/mlops-test-deploy" in r for r in logs)
    permission = by_sid["RunnerInterfacePermission"]
    assert permission["Condition"]["StringEquals"] == {
        "ec2:AuthorizedService": "codebuild.amazonaws.com"
    }
    assert permission["Condition"]["ArnEquals"]["ec2:Subnet"] == [
        f"arn:aws:ec2:us-east-1:123456789012:subnet/{s}" for s in SUBNETS
    ]
    # only the describe calls sit on "*", and nothing grants deploy permissions
    wildcard = [s["Sid"] for s in document["Statement"] if s["Resource"] == "*"]
    assert wildcard == ["RunnerVpcDescribe"]
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert not any(a.startswith(("eks:", "iam:", "s3:", "kms:", "sts:")) for a in actions)
    assert not any("*" in a for a in actions)


def test_bad_arguments_are_reported_together():
    with pytest.raises(Exception) as info:
        run_program(
            lambda: DeployRunner(
                "runner",
                args(
                    connection_arn="arn:aws:iam::123456789012:role/not-a-connection",
                    repository_url="git@github.com:example-org/ml-platform.git",
                    concurrent_build_limit=0,
                    compute_type="BUILD_GENERAL1_HUGE",
                ),
            )
        )
    message = str(info.value)
    for arg in ("connection_arn", "repository_url", "concurrent_build_limit", "compute_type"):
        assert arg in message
