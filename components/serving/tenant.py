"""``Tenant``: one team's place on the serving cluster.

A namespace labelled with the team (Pod Security Admission ``restricted`` enforced, audited
and warned), a ResourceQuota that always names ``requests.nvidia.com/gpu`` (and CPU,
memory, pods, load balancers; no node ports), LimitRange defaults, NetworkPolicies that deny
everything and then allow DNS, the namespace itself, scraping from the monitoring namespace,
the load balancers' addresses and the AWS APIs; a Pod Identity role for the team's
workloads limited to its prefix in the artifact buckets, its ECR repositories and the
buckets' key through S3; and EKS access entries that give the team's own IAM roles
``AmazonEKSEditPolicy`` in its namespace only.

A platform engineer adds one per team from ``mlops:tenants``; a team can create one from its
own stack with the same plain arguments.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..cluster.kubernetes import pod_security_labels
from ..core.checks import cidr_problems
from ..core.component import Component
from ..core.labels import TENANT_LABEL, TENANT_TAG
from ..core.naming import NameKind, physical_name
from ..core.patterns import QUANTITY
from ..core.tagging import merge_tags
from ..core.validation import Invalid
from ..iam import POLICY_VERSION, PodIdentity, cluster_document
from ..storage.artifact_store import AccessLevel, access_policy_document

GPU_QUOTA_KEY = "requests.nvidia.com/gpu"
"""The ResourceQuota key that caps a namespace's GPUs (the policy pack looks for it)."""

EDIT_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
"""EKS access policy the team's roles get, scoped to the tenant's namespace."""

POD_SECURITY_LEVEL = "restricted"
"""Pod Security Admission level enforced, audited and warned in every tenant namespace."""

POD_IDENTITY_AGENT_CIDR = "169.254.170.23/32"
"""Where the EKS Pod Identity agent serves credentials on every node (port 80)."""

IMDS_CIDR = "169.254.169.254/32"
"""The instance metadata service: never reachable from tenant pods."""

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
RESERVED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
"""Namespaces Kubernetes owns: never a tenant's."""


@dataclass
class TenantArgs:
    """Arguments of :class:`Tenant`."""

    team: str
    """The team's name: a DNS label; the namespace, role and repository names derive from it."""
    owner: str
    """Who answers for the tenant (a team or person); a label and a tag on everything."""
    name_prefix: str
    """Physical-name prefix, ``{project}-{stack}``."""
    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster."""
    cluster_arn: pulumi.Input[str]
    """ARN of the cluster (Pod Identity trust; partition, region and account)."""
    kubernetes_provider: pulumi.ProviderResource
    """The cluster's Kubernetes provider."""
    gpus: int = 0
    """GPUs the namespace may request at once (``requests.nvidia.com/gpu``)."""
    cpu: str = "16"
    """CPU the namespace may request (``requests.cpu``); limits may reach twice this."""
    memory: str = "64Gi"
    """Memory the namespace may request and use (``requests.memory`` = ``limits.memory``)."""
    pods: int = 50
    """Most pods in the namespace."""
    load_balancers: int = 0
    """Most LoadBalancer Services (``services.loadbalancers``); node ports are always 0, so
    a LoadBalancer Service sets ``allocateLoadBalancerNodePorts: false`` (IP targets)."""
    default_requests: Mapping[str, str] = field(
        default_factory=lambda: {"cpu": "250m", "memory": "512Mi"}
    )
    """LimitRange: requests a container gets when it sets none."""
    default_limits: Mapping[str, str] = field(default_factory=lambda: {"cpu": "1", "memory": "1Gi"})
    """LimitRange: limits a container gets when it sets none."""
    namespace: str | None = None
    """Namespace name; default: the team's name."""
    artifact_bucket_arns: pulumi.Input[Mapping[str, str]] = field(default_factory=dict)
    """Artifact buckets (purpose -> ARN) whose team prefix the workloads may read and write."""
    artifact_kms_key_arn: pulumi.Input[str] | None = None
    """The buckets' KMS key (used only through S3: ``kms:ViaService``)."""
    artifact_prefix: str | None = None
    """Key prefix of the team in every artifact bucket; default ``teams/<team>/``."""
    ecr_repository_prefix: str | None = None
    """Prefix of the team's ECR repositories (``<prefix>/<image>``); default
    ``{name_prefix}-<team>``."""
    access_role_arns: Sequence[pulumi.Input[str]] = ()
    """The team's own IAM roles: each gets an access entry with edit rights in the namespace."""
    load_balancer_cidrs: Sequence[pulumi.Input[str]] = ()
    """Where load balancers reach pods from (the VPC CIDR): admitted by a NetworkPolicy."""
    monitoring_namespace: str = "monitoring"
    """Namespace whose Prometheus may scrape the tenant's pods."""
    https_egress_cidrs: Sequence[str] = ("0.0.0.0/0",)
    """Where pods may open HTTPS connections (AWS APIs: S3 through the gateway endpoint uses
    public S3 addresses); the metadata service is always excluded."""
    service_account: str = "workloads"
    """The team's workload service account, bound to the workload role by Pod Identity."""
    permission_boundary_arn: pulumi.Input[str] | None = None
    """Permission boundary on the workload role."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags merged into every taggable child."""


