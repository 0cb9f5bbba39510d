"""EKS: private endpoint, secrets encryption, control-plane logs, versions, access, node SSH."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource, Severity

from rules import documents
from rules.cidrs import world_cidrs
from rules.read import Node
from rules.rule import Rule, StackContext, customer_managed_key

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
SUPPORTED_VERSIONS = ["1.32", "1.33", "1.34", "1.35"]


def _endpoint(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    vpc = args.props["vpcConfig"]
    if vpc["endpointPrivateAccess"].flag() is not True:
        yield "the private API endpoint is off"
    public = vpc["endpointPublicAccess"].flag(True)  # EKS turns it on when unset
    if public is True:
        cidrs = vpc["publicAccessCidrs"].strings() or ["0.0.0.0/0"]
        if not cfg.get("allowPublicEndpoint"):
            yield "the public API endpoint is on; this environment allows private only"
        open_cidrs = world_cidrs(cidrs)
        if open_cidrs:
            yield f"the public API endpoint is open to {', '.join(open_cidrs)}"


def _secrets(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    configs = args.props["encryptionConfig"].items(single=True)
    ok = any(
        "secrets" in [r.lower() for r in enc["resources"].strings()]
        and customer_managed_key(enc.at("provider", "keyArn").text() or "")
        for enc in configs
    )
    if not ok:
        yield "Kubernetes secrets are not envelope-encrypted with a customer managed KMS key"


def _logging(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    enabled = {t.lower() for t in args.props["enabledClusterLogTypes"].strings()}
    missing = [t for t in cfg.get("requiredLogTypes", LOG_TYPES) if str(t).lower() not in enabled]
    if missing:
        yield f"control-plane log types not enabled: {', '.join(missing)}"


def _version(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    version = args.props["version"].text()
    allowed = [str(v) for v in cfg.get("supportedVersions", SUPPORTED_VERSIONS)]
    if not version:
        yield "the Kubernetes version is not pinned (EKS would pick its default)"
    elif version.strip() not in allowed:
        yield f"Kubernetes {version} is not in the supported list ({', '.join(allowed)})"


def _access(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    access = args.props["accessConfig"]
    mode = (access["authenticationMode"].text() or "CONFIG_MAP").upper()
    allowed = [str(m) for m in cfg.get("allowedAuthenticationModes", ["API"])]
    if mode not in allowed:
        yield f"authenticationMode is {mode}; allowed: {', '.join(allowed)} (access entries)"
    if access["bootstrapClusterCreatorAdminPermissions"].flag(True) is not False:
        yield "the cluster creator gets implicit cluster-admin (bootstrap admin is on)"


def _node_ssh(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    remote = args.props["remoteAccess"]
    if remote.present and remote.entries() and not remote["sourceSecurityGroupIds"].strings():
        yield "remote SSH access is open to 0.0.0.0/0 (no source security groups)"


_EXACT_ADDON = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_PINNED_ALIAS = re.compile(r"^[a-z0-9]+@v\d{8}$")
_AMI_ID = re.compile(r"^ami-[0-9a-f]{8,17}$")


def ami_terms_unpinned(spec: Node) -> list[str]:
    """Why an EC2NodeClass's amiSelectorTerms do not pin one AMI build: each term must be an
    ``id`` (ami-...) or an ``alias`` with a dated version (al2023@v20250704); ``@latest``,
    names, tags and SSM parameters follow whatever is newest."""
    terms = spec["amiSelectorTerms"].items()
    if not terms:
        return ["amiSelectorTerms is empty: no AMI is pinned"]
    problems = []
    for term in terms:
        alias = term["alias"].text()
        ami_id = term["id"].text()
        if alias is not None:
            if not _PINNED_ALIAS.match(alias.strip()):
                problems.append(f"amiSelectorTerms alias {alias!r} does not pin a dated release")
        elif ami_id is not None:
            if not _AMI_ID.match(ami_id.strip()):
                problems.append(f"amiSelectorTerms id {ami_id!r} is not an AMI ID")
        else:
            keys = ", ".join(sorted(term.entries())) or "nothing"
            problems.append(
                f"an amiSelectorTerms entry selects by {keys}: the newest matching AMI wins"
            )
    return problems


def _pinned(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    if args.resource_type == ADDON:
        version = props["addonVersion"].text()
        if not version:
            yield (
                f"add-on {props['addonName'].label()} has no addonVersion (EKS picks the default)"
            )
        elif not _EXACT_ADDON.match(version.strip()):
            yield f"add-on version {version!r} is not an exact vX.Y.Z-eksbuild.N release"
    elif args.resource_type == NODE_GROUP:
        custom_ami = (props["amiType"].text() or "").upper() == "CUSTOM"
        if not custom_ami and not props["releaseVersion"].text():
            yield "node group has no releaseVersion: the AMI changes whenever EKS updates"
    else:
        yield from ami_terms_unpinned(props["spec"])


ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ADMIN_ACCESS_POLICIES = ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy")
"""EKS access policies that make a principal an administrator (cluster-admin, or admin
across the namespaces of its scope)."""
_MACHINE_ENTRY_TYPES = frozenset({"EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX"})
_MACHINE_SERVICES = ("ec2.amazonaws.com", "eks-fargate-pods.amazonaws.com", "ssm.amazonaws.com")


def _machine_role(ctx: StackContext, role: PolicyResource) -> bool:
    for s in documents.parse(role.props["assumeRolePolicy"]) or []:
        services = [p.split(":", 1)[1] for p in s.principals if p.startswith("Service:")]
        if s.allows and any(svc.lower() in _MACHINE_SERVICES for svc in services):
            return True
    return False


def _cluster_admin(ctx: StackContext, _: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    entries = ctx.of_type(ACCESS_ENTRY)
    roles = ctx.of_type("aws:iam/role:Role")

    def check(assoc: PolicyResource) -> Iterator[tuple[str | None, str]]:
        policy = assoc.props["policyArn"].text() or ""
        name = policy.rsplit("/", 1)[-1]
        if name not in ADMIN_ACCESS_POLICIES:
            return
        principal = assoc.props["principalArn"]
        arn = principal.text() or ""
        why = ""
        if not arn.strip() or any(ch in arn for ch in "*?"):
            why = "a wildcard principal"
        elif arn.strip().endswith(":root"):
            why = "a whole account (:root)"
        else:
            linked = [
                d for d in assoc.property_dependencies.get("principalArn", []) if d in entries
            ]
            for entry in linked:
                if (entry.props["type"].text() or "STANDARD").upper() in _MACHINE_ENTRY_TYPES:
                    why = "a node (machine) access entry"
            targets = [
                r
                for e in [*linked, assoc]
                for r in e.property_dependencies.get("principalArn", [])
                if r in roles
            ]
            if any(_machine_role(ctx, r) for r in targets):
                why = "a machine role (trusted by an AWS service such as EC2)"
        if why:
            yield assoc.urn, f"{name} is granted to {why}: {principal.label()}"

    return ctx.per_resource(ctx.of_type(ACCESS_POLICY_ASSOCIATION), check)


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
        description="EKS clusters envelope-encrypt Kubernetes secrets with a customer managed "
        "KMS key.",
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
        "EC2NodeClasses pin their AMIs (an ami- ID or a dated alias such as al2023@v20250704; "
        "never @latest, names, tags or SSM parameters).",
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
    Rule(
        id="EKS-008",
        name="eks-cluster-admin-not-broad",
        severity=Severity.CRITICAL,
        description="No EKS access policy association gives AmazonEKSClusterAdminPolicy or "
        "AmazonEKSAdminPolicy to a wildcard principal, a whole account (:root), a node access "
        "entry (EC2_LINUX, ...) or a machine role (one an AWS service such as EC2 assumes).",
        remediation=(
            "aws.eks.AccessPolicyAssociation(..., principal_arn=deployer_role.arn, "
            'policy_arn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", '
            'access_scope={"type": "cluster"})  # a named human or CI role only'
        ),
        controls=("CIS 4.1.1", "CIS 5.5.1"),
        catalog=(21,),
        stack_check=_cluster_admin,
        limits="A machine role is recognised through the association's (or its access "
        "entry's) property dependency on a role in the stack.",
    ),
]
