"""Architecture diagrams (Mermaid) generated from each stack's offline preview.

    python -m scripts.architecture                # rewrite docs/architecture.md
    python -m scripts.architecture --check        # exit 1 if the committed file is stale

Every box and arrow comes from what the real program registers for the stack, read from the
registrations' inputs: components and their key resources; trust edges (who may assume which
IAM role: the role's trust policy, EKS Pod Identity associations, IRSA ``sub`` conditions,
EKS access entries); data edges (which role reaches which bucket, queue, topic or database,
from the role's inline policies and the workloads' Helm values).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.cost_estimate import owning_component
from scripts.offline import Recording, Registration, synthesize
from scripts.offline.project import REPO_ROOT

STACKS = ("dev", "test", "prod")
OUTPUT = REPO_ROOT / "docs" / "architecture.md"
COMMAND = "python -m scripts.architecture"

_ID = re.compile(r"[^A-Za-z0-9_]")
_S3_WRITE = ("s3:PutObject", "s3:DeleteObject")
_S3_READ = ("s3:GetObject", "s3:ListBucket")


def _node_id(prefix: str, name: str) -> str:
    return f"{prefix}_{_ID.sub('_', name)}"


def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return value if isinstance(value, dict) else {}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Diagram:
    """Nodes grouped by component, and labelled edges, in a stable order."""

    groups: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    outside: dict[str, str] = field(default_factory=dict)
    trust: set[tuple[str, str, str]] = field(default_factory=set)
    data: set[tuple[str, str, str]] = field(default_factory=set)

    def node(self, group: str, node: str, label: str) -> None:
        """A node inside a component's box (once)."""
        members = self.groups.setdefault(group, [])
        if all(existing != node for existing, _ in members):
            members.append((node, label))

    def render(self) -> str:
        """The Mermaid flowchart."""
        out = ["flowchart LR"]
        for node, label in sorted(self.outside.items()):
            out.append(f'  {node}(["{label}"])')
        for index, (group, members) in enumerate(sorted(self.groups.items())):
            out.append(f'  subgraph c{index}["{group}"]')
            out += [f'    {node}["{label}"]' for node, label in sorted(members)]
            out.append("  end")
        out += [f"  {a} -->|{label}| {b}" for a, b, label in sorted(self.trust)]
        out += [f"  {a} -.->|{label}| {b}" for a, b, label in sorted(self.data)]
        return "\n".join(out)


