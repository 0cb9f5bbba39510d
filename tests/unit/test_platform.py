"""MlopsPlatform: the provider every child uses carries the environment's tags and accounts."""

from __future__ import annotations

import json

import pulumi
import pytest
from mlops_platform.config import environment_from_config
from mlops_platform.platform import MlopsPlatform
from mlops_platform.platform.wiring import Wiring, straight_through
from mlops_platform.serving.tenant import TenantArgs
from mlops_platform.storage.artifact_store import ArtifactStoreArgs, BucketPurpose, StorageClass
from mlops_platform.storage.container_registry import ContainerRegistryArgs

from scripts.offline import run_program
from tests.conftest import DEPLOY_PATH_ELSEWHERE

VALUES = {
    "mlops:profile": "test",
    "aws:region": "eu-central-1",
    "mlops:allowedAccountIds": json.dumps(["210987654321"]),
    "mlops:tags": json.dumps({"owner": "ml-team", "cost-center": "cc-42"}),
    **DEPLOY_PATH_ELSEWHERE,
}


def test_provider_carries_default_tags_region_and_accounts():
    config = environment_from_config(VALUES, "test")
    recording = run_program(lambda: MlopsPlatform("p", config), stack="test")

    component = recording.one("mlops:index:MlopsPlatform", "p")
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


def _stack_values(stack: str, **overrides: object) -> dict[str, str]:
    from scripts.offline.project import load_stack_config  # noqa: PLC0415

    values = dict(load_stack_config(stack).values)
    for key, value in overrides.items():
        values[key] = json.dumps(value)
    return values


