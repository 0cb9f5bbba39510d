"""Each real stack file synthesizes offline through the real program and the preview CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scripts import preview
from scripts.offline import synthesize
from tests.conftest import REPO_ROOT

STACKS = ("dev", "test", "prod")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.preview", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("stack", STACKS)
def test_real_stack_synthesizes(stack):
    recording = synthesize(stack)

    platform = recording.one("mlops:index:MlopsPlatform", f"mlops-{stack}")
    assert platform.parent == recording.stack_urn
    provider = recording.one("pulumi:providers:aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tags["environment"] == stack
    assert tags["owner"] and tags["cost-center"]
    assert recording.outputs["profile"] == stack
    for resource in recording.created():
        assert resource.parent is not None, f"{resource.urn} is not parented"
    # hardening every environment ships with
    keys = recording.of_type("aws:kms/key:Key")
    assert keys
    for key in keys:  # no key relies on the default key policy
        assert json.loads(key.inputs["policy"])["Statement"], key.name
    templates = recording.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    node_classes = recording.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
    assert templates and (node_classes or stack == "dev")
    for template in templates:  # pods cannot read the node role's credentials from IMDS
        assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1, template.name
    for node_class in node_classes:
        assert node_class.inputs["spec"]["metadataOptions"]["httpPutResponseHopLimit"] == 1


@pytest.mark.parametrize("stack", STACKS)
def test_json_document_is_deterministic_in_process(stack):
    first = json.dumps(preview.document(synthesize(stack)), sort_keys=True)
    second = json.dumps(preview.document(synthesize(stack)), sort_keys=True)
    assert first == second


def test_json_preview_is_byte_identical_across_processes(tmp_path):
    outputs = []
    for run in range(2):
        target = tmp_path / f"prod-{run}.json"
        result = _cli("--stack", "prod", "--format", "json", "--output", str(target))
        assert result.returncode == 0, result.stderr
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    document = json.loads(outputs[0])
    assert document["stack"] == "prod"
    assert document["counts"]["total"] == len(document["resources"])


def test_text_preview_prints_the_tree():
    result = _cli("--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert "mlops:index:MlopsPlatform  mlops-dev" in result.stdout
    assert "Resources:" in result.stdout


def test_bad_stack_file_exits_2_with_a_message_not_a_traceback(stack_document, write_stack):
    document = stack_document("prod")
    document["config"]["mlops:cluster"] = {
        "endpointPublicAccess": True,
        "publicAccessCidrs": ["0.0.0.0/0"],
    }
    result = _cli("--stack", "prod", "--stack-file", str(write_stack(document)))
    assert result.returncode == 2
    assert "mlops:cluster.endpointPublicAccess" in result.stderr
    assert "mlops:cluster.publicAccessCidrs[0]" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_stack_exits_2():
    result = _cli("--stack", "staging")
    assert result.returncode == 2
    assert "stacks: dev, prod, test" in result.stderr
    assert "Traceback" not in result.stderr


def test_preview_exits_1_on_a_mandatory_violation(monkeypatch, capsys):
    # The real pack judges a prod recording with one repository made mutable.
    from scripts.policy_runner import evaluate, with_changes  # noqa: PLC0415

    def mutated_verdict(recording):
        repo = recording.of_type("aws:ecr/repository:Repository")[0].name
        bad = with_changes(
            recording,
            "aws:ecr/repository:Repository",
            repo,
            inputs={"imageTagMutability": "MUTABLE"},
        )
        return evaluate(bad, "prod")

    monkeypatch.setattr(preview, "POLICY_EVALUATOR", mutated_verdict)
    assert preview.main(["--stack", "prod"]) == preview.EXIT_POLICY
    out = capsys.readouterr().out
    assert "[mandatory] ecr-immutable-tags" in out


def test_real_preview_reports_policy_verdicts():
    result = _cli("--stack", "prod")
    assert result.returncode == 0, result.stderr
    assert "Policy (policy/config/prod.json): 0 mandatory" in result.stdout


def test_unwritable_output_exits_2_with_a_message(tmp_path):
    result = _cli("--stack", "dev", "--no-policy", "--output", str(tmp_path / "no" / "x.json"))
    assert result.returncode == 2
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr
