"""Every public component takes the documented plain values of its enum arguments, checks
shapes with one message per argument, and refuses an EKS cluster ARN as a cluster name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pulumi_kubernetes as k8s
import pytest
from mlops_platform.cluster import ServingCluster, SupportType
from mlops_platform.core.coercion import allowed_values, coerce_args
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.gpu import ClusterAutoscaler, GpuNodePool, NvidiaSoftware
from mlops_platform.gpu.cluster_autoscaler import Expander
from mlops_platform.gpu.node_pool import CapacityType, ConsolidationPolicy, PoolEngine, Workload
from mlops_platform.gpu.nvidia import MigStrategy, NvidiaMode
from mlops_platform.network import NatStrategy, Network
from mlops_platform.observability import Observability
from mlops_platform.observability.observability import ReceiverType
from mlops_platform.serving import ModelEndpoint
from mlops_platform.serving.model_endpoint import ServerKind
from mlops_platform.storage import ArtifactStore, ArtifactStoreArgs, ContainerRegistry
from mlops_platform.storage.artifact_store import ObjectLockMode, StorageClass
from mlops_platform.storage.container_registry import ScanFrequency, Upstream

from scripts.offline import run_program
from scripts.offline.engine import plain
from tests.unit import test_cluster_autoscaler as ca_tests
from tests.unit import test_container_registry as ecr_tests
from tests.unit import test_gpu_node_pool as pool_tests
from tests.unit import test_network as network_tests
from tests.unit import test_observability as obs_tests
from tests.unit import test_serving_cluster as cluster_tests
from tests.unit.test_nvidia import NOTEBOOKS, TRAINING


def _signature(program: Callable[[], Any], stack: str = "test") -> list[tuple[str, str, Any]]:
    rec = run_program(program, stack=stack)
    return [(r.type, r.name, plain(r.inputs)) for r in rec.created()]


def _with_k8s(build: Callable[[k8s.Provider], None]) -> Callable[[], None]:
    return lambda: build(k8s.Provider("k8s", kubeconfig="{}"))


def _pool(engine: Any, capacity: Any, workload: Any, policy: Any) -> Any:
    args = pool_tests.karpenter()

    def build(provider: k8s.Provider) -> None:
        GpuNodePool(
            "pool",
            dataclasses.replace(
                args,
                engine=engine,
                capacity_type=capacity,
                workload=workload,
                kubernetes_provider=provider,
                disruption=dataclasses.replace(args.disruption, consolidation_policy=policy),
            ),
        )

    return _with_k8s(build)


def _nvidia(mode: Any, strategy: Any) -> Any:
    def build(provider: k8s.Provider) -> None:
        from mlops_platform.gpu import NvidiaSoftwareArgs  # noqa: PLC0415

        NvidiaSoftware(
            "nvidia",
            NvidiaSoftwareArgs(
                kubernetes_provider=provider,
                mode=mode,
                sharing={
                    "notebooks": NOTEBOOKS,
                    "training": dataclasses.replace(TRAINING, mig_strategy=strategy),
                },
            ),
        )

    return _with_k8s(build)


def _endpoint(server: Any) -> Any:
    from tests.unit import test_model_endpoint as endpoint_tests  # noqa: PLC0415

    return _with_k8s(lambda p: ModelEndpoint("chat", endpoint_tests._args(p, server=server)))


# (id, program with enum members, the same program with the documented strings)
CASES: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
    (
        "Network",
        lambda: Network("net", network_tests.small(nat_strategy=NatStrategy.PER_AZ)),
        lambda: Network("net", network_tests.small(nat_strategy="per-az")),
    ),
    (
        "ServingCluster",
        lambda: ServingCluster("eks", cluster_tests.base_args(support_type=SupportType.EXTENDED)),
        lambda: ServingCluster("eks", cluster_tests.base_args(support_type="EXTENDED")),
    ),
    (
        "GpuNodePool",
        _pool(
            PoolEngine.KARPENTER,
            CapacityType.SPOT,
            Workload.TRAINING,
            ConsolidationPolicy.WHEN_EMPTY,
        ),
        _pool("karpenter", "spot", "training", "WhenEmpty"),
    ),
    (
        "NvidiaSoftware",
        _nvidia(NvidiaMode.GPU_OPERATOR, MigStrategy.SINGLE),
        _nvidia("gpu-operator", "single"),
    ),
    (
        "ClusterAutoscaler",
        _with_k8s(
            lambda p: ClusterAutoscaler("ca", ca_tests._args(expander=Expander.MOST_PODS)(p))
        ),
        _with_k8s(lambda p: ClusterAutoscaler("ca", ca_tests._args(expander="most-pods")(p))),
    ),
    (
        "ArtifactStore",
        lambda: ArtifactStore(
            "store",
            ArtifactStoreArgs(
                name_prefix="team-test",
                transition_storage_class=StorageClass.GLACIER_IR,
                object_lock_mode=ObjectLockMode.GOVERNANCE,
                object_lock_purposes=["models"],
            ),
        ),
        lambda: ArtifactStore(
            "store",
            ArtifactStoreArgs(
                name_prefix="team-test",
                transition_storage_class="GLACIER_IR",
                object_lock_mode="GOVERNANCE",
                object_lock_purposes=["models"],
            ),
        ),
    ),
    (
        "ContainerRegistry",
        lambda: ContainerRegistry(
            "ecr",
            ecr_tests._args(
                enhanced_scan_frequency=ScanFrequency.SCAN_ON_PUSH,
                pull_through_cache=[Upstream.QUAY],
            ),
        ),
        lambda: ContainerRegistry(
            "ecr",
            ecr_tests._args(
                enhanced_scan_frequency=ScanFrequency.SCAN_ON_PUSH.value,
                pull_through_cache=["quay"],
            ),
        ),
    ),
    ("ModelEndpoint", _endpoint(ServerKind.TRITON), _endpoint("triton")),
    (
        "Observability",
        _with_k8s(lambda p: Observability("obs", obs_tests._args(receivers=[ReceiverType.SNS])(p))),
        _with_k8s(lambda p: Observability("obs", obs_tests._args(receivers=["sns"])(p))),
    ),
]


@pytest.mark.parametrize(
    ("typed", "plain_values"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plain_strings_build_exactly_what_the_enums_build(typed, plain_values):
    expected = _signature(typed)
    assert len(expected) > 1
    assert _signature(plain_values) == expected


def test_a_bad_enum_string_names_the_argument_and_every_allowed_value():
    args = ArtifactStoreArgs(name_prefix="team-test", transition_storage_class="COLD")
    with pytest.raises(ComponentInputError) as error:
        run_program(lambda: ArtifactStore("store", args))
    message = str(error.value)
    assert "transition_storage_class" in message and '"COLD"' in message
    assert allowed_values(StorageClass) in message
    assert "one of: STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER" in message


def test_a_string_where_a_list_belongs_is_one_problem():
    args = ArtifactStoreArgs(name_prefix="team-test", purposes="models")
    with pytest.raises(ComponentInputError) as error:
        run_program(lambda: ArtifactStore("store", args))
    assert len(error.value.problems) == 1
    (problem,) = error.value.problems
    assert problem.arg == "purposes"
    assert "not a single string" in problem.allowed and "['models']" in problem.allowed


def test_list_items_of_an_enum_type_are_named_by_index():
    args = ecr_tests._args(pull_through_cache=["quay", "dockerhub"])
    with pytest.raises(ComponentInputError) as error:
        run_program(lambda: ContainerRegistry("ecr", args))
    [problem] = [p for p in error.value.problems if p.arg.startswith("pull_through_cache")]
    assert problem.arg == "pull_through_cache[1]"
    assert problem.allowed == allowed_values(Upstream)


def test_a_cluster_arn_as_cluster_name_is_refused_with_the_name():
    arn = "arn:aws:eks:us-east-1:123456789012:cluster/mlops-dev"
    with pytest.raises(ComponentInputError) as error:
        run_program(lambda: GpuNodePool("pool", pool_tests.managed(cluster_name=arn)))
    [problem] = [p for p in error.value.problems if p.arg == "cluster_name"]
    assert "not its ARN" in problem.allowed and "'mlops-dev'" in problem.allowed


def test_several_shape_problems_come_in_one_message():
    args = pool_tests.managed(instance_types="g6.xlarge", capacity_type="cheap", workload="x")
    with pytest.raises(ComponentInputError) as error:
        run_program(lambda: GpuNodePool("pool", args))
    names = [p.arg for p in error.value.problems]
    assert {"instance_types", "capacity_type", "workload"} <= set(names)
    assert names.count("instance_types") == 1


def test_coerce_args_leaves_typed_args_untouched():
    args = ArtifactStoreArgs(name_prefix="team-test")
    same, problems = coerce_args(args)
    assert same is args and problems == []
