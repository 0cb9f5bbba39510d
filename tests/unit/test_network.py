"""``Network`` under the offline engine: per-profile shape, security settings, bad input, and
adopting an existing VPC by ID or from a Terraform state."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mlops_platform.config import Profile, planned_subnets
from mlops_platform.config.model import NetworkConfig
from mlops_platform.config.profiles import PROFILES, merge_over_profile
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.network.network import (
    ExistingNetworkArgs,
    NatStrategy,
    Network,
    NetworkArgs,
    TerraformStateArgs,
)

from scripts.offline import load_stack_config, run_program
from scripts.offline.engine import Secret
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

TERRAFORM = shutil.which("terraform")

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
IGW = "aws:ec2/internetGateway:InternetGateway"
ROUTE = "aws:ec2/route:Route"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CIDR_ASSOC = "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"
COMPONENT = "mlops:index:Network"
AZS_INVOKE = "aws:index/getAvailabilityZones:getAvailabilityZones"


# --- helpers -------------------------------------------------------------------------------------


def network_config(stack: str) -> tuple[NetworkConfig, dict[str, Any]]:
    """The stack file's ``mlops:network`` over its profile, and the profile's defaults.

    Only the network section is validated, so this test does not depend on the sections
    other components are adding to the model.
    """
    values = load_stack_config(stack).values
    profile = PROFILES[Profile(values["mlops:profile"])]
    merged = merge_over_profile(profile["network"], json.loads(values["mlops:network"]))
    return NetworkConfig.model_validate_json(json.dumps(merged)), profile


def args_for(stack: str) -> NetworkArgs:
    """NetworkArgs built from a stack's config exactly as MlopsPlatform wires them."""
    network, profile = network_config(stack)
    private, public = planned_subnets(network)
    return NetworkArgs(
        name_prefix=f"mlops-{stack}",
        cluster_name=f"mlops-{stack}-serving",
        az_count=network.az_count,
        vpc_cidr=network.vpc_cidr,
        private_subnet_cidrs=private,
        public_subnet_cidrs=public,
        nat_strategy=NatStrategy(network.nat_gateways.value),
        interface_endpoints=[e.value for e in network.interface_endpoints],
        pod_cidr=network.pod_cidr,
        flow_log_retention_days=profile["logRetentionDays"],
        protect=profile["protectStatefulResources"],
        tags={"owner": "ml-platform-team"},
    )


def small(**overrides: Any) -> NetworkArgs:
    """A valid two-AZ network to vary in one test."""
    base = NetworkArgs(
        name_prefix="mlops-dev",
        cluster_name="mlops-dev-serving",
        az_count=2,
        vpc_cidr="10.10.0.0/16",
        private_subnet_cidrs=["10.10.0.0/19", "10.10.32.0/19"],
        public_subnet_cidrs=["10.10.128.0/21", "10.10.136.0/21"],
        nat_strategy=NatStrategy.SINGLE,
    )
    return replace(base, **overrides)


def build(args: NetworkArgs, stack: str = "dev", **kwargs: Any):
    return run_program(lambda: Network("net", args), stack=stack, **kwargs)


def outputs(rec) -> dict[str, Any]:
    (urn,) = [r.urn for r in rec.of_type(COMPONENT)]
    return rec.component_outputs[urn]


def invalid(args: NetworkArgs) -> tuple[str, RecordingMonitor]:
    """The constructor's message, and the monitor (to show nothing was registered)."""
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(ComponentInputError) as err:
        run_program(lambda: Network("net", args), monitor=monitor)
    return str(err.value), monitor


def registered_types(monitor: RecordingMonitor) -> set[str]:
    return {raw.request["type"] for raw in monitor.registrations}


# --- per profile ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["dev", "test", "prod"])
def profile(request) -> tuple[str, NetworkArgs, Any]:
    stack = request.param
    args = args_for(stack)
    return stack, args, build(args, stack=stack)


EXPECTED_NATS = {"dev": 1, "test": 1, "prod": 3}


