"""KMS: rotation, no public key policy, deletion window."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from components.core.limits import KMS_DELETION_WINDOW_DAYS
from rules import documents
from rules.rule import Rule, fmt

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


def _rotation(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    spec = props["customerMasterKeySpec"].text() or props["keySpec"].text() or "SYMMETRIC_DEFAULT"
    if spec.upper() == "SYMMETRIC_DEFAULT" and props["enableKeyRotation"].flag() is not True:
        yield "automatic key rotation is off"


def _not_public(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.public_allows(args.props["policy"]):
        yield f"the key policy's {s.label()} allows any principal with no condition"


_SHORTEST, _LONGEST = KMS_DELETION_WINDOW_DAYS


def _deletion(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    if args.resource_type == KEY_POLICY:
        if props["bypassPolicyLockoutSafetyCheck"].flag() is True:
            yield "the key policy bypasses the lockout safety check"
        return
    window = props["deletionWindowInDays"].number(float(_LONGEST))  # AWS default: the longest
    least = float(cfg.get("minDeletionWindowDays", _SHORTEST))
    if window < least:
        yield f"deletionWindowInDays is {fmt(window)}; at least {fmt(least)} is required"
    if props["bypassPolicyLockoutSafetyCheck"].flag() is True:
        yield "the key bypasses the policy lockout safety check"


RULES: list[Rule] = [
    Rule(
        id="KMS-001",
        name="kms-key-rotation",
        severity=Severity.HIGH,
        description="Symmetric KMS keys rotate automatically.",
        remediation='aws.kms.Key(f"{name}-key", enable_key_rotation=True, ...)',
        controls=("CKV_AWS_7", "AWSGuard kms-key-rotation-enabled"),
        catalog=(45,),
        resource_check=_rotation,
        resource_types=(KEY,),
    ),
    Rule(
        id="KMS-002",
        name="kms-key-policy-not-public",
        severity=Severity.CRITICAL,
        description="KMS key policies allow no anonymous principal unless a condition pins the "
        "caller (aws:PrincipalOrgID, aws:PrincipalAccount, kms:CallerAccount, ... with specific "
        "values); kms:CallerAccount plus kms:ViaService, the standard AWS pattern, is narrowing.",
        remediation=(
            'Grant the account root and named roles: {"Principal": {"AWS": '
            'f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}'
        ),
        controls=("FSBP KMS.5", "CKV_AWS_33"),
        catalog=(46,),
        resource_check=_not_public,
        resource_types=(KEY, KEY_POLICY),
    ),
    Rule(
        id="KMS-003",
        name="kms-key-deletion-window",
        severity=Severity.MEDIUM,
        description="KMS keys keep a deletion window of at least the environment's minimum "
        f"({_SHORTEST} days; {_LONGEST} in prod) and never bypass the lockout safety check.",
        remediation=f'aws.kms.Key(f"{{name}}-key", deletion_window_in_days={_LONGEST}, ...)',
        controls=("FSBP KMS.3",),
        catalog=(47,),
        resource_check=_deletion,
        resource_types=(KEY, KEY_POLICY),
        config={
            "minDeletionWindowDays": {
                "type": "integer",
                "minimum": _SHORTEST,
                "maximum": _LONGEST,
                "default": _SHORTEST,
                "description": "Shortest acceptable deletion window (days).",
            }
        },
    ),
]
