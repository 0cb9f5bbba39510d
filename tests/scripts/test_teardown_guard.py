"""teardown_guard against a moto server: find and delete controller leftovers; the target
must be the stack's; prod gate."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import yaml
from botocore.session import get_session

from scripts import teardown_guard
from scripts.teardown_guard import (
    CLASSIC_DELETED_WAITER,
    cluster_owned,
    eni_owned,
    expected_cluster,
    main,
    prod_reasons,
    prod_refusal,
    vpc_belongs,
)

MOTO_ACCOUNT = "123456789012"
CLUSTER = "mlops-dev-eks"
PROD_CLUSTER = "mlops-prod-eks"
ROLE = f"arn:aws:iam::{MOTO_ACCOUNT}:role/test"


def _owned(cluster: str) -> list[dict[str, str]]:
    return [{"Key": "elbv2.k8s.aws/cluster", "Value": cluster}]


def _platform_tags(stack: str, environment: str) -> dict[str, str]:
    return {"project": "mlops", "stack": stack, "environment": environment}


def _leftovers(
    cluster: str = CLUSTER,
    stack: str = "dev",
    environment: str = "dev",
    cidr: str = "10.10",
    *,
    make_cluster: bool = True,
) -> dict[str, str]:
    """A cluster's VPC after `kubectl delete` forgot things: ids of what was made."""
    ec2 = boto3.client("ec2")
    tag_list = [{"Key": k, "Value": v} for k, v in _platform_tags(stack, environment).items()]
    vpc = ec2.create_vpc(
        CidrBlock=f"{cidr}.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list}],
    )["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24", AvailabilityZone=f"us-east-1{z}"
        )["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    if make_cluster:
        boto3.client("eks").create_cluster(
            name=cluster,
            roleArn=ROLE,
            version="1.34",
            resourcesVpcConfig={
                "subnetIds": subnets,
                "endpointPrivateAccess": True,
                "endpointPublicAccess": False,
            },
            tags=_platform_tags(stack, environment),
        )
    lb_sg = ec2.create_security_group(
        GroupName=f"k8s-traffic-{cluster}",
        Description="managed LB SG",
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": _owned(cluster)}],
    )["GroupId"]
    node_sg = ec2.create_security_group(
        GroupName=f"{cluster}-nodes", Description="nodes (Pulumi)", VpcId=vpc
    )["GroupId"]
    rule = ec2.authorize_security_group_ingress(
        GroupId=node_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": lb_sg}],
            }
        ],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]

    elb = boto3.client("elbv2")
    lb = elb.create_load_balancer(
        Name=f"k8s-{stack}-serving", Subnets=subnets, SecurityGroups=[lb_sg], Tags=_owned(cluster)
    )["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=f"k8s-{stack}-serving-tg",
        Protocol="HTTP",
        Port=8080,
        VpcId=vpc,
        TargetType="ip",
        Tags=_owned(cluster),
    )["TargetGroups"][0]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    # Someone else's load balancer in the same VPC: must be left alone.
    foreign = elb.create_load_balancer(
        Name=f"not-ours-{stack}", Subnets=subnets, Tags=_owned("another-cluster")
    )["LoadBalancers"][0]
    eni = ec2.create_network_interface(SubnetId=subnets[0], Description="aws-K8S-i-0abc")[
        "NetworkInterface"
    ]["NetworkInterfaceId"]
    return {
        "vpc": vpc,
        "subnet": subnets[0],
        "lb": lb["LoadBalancerArn"],
        "tg": tg["TargetGroupArn"],
        "eni": eni,
        "rule": rule,
        "lb_sg": lb_sg,
        "node_sg": node_sg,
        "foreign": foreign["LoadBalancerArn"],
    }


def _resources(ids: dict[str, str]) -> set[str]:
    """The leftovers' ids (and the bystanders'), without the VPC and subnet."""
    return {v for k, v in ids.items() if k not in {"vpc", "subnet"}}


def _still_there(ids: dict[str, str]) -> set[str]:
    """Which of the leftovers made by :func:`_leftovers` still exist."""
    elb, ec2 = boto3.client("elbv2"), boto3.client("ec2")
    present: set[str] = set()
    present |= {lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]}
    present |= {tg["TargetGroupArn"] for tg in elb.describe_target_groups()["TargetGroups"]}
    vpc_filter = [{"Name": "vpc-id", "Values": [ids["vpc"]]}]
    present |= {
        e["NetworkInterfaceId"]
        for e in ec2.describe_network_interfaces(Filters=vpc_filter)["NetworkInterfaces"]
    }
    groups = ec2.describe_security_groups(Filters=vpc_filter)["SecurityGroups"]
    present |= {g["GroupId"] for g in groups}
    for group in groups:
        present |= {
            r["SecurityGroupRuleId"]
            for r in ec2.describe_security_group_rules(
                Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}]
            )["SecurityGroupRules"]
        }
    return present & _resources(ids)


def _kinds(out: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for blocker in json.loads(out)["blockers"]:
        found.setdefault(blocker["kind"], []).append(blocker)
    return found


@pytest.fixture
def stack_file(stack_document, tmp_path) -> Callable[..., str]:
    """A settings file from a real stack's document, deployable to moto's account."""

    def make(stack: str = "dev", **config: Any) -> str:
        document = stack_document(stack)
        document["config"]["mlops:allowedAccountIds"] = [MOTO_ACCOUNT]
        document["config"].update(config)
        path = tmp_path / f"Pulumi.{stack}-{len(list(tmp_path.glob('Pulumi.*')))}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return str(path)

    return make


@pytest.fixture
def dev(stack_file) -> list[str]:
    """``--stack dev --stack-file <dev, moto's account>``."""
    return ["--stack", "dev", "--stack-file", stack_file("dev")]


def test_finds_leftovers_without_touching_them(moto_endpoint, run_cli, dev):
    ids = _leftovers()
    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--json")
    assert code == 1
    found = _kinds(out)
    assert [b["id"] for b in found["load-balancer"]] == [ids["lb"]]
    assert [b["id"] for b in found["target-group"]] == [ids["tg"]]
    assert [b["id"] for b in found["network-interface"]] == [ids["eni"]]
    assert [b["id"] for b in found["security-group"]] == [ids["lb_sg"]]
    assert [(b["id"], b["group_id"]) for b in found["sg-rule"]] == [(ids["rule"], ids["node_sg"])]
    assert json.loads(out)["vpcId"] == ids["vpc"]  # taken from the cluster
    assert all(b["result"] == "found" for b in json.loads(out)["blockers"])
    assert "... listing load balancers" in err
    assert _still_there(ids) == _resources(ids)


def test_dry_run_delete_changes_nothing(moto_endpoint, run_cli, dev):
    ids = _leftovers()
    before = _still_there(ids)
    assert before == _resources(ids)
    code, out, _ = run_cli(main, *dev, "--cluster", CLUSTER, "--delete", "--dry-run", "--json")
    assert code == 1
    blockers = json.loads(out)["blockers"]
    assert {b["result"] for b in blockers} == {"would-delete"}
    assert {b["id"] for b in blockers} == {ids[k] for k in ("lb", "tg", "eni", "rule", "lb_sg")}
    assert _still_there(ids) == before  # every leftover id, not only the load balancers


def test_delete_removes_leftovers_in_dependency_order(moto_endpoint, run_cli, dev):
    ids = _leftovers()
    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--delete", "--json")
    assert code == 0, out + err
    blockers = json.loads(out)["blockers"]
    assert [b["kind"] for b in blockers] == [
        "load-balancer",
        "target-group",
        "network-interface",
        "sg-rule",
        "security-group",
    ]
    assert {b["result"] for b in blockers} == {"deleted"}
    assert _still_there(ids) == {ids["foreign"], ids["node_sg"]}

    code, out, _ = run_cli(main, *dev, "--cluster", CLUSTER)
    assert code == 0
    assert "Nothing blocks the VPC's deletion" in out


def test_only_the_clusters_network_interfaces_are_deleted(moto_endpoint, run_cli, dev):
    ids = _leftovers()
    ec2 = boto3.client("ec2")

    def eni(description: str, tags: dict[str, str] | None = None) -> str:
        spec = (
            [
                {
                    "ResourceType": "network-interface",
                    "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
                }
            ]
            if tags
            else []
        )
        return ec2.create_network_interface(
            SubnetId=ids["subnet"], Description=description, TagSpecifications=spec
        )["NetworkInterface"]["NetworkInterfaceId"]

    ours_tagged = eni("branch ENI", {"cluster.k8s.amazonaws.com/name": CLUSTER})
    ours_k8s = eni("", {f"kubernetes.io/cluster/{CLUSTER}": "owned"})
    lambda_eni = eni("AWS Lambda VPC ENI-shared-fn")
    untagged = eni("")
    other_cni = eni("aws-K8S-i-0def", {"cluster.k8s.amazonaws.com/name": "another-cluster"})
    other_k8s = eni("aws-K8S-i-0fed", {"kubernetes.io/cluster/another-cluster": "owned"})
    theirs = {lambda_eni, untagged, other_cni, other_k8s}

    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--delete", "--json")
    assert code == 0, out + err
    enis = {b["id"]: b for b in _kinds(out)["network-interface"]}
    assert set(enis) == {ids["eni"], ours_tagged, ours_k8s} | theirs
    for eni_id in (ids["eni"], ours_tagged, ours_k8s):
        assert enis[eni_id]["result"] == "deleted"
    for eni_id in theirs:
        assert enis[eni_id]["result"] == "left"
        assert enis[eni_id]["detail"].endswith("(not ours, left alone)")
    remaining = {
        e["NetworkInterfaceId"]
        for e in ec2.describe_network_interfaces(
            Filters=[{"Name": "vpc-id", "Values": [ids["vpc"]]}]
        )["NetworkInterfaces"]
    }
    assert remaining == theirs

    code, out, _ = run_cli(main, *dev, "--cluster", CLUSTER)
    assert code == 0  # nothing of ours is left; theirs is reported
    assert "not ours, left alone" in out
    assert "block the VPC; rerun with --delete" not in out  # nothing left for it to delete
    assert "4 detached network interface(s) in the VPC are not the cluster's" in out


def test_eni_ownership():
    assert eni_owned({"Description": "aws-K8S-i-0abc"}, "c")
    assert eni_owned({"TagSet": [{"Key": "cluster.k8s.amazonaws.com/name", "Value": "c"}]}, "c")
    assert eni_owned({"TagSet": [{"Key": "kubernetes.io/cluster/c", "Value": "owned"}]}, "c")
    assert eni_owned(
        {
            "TagSet": [
                {"Key": "cluster.k8s.amazonaws.com/name", "Value": "d"},
                {"Key": "kubernetes.io/cluster/c", "Value": "shared"},
            ]
        },
        "c",
    )
    assert not eni_owned({"Description": "AWS Lambda VPC ENI"}, "c")
    assert not eni_owned({}, "c")
    assert not eni_owned(
        {
            "Description": "aws-K8S-i-0abc",
            "TagSet": [{"Key": "cluster.k8s.amazonaws.com/name", "Value": "d"}],
        },
        "c",
    )
    assert not eni_owned(
        {
            "Description": "aws-K8S-i-0abc",
            "TagSet": [{"Key": "kubernetes.io/cluster/d", "Value": "owned"}],
        },
        "c",
    )


def test_cluster_and_vpc_from_outputs_file(moto_endpoint, run_cli, tmp_path, dev):
    ids = _leftovers()
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"clusterName": CLUSTER, "vpcId": ids["vpc"]}))
    code, out, _ = run_cli(main, *dev, "--outputs", str(path), "--json")
    assert code == 1
    assert json.loads(out)["cluster"] == CLUSTER


