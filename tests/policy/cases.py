"""One non-compliant and one compliant case per rule of the pack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scripts.offline import Registration
from tests.policy.builders import (
    ACCOUNT,
    BUCKET,
    CLUSTER,
    DEPLOYMENT,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    TAGS,
    bucket_set,
    cluster,
    container,
    deployment,
    doc,
    gpu_node_group,
    launch_template,
    res,
    urn,
    user_data,
)

ALL = ("dev", "test", "prod")
PROD = ("prod",)
ENV_ACCOUNTS = {"dev": "111111111111", "test": "222222222222", "prod": "333333333333"}
"""Each environment's AWS account (stacks/Pulumi.<env>.yaml mlops:allowedAccountIds)."""


@dataclass(frozen=True)
class Case:
    """A rule's non-compliant resources (flagging ``target``) and compliant resources."""

    rule: str
    bad: list[Registration]
    good: list[Registration]
    target: str
    """URN the violation must name ("" for a stack-wide finding)."""
    envs: tuple[str, ...] = ALL
    """Environments whose config makes the bad case a violation."""
    good_by_env: Mapping[str, list[Registration]] = field(default_factory=dict)
    """Compliant resources that differ per environment (else ``good``)."""

    def good_for(self, env: str) -> list[Registration]:
        """The compliant resources for ``env``."""
        return self.good_by_env.get(env, self.good)


def _one(
    type_: str, name: str, bad: dict, good: dict, rule: str, envs: tuple[str, ...] = ALL
) -> Case:
    return Case(rule, [res(type_, name, bad)], [res(type_, name, good)], urn(type_, name), envs)


REPO = "aws:ecr/repository:Repository"
GOOD_REPO = {
    "name": "model-server",
    "imageTagMutability": "IMMUTABLE",
    "imageScanningConfiguration": {"scanOnPush": True},
    "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "arn:key"}],
    "tags": TAGS,
}
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
RDS = "aws:rds/instance:Instance"
VPC = "aws:ec2/vpc:Vpc"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
OIDC = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
GOOD_RDS = {
    "storageEncrypted": True,
    "publiclyAccessible": False,
    "backupRetentionPeriod": 7,
    "multiAz": True,
    "deletionProtection": True,
    "tags": TAGS,
}


def _sg(ingress: list[dict], description: str = "EKS nodes") -> dict:
    return {"description": description, "ingress": ingress, "tags": TAGS}


def _ingress(cidr: str, port: int) -> dict:
    return {
        "protocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "cidrBlocks": [cidr],
        "description": "test rule",
    }


def _allow(action: object, resource: object = "*", **extra: object) -> str:
    return doc({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def _trust(principal: object, **extra: object) -> str:
    return doc(
        {
            "Effect": "Allow",
            "Principal": principal,
            "Action": "sts:AssumeRoleWithWebIdentity"
            if "Federated" in str(principal)
            else "sts:AssumeRole",
            **extra,
        }
    )


def _vpc_case() -> tuple[list[Registration], list[Registration]]:
    vpc_urn = urn(VPC, "vpc")
    vpc = res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16", "tags": TAGS})
    endpoints = [
        res(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            f"ep-{svc}",
            {"vpcId": "vpc-id", "serviceName": f"com.amazonaws.us-east-1.{svc}", "tags": TAGS},
            deps={"vpcId": [vpc_urn]},
        )
        for svc in ("s3", "ecr.api", "ecr.dkr")
    ]
    flow = res(
        "aws:ec2/flowLog:FlowLog",
        "flow",
        {"vpcId": "vpc-id", "trafficType": "ALL", "tags": TAGS},
        deps={"vpcId": [vpc_urn]},
    )
    return [vpc, *endpoints], [vpc, *endpoints, flow]


def _namespace_case() -> tuple[list[Registration], list[Registration]]:
    ns_type = "kubernetes:core/v1:Namespace"
    ns = res(ns_type, "team-a", {"metadata": {"name": "team-a"}})
    guard = [
        res(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "team-a-deny",
            {"metadata": {"namespace": "team-a"}, "spec": {"podSelector": {}}},
            deps={"metadata": [urn(ns_type, "team-a")]},
        ),
        res(
            "kubernetes:core/v1:ResourceQuota",
            "team-a-quota",
            {"metadata": {"namespace": "team-a"}, "spec": {"hard": {"pods": "20"}}},
        ),
    ]
    return [ns], [ns, *guard]


def _serving_case() -> tuple[list[Registration], list[Registration]]:
    labels = {"app": "llm", "mlops/workload": "serving"}
    bad = res(DEPLOYMENT, "llm", deployment(replicas=1, labels=labels))
    good = res(DEPLOYMENT, "llm", deployment(replicas=2, labels=labels))
    pdb = res(
        "kubernetes:policy/v1:PodDisruptionBudget",
        "llm-pdb",
        {
            "metadata": {"namespace": "serving"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "llm"}}},
        },
    )
    return [bad], [good, pdb]


def _cases() -> list[Case]:
    b_urn = urn(BUCKET, "models")
    return [
        _one(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "pab",
            {
                "bucket": "b",
                "blockPublicAcls": True,
                "blockPublicPolicy": False,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            {
                "bucket": "b",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            "s3-public-access-block-all-flags",
        ),
        Case(
            "s3-bucket-has-public-access-block",
            bucket_set("models", drop="pab"),
            bucket_set("models"),
            b_urn,
        ),
        _one(
            BUCKET,
            "models",
            {"bucket": "m", "acl": "public-read", "tags": TAGS},
            {"bucket": "m", "acl": "private", "tags": TAGS},
            "s3-no-public-acl",
        ),
        _one(
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "own",
            {"bucket": "b", "rule": {"objectOwnership": "ObjectWriter"}},
            {"bucket": "b", "rule": {"objectOwnership": "BucketOwnerEnforced"}},
            "s3-ownership-bucket-owner-enforced",
        ),
        Case(
            "s3-bucket-kms-encryption",
            bucket_set(
                "models",
                encryption={
                    "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
                },
            ),
            bucket_set("models"),
            b_urn,
        ),
        Case(
            "s3-bucket-tls-only",
            bucket_set(
                "models",
                policy={
                    "policy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                            "Action": "s3:GetObject",
                            "Resource": "*",
                        }
                    )
                },
            ),
            bucket_set("models"),
            b_urn,
        ),
        _one(
            "aws:s3/bucketPolicy:BucketPolicy",
            "pol",
            {
                "bucket": "b",
                "policy": doc(
                    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
                ),
            },
            {
                "bucket": "b",
                "policy": doc(
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
                    }
                ),
            },
            "s3-bucket-policy-no-public-principal",
        ),
        Case(
            "s3-bucket-versioning",
            bucket_set("models", versioning={"versioningConfiguration": {"status": "Suspended"}}),
            bucket_set("models"),
            b_urn,
        ),
        Case(
            "s3-bucket-access-logging",
            bucket_set("models", drop="logging"),
            bucket_set("models"),
            b_urn,
        ),
        Case(
            "s3-bucket-lifecycle-aborts-multipart",
            bucket_set(
                "models",
                lifecycle={
                    "rules": [{"id": "expire", "status": "Enabled", "expiration": {"days": 30}}]
                },
            ),
            bucket_set("models"),
            b_urn,
        ),
        Case(
            "s3-bucket-replication-or-object-lock",
            bucket_set("models"),
            bucket_set("models", bucket={"objectLockEnabled": True}),
            b_urn,
            PROD,
        ),
        _one(
            REPO,
            "repo",
            {**GOOD_REPO, "imageTagMutability": "MUTABLE"},
            GOOD_REPO,
            "ecr-immutable-tags",
        ),
        _one(
            REPO,
            "repo",
            {**GOOD_REPO, "imageScanningConfiguration": {"scanOnPush": False}},
            GOOD_REPO,
            "ecr-scan-on-push",
        ),
        _one(
            REPO,
            "repo",
            {**GOOD_REPO, "encryptionConfigurations": [{"encryptionType": "AES256"}]},
            GOOD_REPO,
            "ecr-kms-encryption",
        ),
        Case(
            "ecr-repository-lifecycle-policy",
            [res(REPO, "repo", GOOD_REPO)],
            [
                res(REPO, "repo", GOOD_REPO),
                res(
                    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
                    "repo-lifecycle",
                    {"repository": "model-server", "policy": "{}"},
                ),
            ],
            urn(REPO, "repo"),
        ),
        _one(
            "aws:ecr/repositoryPolicy:RepositoryPolicy",
            "repo-policy",
            {
                "repository": "r",
                "policy": doc(
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage"}
                ),
            },
            {
                "repository": "r",
                "policy": doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "ecr:BatchGetImage",
                    }
                ),
            },
            "ecr-repository-policy-not-public",
        ),
        _one(
            CLUSTER,
            "eks",
            cluster(
                vpcConfig={
                    "subnetIds": ["s"],
                    "endpointPrivateAccess": True,
                    "endpointPublicAccess": True,
                    "publicAccessCidrs": ["0.0.0.0/0"],
                }
            ),
            cluster(),
            "eks-endpoint-private",
        ),
        _one(CLUSTER, "eks", cluster(encryptionConfig=None), cluster(), "eks-secrets-encryption"),
        _one(
            CLUSTER,
            "eks",
            cluster(enabledClusterLogTypes=["api", "audit"]),
            cluster(),
            "eks-control-plane-logging",
        ),
        _one(CLUSTER, "eks", cluster(version="1.27"), cluster(), "eks-supported-version"),
        _one(
            CLUSTER,
            "eks",
            cluster(
                accessConfig={
                    "authenticationMode": "CONFIG_MAP",
                    "bootstrapClusterCreatorAdminPermissions": True,
                }
            ),
            cluster(),
            "eks-access-entries-no-bootstrap-admin",
        ),
        _one(
            NODE_GROUP,
            "ng",
            gpu_node_group(remoteAccess={"ec2SshKey": "ops"}),
            gpu_node_group(),
            "eks-node-group-no-open-ssh",
        ),
        _one(
            "aws:eks/addon:Addon",
            "vpc-cni",
            {"clusterName": "c", "addonName": "vpc-cni", "tags": TAGS},
            {
                "clusterName": "c",
                "addonName": "vpc-cni",
                "addonVersion": "v1.19.2-eksbuild.1",
                "tags": TAGS,
            },
            "eks-versions-pinned",
        ),
        _one(
            "aws:ec2/subnet:Subnet",
            "public-a",
            {"vpcId": "v", "mapPublicIpOnLaunch": True, "tags": TAGS},
            {"vpcId": "v", "mapPublicIpOnLaunch": False, "tags": TAGS},
            "ec2-subnet-no-public-ip-on-launch",
        ),
        _one(
            LAUNCH_TEMPLATE,
            "lt",
            launch_template(
                metadataOptions={"httpTokens": "optional", "httpPutResponseHopLimit": 2}
            ),
            launch_template(),
            "ec2-launch-template-imdsv2",
        ),
        _one(
            LAUNCH_TEMPLATE,
            "lt",
            launch_template(
                metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 3}
            ),
            launch_template(),
            "ec2-launch-template-hop-limit",
        ),
        _one(
            LAUNCH_TEMPLATE,
            "lt",
            launch_template(
                blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100}}]
            ),
            launch_template(),
            "ec2-ebs-encrypted",
        ),
        _one(
            LAUNCH_TEMPLATE,
            "lt",
            launch_template(networkInterfaces=[{"associatePublicIpAddress": "true"}]),
            launch_template(),
            "ec2-no-public-ip",
        ),
        _one(
            LAUNCH_TEMPLATE,
            "lt",
            launch_template(
                userData=user_data("#!/bin/bash\nexport AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n")
            ),
            launch_template(),
            "ec2-no-secrets-in-user-data",
        ),
        _one(
            "aws:ebs/encryptionByDefault:EncryptionByDefault",
            "ebs",
            {"enabled": False},
            {"enabled": True},
            "ec2-ebs-encryption-by-default",
        ),
        _one(
            SG,
            "sg",
            _sg([_ingress("0.0.0.0/0", 22)]),
            _sg([_ingress("10.0.0.0/16", 22)]),
            "ec2-sg-no-world-admin-ports",
        ),
        _one(
            SG,
            "sg",
            _sg([_ingress("0.0.0.0/0", 8080)]),
            _sg([_ingress("10.0.0.0/16", 8080)]),
            "ec2-sg-no-world-ingress",
        ),
        _one(SG, "sg", _sg([], description="Managed by Pulumi"), _sg([]), "ec2-sg-descriptions"),
        Case(
            "ec2-sg-no-inline-and-standalone-rules",
            [
                res(SG, "sg", _sg([_ingress("10.0.0.0/16", 443)])),
                res(
                    SG_RULE,
                    "sg-rule",
                    {
                        "type": "ingress",
                        "securityGroupId": "sg-id",
                        "protocol": "tcp",
                        "fromPort": 80,
                        "toPort": 80,
                        "cidrBlocks": ["10.0.0.0/16"],
                        "description": "d",
                    },
                    deps={"securityGroupId": [urn(SG, "sg")]},
                ),
            ],
            [
                res(SG, "sg", _sg([])),
                res(
                    SG_RULE,
                    "sg-rule",
                    {
                        "type": "ingress",
                        "securityGroupId": "sg-id",
                        "protocol": "tcp",
                        "fromPort": 80,
                        "toPort": 80,
                        "cidrBlocks": ["10.0.0.0/16"],
                        "description": "d",
                    },
                    deps={"securityGroupId": [urn(SG, "sg")]},
                ),
            ],
            urn(SG, "sg"),
        ),
        _one(
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
            "default-sg",
            {
                "vpcId": "v",
                "ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
            },
            {"vpcId": "v"},
            "ec2-default-sg-no-rules",
        ),
        Case("ec2-vpc-flow-logs", *_vpc_case(), urn(VPC, "vpc")),
        Case(
            "ec2-vpc-endpoints",
            [res(VPC, "vpc", {"cidrBlock": "10.0.0.0/16", "tags": TAGS})],
            _vpc_case()[1],
            urn(VPC, "vpc"),
        ),
        _one(
            "aws:ec2/networkAcl:NetworkAcl",
            "nacl",
            {
                "vpcId": "v",
                "ingress": [
                    {
                        "action": "allow",
                        "cidrBlock": "0.0.0.0/0",
                        "protocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "ruleNo": 100,
                    }
                ],
                "tags": TAGS,
            },
            {
                "vpcId": "v",
                "ingress": [
                    {
                        "action": "allow",
                        "cidrBlock": "10.0.0.0/8",
                        "protocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "ruleNo": 100,
                    }
                ],
                "tags": TAGS,
            },
            "ec2-nacl-no-world-admin-ports",
        ),
        _one(
            "aws:iam/rolePolicy:RolePolicy",
            "rp",
            {"role": "r", "policy": _allow("*")},
            {"role": "r", "policy": _allow(["s3:GetObject"], "arn:aws:s3:::models/*")},
            "iam-no-admin-policy",
        ),
        _one(
            POLICY,
            "p",
            {"policy": _allow("ec2:*"), "tags": TAGS},
            {"policy": _allow("ec2:DescribeInstances"), "tags": TAGS},
            "iam-no-service-wildcard",
        ),
        _one(
            POLICY,
            "p",
            {"policy": _allow("iam:PassRole"), "tags": TAGS},
            {"policy": _allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/nodes"), "tags": TAGS},
            "iam-no-privilege-escalation",
        ),
        _one(
            ROLE,
            "role",
            {"assumeRolePolicy": _trust("*"), "tags": TAGS},
            {"assumeRolePolicy": _trust({"Service": "ec2.amazonaws.com"}), "tags": TAGS},
            "iam-role-trust-no-wildcard-principal",
        ),
        _one(
            ROLE,
            "irsa",
            {
                "assumeRolePolicy": _trust(
                    {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"},
                    Condition={"StringLike": {f"{OIDC}:sub": "system:serviceaccount:*"}},
                ),
                "tags": TAGS,
            },
            {
                "assumeRolePolicy": _trust(
                    {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"},
                    Condition={
                        "StringEquals": {
                            f"{OIDC}:sub": "system:serviceaccount:serving:model-server",
                            f"{OIDC}:aud": "sts.amazonaws.com",
                        }
                    },
                ),
                "tags": TAGS,
            },
            "iam-oidc-trust-pinned",
        ),
        Case(
            "iam-no-users-or-access-keys",
            [res("aws:iam/user:User", "ci", {"tags": TAGS})],
            [
                res(
                    ROLE,
                    "ci",
                    {"assumeRolePolicy": _trust({"Service": "ec2.amazonaws.com"}), "tags": TAGS},
                )
            ],
            urn("aws:iam/user:User", "ci"),
        ),
        Case(
            "iam-no-policy-management-conflicts",
            [
                res(
                    ROLE,
                    "role",
                    {
                        "name": "app",
                        "assumeRolePolicy": _trust({"Service": "ec2.amazonaws.com"}),
                        "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnly"],
                        "tags": TAGS,
                    },
                ),
                res(
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    "attach",
                    {"role": "app", "policyArn": "arn:aws:iam::aws:policy/Other"},
                ),
            ],
            [
                res(
                    ROLE,
                    "role",
                    {
                        "name": "app",
                        "assumeRolePolicy": _trust({"Service": "ec2.amazonaws.com"}),
                        "tags": TAGS,
                    },
                ),
                res(
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    "attach",
                    {"role": "app", "policyArn": "arn:aws:iam::aws:policy/Other"},
                ),
            ],
            urn(ROLE, "role"),
        ),
        _one(
            POLICY,
            "p",
            {"policy": _allow("kms:Decrypt"), "tags": TAGS},
            {"policy": _allow("kms:Decrypt", "arn:aws:kms:us-east-1:1:key/k"), "tags": TAGS},
            "iam-no-kms-decrypt-on-all-keys",
        ),
        _one(
            KEY,
            "key",
            {"enableKeyRotation": False, "tags": TAGS},
            {"enableKeyRotation": True, "tags": TAGS},
            "kms-key-rotation",
        ),
        _one(
            KEY,
            "key",
            {
                "policy": doc(
                    {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
                ),
                "tags": TAGS,
            },
            {
                "policy": doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ),
                "tags": TAGS,
            },
            "kms-key-policy-not-public",
        ),
        _one(
            KEY,
            "key",
            {"deletionWindowInDays": 7, "bypassPolicyLockoutSafetyCheck": True, "tags": TAGS},
            {"deletionWindowInDays": 30, "tags": TAGS},
            "kms-key-deletion-window",
        ),
        _one(
            LOG_GROUP,
            "lg",
            {"retentionInDays": 1, "kmsKeyId": "arn:key", "tags": TAGS},
            {"retentionInDays": 365, "kmsKeyId": "arn:key", "tags": TAGS},
            "logs-retention",
        ),
        _one(
            LOG_GROUP,
            "lg",
            {"retentionInDays": 365, "tags": TAGS},
            {"retentionInDays": 365, "kmsKeyId": "arn:key", "tags": TAGS},
            "logs-kms-encryption",
        ),
        _one(RDS, "db", {**GOOD_RDS, "storageEncrypted": False}, GOOD_RDS, "rds-storage-encrypted"),
        _one(RDS, "db", {**GOOD_RDS, "publiclyAccessible": True}, GOOD_RDS, "rds-not-public"),
        _one(RDS, "db", {**GOOD_RDS, "backupRetentionPeriod": 1}, GOOD_RDS, "rds-backup-retention"),
        _one(RDS, "db", {**GOOD_RDS, "multiAz": False}, GOOD_RDS, "rds-multi-az", PROD),
        _one(
            RDS,
            "db",
            {**GOOD_RDS, "deletionProtection": False},
            GOOD_RDS,
            "rds-deletion-protection",
            PROD,
        ),
        _one(
            DEPLOYMENT,
            "app",
            deployment(hostNetwork=True),
            deployment(),
            "k8s-no-privileged-or-host-namespaces",
        ),
        _one(
            DEPLOYMENT,
            "app",
            deployment([container(securityContext={"readOnlyRootFilesystem": True})]),
            deployment(),
            "k8s-restricted-security-context",
        ),
        _one(
            DEPLOYMENT,
            "app",
            deployment(
                [
                    container(
                        securityContext={
                            "allowPrivilegeEscalation": False,
                            "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"},
                        }
                    )
                ]
            ),
            deployment(),
            "k8s-read-only-root-filesystem",
        ),
        _one(
            DEPLOYMENT,
            "app",
            deployment([container(resources={})]),
            deployment(),
            "k8s-resource-requests-and-limits",
        ),
        _one(
            DEPLOYMENT,
            "app",
            deployment(
                [
                    container(
                        resources={
                            "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": 1},
                            "limits": {"cpu": "2", "memory": "1Gi", "nvidia.com/gpu": 1},
                        }
                    )
                ]
            ),
            deployment(
                [
                    container(
                        resources={
                            "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": 1},
                            "limits": {"cpu": "2", "memory": "1Gi", "nvidia.com/gpu": 1},
                        }
                    )
                ],
                tolerations=[
                    {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
                ],
            ),
            "k8s-gpu-requests-limits-toleration",
        ),
        Case(
            "k8s-images-pinned-from-allowed-registries",
            [res(DEPLOYMENT, "app", deployment([container(image="nginx:latest")]))],
            [res(DEPLOYMENT, "app", deployment())],
            urn(DEPLOYMENT, "app"),
            good_by_env={
                env: [
                    res(
                        DEPLOYMENT,
                        "app",
                        deployment(
                            [container(image=f"{account}.dkr.ecr.us-east-1.amazonaws.com/m:1.4.2")]
                        ),
                    )
                ]
                for env, account in ENV_ACCOUNTS.items()
            },
        ),
        _one(
            DEPLOYMENT,
            "app",
            deployment([container(livenessProbe=None, readinessProbe=None)]),
            deployment(),
            "k8s-liveness-and-readiness-probes",
        ),
        _one(
            DEPLOYMENT,
            "app",
            deployment(serviceAccountName="default", automountServiceAccountToken=True),
            deployment(),
            "k8s-service-account-token",
        ),
        _one(
            "kubernetes:core/v1:Service",
            "svc",
            {"metadata": {"namespace": "serving"}, "spec": {"type": "LoadBalancer"}},
            {
                "metadata": {
                    "namespace": "serving",
                    "annotations": {
                        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"
                    },
                },
                "spec": {"type": "LoadBalancer"},
            },
            "k8s-service-internal-only",
        ),
        _one(
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
            "cr",
            {"rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}]},
            {"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
            "k8s-rbac-no-wildcards-or-escalation",
        ),
        Case(
            "k8s-tenant-namespace-guardrails",
            *_namespace_case(),
            urn("kubernetes:core/v1:Namespace", "team-a"),
        ),
        Case("k8s-serving-high-availability", *_serving_case(), urn(DEPLOYMENT, "llm"), PROD),
        _one(
            "kubernetes:helm.sh/v3:Release",
            "monitoring",
            {
                "chart": "kube-prometheus-stack",
                "repositoryOpts": {"repo": "https://charts.example.invalid"},
            },
            {
                "chart": "kube-prometheus-stack",
                "version": "77.0.0",
                "repositoryOpts": {"repo": "https://prometheus-community.github.io/helm-charts"},
            },
            "helm-release-pinned-and-allowlisted",
        ),
        _one(
            NODE_GROUP,
            "ng",
            gpu_node_group(instanceTypes=["p3.2xlarge"]),
            gpu_node_group(),
            "gpu-instance-type-allowlist",
        ),
        Case(
            "gpu-budget",
            [
                res(
                    NODE_GROUP,
                    "ng",
                    gpu_node_group(
                        instanceTypes=["g5.12xlarge"], scalingConfig={"minSize": 0, "maxSize": 20}
                    ),
                )
            ],
            [res(NODE_GROUP, "ng", gpu_node_group())],
            "",
        ),
        _one(
            NODE_GROUP,
            "ng",
            gpu_node_group(taints=[], labels={}),
            gpu_node_group(),
            "gpu-pool-taint-and-labels",
        ),
        _one(
            NODE_GROUP,
            "ng",
            gpu_node_group(capacityType="SPOT"),
            gpu_node_group(),
            "gpu-serving-on-demand-baseline",
            PROD,
        ),
        Case(
            "stateful-resources-protected",
            [res(LOG_GROUP, "lg", {"retentionInDays": 365})],
            [res(LOG_GROUP, "lg", {"retentionInDays": 365}, protect=True)],
            urn(LOG_GROUP, "lg"),
            PROD,
        ),
        _one(REPO, "repo", {**GOOD_REPO, "tags": {"owner": "x"}}, GOOD_REPO, "required-tags"),
    ]


CASES: list[Case] = _cases()

EXTRA_BAD: list[Case] = [
    Case(
        "gpu-budget",
        [
            res(
                NODE_POOL,
                "batch",
                {
                    "spec": {
                        "template": {
                            "spec": {
                                "requirements": [
                                    {
                                        "key": "node.kubernetes.io/instance-type",
                                        "operator": "In",
                                        "values": ["g5.xlarge"],
                                    }
                                ],
                                "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
                            }
                        }
                    }
                },
            )
        ],
        [],
        urn(NODE_POOL, "batch"),
    ),
    Case(
        "s3-no-public-acl",
        [
            res(
                "aws:s3/bucketAcl:BucketAcl",
                "acl",
                {
                    "bucket": "b",
                    "accessControlPolicy": {
                        "owner": {"id": "o"},
                        "grants": [
                            {
                                "grantee": {
                                    "type": "Group",
                                    "uri": "http://acs.amazonaws.com/groups/global/AllUsers",
                                },
                                "permission": "READ",
                            }
                        ],
                    },
                },
            )
        ],
        [],
        urn("aws:s3/bucketAcl:BucketAcl", "acl"),
    ),
    Case(
        "eks-endpoint-private",
        [
            res(
                CLUSTER,
                "eks",
                cluster(
                    vpcConfig={
                        "subnetIds": ["s"],
                        "endpointPrivateAccess": True,
                        "endpointPublicAccess": True,
                        "publicAccessCidrs": ["203.0.113.0/24"],
                    }
                ),
            )
        ],
        [],
        urn(CLUSTER, "eks"),
        # Only dev's stack has a public endpoint (policy/config follows the stacks).
        ("test", "prod"),
    ),
    Case(
        "gpu-pool-taint-and-labels",
        [
            res(
                NODE_POOL,
                "gpu",
                {
                    "spec": {
                        "template": {
                            "metadata": {"labels": {"k8s.amazonaws.com/accelerator": "nvidia-l4"}},
                            "spec": {
                                "requirements": [
                                    {
                                        "key": "node.kubernetes.io/instance-type",
                                        "operator": "In",
                                        "values": ["g6.xlarge"],
                                    }
                                ]
                            },
                        }
                    }
                },
            )
        ],
        [],
        urn(NODE_POOL, "gpu"),
    ),
]
"""More non-compliant shapes for rules whose inputs come in several forms."""


# --- review findings: shapes that slipped through before ---------------------------------

GITHUB = "token.actions.githubusercontent.com"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
HELM = "kubernetes:helm.sh/v3:Release"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _github_trust(operator: str, sub: str) -> str:
    return _trust(
        {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}"},
        Condition={operator: {f"{GITHUB}:sub": sub}, "StringEquals": {f"{GITHUB}:aud": "sts"}},
    )


def _public_statement(condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    return doc({**statement, **({"Condition": condition} if condition else {})})


def _tls_policy(**changes: object) -> dict:
    arn = "arn:aws:s3:::models-physical"
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return {"policy": doc({**statement, **changes})}


def _node_pool(requirements: list[dict], limits: dict | None = None, **spec: object) -> dict:
    return {
        "spec": {
            **({"limits": limits} if limits else {}),
            "template": {
                "metadata": {"labels": {"k8s.amazonaws.com/accelerator": "nvidia-a10g"}},
                "spec": {"requirements": requirements, **spec},
            },
        }
    }


def _one_bad(type_: str, name: str, inputs: dict, rule: str, envs: tuple = ALL) -> Case:
    return Case(rule, [res(type_, name, inputs)], [], urn(type_, name), envs)


def _review_cases() -> list[Case]:
    lt_urn = urn(LAUNCH_TEMPLATE, "gpu-lt")
    boundary_urn = urn(POLICY, "boundary")
    return [
        # 1. the registry host is parsed, not pattern-matched over the whole reference
        _one_bad(
            DEPLOYMENT,
            "app",
            deployment(
                [container(image="evil.example/x.dkr.ecr.us-east-1.amazonaws.com/miner:1.0")]
            ),
            "k8s-images-pinned-from-allowed-registries",
        ),
        _one_bad(
            DEPLOYMENT,
            "app",
            deployment([container(image="999999999999.dkr.ecr.us-east-1.amazonaws.com/m:1.0")]),
            "k8s-images-pinned-from-allowed-registries",
        ),
        # 2. OIDC pinning: no wildcard GitHub repo, no negated operators
        _one_bad(
            ROLE,
            "gha",
            {"assumeRolePolicy": _github_trust("StringLike", "repo:*"), "tags": TAGS},
            "iam-oidc-trust-pinned",
        ),
        _one_bad(
            ROLE,
            "gha",
            {"assumeRolePolicy": _github_trust("StringLike", "repo:*/infra:*"), "tags": TAGS},
            "iam-oidc-trust-pinned",
        ),
        _one_bad(
            ROLE,
            "irsa",
            {
                "assumeRolePolicy": _trust(
                    {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"},
                    Condition={
                        "StringNotEquals": {f"{OIDC}:sub": "system:serviceaccount:a:b"},
                        "StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"},
                    },
                ),
                "tags": TAGS,
            },
            "iam-oidc-trust-pinned",
        ),
        # 3. a permissions boundary that is also attached is a grant
        Case(
            "iam-no-admin-policy",
            [
                res(POLICY, "boundary", {"policy": _allow("*"), "tags": TAGS}),
                res(
                    ROLE,
                    "app",
                    {
                        "assumeRolePolicy": _trust({"Service": "ec2.amazonaws.com"}),
                        "permissionsBoundary": "arn:boundary",
                        "tags": TAGS,
                    },
                    deps={"permissionsBoundary": [boundary_urn]},
                ),
                res(
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    "attach",
                    {"role": "app", "policyArn": "arn:boundary"},
                    deps={"policyArn": [boundary_urn]},
                ),
            ],
            [],
            boundary_urn,
        ),
        # 4. GPU pools recognised through launch templates, amiType, families, categories
        Case(
            "gpu-budget",
            [
                res(LAUNCH_TEMPLATE, "gpu-lt", launch_template(instanceType="g5.12xlarge")),
                res(
                    NODE_GROUP,
                    "ng",
                    gpu_node_group(
                        instanceTypes=None,
                        launchTemplate={"id": "gpu-lt-id", "version": "1"},
                        scalingConfig={"minSize": 0, "maxSize": 20},
                    ),
                    deps={"launchTemplate": [lt_urn]},
                ),
            ],
            [],
            "",
        ),
        _one_bad(
            NODE_GROUP,
            "ng",
            gpu_node_group(
                instanceTypes=None, launchTemplate={"id": "lt-elsewhere", "version": "1"}
            ),
            "gpu-budget",
        ),
        _one_bad(
            NODE_POOL,
            "family",
            _node_pool(
                [{"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["g5"]}]
            ),
            "gpu-budget",
        ),
        _one_bad(
            NODE_POOL,
            "category",
            _node_pool(
                [{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["p"]}],
                limits={"nvidia.com/gpu": "8"},
            ),
            "gpu-pool-taint-and-labels",
        ),
        _one_bad(
            NODE_GROUP,
            "ng",
            gpu_node_group(instanceTypes=None, taints=[]),
            "gpu-pool-taint-and-labels",
        ),
        # 5. "the world" is any range broader than /8, or ranges that add up to it
        _one_bad(
            SG,
            "sg",
            _sg(
                [
                    {
                        **_ingress("0.0.0.0/1", 22),
                        "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"],
                    }
                ]
            ),
            "ec2-sg-no-world-admin-ports",
        ),
        _one_bad(
            SG,
            "sg",
            _sg(
                [
                    {
                        **_ingress("10.0.0.0/8", 22),
                        "cidrBlocks": [],
                        "ipv6CidrBlocks": ["::0/0"],
                    }
                ]
            ),
            "ec2-sg-no-world-admin-ports",
        ),
        _one_bad(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "in",
            {
                "securityGroupId": "sg",
                "cidrIpv4": "0.0.0.0/4",
                "ipProtocol": "tcp",
                "fromPort": 8080,
                "toPort": 8080,
                "tags": TAGS,
            },
            "ec2-sg-no-world-ingress",
        ),
        _one_bad(
            CLUSTER,
            "eks",
            cluster(
                vpcConfig={
                    "subnetIds": ["s"],
                    "endpointPrivateAccess": True,
                    "endpointPublicAccess": True,
                    "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"],
                }
            ),
            "eks-endpoint-private",
        ),
        _one_bad(
            "aws:ec2/networkAcl:NetworkAcl",
            "nacl",
            {
                "vpcId": "v",
                "ingress": [
                    {
                        "action": "allow",
                        "cidrBlock": "0.0.0.0/00",
                        "protocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "ruleNo": 100,
                    }
                ],
                "tags": TAGS,
            },
            "ec2-nacl-no-world-admin-ports",
        ),
        # 6. a bucket's inline policy is a bucket policy too
        _one_bad(
            BUCKET,
            "inline",
            {"bucket": "inline", "policy": _public_statement(), "tags": TAGS},
            "s3-bucket-policy-no-public-principal",
        ),
        # 7. only principal-restricting conditions narrow a public principal
        _one_bad(
            BUCKET_POLICY,
            "pol",
            {"bucket": "b", "policy": _public_statement({"Bool": {"aws:SecureTransport": "true"}})},
            "s3-bucket-policy-no-public-principal",
        ),
        _one_bad(
            BUCKET_POLICY,
            "pol",
            {"bucket": "b", "policy": _public_statement({"StringLike": {"aws:PrincipalArn": "*"}})},
            "s3-bucket-policy-no-public-principal",
        ),
        _one_bad(
            BUCKET_POLICY,
            "pol",
            {
                "bucket": "b",
                "policy": _public_statement({"StringNotEquals": {"aws:PrincipalOrgID": "o-123"}}),
            },
            "s3-bucket-policy-no-public-principal",
        ),
        _one_bad(
            ROLE,
            "role",
            {
                "assumeRolePolicy": _trust(
                    "*", Condition={"IpAddress": {"aws:SourceIp": "1.2.3.4"}}
                ),
                "tags": TAGS,
            },
            "iam-role-trust-no-wildcard-principal",
        ),
        _one_bad(
            KEY,
            "key",
            {
                "policy": doc(
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"kms:ViaService": "s3.amazonaws.com"}},
                    }
                ),
                "tags": TAGS,
            },
            "kms-key-policy-not-public",
        ),
        # 8. Aurora cluster instances
        _one_bad(
            CLUSTER_INSTANCE,
            "writer",
            {"clusterIdentifier": "c", "instanceClass": "db.r6g.large", "publiclyAccessible": True},
            "rds-not-public",
        ),
        # 9. AdministratorAccess through every attachment shape
        *[
            _one_bad(type_, "admin", {**inputs}, "iam-no-admin-policy")
            for type_, inputs in (
                (
                    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
                    {"roleName": "r", "policyArns": [ADMIN_ARN]},
                ),
                (
                    "aws:iam/policyAttachment:PolicyAttachment",
                    {"policyArn": ADMIN_ARN, "roles": ["r"]},
                ),
                (
                    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
                    {"group": "g", "policyArn": ADMIN_ARN},
                ),
                (
                    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
                    {"user": "u", "policyArn": ADMIN_ARN},
                ),
            )
        ],
        # 10. userDataBase64
        _one_bad(
            "aws:ec2/instance:Instance",
            "vm",
            {
                "ami": "ami-1",
                "instanceType": "t3.micro",
                "userDataBase64": user_data("export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n"),
                "tags": TAGS,
            },
            "ec2-no-secrets-in-user-data",
        ),
        # 11. capabilities added back
        _one_bad(
            DEPLOYMENT,
            "app",
            deployment(
                [
                    container(
                        securityContext={
                            "allowPrivilegeEscalation": False,
                            "runAsNonRoot": True,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
                            "seccompProfile": {"type": "RuntimeDefault"},
                        }
                    )
                ]
            ),
            "k8s-restricted-security-context",
        ),
        # 12. the TLS deny covers every S3 action for every principal
        Case(
            "s3-bucket-tls-only",
            bucket_set("models", policy=_tls_policy(Action="s3:GetObject")),
            [],
            urn(BUCKET, "models"),
        ),
        Case(
            "s3-bucket-tls-only",
            bucket_set(
                "models", policy=_tls_policy(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
            ),
            [],
            urn(BUCKET, "models"),
        ),
        # 13. a chart URL is checked whatever repositoryOpts says
        *[
            _one_bad(
                HELM,
                "rel",
                {
                    "chart": chart,
                    "version": "1.0.0",
                    "repositoryOpts": {
                        "repo": "https://prometheus-community.github.io/helm-charts"
                    },
                },
                "helm-release-pinned-and-allowlisted",
            )
            for chart in (
                "oci://evil.example/charts/miner",
                "https://evil.example/charts/miner-1.0.0.tgz",
            )
        ],
        # 17. every AWS resource that takes tags
        _one_bad("aws:sns/topic:Topic", "alerts", {"name": "alerts"}, "required-tags"),
        _one_bad(
            "aws:lambda/function:Function",
            "fn",
            {"role": "r", "tags": {"owner": "x"}},
            "required-tags",
        ),
    ]


