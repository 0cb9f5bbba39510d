"""GpuNodePool under the mock engine: both capacity engines, and every bad input."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.core.versions import GPU_NODE_AMI_RELEASE
from mlops_platform.gpu.node_pool import (
    AmiType,
    CapacityType,
    ConsolidationPolicy,
    DisruptionBudget,
    GpuNodePool,
    GpuNodePoolArgs,
    KarpenterDisruption,
    PoolEngine,
    Workload,
    karpenter_ami_alias,
    spot_diversification_warning,
    validate_pool,
)
from mlops_platform.gpu.nvidia import GpuSharing, MigStrategy

from scripts.offline import run_program
from scripts.offline.engine import Recording
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ASG_TAG = "aws:autoscaling/tag:Tag"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
CA = "k8s.io/cluster-autoscaler"


def managed(**overrides: Any) -> GpuNodePoolArgs:
    base = GpuNodePoolArgs(
        cluster_name="mlops-dev",
        instance_types=["g6.xlarge", "g5.xlarge"],
        workload=Workload.NOTEBOOK,
        name_prefix="mlops-dev",
        pool_name="notebooks",
        capacity_type=CapacityType.SPOT,
        min_size=0,
        desired_size=0,
        max_size=3,
        node_role_arn="arn:aws:iam::123456789012:role/mlops-dev-eks-node",
        subnet_ids=["subnet-0a", "subnet-0b"],
        kubernetes_version="1.34",
        sharing=GpuSharing(time_slicing_replicas=4),
        tags={"owner": "ml-platform-team"},
    )
    return dataclasses.replace(base, **overrides)


_NOT_A_PROVIDER: Any = object()  # validation only checks presence; run_pool swaps in a real one


def karpenter(**overrides: Any) -> GpuNodePoolArgs:
    base = GpuNodePoolArgs(
        cluster_name="mlops-prod",
        instance_types=["p4d.24xlarge"],
        workload=Workload.TRAINING,
        name_prefix="mlops-prod",
        pool_name="training",
        engine=PoolEngine.KARPENTER,
        capacity_type=CapacityType.SPOT,
        max_size=4,
        karpenter_node_role_name="mlops-prod-karpenter-node",
        kubernetes_provider=_NOT_A_PROVIDER,
        sharing=GpuSharing(mig_strategy=MigStrategy.SINGLE, mig_profile="1g.5gb"),
        disruption=KarpenterDisruption(
            consolidation_policy=ConsolidationPolicy.WHEN_EMPTY,
            consolidate_after="30m",
            expire_after="336h",
            budgets=(
                DisruptionBudget(nodes="1"),
                DisruptionBudget(nodes="0", schedule="0 9 * * mon-fri", duration="8h"),
            ),
        ),
    )
    return dataclasses.replace(base, **overrides)


def run_pool(args: GpuNodePoolArgs, *, k8s_provider: bool = False) -> Recording:
    def program() -> None:
        pool_args = args
        if k8s_provider:
            provider = k8s.Provider("k8s", kubeconfig="{}")
            pool_args = dataclasses.replace(args, kubernetes_provider=provider)
        GpuNodePool(args.pool_name or "pool", pool_args)

    return run_program(program, stack="dev")


@pytest.fixture(scope="module")
def mng() -> Recording:
    return run_pool(managed())


@pytest.fixture(scope="module")
def kp() -> Recording:
    return run_pool(karpenter(), k8s_provider=True)


# --- managed node group ------------------------------------------------------------------


def test_node_group_is_tainted_for_gpus_only(mng: Recording):
    taints = mng.one(NODE_GROUP).inputs["taints"]
    assert taints == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]


def test_node_group_labels_name_accelerator_pool_capacity_and_workload(mng: Recording):
    labels = mng.one(NODE_GROUP).inputs["labels"]
    assert labels["mlops/gpu-pool"] == "notebooks"
    assert labels["mlops/capacity-type"] == "spot"
    assert labels["mlops/workload"] == "notebook"
    assert labels["k8s.amazonaws.com/accelerator"] == "mixed"  # g6 (L4) + g5 (A10G)
    assert labels["nvidia.com/device-plugin.config"] == "notebooks"
    assert labels["mlops/ami-family"] == "al2023"
    assert "nvidia.com/gpu.deploy.device-plugin" not in labels


def test_single_model_pool_labels_its_gpu_model():
    rec = run_pool(managed(instance_types=["g5.xlarge", "g5.2xlarge"], sharing=None))
    labels = rec.one(NODE_GROUP).inputs["labels"]
    assert labels["k8s.amazonaws.com/accelerator"] == "nvidia-a10g"
    assert "nvidia.com/device-plugin.config" not in labels


def test_ami_type_and_release_are_pinned(mng: Recording):
    inputs = mng.one(NODE_GROUP).inputs
    assert inputs["amiType"] == "AL2023_x86_64_NVIDIA"
    assert inputs["releaseVersion"] == GPU_NODE_AMI_RELEASE
    assert inputs["version"] == "1.34"


def test_launch_template_requires_imdsv2_encrypts_and_has_no_ssh(mng: Recording):
    template = mng.one(LAUNCH_TEMPLATE).inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1  # pods cannot reach IMDS
    assert template["metadataOptions"]["httpEndpoint"] == "enabled"
    [device] = template["blockDeviceMappings"]
    assert device["deviceName"] == "/dev/xvda"
    assert device["ebs"]["encrypted"] == "true"
    assert device["ebs"]["volumeType"] == "gp3"
    assert device["ebs"]["volumeSize"] == 200
    assert "keyName" not in template
    assert "userData" not in template
    node_group = mng.one(NODE_GROUP).inputs
    assert "remoteAccess" not in node_group
    assert node_group["launchTemplate"] == {"id": mng.one(LAUNCH_TEMPLATE).id, "version": "1"}


def test_bottlerocket_gets_an_os_and_an_encrypted_data_volume():
    rec = run_pool(
        managed(
            ami_type=AmiType.BOTTLEROCKET_X86_64_NVIDIA,
            ami_release_version="1.50.0-a1b2c3d4",
            sharing=None,
        )
    )
    assert rec.one(NODE_GROUP).inputs["amiType"] == "BOTTLEROCKET_x86_64_NVIDIA"
    assert rec.one(NODE_GROUP).inputs["releaseVersion"] == "1.50.0-a1b2c3d4"
    devices = rec.one(LAUNCH_TEMPLATE).inputs["blockDeviceMappings"]
    assert [(d["deviceName"], d["ebs"]["volumeSize"]) for d in devices] == [
        ("/dev/xvda", 4),
        ("/dev/xvdb", 200),
    ]
    assert all(d["ebs"]["encrypted"] == "true" for d in devices)
    labels = rec.one(NODE_GROUP).inputs["labels"]
    assert labels["mlops/ami-family"] == "bottlerocket"
    assert labels["nvidia.com/gpu.deploy.device-plugin"] == "false"


def test_sharing_is_for_al2023_pools():
    bottlerocket = managed(
        ami_type=AmiType.BOTTLEROCKET_X86_64_NVIDIA, ami_release_version="1.50.0-a1b2c3d4"
    )
    assert "own NVIDIA device plugin" in problems(bottlerocket)["sharing"]
    assert problems(dataclasses.replace(bottlerocket, sharing=None)) == {}


def test_arm64_pool_uses_the_arm64_nvidia_ami():
    rec = run_pool(
        managed(instance_types=["g5g.xlarge", "g5g.2xlarge"], ami_type=AmiType.AL2023_ARM_64_NVIDIA)
    )
    assert rec.one(NODE_GROUP).inputs["amiType"] == "AL2023_ARM_64_NVIDIA"


def test_scales_to_zero_and_leaves_desired_size_to_the_autoscaler(mng: Recording):
    node_group = mng.one(NODE_GROUP)
    assert node_group.inputs["scalingConfig"] == {"minSize": 0, "desiredSize": 0, "maxSize": 3}
    assert node_group.ignore_changes == ["scalingConfig.desiredSize"]
    assert node_group.inputs["updateConfig"] == {"maxUnavailable": 1}
    assert node_group.inputs["nodeRepairConfig"] == {"enabled": True}


def test_autoscaler_node_template_tags_allow_scale_from_zero(mng: Recording):
    tags = mng.one(NODE_GROUP).inputs["tags"]
    assert tags[f"{CA}/enabled"] == "true"
    assert tags[f"{CA}/mlops-dev"] == "owned"
    assert tags[f"{CA}/node-template/taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert tags[f"{CA}/node-template/label/mlops/gpu-pool"] == "notebooks"
    # One GPU per node, time-sliced four ways: the node advertises 4 nvidia.com/gpu.
    assert tags[f"{CA}/node-template/resources/nvidia.com/gpu"] == "4"
    assert tags["owner"] == "ml-platform-team"


def test_autoscaler_tags_are_copied_onto_the_auto_scaling_group(mng: Recording):
    asg_tags = {t.inputs["tag"]["key"]: t.inputs for t in mng.of_type(ASG_TAG)}
    gpu = asg_tags[f"{CA}/node-template/resources/nvidia.com/gpu"]
    assert gpu["tag"]["value"] == "4"
    assert gpu["autoscalingGroupName"].startswith("eks-mlops-dev-gpu-notebooks-")
    assert asg_tags[f"{CA}/node-template/taint/nvidia.com/gpu"]["tag"]["value"] == (
        "true:NoSchedule"
    )
    assert f"{CA}/node-template/label/k8s.amazonaws.com/accelerator" in asg_tags


def test_spot_pool_is_diversified_over_instance_types(mng: Recording):
    inputs = mng.one(NODE_GROUP).inputs
    assert inputs["capacityType"] == "SPOT"
    assert inputs["instanceTypes"] == ["g6.xlarge", "g5.xlarge"]


def test_on_demand_pool():
    rec = run_pool(managed(capacity_type=CapacityType.ON_DEMAND, workload=Workload.SERVING))
    assert rec.one(NODE_GROUP).inputs["capacityType"] == "ON_DEMAND"


def test_single_type_spot_pool_gets_guidance_not_an_error():
    single = managed(instance_types=["p4d.24xlarge"], sharing=None)
    assert "one instance type" in (spot_diversification_warning(single) or "")
    assert validate_pool(single) == []
    assert spot_diversification_warning(managed()) is None
    on_demand = managed(instance_types=["p4d.24xlarge"], capacity_type=CapacityType.ON_DEMAND)
    assert spot_diversification_warning(on_demand) is None


def test_efa_pool_gets_a_cluster_placement_group_and_an_efa_interface():
    rec = run_pool(
        managed(
            instance_types=["p5.48xlarge"],
            capacity_type=CapacityType.ON_DEMAND,
            workload=Workload.TRAINING,
            sharing=None,
            efa=True,
            security_group_ids=["sg-0efa"],
        )
    )
    group = rec.one("aws:ec2/placementGroup:PlacementGroup")
    assert group.inputs["strategy"] == "cluster"
    template = rec.one(LAUNCH_TEMPLATE).inputs
    assert template["placement"]["groupName"] == group.inputs["name"]
    [interface] = template["networkInterfaces"]
    assert interface["interfaceType"] == "efa"
    assert interface["securityGroups"] == ["sg-0efa"]
    assert interface["associatePublicIpAddress"] == "false"
    assert rec.one(NODE_GROUP).inputs["subnetIds"] == ["subnet-0a"]  # one AZ


def test_capacity_block_targets_the_reservation():
    rec = run_pool(
        managed(
            instance_types=["p5.48xlarge"],
            capacity_type=CapacityType.ON_DEMAND,
            workload=Workload.TRAINING,
            sharing=None,
            capacity_reservation_id="cr-0123456789abcdef0",
            capacity_block=True,
        )
    )
    template = rec.one(LAUNCH_TEMPLATE).inputs
    target = template["capacityReservationSpecification"]["capacityReservationTarget"]
    assert target == {"capacityReservationId": "cr-0123456789abcdef0"}
    assert template["instanceMarketOptions"] == {"marketType": "capacity-block"}
    assert rec.one(NODE_GROUP).inputs["capacityType"] == "CAPACITY_BLOCK"


def test_component_outputs(mng: Recording):
    [outputs] = [v for k, v in mng.component_outputs.items() if "GpuNodePool" in k]
    assert outputs["max_gpus"] == 3
    assert outputs["node_selector"] == {"mlops/gpu-pool": "notebooks"}
    assert outputs["node_group_name"] == "mlops-dev-gpu-notebooks"


# --- Karpenter ----------------------------------------------------------------------------


def test_node_pool_limits_follow_max_size(kp: Recording):
    limits = kp.one(NODE_POOL).inputs["spec"]["limits"]
    assert limits == {"nvidia.com/gpu": "32", "cpu": "384"}  # 4 x p4d.24xlarge (8 GPUs, 96 vCPU)


def test_node_pool_disruption_settings(kp: Recording):
    spec = kp.one(NODE_POOL).inputs["spec"]
    assert spec["disruption"] == {
        "consolidationPolicy": "WhenEmpty",
        "consolidateAfter": "30m",
        "budgets": [
            {"nodes": "1"},
            {"nodes": "0", "schedule": "0 9 * * mon-fri", "duration": "8h"},
        ],
    }
    assert spec["template"]["spec"]["expireAfter"] == "336h"


def test_node_pool_taint_labels_and_requirements(kp: Recording):
    template = kp.one(NODE_POOL).inputs["spec"]["template"]
    assert template["spec"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
    ]
    labels = template["metadata"]["labels"]
    assert labels["mlops/gpu-pool"] == "training"
    assert labels["k8s.amazonaws.com/accelerator"] == "nvidia-a100-40gb"
    assert labels["nvidia.com/mig.config"] == "all-1g.5gb"
    requirements = {r["key"]: r["values"] for r in template["spec"]["requirements"]}
    assert requirements["node.kubernetes.io/instance-type"] == ["p4d.24xlarge"]
    assert requirements["karpenter.sh/capacity-type"] == ["spot"]
    assert requirements["kubernetes.io/arch"] == ["amd64"]
    assert template["spec"]["nodeClassRef"]["name"] == kp.one(NODE_CLASS).inputs["metadata"]["name"]


def test_node_class_pins_ami_and_hardens_nodes(kp: Recording):
    spec = kp.one(NODE_CLASS).inputs["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": "al2023@v" + GPU_NODE_AMI_RELEASE[-8:]}]
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1  # pods cannot reach IMDS
    [device] = spec["blockDeviceMappings"]
    assert device["ebs"]["encrypted"] is True
    assert device["ebs"]["volumeSize"] == "200Gi"
    assert spec["role"] == "mlops-prod-karpenter-node"
    discovery = [{"tags": {"karpenter.sh/discovery": "mlops-prod"}}]
    assert spec["subnetSelectorTerms"] == discovery
    assert spec["securityGroupSelectorTerms"] == discovery
    assert spec["associatePublicIPAddress"] is False


def test_node_class_resolves_role_and_key_given_as_outputs():
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = karpenter(
            kubernetes_provider=provider,
            karpenter_node_role_name=pulumi.Output.from_input("node-role-from-output"),
            root_volume_kms_key_arn=pulumi.Output.from_input("arn:aws:kms:us-east-1:1:key/k"),
        )
        GpuNodePool("training", args)

    spec = run_program(program).one(NODE_CLASS).inputs["spec"]
    assert spec["role"] == "node-role-from-output"
    assert spec["blockDeviceMappings"][0]["ebs"]["kmsKeyID"] == "arn:aws:kms:us-east-1:1:key/k"


def test_karpenter_objects_use_the_cluster_provider(kp: Recording):
    provider = kp.one("pulumi:providers:kubernetes")
    for token in (NODE_POOL, NODE_CLASS):
        assert (kp.one(token).provider or "").startswith(provider.urn)
    assert kp.of_type(NODE_GROUP) == []


def test_capacity_reservation_on_karpenter():
    rec = run_pool(
        karpenter(
            capacity_type=CapacityType.ON_DEMAND,
            sharing=None,
            capacity_reservation_id="cr-0123456789abcdef0",
        ),
        k8s_provider=True,
    )
    spec = rec.one(NODE_CLASS).inputs["spec"]
    assert spec["capacityReservationSelectorTerms"] == [{"id": "cr-0123456789abcdef0"}]
    requirements = rec.one(NODE_POOL).inputs["spec"]["template"]["spec"]["requirements"]
    capacity = next(r for r in requirements if r["key"] == "karpenter.sh/capacity-type")
    assert capacity["values"] == ["reserved", "on-demand"]


def test_ami_alias_follows_the_release_pin():
    assert karpenter_ami_alias(AmiType.AL2023_X86_64_NVIDIA, "1.34.7-20260512") == (
        "al2023@v20260512"
    )
    assert karpenter_ami_alias(AmiType.BOTTLEROCKET_X86_64_NVIDIA, "1.50.0-a1b2c3d4") == (
        "bottlerocket@v1.50.0"
    )


# --- bad input ----------------------------------------------------------------------------


def problems(args: GpuNodePoolArgs) -> dict[str, str]:
    return {p.arg: p.allowed for p in validate_pool(args)}


def test_bad_input_raises_once_before_any_child_is_registered():
    monitor = RecordingMonitor(PlatformMocks())

    def program() -> None:
        GpuNodePool("bad", managed(instance_types=["g5.huge", "m5.large"], min_size=3, max_size=2))

    with pytest.raises(ComponentInputError) as caught:
        run_program(program, monitor=monitor)
    message = str(caught.value)
    assert "instance_types[0]" in message
    assert "instance_types[1]" in message
    assert "min_size" in message
    registered = {r.request["type"] for r in monitor.registrations}
    assert registered <= {"pulumi:pulumi:Stack", "mlops:index:GpuNodePool"}


def test_unknown_instance_type():
    found = problems(managed(instance_types=["g5.huge", "g5.xlarge"]))
    assert "unknown instance type" in found["instance_types[0]"]
    assert "g5.xlarge" in found["instance_types[0]"]  # names the known sizes
    assert "instance_types[1]" not in found


def test_cpu_only_instance_in_a_gpu_pool():
    found = problems(managed(instance_types=["g5.xlarge", "m7i.large"]))
    assert "CPU-only" in found["instance_types[1]"]
    found = problems(managed(instance_types=["inf2.xlarge", "g5.xlarge"]))
    assert "not supported" in found["instance_types[0]"]


def test_mig_on_a_gpu_without_mig():
    found = problems(
        managed(sharing=GpuSharing(mig_strategy=MigStrategy.SINGLE, mig_profile="1g.10gb"))
    )
    assert "has no MIG" in found["sharing.mig_profile"]
    assert problems(karpenter()) == {}  # p4d (A100) with 1g.5gb passes


def test_mig_profile_of_another_gpu():
    found = problems(
        karpenter(sharing=GpuSharing(mig_strategy=MigStrategy.SINGLE, mig_profile="1g.18gb"))
    )
    assert "1g.5gb" in found["sharing.mig_profile"]  # lists A100-40GB profiles


def test_time_slicing_and_mig_on_one_pool():
    both = GpuSharing(
        time_slicing_replicas=4, mig_strategy=MigStrategy.SINGLE, mig_profile="1g.5gb"
    )
    found = problems(karpenter(sharing=both))
    assert "cannot both" in found["sharing"]


def test_time_slicing_replicas_bounds():
    found = problems(managed(sharing=GpuSharing(time_slicing_replicas=1)))
    assert "sharing.time_slicing_replicas" in found
    assert problems(managed(sharing=GpuSharing(time_slicing_replicas=2))) == {}


def test_min_greater_than_max():
    found = problems(managed(min_size=3, desired_size=3, max_size=2))
    assert "must not exceed max_size" in found["min_size"]
    assert problems(managed(min_size=2, desired_size=2, max_size=2)) == {}


def test_desired_outside_bounds():
    assert "desired_size" in problems(managed(min_size=0, desired_size=5, max_size=2))


def test_karpenter_keeps_no_minimum():
    found = problems(karpenter(min_size=1, desired_size=1))
    assert "keeps no minimum" in found["min_size"]


def test_ami_architecture_must_match_instances():
    found = problems(managed(instance_types=["g5g.xlarge", "g5g.2xlarge"]))
    assert "arm64" in found["ami_type"]


def test_release_version_is_pinned_and_matches_the_cluster():
    assert (
        "pinned AL2023 release"
        in problems(managed(ami_release_version="latest"))["ami_release_version"]
    )
    found = problems(managed(ami_release_version="1.33.5-20260512"))
    assert "Kubernetes 1.33" in found["ami_release_version"]
    bottlerocket = managed(ami_type=AmiType.BOTTLEROCKET_X86_64_NVIDIA)
    assert "Bottlerocket" in problems(bottlerocket)["ami_release_version"]


def test_efa_needs_capable_types_a_managed_group_and_a_security_group():
    found = problems(managed(efa=True))
    assert "g6.xlarge" in found["efa"]
    assert "security_group_ids" in found
    found = problems(karpenter(efa=True, instance_types=["p5.48xlarge"], sharing=None))
    assert "managed-node-group" in found["efa"]


def test_capacity_reservation_rules():
    found = problems(managed(capacity_reservation_id="cr-0123456789abcdef0"))
    assert "on-demand" in found["capacity_type"]
    found = problems(
        managed(capacity_type=CapacityType.ON_DEMAND, capacity_block=True, sharing=None)
    )
    assert "capacity_reservation_id" in found["capacity_block"]
    assert "one instance type" in found["instance_types"]
    assert "capacity_reservation_id" in problems(
        managed(capacity_type=CapacityType.ON_DEMAND, capacity_reservation_id="r-1")
    )


def test_engine_specific_required_inputs():
    found = problems(managed(node_role_arn=None, subnet_ids=None))
    assert set(found) >= {"node_role_arn", "subnet_ids"}
    found = problems(karpenter(karpenter_node_role_name=None, kubernetes_provider=None))
    assert set(found) >= {"karpenter_node_role_name", "kubernetes_provider"}


def test_karpenter_disruption_values():
    bad = KarpenterDisruption(
        consolidate_after="ten minutes",
        expire_after="720",
        budgets=(DisruptionBudget(nodes="ten"), DisruptionBudget(schedule="@daily")),
    )
    found = problems(karpenter(disruption=bad))
    assert set(found) >= {
        "disruption.consolidate_after",
        "disruption.expire_after",
        "disruption.budgets[0].nodes",
        "disruption.budgets[1].schedule",
    }


def test_root_volume_and_pool_name():
    found = problems(managed(root_volume_gib=20, pool_name="Not_Valid"))
    assert set(found) >= {"root_volume_gib", "pool_name"}
