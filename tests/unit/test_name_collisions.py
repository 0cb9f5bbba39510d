"""Two instances of a component in one stack never collide on a physical name: the same
name_prefix fails the preview naming both instances; different prefixes build side by side."""

from __future__ import annotations

import dataclasses

import pytest
from mlops_platform.core.naming import NameCollisionError, NameKind, claim_name
from mlops_platform.gpu import GpuNodePool
from mlops_platform.storage import (
    ArtifactStore,
    ArtifactStoreArgs,
    ContainerRegistry,
    ContainerRegistryArgs,
)

from scripts.offline import run_program
from tests.unit.test_gpu_node_pool import managed


def _collision(program) -> NameCollisionError:
    with pytest.raises(NameCollisionError) as error:
        run_program(program)
    return error.value


def test_two_artifact_stores_with_one_prefix_fail_naming_both():
    def program() -> None:
        ArtifactStore("team-a", ArtifactStoreArgs(name_prefix="ml-dev"))
        ArtifactStore("team-b", ArtifactStoreArgs(name_prefix="ml-dev"))

    error = _collision(program)
    assert error.owners == ("ArtifactStore 'team-a'", "ArtifactStore 'team-b'")
    assert "ArtifactStore 'team-a'" in str(error) and "ArtifactStore 'team-b'" in str(error)
    assert error.kind is NameKind.KMS_ALIAS and error.physical_name == "ml-dev-artifacts"
    assert "name_prefix" in str(error)


def test_two_container_registries_with_one_prefix_fail_naming_both():
    def program() -> None:
        ContainerRegistry("a", ContainerRegistryArgs(name_prefix="ml-dev", repositories=["server"]))
        ContainerRegistry("b", ContainerRegistryArgs(name_prefix="ml-dev", repositories=["worker"]))

    error = _collision(program)
    assert error.owners == ("ContainerRegistry 'a'", "ContainerRegistry 'b'")


def test_two_gpu_node_pools_with_one_prefix_and_pool_name_fail_naming_both():
    args = managed()

    def program() -> None:
        GpuNodePool("pool-a", args)
        GpuNodePool("pool-b", args)

    error = _collision(program)
    assert error.owners == ("GpuNodePool 'pool-a'", "GpuNodePool 'pool-b'")
    assert error.kind is NameKind.LAUNCH_TEMPLATE


def test_different_prefixes_and_pool_names_live_side_by_side():
    def program() -> None:
        ArtifactStore("team-a", ArtifactStoreArgs(name_prefix="team-a-dev"))
        ArtifactStore("team-b", ArtifactStoreArgs(name_prefix="team-b-dev"))
        ContainerRegistry(
            "a", ContainerRegistryArgs(name_prefix="team-a-dev", repositories=["server"])
        )
        ContainerRegistry(
            "b", ContainerRegistryArgs(name_prefix="team-b-dev", repositories=["server"])
        )
        GpuNodePool("pool-a", managed())
        GpuNodePool("pool-b", dataclasses.replace(managed(), pool_name="batch"))

    rec = run_program(program)
    aliases = [r.inputs["name"] for r in rec.of_type("aws:kms/alias:Alias")]
    assert len(aliases) == len(set(aliases)) == 4


def test_each_program_run_starts_with_no_claims():
    # The same program twice (two previews, two tests) is not a collision with itself.
    def program() -> None:
        ArtifactStore("store", ArtifactStoreArgs(name_prefix="ml-dev"))

    run_program(program)
    run_program(program)


def test_the_same_owner_may_claim_a_name_again():
    def program() -> None:
        claim_name("x", NameKind.IAM_ROLE, "Thing 'a'")
        claim_name("x", NameKind.IAM_ROLE, "Thing 'a'")
        claim_name("x", NameKind.KMS_ALIAS, "Thing 'b'")  # another kind: another namespace

    run_program(program)