def test_tag_matching():
    assert cluster_owned({"elbv2.k8s.aws/cluster": "a"}, "a")
    assert cluster_owned({"kubernetes.io/cluster/a": "owned"}, "a")
    assert not cluster_owned({"elbv2.k8s.aws/cluster": "b"}, "a")
    assert not cluster_owned({}, "a")


# --- the target must be the stack's --------------------------------------------------------


def test_cluster_name_follows_the_platform():
    assert expected_cluster("mlops", "dev") == CLUSTER
    assert expected_cluster("mlops", "prod") == PROD_CLUSTER


def test_stack_file_of_another_stack_is_refused_by_account(moto_endpoint, run_cli):
    # Reported bypass: the prod decision came from the file named, not from the target.
    ids = _leftovers(PROD_CLUSTER, "prod", "prod")
    code, out, err = run_cli(
        main,
        "--stack",
        "prod",
        "--stack-file",
        "stacks/Pulumi.dev.yaml",
        "--cluster",
        PROD_CLUSTER,
        "--delete",
    )
    assert code == 2 and out == ""
    assert (
        "account 123456789012, which is not in stack 'prod''s allowedAccountIds (111111111111)"
        in err
    )
    assert _still_there(ids) == _resources(ids)


@pytest.mark.parametrize("tagged", ["cluster", "vpc"])
def test_prod_tagged_target_is_refused_under_a_non_prod_profile(
    moto_endpoint, run_cli, stack_file, tagged
):
    # A dev-profile settings file that even lists the account: the target's own
    # environment=prod tag still makes it a prod run.
    ids = _leftovers(PROD_CLUSTER, "prod", "prod", make_cluster=tagged == "cluster")
    argv = ["--stack", "prod", "--stack-file", stack_file("dev"), "--cluster", PROD_CLUSTER]
    argv += [] if tagged == "cluster" else ["--vpc-id", ids["vpc"]]
    code, out, err = run_cli(main, *argv, "--delete")
    assert code == 2 and out == ""
    what = f"cluster {PROD_CLUSTER}" if tagged == "cluster" else f"VPC {ids['vpc']}"
    assert f"({what} is tagged environment=prod" in err
    assert err.strip().endswith("add --confirm-stack prod and --i-understand-this-is-prod")
    assert _still_there(ids) == _resources(ids)

    code, out, _ = run_cli(
        main, *argv, "--confirm-stack", "prod", "--i-understand-this-is-prod", "--json"
    )
    assert code == 1  # told twice: it runs (and lists, no --delete)
    assert "load-balancer" in _kinds(out)