def workload_policy(
    *,
    partition: str,
    region: str,
    account: str,
    bucket_arns: Mapping[str, str],
    kms_key_arn: str | None,
    prefix: str,
    repository_prefix: str,
) -> dict[str, Any]:
    """The team's workload policy: read/write its prefix of each artifact bucket (no version
    deletes), decrypt/encrypt with the buckets' key only through S3, pull and push its own
    ECR repositories."""
    statements: list[dict[str, Any]] = []
    for purpose, arn in sorted(bucket_arns.items()):
        doc = access_policy_document(arn, kms_key_arn or "", prefix, AccessLevel.READ_WRITE)
        for statement in doc["Statement"]:
            if statement["Sid"] == "UseBucketKey":
                continue  # replaced by one S3-only key statement below
            sid = statement["Sid"] + "".join(p.capitalize() for p in purpose.split("-"))
            statements.append({**statement, "Sid": sid})
    if bucket_arns and kms_key_arn:
        statements.append(
            {
                "Sid": "UseBucketKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Encrypt"],
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            }
        )
    statements += [
        {
            "Sid": "TenantEcrAuthToken",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
        {
            "Sid": "TenantEcrRepositories",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:DescribeImages",
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage",
            ],
            "Resource": f"arn:{partition}:ecr:{region}:{account}:repository/{repository_prefix}/*",
        },
    ]
    return {"Version": POLICY_VERSION, "Statement": statements}