def test_nat_gateways_follow_the_profile(profile):
    stack, args, rec = profile
    nats = rec.of_type(NAT)
    assert len(nats) == EXPECTED_NATS[stack]
    assert len(rec.of_type(EIP)) == EXPECTED_NATS[stack]
    public_ids = outputs(rec)["public_subnet_ids"]
    assert all(n.inputs["subnetId"] in public_ids for n in nats)
    # every private route table sends default traffic through a NAT gateway
    egress = [r for r in rec.of_type(ROUTE) if "natGatewayId" in r.inputs]
    assert len(egress) == args.az_count
    if stack == "prod":
        assert len({r.inputs["natGatewayId"] for r in egress}) == 3, "one NAT per AZ in prod"


def test_endpoint_set_follows_the_profile(profile):
    stack, args, rec = profile
    endpoints = rec.of_type(ENDPOINT)
    gateway = [e for e in endpoints if e.inputs["vpcEndpointType"] == "Gateway"]
    assert [e.inputs["serviceName"] for e in gateway] == ["com.amazonaws.us-east-1.s3"]
    assert sorted(gateway[0].inputs["routeTableIds"]) == sorted(
        outputs(rec)["private_route_table_ids"]
    )
    interface = {
        e.inputs["serviceName"].removeprefix("com.amazonaws.us-east-1.")
        for e in endpoints
        if e.inputs["vpcEndpointType"] == "Interface"
    }
    assert interface == set(args.interface_endpoints)
    if stack == "dev":
        assert interface == set()
        assert rec.of_type(SG) == []
        assert outputs(rec).get("endpoint_security_group_id") is None
    else:
        assert {"ecr.api", "ecr.dkr", "sts", "logs", "kms", "ec2", "ssm"} <= interface


def test_subnets_are_private_and_tagged_for_discovery(profile):
    stack, args, rec = profile
    out = outputs(rec)
    subnets = {s.id: s for s in rec.of_type(SUBNET)}
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets.values())
    private = [subnets[i] for i in out["private_subnet_ids"]]
    public = [subnets[i] for i in out["public_subnet_ids"]]
    assert len(private) == len(public) == args.az_count
    for s in private:
        assert s.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert s.inputs["tags"]["karpenter.sh/discovery"] == f"mlops-{stack}-serving"
        assert "kubernetes.io/role/elb" not in s.inputs["tags"]
        assert s.inputs["tags"]["owner"] == "ml-platform-team"
    for s in public:
        assert s.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert "karpenter.sh/discovery" not in s.inputs["tags"]
    assert [s.inputs["availabilityZone"] for s in private] == out["availability_zones"]
    assert len(set(out["availability_zones"])) == args.az_count


def test_vpc_has_dns_and_flow_logs_to_an_encrypted_group(profile):
    stack, _args, rec = profile
    vpc = rec.one(VPC)
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True
    flow = rec.one(FLOW_LOG)
    assert flow.inputs["vpcId"] == vpc.id
    assert flow.inputs["trafficType"] == "ALL"
    group = rec.one(LOG_GROUP)
    assert flow.inputs["logDestination"].endswith(group.inputs["name"])
    assert group.inputs["retentionInDays"] == {"dev": 7, "test": 30, "prod": 365}[stack]
    key = rec.one(KEY)
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert key.inputs["enableKeyRotation"] is True
    assert outputs(rec)["flow_log_group_name"] == group.inputs["name"]


def test_stateful_resources_are_protected_only_in_prod(profile):
    stack, _, rec = profile
    for kind in (KEY, LOG_GROUP):
        resource = rec.one(kind)
        assert resource.protect is (stack == "prod")
        assert resource.retain_on_delete is (stack == "prod")


def test_default_security_group_has_no_rules(profile):
    _, _, rec = profile
    default = rec.one(DEFAULT_SG)
    assert default.inputs["ingress"] == []
    assert default.inputs["egress"] == []
    assert default.inputs["vpcId"] == rec.one(VPC).id


