"""Find (and with --delete remove) what would block ``pulumi destroy`` from deleting the VPC.

    python -m scripts.teardown_guard --stack dev --outputs outputs.json
    python -m scripts.teardown_guard --stack dev --cluster mlops-dev-eks --delete --dry-run
    python -m scripts.teardown_guard --stack dev --cluster mlops-dev-eks --delete

Kubernetes controllers create AWS resources Pulumi never saw. Left behind, they hold the
VPC's subnets and security groups, and ``pulumi destroy`` fails (or hangs) on the VPC:

1. load balancers made for the cluster, in the VPC: the AWS Load Balancer Controller's
   (elbv2; tag ``elbv2.k8s.aws/cluster=<cluster>`` or ``kubernetes.io/cluster/<cluster>``)
   and the Classic ELBs the in-tree ``Service type: LoadBalancer`` code makes (elb API;
   tag ``kubernetes.io/cluster/<cluster>``);
2. their target groups (same tags);
3. detached (``available``) network interfaces in the VPC that belong to the cluster: the
   VPC CNI's (description ``aws-K8S-...``, unless tagged for another cluster) or tagged
   ``cluster.k8s.amazonaws.com/name=<cluster>`` / ``kubernetes.io/cluster/<cluster>``;
   other detached interfaces are listed as "not ours, left alone", never deleted;
4. security groups those controllers made (same tags; never the EKS-managed cluster
   security group), and the rules in other groups that reference them or the cluster's
   security group.

Deletion order: load balancers of both kinds (then wait until they are gone: botocore's
``load_balancers_deleted`` waiter for elbv2; the elb API has no such waiter, so the same
acceptors, "LoadBalancerNotFound" means gone, run through botocore's waiter machinery),
target groups, ENIs, rules that reference a leftover security group, the leftover security
groups. Rules in other
groups that reference the cluster's security group are listed, not removed: Pulumi owns
them and deletes them itself.

Before anything is listed, the target must be the stack's (else exit 2, nothing deleted):

* the cluster is the one the platform names for the stack, ``<project>-<stack>-eks``;
* the caller's account (STS) is in the stack's ``allowedAccountIds``;
* a found cluster carries no ``stack`` tag of another stack;
* a VPC given by flag or outputs is the found cluster's VPC, or is tagged ``stack=<stack>``,
  or is the stack's adopted VPC: ``network.existing.vpcId``, or the VPC ID output of the
  Terraform state named by ``network.existing.terraformState`` (read only when needed, so
  an adopted VPC is recognised after the cluster is gone).

Prod is refused unless told twice, ``--confirm-stack <stack>`` (the stack name typed again)
AND ``--i-understand-this-is-prod``, when the stack's profile is ``prod`` (checked before
AWS is asked) or the cluster or the VPC is tagged ``environment=prod`` (checked once they
are described, before anything is listed or deleted).

Exit codes: 0 nothing blocks (or everything found was deleted); 1 blockers found and left
(or a deletion failed); 2 bad input, a target that is not the stack's, or a refused prod
run; 3 AWS could not be asked.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client
from mlops_platform.core.naming import NameKind, physical_name
from mlops_platform.network.terraform_state import TerraformStateError, read_state

from scripts.aws_session import (
    Aws,
    Reporter,
    UserError,
    aws_parser,
    error_code,
    open_stack,
    paginate,
    read_json_input,
    run,
    table,
)
from scripts.cli import EXIT_FAIL, EXIT_INPUT, EXIT_OK
from scripts.offline.project import REPO_ROOT, load_project
from scripts.verify import parse_outputs

CONTROLLER_TAG = "elbv2.k8s.aws/cluster"
"""The tag the AWS Load Balancer Controller puts on what it creates (value: cluster name)."""
EKS_MANAGED_TAG = "aws:eks:cluster-name"
"""Tag on the cluster security group EKS itself creates (deleted with the cluster)."""
CNI_CLUSTER_TAG = "cluster.k8s.amazonaws.com/name"
"""The tag the VPC CNI puts on the network interfaces it creates (value: cluster name)."""
CNI_DESCRIPTION_PREFIX = "aws-K8S-"
"""How the VPC CNI describes the network interfaces it creates (``aws-K8S-i-...``)."""
DELETE_ORDER = (
    "load-balancer",
    "classic-load-balancer",
    "target-group",
    "network-interface",
    "sg-rule",
    "security-group",
)
LOAD_BALANCER_KINDS = ("load-balancer", "classic-load-balancer")
WAIT_SECONDS = 300
"""How long to wait for deleted load balancers to disappear before going on."""
WAIT_DELAY_SECONDS = 15
"""Seconds between two polls of a waiter (botocore's delay for ``load_balancers_deleted``)."""
CLASSIC_DELETED_WAITER = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "ClassicLoadBalancerDeleted": {
                "operation": "DescribeLoadBalancers",
                "delay": WAIT_DELAY_SECONDS,
                "maxAttempts": 40,
                "acceptors": [
                    {"matcher": "error", "expected": "LoadBalancerNotFound", "state": "success"},
                    {
                        "matcher": "path",
                        "argument": "length(LoadBalancerDescriptions) > `0`",
                        "expected": True,
                        "state": "retry",
                    },
                ],
            }
        },
    }
)
"""The elb API ships no "deleted" waiter (only instance-health ones); this one has the
acceptors of elbv2's ``LoadBalancersDeleted`` for the Classic ``DescribeLoadBalancers``."""


