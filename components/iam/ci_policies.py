"""The policies of the platform's deploy path: the permission boundary every platform role
carries, and the CI deploy role's permissions (what ``pulumi up`` of this project does, scoped
to the stack's names, account and region).

Plain documents of Outputs: :class:`~.platform_iam.PlatformIam` attaches them, tests read them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from .documents import POLICY_VERSION, statement
from .service_linked import SPOT_SERVICE

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
"""The host of GitHub Actions' OIDC issuer (the prefix of its claim keys)."""

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


@dataclass(frozen=True)
class AccountArns:
    """ARNs in one account and region (each part may be an Output)."""

    partition: pulumi.Input[str]
    region: pulumi.Input[str]
    account: pulumi.Input[str]

    def arn(self, service: str, resource: str, *, regional: bool = True) -> pulumi.Output[str]:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` (no region when not
        ``regional``, as IAM's)."""
        return pulumi.Output.concat(
            "arn:",
            self.partition,
            f":{service}:",
            self.region if regional else "",
            ":",
            self.account,
            ":",
            resource,
        )

    def named(self, service: str, prefix: str, *kinds: str) -> list[pulumi.Output[str]]:
        """The ARNs of every ``service`` resource of each kind (``cluster/``, ``db:``...) whose
        name starts with ``{prefix}-``: the platform names all it creates that way."""
        return [self.arn(service, f"{kind}{prefix}-*") for kind in kinds]


def boundary_document(boundary_arn: pulumi.Input[str]) -> dict[str, Any]:
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


def ci_documents(
    arns: AccountArns,
    prefix: str,
    ci_role_name: str,
    *,
    boundary: pulumi.Input[str | None] | None = None,
    state_bucket_arn: pulumi.Input[str] | None = None,
    secrets_key_arn: pulumi.Input[str] | None = None,
    extra_statements: Sequence[Mapping[str, Any]] = (),
) -> dict[str, dict[str, Any]]:
    """The CI deploy role's permissions, split to fit the 6,144-character policy limit.

    Scoped to what ``pulumi up`` of this project does: names under ``{prefix}-``, this
    account and region; the state bucket and the secrets key when given, and
    ``extra_statements`` for components added later. Statements on ``*`` are listed in
    :data:`WILDCARD_RESOURCE_EXCEPTIONS` with AWS's reason.
    """
    role_arn = arns.arn("iam", f"role/{prefix}-*", regional=False)
    policy_arn = arns.arn("iam", f"policy/{prefix}-*", regional=False)
    own_role = arns.arn("iam", f"role/{ci_role_name}", regional=False)
    region_only = {"StringEquals": {"aws:RequestedRegion": arns.region}}
    boundary_condition: dict[str, Any] = (
        {"Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}}
        if boundary is not None
        else {}
    )
    eks_arns = arns.named(
        "eks",
        prefix,
        "cluster/",
        "nodegroup/",
        "addon/",
        "access-entry/",
        "podidentityassociation/",
    )
    eks_oidc_arn = pulumi.Output.concat(
        "arn:",
        arns.partition,
        ":iam::",
        arns.account,
        ":oidc-provider/oidc.eks.",
        arns.region,
        ".amazonaws.com/id/*",
    )
    log_group_arns = arns.named(
        "logs", prefix, "log-group:/aws/eks/", "log-group:/aws/rds/instance/", "log-group:"
    )
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
                [role_arn, arns.arn("iam", "role/aws-service-role/*", regional=False)],
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
                    arns.arn("iam", f"oidc-provider/{GITHUB_OIDC_HOST}", regional=False),
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
                [arns.arn("kms", "key/*")],
            ),
            # DescribeLogGroups is authorised on the account's log groups as a whole
            statement(
                "CiReadLogGroups",
                ["logs:DescribeLogGroups"],
                [arns.arn("logs", "log-group:*")],
            ),
            statement("CiReadLogGroupTags", ["logs:ListTagsForResource"], log_group_arns),
            # AMI and add-on lookups read AWS's public parameters only, never the
            # account's own (which may hold secrets).
            statement(
                "CiPublicParameters",
                ["ssm:GetParameter", "ssm:GetParameters"],
                pulumi.Output.concat(
                    "arn:", arns.partition, ":ssm:", arns.region, "::parameter/aws/service/*"
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
                [arns.arn("iam", "role/aws-service-role/*", regional=False)],
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
                [arns.arn("iam", f"policy/{ci_role_name}-*", regional=False)],
                effect="Deny",
            ),
        ],
    }
    key_arn = arns.arn("kms", "key/*")
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
            [key_arn, arns.arn("kms", f"alias/{prefix}-*")],
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
    data_statements += [dict(s) for s in extra_statements]
    data = {"Version": POLICY_VERSION, "Statement": data_statements}
    return {
        "read": read,
        "network": network,
        "cluster": cluster,
        "data": data,
        "services": _services_document(arns, prefix),
    }


def _services_document(arns: AccountArns, prefix: str) -> dict[str, Any]:
    """CI permissions for the data and workload components: buckets, repositories, the
    MLflow database, Karpenter's queue and rules, alert topic and metrics workspace."""
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
                [pulumi.Output.concat("arn:", arns.partition, f":s3:::{prefix}-*")],
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
                [arns.arn("ecr", f"repository/{prefix}-*")],
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
                Condition={"StringEquals": {"aws:RequestedRegion": arns.region}},
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
                arns.named("rds", prefix, "db:", "subgrp:", "pg:", "snapshot:"),
            ),
            statement(
                "CiRdsDefaultOptionGroup",
                ["rds:CreateDBInstance"],
                [arns.arn("rds", "og:default:*")],
            ),
            statement(
                "CiInspectorForEcrScanning",
                [
                    "inspector2:Enable",
                    "inspector2:ListAccountPermissions",
                    "inspector2:BatchGetAccountStatus",
                ],
                "*",
                Condition={"StringEquals": {"aws:RequestedRegion": arns.region}},
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
                    arns.arn("sqs", f"{prefix}-*"),
                    arns.arn("events", f"rule/{prefix}-*"),
                    arns.arn("sns", f"{prefix}-*"),
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
                [arns.arn("aps", "workspace/*")],
            ),
            # Managed node groups' Auto Scaling groups are eks-<node group>-<uuid>, and
            # every platform node group is named {prefix}-... (aws.autoscaling.Tag).
            statement(
                "CiNodeGroupTags",
                ["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
                [
                    arns.arn(
                        "autoscaling",
                        f"autoScalingGroup:*:autoScalingGroupName/eks-{prefix}-*",
                    )
                ],
            ),
        ],
    }