def test_cluster_of_another_stack_is_refused(moto_endpoint, run_cli, dev):
    # Reported bypass: --stack dev against the prod cluster and VPC.
    ids = _leftovers(PROD_CLUSTER, "prod", "prod")
    code, out, err = run_cli(
        main, *dev, "--cluster", PROD_CLUSTER, "--vpc-id", ids["vpc"], "--delete"
    )
    assert code == 2 and out == ""
    assert f"cluster {PROD_CLUSTER} is not stack 'dev''s" in err
    assert f"names that stack's cluster {CLUSTER}" in err
    assert _still_there(ids) == _resources(ids)


def test_vpc_of_another_stack_is_refused(moto_endpoint, run_cli, dev):
    # The stack's cluster name, but no such cluster, and another stack's VPC.
    ids = _leftovers(PROD_CLUSTER, "prod", "prod")
    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--vpc-id", ids["vpc"], "--delete")
    assert code == 2 and out == ""
    assert f"VPC {ids['vpc']} is not stack 'dev''s" in err
    assert "(it is tagged stack=prod)" in err
    assert _still_there(ids) == _resources(ids)


def test_vpc_other_than_the_clusters_is_refused(moto_endpoint, run_cli, dev):
    ours = _leftovers()
    tags = [{"Key": k, "Value": v} for k, v in _platform_tags("dev", "dev").items()]
    other = {  # another VPC, even one tagged for the stack, is not the cluster's
        "vpc": boto3.client("ec2").create_vpc(
            CidrBlock="10.20.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}]
        )["Vpc"]["VpcId"]
    }
    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--vpc-id", other["vpc"], "--delete")
    assert code == 2 and out == ""
    assert f"cluster {CLUSTER} is in VPC {ours['vpc']}, not {other['vpc']}" in err
    assert _still_there(ours) == _resources(ours)