def test_prod_pod_cidr_gets_a_subnet_per_az(profile):
    stack, _args, rec = profile
    out = outputs(rec)
    if stack != "prod":
        assert rec.of_type(CIDR_ASSOC) == []
        assert out["pod_subnet_ids"] == []
        return
    assoc = rec.one(CIDR_ASSOC)
    assert assoc.inputs["cidrBlock"] == "100.64.0.0/16"
    pods = [s for s in rec.of_type(SUBNET) if s.id in out["pod_subnet_ids"]]
    assert len(pods) == 3
    assert all(s.inputs["cidrBlock"].startswith("100.64.") for s in pods)
    assert all(assoc.urn in s.dependencies for s in pods)
    assert out["pod_cidr"] == "100.64.0.0/16"


# --- security details ----------------------------------------------------------------------------


def test_interface_endpoints_allow_https_from_the_vpc_only():
    args = small(interface_endpoints=["ecr.api", "sts"], pod_cidr="100.64.0.0/16")
    rec = build(args)
    sg = rec.one(SG)
    assert sg.inputs["description"]
    assert "ingress" not in sg.inputs or sg.inputs["ingress"] == []
    assert "egress" not in sg.inputs or sg.inputs["egress"] == []
    assert rec.of_type(EGRESS) == []
    rules = rec.of_type(INGRESS)
    assert {r.inputs["cidrIpv4"] for r in rules} == {"10.10.0.0/16", "100.64.0.0/16"}
    for rule in rules:
        assert rule.inputs["securityGroupId"] == sg.id
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (443, 443)
        assert rule.inputs["ipProtocol"] == "tcp"
        assert rule.inputs["description"]
    for endpoint in [
        e for e in rec.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"
    ]:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["securityGroupIds"] == [sg.id]
        assert endpoint.inputs["subnetIds"] == outputs(rec)["private_subnet_ids"]
    assert outputs(rec)["endpoint_security_group_id"] == sg.id


def test_flow_log_key_policy_lets_cloudwatch_use_it_for_this_log_group_only():
    rec = build(small())
    policy = json.loads(rec.one(KEY).inputs["policy"])
    group = rec.one(LOG_GROUP).inputs["name"]
    logs = next(s for s in policy["Statement"] if "Service" in s["Principal"])
    assert logs["Principal"]["Service"] == "logs.us-east-1.amazonaws.com"
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == (
        f"arn:aws:logs:us-east-1:123456789012:log-group:{group}"
    )
    admin = next(s for s in policy["Statement"] if "AWS" in s["Principal"])
    assert admin["Principal"]["AWS"] == "arn:aws:iam::123456789012:root"


def test_the_pre_0_2_spelling_of_the_boundary_is_still_honoured():
    boundary = "arn:aws:iam::123456789012:policy/boundary"
    rec = build(small(permissions_boundary=boundary))
    assert rec.one(ROLE).inputs["permissionsBoundary"] == boundary


