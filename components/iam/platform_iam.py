"""``PlatformIam``: the roles an environment is built and operated with.

``PlatformIam`` creates the EKS cluster role, the node role, the CI deploy role (trusted
through GitHub Actions OIDC), the human platform-admin and read-only roles, and optionally
a permission boundary that every role the platform creates carries. It is built BEFORE the
serving cluster: its role ARNs are inputs of
:class:`mlops_platform.cluster.serving_cluster.ServingCluster`
(cluster role, node role, access entries), so there is no cycle.

Workload roles (one per Kubernetes service account) are built with the helpers in
:mod:`.workload`; policy documents follow the rules of :mod:`.documents`; the boundary and
the CI role's permissions are written in :mod:`.ci_policies`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.component import Component
from ..core.naming import NameKind, physical_name
from ..core.patterns import (
    GITHUB_ENVIRONMENT,
    GITHUB_REPOSITORY,
    HUMAN_PRINCIPAL_ARN,
    IAM_POLICY_ARN,
    OIDC_PROVIDER_ARN,
    Pattern,
)
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from .ci_policies import (
    GITHUB_OIDC_HOST,
    AccountArns,
    boundary_document,
    ci_documents,
)
from .documents import POLICY_VERSION, STS_AUDIENCE, policy_json, principal_statement, statement

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
"""The issuer of GitHub Actions OIDC tokens."""

MANAGED_POLICY_ARNS: dict[str, tuple[str, ...]] = {
    "cluster": ("AmazonEKSClusterPolicy",),
    "node": (
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKS_CNI_Policy",
    ),
}
"""AWS-managed policies attached to the cluster and node roles (by name, partition-relative).

Attaching these is deliberate: AWS maintains them in step with what the EKS control plane,
kubelet and the VPC CNI call, and EKS documents them as the required policies. They are
not written by this project, so the wildcard walk covers only the documents we write.
"""


@dataclass
class PlatformIamArgs:
    """Inputs of :class:`PlatformIam`."""

    name_prefix: str
    """Physical-name prefix, ``{project}-{stack}``; IAM names are ``{name_prefix}-<role>``."""

    ci_repository: str | None = None
    """GitHub repository (``org/repo``) whose workflows may deploy; ``None``: no CI role."""

    ci_environment: str = "prod"
    """GitHub environment the CI role trusts (``sub`` = ``repo:<org/repo>:environment:<env>``)."""

    github_oidc_provider_arn: pulumi.Input[str] | None = None
    """An existing GitHub Actions OIDC provider (one per account); ``None`` creates one."""

    permission_boundary_arn: pulumi.Input[str | None] | None = None
    """An existing permission boundary for every role the platform creates."""

    create_permission_boundary: bool = False
    """Create a permission boundary (ignored, and rejected, with ``permission_boundary_arn``)."""

    platform_admin_role: bool = True
    """Create the human platform-admin role (needs ``admin_principal_arns``)."""

    admin_principal_arns: Sequence[pulumi.Input[str]] = ()
    """Who may assume platform-admin: role ARNs, IAM user ARNs (MFA required) or SSO
    permission-set role ARN patterns with ``*`` (matched on ``aws:PrincipalArn``). Never the
    account root; required while the role is on."""

    read_only_role: bool = True
    """Create the human read-only role (needs ``read_only_principal_arns``)."""

    read_only_principal_arns: Sequence[pulumi.Input[str]] = ()
    """Who may assume the read-only role (same forms as ``admin_principal_arns``)."""

    state_bucket_arn: pulumi.Input[str] | None = None
    """The Pulumi state bucket the CI role reads and writes (``None``: not granted)."""

    secrets_kms_key_arn: pulumi.Input[str] | None = None
    """The KMS key of the stack's secrets provider the CI role uses (``None``: not granted)."""

    state_bucket: str | None = None
    """Name of the S3 bucket holding the Pulumi state (``scripts.bootstrap_backend``); the CI
    role reads and writes it. Ignored when ``state_bucket_arn`` is given."""

    secrets_kms_key_alias: str | None = None
    """Alias of the secrets provider's KMS key (``alias/...``), resolved to the key's ARN at
    deploy time. Ignored when ``secrets_kms_key_arn`` is given."""

    ci_extra_statements: Sequence[Mapping[str, Any]] = ()
    """Further CI statements for components added later (each with a ``Sid``)."""

    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags merged into every taggable child."""


_HUMAN_ACTIONS = ["sts:AssumeRole", "sts:SetSourceIdentity"]


def human_trust_statements(principals: Sequence[pulumi.Input[str]]) -> list[dict[str, Any]]:
    """Trust of a human role: named principals only, never a whole account.

    Role ARNs are principals themselves; IAM users must have signed in with MFA; an ARN
    pattern (SSO permission-set roles: ``.../AWSReservedSSO_<set>_*``) trusts its account
    only for callers whose ``aws:PrincipalArn`` matches it (``ArnLike``).
    """
    plain = [p for p in principals if not isinstance(p, str)]  # computed: role ARNs
    roles = plain + [p for p in principals if isinstance(p, str) and ":role/" in p and "*" not in p]
    users = [p for p in principals if isinstance(p, str) and ":user/" in p]
    patterns = [p for p in principals if isinstance(p, str) and "*" in p]
    statements: list[dict[str, Any]] = []
    if roles:
        statements.append(principal_statement("HumanRoles", {"AWS": roles}, _HUMAN_ACTIONS))
    if users:
        statements.append(
            principal_statement(
                "HumanUsersWithMfa",
                {"AWS": users},
                _HUMAN_ACTIONS,
                Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            )
        )
    if patterns:
        parts = [p.split(":") for p in patterns]
        accounts = sorted({f"arn:{arn[1]}:iam::{arn[4]}:root" for arn in parts})
        statements.append(
            principal_statement(
                "HumanSsoRoles",
                {"AWS": accounts},
                _HUMAN_ACTIONS,
                Condition={"ArnLike": {"aws:PrincipalArn": patterns}},
            )
        )
    return statements


class PlatformIam(Component, legacy_module="iam"):
    """Cluster, node, CI and human roles of one environment, under one permission boundary."""

    cluster_role_arn: pulumi.Output[str]
    """Role the EKS control plane assumes (AmazonEKSClusterPolicy)."""

    node_role_arn: pulumi.Output[str]
    """Role of the managed node groups' instances."""

    platform_admin_role_arn: pulumi.Output[str | None]
    """Human platform-admin role; map it to AmazonEKSClusterAdminPolicy (``None``: off)."""

    read_only_role_arn: pulumi.Output[str | None]
    """Human read-only role; map it to AmazonEKSViewPolicy on namespaces (``None``: off)."""

    ci_role_arn: pulumi.Output[str | None]
    """The CI deploy role (``None`` without ``ci_repository``)."""

    github_oidc_provider_arn: pulumi.Output[str | None]
    """The GitHub Actions OIDC provider the CI role trusts."""

    permission_boundary_arn: pulumi.Output[str | None]
    """The boundary every platform role carries (``None``: no boundary)."""

    def __init__(
        self, name: str, args: PlatformIamArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, self.validate)
        super().__init__(name, opts)
        self._args = args
        self._name = name
        child = self.child()
        prefix = args.name_prefix
        self._arns = AccountArns(self.aws.partition, self.aws.region, self.aws.account)

        boundary: pulumi.Input[str | None] | None = args.permission_boundary_arn
        self._boundary_policy: aws.iam.Policy | None = None
        if args.create_permission_boundary:
            boundary_name = physical_name("permission-boundary", NameKind.IAM_POLICY, prefix)
            boundary_arn = pulumi.Output.concat(
                "arn:", self.aws.partition, ":iam::", self.aws.account, ":policy/", boundary_name
            )
            self._boundary_policy = aws.iam.Policy(
                f"{name}-permission-boundary",
                name=boundary_name,
                description="Ceiling of every role this platform creates",
                policy=policy_json(boundary_document(boundary_arn)),
                tags=merge_tags(args.tags, {"role": "permission-boundary"}),
                opts=child,
            )
            boundary = self._boundary_policy.arn
        self._boundary = boundary

        self.cluster_role = self._service_role(
            "cluster", "eks-cluster", "eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]
        )
        self.node_role = self._service_role(
            "node", "eks-node", "ec2.amazonaws.com", ["sts:AssumeRole"]
        )

        self.platform_admin_role: aws.iam.Role | None = None
        if args.platform_admin_role:
            self.platform_admin_role = self._human_role(
                "platform-admin", args.admin_principal_arns, "Platform administrators"
            )
        self.read_only_role: aws.iam.Role | None = None
        if args.read_only_role:
            self.read_only_role = self._human_role(
                "read-only", args.read_only_principal_arns, "Read-only access to the environment"
            )

        self.github_oidc_provider: aws.iam.OpenIdConnectProvider | None = None
        self.ci_role: aws.iam.Role | None = None
        provider_arn: pulumi.Input[str] | None = args.github_oidc_provider_arn
        if args.ci_repository:
            if provider_arn is None:
                self.github_oidc_provider = aws.iam.OpenIdConnectProvider(
                    f"{name}-github-oidc",
                    url=GITHUB_OIDC_URL,
                    client_id_lists=[STS_AUDIENCE],
                    # No thumbprint_lists: IAM trusts GitHub's issuer through its own
                    # library of root CAs, and pulumi-aws 7 makes thumbprints optional.
                    tags=merge_tags(args.tags, {"role": "github-oidc"}),
                    opts=child,
                )
                provider_arn = self.github_oidc_provider.arn
            self.ci_role = self._ci_role(provider_arn)

        self.publish(
            cluster_role_arn=self.cluster_role.arn,
            node_role_arn=self.node_role.arn,
            platform_admin_role_arn=pulumi.Output.from_input(
                self.platform_admin_role.arn if self.platform_admin_role else None
            ),
            read_only_role_arn=pulumi.Output.from_input(
                self.read_only_role.arn if self.read_only_role else None
            ),
            ci_role_arn=pulumi.Output.from_input(self.ci_role.arn if self.ci_role else None),
            github_oidc_provider_arn=pulumi.Output.from_input(
                provider_arn if args.ci_repository else None
            ),
            permission_boundary_arn=pulumi.Output.from_input(boundary),
        )

    # --- validation ----------------------------------------------------------------------

    @staticmethod
    def validate(args: PlatformIamArgs) -> list[Invalid]:
        """Every problem with ``args`` (plain values only; Outputs are checked by AWS)."""
        problems: list[Invalid] = []
        if args.ci_repository is not None and not GITHUB_REPOSITORY.matches(args.ci_repository):
            problems.append(
                Invalid(
                    "ci_repository",
                    args.ci_repository,
                    "a GitHub repository in org/repo form, e.g. acme/mlops-platform",
                )
            )
        if not GITHUB_ENVIRONMENT.matches(args.ci_environment):
            problems.append(
                Invalid(
                    "ci_environment",
                    args.ci_environment,
                    "a GitHub environment name: letters, digits, '.', '_' or '-'",
                )
            )
        if args.permission_boundary_arn is not None and args.create_permission_boundary:
            problems.append(
                Invalid(
                    "create_permission_boundary",
                    True,
                    "give either permission_boundary_arn or create_permission_boundary, not both",
                )
            )
        checks: list[tuple[str, Any, Pattern, str]] = [
            (
                "permission_boundary_arn",
                args.permission_boundary_arn,
                IAM_POLICY_ARN,
                "a policy ARN",
            ),
            (
                "github_oidc_provider_arn",
                args.github_oidc_provider_arn,
                OIDC_PROVIDER_ARN,
                "an IAM OIDC provider ARN",
            ),
        ]
        human = "a role ARN, an IAM user ARN or an SSO role ARN pattern with * (not the root)"
        for arg, enabled, principals in (
            ("admin_principal_arns", args.platform_admin_role, args.admin_principal_arns),
            ("read_only_principal_arns", args.read_only_role, args.read_only_principal_arns),
        ):
            if enabled and not principals:
                problems.append(
                    Invalid(arg, [], f"at least one principal while the role is on; {human}")
                )
            checks += [
                (f"{arg}[{i}]", arn, HUMAN_PRINCIPAL_ARN, human) for i, arn in enumerate(principals)
            ]
        for arg, value, pattern, what in checks:
            if isinstance(value, str) and not pattern.matches(value):
                problems.append(Invalid(arg, value, f"must be {what}"))
        for i, extra in enumerate(args.ci_extra_statements):
            if not extra.get("Sid"):
                problems.append(
                    Invalid(f"ci_extra_statements[{i}]", extra, "every statement has a Sid")
                )
        return problems

    # --- roles ---------------------------------------------------------------------------

    def _role(
        self,
        key: str,
        role: str,
        trust: Mapping[str, Any],
        description: str,
    ) -> aws.iam.Role:
        return aws.iam.Role(
            f"{self._name}-{key}",
            name=physical_name(role, NameKind.IAM_ROLE, self._args.name_prefix, owner=self.owner),
            description=description,
            assume_role_policy=policy_json(trust),
            permissions_boundary=self._boundary,
            max_session_duration=3600,
            tags=merge_tags(self._args.tags, {"role": role}),
            opts=self.child(),
        )

    def _service_role(self, key: str, role: str, service: str, actions: list[str]) -> aws.iam.Role:
        trust = {
            "Version": POLICY_VERSION,
            "Statement": [principal_statement("ServiceAssume", {"Service": service}, actions)],
        }
        iam_role = self._role(key, role, trust, f"{service} role of {self._args.name_prefix}")
        for policy_name in MANAGED_POLICY_ARNS[key]:
            aws.iam.RolePolicyAttachment(
                f"{self._name}-{key}-{policy_name}",
                role=iam_role.name,
                policy_arn=pulumi.Output.concat(
                    "arn:", self.aws.partition, ":iam::aws:policy/", policy_name
                ),
                opts=self.child(),
            )
        return iam_role

    def _human_role(
        self, key: str, principals: Sequence[pulumi.Input[str]], description: str
    ) -> aws.iam.Role:
        trust = {"Version": POLICY_VERSION, "Statement": human_trust_statements(principals)}
        iam_role = self._role(key, key, trust, description)
        cluster_arn = self._arns.arn("eks", f"cluster/{self._args.name_prefix}-*")
        aws.iam.RolePolicy(
            f"{self._name}-{key}-eks",
            role=iam_role.name,
            policy=policy_json(
                {
                    "Version": POLICY_VERSION,
                    "Statement": [
                        statement(
                            "HumanDescribeCluster",
                            [
                                "eks:DescribeCluster",
                                "eks:ListNodegroups",
                                "eks:ListAddons",
                                "eks:ListAccessEntries",
                            ],
                            [cluster_arn],
                        ),
                        statement("HumanListClusters", ["eks:ListClusters"], "*"),
                    ],
                }
            ),
            opts=self.child(),
        )
        return iam_role

    def _ci_role(self, provider_arn: pulumi.Input[str]) -> aws.iam.Role:
        args = self._args
        trust = {
            "Version": POLICY_VERSION,
            "Statement": [
                principal_statement(
                    "GithubActionsOidc",
                    {"Federated": provider_arn},
                    ["sts:AssumeRoleWithWebIdentity"],
                    Condition={
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                            f"{GITHUB_OIDC_HOST}:sub": (
                                f"repo:{args.ci_repository}:environment:{args.ci_environment}"
                            ),
                        }
                    },
                )
            ],
        }
        role_name = physical_name(
            "ci-deploy", NameKind.IAM_ROLE, args.name_prefix, owner=self.owner
        )
        ci_role = self._role("ci-deploy", "ci-deploy", trust, "GitHub Actions deploy role")
        documents = ci_documents(
            self._arns,
            args.name_prefix,
            role_name,
            boundary=self._boundary,
            state_bucket_arn=self._state_bucket_arn(),
            secrets_key_arn=self._secrets_key_arn(),
            extra_statements=args.ci_extra_statements,
        )
        for part, document in documents.items():
            policy = aws.iam.Policy(
                f"{self._name}-ci-{part}",
                name=physical_name(f"ci-deploy-{part}", NameKind.IAM_POLICY, args.name_prefix),
                description=f"pulumi up of {args.name_prefix}: {part}",
                policy=policy_json(document),
                tags=merge_tags(args.tags, {"role": "ci-deploy"}),
                opts=self.child(),
            )
            aws.iam.RolePolicyAttachment(
                f"{self._name}-ci-{part}",
                role=ci_role.name,
                policy_arn=policy.arn,
                opts=self.child(),
            )
        return ci_role

    def _state_bucket_arn(self) -> pulumi.Input[str] | None:
        """The Pulumi state bucket the CI role uses: given, or named (``None``: neither)."""
        args = self._args
        if args.state_bucket_arn is None and args.state_bucket:
            return pulumi.Output.concat("arn:", self.aws.partition, ":s3:::", args.state_bucket)
        return args.state_bucket_arn

    def _secrets_key_arn(self) -> pulumi.Input[str] | None:
        """The stack secrets' KMS key: given, or looked up by alias (``None``: neither)."""
        args = self._args
        if args.secrets_kms_key_arn is None and args.secrets_kms_key_alias:
            return aws.kms.get_alias_output(
                name=args.secrets_kms_key_alias, opts=pulumi.InvokeOptions(parent=self)
            ).target_key_arn
        return args.secrets_kms_key_arn
