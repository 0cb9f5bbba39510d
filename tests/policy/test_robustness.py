"""Robustness of the pack, through the real analyzer protocol (issue 17):

- a shape battery: every input path of every case's resources (to depth 3) gets each of a
  battery of legal but unusual values, and every rule (resource and stack) runs on them; no
  exception may escape (one would fail the gRPC call), and wrong shapes become "cannot read"
  findings rather than silence;
- the unknown-value sentinel outside a preview is a violation; during a preview it stays the
  SDK's advisory "can't run"; names read only for messages never downgrade a finding;
- shapes the provider schemas use for tags (an Auto Scaling group's tag list) are read.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.proto import analyzer_pb2

from scripts.offline import Registration
from scripts.policy_runner import UNKNOWN, Analyzer, evaluate_resources
from tests.policy import cases as base
from tests.policy.builders import DEPLOYMENT, TAGS, container, deployment, res, urn
from tests.policy.bypass_cases import build

_BYPASS_CASES, _BYPASS_BAD, _ = build()

DEEP: Any = "leaf"
for _ in range(25):
    DEEP = {"x": [DEEP]}

BATTERY: list[Any] = [
    None,
    "",
    "*",
    "TRUE",
    "1e400",
    1e308,
    -1,
    0.5,
    [],
    [None],
    [{}],
    [[["nested"]]],
    [1, "a", {"b": [None]}],
    {},
    {"key": "owner", "value": "x", "propagateAtLaunch": True},
    {"Statement": "not a list"},
    "{not json",
    DEEP,
]
"""Legal wire values of every JSON kind, in shapes rules do not expect."""


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 3) -> Iterator[tuple[Any, ...]]:
    if depth == 0:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("__"):
                continue
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key), depth - 1)
    elif isinstance(value, list) and value:
        yield (*prefix, 0)
        yield from _paths(value[0], (*prefix, 0), depth - 1)


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        obj = obj[step]
    obj[path[-1]] = value


def _subjects() -> list[Registration]:
    """One registration per distinct resource type and input layout among the cases."""
    seen: dict[tuple[str, str], Registration] = {}
    every = [*base.CASES, *base.EXTRA_BAD, *_BYPASS_CASES, *_BYPASS_BAD]
    for case in every:
        for r in [*case.bad, *case.good]:
            key = (r.type, json.dumps(sorted(r.raw.get("object", {}))))
            seen.setdefault(key, r)
    return list(seen.values())


def _mutants(value: Any) -> list[Registration]:
    out = []
    for n, r in enumerate(_subjects()):
        for i, path in enumerate(_paths(r.raw.get("object", {}))):
            request = copy.deepcopy(r.raw)
            _set(request["object"], path, copy.deepcopy(value))
            name = f"m{n}-{i}"
            request["name"] = name
            out.append(Registration.from_request(request, urn(r.type, name), f"{name}-id"))
    return out


@pytest.mark.parametrize("index", range(len(BATTERY)), ids=[repr(v)[:20] for v in BATTERY])
def test_no_rule_raises_on_any_shape(analyzer: Analyzer, index: int) -> None:
    mutants = _mutants(BATTERY[index])
    assert len(mutants) > 300
    # A rule that raised would fail the Analyze / AnalyzeStack call itself.
    report = evaluate_resources(analyzer, mutants, "prod")
    assert all("Traceback" not in f["message"] for f in report["findings"])


def test_wrong_shapes_become_findings_not_silence(analyzer: Analyzer) -> None:
    bad = res(
        "aws:eks/cluster:Cluster",
        "eks",
        {"enabledClusterLogTypes": {"api": True}, "vpcConfig": ["private"], "tags": TAGS},
    )
    report = evaluate_resources(analyzer, [bad], "prod")
    messages = {(f["rule"], f["message"]) for f in report["findings"]}
    assert (
        "eks-control-plane-logging",
        "cannot read enabledClusterLogTypes as a list (it is an object); the value is treated "
        "as not meeting the rule",
    ) in messages
    assert any(r == "eks-endpoint-private" and "cannot read vpcConfig" in m for r, m in messages)


def test_auto_scaling_group_tag_list_is_read(analyzer: Analyzer) -> None:
    asg = "aws:autoscaling/group:Group"
    tags = [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in TAGS.items()]
    good = res(asg, "asg", {"maxSize": 2, "minSize": 0, "tags": tags})
    bad = res(asg, "asg", {"maxSize": 2, "minSize": 0, "tags": tags[:1]})
    assert evaluate_resources(analyzer, [good], "prod")["findings"] == []
    found = evaluate_resources(analyzer, [bad], "prod")["findings"]
    assert [f["rule"] for f in found] == ["required-tags"]
    assert "environment" in found[0]["message"]


# --- unknown values ------------------------------------------------------------------------


def _with_dry_run(analyzer: Analyzer, dry_run: bool) -> None:
    analyzer.stub.ConfigureStack(
        analyzer_pb2.AnalyzerStackConfigureRequest(stack="prod", project="mlops", dry_run=dry_run)
    )


def _unknown_repo() -> Registration:
    return res(
        "aws:ecr/repository:Repository",
        "repo",
        {
            "name": "model-server",
            "imageTagMutability": UNKNOWN,
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [
                {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:r:1:key/k"}
            ],
            "tags": TAGS,
        },
    )


def test_unknown_is_advisory_during_preview(analyzer: Analyzer) -> None:
    analyzer.configure("prod")
    _with_dry_run(analyzer, True)
    findings = analyzer.analyze([_unknown_repo()])
    hits = [f for f in findings if f.rule == "ecr-immutable-tags"]
    assert [(f.kind, f.enforcement) for f in hits] == [("unknown", "advisory")]


def test_unknown_is_a_violation_outside_preview(analyzer: Analyzer) -> None:
    analyzer.configure("prod")
    _with_dry_run(analyzer, False)
    try:
        findings = analyzer.analyze([_unknown_repo()])
    finally:
        _with_dry_run(analyzer, True)
    hits = [f for f in findings if f.rule == "ecr-immutable-tags"]
    assert [(f.kind, f.enforcement) for f in hits] == [("violation", "mandatory")]
    assert "imageTagMutability is unknown outside a preview" in hits[0].message


def test_sentinel_in_a_name_does_not_downgrade_a_finding(analyzer: Analyzer) -> None:
    analyzer.configure("prod")
    _with_dry_run(analyzer, True)
    privileged = container(name=UNKNOWN, securityContext={"privileged": True})
    findings = analyzer.analyze([res(DEPLOYMENT, "app", deployment([privileged]))])
    hits = [f for f in findings if f.rule == "k8s-no-privileged-or-host-namespaces"]
    assert [(f.kind, f.enforcement) for f in hits] == [("violation", "mandatory")]
    assert UNKNOWN in hits[0].message
