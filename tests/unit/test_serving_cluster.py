"""ServingCluster under the mock engine: exposure, encryption, logs, access, add-ons, nodes."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi
import pytest
from mlops_platform.cluster.serving_cluster import (
    LOG_TYPES,
    AddonVersions,
    ServingCluster,
    ServingClusterArgs,
    SupportType,
    access_label,
    vpc_cni_configuration,
)
from mlops_platform.config.model import ClusterConfig, Profile
from mlops_platform.config.profiles import PROFILES, merge_over_profile
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.core.versions import SYSTEM_NODE_AMI_RELEASE

from scripts.offline import run_program
from scripts.offline.engine import Recording, Secret
from tests.conftest import read_stack

CLUSTER = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ENI_CONFIG = "kubernetes:crd.k8s.amazonaws.com/v1alpha1:ENIConfig"
POD_SUBNETS = ["subnet-0a0b0c0d1", "subnet-0a0b0c0d2", "subnet-0a0b0c0d3"]
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
RUNNER_SG = "sg-0123456789abcdef0"

CLUSTER_ROLE = "arn:aws:iam::123456789012:role/mlops-dev-eks-cluster"
NODE_ROLE = "arn:aws:iam::123456789012:role/mlops-dev-eks-node"
ADMIN_ROLE = "arn:aws:iam::123456789012:role/mlops-dev-platform-admin"
READER_ROLE = "arn:aws:iam::123456789012:role/mlops-dev-read-only"


def base_args(**overrides: Any) -> ServingClusterArgs:
    values: dict[str, Any] = {
        "name_prefix": "mlops-dev",
        "subnet_ids": ["subnet-0a", "subnet-0b"],
        "cluster_role_arn": CLUSTER_ROLE,
        "node_role_arn": NODE_ROLE,
        "tags": {"owner": "ml-platform-team"},
    }
    values.update(overrides)
    return ServingClusterArgs(**values)


def run(args: ServingClusterArgs, stack: str = "dev") -> Recording:
    return run_program(lambda: ServingCluster("eks", args), stack=stack)


def profile_args(stack: str) -> ServingClusterArgs:
    """The args the platform builds for a stack: profile defaults + the real stack file.

    Mirrors the wiring in MlopsPlatform (cluster section, retention and protection).
    """
    profile = Profile(stack)
    overrides = read_stack(stack)["config"].get("mlops:cluster", {})
    cluster = ClusterConfig.model_validate_json(
        json.dumps(merge_over_profile(PROFILES[profile]["cluster"], overrides))
    )
    addons = {k: v for k, v in cluster.addons.model_dump().items() if v is not None}
    nodes = cluster.system_nodes
    network = merge_over_profile(
        PROFILES[profile]["network"], read_stack(stack)["config"].get("mlops:network", {})
    )
    # Unset apiIngressCidrs: the VPC CIDR; pod subnets (one per AZ) exist with a pod CIDR.
    api_cidrs = cluster.api_ingress_cidrs
    if api_cidrs is None:
        api_cidrs = [network.get("vpcCidr", "10.0.0.0/16")]
    azs = network["azCount"]
    pods = POD_SUBNETS[:azs] if network.get("podCidr") else []
    return base_args(
        api_ingress_cidrs=api_cidrs,
        api_ingress_security_group_ids=cluster.api_ingress_security_group_ids,
        pod_subnet_ids=pods,
        availability_zones=ZONES[:azs],
        name_prefix=f"mlops-{stack}",
        version=cluster.version,
        endpoint_public_access=cluster.endpoint_public_access,
        public_access_cidrs=cluster.public_access_cidrs,
        support_type=SupportType(cluster.support_type.value),
        deletion_protection=cluster.deletion_protection,
        kms_deletion_window_days=cluster.secrets_key_deletion_window_days,
        log_retention_days=PROFILES[profile]["logRetentionDays"],
        protect=PROFILES[profile]["protectStatefulResources"],
        addon_versions=AddonVersions(**addons),
        system_node_instance_type=nodes.instance_type,
        system_node_min_size=nodes.min_size,
        system_node_desired_size=nodes.desired_size,
        system_node_max_size=nodes.max_size,
        system_node_disk_gib=nodes.disk_size_gib,
        admin_roles={"platform-admin": ADMIN_ROLE},
    )


@pytest.fixture(scope="module")
def recordings() -> dict[str, Recording]:
    return {stack: run(profile_args(stack), stack) for stack in ("dev", "test", "prod")}


# --- per profile ---------------------------------------------------------------------------


EXPECTED = {
    # stack: (public endpoint, public CIDRs, deletion protection, key window, retention, protect)
    "dev": (True, ["203.0.113.0/24"], False, 7, 7, False),
    "test": (False, None, False, 14, 30, False),
    "prod": (False, None, True, 30, 365, True),
}


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_profile_settings(recordings: dict[str, Recording], stack: str) -> None:
    public, cidrs, deletion, window, retention, protect = EXPECTED[stack]
    rec = recordings[stack]
    cluster = rec.one(CLUSTER).inputs
    vpc = cluster["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is public
    assert vpc.get("publicAccessCidrs") == cidrs
    assert "0.0.0.0/0" not in (vpc.get("publicAccessCidrs") or [])
    assert cluster["deletionProtection"] is deletion
    key = rec.one(KEY)
    assert key.inputs["deletionWindowInDays"] == window
    assert key.inputs["enableKeyRotation"] is True
    log_group = rec.one(LOG_GROUP)
    assert log_group.inputs["retentionInDays"] == retention
    for stateful in (key, log_group):
        assert stateful.protect is protect
        assert stateful.retain_on_delete is protect


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_secrets_encrypted_with_the_cmk(recordings: dict[str, Recording], stack: str) -> None:
    rec = recordings[stack]
    key = rec.one(KEY)
    encryption = rec.one(CLUSTER).inputs["encryptionConfig"]
    assert encryption["resources"] == ["secrets"]
    assert encryption["provider"]["keyArn"].endswith(f":key/{key.id}")


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_all_control_plane_logs_into_the_precreated_group(
    recordings: dict[str, Recording], stack: str
) -> None:
    rec = recordings[stack]
    cluster = rec.one(CLUSTER)
    assert cluster.inputs["enabledClusterLogTypes"] == list(LOG_TYPES)
    assert set(LOG_TYPES) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    log_group = rec.one(LOG_GROUP)
    assert log_group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    assert log_group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert log_group.inputs["kmsKeyId"].endswith(f":key/{rec.one(KEY).id}")
    assert log_group.urn in cluster.dependencies


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_api_authentication_without_bootstrap_admin(
    recordings: dict[str, Recording], stack: str
) -> None:
    access = recordings[stack].one(CLUSTER).inputs["accessConfig"]
    assert access == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_launch_template_imdsv2_and_encrypted_gp3(
    recordings: dict[str, Recording], stack: str
) -> None:
    template = recordings[stack].one(LAUNCH_TEMPLATE).inputs
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1  # pods cannot reach IMDS
    (root,) = template["blockDeviceMappings"]
    assert root["ebs"]["encrypted"] == "true"
    assert root["ebs"]["volumeType"] == "gp3"
    assert "keyName" not in template
    assert "userData" not in template
    assert "networkInterfaces" not in template


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_system_node_group(recordings: dict[str, Recording], stack: str) -> None:
    rec = recordings[stack]
    group = rec.one(NODE_GROUP)
    inputs = group.inputs
    assert inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert inputs["capacityType"] == "ON_DEMAND"
    assert inputs["labels"] == {"role": "system"}
    assert "taints" not in inputs
    assert "remoteAccess" not in inputs
    assert inputs["launchTemplate"]["id"] == rec.one(LAUNCH_TEMPLATE).id
    assert inputs["updateConfig"] == {"maxUnavailable": 1}
    assert inputs["releaseVersion"] == SYSTEM_NODE_AMI_RELEASE
    profile_nodes = PROFILES[Profile(stack)]["cluster"]["systemNodes"]
    assert inputs["scalingConfig"] == {
        "minSize": profile_nodes["minSize"],
        "desiredSize": profile_nodes["desiredSize"],
        "maxSize": profile_nodes["maxSize"],
    }
    assert group.ignore_changes == ["scalingConfig.desiredSize"]


def test_upgrade_policy_is_deliberate() -> None:
    assert run(base_args()).one(CLUSTER).inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    extended = run(base_args(support_type=SupportType.EXTENDED)).one(CLUSTER)
    assert extended.inputs["upgradePolicy"] == {"supportType": "EXTENDED"}


def test_deletion_protection_follows_the_arg() -> None:
    assert run(base_args()).one(CLUSTER).inputs["deletionProtection"] is True
    off = run(base_args(deletion_protection=False)).one(CLUSTER)
    assert off.inputs["deletionProtection"] is False


# --- add-ons ---------------------------------------------------------------------------------


def test_addons_pinned_and_ordered_around_compute(recordings: dict[str, Recording]) -> None:
    rec = recordings["prod"]
    addons = {a.inputs["addonName"]: a for a in rec.of_type(ADDON)}
    defaults = AddonVersions()
    assert {name: a.inputs["addonVersion"] for name, a in addons.items()} == {
        "vpc-cni": defaults.vpc_cni,
        "kube-proxy": defaults.kube_proxy,
        "eks-pod-identity-agent": defaults.pod_identity_agent,
        "coredns": defaults.coredns,
        "aws-ebs-csi-driver": defaults.ebs_csi_driver,
    }
    node_group = rec.one(NODE_GROUP)
    for before in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert addons[before].urn in node_group.dependencies, before
        assert node_group.urn not in addons[before].dependencies
    for after in ("coredns", "aws-ebs-csi-driver"):
        assert node_group.urn in addons[after].dependencies, after
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.urn in addons["aws-ebs-csi-driver"].dependencies
    assert addons["eks-pod-identity-agent"].urn in association.dependencies


def test_addon_versions_come_from_args() -> None:
    versions = AddonVersions(coredns="v1.12.3-eksbuild.1", vpc_cni="v1.20.4-eksbuild.2")
    rec = run(base_args(addon_versions=versions))
    addons = {a.inputs["addonName"]: a.inputs["addonVersion"] for a in rec.of_type(ADDON)}
    assert addons["coredns"] == "v1.12.3-eksbuild.1"
    assert addons["vpc-cni"] == "v1.20.4-eksbuild.2"


def test_ebs_csi_driver_has_its_own_pod_identity_role(recordings: dict[str, Recording]) -> None:
    rec = recordings["dev"]
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert association["namespace"] == "kube-system"
    assert association["serviceAccount"] == "ebs-csi-controller-sa"
    role = rec.one("aws:iam/role:Role", "eks-ebs-csi-role")
    assert association["roleArn"] == f"arn:aws:iam::123456789012:role/{role.inputs['name']}"
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    equals = statement["Condition"]["StringEquals"]
    assert equals["aws:RequestTag/kubernetes-namespace"] == "kube-system"
    assert equals["aws:RequestTag/kubernetes-service-account"] == "ebs-csi-controller-sa"
    assert equals["aws:RequestTag/eks-cluster-arn"].endswith(":cluster/mlops-dev-eks")
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    creates = [s for s in policy["Statement"] if "ec2:CreateVolume" in s["Action"]]
    assert any(
        s.get("Condition", {}).get("StringEquals", {}).get("aws:RequestTag/ebs.csi.aws.com/cluster")
        == "true"
        for s in creates
    )


# --- access, IRSA, provider ------------------------------------------------------------------


def test_access_entries_admin_cluster_scope_and_read_only_namespaces() -> None:
    rec = run(
        base_args(
            admin_roles={"platform-admin": ADMIN_ROLE},
            read_only_roles={"read-only": READER_ROLE},
            read_only_namespaces=["serving", "mlflow"],
        )
    )
    entries = {e.inputs["principalArn"]: e for e in rec.of_type("aws:eks/accessEntry:AccessEntry")}
    assert set(entries) == {ADMIN_ROLE, READER_ROLE}
    assert all(e.inputs["type"] == "STANDARD" for e in entries.values())
    associations = {
        a.inputs["principalArn"]: a
        for a in rec.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    admin = associations[ADMIN_ROLE]
    assert admin.inputs["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    assert admin.inputs["accessScope"] == {"type": "cluster"}
    reader = associations[READER_ROLE]
    assert reader.inputs["policyArn"].endswith("/AmazonEKSViewPolicy")
    assert reader.inputs["accessScope"] == {
        "type": "namespace",
        "namespaces": ["serving", "mlflow"],
    }
    assert entries[READER_ROLE].urn in reader.dependencies


def test_no_access_entries_without_roles() -> None:
    rec = run(base_args())
    assert rec.of_type("aws:eks/accessEntry:AccessEntry") == []


def test_oidc_provider_for_irsa(recordings: dict[str, Recording]) -> None:
    rec = recordings["test"]
    provider = rec.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider["url"].startswith("https://oidc.eks.us-east-1.amazonaws.com/id/")
    assert "thumbprintLists" not in provider


def test_outputs_and_kubernetes_provider(recordings: dict[str, Recording]) -> None:
    rec = recordings["dev"]
    component = rec.one("mlops:index:ServingCluster")
    outputs = rec.component_outputs[component.urn]
    assert outputs["cluster_name"] == "mlops-dev-eks"
    assert outputs["endpoint"].startswith("https://")
    assert outputs["certificate_authority"]
    assert outputs["oidc_provider_arn"].startswith("arn:aws:iam::123456789012:oidc-provider/")
    assert outputs["oidc_issuer_url"].startswith("https://oidc.eks.")
    assert outputs["cluster_security_group_id"].startswith("sg-")
    assert outputs["node_role_arn"] == NODE_ROLE
    assert isinstance(outputs["kubeconfig"], Secret)
    kubeconfig = json.loads(outputs["kubeconfig"].value)
    exec_ = kubeconfig["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:4] == ["eks", "get-token", "--cluster-name", "mlops-dev-eks"]
    provider = rec.one("pulumi:providers:kubernetes")
    assert provider.parent == component.urn
    assert isinstance(provider.inputs["kubeconfig"], Secret)


def test_children_are_parented_and_tagged(recordings: dict[str, Recording]) -> None:
    rec = recordings["dev"]
    component = rec.one("mlops:index:ServingCluster")
    for resource in rec.created():
        if resource.urn == component.urn:
            continue
        assert resource.parent == component.urn, resource.name
        if "tags" in resource.inputs:
            assert resource.inputs["tags"]["owner"] == "ml-platform-team", resource.name


def test_access_label_is_stable_and_valid() -> None:
    label = access_label("arn:aws:iam::111122223333:role/aws-reserved/sso/AWSReservedSSO_Admin_1f")
    assert label == "awsreservedsso-admin-1f"
    assert access_label("arn:aws:iam::111122223333:role/" + "x" * 64) == "x" * 32


# --- API reachability (private endpoint) -----------------------------------------------------

API_CIDRS = {"dev": "10.10.0.0/16", "test": "10.20.0.0/16", "prod": "10.30.0.0/16"}


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_the_vpc_reaches_the_private_endpoint(recordings: dict[str, Recording], stack: str) -> None:
    rec = recordings[stack]
    (rule,) = rec.of_type(INGRESS)
    outputs = rec.component_outputs[rec.one("mlops:index:ServingCluster").urn]
    cidr = API_CIDRS[stack]
    assert rule.inputs["securityGroupId"] == outputs["cluster_security_group_id"]
    assert rule.inputs["securityGroupId"].startswith("sg-")
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )
    assert rule.inputs["cidrIpv4"] == cidr
    assert rule.inputs["description"] == f"EKS private API endpoint from {cidr}"
    assert rule.name == "eks-api-from-cidr-" + cidr.replace(".", "-").replace("/", "-")


def test_api_ingress_from_cidrs_and_runner_security_groups() -> None:
    rec = run(
        base_args(
            api_ingress_cidrs=["10.0.0.0/16", "172.16.8.0/22"],
            api_ingress_security_group_ids=[RUNNER_SG],
        )
    )
    rules = {r.name: r.inputs for r in rec.of_type(INGRESS)}
    assert set(rules) == {
        "eks-api-from-cidr-10-0-0-0-16",
        "eks-api-from-cidr-172-16-8-0-22",
        f"eks-api-from-{RUNNER_SG}",
    }
    runner = rules[f"eks-api-from-{RUNNER_SG}"]
    assert runner["referencedSecurityGroupId"] == RUNNER_SG
    assert "cidrIpv4" not in runner
    assert runner["description"] == f"EKS private API endpoint from {RUNNER_SG}"
    assert all(r["fromPort"] == r["toPort"] == 443 for r in rules.values())
    assert all(r["tags"]["owner"] == "ml-platform-team" for r in rules.values())


def test_api_ingress_takes_the_vpc_cidr_as_an_output() -> None:
    def program() -> None:
        vpc_cidr = pulumi.Output.from_input("10.40.0.0/16")
        ServingCluster("eks", base_args(api_ingress_cidrs=[vpc_cidr]))

    rule = run_program(program, stack="test").one(INGRESS)
    assert rule.name == "eks-api-from-cidr-1"
    assert rule.inputs["cidrIpv4"] == "10.40.0.0/16"


def test_no_api_ingress_unless_asked() -> None:
    assert run(base_args()).of_type(INGRESS) == []


def test_api_ingress_from_the_internet_is_rejected() -> None:
    message = _problems(api_ingress_cidrs=["10.0.0.0/16", "0.0.0.0/0"])
    assert "api_ingress_cidrs[1]" in message
    assert "0.0.0.0/0" in message
    assert "api_ingress_cidrs[0]" not in message


def test_bad_or_repeated_api_ingress_sources_are_rejected() -> None:
    message = _problems(
        api_ingress_cidrs=["10.0.0.1/16", "10.1.0.0/16", "10.1.0.0/16"],
        api_ingress_security_group_ids=["runner-sg"],
    )
    assert "api_ingress_cidrs[0]" in message
    assert "api_ingress_cidrs[2]" in message
    assert "listed twice" in message
    assert "api_ingress_security_group_ids[0]" in message
    assert "3 invalid argument(s)" in message


# --- vpc-cni: network policy and custom networking --------------------------------------------


def _cni(rec: Recording) -> dict[str, Any]:
    addon = next(a for a in rec.of_type(ADDON) if a.inputs["addonName"] == "vpc-cni")
    return json.loads(addon.inputs["configurationValues"])


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_network_policies_are_enforced(recordings: dict[str, Recording], stack: str) -> None:
    assert _cni(recordings[stack])["enableNetworkPolicy"] == "true"


def test_pod_subnets_are_used_through_custom_networking(
    recordings: dict[str, Recording],
) -> None:
    rec = recordings["prod"]  # prod has a pod CIDR (3 AZs)
    assert _cni(rec) == {
        "enableNetworkPolicy": "true",
        "env": {
            "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
            "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
        },
    }
    configs = rec.of_type(ENI_CONFIG)
    assert len(configs) == 3
    cluster_sg = rec.component_outputs[rec.one("mlops:index:ServingCluster").urn][
        "cluster_security_group_id"
    ]
    by_zone = {c.inputs["metadata"]["name"]: c.inputs["spec"] for c in configs}
    assert by_zone == {
        zone: {"subnet": subnet, "securityGroups": [cluster_sg]}
        for zone, subnet in zip(ZONES, POD_SUBNETS, strict=True)
    }
    provider = rec.one("pulumi:providers:kubernetes")
    vpc_cni = next(a for a in rec.of_type(ADDON) if a.inputs["addonName"] == "vpc-cni")
    node_group = rec.one(NODE_GROUP)
    api_rule = rec.one(INGRESS)
    for config in configs:
        assert config.provider is not None and config.provider.startswith(provider.urn)
        assert vpc_cni.urn in config.dependencies  # the CRD comes with the add-on
        assert api_rule.urn in config.dependencies  # the runner must reach the API
        assert config.urn in node_group.dependencies  # nodes start after their ENIConfig


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_no_custom_networking_without_pod_subnets(
    recordings: dict[str, Recording], stack: str
) -> None:
    rec = recordings[stack]
    assert _cni(rec) == {"enableNetworkPolicy": "true"}
    assert rec.of_type(ENI_CONFIG) == []


def test_eni_configs_are_part_of_ready() -> None:
    def program() -> None:
        cluster = ServingCluster(
            "eks", base_args(pod_subnet_ids=POD_SUBNETS[:2], availability_zones=ZONES[:2])
        )
        assert all(config in cluster.ready for config in cluster.eni_configs)
        assert len(cluster.eni_configs) == 2

    assert len(run_program(program, stack="dev").of_type(ENI_CONFIG)) == 2


def test_vpc_cni_configuration_can_be_left_at_defaults() -> None:
    assert vpc_cni_configuration(enable_network_policy=False, custom_networking=False) is None
    rec = run(base_args(enable_network_policy=False))
    vpc_cni = next(a for a in rec.of_type(ADDON) if a.inputs["addonName"] == "vpc-cni")
    assert "configurationValues" not in vpc_cni.inputs


def test_pod_subnets_need_one_zone_each() -> None:
    message = _problems(pod_subnet_ids=POD_SUBNETS, availability_zones=ZONES[:2])
    assert "availability_zones" in message
    assert "3 pod subnets" in message


def test_bad_pod_subnets_and_zones_are_rejected() -> None:
    message = _problems(
        pod_subnet_ids=["pods-a", POD_SUBNETS[1]], availability_zones=["US_EAST_1A", ZONES[1]]
    )
    assert "pod_subnet_ids[0]" in message
    assert "availability_zones[0]" in message
    repeated = _problems(pod_subnet_ids=POD_SUBNETS[:2], availability_zones=[ZONES[0], ZONES[0]])
    assert "each AZ once" in repeated


def test_zones_without_pod_subnets_are_ignored() -> None:
    rec = run(base_args(availability_zones=ZONES))
    assert rec.of_type(ENI_CONFIG) == []


# --- bad input -------------------------------------------------------------------------------


def _problems(**overrides: Any) -> str:
    with pytest.raises(ComponentInputError) as caught:
        run(base_args(**overrides))
    return str(caught.value)


def test_public_endpoint_open_to_the_internet_is_rejected() -> None:
    message = _problems(endpoint_public_access=True, public_access_cidrs=["0.0.0.0/0"])
    assert "public_access_cidrs[0]" in message
    assert "0.0.0.0/0" in message


def test_public_endpoint_without_cidrs_is_rejected() -> None:
    message = _problems(endpoint_public_access=True)
    assert "public_access_cidrs" in message
    assert "allowlist" in message


def test_cidrs_without_public_endpoint_are_rejected() -> None:
    assert "public_access_cidrs" in _problems(public_access_cidrs=["203.0.113.0/24"])


def test_malformed_cidr_is_rejected() -> None:
    message = _problems(endpoint_public_access=True, public_access_cidrs=["203.0.113.1/24"])
    assert "public_access_cidrs[0]" in message


@pytest.mark.parametrize("window", [6, 31])
def test_bad_deletion_window_is_rejected(window: int) -> None:
    message = _problems(kms_deletion_window_days=window)
    assert "kms_deletion_window_days" in message
    assert "7 to 30" in message


def test_unpinned_addon_version_is_rejected() -> None:
    message = _problems(addon_versions=AddonVersions(coredns="latest"))
    assert "addon_versions.coredns" in message


def test_kube_proxy_must_match_the_cluster_minor() -> None:
    message = _problems(version="1.33", system_node_ami_release_version=None)
    assert "addon_versions.kube_proxy" in message
    assert "v1.33.x" in message
    matching = AddonVersions(kube_proxy="v1.33.3-eksbuild.1")
    args = base_args(version="1.33", system_node_ami_release_version=None, addon_versions=matching)
    assert ServingCluster.validate(args) == []


def test_read_only_roles_need_namespaces() -> None:
    assert "read_only_namespaces" in _problems(read_only_roles={"reader": READER_ROLE})


def test_bad_sizes_retention_and_release_are_all_reported_at_once() -> None:
    message = _problems(
        system_node_min_size=3,
        system_node_desired_size=2,
        log_retention_days=10,
        system_node_ami_release_version="1.33.5-20251010",
    )
    for arg in (
        "system_node_desired_size",
        "log_retention_days",
        "system_node_ami_release_version",
    ):
        assert arg in message
    assert "4 invalid" not in message  # exactly the three problems above
    assert "3 invalid argument(s)" in message


def test_valid_args_pass_validation() -> None:
    assert ServingCluster.validate(base_args()) == []
    ok = dataclasses.replace(
        base_args(), endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24"]
    )
    assert ServingCluster.validate(ok) == []