def test_flow_log_role_is_pinned_and_least_privilege():
    rec = build(small(permission_boundary_arn="arn:aws:iam::123456789012:policy/boundary"))
    role = rec.one(ROLE)
    assert role.inputs["permissionsBoundary"] == "arn:aws:iam::123456789012:policy/boundary"
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    policy = json.loads(rec.one(ROLE_POLICY).inputs["policy"])
    for statement in policy["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert all("*" not in action for action in actions)
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        assert "*" not in resources
    role_arn = f"arn:aws:iam::123456789012:role/{role.inputs['name']}"
    assert rec.one(FLOW_LOG).inputs["iamRoleArn"] == role_arn


def test_nat_none_means_no_nat_and_no_default_route_from_private_subnets():
    rec = build(small(nat_strategy=NatStrategy.NONE))
    assert rec.of_type(NAT) == []
    assert rec.of_type(EIP) == []
    assert all("natGatewayId" not in r.inputs for r in rec.of_type(ROUTE))
    assert len(rec.of_type(IGW)) == 1, "public subnets still serve internet-facing LBs"


def test_a_network_without_public_subnets_has_no_internet_gateway():
    rec = build(small(nat_strategy=NatStrategy.NONE, public_subnet_cidrs=[]))
    assert rec.of_type(IGW) == []
    assert rec.of_type(ROUTE) == []
    assert outputs(rec)["public_subnet_ids"] == []


def test_azs_are_looked_up_unless_given():
    looked_up = build(small())
    assert [i["token"] for i in looked_up.invokes].count(AZS_INVOKE) == 1
    given = build(small(availability_zones=["us-east-1d", "us-east-1f"]))
    assert AZS_INVOKE not in [i["token"] for i in given.invokes]
    assert outputs(given)["availability_zones"] == ["us-east-1d", "us-east-1f"]


def test_every_taggable_child_carries_the_args_tags():
    rec = build(small(tags={"owner": "team-a", "cost-center": "cc-1"}, interface_endpoints=["sts"]))
    taggable = [r for r in rec.created() if r.custom and "tags" in r.inputs]
    assert len(taggable) > 15
    for resource in taggable:
        assert resource.inputs["tags"]["owner"] == "team-a", resource.name
    assert all(r.parent == outputs_urn(rec) for r in rec.created() if r.type != COMPONENT)


def outputs_urn(rec) -> str:
    return rec.one(COMPONENT).urn


# --- bad input -----------------------------------------------------------------------------------


def test_vpc_cidr_too_small_for_the_az_count():
    message, monitor = invalid(
        small(
            az_count=3,
            vpc_cidr="10.10.0.0/22",
            private_subnet_cidrs=["10.10.0.0/24", "10.10.1.0/24", "10.10.2.0/24"],
            public_subnet_cidrs=["10.10.3.0/28", "10.10.3.16/28", "10.10.3.32/28"],
        )
    )
    assert 'vpc_cidr = "10.10.0.0/22": too small for 3 AZs' in message
    assert "/16 to /21" in message
    assert COMPONENT not in registered_types(monitor)


def test_the_same_cidr_is_fine_for_fewer_azs():
    build(
        small(
            vpc_cidr="10.10.0.0/22",
            private_subnet_cidrs=["10.10.0.0/24", "10.10.1.0/24"],
            public_subnet_cidrs=["10.10.2.0/28", "10.10.2.16/28"],
        )
    )


def test_overlapping_secondary_cidr():
    message, monitor = invalid(small(pod_cidr="10.10.128.0/17"))
    assert 'pod_cidr = "10.10.128.0/17": overlaps vpc_cidr 10.10.0.0/16' in message
    assert registered_types(monitor) <= {"pulumi:pulumi:Stack"}


def test_subnet_problems_are_all_reported_at_once():
    message, _ = invalid(
        small(
            private_subnet_cidrs=["10.10.0.0/19", "10.99.0.0/19"],
            public_subnet_cidrs=["10.10.16.0/21"],
            nat_strategy="two-per-az",
            interface_endpoints=["s3", "sts", "sts"],
        )
    )
    assert 'private_subnet_cidrs[1] = "10.99.0.0/19": must lie inside vpc_cidr' in message
    assert "public_subnet_cidrs = " in message and "one subnet per AZ" in message
    assert 'public_subnet_cidrs[0] = "10.10.16.0/21": overlaps private_subnet_cidrs[0]' in message
    assert 'nat_strategy = "two-per-az": one of: none, single, per-az' in message
    assert 'interface_endpoints[0] = "s3"' in message
    assert 'interface_endpoints[2] = "sts": listed twice' in message


def test_nat_needs_public_subnets():
    message, _ = invalid(small(public_subnet_cidrs=[]))
    assert "public_subnet_cidrs = []: nat_strategy 'single' needs public subnets" in message


def test_private_subnets_are_required_to_create_a_network():
    message, _ = invalid(small(private_subnet_cidrs=[]))
    assert "private_subnet_cidrs = []: required" in message


def test_pod_subnets_must_lie_in_the_pod_cidr():
    message, _ = invalid(
        small(pod_cidr="100.64.0.0/16", pod_subnet_cidrs=["100.64.0.0/17", "100.65.0.0/17"])
    )
    assert 'pod_subnet_cidrs[1] = "100.65.0.0/17": a CIDR inside pod_cidr' in message


# --- bring your own network: by ID ---------------------------------------------------------------

PRIVATE_IDS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2", "subnet-0aaaaaaaaaaaaaaa3"]


def adopt(existing: ExistingNetworkArgs, az_count: int = 3) -> NetworkArgs:
    return NetworkArgs(
        name_prefix="mlops-prod",
        cluster_name="mlops-prod-serving",
        az_count=az_count,
        existing=existing,
    )


def test_adopting_by_id_creates_nothing_and_exposes_the_ids():
    rec = build(
        adopt(
            ExistingNetworkArgs(
                vpc_id="vpc-0123456789abcdef0",
                vpc_cidr="10.40.0.0/16",
                private_subnet_ids=PRIVATE_IDS,
                public_subnet_ids=["subnet-0bbbbbbbbbbbbbbb1"],
            )
        )
    )
    assert [r.type for r in rec.created()] == [COMPONENT]
    out = outputs(rec)
    assert out["vpc_id"] == "vpc-0123456789abcdef0"
    assert out["vpc_cidr"] == "10.40.0.0/16"
    assert out["private_subnet_ids"] == PRIVATE_IDS
    assert out["public_subnet_ids"] == ["subnet-0bbbbbbbbbbbbbbb1"]
    assert out["pod_subnet_ids"] == []
    assert out["adopted"] is True
    assert out.get("flow_log_group_name") is None


def test_existing_vpc_with_too_few_private_subnets():
    message, monitor = invalid(
        adopt(
            ExistingNetworkArgs(
                vpc_id="vpc-0123456789abcdef0",
                vpc_cidr="10.40.0.0/16",
                private_subnet_ids=PRIVATE_IDS[:2],
            )
        )
    )
    assert "existing.private_subnet_ids" in message
    assert "too few private subnets: 2 for az_count 3" in message
    assert COMPONENT not in registered_types(monitor)


def test_adopting_by_id_needs_vpc_id_and_cidr_and_well_formed_ids():
    message, _ = invalid(
        adopt(ExistingNetworkArgs(private_subnet_ids=[*PRIVATE_IDS[:2], "sn-123"]))
    )
    assert "existing.vpc_id = null: required" in message
    assert "existing.vpc_cidr = null: required" in message
    assert "existing.private_subnet_ids" in message and "a list of subnet IDs" in message


def test_ids_and_terraform_state_are_exclusive(tmp_path):
    message, _ = invalid(
        adopt(
            ExistingNetworkArgs(
                vpc_id="vpc-0123456789abcdef0",
                terraform_state=TerraformStateArgs(source=str(tmp_path / "x.tfstate")),
            )
        )
    )
    assert "existing = " in message and "not both" in message


def test_an_adopted_vpc_takes_no_pod_cidr():
    args = adopt(
        ExistingNetworkArgs(
            vpc_id="vpc-0123456789abcdef0", vpc_cidr="10.40.0.0/16", private_subnet_ids=PRIVATE_IDS
        )
    )
    message, _ = invalid(replace(args, pod_cidr="100.64.0.0/16"))
    assert 'pod_cidr = "100.64.0.0/16": cannot add a CIDR to an adopted VPC' in message


# --- bring your own network: from a Terraform state ----------------------------------------------


def write_state(path: Path, outputs_: dict[str, Any], version: int = 4) -> str:
    path.write_text(
        json.dumps(
            {
                "version": version,
                "terraform_version": "1.9.0",
                "serial": 1,
                "lineage": "x",
                "outputs": outputs_,
                "resources": [],
            }
        )
    )
    return str(path)


LANDING_ZONE = {
    "vpc_id": {"value": "vpc-0123456789abcdef0", "type": "string"},
    "vpc_cidr_block": {"value": "10.40.0.0/16", "type": "string"},
    "private_subnets": {"value": PRIVATE_IDS, "type": ["list", "string"]},
    "public_subnets": {"value": ["subnet-0bbbbbbbbbbbbbbb1"], "type": ["list", "string"]},
}


def test_adopting_from_a_state_with_the_default_output_names(tmp_path):
    source = write_state(tmp_path / "terraform.tfstate", LANDING_ZONE)
    rec = build(adopt(ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source))))
    out = outputs(rec)
    assert out["vpc_id"] == "vpc-0123456789abcdef0"
    assert out["vpc_cidr"] == "10.40.0.0/16"
    assert out["private_subnet_ids"] == PRIVATE_IDS
    assert [r.type for r in rec.created()] == [COMPONENT]


