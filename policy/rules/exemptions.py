"""Exemptions: accepted deviations from one rule, each with an owner, a reason and an expiry.

A rule's config carries its ``exemptions`` (schema in :mod:`rules.settings`). A valid
exemption suppresses the findings on the resources its URN pattern matches; an expired one is
a violation of the rule it exempted; a malformed one, one naming another rule, one with a
pattern that is not specific, or one expiring beyond the rule's ``maxExemptionDays`` is
rejected (a violation, it suppresses nothing). Suppressed findings travel to the runner in
the policy's not-applicable reason (:data:`EXEMPTED_PREFIX` then JSON).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from pulumi_policy import PolicyResource

from rules.settings import DEFAULT_MAX_EXEMPTION_DAYS

if TYPE_CHECKING:
    from rules.rule import Rule

EXEMPTED_PREFIX = "exempted: "
"""Prefix of the not-applicable reason that carries suppressed findings (JSON follows)."""

_TYPE_TOKEN = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9._/-]*:[A-Za-z0-9_]+")
_WILDCARDS = set("*?[]!")


def pattern_problem(pattern: str) -> str | None:
    """Why an exemption's URN pattern is not specific enough (None when it is): it must end
    in ``::<type>::<name>`` with a literal type token and a name that is not only
    wildcards."""
    parts = pattern.split("::")
    if len(parts) < 3:
        return "must end in ::<type>::<name> (e.g. *::aws:s3/bucket:Bucket::models)"
    type_part, name = parts[-2], parts[-1]
    token = type_part.lstrip("*").rsplit("$", 1)[-1]
    if not _TYPE_TOKEN.fullmatch(token):
        return f"its type part {type_part!r} is not a literal resource type"
    if not name or set(name) <= _WILDCARDS:
        return "its name part is only wildcards"
    return None


@dataclass(frozen=True)
class Exemption:
    """One accepted deviation from one rule."""

    rule: str
    urn: str
    owner: str
    reason: str
    expires: date

    def matches(self, urn: str) -> bool:
        """Whether this exemption's URN pattern covers ``urn``."""
        return fnmatchcase(urn, self.urn)

    def expired(self, today: date) -> bool:
        """True once the expiry day has passed."""
        return today > self.expires

    def describe(self) -> dict[str, str]:
        """The JSON form shown with a suppressed finding."""
        return {
            "rule": self.rule,
            "pattern": self.urn,
            "owner": self.owner,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
        }

    def expired_message(self) -> str:
        """The violation an expired exemption is."""
        return (
            f"expired exemption: the exemption for {self.urn} (owner {self.owner}) ended on "
            f"{self.expires.isoformat()}; fix the finding or renew the exemption with a new "
            f"reason (was: {self.reason})"
        )


def today() -> date:
    """Today (UTC): an exemption is valid through its expiry day."""
    return datetime.now(UTC).date()


def load_exemptions(
    rule: str, config: Mapping[str, Any], on: date | None = None
) -> tuple[list[Exemption], list[str]]:
    """The rule's usable exemptions and the problems found in them (each problem is a
    violation): malformed entries, entries for another rule, URN patterns that are not
    specific, and expiries beyond the rule's ``maxExemptionDays`` cap (counted from ``on``,
    today by default)."""
    found: list[Exemption] = []
    problems: list[str] = []
    on = on or today()
    cap = config.get("maxExemptionDays", DEFAULT_MAX_EXEMPTION_DAYS)
    cap = int(cap) if isinstance(cap, int | float) else DEFAULT_MAX_EXEMPTION_DAYS
    for raw in config.get("exemptions") or []:
        try:
            named = str(raw.get("rule") or rule)
            expires = date.fromisoformat(str(raw["expires"]))
            entry = Exemption(
                named, str(raw["urn"]), str(raw["owner"]), str(raw["reason"]), expires
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            problems.append(f"invalid exemption {json.dumps(_plain(raw))}: {exc}")
            continue
        if named != rule:
            problems.append(
                f"exemption for {entry.urn} names rule {named!r} but sits under {rule!r}"
            )
            continue
        why = pattern_problem(entry.urn)
        if why is not None:
            problems.append(f"exemption pattern {entry.urn!r} is not specific: {why}")
            continue
        if (entry.expires - on).days > cap:
            problems.append(
                f"exemption for {entry.urn} (owner {entry.owner}) expires "
                f"{entry.expires.isoformat()}, more than {cap} days ahead; exemptions of this "
                "rule are capped at maxExemptionDays"
            )
            continue
        found.append(entry)
    return found, problems


def unknown_settings(rule: Rule, config: Mapping[str, Any]) -> list[str]:
    """A problem per config key the rule does not define: a typo must not silently fall
    back to the default (the offline runner rejects these up front; under the Pulumi CLI,
    whose schema carries no additionalProperties, they are reported here)."""
    known = set(rule.schema())
    return [
        f"unknown setting {key!r} in this rule's config (known: {', '.join(sorted(known))})"
        for key in config
        if key not in known and key != "enforcementLevel"
    ]


def audit(
    rules: Iterable[Rule],
    configs: Mapping[str, Mapping[str, Any]],
    resources: Sequence[PolicyResource],
) -> Iterator[tuple[str | None, str]]:
    """Every problem with the resource rules' exemptions and settings, once per stack, each
    message starting with the rule's name: rejected exemptions, unknown settings, and
    expired exemptions that match no resource (one that still matches a resource is
    reported by its own rule, on that resource)."""
    on = today()
    for rule in rules:
        config = configs.get(rule.name) or {}
        exemptions, problems = load_exemptions(rule.name, config, on)
        for problem in [*unknown_settings(rule, config), *problems]:
            yield None, f"{rule.name}: {problem}"
        for ex in exemptions:
            if ex.expired(on) and not any(
                rule.applies(r.resource_type) and ex.matches(r.urn) for r in resources
            ):
                yield None, f"{rule.name}: {ex.expired_message()} (it matches no resource)"


def suppressed_reason(suppressed: list[dict[str, str]]) -> str:
    """The not-applicable reason carrying the findings exemptions suppressed."""
    return EXEMPTED_PREFIX + json.dumps(suppressed, sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(value[k]) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value
