"""The pack's rules, one module per service, and the policy-catalog coverage map.

What each rule is for is written in ``catalog.toml``; each service module binds its checks
to those entries (:mod:`rules.catalog`)."""

from __future__ import annotations

from rules import (
    catalog,
    ecr,
    eks,
    gpu,
    iam,
    kms,
    kubernetes,
    logs,
    network,
    rds,
    s3,
    serving,
    tagging,
    tenancy,
)
from rules.engine import exemptions_rule
from rules.rule import Rule, iter_rules

SERVICE_MODULES = (
    s3,
    ecr,
    eks,
    network,
    iam,
    kms,
    logs,
    rds,
    kubernetes,
    serving,
    gpu,
    tagging,
    tenancy,
)

_SERVICE_RULES: list[Rule] = list(iter_rules(*SERVICE_MODULES))

ALL_RULES: list[Rule] = [*_SERVICE_RULES, exemptions_rule(_SERVICE_RULES)]
"""Every rule, in service order, then the exemption audit of all resource rules."""

catalog.check_complete(ALL_RULES)

CATALOG_ROWS = range(1, 71)
"""Rows of the policy catalog (../shared/POLICY_CATALOG.md) the pack answers for."""

NOT_CHECKED: dict[int, str] = {}
"""Catalog rows with no rule at all, and why (none today: partial checks are described in
each rule's ``limits``)."""


def coverage() -> dict[int, list[Rule]]:
    """Catalog row -> the rules implementing it."""
    rows: dict[int, list[Rule]] = {row: [] for row in CATALOG_ROWS}
    for rule in ALL_RULES:
        for row in rule.catalog:
            rows[row].append(rule)
    return rows
