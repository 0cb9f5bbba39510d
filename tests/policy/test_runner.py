"""The offline runner and the pack's cross-cutting behaviour, through the real protocol:
unknown values, fixes, exemptions, config handling, wire-form gotchas, output formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import analyzer_pb2

from scripts import policy_docs, policy_runner
from scripts.offline.project import REPO_ROOT
from scripts.policy_runner import (
    UNKNOWN,
    Analyzer,
    PolicyConfigError,
    evaluate,
    evaluate_resources,
    render_sarif,
    render_table,
    wire_value,
)
from tests.conftest import SharedAnalyzer
from tests.policy.builders import (
    LAUNCH_TEMPLATE,
    TAGS,
    bucket_set,
    launch_template,
    recording,
    res,
    urn,
)
from tests.policy.cases import GOOD_REPO, REPO

ALL_RULES = policy_docs.load_pack().ALL_RULES

_SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
EXEMPTIONS = "exemptions-valid"


def _hits(doc: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule"] == rule]


def _config(env: str, **rules: Any) -> dict[str, Any]:
    base = json.loads((REPO_ROOT / "policy" / "config" / f"{env}.json").read_text())
    for name, value in rules.items():
        entry = base.get(name, {})
        entry = {"enforcementLevel": entry} if isinstance(entry, str) else dict(entry)
        base[name] = {**entry, **value}
    return base


def _day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


# --- unknown values --------------------------------------------------------------------


def test_unknown_value_never_becomes_a_mandatory_violation(analyzer):
    lg = res(
        LOG_GROUP, "lg", {"retentionInDays": UNKNOWN, "kmsKeyId": "k", "tags": TAGS}, protect=True
    )
    doc = evaluate_resources(analyzer, [lg], "prod")
    hits = _hits(doc, "logs-retention")
    assert [(h["kind"], h["enforcement"], h["urn"]) for h in hits] == [
        ("unknown", "advisory", urn(LOG_GROUP, "lg"))
    ]
    assert "can't be known during preview" in hits[0]["message"]
    assert doc["mandatoryViolations"] == 0


def test_unknown_value_in_a_stack_rule_is_advisory_and_known_findings_stand(analyzer):
    unknown = bucket_set("unknown", policy={"policy": UNKNOWN})
    missing = bucket_set("plain", drop="policy")
    doc = evaluate_resources(analyzer, [*unknown, *missing], "prod")
    hits = _hits(doc, "s3-bucket-tls-only")
    mandatory = [h for h in hits if h["enforcement"] == "mandatory"]
    assert [h["urn"] for h in mandatory] == [urn("aws:s3/bucket:Bucket", "plain")]
    assert [h["kind"] for h in hits if h["enforcement"] == "advisory"] == ["unknown"]


# --- fixes -------------------------------------------------------------------------------


def test_a_fixed_violation_disappears(analyzer):
    broken = res(REPO, "repo", {**GOOD_REPO, "imageTagMutability": "MUTABLE"})
    before = evaluate_resources(analyzer, [broken], "prod")
    assert [h["enforcement"] for h in _hits(before, "ecr-immutable-tags")] == ["mandatory"]
    fixed = res(REPO, "repo", {**GOOD_REPO, "imageTagMutability": "IMMUTABLE"})
    after = evaluate_resources(analyzer, [fixed], "prod")
    assert _hits(after, "ecr-immutable-tags") == []
    assert after["mandatoryViolations"] == before["mandatoryViolations"] - 1


# --- exemptions --------------------------------------------------------------------------

_BROKEN_REPO = res(REPO, "legacy", {**GOOD_REPO, "imageTagMutability": "MUTABLE"})


def _exemption(
    expires: str, pattern: str = "*::aws:ecr/repository:Repository::legacy"
) -> dict[str, Any]:
    return {
        "exemptions": [
            {
                "rule": "ecr-immutable-tags",
                "urn": pattern,
                "owner": "ml-platform-team",
                "reason": "vendor pushes :stable",
                "expires": expires,
            }
        ]
    }


def test_valid_exemption_suppresses_and_shows_its_reason(analyzer):
    config = _config("prod", **{"ecr-immutable-tags": _exemption(_day(30))})
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod", config=config)
    hits = _hits(doc, "ecr-immutable-tags")
    assert [(h["kind"], h["enforcement"]) for h in hits] == [("exempted", "exempted")]
    assert hits[0]["exemption"]["reason"] == "vendor pushes :stable"
    assert hits[0]["exemption"]["owner"] == "ml-platform-team"
    assert doc["exempted"] == 1
    assert not [
        f
        for f in doc["findings"]
        if f["enforcement"] == "mandatory" and f["rule"] == "ecr-immutable-tags"
    ]
    assert "vendor pushes :stable" in render_table(doc)
    sarif = [r for r in render_sarif(doc)["runs"][0]["results"] if r["ruleId"] == "ECR-001"]
    assert sarif[0]["suppressions"][0]["justification"].startswith("vendor pushes :stable")


def test_exemption_for_another_resource_does_not_suppress(analyzer):
    config = _config(
        "prod",
        **{"ecr-immutable-tags": _exemption(_day(30), "*::aws:ecr/repository:Repository::other")},
    )
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod", config=config)
    assert [h["kind"] for h in _hits(doc, "ecr-immutable-tags")] == ["violation"]


def test_expired_exemption_fails_and_no_longer_suppresses(analyzer):
    config = _config("prod", **{"ecr-immutable-tags": _exemption(_day(-1))})
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod", config=config)
    hits = _hits(doc, "ecr-immutable-tags")
    assert {h["enforcement"] for h in hits} == {"mandatory"}
    messages = sorted(h["message"] for h in hits)
    assert any(m.startswith("expired exemption") and _day(-1) in m for m in messages)
    assert any("imageTagMutability is MUTABLE" in m for m in messages)


def test_expired_exemption_fails_even_when_the_resource_is_fixed(analyzer):
    fixed = res(REPO, "legacy", GOOD_REPO)
    config = _config("prod", **{"ecr-immutable-tags": _exemption(_day(-1))})
    doc = evaluate_resources(analyzer, [fixed], "prod", config=config)
    assert [h["message"][:17] for h in _hits(doc, "ecr-immutable-tags")] == ["expired exemption"]


def test_exemption_on_a_stack_rule(analyzer):
    config = _config(
        "prod",
        **{
            "s3-bucket-has-public-access-block": {
                "exemptions": [
                    {
                        "urn": "*::aws:s3/bucket:Bucket::models",
                        "owner": "data-team",
                        "reason": "migrating",
                        "expires": _day(7),
                    }
                ]
            }
        },
    )
    doc = evaluate_resources(analyzer, bucket_set("models", drop="pab"), "prod", config=config)
    hits = _hits(doc, "s3-bucket-has-public-access-block")
    assert [(h["kind"], h["exemption"]["reason"]) for h in hits] == [("exempted", "migrating")]


def test_exemption_without_owner_is_rejected_like_the_cli_would(analyzer):
    bad = {"exemptions": [{"urn": "*", "reason": "r", "expires": _day(1)}]}
    with pytest.raises(PolicyConfigError, match="owner"):
        evaluate_resources(
            analyzer, [_BROKEN_REPO], "prod", config=_config("prod", **{"ecr-immutable-tags": bad})
        )


# --- config handling ---------------------------------------------------------------------


def test_schema_defaults_are_applied_when_the_config_is_empty(analyzer):
    doc = evaluate_resources(
        analyzer, [res("aws:eks/cluster:Cluster", "eks", {"version": "1.20"})], "prod", config={}
    )
    hits = _hits(doc, "eks-supported-version")
    assert hits and "1.32, 1.33, 1.34, 1.35" in hits[0]["message"]
    assert {h["enforcement"] for h in hits} == {"advisory"}  # the pack's own default


def test_config_errors_name_the_policy_and_setting(analyzer):
    with pytest.raises(PolicyConfigError, match="gpu-budget: budgetGpus"):
        evaluate_resources(analyzer, [], "prod", config={"gpu-budget": {"budgetGpus": "many"}})
    with pytest.raises(PolicyConfigError, match="no-such-rule"):
        evaluate_resources(analyzer, [], "prod", config={"no-such-rule": "mandatory"})
    with pytest.raises(PolicyConfigError, match="not a valid enforcement level"):
        evaluate_resources(analyzer, [], "prod", config={"all": "strict"})


# --- wire form ---------------------------------------------------------------------------


def test_resource_references_become_ids_or_urns_and_secrets_stay_secret():
    ref = {
        "4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e",
        "urn": "urn:x",
        "id": "bucket-id",
    }
    component = {**ref, "id": ""}
    secret = {**_SECRET_SIG, "value": {**ref}}
    assert wire_value({"a": [ref, component], "s": secret}) == {
        "a": ["bucket-id", "urn:x"],
        "s": {**_SECRET_SIG, "value": "bucket-id"},
    }
    output = {"4dabf18193072939515e22adb298388d": "d0e6a833031e9bbcd3f4e8bde6ca49a4"}
    assert wire_value(output) == UNKNOWN
    assert wire_value({**output, "value": 3, "secret": True}) == {**_SECRET_SIG, "value": 3}


def test_secret_inputs_are_checked(analyzer):
    secret_data = {
        **_SECRET_SIG,
        "value": launch_template(userData="export AWS_SECRET_ACCESS_KEY=abc")["userData"],
    }
    lt = res(LAUNCH_TEMPLATE, "lt", launch_template(userData=secret_data))
    doc = evaluate_resources(analyzer, [lt], "dev")
    assert [h["enforcement"] for h in _hits(doc, "ec2-no-secrets-in-user-data")] == ["mandatory"]


def test_numbers_arrive_as_floats_and_still_compare(analyzer):
    lg = res(LOG_GROUP, "lg", {"retentionInDays": 30, "kmsKeyId": "k", "tags": TAGS})
    doc = evaluate_resources(analyzer, [lg], "test")
    assert _hits(doc, "logs-retention") == []
    doc = evaluate_resources(analyzer, [lg], "prod")
    assert "retentionInDays is 30; this environment needs at least 365" in [
        h["message"] for h in _hits(doc, "logs-retention")
    ]


def test_provider_default_tags_count_as_tags(analyzer):
    provider_type = "pulumi:providers:aws"
    provider = res(
        provider_type,
        "aws",
        {
            "region": "us-east-1",
            "defaultTags": json.dumps({"tags": {"environment": "test", "cost-center": "ml"}}),
        },
    )
    ref = f"{urn(provider_type, 'aws')}::aws-id"
    repo = res(REPO, "repo", {**GOOD_REPO, "tags": {"owner": "team"}}, provider=ref)
    bare = res(REPO, "bare", {**GOOD_REPO, "tags": {"owner": "team"}})
    doc = evaluate_resources(analyzer, [provider, repo, bare], "prod")
    assert [h["urn"] for h in _hits(doc, "required-tags")] == [urn(REPO, "bare")]


# --- outputs and entry points --------------------------------------------------------------


def test_pack_metadata_reaches_the_engine(analyzer):
    assert analyzer.info.name == "mlops-platform"
    names = {p.name for p in analyzer.info.policies}
    assert names == {r.name for r in ALL_RULES}
    ids = [r.id for r in ALL_RULES]
    assert len(ids) == len(set(ids))
    for policy in analyzer.info.policies:
        assert policy.severity and policy.remediation_steps and policy.framework.reference
        assert "exemptions" in policy.configSchema.properties


def test_sarif_is_2_1_0_with_rules_and_error_levels(analyzer):
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod")
    sarif = render_sarif(doc)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    result = next(r for r in run["results"] if r["ruleId"] == "ECR-001")
    assert result["level"] == "error"
    assert rule_ids[result["ruleIndex"]] == "ECR-001"
    location = result["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == urn(REPO, "legacy")
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.prod.yaml"


def test_cli_exits_1_on_a_mandatory_violation_and_writes_json(
    shared_pack, monkeypatch, tmp_path, capsys
):
    from scripts import offline  # noqa: PLC0415

    monkeypatch.setattr(offline, "synthesize", lambda *a, **k: recording(_BROKEN_REPO))
    out = tmp_path / "report.json"
    argv = ["--stack", "prod", "--environment", "prod", "--format", "json", "--output", str(out)]
    assert policy_runner.main(argv) == 1
    report = json.loads(out.read_text())
    assert report["environment"] == "prod" and report["mandatoryViolations"] >= 1
    assert policy_runner.main(["--stack", "dev", "--environment", "dev"]) == 0  # advisory
    assert "ECR-001 ecr-immutable-tags" in capsys.readouterr().out
    assert (
        policy_runner.main(["--stack", "prod", "--environment", "prod", "--format", "sarif"]) == 1
    )
    assert json.loads(capsys.readouterr().out)["version"] == "2.1.0"


def test_mutating_a_recording_makes_the_runner_fail_naming_the_rule(analyzer):
    rec = recording(
        res(REPO, "repo", GOOD_REPO, protect=True),
        res(
            "aws:ecr/lifecyclePolicy:LifecyclePolicy",
            "lc",
            {"repository": "model-server", "policy": "{}"},
        ),
    )
    code, _ = policy_runner.run_recording(rec, "prod", analyzer=analyzer)
    assert code == 0
    mutated = policy_runner.with_changes(
        rec, REPO, "repo", inputs={"imageTagMutability": "MUTABLE"}, protect=False
    )
    code, text = policy_runner.run_recording(mutated, "prod", "json", analyzer=analyzer)
    assert code == 1
    rules = {f["rule"] for f in json.loads(text)["findings"] if f["enforcement"] == "mandatory"}
    assert rules == {"ecr-immutable-tags", "stateful-resources-protected"}
    assert rec.one(REPO, "repo").inputs["imageTagMutability"] == "IMMUTABLE"  # copy, not edit


def test_preview_evaluator_uses_the_profile_output(analyzer, shared_pack):
    rec = recording(_BROKEN_REPO, outputs={"profile": "prod"})
    assert policy_runner.environment_of(rec) == "prod"
    assert policy_runner.preview_evaluator(rec)["mandatoryViolations"] >= 1
    assert policy_runner.environment_of(recording()) == "test"
    assert evaluate(recording(), "dev", analyzer=analyzer)["mandatoryViolations"] == 0


def test_reference_lists_every_rule_with_its_enforcement():
    text = (REPO_ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")
    for rule in ALL_RULES:
        assert f"| {rule.id} | `{rule.name}` | {rule.severity.value} |" in text


def test_permissions_boundaries_are_ceilings_not_grants(analyzer):
    policy_type, role_type = "aws:iam/policy:Policy", "aws:iam/role:Role"
    ceiling = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Ceiling", "Effect": "Allow", "Action": ["ec2:*", "kms:*"], "Resource": "*"}
            ],
        }
    )
    boundary = res(policy_type, "boundary", {"policy": ceiling, "tags": TAGS})
    grant = res(policy_type, "grant", {"policy": ceiling, "tags": TAGS})
    role = res(
        role_type,
        "app",
        {
            "assumeRolePolicy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            ),
            "permissionsBoundary": "arn:boundary",
            "tags": TAGS,
        },
        deps={"permissionsBoundary": [urn(policy_type, "boundary")]},
    )
    doc = evaluate_resources(analyzer, [boundary, grant, role], "prod")
    for rule in ("iam-no-service-wildcard", "iam-no-kms-decrypt-on-all-keys"):
        assert [h["urn"] for h in _hits(doc, rule)] == [urn(policy_type, "grant")], rule


def test_pack_requirements_are_pinned_to_the_lock():
    lock: dict[str, str] = {}
    for line in (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ", 1)[0].split("==")
            lock[name.lower()] = version
    pins = [
        line.strip()
        for line in (REPO_ROOT / "policy" / "requirements.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert pins and all("==" in p and not p.startswith("-") for p in pins)
    for pin in pins:
        name, version = pin.split("==")
        assert lock.get(name.lower()) == version, pin


def test_platform_namespaces_are_not_tenants_unless_labelled(analyzer):
    ns_type = "kubernetes:core/v1:Namespace"
    platform = res(ns_type, "monitoring", {"metadata": {"name": "monitoring"}})
    labelled = res(
        ns_type, "mlflow", {"metadata": {"name": "mlflow", "labels": {"mlops/tenant": "ml-team"}}}
    )
    team = res(ns_type, "team-b", {"metadata": {"name": "team-b"}})
    doc = evaluate_resources(analyzer, [platform, labelled, team], "prod")
    flagged = {h["urn"] for h in _hits(doc, "k8s-tenant-namespace-guardrails")}
    assert flagged == {urn(ns_type, "mlflow"), urn(ns_type, "team-b")}


def test_a_pack_that_fails_to_start_is_reported_with_its_error(tmp_path):
    (tmp_path / "__main__.py").write_text("raise SystemExit('rules failed to import')\n")
    with pytest.raises(policy_runner.AnalyzerError, match="rules failed to import"):
        Analyzer(policy_dir=tmp_path, startup_timeout=20).start()


# --- review findings: exemptions, config typos, CLI errors, unknown GPU types -------------


def _exemptions_for(rule: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {rule: {"exemptions": list(entries)}}


def _entry(pattern: str, expires: str) -> dict[str, Any]:
    return {"urn": pattern, "owner": "ml-platform-team", "reason": "vendor", "expires": expires}


@pytest.mark.parametrize(
    "pattern",
    ["*", "*::legacy", "urn:pulumi:prod::mlops::*::*", "*::aws:ecr/repository:Repository::*"],
)
def test_unspecific_exemption_patterns_are_rejected_and_suppress_nothing(analyzer, pattern):
    config = _config("prod", **_exemptions_for("ecr-immutable-tags", _entry(pattern, _day(10))))
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod", config=config)
    hits = _hits(doc, "ecr-immutable-tags")
    assert [h["kind"] for h in hits] == ["violation"]  # the finding itself stands
    problems = _hits(doc, EXEMPTIONS)
    assert [(h["kind"], h["enforcement"], h["urn"]) for h in problems] == [
        ("violation", "mandatory", "")
    ]
    assert problems[0]["message"].startswith("ecr-immutable-tags: ")
    assert "is not specific" in problems[0]["message"]
    assert doc["exempted"] == 0


def test_exemption_expiry_is_capped(analyzer):
    far = _entry("*::aws:ecr/repository:Repository::legacy", _day(91))
    config = _config("prod", **_exemptions_for("ecr-immutable-tags", far))
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod", config=config)
    messages = [h["message"] for h in _hits(doc, EXEMPTIONS)]
    assert any("more than 90 days ahead" in m for m in messages)
    assert [h["kind"] for h in _hits(doc, "ecr-immutable-tags")] == ["violation"]
    assert doc["exempted"] == 0
    # the cap is configurable per rule
    config["ecr-immutable-tags"]["maxExemptionDays"] = 120
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod", config=config)
    assert [h["kind"] for h in _hits(doc, "ecr-immutable-tags")] == ["exempted"]
    assert _hits(doc, EXEMPTIONS) == []


def test_critical_rules_in_prod_cap_exemptions_at_30_days(analyzer):
    rule = "iam-role-trust-no-wildcard-principal"
    role = res(
        "aws:iam/role:Role",
        "open",
        {
            "assumeRolePolicy": json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}
            ),
            "tags": TAGS,
        },
    )
    entry = _entry("*::aws:iam/role:Role::open", _day(45))
    prod = evaluate_resources(
        analyzer, [role], "prod", config=_config("prod", **_exemptions_for(rule, entry))
    )
    assert any("more than 30 days ahead" in h["message"] for h in _hits(prod, EXEMPTIONS))
    assert [h["enforcement"] for h in _hits(prod, rule)] == ["mandatory"]
    assert prod["exempted"] == 0
    dev = evaluate_resources(
        analyzer, [role], "dev", config=_config("dev", **_exemptions_for(rule, entry))
    )
    assert [h["kind"] for h in _hits(dev, rule)] == ["exempted"]
    assert _hits(dev, EXEMPTIONS) == []


def test_expired_exemption_is_reported_once_even_when_no_resource_matches(analyzer):
    gone = _entry("*::aws:ecr/repository:Repository::deleted-long-ago", _day(-3))
    config = _config("prod", **_exemptions_for("ecr-immutable-tags", gone))
    fixed = res(REPO, "legacy", GOOD_REPO)
    doc = evaluate_resources(
        analyzer, [fixed, res(REPO, "other", GOOD_REPO)], "prod", config=config
    )
    assert _hits(doc, "ecr-immutable-tags") == []
    hits = _hits(doc, EXEMPTIONS)
    assert [(h["enforcement"], h["urn"], h["message"][:37]) for h in hits] == [
        ("mandatory", "", "ecr-immutable-tags: expired exemption")
    ]
    assert hits[0]["message"].endswith("(it matches no resource)")


def test_expired_exemption_that_matches_a_resource_is_reported_by_its_rule_only(analyzer):
    config = _config("prod", **{"ecr-immutable-tags": _exemption(_day(-1))})
    doc = evaluate_resources(
        analyzer, [_BROKEN_REPO, res(REPO, "other", GOOD_REPO)], "prod", config=config
    )
    expired = [h for h in _hits(doc, "ecr-immutable-tags") if "expired" in h["message"]]
    assert [h["urn"] for h in expired] == [urn(REPO, "legacy")]
    assert _hits(doc, EXEMPTIONS) == []


@pytest.mark.parametrize(
    ("env", "level"), [("dev", "advisory"), ("test", "mandatory"), ("prod", "mandatory")]
)
def test_exemption_problems_follow_the_audit_rules_enforcement(analyzer, env, level):
    entry = _entry("*", _day(10))
    config = _config(env, **_exemptions_for("logs-kms-encryption", entry))
    doc = evaluate_resources(analyzer, [res(REPO, "other", GOOD_REPO)], env, config=config)
    assert [(h["enforcement"], h["message"][:20]) for h in _hits(doc, EXEMPTIONS)] == [
        (level, "logs-kms-encryption:")
    ]


def test_valid_exemptions_pass_the_audit_and_a_disabled_rule_is_not_audited(analyzer):
    ok = _entry("*::aws:ecr/repository:Repository::legacy", _day(10))
    config = _config("prod", **_exemptions_for("ecr-immutable-tags", ok))
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod", config=config)
    assert _hits(doc, EXEMPTIONS) == []
    bad = _config("prod", **_exemptions_for("ecr-immutable-tags", _entry("*", _day(10))))
    bad["ecr-immutable-tags"]["enforcementLevel"] = "disabled"
    doc = evaluate_resources(analyzer, [_BROKEN_REPO], "prod", config=bad)
    assert _hits(doc, EXEMPTIONS) == []
    assert _hits(doc, "ecr-immutable-tags") == []


def test_rule_config_typos_are_rejected(analyzer):
    with pytest.raises(PolicyConfigError, match="budgetGPUs"):
        evaluate_resources(analyzer, [], "prod", config={"gpu-budget": {"budgetGPUs": 4}})
    with pytest.raises(PolicyConfigError, match="allowedRegistries"):
        evaluate_resources(
            analyzer,
            [],
            "prod",
            config={"k8s-images-pinned-from-allowed-registries": {"allowedRegistries": []}},
        )


@pytest.mark.parametrize("env", ["dev", "test", "prod"])
def test_shipped_configs_validate_against_the_strict_schemas(analyzer, env):
    analyzer.configure(env)  # raises PolicyConfigError on any unknown or invalid setting
    assert analyzer.configured_for == env


def test_gpu_node_group_with_unknown_launch_template_type_is_not_evaluable(analyzer):
    lt_type, ng_type = LAUNCH_TEMPLATE, "aws:eks/nodeGroup:NodeGroup"
    lt = res(lt_type, "gpu-lt", launch_template(instanceType=UNKNOWN))
    ng = res(
        ng_type,
        "ng",
        {
            "clusterName": "c",
            "amiType": "AL2023_x86_64_NVIDIA",
            "launchTemplate": {"id": "x", "version": "1"},
            "scalingConfig": {"minSize": 0, "maxSize": 50},
            "taints": [{"key": "nvidia.com/gpu", "effect": "NO_SCHEDULE"}],
            "labels": {"k8s.amazonaws.com/accelerator": "nvidia-a10g"},
            "tags": TAGS,
        },
        deps={"launchTemplate": [urn(lt_type, "gpu-lt")]},
    )
    doc = evaluate_resources(analyzer, [lt, ng], "prod")
    hits = _hits(doc, "gpu-budget")
    assert [(h["kind"], h["enforcement"]) for h in hits] == [("unknown", "advisory")]


def test_generic_tagging_counts_provider_default_tags(analyzer):
    provider_type = "pulumi:providers:aws"
    provider = res(
        provider_type,
        "aws",
        {"defaultTags": json.dumps({"tags": {"environment": "t", "cost-center": "c"}})},
    )
    ref = f"{urn(provider_type, 'aws')}::aws-id"
    topic = "aws:sns/topic:Topic"
    covered = res(topic, "covered", {"tags": {"owner": "team"}}, provider=ref)
    other = res("aws:lambda/function:Function", "fn", {"tags": {"owner": "team"}}, provider=ref)
    bare = res(topic, "bare", {"tags": {"owner": "team"}})
    untaggable = res("aws:iam/rolePolicy:RolePolicy", "rp", {"role": "r", "policy": "{}"})
    doc = evaluate_resources(analyzer, [provider, covered, other, bare, untaggable], "prod")
    assert [h["urn"] for h in _hits(doc, "required-tags")] == [urn(topic, "bare")]


# --- CLI error exits ------------------------------------------------------------------------


def _cli(monkeypatch: Any, resources: list[Any]) -> None:
    """The CLI synthesizes ``resources`` (with the session's pack: the ``shared_pack``
    fixture)."""
    from scripts import offline  # noqa: PLC0415

    monkeypatch.setattr(offline, "synthesize", lambda *a, **k: recording(*resources))


def test_cli_bad_policy_config_exits_2_with_one_line(shared_pack, monkeypatch, tmp_path, capsys):
    _cli(monkeypatch, [_BROKEN_REPO])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"gpu-budget": {"budgetGPUs": 1}, "logs-retention": {"x": 1}}))
    code = policy_runner.main(["--stack", "prod", "--environment", "prod", "--config", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "budgetGPUs" in err and "Traceback" not in err
    bad.write_text("{not json")
    assert policy_runner.main(["--stack", "prod", "--config", str(bad)]) == 2


def test_cli_unwritable_output_exits_2(shared_pack, monkeypatch, tmp_path, capsys):
    _cli(monkeypatch, [res(REPO, "repo", GOOD_REPO)])
    target = tmp_path / "missing-dir" / "report.json"
    code = policy_runner.main(["--stack", "prod", "--environment", "prod", "--output", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: cannot write") and len(err.strip().splitlines()) == 1


class _Failing(SharedAnalyzer):
    """The session's pack, failing when configured."""

    def __init__(self, analyzer: Analyzer, error: BaseException) -> None:
        super().__init__(analyzer)
        self._error = error

    def configure(self, *_: Any, **__: Any) -> None:
        raise self._error


