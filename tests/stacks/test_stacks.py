"""Each real stack file synthesizes offline through the real program and the preview CLI.

The CLI runs in this process (over the session's recordings and pack) except where only a
real process shows the behaviour: output byte-identical across processes (here) and a clean
exit after a configuration error (test_config_mistakes.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import offline, preview
from tests.conftest import REPO_ROOT, SYNTHESIS_GUARD, SynthesisGuard

STACKS = ("dev", "test", "prod")


@pytest.mark.parametrize("stack", STACKS)
def test_real_stack_synthesizes(stack, synthesized):
    recording = synthesized(stack)

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


def test_json_document_is_deterministic_in_process(synthesized):
    # The one test that synthesizes a real stack twice in a process, because that is what it
    # checks: each run starts from clean runtime state (config, root resource, pending
    # outputs), so neither an earlier run of the same stack nor one of another stack changes
    # the document. prod registers the most (protection, multi-AZ, every component).
    first = json.dumps(preview.document(synthesized("prod")), sort_keys=True)
    synthesized("dev")  # another stack ran in between
    with SYNTHESIS_GUARD.once_more("prod"):
        second = json.dumps(preview.document(offline.synthesize("prod")), sort_keys=True)
    assert first == second


def test_json_preview_is_byte_identical_across_processes(tmp_path, in_process_preview, run_cli):
    # One real process (its own hash seed, its own pack) against this one: the same bytes.
    argv = ("--stack", "prod", "--format", "json", "--output")
    target = tmp_path / "prod-process.json"
    result = subprocess.run(
        [sys.executable, "-m", "scripts.preview", *argv, str(target)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    here = tmp_path / "prod-here.json"
    code, _, err = run_cli(preview.main, *argv, str(here))
    assert code == 0, err
    assert target.read_bytes() == here.read_bytes()
    document = json.loads(target.read_bytes())
    assert document["stack"] == "prod"
    assert document["counts"]["total"] == len(document["resources"])
    assert document["policy"]["mandatoryViolations"] == 0


def test_text_preview_prints_the_tree(in_process_preview, run_cli):
    code, out, err = run_cli(preview.main, "--stack", "dev")
    assert code == 0, err
    assert "mlops:index:MlopsPlatform  mlops-dev" in out
    assert "Resources:" in out


def test_bad_stack_file_exits_2_with_a_message_not_a_traceback(
    stack_document, write_stack, in_process_preview, run_cli
):
    document = stack_document("prod")
    document["config"]["mlops:cluster"] = {
        "endpointPublicAccess": True,
        "publicAccessCidrs": ["0.0.0.0/0"],
    }
    code, _, err = run_cli(
        preview.main, "--stack", "prod", "--stack-file", str(write_stack(document))
    )
    assert code == 2
    assert "mlops:cluster.endpointPublicAccess" in err
    assert "mlops:cluster.publicAccessCidrs[0]" in err


def test_unknown_stack_exits_2(in_process_preview, run_cli):
    code, _, err = run_cli(preview.main, "--stack", "staging")
    assert code == 2
    assert "stacks: dev, prod, test" in err


def test_preview_exits_1_on_a_mandatory_violation(
    monkeypatch, capsys, in_process_preview, analyzer
):
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
        return evaluate(bad, "prod", analyzer=analyzer)

    monkeypatch.setattr(preview, "POLICY_EVALUATOR", mutated_verdict)
    assert preview.main(["--stack", "prod"]) == preview.EXIT_POLICY
    out = capsys.readouterr().out
    assert "[mandatory] ecr-immutable-tags" in out


def test_real_preview_reports_policy_verdicts(in_process_preview, run_cli):
    code, out, err = run_cli(preview.main, "--stack", "prod")
    assert code == 0, err
    assert "Policy (policy/config/prod.json): 0 mandatory" in out


def test_unwritable_output_exits_2_with_a_message(tmp_path, in_process_preview, run_cli):
    target = tmp_path / "no" / "x.json"
    code, _, err = run_cli(preview.main, "--stack", "dev", "--no-policy", "--output", str(target))
    assert code == 2
    assert "cannot write" in err


def test_a_second_synthesis_of_an_unmodified_real_stack_fails_the_test():
    from scripts import architecture, cost  # noqa: PLC0415

    # The guard stands wherever the scripts bound ``synthesize``.
    for module in (offline, preview, cost, architecture):
        assert module.synthesize is SYNTHESIS_GUARD, module.__name__
    calls: list[tuple[object, ...]] = []

    def synthesize(*args: object) -> None:
        if args[0] == "staging":
            raise offline.StackFileError("no stack file for stack 'staging'")
        calls.append(args)

    guard = SynthesisGuard(synthesize)
    for _ in range(2):  # a stack that fails to synthesize is not counted
        with pytest.raises(offline.StackFileError):
            guard("staging")
    guard("dev")
    with pytest.raises(pytest.fail.Exception, match=r"'dev' is synthesized a second time"):
        guard("dev")
    guard("dev", stack_file=Path("Pulumi.case.yaml"))  # a mutated stack: per case
    guard("prod")
    with guard.once_more("dev"):
        guard("dev")
    with pytest.raises(pytest.fail.Exception, match=r"first by .*test_stacks"):
        guard("dev")
    assert [args[0] for args in calls] == ["dev", "dev", "prod", "dev"]
