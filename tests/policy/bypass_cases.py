"""Compliant and non-compliant cases for the bypass classes of the policy pack (scope read
literally, foreign accounts, cluster access, workload escapes, Karpenter parity, words that
mean more than they check), including variants beyond the issue's own examples."""

from __future__ import annotations

import json
from typing import Any

from scripts.offline import Registration
from tests.policy.builders import (
    ACCOUNT,
    BUCKET,
    DEPLOYMENT,
    TAGS,
    bucket_set,
    container,
    deployment,
    doc,
    res,
    urn,
)
from tests.policy.cases import ALL, Case

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
KEY = "aws:kms/key:Key"
REPO = "aws:ecr/repository:Repository"
REPO_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
ASSOC = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
RB_PATCH = "kubernetes:rbac.authorization.k8s.io/v1:RoleBindingPatch"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
QUOTA = "kubernetes:core/v1:ResourceQuota"
FOREIGN = "444455556666"
PROVIDER_TYPE = "pulumi:providers:aws"
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def provider() -> Registration:
    """An AWS provider pinned to the test account (inputs JSON-encoded, as the engine sends
    provider configuration)."""
    return res(
        PROVIDER_TYPE, "aws", {"allowedAccountIds": json.dumps([ACCOUNT]), "region": "us-east-1"}
    )


PROVIDER_REF = f"{urn(PROVIDER_TYPE, 'aws')}::aws-id"


def _with_provider(type_: str, name: str, inputs: dict[str, Any]) -> list[Registration]:
    return [provider(), res(type_, name, inputs, provider=PROVIDER_REF)]


