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


def policy_json(document: pulumi.Input[Mapping[str, Any]]) -> pulumi.Output[str]:
    """A policy document (a dict that may hold Outputs) as the JSON string AWS takes."""
    return pulumi.Output.from_input(document).apply(
        lambda doc: json.dumps(doc, sort_keys=False, separators=(",", ":"))
    )


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
