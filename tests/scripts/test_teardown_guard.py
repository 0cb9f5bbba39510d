"""teardown_guard against a moto server: find and delete controller leftovers; prod gate."""

from __future__ import annotations

import json

import boto3
import pytest

from scripts.teardown_guard import cluster_owned, main, prod_refusal

CLUSTER = "mlops-dev"
ROLE = "arn:aws:iam::123456789012:role/test"
OWNED = [{"Key": "elbv2.k8s.aws/cluster", "Value": CLUSTER}]


def _leftovers() -> dict[str, str]:
    """A cluster's VPC after `kubectl delete` forgot things: ids of what was made."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    boto3.client("eks").create_cluster(
        name=CLUSTER,
        roleArn=ROLE,
        version="1.34",
        resourcesVpcConfig={
            "subnetIds": subnets,
            "endpointPrivateAccess": True,
            "endpointPublicAccess": False,
        },
    )
    lb_sg = ec2.create_security_group(
        GroupName="k8s-traffic-mlops-dev",
        Description="managed LB SG",
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": OWNED}],
    )["GroupId"]
    node_sg = ec2.create_security_group(
        GroupName="mlops-dev-nodes", Description="nodes (Pulumi)", VpcId=vpc
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=node_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": lb_sg}],
            }
        ],
    )

    elb = boto3.client("elbv2")
    lb = elb.create_load_balancer(
        Name="k8s-serving-abc", Subnets=subnets, SecurityGroups=[lb_sg], Tags=OWNED
    )["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name="k8s-serving-tg", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip", Tags=OWNED
    )["TargetGroups"][0]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    # Someone else's load balancer in the same VPC: must be left alone.
    foreign = elb.create_load_balancer(
        Name="not-ours",
        Subnets=subnets,
        Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": "another-cluster"}],
    )["LoadBalancers"][0]
    eni = ec2.create_network_interface(SubnetId=subnets[0], Description="aws-K8S-i-0abc")[
        "NetworkInterface"
    ]["NetworkInterfaceId"]
    return {
        "vpc": vpc,
        "lb": lb["LoadBalancerArn"],
        "tg": tg["TargetGroupArn"],
        "eni": eni,
        "lb_sg": lb_sg,
        "node_sg": node_sg,
        "foreign": foreign["LoadBalancerArn"],
    }


def _kinds(out: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for blocker in json.loads(out)["blockers"]:
        found.setdefault(blocker["kind"], []).append(blocker)
    return found


def test_finds_leftovers_without_touching_them(moto_endpoint, run_cli):
    ids = _leftovers()
    code, out, err = run_cli(main, "--stack", "dev", "--cluster", CLUSTER, "--json")
    assert code == 1
    found = _kinds(out)
    assert [b["id"] for b in found["load-balancer"]] == [ids["lb"]]
    assert [b["id"] for b in found["target-group"]] == [ids["tg"]]
    assert [b["id"] for b in found["network-interface"]] == [ids["eni"]]
    assert [b["id"] for b in found["security-group"]] == [ids["lb_sg"]]
    assert [b["group_id"] for b in found["sg-rule"]] == [ids["node_sg"]]
    assert json.loads(out)["vpcId"] == ids["vpc"]  # taken from the cluster
    assert all(b["result"] == "found" for b in json.loads(out)["blockers"])
    assert "... listing load balancers" in err
    assert len(boto3.client("elbv2").describe_load_balancers()["LoadBalancers"]) == 2


def test_dry_run_delete_changes_nothing(moto_endpoint, run_cli):
    _leftovers()
    code, out, _ = run_cli(
        main, "--stack", "dev", "--cluster", CLUSTER, "--delete", "--dry-run", "--json"
    )
    assert code == 1
    assert {b["result"] for b in json.loads(out)["blockers"]} == {"would-delete"}
    assert len(boto3.client("elbv2").describe_load_balancers()["LoadBalancers"]) == 2


def test_delete_removes_leftovers_in_dependency_order(moto_endpoint, run_cli):
    ids = _leftovers()
    code, out, err = run_cli(main, "--stack", "dev", "--cluster", CLUSTER, "--delete", "--json")
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

    elb, ec2 = boto3.client("elbv2"), boto3.client("ec2")
    assert [lb["LoadBalancerArn"] for lb in elb.describe_load_balancers()["LoadBalancers"]] == [
        ids["foreign"]
    ]
    assert elb.describe_target_groups()["TargetGroups"] == []
    assert (
        ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [ids["vpc"]]}])[
            "NetworkInterfaces"
        ]
        == []
    )
    remaining = {
        g["GroupId"]
        for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [ids["vpc"]]}])[
            "SecurityGroups"
        ]
    }
    assert ids["lb_sg"] not in remaining and ids["node_sg"] in remaining

    code, out, _ = run_cli(main, "--stack", "dev", "--cluster", CLUSTER)
    assert code == 0
    assert "Nothing blocks the VPC's deletion" in out


def test_cluster_and_vpc_from_outputs_file(moto_endpoint, run_cli, tmp_path):
    ids = _leftovers()
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"clusterName": CLUSTER, "vpcId": ids["vpc"]}))
    code, out, _ = run_cli(main, "--stack", "dev", "--outputs", str(path), "--json")
    assert code == 1
    assert json.loads(out)["cluster"] == CLUSTER


def test_tag_matching():
    assert cluster_owned({"elbv2.k8s.aws/cluster": "a"}, "a")
    assert cluster_owned({"kubernetes.io/cluster/a": "owned"}, "a")
    assert not cluster_owned({"elbv2.k8s.aws/cluster": "b"}, "a")
    assert not cluster_owned({}, "a")


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
def test_prod_is_refused_unless_told_twice(moto_endpoint, run_cli, extra, missing):
    _leftovers()
    code, out, err = run_cli(main, "--stack", "prod", "--cluster", CLUSTER, "--delete", *extra)
    assert code == 2
    assert out == ""
    assert "is a prod stack" in err and err.strip().endswith(missing)
    assert len(boto3.client("elbv2").describe_load_balancers()["LoadBalancers"]) == 2


def test_prod_with_both_confirmations_runs(moto_endpoint, run_cli):
    _leftovers()
    code, out, _ = run_cli(
        main,
        "--stack",
        "prod",
        "--cluster",
        CLUSTER,
        "--confirm-stack",
        "prod",
        "--i-understand-this-is-prod",
        "--json",
    )
    assert code == 1  # it ran and found the blockers
    assert "load-balancer" in _kinds(out)


def test_prod_refusal_rule():
    assert prod_refusal("dev", "dev", None, False) == ""
    assert prod_refusal("prod", "prod", "prod", True) == ""
    assert prod_refusal("live", "prod", "live", False).endswith("--i-understand-this-is-prod")


# --- bad input ---------------------------------------------------------------------------


def test_unknown_stack_is_a_clear_error(moto_endpoint, run_cli):
    code, _, err = run_cli(main, "--stack", "qa", "--cluster", CLUSTER)
    assert code == 2
    assert "no stack file for stack 'qa'" in err


def test_no_cluster_and_no_vpc_is_a_clear_error(moto_endpoint, run_cli):
    code, _, err = run_cli(main, "--stack", "dev", "--cluster", "missing-cluster")
    assert code == 2
    assert "cluster missing-cluster not found and no VPC given: pass --vpc-id" in err


def test_unreachable_endpoint_is_one_clear_line(closed_endpoint, run_script):
    result = run_script("scripts.teardown_guard", "--stack", "dev", "--cluster", CLUSTER)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1].startswith(f"error: cannot reach {closed_endpoint}")
    )
