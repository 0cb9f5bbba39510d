"""The GPU section of the stack config: pool defaults per profile, sharing, engines and guards.

Each case starts from a real stack file, changes the GPU section, and checks that loading
fails naming the key path (or, for the passing twin, that it loads).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mlops_platform.config import ConfigError, EnvironmentConfig, environment_from_config
from mlops_platform.gpu.node_pool import DEFAULT_AMI_RELEASE_VERSION, AmiType, ConsolidationPolicy
from mlops_platform.gpu.nvidia import NvidiaMode

from scripts.offline.project import load_stack_config


def load(stack: str, change: Callable[[dict[str, Any]], None] | None = None) -> EnvironmentConfig:
    values = dict(load_stack_config(stack).values)
    gpu = json.loads(values["mlops:gpu"])
    if change:
        change(gpu)
    values["mlops:gpu"] = json.dumps(gpu)
    return environment_from_config(values, stack)


def failure(stack: str, change: Callable[[dict[str, Any]], None]) -> str:
    with pytest.raises(ConfigError) as caught:
        load(stack, change)
    return str(caught.value)


def pool(gpu: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return gpu["pools"][index]


A100_POOL = {
    "name": "training",
    "workload": "training",
    "instanceTypes": ["p4d.24xlarge"],
    "capacityType": "on-demand",
    "minSize": 0,
    "desiredSize": 0,
    "maxSize": 1,
}


def with_training_pool(gpu: dict[str, Any], **extra: Any) -> None:
    gpu["pools"] = [pool(gpu, 0), {**A100_POOL, **extra}]


# --- defaults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "policy", "after", "expire"),
    [
        ("dev", ConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED, "5m", "168h"),
        ("test", ConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED, "15m", "336h"),
        ("prod", ConsolidationPolicy.WHEN_EMPTY, "30m", "720h"),
    ],
)
def test_profiles_give_pools_their_disruption_defaults(stack, policy, after, expire):
    config = load(stack)
    for effective in config.gpu.effective_pools():
        assert effective.disruption is not None
        assert effective.disruption.consolidation_policy is policy
        assert effective.disruption.consolidate_after == after
        assert effective.disruption.expire_after == expire
        assert effective.ami_type is AmiType.AL2023_X86_64_NVIDIA
        assert effective.ami_release_version == DEFAULT_AMI_RELEASE_VERSION
        assert effective.root_volume_gib == 200


def test_a_pool_overrides_a_default():
    def change(gpu: dict[str, Any]) -> None:
        pool(gpu).update(rootVolumeGiB=500, maxUnavailable=3)

    [first, *_] = load("dev", change).gpu.effective_pools()
    assert first.root_volume_gib == 500
    assert first.max_unavailable == 3


def test_nvidia_and_karpenter_defaults():
    gpu = load("test").gpu
    assert gpu.nvidia.mode is NvidiaMode.DEVICE_PLUGIN
    assert gpu.nvidia.dcgm_exporter is True
    assert gpu.karpenter.chart_version == "1.12.1"


def test_unknown_pool_key_lists_the_new_keys():
    message = failure("dev", lambda gpu: pool(gpu).update(rootVolumeGib=100))
    assert "mlops:gpu.pools[0].rootVolumeGib" in message
    assert "rootVolumeGiB" in message
    assert "capacityReservationId" in message


# --- sharing ------------------------------------------------------------------------------


def test_time_slicing_passes_on_any_gpu():
    config = load("dev", lambda gpu: pool(gpu).update(sharing={"timeSlicing": {"replicas": 4}}))
    sharing = config.gpu.pools[0].sharing
    assert sharing is not None
    assert sharing.time_slicing is not None
    assert sharing.time_slicing.replicas == 4


def test_time_slicing_replicas_bounds():
    message = failure("dev", lambda gpu: pool(gpu).update(sharing={"timeSlicing": {"replicas": 1}}))
    assert "mlops:gpu.pools[0].sharing.timeSlicing.replicas" in message


def test_mig_on_a_gpu_without_mig():
    def change(gpu: dict[str, Any]) -> None:
        gpu["nvidia"] = {"mode": "gpu-operator"}
        pool(gpu).update(sharing={"mig": {"profile": "1g.10gb"}})

    message = failure("dev", change)
    assert "mlops:gpu.pools[0].sharing.mig.profile" in message
    assert "has no MIG" in message


def test_mig_on_an_a100_with_the_operator_passes():
    def change(gpu: dict[str, Any]) -> None:
        gpu["nvidia"] = {"mode": "gpu-operator"}
        with_training_pool(gpu, sharing={"mig": {"strategy": "mixed", "profile": "3g.20gb"}})

    def allow(gpu: dict[str, Any]) -> None:
        change(gpu)
        gpu["allowedInstanceTypes"] = ["p4d.24xlarge", *pool(gpu)["instanceTypes"]]
        gpu["budgetGpus"] = 64

    config = load("test", allow)
    mig = config.gpu.pools[1].sharing.mig  # type: ignore[union-attr]
    assert mig is not None
    assert mig.profile == "3g.20gb"


def test_mig_profile_must_exist_on_the_gpu_and_needs_the_operator():
    def change(gpu: dict[str, Any]) -> None:
        with_training_pool(gpu, sharing={"mig": {"profile": "1g.18gb"}})
        gpu["allowedInstanceTypes"] = ["p4d.24xlarge", *pool(gpu)["instanceTypes"]]
        gpu["budgetGpus"] = 64

    message = failure("test", change)
    assert "mlops:gpu.pools[1].sharing.mig.profile" in message
    assert "1g.5gb" in message  # lists the A100-40GB profiles
    assert "mlops:gpu.nvidia.mode" in message


def test_time_slicing_and_mig_both_on_one_pool():
    def change(gpu: dict[str, Any]) -> None:
        gpu["nvidia"] = {"mode": "gpu-operator"}
        with_training_pool(
            gpu, sharing={"timeSlicing": {"replicas": 2}, "mig": {"profile": "1g.5gb"}}
        )
        gpu["allowedInstanceTypes"] = ["p4d.24xlarge", *pool(gpu)["instanceTypes"]]
        gpu["budgetGpus"] = 64

    message = failure("test", change)
    assert "mlops:gpu.pools[1].sharing" in message
    assert "cannot both" in message


# --- engines, AMIs, capacity --------------------------------------------------------------


def test_min_greater_than_max():
    message = failure("dev", lambda gpu: pool(gpu).update(minSize=3, desiredSize=3, maxSize=2))
    assert "mlops:gpu.pools[0].desiredSize" in message


def test_karpenter_pool_keeps_no_minimum():
    message = failure(
        "dev", lambda gpu: pool(gpu).update(engine="karpenter", minSize=1, desiredSize=1)
    )
    assert "mlops:gpu.pools[0].minSize" in message
    assert "keeps no minimum" in message
    load("dev", lambda gpu: pool(gpu).update(engine="karpenter"))  # min 0 passes


def test_ami_release_must_match_the_cluster_version():
    message = failure(
        "dev", lambda gpu: gpu.update(poolDefaults={"amiReleaseVersion": "1.33.5-20260512"})
    )
    assert "mlops:gpu.poolDefaults.amiReleaseVersion" in message
    assert "cluster.version is 1.34" in message
    message = failure("dev", lambda gpu: pool(gpu).update(amiReleaseVersion="latest"))
    assert "mlops:gpu.pools[0].amiReleaseVersion" in message


def test_sharing_needs_an_al2023_pool():
    message = failure(
        "dev",
        lambda gpu: gpu.update(
            poolDefaults={
                "amiType": "BOTTLEROCKET_x86_64_NVIDIA",
                "amiReleaseVersion": "1.50.0-a1b2c3d4",
            }
        ),
    )
    assert "mlops:gpu.pools[0].sharing" in message  # the dev notebooks pool time-slices
    assert "own NVIDIA device plugin" in message


def test_bottlerocket_needs_a_bottlerocket_release():
    message = failure("dev", lambda gpu: pool(gpu).update(amiType="BOTTLEROCKET_x86_64_NVIDIA"))
    assert "mlops:gpu.pools[0].amiReleaseVersion" in message
    load(
        "dev",
        lambda gpu: pool(gpu).update(
            amiType="BOTTLEROCKET_x86_64_NVIDIA", amiReleaseVersion="1.50.0-a1b2c3d4", sharing=None
        ),
    )


def test_ami_architecture_must_match_the_instances():
    message = failure("dev", lambda gpu: pool(gpu).update(amiType="AL2023_ARM_64_NVIDIA"))
    assert "mlops:gpu.pools[0].amiType" in message


def test_efa_needs_capable_types_on_a_managed_group():
    message = failure("dev", lambda gpu: pool(gpu).update(efa=True, engine="karpenter"))
    assert "mlops:gpu.pools[0].efa" in message
    assert "no EFA on: g6.xlarge" in message
    assert "managed-node-group" in message


def test_capacity_reservation_rules():
    message = failure(
        "dev", lambda gpu: pool(gpu).update(capacityReservationId="cr-0123456789abcdef0")
    )
    assert "mlops:gpu.pools[0].capacityType" in message  # the dev pool is spot
    message = failure(
        "dev", lambda gpu: pool(gpu).update(capacityType="on-demand", capacityBlock=True)
    )
    assert "mlops:gpu.pools[0].capacityReservationId" in message
    assert "mlops:gpu.pools[0].instanceTypes" in message
    load(
        "dev",
        lambda gpu: pool(gpu).update(
            capacityType="on-demand",
            capacityReservationId="cr-0123456789abcdef0",
            capacityBlock=True,
            instanceTypes=["g6.xlarge"],
        ),
    )


def test_disruption_values_are_checked():
    message = failure(
        "dev",
        lambda gpu: pool(gpu).update(
            disruption={
                "consolidationPolicy": "Always",
                "consolidateAfter": "soon",
                "expireAfter": "720h",
                "budgets": [],
            }
        ),
    )
    for key in ("consolidationPolicy", "consolidateAfter", "budgets"):
        assert f"mlops:gpu.pools[0].disruption.{key}" in message


def test_budget_and_allowlist_still_apply_to_new_pools():
    def change(gpu: dict[str, Any]) -> None:
        with_training_pool(gpu, maxSize=8)

    message = failure("test", change)
    assert "mlops:gpu.pools[1].instanceTypes[0]" in message  # p4d not in the test allowlist
    assert "gpu.budgetGpus" in message
