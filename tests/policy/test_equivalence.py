"""Equivalent spellings of a violation are all violations (issue 17 §2): for each rule family,
the same violation written at least two ways, each flagged by its rule, through the real
analyzer protocol."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.offline import Registration
from scripts.policy_runner import Analyzer, evaluate_resources
from tests.policy import serving_cases as srv
from tests.policy import tenancy_cases as ten
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
)

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
POLICY = "aws:iam/policy:Policy"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
RDS = "aws:rds/instance:Instance"
REPO = "aws:ecr/repository:Repository"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
RBAC_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"


def _one(type_: str, name: str, *spellings: dict[str, Any]) -> tuple[str, list[list[Registration]]]:
    return urn(type_, name), [[res(type_, name, s)] for s in spellings]


def _sg(protocol: object, low: object, high: object) -> dict[str, Any]:
    return {
        "description": "nodes",
        "tags": TAGS,
        "ingress": [
            {
                "protocol": protocol,
                "fromPort": low,
                "toPort": high,
                "cidrBlocks": ["0.0.0.0/0"],
                "description": "x",
            }
        ],
    }


def _policy(action: object, resource: object) -> dict[str, Any]:
    return {"policy": doc({"Effect": "Allow", "Action": action, "Resource": resource})}


def _gpu_pod(limit: object, request: object) -> dict[str, Any]:
    c = container(
        resources={
            "limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": limit},
            "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": request},
        }
    )
    return deployment([c])


def _table() -> list[tuple[str, str, str, list[list[Registration]]]]:
    """(family, rule, target URN, spellings)."""
    out: list[tuple[str, str, str, list[list[Registration]]]] = []

    def add(family: str, rule: str, found: tuple[str, list[list[Registration]]]) -> None:
        out.append((family, rule, found[0], found[1]))

    flags = {"blockPublicAcls": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
    add(
        "s3",
        "s3-public-access-block-all-flags",
        _one(
            PAB,
            "pab",
            {**flags, "blockPublicPolicy": False},
            {**flags, "blockPublicPolicy": "FALSE"},
            {**flags, "blockPublicPolicy": "false"},
        ),
    )
    out.append(
        (
            "s3",
            "s3-bucket-versioning",
            urn(BUCKET, "models"),
            [
                bucket_set(
                    "models", versioning={"versioningConfiguration": {"status": "Suspended"}}
                ),
                bucket_set(
                    "models", versioning={"versioningConfiguration": {"status": "Disabled"}}
                ),
            ],
        )
    )
    out.append(
        (
            "s3",
            "s3-bucket-kms-encryption",
            urn(BUCKET, "models"),
            [
                bucket_set(
                    "models",
                    encryption={
                        "rules": [
                            {
                                "applyServerSideEncryptionByDefault": {
                                    "sseAlgorithm": "aws:kms",
                                    "kmsMasterKeyId": "alias/aws/s3",
                                },
                                "bucketKeyEnabled": True,
                            }
                        ]
                    },
                ),
                bucket_set(
                    "models",
                    encryption={
                        "rules": [
                            {
                                "applyServerSideEncryptionByDefault": {
                                    "sseAlgorithm": "aws:kms",
                                    "kmsMasterKeyId": "arn:aws:kms:us-east-1:1:key/k",
                                },
                                "bucketKeyEnabled": "false",
                            }
                        ]
                    },
                ),
            ],
        )
    )
    repo = {
        "name": "m",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:r:1:key/k"}],
        "tags": TAGS,
    }
    add(
        "ecr",
        "ecr-immutable-tags",
        _one(
            REPO,
            "repo",
            {**repo, "imageTagMutability": "MUTABLE"},
            {**repo},
            {
                **repo,
                "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
                "imageTagMutabilityExclusionFilters": [{"filter": "?*", "filterType": "WILDCARD"}],
            },
        ),
    )
    add(
        "ecr",
        "ecr-scan-on-push",
        _one(
            REPO,
            "repo",
            {
                **repo,
                "imageTagMutability": "IMMUTABLE",
                "imageScanningConfiguration": {"scanOnPush": "false"},
            },
            {**repo, "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {}},
        ),
    )
    add(
        "eks",
        "eks-endpoint-private",
        _one(
            CLUSTER,
            "eks",
            cluster(
                vpcConfig={
                    "endpointPrivateAccess": True,
                    "endpointPublicAccess": "true",
                    "publicAccessCidrs": ["0.0.0.0/0"],
                }
            ),
            cluster(
                vpcConfig={
                    "endpointPrivateAccess": True,
                    "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"],
                }
            ),
        ),
    )
    add(
        "eks",
        "eks-control-plane-logging",
        _one(
            CLUSTER,
            "eks",
            cluster(enabledClusterLogTypes=["api", "audit"]),
            cluster(enabledClusterLogTypes="api"),
        ),
    )
    add(
        "network",
        "ec2-sg-no-world-admin-ports",
        _one(
            SG, "sg", _sg("Tcp", 22, 22), _sg(6, "0", "65535"), _sg("All", 0, 0), _sg("-1", -1, -1)
        ),
    )
    add(
        "network",
        "ec2-sg-no-world-ingress",
        _one(
            SG_INGRESS,
            "in",
            {
                "ipProtocol": "TCP",
                "fromPort": "443",
                "toPort": 443,
                "cidrIpv4": "0.0.0.0/0",
                "description": "x",
            },
            {"ipProtocol": "-1", "cidrIpv6": "::/0", "description": "x"},
        ),
    )
    add(
        "network",
        "ec2-launch-template-imdsv2",
        _one(
            LAUNCH_TEMPLATE,
            "lt",
            launch_template(
                metadataOptions={"httpTokens": "optional", "httpPutResponseHopLimit": 1}
            ),
            launch_template(metadataOptions={"httpPutResponseHopLimit": 1}),
        ),
    )
    add(
        "network",
        "ec2-launch-template-hop-limit",
        _one(
            LAUNCH_TEMPLATE,
            "lt",
            launch_template(
                metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 2}
            ),
            launch_template(
                metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": "2"}
            ),
        ),
    )
    add(
        "network",
        "ec2-no-public-ip",
        _one(
            LAUNCH_TEMPLATE,
            "lt",
            launch_template(networkInterfaces=[{"associatePublicIpAddress": "true"}]),
            launch_template(networkInterfaces=[{"associatePublicIpAddress": True}]),
        ),
    )
    add(
        "iam",
        "iam-no-admin-policy",
        _one(
            POLICY,
            "p",
            _policy("*", "*"),
            _policy(["*:*"], ["arn:*"]),
            _policy("?*:*", "arn:aws:*:*:*:*"),
        ),
    )
    add(
        "iam",
        "iam-no-service-wildcard",
        _one(POLICY, "p", _policy("ec2:*", "*"), _policy("EC2:?*", "arn:aws:ec2:*:*:*")),
    )
    add(
        "iam",
        "iam-no-kms-decrypt-on-all-keys",
        _one(
            POLICY,
            "p",
            _policy("kms:Decrypt", "*"),
            _policy("kms:Decr*", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"),
        ),
    )
    key = {"enableKeyRotation": True, "tags": TAGS}
    add(
        "kms",
        "kms-key-rotation",
        _one(
            KEY,
            "k",
            {**key, "enableKeyRotation": False},
            {**key, "enableKeyRotation": "false"},
            {"tags": TAGS},
        ),
    )
    add(
        "kms",
        "kms-key-deletion-window",
        _one(KEY, "k", {**key, "deletionWindowInDays": 5}, {**key, "deletionWindowInDays": "5"}),
    )
    add(
        "logs",
        "logs-retention",
        _one(
            LOG_GROUP,
            "lg",
            {"retentionInDays": 7, "kmsKeyId": "k", "tags": TAGS},
            {"retentionInDays": "7", "kmsKeyId": "k", "tags": TAGS},
        ),
    )
    rds = {
        "storageEncrypted": True,
        "backupRetentionPeriod": 7,
        "multiAz": True,
        "deletionProtection": True,
        "tags": TAGS,
    }
    add(
        "rds",
        "rds-not-public",
        _one(RDS, "db", {**rds, "publiclyAccessible": True}, {**rds, "publiclyAccessible": "True"}),
    )
    add(
        "rds",
        "rds-storage-encrypted",
        _one(RDS, "db", {**rds, "storageEncrypted": False}, {**rds, "storageEncrypted": "false"}),
    )
    add(
        "kubernetes",
        "k8s-gpu-requests-limits-toleration",
        _one(
            DEPLOYMENT,
            "app",
            _gpu_pod("1", "2"),
            _gpu_pod("1000m", "2"),
            _gpu_pod("0.001k", "2e0"),
            _gpu_pod("one", "1"),
        ),
    )
    add(
        "kubernetes",
        "k8s-no-privileged-or-host-namespaces",
        _one(DEPLOYMENT, "app", deployment(hostNetwork=True), deployment(hostNetwork="true")),
    )
    add(
        "kubernetes",
        "k8s-restricted-security-context",
        _one(
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
            deployment(
                [
                    container(
                        securityContext={
                            "allowPrivilegeEscalation": "false",
                            "runAsNonRoot": "true",
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["all"], "add": ["cap_sys_admin"]},
                            "seccompProfile": {"type": "runtimedefault"},
                        }
                    )
                ]
            ),
        ),
    )
    add(
        "kubernetes",
        "k8s-rbac-no-wildcards-or-escalation",
        _one(
            RBAC_ROLE,
            "r",
            {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["bind"]}]},
            {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["BIND"]}]},
            {"rules": {"apiGroups": [""], "resources": ["pods"], "verbs": "*"}},
        ),
    )
    add(
        "gpu",
        "gpu-pool-taint-and-labels",
        _one(
            NODE_GROUP,
            "ng",
            gpu_node_group(taints=[]),
            gpu_node_group(
                taints=[{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_EXECUTE"}]
            ),
        ),
    )
    add(
        "gpu",
        "gpu-instance-type-allowlist",
        _one(
            NODE_GROUP,
            "ng",
            gpu_node_group(instanceTypes=["p5.4xlarge"]),
            gpu_node_group(instanceTypes="p5.4xlarge"),
        ),
    )
    add(
        "tagging",
        "required-tags",
        _one(
            "aws:autoscaling/group:Group",
            "asg",
            {"tags": [{"key": "owner", "value": "x", "propagateAtLaunch": True}]},
            {"tags": {"owner": "x"}},
        ),
    )
    return out


def _tenancy() -> list[tuple[str, str, str, list[list[Registration]]]]:
    """The tenancy rules (TEN-001..004), each violation spelled several ways."""
    llm = urn(DEPLOYMENT, "llm")
    ns = [res(ten.NAMESPACE, ten.TEAM, ten.tenant_namespace())]

    def quota(cap: str, asks: Any) -> list[Registration]:
        return [
            res(ten.QUOTA, "quota", ten.gpu_quota(gpus=cap)),
            res(DEPLOYMENT, "llm", ten.gpu_deployment(gpus=asks)),
        ]

    def deny(spec: dict[str, Any]) -> list[Registration]:
        policy = {**ten.default_deny(), "spec": spec}
        return [*ns, res(ten.NETWORK_POLICY, "deny", policy)]

    scheme = ten.SCHEME
    return [
        (
            "tenancy",
            "k8s-gpu-workloads-need-gpu-quota",
            llm,
            [quota("1", "2"), quota("1000m", "2"), quota("0.001k", "2000m"), quota("1e0", 2)],
        ),
        (
            "tenancy",
            "k8s-no-internet-facing-load-balancers",
            urn(ten.SERVICE, "web"),
            [
                [res(ten.SERVICE, "web", ten.service({scheme: "internet-facing"}))],
                [res(ten.SERVICE, "web", ten.service({scheme: "Internet-Facing"}))],
                [res(ten.SERVICE, "web", ten.service({}))],
            ],
        ),
        (
            "tenancy",
            "k8s-tenant-default-deny-network-policy",
            urn(ten.NAMESPACE, ten.TEAM),
            [
                ns,
                deny({"podSelector": {}, "policyTypes": ["Ingress"]}),
                deny({"podSelector": {}, "policyTypes": "Ingress"}),
                deny({"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}]}),
            ],
        ),
        (
            "tenancy",
            "eks-tenant-access-namespace-scoped",
            urn(ten.ASSOCIATION, "team-a-access"),
            [
                ten.access({"type": "cluster"}),
                ten.access({"type": "namespace", "namespaces": "kube-system"}),
                ten.access(
                    {"type": "namespace", "namespaces": ["kube-system"]},
                    tags=[{"key": "mlops:tenant", "value": ten.TEAM}],
                ),
            ],
        ),
    ]


def _serving() -> list[tuple[str, str, str, list[list[Registration]]]]:
    """The serving rules (SRV-001..005) on prod's account, each violation spelled several
    ways."""
    account = "333333333333"  # prod's (stacks/Pulumi.prod.yaml)
    chat = urn(DEPLOYMENT, "chat")

    def endpoint(change: Any = None, *extra: Registration, **pod: Any) -> list[Registration]:
        inputs = srv.endpoint(account, **pod)
        if change is not None:
            change(inputs["spec"]["template"]["spec"])
        return [res(DEPLOYMENT, "chat", inputs), *extra]

    def server(**values: Any) -> Any:
        return lambda pod: pod["containers"][0].update(values)

    complete = (srv.pdb(), srv.scaled_object(2))
    other_ns = res(
        srv.PDB,
        "chat-pdb",
        {
            "metadata": {"namespace": "elsewhere"},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": srv.LABELS}},
        },
    )
    empty = res(srv.PDB, "chat-pdb", {"metadata": {"namespace": "serving"}, "spec": {}})

    def scaled(minimum: Any) -> Registration:
        raw = srv.scaled_object(2).raw["object"]
        spec = {**raw["spec"], "minReplicaCount": minimum, "scaleTargetRef": {"name": "chat"}}
        if minimum is None:
            spec.pop("minReplicaCount")
        return res(srv.SCALED_OBJECT, "chat-scaled-object", {**raw, "spec": spec})

    tag = f"{account}.dkr.ecr.us-east-1.amazonaws.com/serving"
    return [
        (
            "serving",
            "endpoint-probes",
            chat,
            [
                endpoint(lambda pod: pod["containers"][0].pop("startupProbe"), *complete),
                endpoint(server(startupProbe=None), *complete),
            ],
        ),
        (
            "serving",
            "endpoint-image-digest-pinned",
            chat,
            [
                endpoint(server(image=f"{tag}:v1"), *complete),
                endpoint(server(image=f"{tag}@sha256:{'A' * 64}"), *complete),
                endpoint(server(image=["not", "text"]), *complete),
            ],
        ),
        (
            "serving",
            "endpoint-no-host-access",
            chat,
            [
                endpoint(None, *complete, hostNetwork=True),
                endpoint(None, *complete, hostNetwork="true"),
                endpoint(None, *complete, hostPID="TRUE"),
            ],
        ),
        (
            "serving",
            "endpoint-has-pdb",
            chat,
            [
                endpoint(None, srv.scaled_object(2)),
                endpoint(None, srv.scaled_object(2), other_ns),
                endpoint(None, srv.scaled_object(2), empty),
            ],
        ),
        (
            "serving",
            "endpoint-min-replicas",
            urn(srv.SCALED_OBJECT, "chat-scaled-object"),
            [
                endpoint(None, srv.pdb(), scaled(0)),
                endpoint(None, srv.pdb(), scaled("0")),
                endpoint(None, srv.pdb(), scaled(None)),
            ],
        ),
    ]


TABLE = [*_table(), *_tenancy(), *_serving()]


@pytest.mark.parametrize(
    ("family", "rule", "target", "spellings"), TABLE, ids=[f"{f}:{r}" for f, r, _, _ in TABLE]
)
def test_every_spelling_of_a_violation_is_flagged(
    analyzer: Analyzer, family: str, rule: str, target: str, spellings: list[list[Registration]]
) -> None:
    assert len(spellings) >= 2, family
    for i, resources in enumerate(spellings):
        report = evaluate_resources(analyzer, resources, "prod")
        hits = [f for f in report["findings"] if f["rule"] == rule and f["kind"] == "violation"]
        assert {f["urn"] for f in hits} == {target}, (family, rule, i, report["findings"])
        assert {f["enforcement"] for f in hits} == {"mandatory"}


def test_every_family_has_equivalences() -> None:
    families = {f for f, _, _, _ in TABLE}
    assert families >= {
        "s3",
        "ecr",
        "eks",
        "network",
        "iam",
        "kms",
        "logs",
        "rds",
        "kubernetes",
        "gpu",
        "tagging",
        "tenancy",
        "serving",
    }
