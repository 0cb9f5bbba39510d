"""EKS: private endpoint, secrets encryption, control-plane logs, versions, access, node SSH."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from rules.cidrs import world_cidrs
from rules.rule import Rule, dig, items

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
SUPPORTED_VERSIONS = ["1.32", "1.33", "1.34", "1.35"]


def _endpoint(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    vpc = args.props.get("vpcConfig") or {}
    if dig(vpc, "endpointPrivateAccess") is not True:
        yield "the private API endpoint is off"
    public = dig(vpc, "endpointPublicAccess", default=True)  # EKS turns it on when unset
    if public is True:
        cidrs = items(dig(vpc, "publicAccessCidrs")) or ["0.0.0.0/0"]
        if not cfg.get("allowPublicEndpoint"):
            yield "the public API endpoint is on; this environment allows private only"
        open_cidrs = world_cidrs(cidrs)
        if open_cidrs:
            yield f"the public API endpoint is open to {', '.join(open_cidrs)}"


def _secrets(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    enc = args.props.get("encryptionConfig") or {}
    if "secrets" not in items(dig(enc, "resources")) or not dig(enc, "provider", "keyArn"):
        yield "Kubernetes secrets are not envelope-encrypted with a KMS key"


def _logging(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    enabled = set(items(args.props.get("enabledClusterLogTypes")))
    missing = [t for t in cfg.get("requiredLogTypes", LOG_TYPES) if t not in enabled]
    if missing:
        yield f"control-plane log types not enabled: {', '.join(missing)}"


def _version(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    version = args.props.get("version")
    allowed = list(cfg.get("supportedVersions", SUPPORTED_VERSIONS))
    if not version:
        yield "the Kubernetes version is not pinned (EKS would pick its default)"
    elif str(version) not in allowed:
        yield f"Kubernetes {version} is not in the supported list ({', '.join(allowed)})"


def _access(args: ResourceValidationArgs, cfg: Mapping[str, Any]) -> Iterator[str]:
    access = args.props.get("accessConfig") or {}
    mode = dig(access, "authenticationMode", default="CONFIG_MAP")
    allowed = list(cfg.get("allowedAuthenticationModes", ["API"]))
    if mode not in allowed:
        yield f"authenticationMode is {mode}; allowed: {', '.join(allowed)} (access entries)"
    if dig(access, "bootstrapClusterCreatorAdminPermissions", default=True) is not False:
        yield "the cluster creator gets implicit cluster-admin (bootstrap admin is on)"


def _node_ssh(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    remote = args.props.get("remoteAccess")
    if remote and not items(dig(remote, "sourceSecurityGroupIds")):
        yield "remote SSH access is open to 0.0.0.0/0 (no source security groups)"


_EXACT_ADDON = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")


def _pinned(args: ResourceValidationArgs, _: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    if args.resource_type == ADDON:
        version = props.get("addonVersion")
        if not version:
            yield f"add-on {props.get('addonName')} has no addonVersion (EKS picks the default)"
        elif not _EXACT_ADDON.match(str(version)):
            yield f"add-on version {version!r} is not an exact vX.Y.Z-eksbuild.N release"
    elif args.resource_type == NODE_GROUP:
        custom_ami = props.get("amiType") == "CUSTOM"
        if not custom_ami and not props.get("releaseVersion"):
            yield "node group has no releaseVersion: the AMI changes whenever EKS updates"
    else:
        for term in items(dig(props, "spec", "amiSelectorTerms")):
            alias = dig(term, "alias")
            if isinstance(alias, str) and alias.endswith("@latest"):
                yield f"amiSelectorTerms alias {alias!r} follows the latest AMI"


RULES: list[Rule] = [
    Rule(
        id="EKS-001",
        name="eks-endpoint-private",
        severity=Severity.CRITICAL,
        description="EKS API endpoints are private; a public endpoint exists only where the "
        "environment allows it, and never for 0.0.0.0/0.",
        remediation=(
            "aws.eks.Cluster(..., vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=private, "
            "endpoint_private_access=True, endpoint_public_access=False)); where a public "
            'endpoint is allowed, set public_access_cidrs=["203.0.113.0/24"].'
        ),
        controls=("FSBP EKS.1", "CKV_AWS_38", "CKV_AWS_39", "CIS 5.4.1", "CIS 5.4.2"),
        catalog=(17,),
        resource_check=_endpoint,
        resource_types=(CLUSTER,),
        config={
            "allowPublicEndpoint": {
                "type": "boolean",
                "default": False,
                "description": "Whether a public endpoint (from an allowlist) is acceptable.",
            }
        },
    ),
    Rule(
        id="EKS-002",
        name="eks-secrets-encryption",
        severity=Severity.HIGH,
        description="EKS clusters envelope-encrypt Kubernetes secrets with a KMS key.",
        remediation=(
            "aws.eks.Cluster(..., encryption_config=aws.eks.ClusterEncryptionConfigArgs("
            'resources=["secrets"], provider=aws.eks.ClusterEncryptionConfigProviderArgs('
            "key_arn=key.arn)))"
        ),
        controls=("CKV_AWS_58", "CIS 5.3.1"),
        catalog=(18,),
        resource_check=_secrets,
        resource_types=(CLUSTER,),
    ),
    Rule(
        id="EKS-003",
        name="eks-control-plane-logging",
        severity=Severity.MEDIUM,
        description="EKS clusters send all five control-plane log types to CloudWatch.",
        remediation=(
            'aws.eks.Cluster(..., enabled_cluster_log_types=["api", "audit", '
            '"authenticator", "controllerManager", "scheduler"])'
        ),
        controls=("FSBP EKS.8", "CKV_AWS_37", "CIS 2.1.1"),
        catalog=(19,),
        resource_check=_logging,
        resource_types=(CLUSTER,),
        config={
            "requiredLogTypes": {
                "type": "array",
                "items": {"type": "string"},
                "default": LOG_TYPES,
                "description": "Control-plane log types that must be enabled.",
            }
        },
    ),
    Rule(
        id="EKS-004",
        name="eks-supported-version",
        severity=Severity.HIGH,
        description="EKS clusters pin a Kubernetes version that is in standard support.",
        remediation='aws.eks.Cluster(..., version="1.33")  # from the supported list',
        controls=("FSBP EKS.2", "CKV_AWS_339"),
        catalog=(20,),
        resource_check=_version,
        resource_types=(CLUSTER,),
        config={
            "supportedVersions": {
                "type": "array",
                "items": {"type": "string"},
                "default": SUPPORTED_VERSIONS,
                "description": "Kubernetes versions in EKS standard support.",
            }
        },
    ),
    Rule(
        id="EKS-005",
        name="eks-access-entries-no-bootstrap-admin",
        severity=Severity.HIGH,
        description="EKS clusters authenticate through access entries (API mode) and do not "
        "make the creator an implicit cluster admin.",
        remediation=(
            "aws.eks.Cluster(..., access_config=aws.eks.ClusterAccessConfigArgs("
            'authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False)) '
            "plus aws.eks.AccessEntry / AccessPolicyAssociation for each admin role."
        ),
        controls=("CIS 4.1.7", "CIS 5.5.1"),
        catalog=(21,),
        resource_check=_access,
        resource_types=(CLUSTER,),
        config={
            "allowedAuthenticationModes": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["API"],
                "description": "Acceptable accessConfig.authenticationMode values.",
            }
        },
    ),
    Rule(
        id="EKS-006",
        name="eks-node-group-no-open-ssh",
        severity=Severity.HIGH,
        description="EKS node groups allow no remote SSH from 0.0.0.0/0.",
        remediation=(
            "Drop remote_access (use SSM Session Manager), or restrict it: "
            "remote_access=aws.eks.NodeGroupRemoteAccessArgs(ec2_ssh_key=key, "
            "source_security_group_ids=[bastion_sg.id])"
        ),
        controls=("CKV_AWS_100",),
        catalog=(23,),
        resource_check=_node_ssh,
        resource_types=(NODE_GROUP,),
    ),
    Rule(
        id="EKS-007",
        name="eks-versions-pinned",
        severity=Severity.MEDIUM,
        description="EKS add-on versions and node AMI release versions are pinned; Karpenter "
        "node classes do not follow @latest AMIs.",
        remediation=(
            'aws.eks.Addon(..., addon_version="v1.19.2-eksbuild.1"); aws.eks.NodeGroup(..., '
            'release_version="1.33.0-20250704"); EC2NodeClass amiSelectorTerms: '
            '[{"alias": "al2023@v20250704"}]'
        ),
        controls=("MLOPS 70",),
        catalog=(70,),
        resource_check=_pinned,
        resource_types=(ADDON, NODE_GROUP, EC2_NODE_CLASS),
        limits="A node group with a launch template that names its own AMI (amiType CUSTOM) "
        "is pinned by that AMI ID.",
    ),
]
