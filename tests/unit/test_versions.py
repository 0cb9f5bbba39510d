"""Pinned versions: one home, well-formed, and each against the upstream facts recorded here.

The recorded facts come from upstream sources (amazon-eks-ami CHANGELOG.md, the chart
repositories' index.yaml) read when the pins were last changed; ``scripts.preflight`` checks
the live sources before a deploy.
"""

from __future__ import annotations

import re

from mlops_platform.cluster.serving_cluster import AddonVersions, ServingClusterArgs
from mlops_platform.config.model import GpuPoolDefaultsConfig, NvidiaConfig
from mlops_platform.core import versions
from mlops_platform.core.versions import PINS, PinKind

# amazon-eks-ami CHANGELOG.md: 2026 releases with a release entry (not [ABANDONED], not a
# tag without a release), up to v20260714.
RELEASED_AMI_DATES = {
    "20260107", "20260114", "20260116", "20260120", "20260129", "20260209", "20260224",
    "20260304", "20260318", "20260403", "20260409", "20260415", "20260423", "20260505",
    "20260610", "20260618", "20260625", "20260714",
}  # fmt: skip
# Kubernetes 1.34 kubelet patch shipped by each of those releases.
KUBELET_134 = {
    "20260129": "1.34.2", "20260209": "1.34.3", "20260224": "1.34.4", "20260304": "1.34.4",
    "20260318": "1.34.4", "20260403": "1.34.4", "20260409": "1.34.6", "20260415": "1.34.6",
    "20260423": "1.34.7", "20260505": "1.34.7", "20260610": "1.34.8", "20260618": "1.34.9",
    "20260625": "1.34.9", "20260714": "1.34.9",
}  # fmt: skip
# NVIDIA/dcgm-exporter gh-pages helm-charts/index.yaml: the 4.8 line.
DCGM_EXPORTER_INDEX_48 = {"4.8.0", "4.8.1", "4.8.2"}


def test_every_ami_pin_is_a_published_release_with_its_kubelet():
    amis = [p for p in PINS if p.kind is PinKind.AMI_RELEASE]
    assert {p.name for p in amis} == {"al2023-x86_64-standard", "al2023-x86_64-nvidia"}
    for pin in amis:
        kubelet, date = pin.version.split("-")
        assert date in RELEASED_AMI_DATES, f"{pin.name} {pin.version}: no such AMI release"
        assert KUBELET_134[date] == kubelet, f"{pin.name} {pin.version}: wrong kubelet"


def test_dcgm_exporter_chart_is_in_the_repository_index():
    assert versions.DCGM_EXPORTER_CHART in DCGM_EXPORTER_INDEX_48


def test_pins_are_well_formed_and_unique():
    shapes = {
        PinKind.KUBERNETES: r"^1\.\d{2}$",
        PinKind.EKS_ADDON: r"^v\d+\.\d+\.\d+-eksbuild\.\d+$",
        PinKind.AMI_RELEASE: r"^1\.\d{2}\.\d+-\d{8}$",
        PinKind.HELM_CHART: r"^v?\d+\.\d+\.\d+$",
        PinKind.IMAGE: r"^v\d+\.\d+\.\d+$",
        PinKind.ENGINE: r"^\d+\.\d+$",
    }
    for pin in PINS:
        assert re.match(shapes[pin.kind], pin.version), pin
        assert pin.source and pin.evidence, pin
    keys = [(p.kind, p.name) for p in PINS]
    assert len(keys) == len(set(keys))
    assert versions.KUBERNETES_VERSION in versions.SUPPORTED_KUBERNETES_VERSIONS


def test_components_and_config_take_their_defaults_from_the_pins():
    addons = AddonVersions()
    by_name = {p.name: p.version for p in PINS if p.kind is PinKind.EKS_ADDON}
    assert by_name == {
        "vpc-cni": addons.vpc_cni,
        "kube-proxy": addons.kube_proxy,
        "eks-pod-identity-agent": addons.pod_identity_agent,
        "coredns": addons.coredns,
        "aws-ebs-csi-driver": addons.ebs_csi_driver,
    }
    args = ServingClusterArgs(name_prefix="x", subnet_ids=[], cluster_role_arn="", node_role_arn="")
    assert args.version == versions.KUBERNETES_VERSION
    assert args.system_node_ami_release_version == versions.SYSTEM_NODE_AMI_RELEASE
    pool_defaults = GpuPoolDefaultsConfig.model_fields
    assert pool_defaults["ami_release_version"].default == versions.GPU_NODE_AMI_RELEASE
    nvidia = NvidiaConfig.model_fields
    assert nvidia["dcgm_exporter_chart_version"].default == versions.DCGM_EXPORTER_CHART
    assert nvidia["device_plugin_chart_version"].default == versions.DEVICE_PLUGIN_CHART
