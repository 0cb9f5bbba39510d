"""Governance: required tags on every taggable resource, protection of prod state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from rules.rule import Rule

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

REQUIRED_TAGS = ["owner", "environment", "cost-center"]


def _protected(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if cfg.get("required") and not args.opts.protect:
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


def _tags(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if not _taggable(args):
        return
    tags = _provider_tags(args)
    tags.update(args.props["tags"].tags())
    missing = [t for t in cfg.get("requiredTags", REQUIRED_TAGS) if not tags.get(t)]
    if missing:
        yield f"missing tags: {', '.join(missing)}"


RULES: list[Rule] = [
    Rule(
        id="GOV-001",
        name="stateful-resources-protected",
        severity=Severity.HIGH,
        description="Where required (prod), stateful resources (buckets, repositories, KMS "
        "keys, databases, log groups) are protected from deletion.",
        remediation=(
            "opts=pulumi.ResourceOptions(parent=self, protect=args.protect, "
            "retain_on_delete=args.protect)  # the lead passes protect=True in prod"
        ),
        controls=("MLOPS 67",),
        catalog=(67,),
        resource_check=_protected,
        resource_types=STATEFUL_TYPES,
        config={
            "required": {
                "type": "boolean",
                "default": False,
                "description": "Whether stateful resources must be protected.",
            }
        },
        limits="retainOnDelete is not part of the analyzer protocol's resource options, so "
        "only protect is checked; retain_on_delete has to be asserted by component tests.",
    ),
    Rule(
        id="GOV-002",
        name="required-tags",
        severity=Severity.MEDIUM,
        description="Every taggable AWS resource (the listed types, and any AWS resource "
        "whose inputs carry tags) carries the required tags (its own tags merged with the "
        "provider's default tags).",
        remediation=(
            'tags=merge_tags(args.tags, {"role": "..."}) on every child; the platform\'s '
            "args.tags carry owner, environment and cost-center"
        ),
        controls=("MLOPS 68",),
        catalog=(68,),
        resource_check=_tags,
        # Every type: listed taggable types, plus any AWS resource that sets ``tags``.
        config={
            "requiredTags": {
                "type": "array",
                "items": {"type": "string"},
                "default": REQUIRED_TAGS,
                "description": "Tag keys every taggable resource must carry.",
            }
        },
        limits="Provider default tags count only for resources whose provider the program "
        "declares (offline, a default provider's configuration is not visible).",
    ),
]
