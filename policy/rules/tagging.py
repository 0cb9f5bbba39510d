"""Governance: required tags on every taggable resource, protection of prod state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rules.catalog import resource_rule, rules_of

STATEFUL_TYPES = (
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:ecr/repository:Repository",
    "aws:kms/key:Key",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:cloudwatch/logGroup:LogGroup",
)

TAGGABLE_TYPES = (
    *STATEFUL_TYPES,
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/addon:Addon",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    "aws:eks/accessEntry:AccessEntry",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/flowLog:FlowLog",
    "aws:ec2/networkAcl:NetworkAcl",
    "aws:ec2/instance:Instance",
    "aws:ebs/volume:Volume",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:sqs/queue:Queue",
    "aws:autoscaling/group:Group",
    "aws:sns/topic:Topic",
    "aws:secretsmanager/secret:Secret",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
)


@resource_rule("GOV-001", *STATEFUL_TYPES)
def _protected(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if cfg["required"] and not args.opts.protect:
        yield f"{args.resource_type.rsplit(':', 1)[-1]} {args.name} is not protected"


def _provider_tags(args: Any) -> dict[str, str]:
    if args.provider is None:
        return {}
    return args.provider.props["defaultTags"].doc()["tags"].tags()


def _taggable(args: Any) -> bool:
    """A listed taggable type, or any AWS resource whose inputs carry ``tags``."""
    if args.resource_type in TAGGABLE_TYPES:
        return True
    return args.resource_type.startswith("aws:") and args.props["tags"].present


@resource_rule("GOV-002")  # every type: the check picks the taggable ones
def _tags(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if not _taggable(args):
        return
    tags = _provider_tags(args)
    tags.update(args.props["tags"].tags())
    missing = [t for t in cfg["requiredTags"] if not tags.get(t)]
    if missing:
        yield f"missing tags: {', '.join(missing)}"


RULES = rules_of(__name__)