def test_cluster_tagged_for_another_stack_is_refused(moto_endpoint, run_cli, dev):
    ids = _leftovers(CLUSTER, "prod", "prod")
    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--delete")
    assert code == 2 and out == ""
    assert f"cluster {CLUSTER} is tagged stack=prod, not stack 'dev''s" in err
    assert _still_there(ids) == _resources(ids)


def test_vpc_tagged_for_the_stack_is_accepted_without_a_cluster(moto_endpoint, run_cli, dev):
    ids = _leftovers(make_cluster=False)
    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--vpc-id", ids["vpc"], "--json")
    assert code == 1, err
    assert "cluster mlops-dev-eks not found; using the VPC given" in err
    assert [b["id"] for b in _kinds(out)["load-balancer"]] == [ids["lb"]]


def test_adopted_untagged_vpc_is_accepted(moto_endpoint, run_cli, stack_file):
    vpc = boto3.client("ec2").create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    argv = ["--stack", "dev", "--cluster", CLUSTER, "--vpc-id", vpc]
    code, _, err = run_cli(main, *argv, "--stack-file", stack_file("dev"))
    assert code == 2
    assert f"VPC {vpc} is not stack 'dev''s" in err and "(it is tagged" not in err

    network = {
        "vpcCidr": "10.40.0.0/16",
        "existing": {
            "vpcId": vpc,
            "vpcCidr": "10.40.0.0/16",
            "privateSubnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        },
    }
    adopted = stack_file("dev", **{"mlops:network": network})
    code, out, err = run_cli(main, *argv, "--stack-file", adopted)
    assert code == 0, err
    assert "Nothing blocks the VPC's deletion" in out


def test_unknown_vpc_is_a_clear_error(moto_endpoint, run_cli, dev):
    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--vpc-id", "vpc-0123456789abcdef0")
    assert code == 2 and out == ""
    assert "VPC vpc-0123456789abcdef0 not found in us-east-1" in err


def test_vpc_belongs_rule():
    tagged = {"project": "mlops", "stack": "dev"}
    kw: dict[str, Any] = {"stack": "dev", "project": "mlops", "cluster_vpc": None}
    assert vpc_belongs("vpc-1", tagged, adopted_vpc=None, **kw)
    assert vpc_belongs("vpc-1", {}, adopted_vpc="vpc-1", **kw)
    assert vpc_belongs("vpc-1", {}, adopted_vpc=None, **{**kw, "cluster_vpc": "vpc-1"})
    assert not vpc_belongs("vpc-1", {}, adopted_vpc=None, **kw)
    assert not vpc_belongs("vpc-1", {"stack": "prod"}, adopted_vpc=None, **kw)
    assert not vpc_belongs("vpc-1", {**tagged, "project": "other"}, adopted_vpc=None, **kw)


# --- prod needs two confirmations ----------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "missing"),
    [
        ((), "add --confirm-stack prod and --i-understand-this-is-prod"),
        (("--i-understand-this-is-prod",), "add --confirm-stack prod"),
        (("--confirm-stack", "prod"), "add --i-understand-this-is-prod"),
        (("--confirm-stack", "dev", "--i-understand-this-is-prod"), "add --confirm-stack prod"),
    ],
)
def test_prod_profile_is_refused_unless_told_twice(
    moto_endpoint, run_cli, monkeypatch, extra, missing
):
    def no_aws(**_: Any) -> None:
        raise AssertionError("AWS was asked")

    monkeypatch.setattr("scripts.teardown_guard.Aws", no_aws)
    code, out, err = run_cli(main, "--stack", "prod", "--cluster", PROD_CLUSTER, "--delete", *extra)
    assert code == 2
    assert out == ""
    assert "is a prod teardown (its profile is prod)" in err
    assert err.strip().endswith(missing)
    assert "describing" not in err  # refused before AWS was asked (no session was made)


