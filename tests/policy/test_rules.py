"""Every rule, through the real analyzer protocol: a non-compliant case is flagged with the
rule's name at each environment's enforcement level; the compliant case is not flagged."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from scripts.policy_docs import load_pack
from scripts.policy_runner import Analyzer, evaluate_resources
from tests.policy import cases as base
from tests.policy.bypass_cases import build
from tests.policy.cases import ALL, Case

_BYPASS_CASES, _BYPASS_BAD, _BYPASS_GOOD = build()
CASES: list[Case] = [*base.CASES, *_BYPASS_CASES]
EXTRA_BAD: list[Case] = [*base.EXTRA_BAD, *_BYPASS_BAD]
EXTRA_GOOD = [*base.EXTRA_GOOD, *_BYPASS_GOOD]

PACK = load_pack()
ALL_RULES = PACK.ALL_RULES
enforcement_for = PACK.rule.enforcement_for
coverage = PACK.coverage

SEVERITY = {r.name: r.severity for r in ALL_RULES}


@pytest.fixture(scope="module")
def results(analyzer: Analyzer) -> dict[tuple[str, int, str], dict[str, Any]]:
    """Every case evaluated in every environment (configured once per environment)."""
    out: dict[tuple[str, int, str], dict[str, Any]] = {}
    for env in ALL:
        for i, case in enumerate([*CASES, *EXTRA_BAD]):
            out[(env, i, "bad")] = evaluate_resources(analyzer, case.bad, env)
            if case.good_for(env):
                out[(env, i, "good")] = evaluate_resources(analyzer, case.good_for(env), env)
        for i, (_, good) in enumerate(EXTRA_GOOD):
            out[(env, i, "extra-good")] = evaluate_resources(analyzer, good, env)
    return out


def _ids() -> list[str]:
    return [f"{c.rule}-{i}" for i, c in enumerate([*CASES, *EXTRA_BAD])]


@cache
def _all_cases() -> list[Case]:
    return [*CASES, *EXTRA_BAD]


def _hits(doc: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule"] == rule]


def test_every_rule_has_a_compliant_and_a_non_compliant_case():
    # exemptions-valid audits other rules' config, not resources: its failing and passing
    # cases are in test_runner.py (test_unspecific_exemption_patterns_..., test_valid_...).
    covered = {c.rule for c in CASES if c.bad and c.good} | {"exemptions-valid"}
    assert sorted(r.name for r in ALL_RULES if r.name not in covered) == []


def test_every_catalog_row_has_a_rule():
    assert [row for row, rules in coverage().items() if not rules] == []


@pytest.mark.parametrize("env", ALL)
@pytest.mark.parametrize("index", range(len(_all_cases())), ids=_ids())
def test_non_compliant_case_is_flagged_at_the_environment_level(results, index, env):
    case = _all_cases()[index]
    hits = [f for f in _hits(results[(env, index, "bad")], case.rule) if f["kind"] == "violation"]
    if env not in case.envs:
        assert hits == [], f"{case.rule} is not required in {env}"
        return
    assert hits, f"{case.rule} did not flag the non-compliant case in {env}"
    assert {f["urn"] for f in hits} == {case.target}
    assert {f["enforcement"] for f in hits} == {enforcement_for(SEVERITY[case.rule], env)}


@pytest.mark.parametrize("env", ALL)
@pytest.mark.parametrize("index", range(len(CASES)), ids=_ids()[: len(CASES)])
def test_compliant_case_is_not_flagged(results, index, env):
    case = CASES[index]
    assert _hits(results[(env, index, "good")], case.rule) == []


@pytest.mark.parametrize("env", ALL)
@pytest.mark.parametrize(
    "index", range(len(EXTRA_GOOD)), ids=[f"{r}-{i}" for i, (r, _) in enumerate(EXTRA_GOOD)]
)
def test_compliant_variant_is_not_flagged(results, index, env):
    rule = EXTRA_GOOD[index][0]
    assert _hits(results[(env, index, "extra-good")], rule) == []
