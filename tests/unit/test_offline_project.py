"""The stack-file reader passes config to the program as the Pulumi engine would."""

from __future__ import annotations

import json

from scripts.offline.project import SECRET_PLACEHOLDER, load_stack_config


def test_objects_become_json_and_secrets_become_placeholders(stack_document, write_stack):
    document = stack_document("dev")
    document["config"]["mlops:alertWebhook"] = {"secure": "AAABAMOCKCIPHERTEXT"}
    config = load_stack_config("dev", path=write_stack(document))

    assert config.project == "mlops"
    assert json.loads(config.values["mlops:network"]) == {"vpcCidr": "10.10.0.0/16"}
    assert config.values["aws:region"] == "us-east-1"
    assert config.values["mlops:alertWebhook"] == SECRET_PLACEHOLDER
    assert config.secret_keys == ["mlops:alertWebhook"]
    assert "AAABAMOCKCIPHERTEXT" not in json.dumps(config.values)


def test_real_stacks_load():
    for stack in ("dev", "test", "prod"):
        config = load_stack_config(stack)
        assert config.values["mlops:profile"] == stack
