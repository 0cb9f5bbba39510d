"""The shared component preamble (core.component), the workload-role helpers every component
uses (iam.workload.PodIdentity, cluster_document) and the chart release (cluster.kubernetes)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pytest
from mlops_platform.cluster.kubernetes import helm_release, pod_security_labels
from mlops_platform.core.checks import cidr_problems, int_between
from mlops_platform.core.component import Component
from mlops_platform.core.validation import ComponentInputError, Invalid
from mlops_platform.iam import PodIdentity, arn_part, cluster_document
from mlops_platform.testing.mocks import PlatformMocks, RecordingMonitor

from scripts.offline import run_program
from scripts.offline.engine import Recording

CLUSTER_ARN = "arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/ml-dev"
INVOKES = {
    "aws:index/getCallerIdentity:getCallerIdentity",
    "aws:index/getPartition:getPartition",
    "aws:index/getRegion:getRegion",
}


@dataclass
class WidgetArgs:
    name_prefix: str
    size: int = 1
    protect: bool = False
    use_aws: bool = False


def _size_problems(args: WidgetArgs) -> list[Invalid]:
    problems = [Invalid("size", args.size, "1 to 3")] if not 1 <= args.size <= 3 else []
    if not args.name_prefix:
        problems.append(Invalid("name_prefix", args.name_prefix, "a non-empty prefix"))
    return problems


class Widget(Component, legacy_module="widgets"):
    """A component made only to exercise the base class."""

    queue_url: pulumi.Output[str]
    """The queue's URL."""

    def __init__(
        self, name: str, args: WidgetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = self.accept(name, args, _size_problems)
        super().__init__(name, opts)
        queue = aws.sqs.Queue(f"{name}-queue", opts=self.stateful(args.protect))
        aws.sqs.QueuePolicy(
            f"{name}-policy",
            queue_url=queue.url,
            policy="{}",
            opts=self.child(depends_on=[queue]),
        )
        if args.use_aws:
            # read twice: each is asked once
            pulumi.export("arn", self.aws.arn("sqs", f"{name}-queue"))
            pulumi.export("root", self.aws.root_arn)
            pulumi.export("account", self.aws.account)
        pulumi.export("owner", self.owner)
        self.publish(queue_url=queue.url)


def _widget(**kwargs: object) -> Recording:
    return run_program(lambda: Widget("w", WidgetArgs(name_prefix="team-dev", **kwargs)))  # type: ignore[arg-type]


def test_token_alias_children_and_outputs():
    rec = _widget()
    widget = rec.one("mlops:index:Widget", "w")
    assert [a["spec"]["type"] for a in widget.aliases if "spec" in a] == ["mlops:widgets:Widget"]
    assert Widget.type_token() == "mlops:index:Widget"
    assert Widget.legacy_type_token() == "mlops:widgets:Widget"
    queue = rec.one("aws:sqs/queue:Queue", "w-queue")
    policy = rec.one("aws:sqs/queuePolicy:QueuePolicy", "w-policy")
    assert queue.parent == policy.parent == widget.urn
    assert queue.urn in policy.dependencies
    assert not queue.protect and not queue.retain_on_delete
    assert set(rec.component_outputs[widget.urn]) == {"queue_url"}
    assert rec.outputs["owner"] == "Widget 'w'"


def test_stateful_children_are_protected_and_retained_when_asked():
    queue = _widget(protect=True).one("aws:sqs/queue:Queue", "w-queue")
    assert queue.protect and queue.retain_on_delete


def test_accept_raises_every_problem_under_the_components_name_before_it_registers():
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(ComponentInputError) as raised:
        run_program(lambda: Widget("w", WidgetArgs(name_prefix="", size=9)), monitor=monitor)
    error = raised.value
    assert (error.component, error.name) == ("Widget", "w")
    assert sorted(p.arg for p in error.problems) == ["name_prefix", "size"]
    registered = {raw.request["type"] for raw in monitor.registrations}
    assert registered == {"pulumi:pulumi:Stack"}, "bad input registered more than the stack"


def test_the_aws_context_is_asked_only_when_used_and_once_each():
    unused = _widget()
    assert not INVOKES & {i["token"] for i in unused.invokes}
    used = _widget(use_aws=True)
    tokens = [i["token"] for i in used.invokes if i["token"] in INVOKES]
    assert sorted(tokens) == sorted(INVOKES)  # once each, though read more than once
    account = used.outputs["account"]
    assert used.outputs["root"] == f"arn:aws:iam::{account}:root"
    assert used.outputs["arn"] == f"arn:aws:sqs:us-east-1:{account}:w-queue"


def test_a_hostable_subclass_keeps_the_public_token():
    class HostedWidget(Widget):
        pass

    assert HostedWidget.type_token() == "mlops:index:Widget"
    assert HostedWidget.legacy_type_token() == "mlops:widgets:Widget"


def _policy(*, partition: str, region: str, account: str, queue: str, extra: None) -> dict:
    return {"Statement": [{"Resource": f"arn:{partition}:sqs:{region}:{account}:{queue}"}]}


def test_pod_identity_roles_of_a_component_and_cluster_documents():
    @dataclass
    class ControllerArgs:
        name_prefix: str = "team-dev"
        cluster_name: str = "ml-dev"
        cluster_arn: str = CLUSTER_ARN
        permission_boundary_arn: str | None = "arn:aws:iam::123456789012:policy/boundary"

    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Parent", "parent")
        args = ControllerArgs()
        document = cluster_document(args.cluster_arn, _policy, queue="jobs", extra=None)
        role = PodIdentity.of(parent, args).role(
            "ctl", role="controller", namespace="ops", service_account="ctl", policy=document
        )
        pulumi.export("ready", role.ready.urn)
        pulumi.export("region", arn_part(args.cluster_arn, "region"))
        pulumi.export("bare", cluster_document(args.cluster_arn, lambda **parts: parts))

    rec = run_program(program)
    parent = rec.one("test:index:Parent")
    iam_role = rec.one("aws:iam/role:Role", "ctl-role")
    policy = rec.one("aws:iam/rolePolicy:RolePolicy", "ctl-policy")
    association = rec.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "ctl-pod-identity"
    )
    assert iam_role.parent == policy.parent == association.parent == parent.urn
    assert iam_role.inputs["name"] == "team-dev-controller"
    assert iam_role.inputs["permissionsBoundary"].endswith(":policy/boundary")
    assert association.inputs["clusterName"] == "ml-dev"
    assert '"arn:aws-us-gov:sqs:us-gov-west-1:123456789012:jobs"' in policy.inputs["policy"]
    assert rec.outputs["ready"] == association.urn
    assert rec.outputs["region"] == "us-gov-west-1"
    assert rec.outputs["bare"] == {
        "partition": "aws-us-gov",
        "region": "us-gov-west-1",
        "account": "123456789012",
    }


def test_chart_releases_are_atomic_unless_asked_otherwise():
    def program() -> None:
        common = {"version": "1.2.3", "namespace": "ops", "opts": pulumi.ResourceOptions()}
        helm_release("repo", chart="demo", repository="https://charts.example.com", **common)
        helm_release("oci", chart="oci://registry.example.com/charts/demo", **common)
        helm_release(
            "slow", chart="big", repository="https://charts.example.com", atomic=False, **common
        )

    rec = run_program(program)
    repo, oci, slow = (rec.one("kubernetes:helm.sh/v3:Release", n) for n in ("repo", "oci", "slow"))
    assert repo.inputs["atomic"] and repo.inputs["cleanupOnFail"]
    assert repo.inputs["repositoryOpts"] == {"repo": "https://charts.example.com"}
    assert oci.inputs["name"] == "demo" and "repositoryOpts" not in oci.inputs
    assert "atomic" not in slow.inputs and "cleanupOnFail" not in slow.inputs


def test_value_checks():
    assert pod_security_labels("baseline", warn="restricted") == {
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/audit": "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    assert int_between(3, 1, 3) and not int_between(True, 0, 3) and not int_between("2", 1, 3)
    found: list[Invalid] = []

    def program() -> None:  # an Output exists only inside a program
        cidrs = ["10.0.0.0/16", "10.0.0.1/16", "0.0.0.0/0", pulumi.Output.from_input("x"), 7]
        found.extend(cidr_problems("cidrs", cidrs, allowed="a CIDR", internet="not the internet"))

    run_program(program)
    assert [(p.arg, p.allowed) for p in found] == [
        ("cidrs[1]", "a CIDR"),
        ("cidrs[2]", "not the internet"),
        ("cidrs[4]", "a CIDR"),
    ]
    assert cidr_problems("v4", ["2001:db8::/32"], allowed="IPv4", ipv4_only=True)[0].arg == "v4[0]"


def test_workload_role_keywords_are_checked_like_a_signature():
    from mlops_platform.iam import pod_identity_role  # noqa: PLC0415

    def build(**kwargs: object) -> None:
        run_program(
            lambda: pod_identity_role(
                "ctl",
                cluster_name="ml-dev",
                cluster_arn=CLUSTER_ARN,
                name_prefix="team-dev",
                role="controller",
                namespace="ops",
                service_account="ctl",
                **kwargs,  # type: ignore[arg-type]
            )
        )

    with pytest.raises(TypeError, match=r"missing keyword argument\(s\): policy"):
        build()
    # a misspelt boundary is refused, never dropped
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\): permission_boundary$"):
        build(policy={"Statement": [{"Sid": "A"}]}, permission_boundary="arn:aws:iam::1:policy/b")