class Tenant(Component, legacy_module="tenant"):
    """One team's namespace, quota, network policies, workload role and cluster access."""

    namespace: pulumi.Output[str]
    """The tenant's namespace."""

    workload_role_arn: pulumi.Output[str]
    """ARN of the team's workload role (Pod Identity, service account ``workloads``)."""

    artifact_prefix: pulumi.Output[str]
    """The team's key prefix in the artifact buckets."""

    ecr_repository_prefix: pulumi.Output[str]
    """Prefix of the team's ECR repositories."""

    def __init__(self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None):
        args = self.accept(name, args, tenant_problems)
        super().__init__(name, opts)
        ns_name = args.namespace or args.team
        prefix = args.artifact_prefix or f"teams/{args.team}/"
        repo_prefix = args.ecr_repository_prefix or physical_name(
            args.team, NameKind.ECR_REPOSITORY, args.name_prefix
        )
        tags = merge_tags(args.tags, {TENANT_TAG: args.team, "tenant-owner": args.owner})
        k8s_opts = self.child(provider=args.kubernetes_provider)
        labels = {TENANT_LABEL: args.team, "mlops/owner": _label_value(args.owner)}

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ns_name,
                labels={**labels, **pod_security_labels(POD_SECURITY_LEVEL)},
            ),
            opts=k8s_opts,
        )
        ns = namespace.metadata.apply(lambda m: m.name or ns_name)
        in_ns = self.child(provider=args.kubernetes_provider, depends_on=[namespace])

        def meta(object_name: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=ns, labels=labels)

        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("tenant-quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=quota_hard(args)),
            opts=in_ns,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("tenant-defaults"),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default=dict(args.default_limits),
                        default_request=dict(args.default_requests),
                    )
                ]
            ),
            opts=in_ns,
        )
        for policy_name, spec in network_policies(args).items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}",
                metadata=meta(policy_name),
                spec=cast(Any, spec),  # a plain dict in the API's camelCase keys
                opts=in_ns,
            )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-workloads",
            metadata=meta(args.service_account),
            automount_service_account_token=False,
            opts=in_ns,
        )

        document = cluster_document(
            args.cluster_arn,
            workload_policy,
            bucket_arns=args.artifact_bucket_arns,
            kms_key_arn=args.artifact_kms_key_arn,
            prefix=prefix,
            repository_prefix=repo_prefix,
        )
        role = PodIdentity.of(self, args).role(
            f"{name}-workload",
            role=f"tenant-{args.team}",
            namespace=ns_name,
            service_account=args.service_account,
            policy=document,
            tags=tags,
            depends_on=[account],
        )

        aws_opts = self.child()
        for i, principal in enumerate(args.access_role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-access-{i}",
                cluster_name=args.cluster_name,
                principal_arn=principal,
                type="STANDARD",
                tags=tags,
                opts=aws_opts,
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-access-{i}",
                cluster_name=args.cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=EDIT_POLICY,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                    type="namespace", namespaces=[ns_name]
                ),
                opts=self.child(depends_on=[entry, namespace]),
            )

        self.publish(
            namespace=ns,
            workload_role_arn=role.role.arn,
            artifact_prefix=pulumi.Output.from_input(prefix),
            ecr_repository_prefix=pulumi.Output.from_input(repo_prefix),
        )


def quota_hard(args: TenantArgs) -> dict[str, str]:
    """The namespace's ResourceQuota: GPUs always named (0 when the team has none)."""
    cpu_limit = _double(args.cpu)
    return {
        GPU_QUOTA_KEY: str(args.gpus),
        "requests.cpu": args.cpu,
        "limits.cpu": cpu_limit,
        "requests.memory": args.memory,
        "limits.memory": args.memory,
        "pods": str(args.pods),
        "services.loadbalancers": str(args.load_balancers),
        "services.nodeports": "0",
    }


def _double(quantity: str) -> str:
    match = re.fullmatch(r"(\d+)(m?)", quantity)
    return f"{int(match.group(1)) * 2}{match.group(2)}" if match else quantity


def network_policies(args: TenantArgs) -> dict[str, dict[str, Any]]:
    """The tenant's NetworkPolicies (name -> spec): deny all, then the allowed flows."""
    everyone: dict[str, Any] = {}
    policies: dict[str, dict[str, Any]] = {
        "default-deny": {"podSelector": everyone, "policyTypes": ["Ingress", "Egress"]},
        "allow-dns": {
            "podSelector": everyone,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
        "allow-same-namespace": {
            "podSelector": everyone,
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": everyone}]}],
            "egress": [{"to": [{"podSelector": everyone}]}],
        },
        "allow-monitoring-scrape": {
            "podSelector": everyone,
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {
                                    "kubernetes.io/metadata.name": args.monitoring_namespace
                                }
                            }
                        }
                    ]
                }
            ],
        },
        "allow-aws-apis": {
            "podSelector": everyone,
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": POD_IDENTITY_AGENT_CIDR}}],
                    "ports": [{"protocol": "TCP", "port": 80}],
                },
                {
                    "to": [_ip_block(cidr) for cidr in args.https_egress_cidrs],
                    "ports": [{"protocol": "TCP", "port": 443}],
                },
            ],
        },
    }
    if args.load_balancer_cidrs:
        policies["allow-load-balancers"] = {
            "podSelector": everyone,
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": c}} for c in args.load_balancer_cidrs]}],
        }
    if not args.https_egress_cidrs:
        policies["allow-aws-apis"]["egress"].pop()
    return policies


