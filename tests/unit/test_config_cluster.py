"""Config keys of the serving cluster and platform IAM: profile defaults and rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.cluster.serving_cluster import AddonVersions
from mlops_platform.config import ConfigError, environment_from_config

from tests.conftest import DEPLOY_PATH_ELSEWHERE

BASE = {
    "aws:region": "us-east-1",
    "mlops:allowedAccountIds": json.dumps(["111111111111"]),
    "mlops:tags": json.dumps({"owner": "ml-team", "cost-center": "cc-1"}),
    **DEPLOY_PATH_ELSEWHERE,
}
ADMIN = "arn:aws:iam::111111111111:role/aws-reserved/sso/AWSReservedSSO_Admin_1f"
READER = "arn:aws:iam::111111111111:role/readers"


def load(profile: str, **sections: Any):
    values = {**BASE, "mlops:profile": profile}
    values.update({f"mlops:{k}": json.dumps(v) for k, v in sections.items()})
    return environment_from_config(values, profile)


def problems(profile: str, **sections: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(profile, **sections)
    return str(caught.value)


@pytest.mark.parametrize(
    ("profile", "window", "boundary"), [("dev", 7, False), ("test", 14, True), ("prod", 30, True)]
)
def test_profile_defaults(profile: str, window: int, boundary: bool) -> None:
    config = load(profile)
    assert config.cluster.secrets_key_deletion_window_days == window
    assert config.cluster.support_type.value == "STANDARD"
    assert config.iam.ci_environment == profile
    assert config.iam.create_permission_boundary is boundary
    assert config.iam.ci_repository is None
    assert config.cluster.access.admins == []
    # Unset add-on versions defer to the component's pinned defaults (one source).
    assert config.cluster.addons.model_dump() == dict.fromkeys(vars(AddonVersions()))
    assert config.cluster.system_nodes.disk_size_gib == 50


def test_overrides_are_accepted() -> None:
    config = load(
        "test",
        cluster={
            "addons": {"coredns": "v1.12.3-eksbuild.1"},
            "access": {"admins": [ADMIN], "readOnly": [READER], "readOnlyNamespaces": ["serving"]},
            "supportType": "EXTENDED",
        },
        iam={"ciRepository": "acme/mlops-platform", "ciEnvironment": "staging"},
    )
    assert config.cluster.addons.coredns == "v1.12.3-eksbuild.1"
    assert config.cluster.access.read_only_namespaces == ["serving"]
    assert config.iam.ci_repository == "acme/mlops-platform"


def test_read_only_roles_need_namespaces() -> None:
    message = problems("dev", cluster={"access": {"readOnly": [READER]}})
    assert "mlops:cluster.access.readOnlyNamespaces" in message


def test_prod_keeps_the_30_day_key_window() -> None:
    message = problems("prod", cluster={"secretsKeyDeletionWindowDays": 7})
    assert "mlops:cluster.secretsKeyDeletionWindowDays" in message
    assert "30" in message
    assert load("test", cluster={"secretsKeyDeletionWindowDays": 7}).profile.value == "test"


@pytest.mark.parametrize("window", [6, 31])
def test_key_window_range(window: int) -> None:
    assert "mlops:cluster.secretsKeyDeletionWindowDays" in problems(
        "dev", cluster={"secretsKeyDeletionWindowDays": window}
    )


def test_ci_repository_must_be_org_slash_repo() -> None:
    message = problems("dev", iam={"ciRepository": "mlops-platform"})
    assert "mlops:iam.ciRepository" in message


def test_one_boundary_only() -> None:
    message = problems(
        "prod", iam={"permissionBoundaryArn": "arn:aws:iam::111111111111:policy/org-boundary"}
    )
    assert "mlops:iam.createPermissionBoundary" in message
    config = load(
        "prod",
        iam={
            "permissionBoundaryArn": "arn:aws:iam::111111111111:policy/org-boundary",
            "createPermissionBoundary": False,
        },
    )
    assert config.iam.permission_boundary_arn is not None


def test_unpinned_addon_and_bad_role_arn_are_rejected() -> None:
    message = problems(
        "dev", cluster={"addons": {"vpcCni": "latest"}, "access": {"admins": ["admin"]}}
    )
    assert "mlops:cluster.addons.vpcCni" in message
    assert "mlops:cluster.access.admins[0]" in message


def test_another_version_needs_its_own_pins() -> None:
    message = problems("dev", cluster={"version": "1.33"})
    assert "mlops:cluster.addons.kubeProxy" in message
    assert "mlops:cluster.systemNodes.amiReleaseVersion" in message
    config = load(
        "dev",
        cluster={
            "version": "1.33",
            "addons": {"kubeProxy": "v1.33.3-eksbuild.1"},
            "systemNodes": {"amiReleaseVersion": "1.33.5-20260128"},
        },
        # The Cluster Autoscaler's minor follows the cluster's too (its own rule).
        gpu={"clusterAutoscaler": {"imageTag": "v1.33.3"}},
    )
    assert config.cluster.version == "1.33"


def test_kube_proxy_and_ami_follow_the_cluster_minor() -> None:
    message = problems(
        "test",
        cluster={
            "addons": {"kubeProxy": "v1.33.3-eksbuild.1"},
            "systemNodes": {"amiReleaseVersion": "1.33.5-20260128"},
        },
    )
    assert "mlops:cluster.addons.kubeProxy" in message
    assert "mlops:cluster.systemNodes.amiReleaseVersion" in message


# --- who reaches the private API endpoint ------------------------------------------------------

RUNNER_SG = "sg-0123456789abcdef0"


@pytest.mark.parametrize("profile", ["dev", "test", "prod"])
def test_api_ingress_defaults_to_the_vpc_cidr(profile: str) -> None:
    config = load(profile)
    assert config.cluster.api_ingress_cidrs is None  # the platform passes the VPC CIDR
    assert config.cluster.api_ingress_security_group_ids == []


def test_api_ingress_sources_are_accepted() -> None:
    config = load(
        "prod",
        cluster={
            "apiIngressCidrs": ["10.30.0.0/16", "172.16.8.0/22"],
            "apiIngressSecurityGroupIds": [RUNNER_SG],
        },
    )
    assert config.cluster.api_ingress_cidrs == ["10.30.0.0/16", "172.16.8.0/22"]
    assert config.cluster.api_ingress_security_group_ids == [RUNNER_SG]
    assert load("test", cluster={"apiIngressCidrs": []}).cluster.api_ingress_cidrs == []


def test_api_ingress_from_the_internet_is_rejected() -> None:
    message = problems("dev", cluster={"apiIngressCidrs": ["10.10.0.0/16", "0.0.0.0/0"]})
    assert "mlops:cluster.apiIngressCidrs[1]" in message
    assert "whole internet" in message
    assert "apiIngressCidrs[0]" not in message


def test_bad_or_repeated_api_ingress_sources_are_rejected() -> None:
    message = problems(
        "test",
        cluster={"apiIngressCidrs": ["10.0.0.1/16"], "apiIngressSecurityGroupIds": ["runner"]},
    )
    assert "mlops:cluster.apiIngressCidrs[0]" in message
    assert "mlops:cluster.apiIngressSecurityGroupIds[0]" in message
    repeated = problems(
        "test",
        cluster={
            "apiIngressCidrs": ["10.1.0.0/16", "10.1.0.0/16"],
            "apiIngressSecurityGroupIds": [RUNNER_SG, RUNNER_SG],
        },
    )
    assert "mlops:cluster.apiIngressCidrs[1]" in repeated
    assert "mlops:cluster.apiIngressSecurityGroupIds[1]" in repeated
    assert "listed twice" in repeated


# --- pod subnets of an adopted VPC (VPC CNI custom networking) ----------------------------------

PRIVATE = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2", "subnet-0aaaaaaaaaaaaaaa3"]
PODS = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0bbbbbbbbbbbbbbb3"]
AZS = ["us-east-1a", "us-east-1b", "us-east-1c"]


def _adopted(**existing: Any) -> dict[str, Any]:
    return {
        "azCount": 3,
        "natGateways": "per-az",
        "interfaceEndpoints": [],
        "existing": {
            "vpcId": "vpc-0123456789abcdef0",
            "vpcCidr": "10.40.0.0/16",
            "privateSubnetIds": PRIVATE,
            **existing,
        },
    }


def test_adopted_pod_subnets_with_their_zones_are_accepted() -> None:
    config = load("prod", network=_adopted(podSubnetIds=PODS, availabilityZones=AZS))
    existing = config.network.existing
    assert existing is not None
    assert (existing.pod_subnet_ids, existing.availability_zones) == (PODS, AZS)


def test_adopted_pod_subnets_need_their_zones() -> None:
    message = problems("prod", network=_adopted(podSubnetIds=PODS))
    assert "mlops:network.existing.availabilityZones" in message
    assert "ENIConfig" in message


def test_adopted_pod_subnets_one_per_zone() -> None:
    message = problems("prod", network=_adopted(podSubnetIds=PODS[:2], availabilityZones=AZS))
    assert "mlops:network.existing.podSubnetIds" in message
    assert "3 AZs given" in message


def test_pod_subnets_from_a_terraform_state_need_the_zones() -> None:
    state = {"source": "s3://lz-state/net.tfstate", "outputs": {"podSubnetIds": "pod_subnets"}}
    network = {
        "azCount": 3,
        "natGateways": "per-az",
        "interfaceEndpoints": [],
        "existing": {"terraformState": state},
    }
    assert "mlops:network.existing.availabilityZones" in problems("prod", network=network)
    network["existing"] = {"terraformState": state, "availabilityZones": AZS}
    assert load("prod", network=network).network.existing is not None
