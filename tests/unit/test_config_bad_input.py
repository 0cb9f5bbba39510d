"""Bad configuration stops the real program before any resource is registered, with one
message naming every offending key path, the bad value and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mlops_platform.config import ConfigError

from scripts.offline import StackFileError, synthesize
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

Mutation = Callable[[dict[str, Any]], None]


def _pool(config: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return config["mlops:gpu"]["pools"][index]


# (case id, base stack, mutation of the stack's `config` map, key path the message must name,
#  a fragment of what is allowed that the message must state)
CASES: list[tuple[str, str, Mutation, str, str]] = [
    (
        "wrong-type-int",
        "dev",
        lambda c: c["mlops:network"].update(azCount="three"),
        "mlops:network.azCount",
        "valid integer",
    ),
    (
        "no-coercion-of-numeric-strings",
        "dev",
        lambda c: _pool(c).update(maxSize="2"),
        "mlops:gpu.pools[0].maxSize",
        "valid integer",
    ),
    (
        "wrong-type-bool",
        "dev",
        lambda c: c["mlops:cluster"].update(endpointPublicAccess="yes"),
        "mlops:cluster.endpointPublicAccess",
        "valid boolean",
    ),
    (
        "unknown-top-level-key",
        "dev",
        lambda c: c.update({"mlops:vpcCidr": "10.0.0.0/16"}),
        "mlops:vpcCidr",
        "mlops:network",
    ),
    (
        "unknown-nested-key",
        "dev",
        lambda c: c["mlops:network"].update(cidr="10.0.0.0/16"),
        "mlops:network.cidr",
        "vpcCidr",
    ),
    (
        "unknown-pool-key",
        "dev",
        lambda c: _pool(c).update(gpuType="a10g"),
        "mlops:gpu.pools[0].gpuType",
        "instanceTypes",
    ),
    (
        "bad-enum",
        "dev",
        lambda c: c["mlops:network"].update(natGateways="two"),
        "mlops:network.natGateways",
        "'per-az'",
    ),
    (
        "unknown-profile",
        "dev",
        lambda c: c.update({"mlops:profile": "staging"}),
        "mlops:profile",
        "dev, test, prod",
    ),
    (
        "pool-min-greater-than-max",
        "dev",
        lambda c: _pool(c).update(minSize=3, desiredSize=3, maxSize=2),
        "mlops:gpu.pools[0].desiredSize",
        "minSize <= desiredSize <= maxSize",
    ),
    (
        "system-nodes-desired-above-max",
        "test",
        lambda c: c.update({"mlops:cluster": {"systemNodes": {"desiredSize": 9}}}),
        "mlops:cluster.systemNodes.desiredSize",
        "minSize <= desiredSize <= maxSize",
    ),
    (
        "invalid-cidr",
        "dev",
        lambda c: c["mlops:network"].update(vpcCidr="10.10.0.0/33"),
        "mlops:network.vpcCidr",
        "IPv4 CIDR",
    ),
    (
        "vpc-too-small",
        "dev",
        lambda c: c["mlops:network"].update(vpcCidr="10.10.0.0/24"),
        "mlops:network.vpcCidr",
        "/16 to /22",
    ),
    (
        "subnet-outside-vpc",
        "dev",
        lambda c: c["mlops:network"].update(privateSubnetCidrs=["10.10.0.0/19", "10.99.32.0/19"]),
        "mlops:network.privateSubnetCidrs[1]",
        "inside the VPC",
    ),
    (
        "subnet-count-not-az-count",
        "dev",
        lambda c: c["mlops:network"].update(privateSubnetCidrs=["10.10.0.0/19"]),
        "mlops:network.privateSubnetCidrs",
        "one subnet per AZ",
    ),
    (
        "subnets-overlap",
        "dev",
        lambda c: c["mlops:network"].update(publicSubnetCidrs=["10.10.0.0/24", "10.10.129.0/24"]),
        "mlops:network.publicSubnetCidrs[0]",
        "must not overlap",
    ),
    (
        "pod-cidr-overlaps-vpc",
        "prod",
        lambda c: c["mlops:network"].update(podCidr="10.30.128.0/17"),
        "mlops:network.podCidr",
        "100.64.0.0/16",
    ),
    (
        "prod-public-endpoint",
        "prod",
        lambda c: c.update(
            {
                "mlops:cluster": {
                    "endpointPublicAccess": True,
                    "publicAccessCidrs": ["203.0.113.0/24"],
                }
            }
        ),
        "mlops:cluster.endpointPublicAccess",
        "private API endpoint only",
    ),
    (
        "public-endpoint-open-to-world",
        "dev",
        lambda c: c["mlops:cluster"].update(publicAccessCidrs=["0.0.0.0/0"]),
        "mlops:cluster.publicAccessCidrs[0]",
        "never allowed",
    ),
    (
        "public-endpoint-without-allowlist",
        "dev",
        lambda c: c["mlops:cluster"].update(publicAccessCidrs=[]),
        "mlops:cluster.publicAccessCidrs",
        "allowlist",
    ),
    (
        "prod-two-azs",
        "prod",
        lambda c: c["mlops:network"].update(azCount=2),
        "mlops:network.azCount",
        "at least 3 AZs",
    ),
    (
        "prod-without-deletion-protection",
        "prod",
        lambda c: c.update({"mlops:cluster": {"deletionProtection": False}}),
        "mlops:cluster.deletionProtection",
        "deletion protection",
    ),
    (
        "prod-unprotected-state",
        "prod",
        lambda c: c.update({"mlops:protectStatefulResources": False}),
        "mlops:protectStatefulResources",
        "protects and retains",
    ),
    (
        "gpu-type-outside-allowlist",
        "dev",
        lambda c: _pool(c).update(instanceTypes=["p4d.24xlarge"]),
        "mlops:gpu.pools[0].instanceTypes[0]",
        "allowlist",
    ),
    (
        "cpu-instance-in-gpu-pool",
        "dev",
        lambda c: _pool(c).update(instanceTypes=["m5.large"]),
        "mlops:gpu.pools[0].instanceTypes[0]",
        "supported families",
    ),
    (
        "gpu-budget-exceeded",
        "dev",
        lambda c: _pool(c).update(maxSize=5),
        "mlops:gpu.pools",
        "budgetGpus = 4",
    ),
    (
        "prod-serving-on-spot",
        "prod",
        lambda c: _pool(c).update(capacityType="spot"),
        "mlops:gpu.pools[0].capacityType",
        "on-demand",
    ),
    (
        "duplicate-pool-names",
        "dev",
        lambda c: _pool(c, 1).update(name="notebooks"),
        "mlops:gpu.pools[1].name",
        "unique",
    ),
    (
        "missing-owner-tag",
        "dev",
        lambda c: c["mlops:tags"].pop("owner"),
        "mlops:tags.owner",
        "owner, cost-center",
    ),
    (
        "reserved-tag-prefix",
        "dev",
        lambda c: c["mlops:tags"].update({"aws:team": "x"}),
        "mlops:tags.aws:team",
        "reserved",
    ),
    (
        "log-retention-not-cloudwatch",
        "dev",
        lambda c: c.update({"mlops:logRetentionDays": 10}),
        "mlops:logRetentionDays",
        "7, 14, 30",
    ),
    (
        "unsupported-kubernetes-version",
        "dev",
        lambda c: c["mlops:cluster"].update(version="1.20"),
        "mlops:cluster.version",
        "1.34",
    ),
    (
        "bad-region",
        "dev",
        lambda c: c.update({"aws:region": "mars-north-1a"}),
        "aws:region",
        "an AWS region name, e.g. us-east-1",
    ),
    (
        "bad-account-id",
        "dev",
        lambda c: c.update({"mlops:allowedAccountIds": ["1234"]}),
        "mlops:allowedAccountIds[0]",
        "a 12-digit AWS account ID",
    ),
    (
        "no-accounts",
        "dev",
        lambda c: c.update({"mlops:allowedAccountIds": []}),
        "mlops:allowedAccountIds",
        "at least 1",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "key", "allowed"),
    [pytest.param(s, m, k, a, id=i) for i, s, m, k, a in CASES],
)
def test_bad_configuration_is_named_and_nothing_is_registered(
    stack, mutate, key, allowed, stack_document, write_stack
):
    document = stack_document(stack)
    mutate(document["config"])
    monitor = RecordingMonitor(PlatformMocks())

    with pytest.raises(ConfigError) as caught:
        synthesize(stack, stack_file=write_stack(document), monitor=monitor)

    message = str(caught.value)
    assert f"  - {key} = " in message, message
    assert allowed in message, message
    registered = [r.request["type"] for r in monitor.registrations]
    assert "pulumi:pulumi:Stack" in registered  # the run itself happened...
    assert [t for t in registered if t != "pulumi:pulumi:Stack"] == []  # ...and built nothing


def test_every_problem_is_reported_at_once(stack_document, write_stack):
    document = stack_document("prod")
    config = document["config"]
    config["mlops:network"].update(azCount=2, natGateways="sometimes")
    config["mlops:tags"].pop("cost-center")
    config["mlops:bogus"] = 1

    with pytest.raises(ConfigError) as caught:
        synthesize("prod", stack_file=write_stack(document))

    keys = {problem.path for problem in caught.value.problems}
    # Structural problems are all reported together (rules run once structure is sound).
    assert keys == {("network", "natGateways"), ("bogus",)}, keys

    config["mlops:network"]["natGateways"] = "per-az"
    del config["mlops:bogus"]
    with pytest.raises(ConfigError) as caught:
        synthesize("prod", stack_file=write_stack(document))
    keys = {problem.path for problem in caught.value.problems}
    assert keys == {("network", "azCount"), ("tags", "cost-center")}, keys


def test_stack_file_schema_from_pulumi_yaml_is_enforced(stack_document, write_stack):
    document = stack_document("dev")
    del document["config"]["mlops:profile"]
    document["config"]["mlops:allowedAccountIds"] = "111111111111"
    monitor = RecordingMonitor(PlatformMocks())

    with pytest.raises(StackFileError) as caught:
        synthesize("dev", stack_file=write_stack(document), monitor=monitor)

    message = str(caught.value)
    assert "mlops:profile: missing" in message
    assert "mlops:allowedAccountIds" in message and "declared type 'array'" in message
    assert monitor.registrations == []


def test_stack_file_that_is_not_yaml(tmp_path):
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text("config: [unclosed", encoding="utf-8")
    with pytest.raises(StackFileError, match="not valid YAML"):
        synthesize("broken", stack_file=path)


def test_secret_values_are_never_echoed_in_errors(stack_document, write_stack):
    # A secret field with a bad value: the message names the key, never the value.
    document = stack_document("prod")
    leaked = "http://hooks.example.com/T000/B000/very-secret-token"
    document["config"]["mlops:observability"] = {"receivers": ["webhook"], "webhookUrl": leaked}

    with pytest.raises(ConfigError) as caught:
        synthesize("prod", stack_file=write_stack(document))

    message = str(caught.value)
    assert "mlops:observability.webhookUrl" in message
    assert "very-secret-token" not in message


def test_values_of_secret_config_keys_are_never_echoed():
    from mlops_platform.config import environment_from_config  # noqa: PLC0415

    values = {
        "mlops:profile": "dev",
        "aws:region": "us-east-1",
        "mlops:allowedAccountIds": '["111111111111"]',
        "mlops:tags": '{"owner": "o", "cost-center": "c", "aws:x": "secret-tag-value"}',
    }
    with pytest.raises(ConfigError) as caught:
        environment_from_config(values, "dev", frozenset({"mlops:tags"}))
    assert "mlops:tags.aws:x" in str(caught.value)
    assert "secret-tag-value" not in str(caught.value)