def _ip_block(cidr: str) -> dict[str, Any]:
    """An ipBlock that never includes the metadata service."""
    imds = ipaddress.ip_network(IMDS_CIDR)
    network = ipaddress.ip_network(cidr, strict=False)
    if network.version == imds.version and imds.subnet_of(network):  # type: ignore[arg-type]
        return {"ipBlock": {"cidr": cidr, "except": [IMDS_CIDR]}}
    return {"ipBlock": {"cidr": cidr}}


def _label_value(text: str) -> str:
    """``text`` as a valid label value (63 chars of [A-Za-z0-9._-], alphanumeric ends)."""
    value = re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:63]
    return value.strip("-._") or "unknown"


def tenant_problems(args: TenantArgs) -> list[Invalid]:
    """Every bad argument of a tenant (also the config layer's per-tenant checks)."""
    problems: list[Invalid] = []
    if not _DNS_LABEL.match(args.team) or len(args.team) > 40:
        problems.append(
            Invalid("team", args.team, "a DNS label of at most 40 characters, e.g. recsys")
        )
    namespace = args.namespace or args.team
    if namespace in RESERVED_NAMESPACES or namespace == args.monitoring_namespace:
        problems.append(
            Invalid(
                "namespace",
                namespace,
                f"a namespace of its own, not {', '.join(RESERVED_NAMESPACES)}",
            )
        )
    elif args.namespace is not None and not _DNS_LABEL.match(args.namespace):
        problems.append(Invalid("namespace", args.namespace, "a DNS label"))
    if not isinstance(args.owner, str) or not args.owner.strip():
        problems.append(Invalid("owner", args.owner, "the team or person who answers for it"))
    return [
        *problems,
        *_quota_problems(args),
        *_network_problems(args),
        *_storage_problems(args),
    ]


def _quota_problems(args: TenantArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    for arg in ("gpus", "pods", "load_balancers"):
        value = getattr(args, arg)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(Invalid(arg, value, "a whole number, 0 or more"))
    for arg in ("cpu", "memory"):
        value = getattr(args, arg)
        if not QUANTITY.matches(value):
            problems.append(Invalid(arg, value, "a Kubernetes quantity such as 16, 500m or 64Gi"))
    for arg in ("default_requests", "default_limits"):
        for key, value in getattr(args, arg).items():
            if key not in ("cpu", "memory") or not QUANTITY.matches(str(value)):
                problems.append(
                    Invalid(f"{arg}.{key}", value, "cpu/memory as Kubernetes quantities")
                )
    return problems


def _network_problems(args: TenantArgs) -> list[Invalid]:
    return [
        *cidr_problems(
            "https_egress_cidrs", args.https_egress_cidrs, allowed="a CIDR, e.g. 10.0.0.0/16"
        ),
        *cidr_problems(
            "load_balancer_cidrs",
            args.load_balancer_cidrs,
            allowed="a CIDR",
            internet="the VPC's CIDR, not the internet",
        ),
    ]


def _storage_problems(args: TenantArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    no_buckets = isinstance(args.artifact_bucket_arns, Mapping) and not args.artifact_bucket_arns
    if not no_buckets and args.artifact_kms_key_arn is None:
        problems.append(
            Invalid("artifact_kms_key_arn", None, "the buckets' KMS key ARN (with buckets)")
        )
    if args.artifact_prefix is not None and not re.fullmatch(
        r"([a-z0-9][a-z0-9._-]*/)+", args.artifact_prefix
    ):
        problems.append(
            Invalid("artifact_prefix", args.artifact_prefix, "a key prefix ending in /")
        )
    if not _DNS_LABEL.match(args.service_account):
        problems.append(Invalid("service_account", args.service_account, "a DNS label"))
    return problems