class _RpcFailure(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection refused"


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (policy_runner.AnalyzerError("the policy pack exited\nTraceback ...\nboom"), "exited"),
        (_RpcFailure(), "UNAVAILABLE"),
    ],
)
def test_cli_pack_failures_exit_3_with_one_line(analyzer, monkeypatch, capsys, error, text):
    _cli(monkeypatch, [_BROKEN_REPO])
    monkeypatch.setattr(policy_runner, "Analyzer", lambda: _Failing(analyzer, error))
    assert policy_runner.main(["--stack", "prod", "--environment", "prod"]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and text in err


def test_the_pack_itself_reports_unknown_settings_the_cli_lets_through(analyzer):
    # The Pulumi CLI's schema has no additionalProperties; configure the pack that way.
    schemas = {
        name: (level, {k: v for k, v in schema.items() if k != "additionalProperties"})
        for name, (level, schema) in policy_runner.policy_schemas(analyzer.info).items()
    }
    parsed = policy_runner.read_policy_config(
        {"all": "mandatory", "gpu-budget": {"budgetGPUs": 4}, "logs-retention": {"minDays": 1}}
    )
    request = analyzer_pb2.ConfigureAnalyzerRequest(
        policyConfig=policy_runner.reconcile(analyzer.info, parsed, schemas)
    )
    analyzer.stub.Configure(request)
    analyzer._configured_key = None  # the next test configures the pack again
    findings = analyzer.analyze([])
    unknown = {(f.rule, f.enforcement) for f in findings if "unknown setting" in f.message}
    # a stack rule reports its own; the resource rules' are audited by exemptions-valid
    assert unknown == {("gpu-budget", "mandatory"), (EXEMPTIONS, "mandatory")}
    assert any(f.message.startswith("logs-retention: unknown setting") for f in findings)
