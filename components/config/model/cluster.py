"""``mlops:cluster``: the EKS serving cluster, its system nodes, add-ons and access."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...cluster.serving_cluster import SupportType
from ...core import patterns, versions
from .base import (
    Cidr,
    KmsDeletionWindowDays,
    KubernetesName,
    KubernetesVersion,
    NodeGroupSize,
    RoleArn,
    SecurityGroupId,
    StrictModel,
)


class SystemNodesConfig(NodeGroupSize):
    """The small on-demand node group that runs cluster add-ons and controllers."""

    instance_type: str = Field(
        "m7i.large", description="EC2 instance type of the system nodes (x86_64, AL2023)."
    )
    disk_size_gib: int = Field(
        50, ge=20, le=1024, description="Size of each node's encrypted gp3 root volume (GiB)."
    )
    ami_release_version: str | None = Field(
        None,
        pattern=patterns.AMI_RELEASE.regex,
        description="EKS AL2023 AMI release (`<k8s>-<yyyymmdd>`, e.g. "
        f"{versions.SYSTEM_NODE_AMI_RELEASE}). Unset: the ServingCluster component's pinned "
        "default for its Kubernetes version.",
    )


def _addon_version(addon: str, example: str, installed: str) -> Any:
    """A field pinning one managed add-on's build; unset: the ServingCluster default."""
    return Field(
        default=None,
        pattern=patterns.ADDON_VERSION.regex,
        description=f"{addon} build, e.g. {example} ({installed}).",
    )


class AddonVersionsConfig(StrictModel):
    """Pinned EKS managed add-on versions; unset keys take the ServingCluster defaults."""

    vpc_cni: str | None = _addon_version(
        "vpc-cni", versions.VPC_CNI_ADDON, "installed before nodes"
    )
    kube_proxy: str | None = _addon_version(
        "kube-proxy", versions.KUBE_PROXY_ADDON, "installed before nodes"
    )
    pod_identity_agent: str | None = _addon_version(
        "eks-pod-identity-agent", versions.POD_IDENTITY_AGENT_ADDON, "before nodes"
    )
    coredns: str | None = _addon_version(
        "coredns", versions.COREDNS_ADDON, "after the system nodes"
    )
    ebs_csi_driver: str | None = _addon_version(
        "aws-ebs-csi-driver", versions.EBS_CSI_DRIVER_ADDON, "after the system nodes"
    )


class ClusterAccessConfig(StrictModel):
    """IAM roles mapped into the cluster through access entries (authentication mode API)."""

    admins: list[RoleArn] = Field(
        default_factory=list,
        description="Role ARNs given AmazonEKSClusterAdminPolicy on the whole cluster, besides "
        "the platform-admin and CI deploy roles the platform creates.",
    )
    read_only: list[RoleArn] = Field(
        default_factory=list,
        description="Role ARNs given AmazonEKSViewPolicy on `readOnlyNamespaces`, besides the "
        "platform's read-only role.",
    )
    read_only_namespaces: list[KubernetesName] = Field(
        default_factory=list,
        description="Namespaces the read-only roles may view; required when any read-only role "
        "is mapped.",
    )


class ClusterConfig(StrictModel):
    """The EKS serving cluster."""

    version: KubernetesVersion = Field(
        versions.KUBERNETES_VERSION,
        description="Kubernetes version, pinned; upgrades are a deliberate config change.",
    )
    endpoint_public_access: bool = Field(
        description="Whether the API server also has a public endpoint (the private one is "
        "always on). Never allowed in prod."
    )
    public_access_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the public endpoint; required when it is on; "
        "0.0.0.0/0 is never accepted.",
    )
    api_ingress_cidrs: list[Cidr] | None = Field(
        None,
        description="Networks allowed to the private API endpoint (TCP 443 on the cluster "
        "security group): where `pulumi up` and `kubectl` run from, e.g. a VPN client pool or "
        "a peered CI network. Unset: the VPC CIDR (self-hosted runners in the VPC, and VPN or "
        "peered clients routed into it); `[]`: none. 0.0.0.0/0 is never accepted.",
    )
    api_ingress_security_group_ids: list[SecurityGroupId] = Field(
        default_factory=list,
        description="Security groups (e.g. of self-hosted CI runners in the VPC) allowed to "
        "the private API endpoint on TCP 443.",
    )
    deletion_protection: bool = Field(description="EKS deletion protection on the cluster.")
    system_nodes: SystemNodesConfig = Field(description="The system node group.")
    support_type: SupportType = Field(
        SupportType.STANDARD,
        description="`STANDARD`: EKS upgrades the cluster when its version leaves standard "
        "support; `EXTENDED`: it stays, on paid extended support.",
    )
    secrets_key_deletion_window_days: KmsDeletionWindowDays = Field(
        description="Days KMS waits before deleting the secrets key (7..30); prod keeps 30.",
    )
    addons: AddonVersionsConfig = Field(
        default_factory=AddonVersionsConfig, description="Pinned managed add-on versions."
    )
    access: ClusterAccessConfig = Field(
        default_factory=ClusterAccessConfig, description="Access entries for IAM roles."
    )