def test_mapped_output_names_and_sensitive_outputs_stay_secret(tmp_path):
    source = write_state(
        tmp_path / "lz.tfstate",
        {
            "network_vpc": {"value": "vpc-0123456789abcdef0"},
            "network_cidr": {"value": "10.40.0.0/16"},
            "node_subnets": {"value": PRIVATE_IDS, "sensitive": True},
        },
    )
    mapping = {
        "vpc_id": "network_vpc",
        "vpc_cidr": "network_cidr",
        "private_subnet_ids": "node_subnets",
    }
    rec = build(
        adopt(
            ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source, outputs=mapping))
        )
    )
    out = outputs(rec)
    assert out["private_subnet_ids"] == Secret(PRIVATE_IDS)
    assert out["vpc_id"] == "vpc-0123456789abcdef0"
    assert out["public_subnet_ids"] == []


def test_state_missing_a_mapped_output_lists_what_it_has(tmp_path):
    lz = {k: v for k, v in LANDING_ZONE.items() if k != "vpc_cidr_block"}
    source = write_state(tmp_path / "lz.tfstate", lz)
    message, monitor = invalid(
        adopt(ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source)))
    )
    assert 'existing.terraform_state.outputs.vpc_cidr = "vpc_cidr_block"' in message
    assert "outputs in the state: private_subnets, public_subnets, vpc_id" in message
    assert COMPONENT not in registered_types(monitor)


