"""IAM-style policy documents (IAM, S3 bucket, KMS key, ECR repository, SQS/SNS policies),
read through the tolerant reading layer, and how broad their grants are.

Breadth is decided by wildcard matching against representative names, never by string
equality: an action pattern is "every action" when it matches an invented action of an
invented service, "a whole service" when it matches an invented action of its service; a
resource pattern is "every resource" when it matches an invented resource of a common type
(``arn:aws:s3:::*``, ``key/*``, ``role/*``), or leaves the region/account/service open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rules.read import MISSING, Node, wildcard_match

PROBE = "zzqprobe"
"""An invented name no real pattern spells out: a pattern that matches it matches anything."""
PROBE_ACCOUNT = "999999999999"
_PROBE_ACTION = "Zzqprobeaction"


@dataclass(frozen=True)
class Statement:
    """One statement, with Action/Resource/Principal normalised to tuples and Condition to
    operator -> key -> values."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...]
    """``"*"`` for an anonymous principal, otherwise ``"<kind>:<value>"`` entries."""
    condition: Mapping[str, Mapping[str, tuple[str, ...]]]
    sid: str

    @property
    def allows(self) -> bool:
        """Whether this is an Allow statement."""
        return self.effect.lower() == "allow"

    @property
    def public_principal(self) -> bool:
        """Principal ``*``, ``{"AWS": "*"}``, or an AWS principal pattern matching any
        account."""
        if "*" in self.principals:
            return True
        for p in self.principals:
            kind, _, value = p.partition(":")
            if kind == "AWS" and (
                wildcard_match(value, PROBE_ACCOUNT)
                or wildcard_match(value, f"arn:aws:iam::{PROBE_ACCOUNT}:root")
            ):
                return True
        return False

    def label(self) -> str:
        """How a message names this statement."""
        return f"statement {self.sid!r}" if self.sid else "a statement"

    @property
    def broad_resource(self) -> bool:
        """Whether it applies to every resource (of a service or account, or NotResource)."""
        return any(broad_resource(r) for r in self.resources)


def _principals(node: Node) -> tuple[str, ...]:
    if node.absent:
        return ()
    if isinstance(node.raw, str):
        value = node.text()
        if value is None:
            return ()
        return ("*",) if value.strip() == "*" else (f"AWS:{value}",)
    out: list[str] = []
    for kind, values in node.entries().items():
        out += [f"{kind}:{v.strip()}" for v in values.strings()]
    return tuple(out)


def _condition(node: Node) -> dict[str, dict[str, tuple[str, ...]]]:
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for operator, block in node.entries().items():
        out[operator] = {key: tuple(v.strings()) for key, v in block.entries().items()}
    return out


def parse(document: Node) -> list[Statement] | None:
    """Statements of a policy given as a JSON string or an object; None when absent.
    Shapes the reading layer cannot read are findings of the calling rule."""
    doc = document.doc()
    if doc.absent:
        return None
    if not isinstance(doc.raw, Mapping):
        doc.entries()  # records "cannot read ... as an object"
        return None
    statements = []
    for s in doc["Statement"].items(single=True):
        if not s.entries():
            continue
        not_resource = s["NotResource"].present
        statements.append(
            Statement(
                effect=s["Effect"].text("") or "",
                actions=tuple(a.strip() for a in s["Action"].strings()),
                not_actions=tuple(a.strip() for a in s["NotAction"].strings()),
                resources=tuple(r.strip() for r in s["Resource"].strings())
                or (("*",) if not_resource else ()),
                principals=_principals(s["Principal"]),
                condition=_condition(s["Condition"]),
                sid=s["Sid"].label(""),
            )
        )
    return statements


def parse_value(value: object) -> list[Statement] | None:
    """:func:`parse` of a plain value (for tests and helpers outside a rule run)."""
    return parse(Node(MISSING if value is None else value))


# --- breadth ---------------------------------------------------------------------------------


def every_action(pattern: str) -> bool:
    """Whether an action pattern matches every action of every service (``*``, ``*:*``,
    ``?*:*``, ...)."""
    return wildcard_match(pattern, f"{PROBE}:{_PROBE_ACTION}", fold=True)


def whole_service(pattern: str) -> str | None:
    """The service whose every action ``pattern`` matches (``ec2:*``, ``ec2:?*``,
    ``EC2:*``), or None (also None for every-action patterns)."""
    service, sep, _ = pattern.partition(":")
    if not sep or any(ch in service for ch in "*?") or every_action(pattern):
        return None
    whole = wildcard_match(pattern, f"{service}:{_PROBE_ACTION}", fold=True)
    return service.lower() if whole else None


def covers(pattern: str, action: str) -> bool:
    """Whether an action pattern matches a concrete action (case-insensitive)."""
    return wildcard_match(pattern, action, fold=True)


_RESOURCE_TYPES = (
    "",
    "role/",
    "user/",
    "group/",
    "policy/",
    "instance-profile/",
    "oidc-provider/",
    "key/",
    "alias/",
    "repository/",
    "secret:",
    "parameter/",
    "function:",
    "table/",
    "instance/",
    "volume/",
    "security-group/",
    "cluster/",
    "log-group:",
    "db:",
    "assumed-role/",
    "stream/",
    "topic/",
)