def _allow(action: object, resource: object, **extra: object) -> str:
    return doc({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def _policy(name: str, document: str) -> list[Registration]:
    return [res(POLICY, name, {"policy": document, "tags": TAGS})]


def _bad(rule: str, resources: list[Registration], target: str) -> Case:
    return Case(rule, resources, [], target)


def _scope() -> tuple[list[Case], list[tuple[str, list[Registration]]]]:
    p = urn(POLICY, "p")
    bad = [
        _bad("iam-no-admin-policy", _policy("p", _allow("?*", "arn:aws:*:*:*:*")), p),
        _bad("iam-no-admin-policy", _policy("p", _allow(["*:?*"], "arn:*")), p),
        _bad(
            "iam-no-admin-policy",
            [
                res(
                    ATTACH,
                    "a",
                    {"role": "r", "policyArn": "arn:aws:iam::aws:policy/PowerUserAccess"},
                )
            ],
            urn(ATTACH, "a"),
        ),
        _bad(
            "iam-no-admin-policy",
            [
                res(
                    ROLE,
                    "r",
                    {
                        "assumeRolePolicy": doc(),
                        "managedPolicyArns": ["arn:aws-us-gov:iam::aws:policy/IAMFullAccess"],
                        "tags": TAGS,
                    },
                )
            ],
            urn(ROLE, "r"),
        ),
        _bad("iam-no-service-wildcard", _policy("p", _allow("ec2:?*", "arn:aws:ec2:*:*:*")), p),
        _bad("iam-no-service-wildcard", _policy("p", _allow("S3:*", "arn:aws:s3:::*")), p),
        _bad(
            "iam-no-service-wildcard",
            _policy("p", _allow("iam:*", f"arn:aws:iam::{ACCOUNT}:role/*")),
            p,
        ),
        _bad(
            "iam-no-privilege-escalation",
            _policy("p", _allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/*")),
            p,
        ),
        _bad(
            "iam-no-privilege-escalation",
            _policy(
                "p",
                _allow(
                    "iam:Pass*",
                    "*",
                    Condition={"StringLike": {"iam:PassedToService": "*"}},
                ),
            ),
            p,
        ),
        _bad(
            "iam-no-kms-decrypt-on-all-keys",
            _policy("p", _allow("kms:Decrypt", f"arn:aws:kms:*:{ACCOUNT}:key/*")),
            p,
        ),
        _bad(
            "iam-no-kms-decrypt-on-all-keys",
            _policy("p", _allow("kms:De*", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*")),
            p,
        ),
    ]
    key = urn(KEY, "k")

    def key_policy(condition: dict[str, Any] | None) -> list[Registration]:
        statement: dict[str, Any] = {
            "Sid": "ViaService",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
        if condition is not None:
            statement["Condition"] = condition
        return [
            res(
                KEY,
                "k",
                {
                    "enableKeyRotation": True,
                    "deletionWindowInDays": 30,
                    "policy": doc(statement),
                    "tags": TAGS,
                },
            )
        ]

    via = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    bad += [
        _bad("kms-key-policy-not-public", key_policy({"StringEquals": via}), key),
        _bad(
            "kms-key-policy-not-public",
            key_policy({"StringLike": {"kms:CallerAccount": "*", **via}}),
            key,
        ),
        _bad(
            "kms-key-policy-not-public",
            key_policy({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}),
            key,
        ),
        _bad(
            "kms-key-policy-not-public",
            key_policy({"StringLike": {"aws:PrincipalOrgID": "o-*"}}),
            key,
        ),
        _bad(
            "s3-bucket-policy-no-public-principal",
            [
                res(
                    "aws:s3/bucketPolicy:BucketPolicy",
                    "pol",
                    {
                        "bucket": "b",
                        "policy": doc(
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": ["*"]},
                                "Action": "s3:GetObject",
                                "Resource": "*",
                                "Condition": {
                                    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reader"}
                                },
                            }
                        ),
                    },
                )
            ],
            urn("aws:s3/bucketPolicy:BucketPolicy", "pol"),
        ),
    ]
    good = [
        # the standard AWS key-policy pattern (the former false positive)
        (
            "kms-key-policy-not-public",
            key_policy({"StringEquals": {"kms:CallerAccount": ACCOUNT, **via}}),
        ),
        (
            "iam-no-service-wildcard",
            _policy("p", _allow("s3:*", "arn:aws:s3:::models-physical/*")),
        ),
        (
            "iam-no-privilege-escalation",
            _policy(
                "p",
                _allow(
                    "iam:PassRole",
                    "*",
                    Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
                ),
            ),
        ),
        (
            "iam-no-kms-decrypt-on-all-keys",
            _policy("p", _allow("kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/abc-123")),
        ),
        (
            "iam-no-admin-policy",
            [
                res(
                    ATTACH,
                    "a",
                    {"role": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                )
            ],
        ),
    ]
    return bad, good


def _trust(principal: object, condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return doc(statement)


def _foreign() -> tuple[list[Case], list[Case], list[tuple[str, list[Registration]]]]:
    role = urn(ROLE, "partner")

    def role_with(trust: str) -> list[Registration]:
        return _with_provider(ROLE, "partner", {"assumeRolePolicy": trust, "tags": TAGS})

    own = role_with(_trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/deployer"}))
    cases = [
        Case(
            "iam-trust-foreign-account-guarded",
            role_with(_trust({"AWS": f"arn:aws:iam::{FOREIGN}:root"})),
            role_with(
                _trust(
                    {"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                    {"StringEquals": {"sts:ExternalId": "partner-7f3a"}},
                )
            ),
            role,
        ),
    ]
    repo_policy = urn(REPO_POLICY, "rp")

    def repo(action: object) -> list[Registration]:
        return _with_provider(
            REPO_POLICY,
            "rp",
            {
                "repository": "r",
                "policy": doc({"Effect": "Allow", "Principal": {"AWS": FOREIGN}, "Action": action}),
            },
        )

    cases.append(
        Case(
            "resource-policy-no-foreign-broad-grant",
            repo("ecr:*"),
            repo(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]),
            repo_policy,
        )
    )
    extra_bad = [
        _bad(
            "iam-trust-foreign-account-guarded",
            role_with(
                _trust(
                    {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", FOREIGN]},
                    {"StringEqualsIfExists": {"sts:ExternalId": "x"}},
                )
            ),
            role,
        ),
        _bad(
            "iam-trust-foreign-account-guarded",
            role_with(
                _trust(
                    {"AWS": f"arn:aws:iam::{FOREIGN}:role/ci"},
                    {"StringLike": {"aws:PrincipalOrgID": "*"}},
                )
            ),
            role,
        ),
        _bad("resource-policy-no-foreign-broad-grant", repo("*"), repo_policy),
        _bad(
            "resource-policy-no-foreign-broad-grant",
            _with_provider(
                QUEUE_POLICY,
                "qp",
                {
                    "queueUrl": "https://sqs/q",
                    "policy": doc(
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": [f"arn:aws:iam::{FOREIGN}:root"]},
                            "Action": "SQS:?*",
                            "Resource": "*",
                        }
                    ),
                },
            ),
            urn(QUEUE_POLICY, "qp"),
        ),
    ]
    extra_good = [
        ("iam-trust-foreign-account-guarded", own),
        (
            "iam-trust-foreign-account-guarded",
            role_with(
                _trust(
                    {"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                    {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
                )
            ),
        ),
    ]
    return cases, extra_bad, extra_good


def _cluster_access() -> tuple[list[Case], list[Case], list[tuple[str, list[Registration]]]]:
    assoc = urn(ASSOC, "admin")

    def association(principal: str, deps: dict[str, list[str]] | None = None) -> Registration:
        return res(
            ASSOC,
            "admin",
            {
                "clusterName": "c",
                "principalArn": principal,
                "policyArn": ADMIN_POLICY,
                "accessScope": {"type": "cluster"},
            },
            deps=deps,
        )

    node_role = res(
        ROLE,
        "nodes",
        {"assumeRolePolicy": _trust({"Service": "ec2.amazonaws.com"}), "tags": TAGS},
    )
    ci_role = res(
        ROLE,
        "deployer",
        {
            "assumeRolePolicy": _trust({"Federated": "arn:aws:iam::1:oidc-provider/x"}),
            "tags": TAGS,
        },
    )
    crb = urn(CRB, "bind")

    def binding(
        role: str, subject: dict[str, str], type_: str = CRB, ns: str | None = None
    ) -> Registration:
        meta: dict[str, Any] = {"name": "bind"}
        if ns:
            meta["namespace"] = ns
        return res(
            type_,
            "bind",
            {
                "metadata": meta,
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": role,
                },
                "subjects": [subject],
            },
        )

    sa = {"kind": "ServiceAccount", "name": "model-server", "namespace": "serving"}
    cases = [
        Case(
            "eks-cluster-admin-not-broad",
            [
                node_role,
                association("arn:aws:iam::1:role/nodes", {"principalArn": [urn(ROLE, "nodes")]}),
            ],
            [
                ci_role,
                association(
                    "arn:aws:iam::1:role/deployer", {"principalArn": [urn(ROLE, "deployer")]}
                ),
            ],
            assoc,
        ),
        Case(
            "k8s-rbac-no-broad-binding",
            [binding("cluster-admin", {"kind": "Group", "name": "system:authenticated"})],
            [binding("view", sa)],
            crb,
        ),
    ]
    secrets_role = res(
        CLUSTER_ROLE,
        "reader",
        {
            "metadata": {"name": "secret-reader"},
            "rules": [{"apiGroups": [""], "resources": ["Secrets"], "verbs": ["LIST"]}],
        },
    )
    extra_bad = [
        _bad("eks-cluster-admin-not-broad", [association(f"arn:aws:iam::{ACCOUNT}:role/*")], assoc),
        _bad("eks-cluster-admin-not-broad", [association(f"arn:aws:iam::{ACCOUNT}:root")], assoc),
        _bad(
            "k8s-rbac-no-broad-binding",
            [
                binding(
                    "edit",
                    {"kind": "Group", "name": "system:serviceaccounts:team-a"},
                    RB_PATCH,
                    "team-a",
                )
            ],
            urn(RB_PATCH, "bind"),
        ),
        _bad(
            "k8s-rbac-no-broad-binding",
            [
                binding(
                    "admin", {"kind": "ServiceAccount", "name": "default", "namespace": "team-a"}
                )
            ],
            crb,
        ),
        _bad("k8s-rbac-no-broad-binding", [secrets_role, binding("secret-reader", sa)], crb),
        _bad(
            "k8s-rbac-no-broad-binding",
            [binding("cluster-admin", {"kind": "User", "name": "system:anonymous"})],
            crb,
        ),
    ]
    return cases, extra_bad, []


def _pod(**pod: Any) -> dict[str, Any]:
    return deployment(**pod)


def _workloads() -> tuple[list[Case], list[tuple[str, list[Registration]]]]:
    dep = urn(DEPLOYMENT, "app")
    patch = "kubernetes:apps/v1:DeploymentPatch"
    rc = "kubernetes:core/v1:ReplicationController"

    def host(path: str) -> list[Registration]:
        return [res(DEPLOYMENT, "app", _pod(volumes=[{"name": "h", "hostPath": {"path": path}}]))]

    privileged = container(name="debug", securityContext={"privileged": True})
    bad = [
        _bad("k8s-no-privileged-or-host-namespaces", host("/var/run/docker.sock"), dep),
        _bad("k8s-no-privileged-or-host-namespaces", host("//"), dep),
        _bad("k8s-no-privileged-or-host-namespaces", host("/var/run/"), dep),
        _bad(
            "k8s-no-privileged-or-host-namespaces",
            [res(DEPLOYMENT, "app", _pod(ephemeralContainers=[privileged]))],
            dep,
        ),
        _bad(
            "k8s-no-privileged-or-host-namespaces",
            [res(DEPLOYMENT, "app", _pod(initContainers=[privileged]))],
            dep,
        ),
        _bad(
            "k8s-no-privileged-or-host-namespaces",
            [
                res(
                    patch,
                    "app",
                    {
                        "metadata": {"name": "app", "namespace": "serving"},
                        "spec": {"template": {"spec": {"hostPID": "true"}}},
                    },
                )
            ],
            urn(patch, "app"),
        ),
        _bad(
            "k8s-no-privileged-or-host-namespaces",
            [
                res(
                    rc,
                    "rc",
                    {
                        "metadata": {"namespace": "serving"},
                        "spec": {"template": {"spec": {"hostNetwork": True, "containers": []}}},
                    },
                )
            ],
            urn(rc, "rc"),
        ),
        _bad(
            "k8s-restricted-security-context",
            [res(DEPLOYMENT, "app", _pod(securityContext={"runAsUser": 0}))],
            dep,
        ),
        _bad(
            "k8s-restricted-security-context",
            [
                res(
                    patch,
                    "app",
                    {
                        "spec": {
                            "template": {
                                "spec": {
                                    "containers": [
                                        {
                                            "name": "server",
                                            "securityContext": {
                                                "capabilities": {"add": ["sys_admin"]}
                                            },
                                        }
                                    ]
                                }
                            }
                        }
                    },
                )
            ],
            urn(patch, "app"),
        ),
        _bad(
            "k8s-service-internal-only",
            [
                res(
                    SERVICE,
                    "svc",
                    {"spec": {"type": "ClusterIP", "externalIPs": ["203.0.113.10"]}},
                )
            ],
            urn(SERVICE, "svc"),
        ),
        _bad(
            "k8s-service-internal-only",
            [res(SERVICE, "svc", {"spec": {"type": "loadbalancer"}})],
            urn(SERVICE, "svc"),
        ),
    ]
    good = [
        (
            "k8s-no-privileged-or-host-namespaces",
            [res(DEPLOYMENT, "app", _pod(volumes=[{"name": "tmp", "emptyDir": {}}]))],
        ),
        (
            "k8s-restricted-security-context",
            [
                res(
                    patch,
                    "app",
                    {"spec": {"template": {"spec": {"containers": [{"name": "s", "image": "x"}]}}}},
                )
            ],
        ),
    ]
    return bad, good


def node_class(**changes: Any) -> dict[str, Any]:
    """A compliant Karpenter EC2NodeClass."""
    spec: dict[str, Any] = {
        "role": "nodes",
        "amiSelectorTerms": [{"alias": "al2023@v20250704"}],
        "associatePublicIPAddress": False,
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        },
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "rootVolume": True,
                "ebs": {"volumeSize": "100Gi", "encrypted": True},
            }
        ],
    }
    spec.update(changes)
    return {"metadata": {"name": "gpu"}, "spec": spec}


def _karpenter() -> tuple[list[Case], list[Case]]:
    target = urn(NODE_CLASS, "nc")

    def one(rule: str, **changes: Any) -> Case:
        return Case(
            rule,
            [res(NODE_CLASS, "nc", node_class(**changes))],
            [res(NODE_CLASS, "nc", node_class())],
            target,
        )

    meta = {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1}
    cases = [
        one("ec2-launch-template-imdsv2", metadataOptions={**meta, "httpTokens": "optional"}),
        one(
            "ec2-launch-template-hop-limit", metadataOptions={**meta, "httpPutResponseHopLimit": 2}
        ),
        one("ec2-no-public-ip", associatePublicIPAddress="true"),
        one(
            "ec2-ebs-encrypted",
            blockDeviceMappings=[
                {"deviceName": "/dev/xvda", "rootVolume": True, "ebs": {"encrypted": "false"}}
            ],
        ),
        one("eks-versions-pinned", amiSelectorTerms=[{"name": "amazon-eks-node-al2023-*"}]),
    ]
    extra = [
        one("ec2-launch-template-imdsv2", metadataOptions={}),
        one(
            "ec2-launch-template-hop-limit",
            metadataOptions={**meta, "httpPutResponseHopLimit": "3"},
        ),
        one("ec2-ebs-encrypted", blockDeviceMappings=[]),
        one("eks-versions-pinned", amiSelectorTerms=[{"alias": "al2023@latest"}]),
        one("eks-versions-pinned", amiSelectorTerms=[{"alias": "al2023@v2025"}]),
    ]
    return cases, extra


def _words() -> tuple[list[Case], list[tuple[str, list[Registration]]]]:
    repo = urn(REPO, "repo")
    base = {
        "name": "model-server",
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [
            {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-east-1:1:key/k"}
        ],
        "tags": TAGS,
    }

    def excl(pattern: str) -> dict[str, Any]:
        return {
            **base,
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [{"filter": pattern, "filterType": "WILDCARD"}],
        }

    sse_aws = {
        "rules": [
            {
                "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": "aws:kms",
                    "kmsMasterKeyId": "alias/aws/s3",
                },
                "bucketKeyEnabled": True,
            }
        ]
    }
    ns = res(NAMESPACE, "team-a", {"metadata": {"name": "team-a"}})
    quota = res(QUOTA, "q", {"metadata": {"namespace": "team-a"}, "spec": {"hard": {"pods": "20"}}})

    def netpol(ingress: list[dict[str, Any]]) -> Registration:
        return res(
            NETPOL,
            "np",
            {
                "metadata": {"namespace": "team-a"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": ingress},
            },
        )

    bad = [
        _bad("ecr-immutable-tags", [res(REPO, "repo", excl("*"))], repo),
        _bad("ecr-immutable-tags", [res(REPO, "repo", excl("v*"))], repo),
        _bad(
            "ecr-kms-encryption",
            [res(REPO, "repo", {**base, "encryptionConfigurations": [{"encryptionType": "kms"}]})],
            repo,
        ),
        _bad(
            "ecr-kms-encryption",
            [
                res(
                    REPO,
                    "repo",
                    {
                        **base,
                        "encryptionConfigurations": [
                            {
                                "encryptionType": "KMS",
                                "kmsKey": "arn:aws:kms:us-east-1:1:alias/aws/ecr",
                            }
                        ],
                    },
                )
            ],
            repo,
        ),
        _bad(
            "s3-bucket-kms-encryption",
            bucket_set("models", encryption=sse_aws),
            urn(BUCKET, "models"),
        ),
        _bad(
            "k8s-tenant-namespace-guardrails", [ns, quota, netpol([{}])], urn(NAMESPACE, "team-a")
        ),
        _bad(
            "k8s-tenant-namespace-guardrails",
            [ns, quota, netpol([{"from": [{"namespaceSelector": {}}]}])],
            urn(NAMESPACE, "team-a"),
        ),
        _bad(
            "k8s-tenant-namespace-guardrails",
            [ns, quota, netpol([{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}])],
            urn(NAMESPACE, "team-a"),
        ),
    ]
    good = [
        ("ecr-immutable-tags", [res(REPO, "repo", excl("dev-*"))]),
        (
            "k8s-tenant-namespace-guardrails",
            [ns, quota, netpol([{"from": [{"podSelector": {"matchLabels": {"app": "gw"}}}]}])],
        ),
    ]
    return bad, good


def build() -> tuple[list[Case], list[Case], list[tuple[str, list[Registration]]]]:
    """(cases with a compliant and a non-compliant side, extra non-compliant variants, extra
    compliant variants)."""
    scope_bad, scope_good = _scope()
    foreign_cases, foreign_bad, foreign_good = _foreign()
    access_cases, access_bad, _ = _cluster_access()
    workload_bad, workload_good = _workloads()
    karpenter_cases, karpenter_bad = _karpenter()
    words_bad, words_good = _words()
    cases = [*foreign_cases, *access_cases, *karpenter_cases]
    extra_bad = [*scope_bad, *foreign_bad, *access_bad, *workload_bad, *karpenter_bad, *words_bad]
    extra_good = [*scope_good, *foreign_good, *workload_good, *words_good]
    return cases, extra_bad, extra_good


__all__ = ["ALL", "build"]
