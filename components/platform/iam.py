"""``mlops:iam`` onto :class:`PlatformIam`: the CI deploy role, the boundary, the human roles."""

from __future__ import annotations

import pulumi

from ..config.model import IamConfig
from ..iam import PlatformIam, PlatformIamArgs
from .wiring import Wiring


def iam_args(iam: IamConfig, wiring: Wiring) -> PlatformIamArgs:
    """The platform's IAM, from ``mlops:iam``."""
    return wiring.args(
        PlatformIamArgs,
        iam,
        handled=("platform_admin_role", "read_only_role", "secrets_key_alias"),
        platform_admin_role=_wanted(iam.platform_admin_role, iam.admin_principal_arns),
        read_only_role=_wanted(iam.read_only_role, iam.read_only_principal_arns),
        secrets_kms_key_alias=iam.secrets_key_alias,
    )


def permission_boundary_arn(iam: IamConfig, platform_iam: PlatformIam) -> pulumi.Output[str] | None:
    """The boundary every role of the platform takes, if any. Whether there is one is known
    from the configuration; the ARN itself may be computed (a boundary the stack creates)."""
    if not (iam.permission_boundary_arn or iam.create_permission_boundary):
        return None
    return platform_iam.permission_boundary_arn.apply(_present)


def _wanted(switch: bool | None, principals: list[str]) -> bool:
    """A human role is on when asked for, or (unset) when someone may assume it."""
    return bool(principals) if switch is None else switch


def _present(value: str | None) -> str:
    if value is None:  # PlatformIam always yields an ARN when a boundary is configured
        raise ValueError("the permission boundary ARN resolved to nothing")
    return value
