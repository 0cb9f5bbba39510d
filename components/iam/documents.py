"""IAM policy documents as Python dicts: the version, the statement shape, JSON rendering, and
the documented places where a wildcard is allowed.

Every policy statement carries a ``Sid``. A statement that grants a wildcard action, or an
``Allow`` on the resource ``*``, must be listed in :data:`WILDCARD_ACTION_EXCEPTIONS` or
:data:`WILDCARD_RESOURCE_EXCEPTIONS` with the reason AWS requires it; the unit tests walk
every document the components register and fail on anything else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

POLICY_VERSION = "2012-10-17"

STS_AUDIENCE = "sts.amazonaws.com"
"""The ``aud`` every web-identity trust of the platform pins."""

WILDCARD_ACTION_EXCEPTIONS: dict[str, str] = {
    "BoundaryServiceCeiling": "a permission boundary only caps what identity policies grant; "
    "it lists whole services (svc:*) so that a role's own least-privilege policy decides, "
    "and its Deny statements close the escalation paths",
    "CiReadOnly": "pulumi refresh/preview reads EC2 through dozens of Describe calls "
    "(ec2:Describe*) that change nothing and return no data-plane content (no s3:GetObject, "
    "kms:Decrypt or secret values)",
}
"""Statement Sids allowed to grant wildcard actions, and why."""

WILDCARD_RESOURCE_EXCEPTIONS: dict[str, str] = {
    "BoundaryServiceCeiling": "a boundary is a ceiling over every resource; grants come from "
    "identity policies",
    "CiReadOnly": "only actions that support no resource-level permissions: ec2:Describe*, "
    "autoscaling:DescribeAutoScalingGroups/DescribeTags, eks:ListClusters, "
    "eks:DescribeAddonVersions/DescribeAddonConfiguration, eks:ListAccessPolicies, "
    "iam:ListOpenIDConnectProviders, kms:ListAliases; everything scopable is in the CiRead* "
    "statements on the stack's ARNs",
    "CiKmsCreateKey": "kms:CreateKey has no resource until the key exists",
    "CiEc2Network": "ec2 create calls are authorised on resource types, not names; "
    "scoped to the region by aws:RequestedRegion",
    "HumanListClusters": "eks:ListClusters supports no resource-level permissions",
    "RunnerVpcDescribe": "the ec2:Describe* calls CodeBuild makes for a build in a VPC (DHCP "
    "options, subnets, security groups, network interfaces, VPCs) support no resource-level "
    "permissions",
    "CiEcrRegistry": "registry-level ECR settings (scanning, pull-through cache) have no "
    "repository resource; scoped to the region by aws:RequestedRegion",
    "EbsCsiDescribe": "ec2:Describe* calls of the EBS CSI driver support no resource-level "
    "permissions",
    "CiInspectorForEcrScanning": "ECR enhanced scanning turns on Amazon Inspector for the "
    "account; inspector2:Enable, ListAccountPermissions and BatchGetAccountStatus have no "
    "resource types; scoped to the region by aws:RequestedRegion",
    "LbcRegionalRead": "the AWS Load Balancer Controller's ec2:Describe* and "
    "elasticloadbalancing:Describe* calls support no resource-level permissions; scoped to "
    "the region by aws:RequestedRegion",
    "LbcListCertificates": "acm:ListCertificates and iam:ListServerCertificates (the "
    "controller's certificate discovery for TLS listeners) support no resource-level "
    "permissions",
    "TenantEcrAuthToken": "ecr:GetAuthorizationToken (a tenant workload's registry login to "
    "push and pull its own repositories) supports no resource-level permissions",
}
"""Statement Sids allowed to ``Allow`` on resource ``*``, and why.

KMS key policies are exempt by construction: in a key policy ``*`` means "this key".
"""


PolicyDocument = pulumi.Input[Mapping[str, Any]] | pulumi.Input[str]
"""A policy document as the library accepts it everywhere: a dict (which may hold Outputs) or
its JSON string (what component outputs such as ``ArtifactStore.read_only_policies`` are)."""


def policy_dict(document: PolicyDocument) -> pulumi.Output[dict[str, Any]]:
    """A policy document in either accepted form, as a dict (Outputs inside resolved)."""
    return pulumi.Output.from_input(document).apply(_as_dict)


def policy_json(document: PolicyDocument) -> pulumi.Output[str]:
    """A policy document (a dict that may hold Outputs, or a JSON string) as the JSON string
    AWS takes: the one form every helper of the library returns."""
    return policy_dict(document).apply(
        lambda doc: json.dumps(doc, sort_keys=False, separators=(",", ":"))
    )


def merge_policy_documents(*documents: PolicyDocument) -> pulumi.Output[str]:
    """One policy document (JSON) with the statements of all ``documents``, in order.

    A statement that repeats an earlier one (Sid aside) is dropped; a statement whose ``Sid`` is
    already taken by a different statement is renamed ``<Sid>2``, ``<Sid>3``... (Sids must be
    unique within a policy and alphanumeric).
    """
    return pulumi.Output.all(*[policy_dict(d) for d in documents]).apply(
        lambda docs: json.dumps(_merge(docs), sort_keys=False, separators=(",", ":"))
    )


def _as_dict(document: Any) -> dict[str, Any]:
    if isinstance(document, str):
        parsed = json.loads(document)
        if not isinstance(parsed, dict):
            raise ValueError("a policy document must be a JSON object")
        return parsed
    return dict(document)


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [dict(found)] if isinstance(found, Mapping) else [dict(s) for s in found]


def _merge(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    merged: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []  # each kept statement without its Sid
    taken: set[str] = set()
    for document in documents:
        for item in _statements(document):
            content = {k: v for k, v in item.items() if k != "Sid"}
            if content in seen:
                continue
            seen.append(content)
            sid = item.get("Sid")
            if sid:
                base, number = sid, 2
                while item["Sid"] in taken:
                    item["Sid"] = f"{base}{number}"
                    number += 1
                taken.add(item["Sid"])
            merged.append(item)
    return {"Version": POLICY_VERSION, "Statement": merged}


def document_problems(document: Any) -> list[str]:
    """What is wrong with a plain policy document (empty: fine or not known yet)."""
    if isinstance(document, str):
        try:
            document = _as_dict(document)
        except ValueError as error:
            return [f"a policy document (a dict, or its JSON string): {error}"]
    if isinstance(document, Mapping) and not document.get("Statement"):
        return ["a policy document with at least one Statement"]
    return []


def statement(sid: str, actions: Sequence[str], resources: Any, **extra: Any) -> dict[str, Any]:
    """One statement: ``Sid``, ``Effect`` (``effect=``, default Allow), actions, resources and
    any other keys (``Condition=...``)."""
    return {
        "Sid": sid,
        "Effect": extra.pop("effect", "Allow"),
        "Action": list(actions),
        "Resource": resources,
        **extra,
    }


def principal_statement(
    sid: str, principal: Mapping[str, Any], actions: Sequence[str], **extra: Any
) -> dict[str, Any]:
    """One statement of a trust or resource policy: ``Sid``, ``Effect`` (``effect=``, default
    Allow), who (``{"AWS": [...]}``, ``{"Service": ...}``, ``{"Federated": ...}``), actions
    and any other keys (``Condition=...``); the resource is the policy's own."""
    return {
        "Sid": sid,
        "Effect": extra.pop("effect", "Allow"),
        "Principal": dict(principal),
        "Action": list(actions),
        **extra,
    }