@dataclass
class Blocker:
    """One leftover resource (or security group rule) that blocks the VPC's deletion."""

    kind: str
    id: str
    detail: str
    delete: bool = True
    """False: listed for the operator, never deleted by this tool."""
    result: str = "found"
    """``found``, ``would-delete``, ``deleted``, ``left`` or ``failed: <reason>``."""
    group_id: str = ""
    """For ``sg-rule``: the security group that holds the rule."""


def cluster_owned(tags: dict[str, str], cluster: str) -> bool:
    """Whether a resource's tags say a controller of ``cluster`` created it."""
    return tags.get(CONTROLLER_TAG) == cluster or f"kubernetes.io/cluster/{cluster}" in tags


def eni_owned(eni: dict[str, Any], cluster: str) -> bool:
    """Whether a network interface belongs to ``cluster``.

    Ours when tagged for ``cluster`` (the CNI's ``cluster.k8s.amazonaws.com/name=<cluster>``,
    or ``kubernetes.io/cluster/<cluster>``); with no cluster tag at all, ours when the VPC
    CNI described it (``aws-K8S-...``). Anything else (tagged for another cluster, or not
    the CNI's) is someone else's.
    """
    tags = _tags(eni.get("TagSet"))
    if tags.get(CNI_CLUSTER_TAG) == cluster or f"kubernetes.io/cluster/{cluster}" in tags:
        return True
    if CNI_CLUSTER_TAG in tags or any(k.startswith("kubernetes.io/cluster/") for k in tags):
        return False
    return str(eni.get("Description") or "").startswith(CNI_DESCRIPTION_PREFIX)


def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or []}


