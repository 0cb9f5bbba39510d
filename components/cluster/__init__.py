"""The cluster domain: ``ServingCluster`` (private EKS, access entries, add-ons, system nodes)
and what the pieces on the cluster share (:mod:`.kubernetes`: chart releases, system-node
placement, Pod Security labels, security contexts)."""

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
