"""MlopsPlatform: the provider every child uses carries the environment's tags and accounts."""

from __future__ import annotations

import json

from components.config import environment_from_config
from components.platform import MlopsPlatform
from scripts.offline import run_program

VALUES = {
    "mlops:profile": "test",
    "aws:region": "eu-central-1",
    "mlops:allowedAccountIds": json.dumps(["210987654321"]),
    "mlops:tags": json.dumps({"owner": "ml-team", "cost-center": "cc-42"}),
}


def test_provider_carries_default_tags_region_and_accounts():
    config = environment_from_config(VALUES, "test")
    recording = run_program(lambda: MlopsPlatform("p", config), stack="test")

    component = recording.one("mlops:platform:MlopsPlatform", "p")
    provider = recording.one("pulumi:providers:aws")
    assert provider.parent == component.urn
    assert provider.inputs["region"] == "eu-central-1"
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["210987654321"]
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert tags == {
        "project": "mlops",
        "stack": "test",
        "environment": "test",
        "managed-by": "pulumi",
        "owner": "ml-team",
        "cost-center": "cc-42",
    }
