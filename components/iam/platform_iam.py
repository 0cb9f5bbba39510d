"""``PlatformIam``: the roles an environment is built and operated with.

``PlatformIam`` creates the EKS cluster role, the node role, the CI deploy role (trusted
through GitHub Actions OIDC), the human platform-admin and read-only roles, and optionally
a permission boundary that every role the platform creates carries. It is built BEFORE the
serving cluster: its role ARNs are inputs of
:class:`mlops_platform.cluster.serving_cluster.ServingCluster`
(cluster role, node role, access entries), so there is no cycle.

Workload roles (one per Kubernetes service account) are built with the helpers in
:mod:`.workload`; policy documents follow the rules of :mod:`.documents`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..core.coercion import accept_args
from ..core.naming import NameKind, physical_name
from ..core.tagging import merge_tags
from ..core.tokens import component_options, component_token
from ..core.validation import Invalid
from .documents import POLICY_VERSION, STS_AUDIENCE, policy_json, statement
from .service_linked import SPOT_SERVICE

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
"""The issuer of GitHub Actions OIDC tokens."""

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"

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

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
_HUMAN_PRINCIPAL = re.compile(
    r"^arn:aws[a-z-]*:iam::(\d{12}):(role/[\w+=,.@/*-]+|user/[\w+=,.@/-]+)$"
)
"""A human role's principal: a role ARN, an IAM user ARN, or a role ARN pattern with ``*``
(SSO permission-set roles carry a random suffix), never the account root."""
_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/.+$")
_OIDC_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$")

_PASSED_TO_SERVICES = (
    "eks.amazonaws.com",
    "ec2.amazonaws.com",
    "pods.eks.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "monitoring.rds.amazonaws.com",
)
_SERVICE_LINKED = (
    "eks.amazonaws.com",
    "eks-nodegroup.amazonaws.com",
    "autoscaling.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    SPOT_SERVICE,
    "rds.amazonaws.com",
    "inspector2.amazonaws.com",
)
_BOUNDARY_SERVICES = (
    "acm",  # the AWS Load Balancer Controller reads TLS certificates for listeners
    "autoscaling",
    "cloudwatch",
    "codeconnections",
    "ec2",
    "ec2messages",
    "ecr",
    "eks",
    "eks-auth",
    "elasticloadbalancing",
    "events",
    "iam",
    "inspector2",
    "kms",
    "logs",
    "pricing",
    "rds",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "ssmmessages",
    "sts",
    "aps",
)


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
        statements.append(
            {
                "Sid": "HumanRoles",
                "Effect": "Allow",
                "Principal": {"AWS": roles},
                "Action": _HUMAN_ACTIONS,
            }
        )
    if users:
        statements.append(
            {
                "Sid": "HumanUsersWithMfa",
                "Effect": "Allow",
                "Principal": {"AWS": users},
                "Action": _HUMAN_ACTIONS,
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        )
    if patterns:
        parts = [p.split(":") for p in patterns]
        accounts = sorted({f"arn:{arn[1]}:iam::{arn[4]}:root" for arn in parts})
        statements.append(
            {
                "Sid": "HumanSsoRoles",
                "Effect": "Allow",
                "Principal": {"AWS": accounts},
                "Action": _HUMAN_ACTIONS,
                "Condition": {"ArnLike": {"aws:PrincipalArn": patterns}},
            }
        )
    return statements


class PlatformIam(pulumi.ComponentResource):
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
        super().__init__(
            component_token("PlatformIam"),
            name,
            None,
            component_options("iam", "PlatformIam", opts),
        )
        args = accept_args("PlatformIam", name, args, self.validate)
        self._args = args
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        region = aws.get_region_output(opts=invoke)
        self._account = identity.account_id
        self._partition = partition.partition
        self._region = region.region
        prefix = args.name_prefix

        boundary: pulumi.Input[str | None] | None = args.permission_boundary_arn
        self._boundary_policy: aws.iam.Policy | None = None
        if args.create_permission_boundary:
            boundary_name = physical_name("permission-boundary", NameKind.IAM_POLICY, prefix)
            boundary_arn = pulumi.Output.concat(
                "arn:", self._partition, ":iam::", self._account, ":policy/", boundary_name
            )
            self._boundary_policy = aws.iam.Policy(
                f"{name}-permission-boundary",
                name=boundary_name,
                description="Ceiling of every role this platform creates",
                policy=policy_json(self.boundary_document(boundary_arn)),
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

        self.cluster_role_arn = self.cluster_role.arn
        self.node_role_arn = self.node_role.arn
        self.platform_admin_role_arn = pulumi.Output.from_input(
            self.platform_admin_role.arn if self.platform_admin_role else None
        )
        self.read_only_role_arn = pulumi.Output.from_input(
            self.read_only_role.arn if self.read_only_role else None
        )
        self.ci_role_arn = pulumi.Output.from_input(self.ci_role.arn if self.ci_role else None)
        self.github_oidc_provider_arn = pulumi.Output.from_input(
            provider_arn if args.ci_repository else None
        )
        self.permission_boundary_arn = pulumi.Output.from_input(boundary)
        self.register_outputs(
            {
                "cluster_role_arn": self.cluster_role_arn,
                "node_role_arn": self.node_role_arn,
                "platform_admin_role_arn": self.platform_admin_role_arn,
                "read_only_role_arn": self.read_only_role_arn,
                "ci_role_arn": self.ci_role_arn,
                "github_oidc_provider_arn": self.github_oidc_provider_arn,
                "permission_boundary_arn": self.permission_boundary_arn,
            }
        )

    # --- validation ----------------------------------------------------------------------

    @staticmethod
    def validate(args: PlatformIamArgs) -> list[Invalid]:
        """Every problem with ``args`` (plain values only; Outputs are checked by AWS)."""
        problems: list[Invalid] = []
        if args.ci_repository is not None and not _REPO.match(args.ci_repository):
            problems.append(
                Invalid(
                    "ci_repository",
                    args.ci_repository,
                    "a GitHub repository in org/repo form, e.g. acme/mlops-platform",
                )
            )
        if not _ENVIRONMENT.match(args.ci_environment):
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
        checks: list[tuple[str, Any, re.Pattern[str], str]] = [
            ("permission_boundary_arn", args.permission_boundary_arn, _POLICY_ARN, "a policy ARN"),
            (
                "github_oidc_provider_arn",
                args.github_oidc_provider_arn,
                _OIDC_ARN,
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
                (f"{arg}[{i}]", arn, _HUMAN_PRINCIPAL, human) for i, arn in enumerate(principals)
            ]
        for arg, value, pattern, what in checks:
            if isinstance(value, str) and not pattern.match(value):
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
            name=physical_name(
                role, NameKind.IAM_ROLE, self._args.name_prefix, owner=_owner(self._name)
            ),
            description=description,
            assume_role_policy=policy_json(trust),
            permissions_boundary=self._boundary,
            max_session_duration=3600,
            tags=merge_tags(self._args.tags, {"role": role}),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _service_role(self, key: str, role: str, service: str, actions: list[str]) -> aws.iam.Role:
        trust = {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "ServiceAssume",
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": actions,
                }
            ],
        }
        iam_role = self._role(key, role, trust, f"{service} role of {self._args.name_prefix}")
        for policy_name in MANAGED_POLICY_ARNS[key]:
            aws.iam.RolePolicyAttachment(
                f"{self._name}-{key}-{policy_name}",
                role=iam_role.name,
                policy_arn=pulumi.Output.concat(
                    "arn:", self._partition, ":iam::aws:policy/", policy_name
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return iam_role

    def _human_role(
        self, key: str, principals: Sequence[pulumi.Input[str]], description: str
    ) -> aws.iam.Role:
        trust = {"Version": POLICY_VERSION, "Statement": human_trust_statements(principals)}
        iam_role = self._role(key, key, trust, description)
        cluster_arn = self._arn("eks", f"cluster/{self._args.name_prefix}-*")
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
            opts=pulumi.ResourceOptions(parent=self),
        )
        return iam_role

    def _arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "arn:",
            self._partition,
            f":{service}:",
            self._region if regional else "",
            ":",
            self._account,
            ":",
            resource,
        )

    def _ci_role(self, provider_arn: pulumi.Input[str]) -> aws.iam.Role:
        args = self._args
        trust = {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "GithubActionsOidc",
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": ["sts:AssumeRoleWithWebIdentity"],
                    "Condition": {
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                            f"{GITHUB_OIDC_HOST}:sub": (
                                f"repo:{args.ci_repository}:environment:{args.ci_environment}"
                            ),
                        }
                    },
                }
            ],
        }
        role_name = physical_name(
            "ci-deploy", NameKind.IAM_ROLE, args.name_prefix, owner=_owner(self._name)
        )
        ci_role = self._role("ci-deploy", "ci-deploy", trust, "GitHub Actions deploy role")
        for part, document in self.ci_documents(role_name).items():
            policy = aws.iam.Policy(
                f"{self._name}-ci-{part}",
                name=physical_name(f"ci-deploy-{part}", NameKind.IAM_POLICY, args.name_prefix),
                description=f"pulumi up of {args.name_prefix}: {part}",
                policy=policy_json(document),
                tags=merge_tags(args.tags, {"role": "ci-deploy"}),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.iam.RolePolicyAttachment(
                f"{self._name}-ci-{part}",
                role=ci_role.name,
                policy_arn=policy.arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return ci_role

    # --- documents -----------------------------------------------------------------------

    def boundary_document(self, boundary_arn: pulumi.Input[str]) -> dict[str, Any]:
        """The permission boundary: a service ceiling, and Deny on every escalation path."""
        return {
            "Version": POLICY_VERSION,
            "Statement": [
                statement("BoundaryServiceCeiling", [f"{s}:*" for s in _BOUNDARY_SERVICES], "*"),
                statement(
                    "BoundaryDenyUnboundedRoles",
                    ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
                    "*",
                    effect="Deny",
                    Condition={"StringNotEquals": {"iam:PermissionsBoundary": boundary_arn}},
                ),
                statement(
                    "BoundaryDenyRemoval",
                    ["iam:DeleteRolePermissionsBoundary"],
                    "*",
                    effect="Deny",
                ),
                statement(
                    "BoundaryDenyEditingItself",
                    [
                        "iam:CreatePolicyVersion",
                        "iam:DeletePolicy",
                        "iam:DeletePolicyVersion",
                        "iam:SetDefaultPolicyVersion",
                    ],
                    [boundary_arn],
                    effect="Deny",
                ),
                statement(
                    "BoundaryDenyLongLivedCredentials",
                    [
                        "iam:CreateUser",
                        "iam:CreateAccessKey",
                        "iam:CreateLoginProfile",
                        "iam:UpdateLoginProfile",
                    ],
                    "*",
                    effect="Deny",
                ),
            ],
        }

    def ci_documents(self, ci_role_name: str) -> dict[str, dict[str, Any]]:
        """The CI deploy role's permissions, split to fit the 6,144-character policy limit.

        Scoped to what ``pulumi up`` of this project does: names under ``{name_prefix}-``,
        this account and region. Statements on ``*`` are listed in
        :data:`WILDCARD_RESOURCE_EXCEPTIONS` with AWS's reason.
        """
        args = self._args
        prefix = args.name_prefix
        role_arn = self._arn("iam", f"role/{prefix}-*", regional=False)
        policy_arn = self._arn("iam", f"policy/{prefix}-*", regional=False)
        own_role = self._arn("iam", f"role/{ci_role_name}", regional=False)
        region_only = {"StringEquals": {"aws:RequestedRegion": self._region}}
        boundary_condition: dict[str, Any] = (
            {"Condition": {"StringEquals": {"iam:PermissionsBoundary": self._boundary}}}
            if self._boundary is not None
            else {}
        )
        eks_arns = [
            self._arn("eks", f"cluster/{prefix}-*"),
            self._arn("eks", f"nodegroup/{prefix}-*"),
            self._arn("eks", f"addon/{prefix}-*"),
            self._arn("eks", f"access-entry/{prefix}-*"),
            self._arn("eks", f"podidentityassociation/{prefix}-*"),
        ]
        eks_oidc_arn = pulumi.Output.concat(
            "arn:",
            self._partition,
            ":iam::",
            self._account,
            ":oidc-provider/oidc.eks.",
            self._region,
            ".amazonaws.com/id/*",
        )
        log_group_arns = [
            self._arn("logs", f"log-group:/aws/eks/{prefix}-*"),
            self._arn("logs", f"log-group:/aws/rds/instance/{prefix}-*"),
            self._arn("logs", f"log-group:{prefix}-*"),
        ]
        read = {
            "Version": POLICY_VERSION,
            "Statement": [
                statement(
                    "CiReadOnly",
                    [
                        "ec2:Describe*",
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeTags",
                        "eks:ListClusters",
                        "eks:DescribeAddonVersions",
                        "eks:DescribeAddonConfiguration",
                        "eks:ListAccessPolicies",
                        "iam:ListOpenIDConnectProviders",
                        "kms:ListAliases",
                    ],
                    "*",
                ),
                statement(
                    "CiReadEks",
                    [
                        "eks:DescribeCluster",
                        "eks:DescribeNodegroup",
                        "eks:DescribeAddon",
                        "eks:DescribeUpdate",
                        "eks:DescribeAccessEntry",
                        "eks:DescribePodIdentityAssociation",
                        "eks:ListNodegroups",
                        "eks:ListAddons",
                        "eks:ListAccessEntries",
                        "eks:ListAssociatedAccessPolicies",
                        "eks:ListPodIdentityAssociations",
                        "eks:ListTagsForResource",
                        "eks:ListUpdates",
                    ],
                    eks_arns,
                ),
                statement(
                    "CiReadIamRoles",
                    [
                        "iam:GetRole",
                        "iam:GetRolePolicy",
                        "iam:ListRolePolicies",
                        "iam:ListAttachedRolePolicies",
                        "iam:ListInstanceProfilesForRole",
                    ],
                    [role_arn, self._arn("iam", "role/aws-service-role/*", regional=False)],
                ),
                statement(
                    "CiReadIamPolicies",
                    ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
                    [policy_arn],
                ),
                statement(
                    "CiReadOidcProviders",
                    ["iam:GetOpenIDConnectProvider"],
                    [
                        self._arn("iam", f"oidc-provider/{GITHUB_OIDC_HOST}", regional=False),
                        eks_oidc_arn,
                    ],
                ),
                statement(
                    "CiReadKeys",
                    [
                        "kms:DescribeKey",
                        "kms:GetKeyPolicy",
                        "kms:GetKeyRotationStatus",
                        "kms:ListResourceTags",
                    ],
                    [self._arn("kms", "key/*")],
                ),
                # DescribeLogGroups is authorised on the account's log groups as a whole
                statement(
                    "CiReadLogGroups",
                    ["logs:DescribeLogGroups"],
                    [self._arn("logs", "log-group:*")],
                ),
                statement("CiReadLogGroupTags", ["logs:ListTagsForResource"], log_group_arns),
                # AMI and add-on lookups read AWS's public parameters only, never the
                # account's own (which may hold secrets).
                statement(
                    "CiPublicParameters",
                    ["ssm:GetParameter", "ssm:GetParameters"],
                    pulumi.Output.concat(
                        "arn:", self._partition, ":ssm:", self._region, "::parameter/aws/service/*"
                    ),
                ),
            ],
        }
        network = {
            "Version": POLICY_VERSION,
            "Statement": [
                statement(
                    "CiEc2Network",
                    [
                        "ec2:CreateVpc",
                        "ec2:DeleteVpc",
                        "ec2:ModifyVpcAttribute",
                        "ec2:AssociateVpcCidrBlock",
                        "ec2:DisassociateVpcCidrBlock",
                        "ec2:CreateSubnet",
                        "ec2:DeleteSubnet",
                        "ec2:ModifySubnetAttribute",
                        "ec2:CreateInternetGateway",
                        "ec2:AttachInternetGateway",
                        "ec2:DetachInternetGateway",
                        "ec2:DeleteInternetGateway",
                        "ec2:AllocateAddress",
                        "ec2:ReleaseAddress",
                        "ec2:CreateNatGateway",
                        "ec2:DeleteNatGateway",
                        "ec2:CreateRouteTable",
                        "ec2:DeleteRouteTable",
                        "ec2:CreateRoute",
                        "ec2:DeleteRoute",
                        "ec2:ReplaceRoute",
                        "ec2:AssociateRouteTable",
                        "ec2:DisassociateRouteTable",
                        "ec2:CreateSecurityGroup",
                        "ec2:DeleteSecurityGroup",
                        "ec2:AuthorizeSecurityGroupIngress",
                        "ec2:AuthorizeSecurityGroupEgress",
                        "ec2:RevokeSecurityGroupIngress",
                        "ec2:RevokeSecurityGroupEgress",
                        "ec2:ModifySecurityGroupRules",
                        "ec2:CreateVpcEndpoint",
                        "ec2:ModifyVpcEndpoint",
                        "ec2:DeleteVpcEndpoints",
                        "ec2:CreateFlowLogs",
                        "ec2:DeleteFlowLogs",
                        "ec2:CreateLaunchTemplate",
                        "ec2:CreateLaunchTemplateVersion",
                        "ec2:ModifyLaunchTemplate",
                        "ec2:DeleteLaunchTemplate",
                        "ec2:CreatePlacementGroup",
                        "ec2:DeletePlacementGroup",
                        "ec2:CreateTags",
                        "ec2:DeleteTags",
                    ],
                    "*",
                    Condition=region_only,
                ),
            ],
        }
        cluster = {
            "Version": POLICY_VERSION,
            "Statement": [
                statement(
                    "CiEks",
                    [
                        "eks:CreateCluster",
                        "eks:DeleteCluster",
                        "eks:UpdateClusterConfig",
                        "eks:UpdateClusterVersion",
                        "eks:AssociateEncryptionConfig",
                        "eks:TagResource",
                        "eks:UntagResource",
                        "eks:CreateNodegroup",
                        "eks:DeleteNodegroup",
                        "eks:UpdateNodegroupConfig",
                        "eks:UpdateNodegroupVersion",
                        "eks:CreateAddon",
                        "eks:DeleteAddon",
                        "eks:UpdateAddon",
                        "eks:CreateAccessEntry",
                        "eks:DeleteAccessEntry",
                        "eks:UpdateAccessEntry",
                        "eks:AssociateAccessPolicy",
                        "eks:DisassociateAccessPolicy",
                        "eks:CreatePodIdentityAssociation",
                        "eks:DeletePodIdentityAssociation",
                        "eks:UpdatePodIdentityAssociation",
                    ],
                    eks_arns,
                ),
                statement(
                    "CiIamRoles",
                    [
                        "iam:CreateRole",
                        "iam:PutRolePermissionsBoundary",
                        "iam:PutRolePolicy",
                        "iam:DeleteRolePolicy",
                        "iam:AttachRolePolicy",
                        "iam:DetachRolePolicy",
                    ],
                    [role_arn],
                    **boundary_condition,
                ),
                statement(
                    "CiIamRoleLifecycle",
                    [
                        "iam:DeleteRole",
                        "iam:TagRole",
                        "iam:UntagRole",
                        "iam:UpdateRole",
                        "iam:UpdateRoleDescription",
                        "iam:UpdateAssumeRolePolicy",
                    ],
                    [role_arn],
                ),
                statement(
                    "CiIamPolicies",
                    [
                        "iam:CreatePolicy",
                        "iam:DeletePolicy",
                        "iam:CreatePolicyVersion",
                        "iam:DeletePolicyVersion",
                        "iam:TagPolicy",
                        "iam:UntagPolicy",
                    ],
                    [policy_arn],
                ),
                statement(
                    "CiIamEksOidc",
                    [
                        "iam:CreateOpenIDConnectProvider",
                        "iam:DeleteOpenIDConnectProvider",
                        "iam:TagOpenIDConnectProvider",
                        "iam:UntagOpenIDConnectProvider",
                        "iam:UpdateOpenIDConnectProviderThumbprint",
                        "iam:AddClientIDToOpenIDConnectProvider",
                    ],
                    [eks_oidc_arn],
                ),
                statement(
                    "CiPassPlatformRoles",
                    ["iam:PassRole"],
                    [role_arn],
                    Condition={"StringEquals": {"iam:PassedToService": list(_PASSED_TO_SERVICES)}},
                ),
                statement(
                    "CiServiceLinkedRoles",
                    ["iam:CreateServiceLinkedRole"],
                    [self._arn("iam", "role/aws-service-role/*", regional=False)],
                    Condition={"StringEquals": {"iam:AWSServiceName": list(_SERVICE_LINKED)}},
                ),
                statement(
                    "CiDenySelfEdit",
                    [
                        "iam:UpdateAssumeRolePolicy",
                        "iam:PutRolePolicy",
                        "iam:AttachRolePolicy",
                        "iam:DeleteRolePermissionsBoundary",
                        "iam:PutRolePermissionsBoundary",
                    ],
                    [own_role],
                    effect="Deny",
                ),
                statement(
                    "CiDenyEditingOwnPolicies",
                    [
                        "iam:CreatePolicyVersion",
                        "iam:DeletePolicyVersion",
                        "iam:SetDefaultPolicyVersion",
                        "iam:DeletePolicy",
                    ],
                    [self._arn("iam", f"policy/{ci_role_name}-*", regional=False)],
                    effect="Deny",
                ),
            ],
        }
        key_arn = self._arn("kms", "key/*")
        data_statements: list[dict[str, Any]] = [
            statement("CiKmsCreateKey", ["kms:CreateKey"], "*", Condition=region_only),
            statement(
                "CiKmsManageKeys",
                [
                    "kms:PutKeyPolicy",
                    "kms:EnableKeyRotation",
                    "kms:UpdateKeyDescription",
                    "kms:ScheduleKeyDeletion",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:CreateAlias",
                    "kms:DeleteAlias",
                    "kms:UpdateAlias",
                ],
                [key_arn, self._arn("kms", f"alias/{prefix}-*")],
            ),
            statement(
                "CiKmsGrantsForAwsServices",
                ["kms:CreateGrant"],
                [key_arn],
                Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            statement(
                "CiLogGroups",
                [
                    "logs:CreateLogGroup",
                    "logs:DeleteLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:DeleteRetentionPolicy",
                    "logs:AssociateKmsKey",
                    "logs:DisassociateKmsKey",
                    "logs:TagResource",
                    "logs:UntagResource",
                ],
                log_group_arns,
            ),
        ]
        state_bucket_arn = args.state_bucket_arn
        if state_bucket_arn is None and args.state_bucket:
            state_bucket_arn = pulumi.Output.concat(
                "arn:", self._partition, ":s3:::", args.state_bucket
            )
        secrets_key_arn = args.secrets_kms_key_arn
        if secrets_key_arn is None and args.secrets_kms_key_alias:
            secrets_key_arn = aws.kms.get_alias_output(
                name=args.secrets_kms_key_alias, opts=pulumi.InvokeOptions(parent=self)
            ).target_key_arn
        if state_bucket_arn is not None:
            bucket = pulumi.Output.from_input(state_bucket_arn)
            data_statements += [
                statement("CiStateList", ["s3:ListBucket"], [bucket]),
                statement(
                    "CiStateObjects",
                    ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    [pulumi.Output.concat(bucket, "/*")],
                ),
            ]
        if secrets_key_arn is not None:
            data_statements.append(
                statement(
                    "CiStackSecrets",
                    ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                    [secrets_key_arn],
                )
            )
        data_statements += [dict(s) for s in args.ci_extra_statements]
        data = {"Version": POLICY_VERSION, "Statement": data_statements}
        return {
            "read": read,
            "network": network,
            "cluster": cluster,
            "data": data,
            "services": self._ci_services_document(),
        }

    def _ci_services_document(self) -> dict[str, Any]:
        """CI permissions for the data and workload components: buckets, repositories, the
        MLflow database, Karpenter's queue and rules, alert topic and metrics workspace."""
        prefix = self._args.name_prefix
        return {
            "Version": POLICY_VERSION,
            "Statement": [
                statement(
                    "CiBuckets",
                    [
                        "s3:CreateBucket",
                        "s3:DeleteBucket",
                        "s3:ListBucket",
                        "s3:GetBucketLocation",
                        "s3:GetBucketAcl",
                        "s3:GetBucketCORS",
                        "s3:GetBucketWebsite",
                        "s3:GetBucketRequestPayment",
                        "s3:GetAccelerateConfiguration",
                        "s3:GetBucketVersioning",
                        "s3:PutBucketVersioning",
                        "s3:GetEncryptionConfiguration",
                        "s3:PutEncryptionConfiguration",
                        "s3:GetLifecycleConfiguration",
                        "s3:PutLifecycleConfiguration",
                        "s3:GetBucketLogging",
                        "s3:PutBucketLogging",
                        "s3:GetBucketPolicy",
                        "s3:PutBucketPolicy",
                        "s3:DeleteBucketPolicy",
                        "s3:GetBucketPublicAccessBlock",
                        "s3:PutBucketPublicAccessBlock",
                        "s3:GetBucketOwnershipControls",
                        "s3:PutBucketOwnershipControls",
                        "s3:GetBucketTagging",
                        "s3:PutBucketTagging",
                        "s3:GetReplicationConfiguration",
                        "s3:PutReplicationConfiguration",
                        "s3:GetBucketObjectLockConfiguration",
                        "s3:PutBucketObjectLockConfiguration",
                    ],
                    [pulumi.Output.concat("arn:", self._partition, f":s3:::{prefix}-*")],
                ),
                statement(
                    "CiRepositories",
                    [
                        "ecr:CreateRepository",
                        "ecr:DeleteRepository",
                        "ecr:DescribeRepositories",
                        "ecr:ListTagsForResource",
                        "ecr:TagResource",
                        "ecr:UntagResource",
                        "ecr:PutImageTagMutability",
                        "ecr:PutImageScanningConfiguration",
                        "ecr:GetLifecyclePolicy",
                        "ecr:PutLifecyclePolicy",
                        "ecr:DeleteLifecyclePolicy",
                        "ecr:GetRepositoryPolicy",
                        "ecr:SetRepositoryPolicy",
                        "ecr:DeleteRepositoryPolicy",
                    ],
                    [self._arn("ecr", f"repository/{prefix}-*")],
                ),
                statement(
                    "CiEcrRegistry",
                    [
                        "ecr:GetRegistryScanningConfiguration",
                        "ecr:PutRegistryScanningConfiguration",
                        "ecr:CreatePullThroughCacheRule",
                        "ecr:DeletePullThroughCacheRule",
                        "ecr:DescribePullThroughCacheRules",
                    ],
                    "*",
                    Condition={"StringEquals": {"aws:RequestedRegion": self._region}},
                ),
                statement(
                    "CiModelRegistryDatabase",
                    [
                        "rds:CreateDBInstance",
                        "rds:DeleteDBInstance",
                        "rds:ModifyDBInstance",
                        "rds:DescribeDBInstances",
                        "rds:CreateDBSubnetGroup",
                        "rds:DeleteDBSubnetGroup",
                        "rds:ModifyDBSubnetGroup",
                        "rds:DescribeDBSubnetGroups",
                        "rds:CreateDBParameterGroup",
                        "rds:DeleteDBParameterGroup",
                        "rds:ModifyDBParameterGroup",
                        "rds:DescribeDBParameterGroups",
                        "rds:DescribeDBParameters",
                        "rds:AddTagsToResource",
                        "rds:RemoveTagsFromResource",
                        "rds:ListTagsForResource",
                    ],
                    [
                        self._arn("rds", f"db:{prefix}-*"),
                        self._arn("rds", f"subgrp:{prefix}-*"),
                        self._arn("rds", f"pg:{prefix}-*"),
                        self._arn("rds", f"snapshot:{prefix}-*"),
                    ],
                ),
                statement(
                    "CiRdsDefaultOptionGroup",
                    ["rds:CreateDBInstance"],
                    [self._arn("rds", "og:default:*")],
                ),
                statement(
                    "CiInspectorForEcrScanning",
                    [
                        "inspector2:Enable",
                        "inspector2:ListAccountPermissions",
                        "inspector2:BatchGetAccountStatus",
                    ],
                    "*",
                    Condition={"StringEquals": {"aws:RequestedRegion": self._region}},
                ),
                statement(
                    "CiQueuesRulesTopics",
                    [
                        "sqs:CreateQueue",
                        "sqs:DeleteQueue",
                        "sqs:GetQueueAttributes",
                        "sqs:SetQueueAttributes",
                        "sqs:TagQueue",
                        "sqs:UntagQueue",
                        "sqs:ListQueueTags",
                        "events:PutRule",
                        "events:DeleteRule",
                        "events:DescribeRule",
                        "events:PutTargets",
                        "events:RemoveTargets",
                        "events:ListTargetsByRule",
                        "events:TagResource",
                        "events:UntagResource",
                        "events:ListTagsForResource",
                        "sns:CreateTopic",
                        "sns:DeleteTopic",
                        "sns:GetTopicAttributes",
                        "sns:SetTopicAttributes",
                        "sns:TagResource",
                        "sns:UntagResource",
                        "sns:ListTagsForResource",
                    ],
                    [
                        self._arn("sqs", f"{prefix}-*"),
                        self._arn("events", f"rule/{prefix}-*"),
                        self._arn("sns", f"{prefix}-*"),
                    ],
                ),
                statement(
                    "CiMetricsWorkspace",
                    [
                        "aps:CreateWorkspace",
                        "aps:DeleteWorkspace",
                        "aps:DescribeWorkspace",
                        "aps:UpdateWorkspaceAlias",
                        "aps:TagResource",
                        "aps:UntagResource",
                        "aps:ListTagsForResource",
                    ],
                    [self._arn("aps", "workspace/*")],
                ),
                # Managed node groups' Auto Scaling groups are eks-<node group>-<uuid>, and
                # every platform node group is named {prefix}-... (aws.autoscaling.Tag).
                statement(
                    "CiNodeGroupTags",
                    ["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
                    [
                        self._arn(
                            "autoscaling",
                            f"autoScalingGroup:*:autoScalingGroupName/eks-{prefix}-*",
                        )
                    ],
                ),
            ],
        }


def _owner(name: str) -> str:
    """How a physical-name collision names this component (core.naming.claim_name)."""
    return f"PlatformIam '{name}'"
