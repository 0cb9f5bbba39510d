"""Workload roles: one IAM role per Kubernetes service account, through EKS Pod Identity
(:func:`pod_identity_role`) or IRSA (:func:`irsa_role`).

Trust is pinned to one cluster, namespace and service account; the inline policy is the
least-privilege document the caller writes as a Python dict (it may hold Outputs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..core.naming import NameKind, physical_name
from ..core.tagging import merge_tags
from ..core.validation import Invalid, raise_if_invalid
from .documents import (
    POLICY_VERSION,
    STS_AUDIENCE,
    PolicyDocument,
    document_problems,
    policy_json,
)

_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class WorkloadRole:
    """A workload's IAM role, its inline policy and (Pod Identity) its association."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    association: aws.eks.PodIdentityAssociation | None


def _workload_problems(
    namespace: str, service_account: str, policy: PolicyDocument
) -> list[Invalid]:
    problems: list[Invalid] = []
    if not _K8S_NAME.match(namespace):
        problems.append(Invalid("namespace", namespace, "a DNS-1123 label, e.g. kube-system"))
    if not _K8S_NAME.match(service_account):
        problems.append(
            Invalid("service_account", service_account, "a DNS-1123 label, e.g. my-controller")
        )
    problems += [Invalid("policy", policy, allowed) for allowed in document_problems(policy)]
    return problems


def _child_options(
    parent: pulumi.Resource | None, opts: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions:
    """The caller's ``opts`` (provider, protect...), under ``parent`` when one is given."""
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(parent=parent) if parent is not None else None
    )


def pod_identity_trust(cluster_arn: pulumi.Input[str], namespace: str, service_account: str):
    """Trust for EKS Pod Identity, pinned to one cluster, namespace and service account.

    ``pods.eks.amazonaws.com`` assumes the role with ``sts:AssumeRole`` and
    ``sts:TagSession``. ``aws:SourceAccount`` stops other accounts' clusters (the confused
    deputy); the session tags EKS Pod Identity sets on every request (``eks-cluster-arn``,
    ``kubernetes-namespace``, ``kubernetes-service-account``) pin the cluster and the
    service account. Associations must keep session tags on (the default).
    """
    arn = pulumi.Output.from_input(cluster_arn)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": arn.apply(lambda a: a.split(":")[4]),
                        "aws:RequestTag/eks-cluster-arn": arn,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": service_account,
                    },
                },
            }
        ],
    }


def pod_identity_role(
    name: str,
    *,
    parent: pulumi.Resource | None = None,
    name_prefix: str,
    role: str,
    cluster_name: pulumi.Input[str],
    cluster_arn: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy: PolicyDocument,
    permission_boundary_arn: pulumi.Input[str | None] | None = None,
    tags: Mapping[str, str] | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
    opts: pulumi.ResourceOptions | None = None,
) -> WorkloadRole:
    """A workload role for EKS Pod Identity, with its inline policy and association.

    ``name`` is the logical-name stem (children are ``{name}-role``, ``{name}-policy``,
    ``{name}-pod-identity``); ``role`` the physical-name role (``{name_prefix}-{role}``).
    ``policy`` is the least-privilege document: a dict (it may hold Outputs) or its JSON
    string (e.g. ``ArtifactStore.read_only_policies[...]``, or :func:`merge_policy_documents`
    of several). ``parent`` is optional: without it the children take ``opts`` as given
    (``opts`` also carries a provider, ``protect`` and the like).
    """
    raise_if_invalid(
        "pod_identity_role", name, _workload_problems(namespace, service_account, policy)
    )
    child = _child_options(parent, opts)
    all_tags = merge_tags(tags, {"workload-namespace": namespace, "workload-sa": service_account})
    iam_role = aws.iam.Role(
        f"{name}-role",
        name=physical_name(
            role, NameKind.IAM_ROLE, name_prefix, owner=f"pod_identity_role '{name}'"
        ),
        description=f"EKS Pod Identity role of {namespace}/{service_account}",
        assume_role_policy=policy_json(pod_identity_trust(cluster_arn, namespace, service_account)),
        permissions_boundary=permission_boundary_arn,
        max_session_duration=3600,
        tags=all_tags,
        opts=child,
    )
    inline = aws.iam.RolePolicy(
        f"{name}-policy",
        role=iam_role.name,
        policy=policy_json(policy),
        opts=child,
    )
    association = aws.eks.PodIdentityAssociation(
        f"{name}-pod-identity",
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=iam_role.arn,
        tags=all_tags,
        opts=pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[inline, *depends_on])
        ),
    )
    return WorkloadRole(iam_role, inline, association)


def irsa_trust(
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer_url: pulumi.Input[str],
    namespace: str,
    service_account: str,
):
    """Trust for IRSA: web identity from the cluster's OIDC provider, ``sub`` and ``aud`` pinned."""
    issuer = pulumi.Output.from_input(oidc_issuer_url).apply(
        lambda url: url.removeprefix("https://")
    )
    condition = issuer.apply(
        lambda host: {
            "StringEquals": {
                f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{host}:aud": STS_AUDIENCE,
            }
        }
    )
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "EksIrsa",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": condition,
            }
        ],
    }


def irsa_role(
    name: str,
    *,
    parent: pulumi.Resource | None = None,
    name_prefix: str,
    role: str,
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer_url: pulumi.Input[str],
    namespace: str,
    service_account: str,
    policy: PolicyDocument,
    permission_boundary_arn: pulumi.Input[str | None] | None = None,
    tags: Mapping[str, str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> WorkloadRole:
    """A workload role for IRSA (for charts that need the role-arn annotation).

    Annotate the service account with ``eks.amazonaws.com/role-arn: <role.arn>``.
    ``policy``, ``parent`` and ``opts`` as for :func:`pod_identity_role`.
    """
    raise_if_invalid("irsa_role", name, _workload_problems(namespace, service_account, policy))
    child = _child_options(parent, opts)
    iam_role = aws.iam.Role(
        f"{name}-role",
        name=physical_name(role, NameKind.IAM_ROLE, name_prefix, owner=f"irsa_role '{name}'"),
        description=f"IRSA role of {namespace}/{service_account}",
        assume_role_policy=policy_json(
            irsa_trust(oidc_provider_arn, oidc_issuer_url, namespace, service_account)
        ),
        permissions_boundary=permission_boundary_arn,
        max_session_duration=3600,
        tags=merge_tags(tags, {"workload-namespace": namespace, "workload-sa": service_account}),
        opts=child,
    )
    inline = aws.iam.RolePolicy(
        f"{name}-policy", role=iam_role.name, policy=policy_json(policy), opts=child
    )
    return WorkloadRole(iam_role, inline, None)
