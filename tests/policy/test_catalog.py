"""The rule catalog (policy/rules/catalog.toml) and the checks bound to it: one check per
entry, platform values read from components/core rather than restated, the settings'
defaults filled in for the checks, and a malformed catalog refused with a clear message."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from mlops_platform.core import labels, limits, nodes, versions

from scripts.policy_docs import load_pack

PACK = load_pack()
catalog = PACK.catalog
BY_NAME = {r.name: r for r in PACK.ALL_RULES}
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
URN = "urn:pulumi:dev::mlops::aws:eks/nodeGroup:NodeGroup::gpu"


def test_every_catalog_entry_has_exactly_one_check_in_catalog_order():
    catalog.check_complete(PACK.ALL_RULES)  # the pack runs this on import too
    assert [r.id for r in PACK.ALL_RULES] == list(catalog.ENTRIES)


def test_a_missing_or_doubled_check_stops_the_pack():
    rules = PACK.ALL_RULES
    with pytest.raises(catalog.CatalogError, match=f"rules with no check: {rules[0].id};"):
        catalog.check_complete(rules[1:])
    with pytest.raises(catalog.CatalogError, match=f"more than one: {rules[0].id}$"):
        catalog.check_complete([*rules, rules[0]])
    with pytest.raises(catalog.CatalogError, match=r"rule XYZ-001 is not in catalog\.toml"):
        catalog.rule("XYZ-001", stack_check=lambda ctx, cfg: [])


@pytest.mark.parametrize(
    ("rule", "setting", "value"),
    [
        (
            "eks-supported-version",
            "supportedVersions",
            list(versions.SUPPORTED_KUBERNETES_VERSIONS),
        ),
        ("ec2-launch-template-hop-limit", "maxHopLimit", nodes.IMDS_HOP_LIMIT),
        ("k8s-tenant-namespace-guardrails", "tenantLabelKey", labels.TENANT_LABEL),
        ("k8s-tenant-default-deny-network-policy", "tenantLabelKey", labels.TENANT_LABEL),
        ("eks-tenant-access-namespace-scoped", "tenantLabelKey", labels.TENANT_LABEL),
        ("eks-tenant-access-namespace-scoped", "tenantTagKey", labels.TENANT_TAG),
        ("k8s-serving-high-availability", "servingLabelKey", labels.WORKLOAD_LABEL),
        ("gpu-serving-on-demand-baseline", "servingLabelKey", labels.WORKLOAD_LABEL),
        ("kms-key-deletion-window", "minDeletionWindowDays", limits.KMS_DELETION_WINDOW_DAYS[0]),
    ],
)
def test_platform_values_are_read_from_components_core(rule, setting, value):
    assert BY_NAME[rule].config[setting]["default"] == value


def test_the_kms_window_bounds_and_text_come_from_core_limits():
    rule = BY_NAME["kms-key-deletion-window"]
    schema = rule.config["minDeletionWindowDays"]
    shortest, longest = limits.KMS_DELETION_WINDOW_DAYS
    assert (schema["minimum"], schema["maximum"]) == (shortest, longest)
    assert f"({shortest} days; {limits.PROD_KMS_DELETION_WINDOW_DAYS} in prod)" in rule.description
    assert f"deletion_window_in_days={limits.PROD_KMS_DELETION_WINDOW_DAYS}," in rule.remediation


def _raw_settings() -> list[tuple[str, dict[str, Any]]]:
    raw = tomllib.loads(catalog.CATALOG_FILE.read_text(encoding="utf-8"))
    rules = [(r["id"], r.get("settings", {})) for r in raw["rule"]]
    return [
        *((f"settings.{k}", v) for k, v in raw["settings"].items()),
        *((f"{i} settings.{k}", v) for i, settings in rules for k, v in settings.items()),
    ]


def test_the_catalog_restates_no_platform_value():
    platform = {
        repr(labels.TENANT_LABEL),
        repr(labels.TENANT_TAG),
        repr(labels.WORKLOAD_LABEL),
        repr(list(versions.SUPPORTED_KUBERNETES_VERSIONS)),
    }
    settings = _raw_settings()
    assert len(settings) > 40  # the scan reads the catalog's settings
    copies = [where for where, s in settings if repr(s.get("default")) in platform]
    assert not copies, f"write default-from instead of the value: {copies}"
    for rule in PACK.ALL_RULES:  # every citation was resolved
        texts = [rule.description, rule.remediation, rule.limits]
        assert not [t for t in texts if catalog._CITATION.search(t)], rule.id


def test_a_check_reads_its_settings_with_the_defaults_filled_in():
    """The engine fills in what the config leaves out (as the Pulumi CLI does): a GPU pool
    labelled with one of the default accelerator label keys passes with no config, and is
    flagged once the config narrows the keys."""
    rule = BY_NAME["gpu-pool-taint-and-labels"]
    props = {
        "instanceTypes": ["g6.xlarge"],
        "taints": [{"key": labels.GPU_TAINT_KEY, "value": "true", "effect": "NO_SCHEDULE"}],
        "labels": {labels.ACCELERATOR_LABEL: "nvidia-l4"},
    }

    def run(config: dict[str, Any]) -> list[str]:
        found: list[str] = []
        subject = PACK.context.Subject(NODE_GROUP, PACK.read.root(props, URN), URN, "gpu", None)
        PACK.engine.run_resource(rule, subject, config, lambda m, _urn: found.append(m))
        return found

    assert (
        rule.settings({})["acceleratorLabelKeys"] == rule.config["acceleratorLabelKeys"]["default"]
    )
    assert run({}) == []
    assert run({"acceleratorLabelKeys": ["example.com/gpu"]}) == [
        "the GPU pool has no accelerator label (one of: example.com/gpu)"
    ]


_RULE = """
[[rule]]
id = "X-001"
name = "x-rule"
severity = "high"
catalog-rows = [1]
controls = ["MLOPS 1"]
description = "d"
remediation = "r"
"""


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[[rule]]\nid = "X-001"\n', r"catalog.toml, rule X-001: 'name' is missing"),
        (
            _RULE + '[rule.settings.s]\nshape = "list"\ndefault = []\ndescription = "d"\n',
            r"rule X-001: settings.s: unknown setting shape 'list' \(known: boolean,",
        ),
        (
            _RULE + '[rule.settings.s]\nshape = "string"\ndefault-from = "labels.NOPE"\n'
            'description = "d"\n',
            r"rule X-001: 'labels.NOPE' names nothing in components.core",
        ),
        (
            _RULE + '[rule.settings.s]\nshape = "string"\ndescription = "d"\n',
            r"rule X-001: settings.s: no default",
        ),
        (
            _RULE + 'notes = ["nowhere"]\n',
            r"rule X-001: 'nowhere' is missing",
        ),
        (_RULE + _RULE, r"rule X-001: its ID or name 'x-rule' is taken"),
        ("[[rule]\n", r"catalog.toml: "),
    ],
    ids=["field", "shape", "platform-name", "default", "note", "repeated", "toml"],
)
def test_a_malformed_catalog_is_refused_naming_what_and_where(tmp_path: Path, text, error):
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(catalog.CatalogError, match=error):
        catalog.load(path)
