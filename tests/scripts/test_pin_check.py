"""preflight pin check: pins read from the preview, checked against recorded upstream answers.

EKS add-on versions and SSM public parameters are served by ``pin_sources`` (moto has
neither ``eks:DescribeAddonVersions`` nor the EKS AMI public parameters) in their real wire
protocols; chart indexes and an OCI registry come from the same 127.0.0.1 server. STS and
everything else go to the moto server of ``moto_endpoint``. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.pin_check import newest, parse_mapping, pins_from_resources, version_key
from scripts.preflight import main
from tests.scripts.pin_sources import PinSources, load_fixture, serve

KNOWN_WRONG = {
    ("node-ami", "1.34.2-20260128"): "1.34.9-20260714",
    ("node-ami", "1.34.7-20260512"): "1.34.9-20260714",
    ("karpenter-ami", "v20260512"): "1.34.9-20260714",
    ("helm-chart", "4.8.3"): "4.8.2",
}
"""Pins shipped before the pin fixes (/work research: abandoned or unpublished upstream),
each with the newest valid version the check must name. Once fixed they are no longer
in the preview and every shipped pin must pass."""


@pytest.fixture
def sources(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[PinSources]:
    """The fixture server, with EKS and SSM pointed at it (everything else at moto)."""
    with serve() as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", running.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", running.url)
        yield running


def _checks(out: str) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(out)["checks"]}


def _preview(tmp_path: Path, resources: list[dict[str, Any]], stack: str = "dev") -> str:
    path = tmp_path / "preview.json"
    path.write_text(json.dumps({"stack": stack, "resources": resources}), encoding="utf-8")
    return str(path)


def _pins(run_cli, tmp_path: Path, resources: list[dict[str, Any]], *extra: str):
    """``preflight --stack dev --pins-only --json`` over a preview of ``resources``."""
    preview = _preview(tmp_path, resources)
    return run_cli(
        main, "--stack", "dev", "--pins-only", "--json", "--preview-json", preview, *extra
    )


def _res(type_: str, resource: str, **inputs: Any) -> dict[str, Any]:
    return {"type": type_, "name": resource, "inputs": inputs}


CLUSTER = _res("aws:eks/cluster:Cluster", "cluster", name="c-eks", version="1.34")


def _addon(name: str, version: str) -> dict[str, Any]:
    return _res(
        "aws:eks/addon:Addon", name, clusterName="c-eks", addonName=name, addonVersion=version
    )


def _node_group(name: str, ami_type: str, release: str) -> dict[str, Any]:
    return _res(
        "aws:eks/nodeGroup:NodeGroup",
        name,
        clusterName="c-eks",
        amiType=ami_type,
        releaseVersion=release,
        version="1.34",
    )


def _chart(name: str, chart: str, version: str, repo: str | None = None) -> dict[str, Any]:
    opts = {"repositoryOpts": {"repo": repo}} if repo else {}
    return _res("kubernetes:helm.sh/v3:Release", name, chart=chart, version=version, **opts)


def _node_class(alias: str, instance_types: list[str]) -> list[dict[str, Any]]:
    node_class = _res(
        "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
        "gpu-class",
        metadata={"name": "gpu"},
        spec={"amiSelectorTerms": [{"alias": alias}]},
    )
    requirements = [
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": instance_types},
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
    ]
    pool = _res(
        "kubernetes:karpenter.sh/v1:NodePool",
        "gpu-pool",
        spec={
            "template": {"spec": {"nodeClassRef": {"name": "gpu"}, "requirements": requirements}}
        },
    )
    return [node_class, pool]


# --- the shipped stacks ----------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_shipped_pins_pass_against_the_recorded_fixtures(
    stack, sources, run_cli, cli_synthesis, monkeypatch
):
    """Every pin the stack deploys, read from its real synthesized preview, exists upstream;
    only the known-wrong pins (while they are still shipped) fail, naming the newest."""
    import scripts.offline  # noqa: PLC0415

    # The preview the check reads is the session's shared recording of the real stack.
    monkeypatch.setattr(scripts.offline, "synthesize", cli_synthesis)
    code, out, err = run_cli(
        main, "--stack", stack, "--pins-only", "--json", *sources.chart_repo_options()
    )
    checks = json.loads(out)["checks"]
    kinds = {c["name"].split()[1] for c in checks}
    assert {"eks-addon", "node-ami", "helm-chart"} <= kinds, checks
    names = " ".join(c["name"] for c in checks)
    for addon in ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"):
        assert f"pin eks-addon {addon} " in names
    if stack == "prod":  # prod runs Karpenter: its OCI charts are read too
        assert "oci://public.ecr.aws/karpenter" in names
    wrong = []
    for check in checks:
        _, kind, _name, version, *_ = check["name"].split()
        expected_newest = KNOWN_WRONG.get((kind, version))
        if expected_newest is None:
            assert check["status"] == "PASS", check
        else:
            wrong.append(check)
            assert check["status"] == "FAIL", check
            assert f"newest valid: {expected_newest}" in check["detail"], check
    assert code == (1 if wrong else 0), err
    assert not [c for c in checks if c["status"] in {"UNKNOWN", "UNREACHABLE"}]
    if "oci://" in names:  # the OCI registry's token challenge was followed
        assert "/token" in sources.requests


# --- failures, with the newest valid version ---------------------------------------------------


def test_pins_that_do_not_exist_fail_naming_the_newest(sources, run_cli, tmp_path):
    resources = [
        CLUSTER,
        _addon("vpc-cni", "v1.21.1-eksbuild.99"),
        _node_group("system", "AL2023_x86_64_STANDARD", "1.34.2-20260128"),
        _node_group("gpu", "AL2023_x86_64_NVIDIA", "1.34.7-20260512"),
        _node_group("patch", "AL2023_x86_64_STANDARD", "1.34.5-20260714"),
        *_node_class("al2023@v20260512", ["g5.xlarge"]),
        _chart(
            "dcgm", "dcgm-exporter", "4.8.3", "https://nvidia.github.io/dcgm-exporter/helm-charts"
        ),
        _chart("karpenter", "oci://public.ecr.aws/karpenter/karpenter", "1.12.9"),
    ]
    code, out, _ = _pins(
        run_cli,
        tmp_path,
        resources,
        *sources.chart_repo_options(),
    )
    assert code == 1
    checks = _checks(out)
    expected = {
        "pin eks-addon vpc-cni v1.21.1-eksbuild.99 (Kubernetes 1.34)": "v1.21.1-eksbuild.7",
        "pin node-ami AL2023_x86_64_STANDARD 1.34.2-20260128 (Kubernetes 1.34)": "1.34.9-20260714",
        "pin node-ami AL2023_x86_64_NVIDIA 1.34.7-20260512 (Kubernetes 1.34)": "1.34.9-20260714",
        "pin node-ami AL2023_x86_64_STANDARD 1.34.5-20260714 (Kubernetes 1.34)": "1.34.9-20260714",
        "pin karpenter-ami al2023@v20260512 v20260512 (x86_64/nvidia)": "1.34.9-20260714",
        "pin helm-chart dcgm-exporter 4.8.3 (https://nvidia.github.io/dcgm-exporter/helm-charts)": (
            "4.8.2"
        ),
        "pin helm-chart karpenter 1.12.9 (oci://public.ecr.aws/karpenter)": "1.14.1",
    }
    assert set(checks) == set(expected)
    for name, best in expected.items():
        assert checks[name]["status"] == "FAIL", checks[name]
        assert checks[name]["detail"].endswith(f"newest valid: {best}"), checks[name]
        assert best in checks[name]["fix"]
    assert (
        "amazon-eks-node-al2023-x86_64-standard-1.34-v20260128"
        in (
            checks["pin node-ami AL2023_x86_64_STANDARD 1.34.2-20260128 (Kubernetes 1.34)"][
                "detail"
            ]
        )
    )
    assert (
        "(used by system)"
        in (checks["pin node-ami AL2023_x86_64_STANDARD 1.34.2-20260128 (Kubernetes 1.34)"]["fix"])
    )


def test_valid_replacements_pass(sources, run_cli, tmp_path):
    resources = [
        CLUSTER,
        _node_group("system", "AL2023_x86_64_STANDARD", "1.34.2-20260129"),
        _node_group("gpu", "AL2023_x86_64_NVIDIA", "1.34.7-20260505"),
        *_node_class("al2023@v20260505", ["g5.xlarge"]),
        _chart(
            "dcgm", "dcgm-exporter", "4.8.2", "https://nvidia.github.io/dcgm-exporter/helm-charts"
        ),
    ]
    code, out, err = _pins(run_cli, tmp_path, resources, *sources.chart_repo_options())
    assert code == 0, out + err
    assert {c["status"] for c in json.loads(out)["checks"]} == {"PASS"}
    assert len(json.loads(out)["checks"]) == 4


def test_non_al2023_amis_are_not_checkable_here_never_passed(sources, run_cli, tmp_path):
    resources = [CLUSTER, _node_group("br", "BOTTLEROCKET_x86_64_NVIDIA", "1.20.3-5d9ac849")]
    code, out, _ = _pins(
        run_cli,
        tmp_path,
        resources,
    )
    (check,) = json.loads(out)["checks"]
    assert check["status"] == "UNKNOWN"
    assert check["detail"].startswith("not checkable here")
    assert code == 0
    strict = _pins(run_cli, tmp_path, resources, "--strict")
    assert strict[0] == 1


def test_unpinned_alias_fails(sources, run_cli, tmp_path):
    resources = [CLUSTER, *_node_class("al2023@latest", ["m5.large"])]
    code, out, _ = _pins(
        run_cli,
        tmp_path,
        resources,
    )
    assert code == 1
    (check,) = json.loads(out)["checks"]
    assert "x86_64/standard" in check["name"]  # no GPU types: the standard variant
    assert "is not a pinned release" in check["detail"]


# --- sources that cannot be asked ---------------------------------------------------------------


@pytest.fixture
def closed_url() -> Iterator[str]:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{holder.getsockname()[1]}"
    finally:
        holder.close()


def test_unreachable_chart_repository_is_could_not_check_exit_3(
    sources, run_cli, tmp_path, closed_url
):
    repo = "https://nvidia.github.io/dcgm-exporter/helm-charts"
    resources = [_chart("dcgm", "dcgm-exporter", "4.8.2", repo)]
    code, out, err = _pins(
        run_cli,
        tmp_path,
        resources,
        f"--chart-repo={repo}={closed_url}",
        "--http-timeout",
        "2",
    )
    assert code == 3
    (check,) = json.loads(out)["checks"]
    assert check["status"] == "UNREACHABLE"
    assert check["detail"].startswith(f"could not check: cannot reach {closed_url}/index.yaml")
    assert "some pins could not be checked" in err


def test_unreachable_eks_is_could_not_check_and_other_pins_still_checked(
    sources, run_cli, tmp_path, closed_url, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", closed_url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    resources = [
        CLUSTER,
        _addon("coredns", "v1.12.4-eksbuild.1"),
        _node_group("system", "AL2023_x86_64_STANDARD", "1.34.2-20260129"),
    ]
    code, out, _ = _pins(
        run_cli,
        tmp_path,
        resources,
    )
    assert code == 3
    statuses = {c["name"].split()[1]: c for c in json.loads(out)["checks"]}
    assert statuses["eks-addon"]["status"] == "UNREACHABLE"
    assert "eks:DescribeAddonVersions: cannot reach" in statuses["eks-addon"]["detail"]
    assert statuses["node-ami"]["status"] == "PASS"


def test_an_unrecorded_repository_fails_and_is_never_asked_outside(sources, run_cli, tmp_path):
    resources = [
        _chart("x", "x", "1.0.0", "https://charts.invalid/repo"),
        _chart("y", "oci://registry.invalid/charts/y", "1.0.0"),
    ]
    code, out, _ = _pins(run_cli, tmp_path, resources, *sources.chart_repo_options())
    assert code == 1
    details = sorted(c["detail"] for c in json.loads(out)["checks"])
    assert details == [
        "no chart repository at https://charts.invalid/repo",
        "no chart repository at oci://registry.invalid/charts",
    ]
    assert f"{'/unrecorded//charts.invalid/repo/index.yaml'}" in sources.requests


def test_plain_http_outside_loopback_is_never_asked(sources, run_cli, tmp_path):
    resources = [_chart("x", "x", "1.0.0", "http://charts.invalid/repo")]
    code, out, _ = _pins(
        run_cli,
        tmp_path,
        resources,
    )
    assert code == 3
    (check,) = json.loads(out)["checks"]
    assert "only https:// sources are asked" in check["detail"]


# --- bad input --------------------------------------------------------------------------------


def test_bad_options_and_preview_are_exit_2(sources, run_cli, tmp_path):
    code, _, err = run_cli(main, "--stack", "dev", "--pins-only", "--chart-repo", "nonsense")
    assert code == 2
    assert "is not FROM=TO" in err
    other = _preview(tmp_path, [], stack="prod")
    code, _, err = run_cli(main, "--stack", "dev", "--pins-only", "--preview-json", other)
    assert code == 2
    assert "is the preview of stack 'prod', not 'dev'" in err
    bad = tmp_path / "bad.json"
    bad.write_text("[]", encoding="utf-8")
    code, _, err = run_cli(main, "--stack", "dev", "--pins-only", "--preview-json", str(bad))
    assert code == 2
    assert "is not a preview document" in err


# --- pure helpers -----------------------------------------------------------------------------


def test_version_ordering():
    assert newest(["v1.21.1-eksbuild.1", "v1.21.1-eksbuild.12", "v1.21.1-eksbuild.7"]) == (
        "v1.21.1-eksbuild.12"
    )
    assert newest(["v26.3.3", "v26.7.0", "v25.10.1"]) == "v26.7.0"
    assert newest(["1.2.0", "1.10.0", "1.11.0-rc.1"]) == "1.10.0"
    assert version_key("1.0.0") > version_key("1.0.0-rc.1")
    assert parse_mapping(["https://a/b/=http://127.0.0.1:1/x"]) == {
        "https://a/b": "http://127.0.0.1:1/x"
    }


def test_pins_are_deduplicated_with_their_users():
    resources = [
        CLUSTER,
        _node_group("a", "AL2023_x86_64_NVIDIA", "1.34.7-20260505"),
        _node_group("b", "AL2023_x86_64_NVIDIA", "1.34.7-20260505"),
    ]
    (pin,) = pins_from_resources(resources)
    assert pin.used_by == ["a", "b"]
    assert pin.context == {"kubernetes": "1.34", "ami_type": "AL2023_x86_64_NVIDIA"}


def test_fixture_records_every_shipped_chart_repository():
    fixture = load_fixture()
    assert (
        "dcgm-exporter"
        in fixture["chartIndexes"]["https://nvidia.github.io/dcgm-exporter/helm-charts"]
    )
    assert (
        "4.8.3"
        not in (
            fixture["chartIndexes"]["https://nvidia.github.io/dcgm-exporter/helm-charts"][
                "dcgm-exporter"
            ]
        )
    )
    assert "1.34.2-20260128" not in fixture["amiReleases"]["1.34/x86_64/standard"]


# --- refreshing the recorded answers ------------------------------------------------------------


def test_record_pins_writes_a_fixture_that_serves_the_same_verdicts(
    sources, run_cli, tmp_path, monkeypatch
):
    dcgm = "https://nvidia.github.io/dcgm-exporter/helm-charts"
    resources = [
        CLUSTER,
        _addon("coredns", "v1.12.4-eksbuild.1"),
        _node_group("system", "AL2023_x86_64_STANDARD", "1.34.2-20260129"),
        _chart("dcgm", "dcgm-exporter", "4.8.2", dcgm),
        _chart("karpenter", "oci://public.ecr.aws/karpenter/karpenter", "1.12.1"),
    ]
    preview = _preview(tmp_path, resources)
    target = tmp_path / "recorded.json"
    argv = ["--stack", "dev", "--pins-only", "--preview-json", preview]
    code, _, err = run_cli(main, *argv, "--record-pins", str(target), *sources.chart_repo_options())
    assert code == 0, err
    recorded = json.loads(target.read_text(encoding="utf-8"))
    fixture = sources.fixture
    assert recorded["eksAddonVersions"] == {
        "1.34": {"coredns": fixture["eksAddonVersions"]["1.34"]["coredns"]}
    }
    assert recorded["amiReleases"] == {
        "1.34/x86_64/standard": ["1.34.2-20260129", "1.34.9-20260714"]
    }
    assert recorded["chartIndexes"] == {
        dcgm: {"dcgm-exporter": fixture["chartIndexes"][dcgm]["dcgm-exporter"]}
    }
    karpenter = "oci://public.ecr.aws/karpenter/karpenter"
    assert recorded["ociTags"] == {karpenter: fixture["ociTags"][karpenter]}

    recorded["about"] = ["kept across refreshes"]
    target.write_text(json.dumps(recorded), encoding="utf-8")
    with serve(recorded) as again:
        monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", again.url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", again.url)
        code, out, _ = run_cli(
            main, *argv, "--record-pins", str(target), *again.chart_repo_options()
        )
    assert code == 0
    assert "4 passed, 0 failed, 0 unknown" in out
    assert json.loads(target.read_text(encoding="utf-8"))["about"] == ["kept across refreshes"]
