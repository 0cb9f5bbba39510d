"""The cluster domain: ``ServingCluster`` (private EKS, access entries, add-ons, system nodes)."""

from .serving_cluster import (
    AddonVersions,
    ServingCluster,
    ServingClusterArgs,
    SupportType,
    access_label,
    ebs_csi_policy,
    key_policy,
    kubeconfig_json,
    vpc_cni_configuration,
)

__all__ = [
    "AddonVersions",
    "ServingCluster",
    "ServingClusterArgs",
    "SupportType",
    "access_label",
    "ebs_csi_policy",
    "key_policy",
    "kubeconfig_json",
    "vpc_cni_configuration",
]
