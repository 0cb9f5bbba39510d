"""Rules of ``mlops:iam`` and ``mlops:deployRunner``: one permission boundary, human roles with
principals, and a way for deploys to reach the API."""

from __future__ import annotations

from ..model import EnvironmentConfig, Profile
from .problem import Problem


def iam_settings(config: EnvironmentConfig) -> list[Problem]:
    """One permission boundary: an existing one or the platform's own, not both; a human
    role that is on names who may assume it (never the whole account)."""
    iam = config.iam
    problems: list[Problem] = []
    if iam.permission_boundary_arn and iam.create_permission_boundary:
        problems.append(
            Problem(
                ("iam", "createPermissionBoundary"),
                True,
                "set either iam.permissionBoundaryArn or iam.createPermissionBoundary, not both",
            )
        )
    for key, enabled, principals in (
        ("adminPrincipalArns", iam.platform_admin_role, iam.admin_principal_arns),
        ("readOnlyPrincipalArns", iam.read_only_role, iam.read_only_principal_arns),
    ):
        if enabled is True and not principals:
            role = "platformAdminRole" if key.startswith("admin") else "readOnlyRole"
            problems.append(
                Problem(
                    ("iam", key),
                    [],
                    f"at least one principal while iam.{role} is true (role ARNs, IAM user "
                    "ARNs or an SSO permission-set role ARN pattern); or set it to false",
                )
            )
    return problems


def deploy_path(config: EnvironmentConfig) -> list[Problem]:
    """Every stack has a way to reach its API: the runner (with its GitHub connection and
    repository), a public allowlisted endpoint, or an alternative named explicitly."""
    runner = config.deploy_runner
    problems: list[Problem] = []
    if runner.enabled:
        if runner.connection_arn is None:
            problems.append(
                Problem(
                    ("deployRunner", "connectionArn"),
                    None,
                    "the deploy runner needs the ARN of an AWS CodeConnections connection to "
                    "GitHub; create it once (docs/operations.md, First deploy) and set it here, "
                    "or set deployRunner.enabled to false",
                )
            )
        if config.iam.ci_repository is None:
            problems.append(
                Problem(
                    ("iam", "ciRepository"),
                    None,
                    "the deploy runner takes the jobs of this GitHub repository (org/repo); "
                    "set it, or set deployRunner.enabled to false",
                )
            )
        if runner.alternative_access is not None:
            problems.append(
                Problem(
                    ("deployRunner", "alternativeAccess"),
                    runner.alternative_access,
                    "only with the runner off; remove it or set deployRunner.enabled to false",
                )
            )
        return problems
    private_only = not config.cluster.endpoint_public_access
    if config.profile is not Profile.DEV and private_only and runner.alternative_access is None:
        problems.append(
            Problem(
                ("deployRunner", "enabled"),
                False,
                f"a {config.profile} cluster has a private API endpoint only: nothing outside "
                "the VPC can run the Kubernetes phase. Keep the runner (deployRunner.enabled: "
                "true with deployRunner.connectionArn), or name the path that replaces it in "
                "deployRunner.alternativeAccess (a VPN or peered network routed into the VPC; "
                "cluster.apiIngressCidrs lists other source ranges)",
            )
        )
    return problems
