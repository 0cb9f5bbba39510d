"""``DeployRunner``: an in-VPC GitHub Actions runner on AWS CodeBuild, the deploy path into a
cluster whose API endpoint is private.

A private EKS endpoint is unreachable from GitHub-hosted runners, and nothing inside the VPC
exists before the first deploy. This component is built in phase 1 (no Kubernetes API needed)
and runs the jobs of phase 2 from the private subnets:

1. a customer-managed KMS key (rotation on) and the project's log group, encrypted with it,
   with retention, BEFORE the project;
2. a security group of its own: no ingress, egress TCP 443 only (GitHub, the AWS APIs through
   the NAT gateway or the interface endpoints, the private EKS endpoint);
3. a service role of its own under the permission boundary, trusted by CodeBuild for this
   project only: the VPC network interfaces CodeBuild creates for a build, the token of the
   GitHub connection, and writing to its own log group. It holds NO deploy permissions: a
   deploy job on the runner assumes the CI deploy role through GitHub OIDC, exactly as on a
   GitHub-hosted runner, so the role's environment scoping and GitHub's environment
   protection rules still decide who deploys;
4. the CodeBuild project (GitHub source through an AWS CodeConnections connection, in the
   private subnets, no privileged mode, a pinned managed image, a concurrency limit);
5. a webhook that starts a build for each queued workflow job (``WORKFLOW_JOB_QUEUED``), which
   turns the build into an ephemeral self-hosted runner for that job.

Workflows pick the runner with
``runs-on: codebuild-<project-name>-${{ github.run_id }}-${{ github.run_attempt }}``.
The GitHub connection itself is created once by a person (it needs a GitHub app
installation); its ARN is an input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.component import Component
from ..core.kms import key_admin_statement, logs_key_use_statement
from ..core.limits import kms_deletion_window_problems, retention_problems
from ..core.naming import NameKind, physical_name
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..iam import POLICY_VERSION, policy_json, statement

DEFAULT_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
"""CodeBuild's managed Amazon Linux 2023 x86_64 standard image, major 5.0 (git, Python 3,
the AWS CLI). A managed image name pins the major; CodeBuild patches it within the major."""

COMPUTE_TYPES = (
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
)
"""Linux container compute types a runner may use."""

WORKFLOW_JOB_EVENT = "WORKFLOW_JOB_QUEUED"
"""The webhook event that makes a CodeBuild project a GitHub Actions runner."""

CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:"
    r"connection/[0-9a-f-]{36}$"
)
REPOSITORY_URL = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
DEFAULT_COMPUTE_TYPE = "BUILD_GENERAL1_MEDIUM"
"""4 vCPU and 7 GB: room for a whole-stack ``pulumi up``."""
DEFAULT_CONCURRENT_BUILDS = 2
MAX_CONCURRENT_BUILDS = 20
DEFAULT_BUILD_TIMEOUT_MINUTES = 180
"""A first phase 2 (with the MLflow database) takes about an hour."""
MIN_TIMEOUT_MINUTES = 5
MAX_BUILD_TIMEOUT = 2160  # CodeBuild: 5..2160 minutes
_MAX_QUEUED_TIMEOUT = 480  # CodeBuild: 5..480 minutes


@dataclass
class DeployRunnerArgs:
    """Inputs of :class:`DeployRunner`."""

    name_prefix: str
    """Physical-name prefix, ``{project}-{stack}``; the project is ``{name_prefix}-deploy``."""

    vpc_id: pulumi.Input[str]
    """The VPC the runner runs in."""

    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets (with a route out: NAT, or interface endpoints plus GitHub egress)."""

    repository_url: str
    """The GitHub repository whose workflow jobs the runner takes, ``https://github.com/o/r``."""

    connection_arn: str
    """The AWS CodeConnections connection to GitHub (created once by a person)."""

    image: str = DEFAULT_IMAGE
    """Build image: a CodeBuild managed image (pinned major) or an ECR image by digest."""

    compute_type: str = DEFAULT_COMPUTE_TYPE
    """Compute of each build (one of :data:`COMPUTE_TYPES`)."""

    concurrent_build_limit: int = DEFAULT_CONCURRENT_BUILDS
    """Most jobs the runner takes at once (1..20)."""

    build_timeout_minutes: int = DEFAULT_BUILD_TIMEOUT_MINUTES
    """Longest a job may run, in minutes (5..2160)."""

    queued_timeout_minutes: int = 60
    """Longest a job may wait for a free build slot."""

    log_retention_days: int = 365
    """Retention of the build log group."""

    kms_deletion_window_days: int = 30
    """Waiting period (7..30 days) before the log key is deleted."""

    permission_boundary_arn: pulumi.Input[str | None] | None = None
    """Boundary attached to the runner's role."""

    protect: bool = False
    """Protect and retain the log key and the log group."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags merged into every taggable child."""