EXTRA_BAD += _review_cases()

EXTRA_GOOD: list[tuple[str, list[Registration]]] = [
    (
        "k8s-restricted-security-context",
        [
            res(
                DEPLOYMENT,
                "app",
                deployment(
                    [
                        container(
                            securityContext={
                                "allowPrivilegeEscalation": False,
                                "runAsNonRoot": True,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                                "seccompProfile": {"type": "RuntimeDefault"},
                            }
                        )
                    ]
                ),
            )
        ],
    ),
    (
        "iam-oidc-trust-pinned",
        [
            res(
                ROLE,
                "gha",
                {
                    "assumeRolePolicy": _github_trust(
                        "StringLike", "repo:acme/infra:ref:refs/heads/*"
                    ),
                    "tags": TAGS,
                },
            )
        ],
    ),
    (
        "s3-bucket-policy-no-public-principal",
        [
            res(
                BUCKET_POLICY,
                "pol",
                {
                    "bucket": "b",
                    "policy": _public_statement(
                        {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:*"}}
                    ),
                },
            )
        ],
    ),
    (
        "ec2-sg-no-world-admin-ports",
        [res(SG, "sg", _sg([{**_ingress("10.0.0.0/8", 22), "cidrBlocks": ["10.0.0.0/8"]}]))],
    ),
    (
        "helm-release-pinned-and-allowlisted",
        [
            res(
                HELM,
                "karpenter",
                {"chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.6.0"},
            )
        ],
    ),
    (
        "gpu-budget",
        [
            res(LAUNCH_TEMPLATE, "gpu-lt", launch_template(instanceType="g5.xlarge")),
            res(
                NODE_GROUP,
                "ng",
                gpu_node_group(
                    instanceTypes=None, launchTemplate={"id": "gpu-lt-id", "version": "1"}
                ),
                deps={"launchTemplate": [urn(LAUNCH_TEMPLATE, "gpu-lt")]},
            ),
        ],
    ),
]
"""Compliant shapes close to the review findings: must not be flagged in any environment."""

# The tenancy rules' cases live in their own module (policy/rules/tenancy.py).
from tests.policy.tenancy_cases import tenancy_cases  # noqa: E402

CASES.extend(tenancy_cases())
# The serving rules' cases live with their tests (tests/policy/serving_cases.py).
from tests.policy.serving_cases import serving_cases  # noqa: E402

CASES += serving_cases(Case, ENV_ACCOUNTS)
