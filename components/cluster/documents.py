"""The documents a ``ServingCluster`` writes: the secrets/logs key policy, the EBS CSI
driver's least-privilege policy, and the kubeconfig that gets a token with ``aws eks``."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from ..core.kms import key_admin_statement, logs_key_use_statement
from ..iam import POLICY_VERSION


def key_policy(
    partition: pulumi.Input[str],
    account: pulumi.Input[str],
    region: pulumi.Input[str],
    cluster_role_arn: pulumi.Input[str],
    log_group_arn: pulumi.Input[str],
) -> dict[str, Any]:
    """The secrets/logs key policy: account administration (explicit actions, no ``kms:*``),
    use by the cluster role, and use by CloudWatch Logs for this cluster's log group only.

    ``Resource: "*"`` in a key policy means this key.
    """
    root = pulumi.Output.concat("arn:", partition, ":iam::", account, ":root")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            key_admin_statement(root),
            {
                "Sid": "ClusterRoleUsesKey",
                "Effect": "Allow",
                "Principal": {"AWS": cluster_role_arn},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"],
                "Resource": "*",
            },
            {
                "Sid": "ClusterRoleGrantsForEks",
                "Effect": "Allow",
                "Principal": {"AWS": cluster_role_arn},
                "Action": ["kms:CreateGrant"],
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            logs_key_use_statement("CloudWatchLogsUsesKey", region, log_group_arn),
        ],
    }


def ebs_csi_policy(
    partition: pulumi.Input[str], region: pulumi.Input[str], account: pulumi.Input[str]
) -> dict[str, Any]:
    """Least privilege for the EBS CSI controller: only volumes and snapshots it tagged.

    The driver tags what it creates with ``ebs.csi.aws.com/cluster = true``; creation
    requires that tag, and attach/modify/delete act only on resources carrying it.
    """

    def arn(kind: str) -> pulumi.Output[str]:
        return pulumi.Output.concat("arn:", partition, ":ec2:", region, ":", account, f":{kind}/*")

    volume, snapshot, instance = arn("volume"), arn("snapshot"), arn("instance")
    owned = {"StringEquals": {"aws:ResourceTag/ebs.csi.aws.com/cluster": "true"}}
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "EbsCsiDescribe",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeInstances",
                    "ec2:DescribeSnapshots",
                    "ec2:DescribeTags",
                    "ec2:DescribeVolumes",
                    "ec2:DescribeVolumesModifications",
                ],
                "Resource": "*",
            },
            {
                "Sid": "EbsCsiCreateTaggedVolumes",
                "Effect": "Allow",
                "Action": ["ec2:CreateVolume"],
                "Resource": [volume],
                "Condition": {"StringEquals": {"aws:RequestTag/ebs.csi.aws.com/cluster": "true"}},
            },
            {
                "Sid": "EbsCsiCreateFromSnapshots",
                "Effect": "Allow",
                "Action": ["ec2:CreateVolume"],
                "Resource": [snapshot],
            },
            {
                "Sid": "EbsCsiTagOnCreate",
                "Effect": "Allow",
                "Action": ["ec2:CreateTags"],
                "Resource": [volume, snapshot],
                "Condition": {
                    "StringEquals": {"ec2:CreateAction": ["CreateVolume", "CreateSnapshot"]}
                },
            },
            {
                "Sid": "EbsCsiManageOwnedVolumes",
                "Effect": "Allow",
                "Action": [
                    "ec2:AttachVolume",
                    "ec2:DetachVolume",
                    "ec2:ModifyVolume",
                    "ec2:DeleteVolume",
                    "ec2:CreateSnapshot",
                    "ec2:CreateTags",
                    "ec2:DeleteTags",
                ],
                "Resource": [volume],
                "Condition": owned,
            },
            {
                "Sid": "EbsCsiAttachToInstances",
                "Effect": "Allow",
                "Action": ["ec2:AttachVolume", "ec2:DetachVolume"],
                "Resource": [instance],
            },
            {
                "Sid": "EbsCsiSnapshots",
                "Effect": "Allow",
                "Action": ["ec2:CreateSnapshot"],
                "Resource": [snapshot],
                "Condition": {"StringEquals": {"aws:RequestTag/ebs.csi.aws.com/cluster": "true"}},
            },
            {
                "Sid": "EbsCsiManageOwnedSnapshots",
                "Effect": "Allow",
                "Action": ["ec2:DeleteSnapshot", "ec2:CreateTags", "ec2:DeleteTags"],
                "Resource": [snapshot],
                "Condition": owned,
            },
        ],
    }


def kubeconfig_json(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig (JSON is YAML) that gets a token with ``aws eks get-token``."""
    user = f"{cluster_name}-aws"
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}
            ],
            "current-context": cluster_name,
            "users": [
                {
                    "name": user,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        indent=2,
    )