def test_prod_with_both_confirmations_runs(moto_endpoint, run_cli, stack_file):
    _leftovers(PROD_CLUSTER, "prod", "prod")
    code, out, _ = run_cli(
        main,
        "--stack",
        "prod",
        "--stack-file",
        stack_file("prod"),
        "--cluster",
        PROD_CLUSTER,
        "--confirm-stack",
        "prod",
        "--i-understand-this-is-prod",
        "--json",
    )
    assert code == 1  # it ran and found the blockers
    assert "load-balancer" in _kinds(out)


def test_prod_refusal_rule():
    assert prod_refusal("dev", "", None, False) == ""
    assert prod_refusal("prod", "its profile is prod", "prod", True) == ""
    assert prod_refusal("live", "x", "live", False).endswith("--i-understand-this-is-prod")
    assert prod_reasons("dev", {"VPC v": {"environment": "dev"}}) == ""
    assert prod_reasons("prod", {}) == "its profile is prod"
    assert prod_reasons("dev", {"cluster c": {"environment": "prod"}, "VPC v": {}}) == (
        "cluster c is tagged environment=prod"
    )


# --- bad input ---------------------------------------------------------------------------


def test_unknown_stack_is_a_clear_error(moto_endpoint, run_cli):
    code, _, err = run_cli(main, "--stack", "qa", "--cluster", CLUSTER)
    assert code == 2
    assert "no stack file for stack 'qa'" in err


def test_no_cluster_and_no_vpc_is_a_clear_error(moto_endpoint, run_cli, dev):
    code, _, err = run_cli(main, *dev, "--cluster", CLUSTER)
    assert code == 2
    assert f"cluster {CLUSTER} not found and no VPC given: pass --vpc-id" in err


def test_unreachable_endpoint_is_one_clear_line(closed_endpoint, run_script):
    result = run_script("scripts.teardown_guard", "--stack", "dev", "--cluster", CLUSTER)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1].startswith(f"error: cannot reach {closed_endpoint}")
    )


# --- Classic ELBs (in-tree Service controller) and botocore waiters ------------------------------


def _classic(name: str, subnet: str, cluster: str, service: str = "serving/model") -> None:
    boto3.client("elb").create_load_balancer(
        LoadBalancerName=name,
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}],
        Subnets=[subnet],
        Tags=[
            {"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"},
            {"Key": "kubernetes.io/service-name", "Value": service},
        ],
    )


def _classic_names() -> set[str]:
    described = boto3.client("elb").describe_load_balancers()["LoadBalancerDescriptions"]
    return {lb["LoadBalancerName"] for lb in described}


def test_classic_load_balancers_of_the_cluster_are_listed_and_deleted(moto_endpoint, run_cli, dev):
    ids = _leftovers()
    _classic("a1b2c3ours", ids["subnet"], CLUSTER)
    _classic("d4e5f6theirs", ids["subnet"], "another-cluster")
    ec2 = boto3.client("ec2")
    elsewhere = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=elsewhere, CidrBlock="10.20.0.0/24")["Subnet"]["SubnetId"]
    _classic("g7h8i9othervpc", subnet, CLUSTER)

    code, out, _ = run_cli(main, *dev, "--cluster", CLUSTER, "--json")
    assert code == 1
    (classic,) = _kinds(out)["classic-load-balancer"]
    assert classic["id"] == "a1b2c3ours"
    assert "service serving/model" in classic["detail"]

    code, out, err = run_cli(main, *dev, "--cluster", CLUSTER, "--delete", "--json")
    assert code == 0, out + err
    kinds = [b["kind"] for b in json.loads(out)["blockers"]]
    assert kinds[:3] == ["load-balancer", "classic-load-balancer", "target-group"]
    assert _classic_names() == {"d4e5f6theirs", "g7h8i9othervpc"}
    assert "waiting for 2 load balancer(s) to go" in err