def test_unreadable_state_names_the_source(tmp_path):
    source = str(tmp_path / "missing.tfstate")
    message, _ = invalid(
        adopt(ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source)))
    )
    assert f'existing.terraform_state.source = "{source}": cannot read Terraform state' in message


def test_unsupported_state_version_names_the_source(tmp_path):
    source = write_state(tmp_path / "old.tfstate", LANDING_ZONE, version=3)
    message, _ = invalid(
        adopt(ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source)))
    )
    assert "existing.terraform_state.source" in message
    assert "format version 3; supported: 4" in message


def test_state_with_too_few_private_subnets(tmp_path):
    lz = dict(LANDING_ZONE, private_subnets={"value": PRIVATE_IDS[:1]})
    source = write_state(tmp_path / "lz.tfstate", lz)
    message, _ = invalid(
        adopt(ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source)))
    )
    assert "existing.terraform_state.outputs.private_subnet_ids" in message
    assert "too few private subnets: 1 for az_count 3" in message


def test_sensitive_values_are_not_printed_in_errors(tmp_path):
    lz = dict(LANDING_ZONE, private_subnets={"value": ["subnet-secret"], "sensitive": True})
    source = write_state(tmp_path / "lz.tfstate", lz)
    message, _ = invalid(
        adopt(ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source)))
    )
    assert "subnet-secret" not in message
    assert "[sensitive]" in message


