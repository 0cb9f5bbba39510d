"""KMS: rotation, no public key policy, deletion window."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from components.core.limits import KMS_DELETION_WINDOW_DAYS
from rules import documents
from rules.catalog import resource_rule, rules_of
from rules.checks import fmt

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


@resource_rule("KMS-001", KEY)
def _rotation(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    spec = props["customerMasterKeySpec"].text() or props["keySpec"].text() or "SYMMETRIC_DEFAULT"
    if spec.upper() == "SYMMETRIC_DEFAULT" and props["enableKeyRotation"].flag() is not True:
        yield "automatic key rotation is off"


@resource_rule("KMS-002", KEY, KEY_POLICY)
def _not_public(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    for s in documents.public_allows(args.props["policy"]):
        yield f"the key policy's {s.label()} allows any principal with no condition"


_LONGEST = KMS_DELETION_WINDOW_DAYS[1]


@resource_rule("KMS-003", KEY, KEY_POLICY)
def _deletion(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    if args.resource_type == KEY_POLICY:
        if props["bypassPolicyLockoutSafetyCheck"].flag() is True:
            yield "the key policy bypasses the lockout safety check"
        return
    window = props["deletionWindowInDays"].number(float(_LONGEST))  # AWS default: the longest
    least = float(cfg["minDeletionWindowDays"])
    if window < least:
        yield f"deletionWindowInDays is {fmt(window)}; at least {fmt(least)} is required"
    if props["bypassPolicyLockoutSafetyCheck"].flag() is True:
        yield "the key bypasses the policy lockout safety check"


RULES = rules_of(__name__)
