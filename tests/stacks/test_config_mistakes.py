"""Configuration mistakes a new user makes, through the preview CLI: each exits 2, names the
key path the user wrote and what is allowed, and shows no traceback (issue: every
configuration mistake exits 2 in plain words)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import preview
from tests.conftest import REPO_ROOT

EXIT_CONFIG = 2


def _preview(capsys, stack_file: Path, stack: str = "dev") -> tuple[int, str]:
    code = preview.main(["--stack", stack, "--stack-file", str(stack_file), "--no-policy"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _state(tmp_path: Path, outputs: dict[str, Any], name: str = "network.tfstate") -> Path:
    document = {
        "version": 4,
        "terraform_version": "1.9.0",
        "serial": 1,
        "lineage": "test",
        "outputs": {k: {"value": v, "type": "string"} for k, v in outputs.items()},
        "resources": [],
    }
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _adopt(
    document: dict[str, Any],
    source: Path,
    state: dict[str, Any] | None = None,
    **existing: Any,
) -> dict[str, Any]:
    document["config"]["mlops:network"] = {
        "existing": {"terraformState": {"source": str(source), **(state or {})}, **existing}
    }
    return document


VPC = {
    "vpc_id": "vpc-0abc12345",
    "vpc_cidr_block": "10.0.0.0/16",
    "private_subnets": ["subnet-0aaa11111", "subnet-0aaa22222"],
}


@pytest.mark.parametrize(
    ("content", "what"),
    [("- a\n- b\n", "holds a list"), ("just some words\n", "holds plain text")],
    ids=["yaml-list", "plain-text"],
)
def test_a_stack_file_that_is_not_a_map_is_named_with_what_it_must_be(
    capsys, tmp_path, content, what
):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(content, encoding="utf-8")
    code, err = _preview(capsys, path)
    assert code == EXIT_CONFIG
    assert str(path) in err and what in err and "config:" in err


def test_a_missing_terraform_state_file_is_a_config_error_on_its_key(
    capsys, tmp_path, stack_document, write_stack
):
    document = _adopt(stack_document("dev"), tmp_path / "absent.tfstate")
    code, err = _preview(capsys, write_stack(document))
    assert code == EXIT_CONFIG
    assert "mlops:network.existing.terraformState.source" in err
    assert "No such file" in err


def test_a_missing_terraform_output_names_the_yaml_key_and_the_outputs_present(
    capsys, tmp_path, stack_document, write_stack
):
    state = _state(tmp_path, {k: v for k, v in VPC.items() if k != "vpc_id"})
    code, err = _preview(capsys, write_stack(_adopt(stack_document("dev"), state)))
    assert code == EXIT_CONFIG
    assert "mlops:network.existing.terraformState.outputs.vpcId" in err
    assert "private_subnets" in err  # the outputs the state does have
    assert "terraform_state.outputs.vpc_id" not in err  # never the component's argument name


def test_a_terraform_output_of_the_wrong_shape_is_a_config_error(
    capsys, tmp_path, stack_document, write_stack
):
    state = _state(tmp_path, {**VPC, "vpc_id": ["vpc-0abc12345"]})
    code, err = _preview(capsys, write_stack(_adopt(stack_document("dev"), state)))
    assert code == EXIT_CONFIG
    assert "mlops:network.existing.terraformState.outputs.vpcId" in err
    assert "a VPC ID" in err


@pytest.mark.parametrize("pods", [1, 3], ids=["fewer-than-azs", "more-than-azs"])
def test_pod_subnets_from_state_must_match_the_azs(
    capsys, tmp_path, stack_document, write_stack, pods
):
    state = _state(
        tmp_path, {**VPC, "pod_subnets": [f"subnet-0ccc{i}1111" for i in range(1, pods + 1)]}
    )
    document = _adopt(
        stack_document("dev"),
        state,
        state={"outputs": {"podSubnetIds": "pod_subnets"}},
        availabilityZones=["us-east-1a", "us-east-1b"],
    )
    code, err = _preview(capsys, write_stack(document))
    assert code == EXIT_CONFIG
    assert "mlops:network.existing.terraformState.outputs.podSubnetIds" in err
    assert f"{pods} pod subnets for 2 AZs" in err


def test_an_opentofu_encrypted_state_says_it_is_encrypted_and_what_to_do(
    capsys, tmp_path, stack_document, write_stack
):
    state = tmp_path / "encrypted.tfstate"
    state.write_text(
        json.dumps(
            {
                "serial": 1,
                "lineage": "x",
                "meta": {"key_provider.pbkdf2.key": "e30="},
                "encrypted_data": "c2VjcmV0",
                "encryption_version": "v0",
            }
        ),
        encoding="utf-8",
    )
    code, err = _preview(capsys, write_stack(_adopt(stack_document("dev"), state)))
    assert code == EXIT_CONFIG
    assert "encrypted" in err and "tofu state pull" in err


def test_a_secret_set_with_path_works_at_any_depth(
    capsys, stack_document, write_stack, shared_pack
):
    # `pulumi config set --secret --path mlops:observability.webhookUrl <url>` writes this.
    document = stack_document("dev")
    document["config"]["mlops:observability"] = {
        "receivers": ["webhook"],
        "webhookUrl": {"secure": "v1:AAAAencrypted"},
    }
    code = preview.main(["--stack", "dev", "--stack-file", str(write_stack(document))])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "AAAAencrypted" not in captured.out + captured.err


def test_tag_values_are_checked_against_the_characters_aws_allows(
    capsys, stack_document, write_stack
):
    document = stack_document("dev")
    document["config"]["mlops:tags"]["team"] = "ml✓ team"
    code, err = _preview(capsys, write_stack(document))
    assert code == EXIT_CONFIG
    assert 'mlops:tags.team = "ml✓ team"' in err  # shown as written, not escaped
    assert "characters AWS does not allow (✓)" in err


def test_messages_say_what_is_allowed_not_the_regex(capsys, stack_document, write_stack):
    document = stack_document("dev")
    document["config"]["aws:region"] = "us-east"
    code, err = _preview(capsys, write_stack(document))
    assert code == EXIT_CONFIG
    assert "aws:region" in err and "an AWS region name, e.g. us-east-1" in err
    assert "pattern" not in err and "^[" not in err


def test_a_misspelled_key_suggests_the_known_one_and_is_not_also_reported_missing(
    capsys, stack_document, write_stack
):
    document = stack_document("dev")
    pool = document["config"]["mlops:gpu"]["pools"][0]
    pool["minsize"] = pool.pop("minSize")
    code, err = _preview(capsys, write_stack(document))
    assert code == EXIT_CONFIG
    assert "mlops:gpu.pools[0].minsize" in err and "did you mean minSize?" in err
    assert "profile gives no default" not in err


def test_an_unquoted_version_gets_a_hint_to_quote_it(capsys, stack_document, write_stack):
    document = stack_document("dev")
    document["config"]["mlops:cluster"]["version"] = 1.34
    code, err = _preview(capsys, write_stack(document))
    assert code == EXIT_CONFIG
    assert "mlops:cluster.version" in err and "quote the value" in err


@pytest.mark.parametrize(
    ("network", "key", "words"),
    [
        ({"vpcCidr": "10.10.0.0/22"}, "mlops:network.vpcCidr", "the default subnet plan"),
        (
            {
                "vpcCidr": "10.10.0.0/22",
                "privateSubnetCidrs": ["10.10.0.0/24", "10.10.1.0/25"],
                "publicSubnetCidrs": ["10.10.2.0/26", "10.10.2.64/26"],
            },
            "mlops:network.privateSubnetCidrs[1]",
            "must be a /24 or larger",
        ),
        ({"vpcCidr": "10.10.0.0/23"}, "mlops:network.vpcCidr", "/16 to /22"),
    ],
    ids=["small-vpc-default-plan", "small-node-subnet", "vpc-too-small"],
)
def test_network_sizes_are_judged_by_the_config_rules(
    capsys, stack_document, write_stack, network, key, words
):
    document = stack_document("dev")
    document["config"]["mlops:network"] = network
    code, err = _preview(capsys, write_stack(document))
    assert code == EXIT_CONFIG
    assert key in err and words in err


def test_a_slash_22_vpc_with_explicit_subnets_previews(capsys, stack_document, write_stack):
    document = stack_document("dev")
    document["config"]["mlops:network"] = {
        "vpcCidr": "10.10.0.0/22",
        "privateSubnetCidrs": ["10.10.0.0/24", "10.10.1.0/24"],
        "publicSubnetCidrs": ["10.10.2.0/26", "10.10.2.64/26"],
    }
    code, err = _preview(capsys, write_stack(document))
    assert code == 0, err


def test_the_cli_exits_cleanly_after_a_configuration_error(tmp_path, stack_document):
    # A real process: nothing may follow the message (no "Exception ignored" at exit).
    document: dict[str, Any] = stack_document("dev")
    document["config"]["aws:region"] = "nowhere"
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "scripts.preview", "--stack", "dev", "--stack-file", str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == EXIT_CONFIG
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: stack 'dev' has 1 configuration problem")
    assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr
