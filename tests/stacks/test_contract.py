"""The platform's outputs are a contract: the program exports exactly the documented names,
a team stack reads them typed through a StackReference, and docs/outputs.md is current."""

from __future__ import annotations

import pulumi
import pytest
from mlops_platform.contract import CONTRACT_VERSION, OUTPUT_NAMES, OUTPUTS, PlatformOutputs
from mlops_platform.testing import PlatformMocks, stack_reference_state

from scripts import package_docs
from scripts.offline import run_program

ALWAYS = {o.name for o in OUTPUTS if o.when is None}


@pytest.mark.slow
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_program_exports_exactly_the_contract(synthesized, stack):
    exported = set(synthesized(stack).outputs)
    assert exported - OUTPUT_NAMES == set(), "exported but not in mlops_platform.contract.OUTPUTS"
    assert ALWAYS - exported == set(), "in the contract as always exported, but missing"
    assert synthesized(stack).outputs["contractVersion"] == CONTRACT_VERSION


def test_outputs_doc_is_current():
    assert package_docs.main(["--check"]) == 0, "run: python -m scripts.package_docs"


def _platform(outputs: dict) -> PlatformMocks:
    """Mocks that answer a StackReference to <org>/mlops/dev with ``outputs``."""
    return PlatformMocks(stack_references={"mlops/dev": stack_reference_state(outputs)})


def test_a_team_stack_reads_typed_outputs(synthesized):
    platform_outputs = synthesized("dev").outputs  # the dev stack's real exports
    seen: dict = {}

    def program() -> None:
        platform = PlatformOutputs.from_stack("org/mlops/dev")
        platform.require().apply(lambda v: seen.__setitem__("version", v))
        platform.cluster_name.apply(lambda v: seen.__setitem__("cluster", v))
        platform.private_subnet_ids.apply(lambda v: seen.__setitem__("subnets", v))
        platform.artifact_buckets.apply(lambda v: seen.__setitem__("buckets", v))

    run_program(program, mocks=_platform(platform_outputs))
    assert seen["version"] == CONTRACT_VERSION
    assert seen["cluster"] == platform_outputs["clusterName"]
    assert seen["subnets"] == platform_outputs["privateSubnetIds"]
    assert set(seen["buckets"]) >= {"models", "datasets"}


def test_a_name_outside_the_contract_is_refused():
    reference: pulumi.StackReference | None = None
    with pytest.raises(KeyError, match="not a platform output"):
        PlatformOutputs(reference).output("clusterNmae")  # type: ignore[arg-type]


def test_another_major_version_fails_the_team_preview():
    def program() -> None:
        PlatformOutputs.from_stack("org/mlops/dev").require()

    with pytest.raises(Exception, match="output contract"):
        run_program(program, mocks=_platform({"contractVersion": "2.0"}))