class DeployRunner(Component, legacy_module="deploy_runner"):
    """A CodeBuild-hosted GitHub Actions runner in the VPC's private subnets."""

    project_name: pulumi.Output[str]
    """The CodeBuild project's name (the runner label is ``codebuild-<name>-...``)."""

    project_arn: pulumi.Output[str]
    """The CodeBuild project's ARN."""

    role_arn: pulumi.Output[str]
    """The runner's service role."""

    security_group_id: pulumi.Output[str]
    """The runner's security group (allow it to the private API endpoint)."""

    log_group_name: pulumi.Output[str]
    """The build log group."""

    def __init__(
        self, name: str, args: DeployRunnerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, self.validate)
        super().__init__(name, opts)
        child, stateful = self.child(), self.stateful(args.protect)
        arn = self.aws.arn

        project_name = physical_name("deploy", NameKind.CODEBUILD_PROJECT, args.name_prefix)
        log_group_name = f"/aws/codebuild/{project_name}"

        # 1. Key and log group before the project.
        self.key = aws.kms.Key(
            f"{name}-logs-key",
            description=f"Build logs of the deploy runner {project_name}",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=policy_json(
                runner_key_policy(
                    self.aws.root_arn,
                    self.aws.region,
                    arn("logs", f"log-group:{log_group_name}"),
                )
            ),
            tags=merge_tags(args.tags, {"role": "deploy-runner-logs"}),
            opts=stateful,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=self.key.arn,
            tags=merge_tags(args.tags, {"role": "deploy-runner-logs"}),
            opts=stateful,
        )

        # 2. Its own security group: egress HTTPS only.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=physical_name("deploy-runner", NameKind.SECURITY_GROUP, args.name_prefix),
            description=f"Deploy runner {project_name}: no ingress, egress HTTPS only",
            vpc_id=args.vpc_id,
            tags=merge_tags(args.tags, {"role": "deploy-runner"}),
            opts=child,
        )
        self.egress = aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress-https",
            security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            description="HTTPS to GitHub (jobs, OIDC, actions), the AWS APIs and the EKS API",
            tags=merge_tags(args.tags, {"role": "deploy-runner-egress"}),
            opts=child,
        )

        # 3. Its own role.
        project_arn = arn("codebuild", f"project/{project_name}")
        self.role = aws.iam.Role(
            f"{name}-role",
            name=physical_name("deploy-runner", NameKind.IAM_ROLE, args.name_prefix),
            description=f"Service role of the deploy runner {project_name}",
            assume_role_policy=policy_json(runner_trust(self.aws.account, project_arn)),
            permissions_boundary=args.permission_boundary_arn,
            max_session_duration=3600,
            tags=merge_tags(args.tags, {"role": "deploy-runner"}),
            opts=child,
        )
        subnet_prefix = arn("ec2", "subnet/")
        subnet_arns = pulumi.Output.all(subnet_prefix, args.subnet_ids).apply(
            lambda parts: [f"{parts[0]}{subnet}" for subnet in parts[1]]
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.name,
            policy=policy_json(
                runner_policy(
                    log_group_arn=self.log_group.arn,
                    connection_arn=args.connection_arn,
                    network_interfaces=arn("ec2", "network-interface/*"),
                    subnet_arns=subnet_arns,
                    security_group_arn=pulumi.Output.concat(
                        arn("ec2", "security-group/"), self.security_group.id
                    ),
                )
            ),
            opts=child,
        )

        # 4. The project (CodeBuild checks the VPC permissions when it is created).
        self.project = aws.codebuild.Project(
            f"{name}-project",
            name=project_name,
            description=f"GitHub Actions runner in the VPC for {args.repository_url}",
            service_role=self.role.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=args.repository_url,
                auth=aws.codebuild.ProjectSourceAuthArgs(
                    type="CODECONNECTIONS", resource=args.connection_arn
                ),
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type=args.compute_type,
                image=args.image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id,
                subnets=args.subnet_ids,
                security_group_ids=[self.security_group.id],
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    status="ENABLED", group_name=self.log_group.name
                ),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            concurrent_build_limit=args.concurrent_build_limit,
            build_timeout=args.build_timeout_minutes,
            queued_timeout=args.queued_timeout_minutes,
            tags=merge_tags(args.tags, {"role": "deploy-runner"}),
            opts=self.child(depends_on=[self.policy, self.egress]),
        )

        # 5. One build per queued workflow job.
        self.webhook = aws.codebuild.Webhook(
            f"{name}-webhook",
            project_name=self.project.name,
            build_type="BUILD",
            filter_groups=[
                aws.codebuild.WebhookFilterGroupArgs(
                    filters=[
                        aws.codebuild.WebhookFilterGroupFilterArgs(
                            type="EVENT", pattern=WORKFLOW_JOB_EVENT
                        )
                    ]
                )
            ],
            opts=child,
        )

        self.publish(
            project_name=self.project.name,
            project_arn=self.project.arn,
            role_arn=self.role.arn,
            security_group_id=self.security_group.id,
            log_group_name=self.log_group.name,
        )

    @staticmethod
    def validate(args: DeployRunnerArgs) -> list[Invalid]:
        """Every problem with ``args``, each naming the argument."""
        problems: list[Invalid] = []
        if not CONNECTION_ARN.match(args.connection_arn):
            problems.append(
                Invalid(
                    "connection_arn",
                    args.connection_arn,
                    "an AWS CodeConnections connection ARN, e.g. arn:aws:codeconnections:"
                    "us-east-1:111122223333:connection/<uuid> (created once in the console)",
                )
            )
        if not REPOSITORY_URL.match(args.repository_url):
            problems.append(
                Invalid("repository_url", args.repository_url, "https://github.com/<owner>/<repo>")
            )
        if isinstance(args.subnet_ids, (list, tuple)) and not args.subnet_ids:
            problems.append(Invalid("subnet_ids", [], "at least one private subnet"))
        if args.compute_type not in COMPUTE_TYPES:
            problems.append(Invalid("compute_type", args.compute_type, ", ".join(COMPUTE_TYPES)))
        if not 1 <= args.concurrent_build_limit <= MAX_CONCURRENT_BUILDS:
            problems.append(
                Invalid(
                    "concurrent_build_limit",
                    args.concurrent_build_limit,
                    f"1 to {MAX_CONCURRENT_BUILDS} builds",
                )
            )
        if not MIN_TIMEOUT_MINUTES <= args.build_timeout_minutes <= MAX_BUILD_TIMEOUT:
            problems.append(
                Invalid(
                    "build_timeout_minutes",
                    args.build_timeout_minutes,
                    f"{MIN_TIMEOUT_MINUTES} to {MAX_BUILD_TIMEOUT} minutes",
                )
            )
        if not MIN_TIMEOUT_MINUTES <= args.queued_timeout_minutes <= _MAX_QUEUED_TIMEOUT:
            problems.append(
                Invalid(
                    "queued_timeout_minutes",
                    args.queued_timeout_minutes,
                    f"{MIN_TIMEOUT_MINUTES} to {_MAX_QUEUED_TIMEOUT} minutes",
                )
            )
        problems += kms_deletion_window_problems(
            "kms_deletion_window_days", args.kms_deletion_window_days
        )
        problems += retention_problems("log_retention_days", args.log_retention_days)
        return problems