def test_a_load_balancer_that_does_not_go_fails_after_the_waiter(
    moto_endpoint, run_cli, dev, monkeypatch
):
    """The waiters (botocore's load_balancers_deleted for elbv2, the same acceptors for the
    elb API) poll until the wait is spent; a load balancer still there is reported failed."""
    ids = _leftovers()
    _classic("stuckclassic", ids["subnet"], CLUSTER)
    real = teardown_guard.Guard._delete_one

    def keep_load_balancers(self, blocker):
        if blocker.kind not in teardown_guard.LOAD_BALANCER_KINDS:
            real(self, blocker)

    monkeypatch.setattr(teardown_guard.Guard, "_delete_one", keep_load_balancers)
    code, out, _ = run_cli(
        main, *dev, "--cluster", CLUSTER, "--delete", "--wait-seconds", "1", "--json"
    )
    assert code == 1
    results = {b["id"]: b["result"] for b in json.loads(out)["blockers"]}
    assert results[ids["lb"]] == "failed: still deleting after the wait"
    assert results["stuckclassic"] == "failed: still deleting after the wait"


def test_classic_waiter_model_matches_elbv2s():
    classic = CLASSIC_DELETED_WAITER.get_waiter("ClassicLoadBalancerDeleted")
    model = get_session().get_waiter_model("elbv2").get_waiter("LoadBalancersDeleted")
    assert classic.delay == model.delay
    assert classic.max_attempts == model.max_attempts
    success = [a.expected for a in classic.acceptors if a.state == "success"]
    assert success == [a.expected for a in model.acceptors if a.state == "success"]
    assert get_session().get_waiter_model("elb").waiter_names == [
        "AnyInstanceInService",
        "InstanceDeregistered",
        "InstanceInService",
    ]  # no deleted waiter upstream: ours stands in for it


# --- a VPC adopted from Terraform state ----------------------------------------------------------


def _tf_state(path, vpc: str) -> str:
    state = {
        "version": 4,
        "terraform_version": "1.9.0",
        "serial": 1,
        "lineage": "test",
        "outputs": {
            "vpc_id": {"value": vpc, "type": "string"},
            "vpc_cidr_block": {"value": "10.40.0.0/16", "type": "string"},
            "private_subnets": {
                "value": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
                "type": ["list", "string"],
            },
        },
        "resources": [],
    }
    path.write_text(json.dumps(state), encoding="utf-8")
    return str(path)


def test_vpc_adopted_from_terraform_state_is_accepted_once_the_cluster_is_gone(
    moto_endpoint, run_cli, stack_file, tmp_path
):
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]  # untagged, no cluster
    other = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    state = _tf_state(tmp_path / "network.tfstate", vpc)
    network = {"vpcCidr": "10.40.0.0/16", "existing": {"terraformState": {"source": state}}}
    adopted = stack_file("dev", **{"mlops:network": network})
    argv = ["--stack", "dev", "--stack-file", adopted, "--cluster", CLUSTER]

    code, out, err = run_cli(main, *argv, "--vpc-id", vpc)
    assert code == 0, err
    assert "Nothing blocks the VPC's deletion" in out
    assert f"reading the adopted VPC from Terraform state {state}" in err

    code, _, err = run_cli(main, *argv, "--vpc-id", other)
    assert code == 2
    assert f"VPC {other} is not stack 'dev''s" in err
    assert f"adopted VPC from network.existing.terraformState ({vpc})" in err

    (tmp_path / "network.tfstate").unlink()
    code, _, err = run_cli(main, *argv, "--vpc-id", vpc)
    assert code == 2
    assert "(unknown: cannot read Terraform state" in err