@dataclass
class Guard:
    """Finds blockers, then deletes them in dependency order."""

    aws: Aws
    cluster: str
    vpc_id: str
    cluster_sg: str
    reporter: Reporter

    def __post_init__(self) -> None:
        self.elb = self.aws.client("elbv2")
        self.classic = self.aws.client("elb")
        self.ec2 = self.aws.client("ec2")

    # --- finding -----------------------------------------------------------------------

    def find(self) -> list[Blocker]:
        """Every blocker, in deletion order."""
        blockers = self.load_balancers() + self.classic_load_balancers()
        blockers += self.target_groups() + self.enis()
        blockers += self.security_groups()
        return sorted(blockers, key=lambda b: DELETE_ORDER.index(b.kind))

    def _controller_made(
        self, found: list[dict[str, Any]], key: str, *, classic: bool = False
    ) -> list[tuple[dict[str, Any], dict[str, str]]]:
        """The items of ``found`` (identified by their ``key``) a controller of the cluster
        made, with their tags: from elbv2's ``DescribeTags`` by ARN, or with ``classic`` the
        elb API's by load balancer name (either takes at most 20 resources a call)."""
        client, param, tagged = (
            (self.classic, "LoadBalancerNames", "LoadBalancerName")
            if classic
            else (self.elb, "ResourceArns", "ResourceArn")
        )
        ids = [item[key] for item in found]
        tags: dict[str, dict[str, str]] = {}
        for start in range(0, len(ids), 20):
            response = client.describe_tags(**{param: ids[start : start + 20]})
            for entry in response.get("TagDescriptions", []):
                tags[entry[tagged]] = _tags(entry.get("Tags"))
        with_tags = [(item, tags.get(item[key], {})) for item in found]
        return [(item, t) for item, t in with_tags if cluster_owned(t, self.cluster)]

    def load_balancers(self) -> list[Blocker]:
        """The controller's load balancers in the VPC."""
        self.reporter.progress("listing load balancers")
        found = paginate(self.elb, "describe_load_balancers", "LoadBalancers")
        in_vpc = [lb for lb in found if lb.get("VpcId") == self.vpc_id]
        return [
            Blocker(
                "load-balancer",
                lb["LoadBalancerArn"],
                f"{lb.get('Type', '?')} {lb['LoadBalancerName']} ({lb.get('Scheme', '?')})",
            )
            for lb, _ in self._controller_made(in_vpc, "LoadBalancerArn")
        ]

    def classic_load_balancers(self) -> list[Blocker]:
        """The Classic ELBs made for the cluster (in-tree Service controller) in the VPC."""
        self.reporter.progress("listing classic load balancers")
        found = paginate(self.classic, "describe_load_balancers", "LoadBalancerDescriptions")
        in_vpc = [lb for lb in found if lb.get("VPCId") == self.vpc_id]
        return [
            Blocker(
                "classic-load-balancer",
                lb["LoadBalancerName"],
                f"classic {lb['LoadBalancerName']} ({lb.get('Scheme', '?')}, "
                f"service {tags.get('kubernetes.io/service-name', '?')})",
            )
            for lb, tags in self._controller_made(in_vpc, "LoadBalancerName", classic=True)
        ]

    def target_groups(self) -> list[Blocker]:
        """The controller's target groups (those of Lambda targets have no VPC)."""
        self.reporter.progress("listing target groups")
        found = paginate(self.elb, "describe_target_groups", "TargetGroups")
        in_vpc = [tg for tg in found if tg.get("VpcId") in (self.vpc_id, None)]
        return [
            Blocker("target-group", tg["TargetGroupArn"], tg["TargetGroupName"])
            for tg, _ in self._controller_made(in_vpc, "TargetGroupArn")
        ]

    def enis(self) -> list[Blocker]:
        """Detached (``available``) network interfaces in the VPC: the cluster's to delete,
        the others listed and left alone."""
        self.reporter.progress(f"listing detached network interfaces in {self.vpc_id}")
        detached = paginate(
            self.ec2,
            "describe_network_interfaces",
            "NetworkInterfaces",
            Filters=[
                {"Name": "vpc-id", "Values": [self.vpc_id]},
                {"Name": "status", "Values": ["available"]},
            ],
        )
        blockers = []
        for eni in detached:
            description = eni.get("Description") or "no description"
            detail = f"{description} in {eni.get('SubnetId', '?')}"
            ours = eni_owned(eni, self.cluster)
            blockers.append(
                Blocker(
                    "network-interface",
                    eni["NetworkInterfaceId"],
                    detail if ours else f"{detail} (not ours, left alone)",
                    delete=ours,
                )
            )
        return blockers

    def security_groups(self) -> list[Blocker]:
        """The controllers' security groups, and rules elsewhere that point at them or at
        the cluster's security group."""
        self.reporter.progress("listing security groups")
        groups = list(
            paginate(
                self.ec2,
                "describe_security_groups",
                "SecurityGroups",
                Filters=[{"Name": "vpc-id", "Values": [self.vpc_id]}],
            )
        )
        leftover = {
            g["GroupId"]: g
            for g in groups
            if cluster_owned(_tags(g.get("Tags")), self.cluster)
            and EKS_MANAGED_TAG not in _tags(g.get("Tags"))
            and g["GroupId"] != self.cluster_sg
            and g.get("GroupName") != "default"
        }
        blockers = []
        watched = set(leftover) | ({self.cluster_sg} if self.cluster_sg else set())
        for group in groups:
            if group["GroupId"] in leftover:
                continue
            for rule in self._rules(group["GroupId"]):
                target = rule.get("ReferencedGroupInfo", {}).get("GroupId")
                if target not in watched:
                    continue
                direction = "egress" if rule.get("IsEgress") else "ingress"
                to_leftover = target in leftover
                blockers.append(
                    Blocker(
                        "sg-rule",
                        rule["SecurityGroupRuleId"],
                        f"{direction} rule in {group['GroupId']} ({group.get('GroupName', '?')}) "
                        f"references {target}"
                        + ("" if to_leftover else " (the cluster's group: Pulumi removes it)"),
                        delete=to_leftover,
                        group_id=group["GroupId"],
                    )
                )
        blockers += [
            Blocker(
                "security-group",
                gid,
                f"{g.get('GroupName', '?')}: {g.get('Description', '')}".rstrip(": "),
            )
            for gid, g in sorted(leftover.items())
        ]
        return blockers

    def _rules(self, group_id: str) -> Iterator[dict[str, Any]]:
        return paginate(
            self.ec2,
            "describe_security_group_rules",
            "SecurityGroupRules",
            Filters=[{"Name": "group-id", "Values": [group_id]}],
        )

    # --- deleting ----------------------------------------------------------------------

    def delete(self, blockers: list[Blocker], *, dry_run: bool, wait_seconds: float) -> None:
        """Delete what may be deleted, in :data:`DELETE_ORDER`; record each result. Before
        anything after the load balancers, wait until the deleted ones are gone."""
        waited = False
        for blocker in blockers:
            if not blocker.delete:
                blocker.result = "left"
                continue
            if dry_run:
                blocker.result = "would-delete"
                continue
            if blocker.kind not in LOAD_BALANCER_KINDS and not waited:
                self._wait_for_load_balancers(blockers, wait_seconds)
                waited = True
            self.reporter.progress(f"deleting {blocker.kind} {blocker.id}")
            try:
                self._delete_one(blocker)
                blocker.result = "deleted"
            except ClientError as exc:
                blocker.result = f"failed: {error_code(exc)}: " + str(
                    exc.response.get("Error", {}).get("Message", "")
                )

    def _delete_one(self, blocker: Blocker) -> None:
        if blocker.kind == "load-balancer":
            self.elb.delete_load_balancer(LoadBalancerArn=blocker.id)
        elif blocker.kind == "classic-load-balancer":
            self.classic.delete_load_balancer(LoadBalancerName=blocker.id)
        elif blocker.kind == "target-group":
            self.elb.delete_target_group(TargetGroupArn=blocker.id)
        elif blocker.kind == "network-interface":
            self.ec2.delete_network_interface(NetworkInterfaceId=blocker.id)
        elif blocker.kind == "sg-rule":
            rule = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[blocker.id])[
                "SecurityGroupRules"
            ][0]
            if rule.get("IsEgress"):
                self.ec2.revoke_security_group_egress(
                    GroupId=blocker.group_id, SecurityGroupRuleIds=[blocker.id]
                )
            else:
                self.ec2.revoke_security_group_ingress(
                    GroupId=blocker.group_id, SecurityGroupRuleIds=[blocker.id]
                )
        elif blocker.kind == "security-group":
            self.ec2.delete_security_group(GroupId=blocker.id)

    def _wait_for_load_balancers(self, blockers: list[Blocker], wait_seconds: float) -> None:
        """Wait (botocore waiters, one load balancer at a time, within one overall budget)
        until every deleted load balancer is gone; one still there is marked failed."""
        deleted = [b for b in blockers if b.kind in LOAD_BALANCER_KINDS and b.result == "deleted"]
        if not deleted:
            return
        delay = max(1, min(WAIT_DELAY_SECONDS, math.ceil(wait_seconds)))
        deadline = time.monotonic() + wait_seconds
        self.reporter.progress(f"waiting for {len(deleted)} load balancer(s) to go")
        for blocker in deleted:
            if blocker.kind == "load-balancer":
                waiter = self.elb.get_waiter("load_balancers_deleted")
                params: dict[str, Any] = {"LoadBalancerArns": [blocker.id]}
            else:
                waiter = create_waiter_with_client(
                    "ClassicLoadBalancerDeleted", CLASSIC_DELETED_WAITER, self.classic
                )
                params = {"LoadBalancerNames": [blocker.id]}
            attempts = max(1, math.ceil((deadline - time.monotonic()) / delay))
            try:
                waiter.wait(**params, WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
            except WaiterError as exc:
                if "Max attempts exceeded" not in str(exc):
                    raise
                blocker.result = "failed: still deleting after the wait"


def _vpc_of(aws: Aws, vpc_config: dict[str, Any]) -> str | None:
    """The VPC of the cluster's subnets (when the cluster description omits vpcId)."""
    subnets = vpc_config.get("subnetIds") or []
    if not subnets:
        return None
    found = aws.client("ec2").describe_subnets(SubnetIds=subnets[:1]).get("Subnets", [])
    return str(found[0]["VpcId"]) if found else None


def prod_refusal(stack: str, why_prod: str, confirm_stack: str | None, understood: bool) -> str:
    """Why a run must be refused ('' when it may go on). Prod needs both confirmations.

    ``why_prod`` says what makes the run a prod one ('' when nothing does).
    """
    if not why_prod:
        return ""
    problems = []
    if confirm_stack != stack:
        problems.append(f"--confirm-stack {stack}")
    if not understood:
        problems.append("--i-understand-this-is-prod")
    if not problems:
        return ""
    return (
        f"stack '{stack}' is a prod teardown ({why_prod}): teardown-guard runs against prod "
        "only when told twice; add " + " and ".join(problems)
    )


def prod_reasons(profile: str, targets: dict[str, dict[str, str]]) -> str:
    """What makes a run prod: the stack's profile, or a target tagged ``environment=prod``.

    ``targets`` maps a description (``cluster X``, ``VPC Y``) to that resource's tags.
    """
    reasons = ["its profile is prod"] if profile == "prod" else []
    reasons += [
        f"{what} is tagged environment=prod"
        for what, tags in targets.items()
        if tags.get("environment") == "prod"
    ]
    return "; ".join(reasons)


def expected_cluster(project: str, stack: str) -> str:
    """The name the platform gives the stack's EKS cluster (``<project>-<stack>-eks``)."""
    return physical_name("eks", NameKind.EKS_CLUSTER, f"{project}-{stack}")


def vpc_belongs(
    vpc_id: str,
    vpc_tags: dict[str, str],
    *,
    stack: str,
    project: str,
    cluster_vpc: str | None,
    adopted_vpc: str | None,
) -> bool:
    """Whether ``vpc_id`` is the stack's: its cluster's VPC, tagged ``stack=<stack>`` (and
    no other ``project``), or the VPC the stack adopts (``network.existing.vpcId``)."""
    if vpc_id in (cluster_vpc, adopted_vpc):
        return True
    return vpc_tags.get("stack") == stack and vpc_tags.get("project", project) == project


def adopted_vpc_from_state(state: Any) -> tuple[str | None, str]:
    """The VPC ID a ``network.existing.terraformState`` setting adopts, or why it is unknown.

    A local state path is relative to the project, as for the program; ``s3://`` states are
    read with the standard AWS environment.
    """
    source = str(state.source)
    if not source.startswith("s3://") and not Path(source).is_absolute():
        source = str(REPO_ROOT / source)
    output = state.outputs.vpc_id
    try:
        value = read_state(source, region=state.region).output(output).value
    except TerraformStateError as exc:
        return None, str(exc)
    if not isinstance(value, str) or not value.startswith("vpc-"):
        return None, f"output {output!r} of Terraform state {state.source} is not a VPC ID"
    return value, ""


def _vpc_tags(aws: Aws, vpc_id: str) -> dict[str, str]:
    """The VPC's tags; a VPC that does not exist is bad input."""
    try:
        vpcs = aws.client("ec2").describe_vpcs(VpcIds=[vpc_id]).get("Vpcs", [])
    except ClientError as exc:
        if error_code(exc) in {"InvalidVpcID.NotFound", "InvalidVpcID.Malformed"}:
            raise UserError(f"VPC {vpc_id} not found in {aws.region_name}") from None
        raise
    if not vpcs:
        raise UserError(f"VPC {vpc_id} not found in {aws.region_name}")
    return _tags(vpcs[0].get("Tags"))


def render(stack: str, cluster: str, vpc_id: str, blockers: list[Blocker], deleting: bool) -> str:
    """The table of blockers with what happened to each."""
    lines = [f"Teardown guard for stack '{stack}': cluster {cluster}, VPC {vpc_id}", ""]
    if not blockers:
        lines.append("Nothing blocks the VPC's deletion: pulumi destroy may go ahead.")
        return "\n".join(lines)
    rows = [[b.kind, b.id, b.result, b.detail] for b in blockers]
    lines.append(table(["kind", "id", "result", "detail"], rows))
    lines.append("")
    deletable = sum(1 for b in blockers if b.delete)
    if not deleting and deletable:
        lines.append(
            f"{deletable} item(s) block the VPC; rerun with --delete (add --dry-run "
            "to preview) to remove them in dependency order."
        )
    foreign = sum(1 for b in blockers if b.kind == "network-interface" and not b.delete)
    if foreign:
        lines.append(
            f"{foreign} detached network interface(s) in the VPC are not the cluster's and "
            "were left alone; if the VPC is the stack's own, they still block its deletion: "
            "find their owners and remove them by hand."
        )
    return "\n".join(lines)


@dataclass
class Target:
    """The cluster and VPC a run works on, once shown to be the stack's."""

    cluster: str
    vpc_id: str
    cluster_sg: str
    tags: dict[str, dict[str, str]]
    """Tags of what was described, keyed ``cluster <name>`` / ``VPC <id>``."""


def _parser() -> argparse.ArgumentParser:
    parser = aws_parser("scripts.teardown_guard", __doc__, stack="stack about to be destroyed")
    parser.add_argument("--outputs", help="stack outputs JSON (clusterName, vpcId), or -")
    parser.add_argument("--cluster", help="EKS cluster name (default: output clusterName)")
    parser.add_argument("--vpc-id", help="VPC ID (default: output vpcId, else the cluster's)")
    parser.add_argument("--delete", action="store_true", help="delete what blocks the VPC")
    parser.add_argument("--dry-run", action="store_true", help="with --delete: change nothing")
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=WAIT_SECONDS,
        help=f"wait for load balancers to go (default {WAIT_SECONDS})",
    )
    parser.add_argument(
        "--confirm-stack",
        metavar="STACK",
        help="prod only: the stack name typed again (first confirmation)",
    )
    parser.add_argument(
        "--i-understand-this-is-prod",
        action="store_true",
        help="prod only: the second confirmation",
    )
    return parser