class _Builder:
    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.by_urn = {r.urn: r for r in recording.resources}
        self.diagram = Diagram()
        self.roles: dict[str, str] = {}  # role name -> node id
        self.role_arns: dict[str, str] = {}  # role ARN suffix (role/<name>) -> node id

    def component(self, r: Registration) -> str:
        return owning_component(self.by_urn, r)

    def of(self, type_: str) -> list[Registration]:
        return self.recording.of_type(type_)

    def build(self) -> Diagram:
        for step in (
            self._network,
            self._cluster,
            self._pools,
            self._storage,
            self._registry,
            self._database,
            self._messaging,
            self._roles,
            self._pod_identity,
            self._access_entries,
            self._policies,
            self._workloads,
        ):
            step()
        return self.diagram

    # ---------------------------------------------------------------- resources

    def _network(self) -> None:
        for vpc in self.of("aws:ec2/vpc:Vpc"):
            group = self.component(vpc)
            subnets = len(self.of("aws:ec2/subnet:Subnet"))
            nats = len(self.of("aws:ec2/natGateway:NatGateway"))
            endpoints = self.of("aws:ec2/vpcEndpoint:VpcEndpoint")
            interface = sorted(
                str(e.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
                for e in endpoints
                if e.inputs.get("vpcEndpointType") == "Interface"
            )
            gateway = sum(1 for e in endpoints if e.inputs.get("vpcEndpointType") == "Gateway")
            label = f"VPC {vpc.inputs.get('cidrBlock', '')}<br/>{subnets} subnets, {nats} NAT"
            self.diagram.node(group, _node_id("vpc", vpc.name), label)
            text = f"{gateway} gateway endpoint(s)"
            if interface:
                text += f"<br/>{len(interface)} interface: {', '.join(interface)}"
            self.diagram.node(group, _node_id("vpce", vpc.name), text)

    def _cluster(self) -> None:
        for r in self.of("aws:eks/cluster:Cluster"):
            vpc = r.inputs.get("vpcConfig") or {}
            access = "private API" + (
                " + allowlisted public" if vpc.get("endpointPublicAccess") else " only"
            )
            label = f"EKS {r.inputs.get('name')} {r.inputs.get('version')}<br/>{access}"
            self.diagram.node(self.component(r), "cluster", label)

    def _pools(self) -> None:
        for r in self.of("aws:eks/nodeGroup:NodeGroup"):
            scaling = r.inputs.get("scalingConfig") or {}
            label = (
                f"node group {r.inputs.get('nodeGroupName')}<br/>"
                f"{'/'.join(r.inputs.get('instanceTypes') or [])} "
                f"{int(scaling.get('minSize', 0))}-{int(scaling.get('maxSize', 0))} "
                f"{str(r.inputs.get('capacityType', '')).lower().replace('_', '-')}"
            )
            self.diagram.node(self.component(r), _node_id("ng", r.name), label)
        for r in self.of("kubernetes:karpenter.sh/v1:NodePool"):
            spec = r.inputs.get("spec") or {}
            limit = (spec.get("limits") or {}).get("nvidia.com/gpu")
            label = f"Karpenter NodePool {(r.inputs.get('metadata') or {}).get('name')}"
            label += f"<br/>up to {limit} GPUs"
            self.diagram.node(self.component(r), _node_id("np", r.name), label)

    def _storage(self) -> None:
        for r in self.of("aws:s3/bucket:Bucket"):
            node = _node_id("s3", str(r.inputs.get("bucket", r.name)))
            self.diagram.node(self.component(r), node, f"S3 {r.inputs.get('bucket', r.name)}")

    def _registry(self) -> None:
        for r in self.of("aws:ecr/repository:Repository"):
            node = _node_id("ecr", str(r.inputs.get("name", r.name)))
            self.diagram.node(self.component(r), node, f"ECR {r.inputs.get('name')}")

    def _database(self) -> None:
        for r in self.of("aws:rds/instance:Instance"):
            label = f"RDS {r.inputs.get('engine')} {r.inputs.get('instanceClass')}" + (
                " Multi-AZ" if r.inputs.get("multiAz") else ""
            )
            node = _node_id("rds", str(r.inputs.get("identifier", r.name)))
            self.diagram.node(self.component(r), node, label)

    def _messaging(self) -> None:
        for type_, kind in (("aws:sns/topic:Topic", "SNS"), ("aws:sqs/queue:Queue", "SQS")):
            for r in self.of(type_):
                node = _node_id(kind.lower(), str(r.inputs.get("name", r.name)))
                self.diagram.node(self.component(r), node, f"{kind} {r.inputs.get('name')}")

    # -------------------------------------------------------------------- trust

    def _outside(self, node: str, label: str) -> str:
        self.diagram.outside[node] = label
        return node

    def _roles(self) -> None:
        for r in self.of("aws:iam/role:Role"):
            name = str(r.inputs.get("name", r.name))
            node = _node_id("role", name)
            self.roles[name] = node
            self.role_arns[f"role/{name}"] = node
            self.diagram.node(self.component(r), node, f"role {name}")
            policy = _document(r.inputs.get("assumeRolePolicy"))
            for statement in _listed(policy.get("Statement", [])):
                self._trust(node, statement)

    def _trust(self, role: str, statement: Mapping[str, Any]) -> None:
        principal = statement.get("Principal") or {}
        conditions: dict[str, Any] = {}
        for block in (statement.get("Condition") or {}).values():
            conditions.update(block)
        for service in _listed(principal.get("Service", [])) if principal else []:
            if service == "pods.eks.amazonaws.com":
                continue  # drawn from the Pod Identity associations that name the role
            who = self._outside(_node_id("svc", service), service)
            self.diagram.trust.add((who, role, "assumes"))
        for federated in _listed(principal.get("Federated", [])) if principal else []:
            sub = next((v for k, v in conditions.items() if k.endswith(":sub")), "")
            if "token.actions.githubusercontent.com" in str(federated):
                who = self._outside(_node_id("gh", str(sub)), f"GitHub Actions<br/>{sub}")
                self.diagram.trust.add((who, role, "OIDC"))
            else:
                who = self._outside(_node_id("irsa", str(sub)), f"IRSA {sub}")
                self.diagram.trust.add((who, role, "IRSA"))
        for aws in _listed(principal.get("AWS", [])) if principal else []:
            mfa = conditions.get("aws:MultiFactorAuthPresent") == "true"
            account = str(aws).split(":")[4] if str(aws).startswith("arn:") else str(aws)
            label = f"principals of account {account}" + (" with MFA" if mfa else "")
            patterns = _listed(conditions.get("aws:PrincipalArn", []))
            if patterns:  # narrowed to named principals (SSO permission sets, roles)
                label = "<br/>".join(str(p).split(":", 5)[-1] for p in patterns)
            who = self._outside(_node_id("acct", label), label)
            self.diagram.trust.add((who, role, "assumes"))

    def _role_node(self, arn: Any) -> str | None:
        text = str(arn)
        return next((node for key, node in self.role_arns.items() if text.endswith(key)), None)

    def _pod_identity(self) -> None:
        for r in self.of("aws:eks/podIdentityAssociation:PodIdentityAssociation"):
            role = self._role_node(r.inputs.get("roleArn"))
            account = f"{r.inputs.get('namespace')}/{r.inputs.get('serviceAccount')}"
            sa = _node_id("sa", account)
            self.diagram.node(self.component(r), sa, f"service account {account}")
            if role:
                self.diagram.trust.add((sa, role, "Pod Identity"))

    def _access_entries(self) -> None:
        for r in self.of("aws:eks/accessEntry:AccessEntry"):
            role = self._role_node(r.inputs.get("principalArn"))
            if role:
                self.diagram.trust.add((role, "cluster", "access entry"))

    # --------------------------------------------------------------------- data

    def _targets(self) -> dict[str, Callable[[str], bool]]:
        targets: dict[str, Callable[[str], bool]] = {}
        for r in self.of("aws:s3/bucket:Bucket"):
            bucket = str(r.inputs.get("bucket", r.name))
            node = _node_id("s3", bucket)
            targets[node] = lambda arn, b=bucket: arn.split(":::", 1)[-1].split("/", 1)[0] == b
        for type_, kind in (("aws:sns/topic:Topic", "sns"), ("aws:sqs/queue:Queue", "sqs")):
            for r in self.of(type_):
                name = str(r.inputs.get("name", r.name))
                targets[_node_id(kind, name)] = lambda arn, n=name: arn.endswith(f":{n}")
        return targets

    def _policies(self) -> None:
        targets = self._targets()
        reached: dict[tuple[str, str], set[str]] = {}
        for r in self.of("aws:iam/rolePolicy:RolePolicy"):
            role = self.roles.get(str(r.inputs.get("role", "")))
            if role is None:
                continue
            for statement in _listed(_document(r.inputs.get("policy")).get("Statement", [])):
                if statement.get("Effect", "Allow") != "Allow":
                    continue
                actions = [str(a) for a in _listed(statement.get("Action", []))]
                for arn in (str(a) for a in _listed(statement.get("Resource", []))):
                    for node, matches in targets.items():
                        if matches(arn):
                            reached.setdefault((role, node), set()).update(actions)
        for (role, node), actions in reached.items():
            self.diagram.data.add((role, node, _verb(actions)))

    def _workloads(self) -> None:
        databases = {
            str(r.inputs.get("identifier")): _node_id("rds", str(r.inputs.get("identifier")))
            for r in self.of("aws:rds/instance:Instance")
        }
        for r in self.of("kubernetes:helm.sh/v3:Release"):
            values = r.inputs.get("values") or {}
            host = str(((values.get("backendStore") or {}).get("postgres") or {}).get("host", ""))
            for identifier, node in databases.items():
                if host.startswith(f"{identifier}."):
                    account = (values.get("serviceAccount") or {}).get("name")
                    namespace = r.inputs.get("namespace") or (
                        (self.by_urn.get(r.parent or "") or r).name
                    )
                    release = _node_id("rel", str(r.inputs.get("name", r.name)))
                    label = f"Helm {r.inputs.get('chart')} {r.inputs.get('version')}"
                    self.diagram.node(self.component(r), release, label)
                    self.diagram.data.add((release, node, "backend store"))
                    if account:
                        sa = _node_id("sa", f"{namespace}/{account}")
                        if any(
                            sa == n for members in self.diagram.groups.values() for n, _ in members
                        ):
                            self.diagram.trust.add((release, sa, "runs as"))


def _verb(actions: Iterable[str]) -> str:
    listed = list(actions)
    writes = any(a.startswith(_S3_WRITE) or a in {"s3:*", "sns:Publish", "sqs:SendMessage"}
                 for a in listed)  # fmt: skip
    reads = any(a.startswith(_S3_READ) or a.startswith(("sqs:Receive", "sqs:Get")) for a in listed)
    if writes and reads:
        return "read+write"
    return "write" if writes else "read" if reads else "uses"


def diagram(recording: Recording) -> str:
    """The Mermaid flowchart of one stack's recording."""
    return _Builder(recording).build().render()


def render(recordings: Mapping[str, Recording]) -> str:
    """The whole docs/architecture.md for the given stacks."""
    out = [
        "# Architecture, per environment",
        "",
        f"<!-- Generated by `{COMMAND}` from the offline preview of each stack. Do not edit: "
        "tests/scripts/test_architecture.py fails when this file and the generator disagree. -->",
        "",
        "Each diagram is drawn from what the real program registers for the stack (the same "
        "registrations the offline preview and the policy pack see), not from a drawing. Boxes "
        "are the platform's components and their key resources. Solid arrows are trust: who "
        "may assume which IAM role (trust policies, EKS Pod Identity associations, GitHub "
        "OIDC), and which roles hold an EKS access entry. Dotted arrows are data: which role "
        "reads or writes which bucket, topic or queue (from its inline policies) and which "
        "workload uses which database (from its Helm values).",
        "",
        "Regenerate after changing a component or a stack file:",
        "",
        "```bash",
        f".venv/bin/{COMMAND}",
        "```",
    ]
    for stack, recording in recordings.items():
        counts = len(recording.created())
        out += [
            "",
            f"## {stack}",
            "",
            f"`stacks/Pulumi.{stack}.yaml`, {counts} registered resources.",
            "",
            "```mermaid",
            diagram(recording),
            "```",
        ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog=COMMAND, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="file to write")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render({stack: synthesize(stack) for stack in STACKS})
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} is stale: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
