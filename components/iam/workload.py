"""Workload roles: one IAM role per Kubernetes service account, through EKS Pod Identity
(:func:`pod_identity_role`) or IRSA (:func:`irsa_role`).

Trust is pinned to one cluster, namespace and service account; the inline policy is the
least-privilege document the caller writes as a Python dict (it may hold Outputs).

A component's roles share their cluster, name prefix, boundary and parent: it makes them
through one :class:`PodIdentity` (``PodIdentity.of(self, args)`` reads the four from args
that carry ``name_prefix``, ``cluster_name``, ``cluster_arn`` and ``permission_boundary_arn``),
and writes the policies it needs of the cluster's partition, region and account with
:func:`cluster_document`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, Unpack

import pulumi
import pulumi_aws as aws

from ..core.naming import NameKind, physical_name
from ..core.patterns import DNS_LABEL
from ..core.tagging import merge_tags
from ..core.validation import Invalid, raise_if_invalid
from .documents import (
    POLICY_VERSION,
    STS_AUDIENCE,
    PolicyDocument,
    document_problems,
    policy_json,
)


@dataclass(frozen=True)
class WorkloadRole:
    """A workload's IAM role, its inline policy and (Pod Identity) its association."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    association: aws.eks.PodIdentityAssociation | None

    @property
    def ready(self) -> pulumi.Resource:
        """What a pod using the role waits for: the association (Pod Identity; it waits for
        the policy), else the policy. A pod started earlier gets no credentials."""
        return self.association or self.policy


def _workload_problems(
    namespace: str, service_account: str, policy: PolicyDocument
) -> list[Invalid]:
    problems: list[Invalid] = []
    if not DNS_LABEL.matches(namespace):
        problems.append(Invalid("namespace", namespace, "a DNS-1123 label, e.g. kube-system"))
    if not DNS_LABEL.matches(service_account):
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


def _workload_tags(workload: WorkloadRoleArgs) -> dict[str, str]:
    return merge_tags(
        workload.get("tags"),
        {"workload-namespace": workload["namespace"], "workload-sa": workload["service_account"]},
    )


class _WorkloadRoleRequired(TypedDict):
    name_prefix: str
    """Physical-name prefix: the role is ``{name_prefix}-{role}``."""
    role: str
    """The role's name after the prefix."""
    namespace: str
    """Namespace of the service account (a DNS-1123 label)."""
    service_account: str
    """The service account the role is for (a DNS-1123 label)."""
    policy: PolicyDocument
    """The least-privilege inline policy: a dict (it may hold Outputs) or its JSON string."""


class WorkloadRoleArgs(_WorkloadRoleRequired, total=False):
    """What both workload-role helpers take besides their trust's own inputs (the five above
    are required)."""

    parent: pulumi.Resource | None
    """The children's parent; without it they take ``opts`` as given."""
    permission_boundary_arn: pulumi.Input[str | None] | None
    """Boundary attached to the role."""
    tags: Mapping[str, str] | None
    """Tags of the role (and association), with ``workload-namespace``/``workload-sa``."""
    opts: pulumi.ResourceOptions | None
    """Options of every child (a provider, ``protect``...)."""


_OPTIONAL_KEYS = WorkloadRoleArgs.__optional_keys__


def _check_keywords(helper: str, workload: WorkloadRoleArgs) -> None:
    """A missing or unknown keyword is a TypeError, as for a plain signature (an unknown one
    is never dropped silently: a misspelt ``permission_boundary_arn`` would leave a role
    without its boundary)."""
    missing = sorted(WorkloadRoleArgs.__required_keys__ - set(workload))
    unknown = sorted(set(workload) - WorkloadRoleArgs.__required_keys__ - _OPTIONAL_KEYS)
    problems = [f"missing keyword argument(s): {', '.join(missing)}"] if missing else []
    problems += [f"unknown keyword argument(s): {', '.join(unknown)}"] if unknown else []
    if problems:
        raise TypeError(f"{helper}() " + "; ".join(problems))