def _check_account(aws: Aws, stack: str, allowed: list[str]) -> None:
    """Refuse credentials of an account the stack may not deploy to."""
    account = aws.account_id()
    if account not in allowed:
        raise UserError(
            f"the credentials in use are for account {account}, which is not in stack "
            f"'{stack}''s allowedAccountIds ({', '.join(allowed)}): "
            "use a profile of the stack's account"
        )


def resolve_target(
    aws: Aws,
    reporter: Reporter,
    *,
    stack: str,
    project: str,
    cluster: str,
    given_vpc: str | None,
    adopted_vpc: str | None,
    adopted_state: Any = None,
) -> Target:
    """Describe the cluster and the VPC, and refuse (:class:`UserError`) any that is not the
    stack's. ``cluster`` must already be the stack's name for it. ``adopted_state`` (the
    ``network.existing.terraformState`` setting) is read only when nothing else shows the
    VPC to be the stack's."""
    cluster_sg, cluster_vpc = "", None
    tags: dict[str, dict[str, str]] = {}
    reporter.progress(f"describing cluster {cluster}")
    try:
        described = aws.client("eks").describe_cluster(name=cluster)["cluster"]
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        reporter.progress(f"cluster {cluster} not found; using the VPC given")
    else:
        vpc_config = described.get("resourcesVpcConfig", {})
        cluster_sg = vpc_config.get("clusterSecurityGroupId", "")
        cluster_vpc = vpc_config.get("vpcId") or _vpc_of(aws, vpc_config)
        cluster_tags = {str(k): str(v) for k, v in (described.get("tags") or {}).items()}
        if cluster_tags.get("stack", stack) != stack:
            raise UserError(
                f"cluster {cluster} is tagged stack={cluster_tags['stack']}, not stack '{stack}''s"
            )
        tags[f"cluster {cluster}"] = cluster_tags
    if given_vpc and cluster_vpc and given_vpc != cluster_vpc:
        raise UserError(
            f"cluster {cluster} is in VPC {cluster_vpc}, not {given_vpc}: "
            "drop --vpc-id (or fix vpcId in the outputs)"
        )
    vpc_id = given_vpc or cluster_vpc
    if not vpc_id:
        raise UserError(f"cluster {cluster} not found and no VPC given: pass --vpc-id")
    vpc_tags = _vpc_tags(aws, vpc_id)
    belongs = {"stack": stack, "project": project, "cluster_vpc": cluster_vpc}
    why_not_adopted = ""
    if not vpc_belongs(vpc_id, vpc_tags, adopted_vpc=adopted_vpc, **belongs) and adopted_state:
        reporter.progress(f"reading the adopted VPC from Terraform state {adopted_state.source}")
        adopted_vpc, why_not_adopted = adopted_vpc_from_state(adopted_state)
    if not vpc_belongs(vpc_id, vpc_tags, adopted_vpc=adopted_vpc, **belongs):
        adopted = "network.existing.terraformState" if adopted_state else "network.existing.vpcId"
        if adopted_vpc:
            adopted += f" ({adopted_vpc})"
        elif why_not_adopted:
            adopted += f" (unknown: {why_not_adopted})"
        raise UserError(
            f"VPC {vpc_id} is not stack '{stack}''s: it is not the VPC of cluster {cluster}, "
            f"not tagged stack={stack}"
            + (f" (it is tagged stack={vpc_tags['stack']})" if "stack" in vpc_tags else "")
            + f", and not the stack's adopted VPC from {adopted}"
        )
    tags[f"VPC {vpc_id}"] = vpc_tags
    return Target(cluster, vpc_id, cluster_sg, tags)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)

    def refuse_prod(targets: dict[str, dict[str, str]], profile: str) -> None:
        why = prod_reasons(profile, targets)
        refusal = prod_refusal(args.stack, why, args.confirm_stack, args.i_understand_this_is_prod)
        if refusal:
            raise UserError(refusal, EXIT_INPUT)

    def body() -> int:
        config, aws, reporter = open_stack(args)
        project = str(load_project()["name"])
        refuse_prod({}, config.profile.value)  # before AWS is asked at all
        outputs = parse_outputs(read_json_input(args.outputs)) if args.outputs else {}
        cluster = args.cluster or outputs.get("clusterName")
        if not cluster:
            raise UserError("name the cluster: --cluster NAME or --outputs with clusterName")
        ours = expected_cluster(project, args.stack)
        if cluster != ours:
            raise UserError(
                f"cluster {cluster} is not stack '{args.stack}''s: the platform names that "
                f"stack's cluster {ours}; pass the --stack (and its stack file) that owns it"
            )
        _check_account(aws, args.stack, list(config.allowed_account_ids))
        existing = config.network.existing
        target = resolve_target(
            aws,
            reporter,
            stack=args.stack,
            project=project,
            cluster=cluster,
            given_vpc=args.vpc_id or outputs.get("vpcId"),
            adopted_vpc=existing.vpc_id if existing is not None else None,
            adopted_state=existing.terraform_state if existing is not None else None,
        )
        refuse_prod(target.tags, config.profile.value)  # before anything is listed
        vpc_id = target.vpc_id
        guard = Guard(aws, cluster, vpc_id, target.cluster_sg, reporter)
        blockers = guard.find()
        if args.delete:
            guard.delete(blockers, dry_run=args.dry_run, wait_seconds=args.wait_seconds)
        document = {
            "stack": args.stack,
            "cluster": cluster,
            "vpcId": vpc_id,
            "dryRun": args.dry_run,
            "blockers": [asdict(b) for b in blockers],
        }
        reporter.result(document, render(args.stack, cluster, vpc_id, blockers, args.delete))
        if not args.delete or args.dry_run:
            return EXIT_FAIL if any(b.delete for b in blockers) else EXIT_OK
        return EXIT_FAIL if any(b.result.startswith("failed") for b in blockers) else EXIT_OK

    return run(body)


if __name__ == "__main__":
    sys.exit(main())