def test_unknown_mapping_keys_are_refused(tmp_path):
    source = write_state(tmp_path / "lz.tfstate", LANDING_ZONE)
    mapping = {
        "vpc_id": "vpc_id",
        "vpc_cidr": "vpc_cidr_block",
        "private_subnet_ids": "private_subnets",
        "nodes": "x",
    }
    message, _ = invalid(
        adopt(
            ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source, outputs=mapping))
        )
    )
    assert 'existing.terraform_state.outputs.nodes = "x": unknown key' in message


@pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")
def test_adopting_from_a_state_written_by_real_terraform(tmp_path):
    (tmp_path / "main.tf").write_text(
        """
resource "terraform_data" "vpc" {
  input = "vpc-0fedcba9876543210"
}
output "vpc_id" {
  value = terraform_data.vpc.output
}
output "vpc_cidr_block" {
  value = "10.50.0.0/16"
}
output "private_subnets" {
  value = ["subnet-0ccccccccccccccc1", "subnet-0ccccccccccccccc2"]
}
"""
    )
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "HOME": str(tmp_path)}
    assert TERRAFORM is not None
    for command in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        done = subprocess.run(
            [TERRAFORM, *command, "-no-color"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    source = str(tmp_path / "terraform.tfstate")
    rec = build(
        adopt(ExistingNetworkArgs(terraform_state=TerraformStateArgs(source=source)), az_count=2)
    )
    out = outputs(rec)
    assert out["vpc_id"] == "vpc-0fedcba9876543210"
    assert out["private_subnet_ids"] == ["subnet-0ccccccccccccccc1", "subnet-0ccccccccccccccc2"]
    assert out["public_subnet_ids"] == []


def test_single_nat_sits_in_the_first_az_and_serves_every_private_route_table():
    rec = build(small(availability_zones=["us-east-1b", "us-east-1c"]))
    (nat,) = rec.of_type(NAT)
    first_public = rec.one(SUBNET, "net-public-1")
    assert nat.inputs["subnetId"] == first_public.id
    assert first_public.inputs["availabilityZone"] == "us-east-1b"
    egress = [r for r in rec.of_type(ROUTE) if "natGatewayId" in r.inputs]
    assert [r.inputs["natGatewayId"] for r in egress] == [nat.id, nat.id]


def test_pod_subnets_use_their_azs_private_route_table():
    rec = build(small(pod_cidr="100.64.0.0/16"))
    tables = outputs(rec)["private_route_table_ids"]
    for i in (1, 2):
        pod = rec.one(SUBNET, f"net-pods-{i}")
        private = rec.one(SUBNET, f"net-private-{i}")
        assert pod.inputs["availabilityZone"] == private.inputs["availabilityZone"]
        assert rec.one(RTA, f"net-pods-{i}").inputs == {
            "subnetId": pod.id,
            "routeTableId": tables[i - 1],
        }
    assert [rec.one(SUBNET, f"net-pods-{i}").inputs["cidrBlock"] for i in (1, 2)] == [
        "100.64.0.0/17",
        "100.64.128.0/17",
    ]


def test_physical_names_come_from_the_prefix():
    rec = build(small(interface_endpoints=["sts"]))
    assert rec.one(LOG_GROUP).inputs["name"] == "mlops-dev-vpc-flow-logs"
    assert rec.one(ROLE).inputs["name"] == "mlops-dev-vpc-flow-logs"
    assert rec.one(SG).inputs["name"] == "mlops-dev-vpc-endpoints"
    assert rec.one(KEY).inputs["deletionWindowInDays"] == 30


def test_adopted_availability_zones_match_the_private_subnets():
    ids = ExistingNetworkArgs(
        vpc_id="vpc-0123456789abcdef0", vpc_cidr="10.40.0.0/16", private_subnet_ids=PRIVATE_IDS
    )
    message, _ = invalid(adopt(replace(ids, availability_zones=["us-east-1a"])))
    assert "existing.availability_zones" in message
    rec = build(adopt(replace(ids, availability_zones=["us-east-1a", "us-east-1b", "us-east-1c"])))
    assert outputs(rec)["availability_zones"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
