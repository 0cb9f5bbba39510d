"""IAM-style policy documents (IAM, S3 bucket, KMS key, ECR repository policies), parsed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One statement, with Action/Resource/Principal normalised to lists."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...]
    """``"*"`` for an anonymous principal, otherwise ``"<kind>:<value>"`` entries."""
    condition: Mapping[str, Any]
    sid: str

    @property
    def allows(self) -> bool:
        """Whether this is an Allow statement."""
        return self.effect == "Allow"

    @property
    def public_principal(self) -> bool:
        """Principal ``*`` or ``{"AWS": "*"}``."""
        return "*" in self.principals or "AWS:*" in self.principals

    def label(self) -> str:
        """How a message names this statement."""
        return f"statement {self.sid!r}" if self.sid else "a statement"


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value)
    return ()


def _principals(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return ("*",) if value == "*" else (f"AWS:{value}",)
    if isinstance(value, Mapping):
        out: list[str] = []
        for kind in value:
            out += [f"{kind}:{v}" for v in _strings(value[kind])]
        return tuple(out)
    return ()


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value


def parse(document: Any) -> list[Statement] | None:
    """Statements of a JSON policy string or object; None when it is not a policy document."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, Mapping):
        return None
    raw = document.get("Statement", [])
    if isinstance(raw, Mapping):
        raw = [raw]
    statements = []
    for s in raw if isinstance(raw, Sequence) else []:
        if not isinstance(s, Mapping):
            continue
        statements.append(
            Statement(
                effect=str(s.get("Effect", "")),
                actions=_strings(s.get("Action")),
                not_actions=_strings(s.get("NotAction")),
                resources=_strings(s.get("Resource")) or (("*",) if "NotResource" in s else ()),
                principals=_principals(s.get("Principal")),
                condition=_plain(s.get("Condition") or {}),
                sid=str(s.get("Sid", "")),
            )
        )
    return statements


PRINCIPAL_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
    }
)
"""Condition keys that narrow who (or what) the principal can be; an OIDC ``<issuer>:sub``
counts too."""

_RESTRICTING_OPERATORS = frozenset({"stringequals", "stringlike", "arnequals", "arnlike"})


def operator_base(operator: str) -> tuple[str, bool]:
    """(operator without a ``ForAnyValue:`` qualifier, lower-case; whether it is
    unconditional): ``...IfExists`` and ``ForAllValues:`` pass when the key is absent."""
    op = operator.strip()
    lowered = op.lower()
    weak = lowered.endswith("ifexists") or lowered.startswith("forallvalues:")
    if ":" in lowered:
        lowered = lowered.split(":", 1)[1]
    return lowered.removesuffix("ifexists"), not weak


def is_negated(operator: str) -> bool:
    """``StringNotEquals``, ``ArnNotLike``, ...: matches everything but the values."""
    return "not" in operator_base(operator)[0]


def specific_value(value: Any) -> bool:
    """A condition value that names something: not empty, not starting with a wildcard,
    and for an ARN no wildcard in its account field."""
    text = str(value).strip()
    if not text or text[0] in "*?":
        return False
    if text.startswith("arn:"):
        fields = text.split(":")
        if len(fields) > 4 and ("*" in fields[4] or "?" in fields[4]):
            return False
    return True


def restricts_principal(condition: Mapping[str, Any]) -> bool:
    """Whether a condition narrows an anonymous principal: an unconditional StringEquals /
    StringLike / ArnEquals / ArnLike on a principal-restricting key (aws:PrincipalOrgID,
    aws:SourceArn, ..., or an OIDC ``:sub``) whose values are all specific."""
    for operator, block in condition.items():
        base, strong = operator_base(str(operator))
        if not strong or base not in _RESTRICTING_OPERATORS or not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            name = str(key).lower()
            if name not in PRINCIPAL_KEYS and not name.endswith(":sub"):
                continue
            values = _strings(value) or (str(value),)
            if values and all(specific_value(v) for v in values):
                return True
    return False


def public_allows(document: Any) -> list[Statement]:
    """Allow statements to an anonymous principal that no principal-restricting condition
    narrows (other conditions, e.g. on aws:SecureTransport, do not count)."""
    return [
        s
        for s in parse(document) or []
        if s.allows and s.public_principal and not restricts_principal(s.condition)
    ]


def condition_values(condition: Mapping[str, Any], key_suffix: str) -> list[tuple[str, str]]:
    """(operator, value) pairs for condition keys ending in ``key_suffix`` (case-insensitive)."""
    found = []
    for operator, block in condition.items():
        if not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            if str(key).lower().endswith(key_suffix.lower()):
                found += [(operator, v) for v in _strings(value) or (str(value),)]
    return found