def _service_monitor(recording):
    return next(
        r
        for r in recording.of_type("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
        if "dcgm" in r.name
    )


def test_dcgm_scrape_follows_the_nvidia_mode(synthesized):
    spec = _service_monitor(synthesized("dev")).inputs["spec"]  # dev: the device plugin
    assert spec["selector"]["matchLabels"] == {"app.kubernetes.io/name": "dcgm-exporter"}
    assert spec["endpoints"][0]["port"] == "metrics"

    document = json.loads(_stack_values("dev")["mlops:gpu"])
    document["nvidia"] = {"mode": "gpu-operator"}
    for pool in document["pools"]:
        pool.pop("sharing", None)
    operator = environment_from_config(_stack_values("dev", **{"mlops:gpu": document}), "dev")
    spec = _service_monitor(run_program(lambda: MlopsPlatform("p", operator))).inputs["spec"]
    # the GPU operator's exporter Service: app=nvidia-dcgm-exporter, port gpu-metrics
    assert spec["selector"]["matchLabels"] == {"app": "nvidia-dcgm-exporter"}
    assert spec["endpoints"][0]["port"] == "gpu-metrics"


def test_gpu_node_groups_wait_for_the_cluster_networking_and_system_nodes(synthesized):
    recording = synthesized("prod")
    groups = recording.of_type("aws:eks/nodeGroup:NodeGroup")
    system = next(g for g in groups if "system" in g.name)
    addons = {a.urn for a in recording.of_type("aws:eks/addon:Addon")}
    gpu = [g for g in groups if g is not system]
    assert gpu
    for group in gpu:
        # A child registers only once its parent's URN exists, and a component registers only
        # once its dependencies exist: the pool component's dependencies gate its node group.
        component = next(r for r in recording.resources if r.urn == group.parent)
        assert system.urn in component.dependencies or system.urn in group.dependencies
        assert addons & set(component.dependencies + group.dependencies)


def test_platform_takes_args_with_its_own_prefix_like_the_other_components():
    from mlops_platform import MlopsPlatformArgs  # noqa: PLC0415

    config = environment_from_config(VALUES, "test")
    args = MlopsPlatformArgs(config=config, name_prefix="team-x")
    recording = run_program(lambda: MlopsPlatform("p", args), stack="test")
    cluster = recording.one("aws:eks/cluster:Cluster")
    assert cluster.inputs["name"] == "team-x-eks"
    keyword = run_program(lambda: MlopsPlatform("p", config=config), stack="test")
    assert keyword.one("aws:eks/cluster:Cluster").inputs["name"] == "mlops-test-eks"


SPOT_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"


def test_spot_pools_get_the_spot_service_linked_role_unless_the_account_has_it():
    config = environment_from_config(_stack_values("prod"), "prod")
    recording = run_program(lambda: MlopsPlatform("p", config), stack="prod")
    role = recording.one(SPOT_ROLE)
    assert role.inputs["awsServiceName"] == "spot.amazonaws.com"
    assert role.retain_on_delete  # the account's role outlives the stack
    pools = recording.of_type("mlops:index:GpuNodePool")
    spot = [p for p in pools if role.urn in p.dependencies]
    assert spot and len(spot) < len(pools)  # prod: spot training pool only, not serving
    # custom networking (prod has a pod CIDR): Karpenter must not count the primary ENI
    karpenter = recording.one("kubernetes:helm.sh/v3:Release", "p-karpenter-controller-release")
    assert karpenter.inputs["values"]["settings"]["reservedENIs"] == "1"

    document = json.loads(_stack_values("prod")["mlops:gpu"])
    document["spotServiceLinkedRole"] = "exists"
    existing = environment_from_config(_stack_values("prod", **{"mlops:gpu": document}), "prod")
    recording = run_program(lambda: MlopsPlatform("p", existing), stack="prod")
    assert recording.of_type(SPOT_ROLE) == []


def test_no_spot_role_without_spot_pools_and_no_reserved_enis_without_custom_networking():
    config = environment_from_config(_stack_values("test"), "test")
    recording = run_program(lambda: MlopsPlatform("p", config), stack="test")
    karpenter = recording.of_type("kubernetes:helm.sh/v3:Release")
    values = next(r for r in karpenter if r.name == "p-karpenter-controller-release").inputs
    assert values["values"]["settings"]["reservedENIs"] == "0"
    document = json.loads(_stack_values("test")["mlops:gpu"])
    for pool in document["pools"]:
        pool["capacityType"] = "on-demand"
    on_demand = environment_from_config(_stack_values("test", **{"mlops:gpu": document}), "test")
    assert run_program(lambda: MlopsPlatform("p", on_demand), stack="test").of_type(SPOT_ROLE) == []


# --- wiring: the effective config reaches the components as it is ---------------------------


def _wiring(**overrides):
    opts = pulumi.ResourceOptions()
    values = {
        "name_prefix": "acme-dev",
        "tags": {"owner": "o"},
        "protect": True,
        "log_retention_days": 30,
        "aws_opts": opts,
        "k8s_opts": opts,
    }
    return Wiring(**(values | overrides))


def test_a_section_reaches_its_component_as_it_is():
    storage = environment_from_config(VALUES, "test").storage
    args = straight_through(
        ArtifactStoreArgs, storage, handled=("replication", "object_lock"), name_prefix="p"
    )
    # same-named keys pass unchanged: enums stay enums, numbers are the profile's
    assert args.transition_storage_class is StorageClass.INTELLIGENT_TIERING
    assert all(isinstance(purpose, BucketPurpose) for purpose in args.purposes)
    assert args.kms_deletion_window_days == storage.kms_deletion_window_days == 14
    assert args.noncurrent_version_expiration_days == 60
    # keys the caller maps itself are not passed: the component keeps its defaults
    assert args.replication_enabled is False and args.object_lock_mode is None


def test_a_key_that_reaches_no_argument_is_an_error_not_dropped():
    storage = environment_from_config(VALUES, "test").storage
    with pytest.raises(TypeError, match=r"StorageConfig keys \['object_lock', 'replication'\]"):
        straight_through(ArtifactStoreArgs, storage, name_prefix="p")


def test_platform_values_go_to_the_components_that_take_them_and_unset_means_default():
    wiring = _wiring()
    registry = environment_from_config(VALUES, "test").registry
    args = wiring.args(ContainerRegistryArgs, registry)
    assert (args.name_prefix, args.tags, args.protect) == ("acme-dev", {"owner": "o"}, True)
    assert args.keep_tagged_images == registry.keep_tagged_images
    # an explicit value wins; None (unset) leaves the component's own default
    team = environment_from_config(
        {**VALUES, "mlops:tenants": json.dumps({"teams": [{"name": "a", "owner": "x"}]})}, "test"
    ).tenants.effective_teams()[0]
    default = straight_through(
        TenantArgs,
        team,
        handled=("name",),
        team="a",
        name_prefix="p",
        cluster_name="c",
        cluster_arn="arn",
        kubernetes_provider="provider",
        artifact_bucket_arns={},
        artifact_kms_key_arn="k",
    )
    assert team.https_egress_cidrs is None
    assert (
        default.https_egress_cidrs == TenantArgs.__dataclass_fields__["https_egress_cidrs"].default
    )
    assert default.pods == 50 and default.load_balancers == 1  # the test profile's quota


def test_mlflow_load_balancer_admits_the_adopted_vpcs_cidr_not_the_creation_key():
    """With an adopted VPC the internal MLflow load balancer and its NetworkPolicy admit that
    VPC's CIDR (from `existing`), never `network.vpcCidr`, which only sizes a created VPC."""
    values = _stack_values("test")
    network = json.loads(values["mlops:network"])
    network.update(
        podCidr=None,
        existing={
            "vpcId": "vpc-0123456789abcdef0",
            "vpcCidr": "10.40.0.0/16",
            "privateSubnetIds": [f"subnet-0aaaaaaaaaaaaaaa{i}" for i in (1, 2, 3)],
        },
    )
    values["mlops:network"] = json.dumps(network)
    registry = json.loads(values.get("mlops:modelRegistry", "{}"))
    values["mlops:modelRegistry"] = json.dumps({**registry, "internalLoadBalancer": True})
    config = environment_from_config(values, "test")
    assert config.network.vpc_cidr != "10.40.0.0/16"
    recording = run_program(lambda: MlopsPlatform("p", config), stack="test")

    [release] = [
        r
        for r in recording.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "mlflow"
    ]
    annotations = release.inputs["values"]["service"]["annotations"]
    assert annotations["service.beta.kubernetes.io/load-balancer-source-ranges"] == "10.40.0.0/16"
    [policy] = [
        r
        for r in recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["metadata"]["name"] == "mlflow-ingress"
    ]
    blocks = [
        peer["ipBlock"]["cidr"]
        for rule in policy.inputs["spec"]["ingress"]
        for peer in rule["from"]
        if "ipBlock" in peer
    ]
    assert blocks == ["10.40.0.0/16"]