def _role_and_policy(
    helper: str, name: str, kind: str, trust: Mapping[str, Any], workload: WorkloadRoleArgs
) -> tuple[aws.iam.Role, aws.iam.RolePolicy, pulumi.ResourceOptions]:
    """The checked role ``{name}-role`` (one-hour sessions), its inline ``{name}-policy`` and
    the options their siblings take."""
    _check_keywords(helper, workload)
    namespace, service_account = workload["namespace"], workload["service_account"]
    raise_if_invalid(
        helper, name, _workload_problems(namespace, service_account, workload["policy"])
    )
    child = _child_options(workload.get("parent"), workload.get("opts"))
    iam_role = aws.iam.Role(
        f"{name}-role",
        name=physical_name(
            workload["role"], NameKind.IAM_ROLE, workload["name_prefix"], owner=f"{helper} '{name}'"
        ),
        description=f"{kind} role of {namespace}/{service_account}",
        assume_role_policy=policy_json(trust),
        permissions_boundary=workload.get("permission_boundary_arn"),
        max_session_duration=3600,
        tags=_workload_tags(workload),
        opts=child,
    )
    inline = aws.iam.RolePolicy(
        f"{name}-policy", role=iam_role.name, policy=policy_json(workload["policy"]), opts=child
    )
    return iam_role, inline, child


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
    cluster_name: pulumi.Input[str],
    cluster_arn: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource] = (),
    **workload: Unpack[WorkloadRoleArgs],
) -> WorkloadRole:
    """A workload role for EKS Pod Identity, with its inline policy and association.

    ``name`` is the logical-name stem (children are ``{name}-role``, ``{name}-policy``,
    ``{name}-pod-identity``); ``role`` the physical-name role (``{name_prefix}-{role}``).
    ``policy`` is the least-privilege document: a dict (it may hold Outputs) or its JSON
    string (e.g. ``ArtifactStore.read_only_policies[...]``, or :func:`merge_policy_documents`
    of several). ``parent`` is optional: without it the children take ``opts`` as given
    (``opts`` also carries a provider, ``protect`` and the like). The other keywords:
    :class:`WorkloadRoleArgs`.
    """
    namespace, service_account = workload["namespace"], workload["service_account"]
    trust = pod_identity_trust(cluster_arn, namespace, service_account)
    iam_role, inline, child = _role_and_policy(
        "pod_identity_role", name, "EKS Pod Identity", trust, workload
    )
    association = aws.eks.PodIdentityAssociation(
        f"{name}-pod-identity",
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=iam_role.arn,
        tags=_workload_tags(workload),
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
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer_url: pulumi.Input[str],
    **workload: Unpack[WorkloadRoleArgs],
) -> WorkloadRole:
    """A workload role for IRSA (for charts that need the role-arn annotation).

    Annotate the service account with ``eks.amazonaws.com/role-arn: <role.arn>``. The other
    keywords as for :func:`pod_identity_role` (:class:`WorkloadRoleArgs`).
    """
    trust = irsa_trust(
        oidc_provider_arn, oidc_issuer_url, workload["namespace"], workload["service_account"]
    )
    iam_role, inline, _ = _role_and_policy("irsa_role", name, "IRSA", trust, workload)
    return WorkloadRole(iam_role, inline, None)


class ClusterWorkloadArgs(Protocol):
    """What a component's args say about the cluster its workload roles belong to."""

    @property
    def name_prefix(self) -> str: ...
    @property
    def cluster_name(self) -> pulumi.Input[str]: ...
    @property
    def cluster_arn(self) -> pulumi.Input[str]: ...
    @property
    def permission_boundary_arn(self) -> pulumi.Input[str | None] | None: ...


@dataclass(frozen=True)
class PodIdentity:
    """Where a component's Pod Identity roles go: trusted by one cluster, named under one
    prefix, under one permission boundary, children of one parent."""

    parent: pulumi.Resource | None
    """The component the roles, policies and associations are children of."""
    name_prefix: str
    """Physical-name prefix of the roles (``{name_prefix}-{role}``)."""
    cluster_name: pulumi.Input[str]
    """The cluster the associations are made in."""
    cluster_arn: pulumi.Input[str]
    """The cluster the roles trust (and only it)."""
    permission_boundary_arn: pulumi.Input[str | None] | None = None
    """Boundary attached to every role."""

    @classmethod
    def of(cls, parent: pulumi.Resource, args: ClusterWorkloadArgs) -> PodIdentity:
        """The roles of ``parent``, from its args' cluster, name prefix and boundary."""
        return cls(
            parent,
            args.name_prefix,
            args.cluster_name,
            args.cluster_arn,
            args.permission_boundary_arn,
        )

    def role(
        self,
        name: str,
        *,
        role: str,
        namespace: str,
        service_account: str,
        policy: PolicyDocument,
        tags: Mapping[str, str] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> WorkloadRole:
        """:func:`pod_identity_role` ``name`` for ``namespace/service_account``."""
        return pod_identity_role(
            name,
            parent=self.parent,
            name_prefix=self.name_prefix,
            role=role,
            cluster_name=self.cluster_name,
            cluster_arn=self.cluster_arn,
            namespace=namespace,
            service_account=service_account,
            policy=policy,
            permission_boundary_arn=self.permission_boundary_arn,
            tags=tags,
            depends_on=depends_on,
        )


def arn_fields(arn: str) -> dict[str, str]:
    """``partition``, ``region`` and ``account`` of an ARN
    (``arn:<partition>:<service>:<region>:<account>:<resource>``)."""
    parts = arn.split(":")
    return {"partition": parts[1], "region": parts[3], "account": parts[4]}


def arn_part(arn: pulumi.Input[str], part: str) -> pulumi.Output[str]:
    """The ``partition``, ``region`` or ``account`` of an ARN (e.g. a cluster's: no lookup)."""
    return pulumi.Output.from_input(arn).apply(lambda value: arn_fields(value)[part])


def cluster_document(
    cluster_arn: pulumi.Input[str],
    build: Callable[..., Mapping[str, Any]],
    **inputs: Any,
) -> pulumi.Output[Mapping[str, Any]]:
    """``build(partition=..., region=..., account=..., **inputs)`` once the cluster's ARN and
    ``inputs`` are known: a policy written for the cluster's partition, region and account."""
    named = pulumi.Output.all(**inputs) if inputs else pulumi.Output.from_input({})
    return pulumi.Output.all(pulumi.Output.from_input(cluster_arn), named).apply(
        lambda v: build(**arn_fields(v[0]), **v[1])
    )
