"""``mlops:iam``: the CI deploy role, the permission boundary and the human access roles."""

from __future__ import annotations

from pydantic import Field

from ...core import patterns
from .base import HumanPrincipalArn, StrictModel


class IamConfig(StrictModel):
    """Platform IAM: CI deploy role, permission boundary, human access roles."""

    ci_repository: str | None = Field(
        None,
        pattern=patterns.GITHUB_REPOSITORY.regex,
        description="GitHub repository (`org/repo`) whose workflows may deploy this stack "
        "through OIDC. Unset: no CI deploy role.",
    )
    ci_environment: str = Field(
        pattern=patterns.GITHUB_ENVIRONMENT.regex,
        description="GitHub environment the CI role trusts: the token's `sub` must be "
        "`repo:<ciRepository>:environment:<ciEnvironment>`.",
    )
    github_oidc_provider_arn: str | None = Field(
        None,
        pattern=patterns.GITHUB_OIDC_PROVIDER_ARN.regex,
        description="Existing GitHub Actions OIDC provider of the account (there can be only "
        "one). Unset: the platform creates it.",
    )
    permission_boundary_arn: str | None = Field(
        None,
        pattern=patterns.IAM_POLICY_ARN.regex,
        description="Existing permission boundary attached to every role the platform creates.",
    )
    state_bucket: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="S3 bucket holding the Pulumi state (`scripts.bootstrap_backend` creates "
        "`<project>-pulumi-state-<account>-<region>`): the CI deploy role may read and write "
        "it, which a deploy from the in-VPC runner needs. Unset: no state access (e.g. Pulumi "
        "Cloud).",
    )
    secrets_key_alias: str | None = Field(
        None,
        pattern=r"^alias/[A-Za-z0-9/_-]+$",
        description="Alias of the KMS key of the stacks' secrets provider (bootstrap-backend: "
        "`alias/<project>-pulumi-secrets`): the CI deploy role may encrypt and decrypt with "
        "it. Unset: not granted.",
    )
    create_permission_boundary: bool = Field(
        description="Create the platform's own permission boundary and attach it to every role "
        "(not together with `permissionBoundaryArn`)."
    )
    platform_admin_role: bool | None = Field(
        None,
        description="Create the human platform-admin role (cluster admin through EKS). Unset: "
        "created when `adminPrincipalArns` names someone; `true` requires principals.",
    )
    admin_principal_arns: list[HumanPrincipalArn] = Field(
        default_factory=list,
        description="Who may assume platform-admin: role ARNs, IAM user ARNs (MFA required) or "
        "an SSO permission-set role ARN pattern such as `arn:aws:iam::<account>:role/"
        "aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PlatformAdmin_*` (matched on "
        "`aws:PrincipalArn`). Never the account root; required while the role is on.",
    )
    read_only_role: bool | None = Field(
        None,
        description="Create the human read-only role. Unset: created when "
        "`readOnlyPrincipalArns` names someone; `true` requires principals.",
    )
    read_only_principal_arns: list[HumanPrincipalArn] = Field(
        default_factory=list,
        description="Who may assume the read-only role (same forms as `adminPrincipalArns`); "
        "required while the role is on.",
    )
