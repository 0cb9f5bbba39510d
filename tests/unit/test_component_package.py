"""The component package: the provider host starts as the engine starts it and answers
GetSchema over its gRPC protocol with every public component, documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from scripts import package_docs
from tests.conftest import REPO_ROOT

PLUGIN_DIR = REPO_ROOT / "components"
PUBLIC = {
    "Network",
    "ServingCluster",
    "PlatformIam",
    "GpuNodePool",
    "ArtifactStore",
    "ContainerRegistry",
    "ModelRegistry",
    "Observability",
    "Karpenter",
    "ClusterAutoscaler",
    "NvidiaSoftware",
    "DeployRunner",
    "LoadBalancerController",
    "Keda",
    "Tenant",
    "ModelEndpoint",
}


@pytest.fixture(scope="module")
def served_schema() -> Iterator[dict[str, Any]]:
    # As the Python language host runs a plugin (``python <plugin dir> <engine address>``, its
    # RunPlugin for a directory with a __main__.py and no pyproject.toml): the
    # engine's address as the argument, the port on the first stdout line. GetSchema needs no
    # engine (the SDK's ProviderServicer answers it from the analysed components), so the
    # address points at a port nothing listens on.
    process = subprocess.Popen(
        [sys.executable, str(PLUGIN_DIR), "127.0.0.1:9"],
        cwd=PLUGIN_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.isdigit():
            process.kill()
            _, err = process.communicate(timeout=30)
            pytest.fail(f"the provider host did not print a port: {line!r}\n{err[-3000:]}")
        with grpc.insecure_channel(f"127.0.0.1:{line}") as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=120)
        yield json.loads(response.schema)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_plugin_manifest_and_entry_point():
    manifest = (PLUGIN_DIR / "PulumiPlugin.yaml").read_text(encoding="utf-8")
    assert re.search(r"^runtime: python$", manifest, re.MULTILINE)
    assert (PLUGIN_DIR / "__main__.py").is_file()


def test_plugin_requirements_are_pyprojects_ranges():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = set(pyproject["project"]["dependencies"])
    lines = (PLUGIN_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines()
    wanted = [line for line in lines if line and not line.startswith("#")]
    assert wanted and set(wanted) <= declared, set(wanted) - declared


def test_schema_has_every_public_component_documented(served_schema):
    assert served_schema["name"] == "mlops"
    resources = served_schema["resources"]
    assert {f"mlops:index:{name}" for name in PUBLIC} <= set(resources)
    assert "mlops:index:MlopsPlatform" not in resources  # built from stack config, not args
    for token, resource in resources.items():
        assert resource["isComponent"] is True, token
        assert resource.get("description"), token
        inputs, outputs = resource["inputProperties"], resource["properties"]
        assert inputs and outputs, token
        undocumented = [k for k, p in {**inputs, **outputs}.items() if not p.get("description")]
        assert undocumented == [], f"{token}: {undocumented}"
        assert set(resource.get("requiredInputs", [])) <= set(inputs), token
    pool = resources["mlops:index:GpuNodePool"]
    assert {"clusterName", "instanceTypes", "workload", "namePrefix"} <= set(pool["requiredInputs"])
    assert "kubernetesProvider" not in pool["inputProperties"]  # from resource options
    assert pool["inputProperties"]["capacityType"]["$ref"].endswith(":CapacityType")
    capacity = served_schema["types"]["mlops:index:CapacityType"]
    assert {e["value"] for e in capacity["enum"]} == {"on-demand", "spot"}
    assert resources["mlops:index:ArtifactStore"]["properties"]["bucketNames"]["type"] == "object"


def test_schema_doc_is_the_served_schema(served_schema):
    assert package_docs.package_schema() == served_schema
    assert package_docs.main(["--check"]) == 0, "run: python -m scripts.package_docs"


def test_the_package_version_is_pyprojects_and_the_changelogs_latest():
    import mlops_platform  # noqa: PLC0415

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    version = pyproject["project"]["version"]
    assert mlops_platform.__version__ == version
    changelog = (REPO_ROOT / "docs" / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE)
    assert releases and releases[0] == version, "the newest CHANGELOG entry is the version"


def _hosted(name: str) -> Any:
    from mlops_platform.provider import hosted_components  # noqa: PLC0415

    return next(c for c in hosted_components() if c.__name__ == name)


def test_a_hosted_component_builds_from_the_inputs_dict_the_host_passes():
    # What Construct hands the class: python names, nested types as dicts, enum values.
    from scripts.offline import run_program  # noqa: PLC0415

    store, sharing = _hosted("ArtifactStore"), _hosted("NvidiaSoftware")

    def program() -> None:
        import pulumi  # noqa: PLC0415
        import pulumi_kubernetes as k8s  # noqa: PLC0415

        store("store", {"name_prefix": "team-dev", "transition_storage_class": "GLACIER_IR"})
        provider = k8s.Provider("k8s", kubeconfig="{}")
        sharing(
            "nvidia",
            {"sharing": {"notebooks": {"time_slicing_replicas": 4}}},
            pulumi.ResourceOptions(providers={"kubernetes": provider}),
        )

    rec = run_program(program)
    lifecycle = rec.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert "GLACIER_IR" in json.dumps([r.inputs for r in lifecycle])
    assert rec.one("mlops:index:NvidiaSoftware", "nvidia")


def test_a_hosted_kubernetes_component_without_a_provider_is_told_where_it_goes():
    from mlops_platform.core.validation import ComponentInputError  # noqa: PLC0415

    from scripts.offline import run_program  # noqa: PLC0415

    with pytest.raises(ComponentInputError, match='providers=\\{"kubernetes"'):
        run_program(lambda: _hosted("NvidiaSoftware")("nvidia", {}))