def runner_key_policy(
    root: pulumi.Input[str], region: pulumi.Input[str], log_group_arn: pulumi.Input[str]
) -> dict[str, Any]:
    """The log key: the account administers it; CloudWatch Logs uses it for the runner's log
    group only. ``Resource: "*"`` in a key policy means this key."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            key_admin_statement(root),
            logs_key_use_statement("CloudWatchLogsUsesKeyForRunnerLogs", region, log_group_arn),
        ],
    }


def connection_service(connection_arn: str) -> str:
    """The IAM service prefix of a connection ARN: ``codeconnections`` (or the older
    ``codestar-connections``)."""
    return connection_arn.split(":")[2]


def runner_trust(account: pulumi.Input[str], project_arn: pulumi.Input[str]) -> dict[str, Any]:
    """CodeBuild may assume the role for this project of this account only (confused deputy)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "CodeBuildAssumeForThisProject",
                "Effect": "Allow",
                "Principal": {"Service": "codebuild.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": project_arn},
                },
            }
        ],
    }


def runner_policy(
    *,
    log_group_arn: pulumi.Input[str],
    connection_arn: str,
    network_interfaces: pulumi.Input[str],
    subnet_arns: pulumi.Input[Sequence[str]],
    security_group_arn: pulumi.Input[str],
) -> dict[str, Any]:
    """What a CodeBuild build in the VPC needs, and nothing to deploy with."""
    service = connection_service(connection_arn)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            statement(
                "RunnerWritesItsLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [log_group_arn, pulumi.Output.concat(log_group_arn, ":*")],
            ),
            statement(
                "RunnerUsesGithubConnection",
                [f"{service}:GetConnectionToken", f"{service}:GetConnection"],
                [connection_arn],
            ),
            statement(
                "RunnerVpcDescribe",
                [
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeVpcs",
                ],
                "*",
            ),
            statement(
                "RunnerBuildInterfaces",
                ["ec2:CreateNetworkInterface"],
                pulumi.Output.all(network_interfaces, subnet_arns, security_group_arn).apply(
                    lambda p: [p[0], *p[1], p[2]]
                ),
            ),
            statement(
                "RunnerDeletesBuildInterfaces", ["ec2:DeleteNetworkInterface"], [network_interfaces]
            ),
            statement(
                "RunnerInterfacePermission",
                ["ec2:CreateNetworkInterfacePermission"],
                [network_interfaces],
                Condition={
                    "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                    "ArnEquals": {"ec2:Subnet": subnet_arns},
                },
            ),
        ],
    }
