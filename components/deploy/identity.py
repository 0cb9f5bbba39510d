"""Who runs ``pulumi up``: the deploying identity, resolved to the IAM principal an EKS access
entry can name.

EKS in authentication mode ``API`` without the bootstrap admin gives nobody access unless an
access entry says so, and an access entry names an IAM role, not an STS session. The caller of
a deploy is usually a session of an assumed role
(``arn:aws:sts::111122223333:assumed-role/Admin/alice``); IAM resolves that to the role ARN,
path included (``aws.iam.get_session_context``), which is what the entry must name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import pulumi_aws as aws

_ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/(.+)$")
_ROLE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(.+)$")
_USER = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):user/(.+)$")
_ROOT = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):root$")


class CallerKind(StrEnum):
    """What kind of principal runs the deploy."""

    ROLE = "role"
    """A session of an IAM role (SSO permission set, CI OIDC role, an assumed admin role)."""
    USER = "user"
    """An IAM user (long-lived access keys)."""
    ROOT = "root"
    """The account's root user."""
    OTHER = "other"
    """Anything else (e.g. a federated user session)."""


@dataclass(frozen=True)
class DeployerIdentity:
    """The deploying identity."""

    caller_arn: str
    """The caller's ARN as STS reports it."""

    kind: CallerKind
    """What kind of principal it is."""

    role_arn: str | None
    """The IAM role behind the session (path resolved), for ``CallerKind.ROLE``."""

    @property
    def role_name(self) -> str | None:
        """The role's name (without its path)."""
        return self.role_arn.rsplit("/", 1)[-1] if self.role_arn else None


def deployer_identity(caller_arn: str, issuer_arn: str | None = None) -> DeployerIdentity:
    """Classify ``caller_arn``; ``issuer_arn`` is IAM's answer for an assumed-role session
    (``get_session_context``), which carries the role's path."""
    if _ASSUMED_ROLE.match(caller_arn):
        match = _ASSUMED_ROLE.match(caller_arn)
        assert match is not None
        partition, account, role, _ = match.groups()
        role_arn = issuer_arn if issuer_arn and _ROLE.match(issuer_arn) else None
        return DeployerIdentity(
            caller_arn, CallerKind.ROLE, role_arn or f"arn:{partition}:iam::{account}:role/{role}"
        )
    if _ROLE.match(caller_arn):
        return DeployerIdentity(caller_arn, CallerKind.ROLE, caller_arn)
    if _USER.match(caller_arn):
        return DeployerIdentity(caller_arn, CallerKind.USER, None)
    if _ROOT.match(caller_arn):
        return DeployerIdentity(caller_arn, CallerKind.ROOT, None)
    return DeployerIdentity(caller_arn, CallerKind.OTHER, None)


def resolve_deployer() -> DeployerIdentity:
    """The identity running this program, asked of STS and IAM (two read-only calls:
    ``sts:GetCallerIdentity``, and ``iam:GetRole`` for an assumed role). Synchronous: what
    the stack registers depends on the answer."""
    caller = aws.get_caller_identity().arn
    issuer = None
    if _ASSUMED_ROLE.match(caller):
        issuer = aws.iam.get_session_context(arn=caller).issuer_arn
    return deployer_identity(caller, issuer)


def same_role(a: str, b: str) -> bool:
    """Whether two role ARNs name the same role (same account and name, paths aside)."""
    ma, mb = _ROLE.match(a), _ROLE.match(b)
    if ma is None or mb is None:
        return a == b
    return (
        ma.group(2) == mb.group(2)
        and ma.group(3).rsplit("/", 1)[-1] == mb.group(3).rsplit("/", 1)[-1]
    )


__all__ = [
    "CallerKind",
    "DeployerIdentity",
    "deployer_identity",
    "resolve_deployer",
    "same_role",
]