def broad_resource(pattern: str) -> bool:
    """Whether a resource pattern covers a whole service or account: ``*``, any wildcard in
    the partition, service, region or account field, or a resource part matching an invented
    resource of a common type (``arn:aws:s3:::*``, ``arn:aws:kms:r:a:key/*``,
    ``arn:aws:iam::a:role/*``, ``arn:aws:*:*:*:*``)."""
    text = pattern.strip()
    if not text or wildcard_match(text, PROBE):
        return True
    fields = text.split(":", 5)
    if len(fields) < 6:
        # "arn:*", "arn:aws:s3*": test against whole invented ARNs
        return any(
            wildcard_match(text, arn)
            for arn in (
                f"arn:aws:s3:::{PROBE}",
                f"arn:aws:iam::{PROBE_ACCOUNT}:role/{PROBE}",
                f"arn:aws:kms:us-east-1:{PROBE_ACCOUNT}:key/{PROBE}",
            )
        )
    _, partition, service, region, account, resource = fields
    if any(ch in f for f in (partition, service, region, account) for ch in "*?"):
        return True
    if service == "s3":
        return wildcard_match(resource, PROBE) or wildcard_match(resource, f"{PROBE}/{PROBE}")
    return any(wildcard_match(resource, f"{t}{PROBE}") for t in _RESOURCE_TYPES)


# --- conditions --------------------------------------------------------------------------------

PRINCIPAL_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
        "kms:calleraccount",
    }
)
"""Condition keys that narrow who (or what) the principal can be; an OIDC ``<issuer>:sub``
counts too. ``kms:CallerAccount`` pins the calling account (the standard key-policy pattern
with ``kms:ViaService``)."""

ORG_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths"})

_POSITIVE = frozenset({"stringequals", "stringlike", "arnequals", "arnlike"})
_LIKE = frozenset({"stringlike", "arnlike", "arnequals"})
_KEY_PROBES = (
    PROBE,
    PROBE_ACCOUNT,
    f"o-{PROBE}",
    f"o-{PROBE}/r-{PROBE}/ou-{PROBE}/",
    f"arn:aws:iam::{PROBE_ACCOUNT}:role/{PROBE}",
    f"arn:aws:s3:::{PROBE}",
    f"arn:aws:sns:us-east-1:{PROBE_ACCOUNT}:{PROBE}",
    f"vpc-{PROBE}",
    f"vpce-{PROBE}",
    f"system:serviceaccount:{PROBE}:{PROBE}",
    f"repo:{PROBE}/{PROBE}:ref:refs/heads/{PROBE}",
)


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


def specific_value(value: str, operator: str = "StringLike") -> bool:
    """A condition value that names something: not empty, and (for the wildcard-matching
    operators) matching none of the invented values (any account, org, ARN, subject)."""
    text = value.strip()
    if not text:
        return False
    like = operator_base(operator)[0] in _LIKE
    fields = text.split(":")
    any_account = len(fields) > 4 and any(ch in fields[4] for ch in "*?")
    if (like or text[0] in "*?") and text.startswith("arn:") and any_account:
        return False
    if like or text[0] in "*?":
        return not any(wildcard_match(text, probe) for probe in _KEY_PROBES)
    return True


def restricts_principal(
    condition: Mapping[str, Mapping[str, Iterable[str]]], keys: frozenset[str] = PRINCIPAL_KEYS
) -> bool:
    """Whether a condition narrows an anonymous principal: an unconditional StringEquals /
    StringLike / ArnEquals / ArnLike on a principal-restricting key (``keys``, or an OIDC
    ``:sub``) whose values are all specific."""
    for operator, block in condition.items():
        base, strong = operator_base(operator)
        if not strong or base not in _POSITIVE:
            continue
        for key, values in block.items():
            name = key.lower()
            if name not in keys and not (keys is PRINCIPAL_KEYS and name.endswith(":sub")):
                continue
            found = list(values)
            if found and all(specific_value(v, operator) for v in found):
                return True
    return False


def _matches_all(value: str) -> bool:
    text = value.strip()
    return wildcard_match(text, PROBE) and wildcard_match(text, f"arn:aws:s3:::{PROBE}")


def narrows(condition: Mapping[str, Mapping[str, Iterable[str]]]) -> bool:
    """Whether a condition narrows the request at all: some clause is not one that matches
    everything (a wildcard-only value such as ``*`` under a wildcard-matching operator)."""
    for operator, block in condition.items():
        base, _ = operator_base(operator)
        for values in block.values():
            found = list(values)
            if not found:
                continue
            if base in _LIKE and any(_matches_all(v) for v in found):
                continue
            return True
    return False


def public_allows(document: Node) -> list[Statement]:
    """Allow statements to an anonymous principal that no principal-restricting condition
    narrows (other conditions, e.g. on aws:SecureTransport, do not count)."""
    return [
        s
        for s in parse(document) or []
        if s.allows and s.public_principal and not restricts_principal(s.condition)
    ]


def condition_values(
    condition: Mapping[str, Mapping[str, Iterable[str]]], key_suffix: str
) -> list[tuple[str, str]]:
    """(operator, value) pairs for condition keys ending in ``key_suffix`` (case-insensitive)."""
    found = []
    for operator, block in condition.items():
        for key, values in block.items():
            if key.lower().endswith(key_suffix.lower()):
                found += [(operator, v) for v in values]
    return found


# --- accounts ------------------------------------------------------------------------------------

_ACCOUNT = re.compile(r"^(\d{12})$|^arn:[^:]+:(?:iam|sts)::(\d{12}):")


def principal_accounts(statement: Statement) -> set[str]:
    """The AWS accounts named by a statement's AWS principals."""
    out = set()
    for p in statement.principals:
        kind, _, value = p.partition(":")
        match = _ACCOUNT.match(value) if kind == "AWS" else None
        if match:
            out.add(match.group(1) or match.group(2))
    return out
