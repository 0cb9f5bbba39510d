"""EKS: private endpoint, secrets encryption, control-plane logs, versions, access, node SSH."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from rules import documents
from rules.catalog import resource_rule, rules_of, stack_rule
from rules.checks import customer_managed_key
from rules.cidrs import world_cidrs
from rules.context import StackContext
from rules.read import Node

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


@resource_rule("EKS-001", CLUSTER)
def _endpoint(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    vpc = args.props["vpcConfig"]
    if vpc["endpointPrivateAccess"].flag() is not True:
        yield "the private API endpoint is off"
    public = vpc["endpointPublicAccess"].flag(True)  # EKS turns it on when unset
    if public is True:
        cidrs = vpc["publicAccessCidrs"].strings() or ["0.0.0.0/0"]
        if not cfg["allowPublicEndpoint"]:
            yield "the public API endpoint is on; this environment allows private only"
        open_cidrs = world_cidrs(cidrs)
        if open_cidrs:
            yield f"the public API endpoint is open to {', '.join(open_cidrs)}"


@resource_rule("EKS-002", CLUSTER)
def _secrets(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    configs = args.props["encryptionConfig"].items(single=True)
    ok = any(
        "secrets" in [r.lower() for r in enc["resources"].strings()]
        and customer_managed_key(enc.at("provider", "keyArn").text() or "")
        for enc in configs
    )
    if not ok:
        yield "Kubernetes secrets are not envelope-encrypted with a customer managed KMS key"


@resource_rule("EKS-003", CLUSTER)
def _logging(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    enabled = {t.lower() for t in args.props["enabledClusterLogTypes"].strings()}
    missing = [t for t in cfg["requiredLogTypes"] if str(t).lower() not in enabled]
    if missing:
        yield f"control-plane log types not enabled: {', '.join(missing)}"


@resource_rule("EKS-004", CLUSTER)
def _version(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    version = args.props["version"].text()
    allowed = [str(v) for v in cfg["supportedVersions"]]
    if not version:
        yield "the Kubernetes version is not pinned (EKS would pick its default)"
    elif version.strip() not in allowed:
        yield f"Kubernetes {version} is not in the supported list ({', '.join(allowed)})"


@resource_rule("EKS-005", CLUSTER)
def _access(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    access = args.props["accessConfig"]
    mode = (access["authenticationMode"].text() or "CONFIG_MAP").upper()
    allowed = [str(m) for m in cfg["allowedAuthenticationModes"]]
    if mode not in allowed:
        yield f"authenticationMode is {mode}; allowed: {', '.join(allowed)} (access entries)"
    if access["bootstrapClusterCreatorAdminPermissions"].flag(True) is not False:
        yield "the cluster creator gets implicit cluster-admin (bootstrap admin is on)"


@resource_rule("EKS-006", NODE_GROUP)
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


@resource_rule("EKS-007", ADDON, NODE_GROUP, EC2_NODE_CLASS)
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


@stack_rule("EKS-008")
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


RULES = rules_of(__name__)
