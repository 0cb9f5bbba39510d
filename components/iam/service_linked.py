"""Service-linked roles the platform needs in its account.

An account holds at most one service-linked role per AWS service; creating a second fails.
So each is created only when asked (``create``), and a stack in an account that already has
it says so (``exists``). The role is retained when the stack is destroyed: other stacks and
resources in the account may rely on it.
"""

from __future__ import annotations

from enum import StrEnum

import pulumi
import pulumi_aws as aws

SPOT_SERVICE = "spot.amazonaws.com"
"""The EC2 Spot service; its service-linked role is ``AWSServiceRoleForEC2Spot``. EC2 refuses
to launch Spot Instances (``AuthFailure.ServiceLinkedRoleCreationNotPermitted``) when the role
is missing and the caller may not create it; Karpenter's controller policy cannot create it."""


class ServiceLinkedRoleMode(StrEnum):
    """Whether the stack creates an account-wide service-linked role or relies on it."""

    CREATE = "create"
    EXISTS = "exists"


def spot_service_linked_role(
    name: str, *, opts: pulumi.ResourceOptions | None = None
) -> aws.iam.ServiceLinkedRole:
    """The EC2 Spot service-linked role (retained on delete: it is the account's)."""
    return aws.iam.ServiceLinkedRole(
        name,
        aws_service_name=SPOT_SERVICE,
        description="EC2 Spot: lets EC2 launch and manage Spot Instances for this account",
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)),
    )
