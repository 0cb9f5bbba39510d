"""The mock engine side: a recording monitor and realistic answers for resources and invokes.

``RecordingMonitor`` subclasses the SDK's ``MockMonitor`` and keeps every request whole.
``PlatformMocks`` answers as AWS would (ARNs in the stack's account and region, IDs in
AWS's formats, an OIDC issuer for clusters) and refuses invokes it has no answer for, so a
component that starts using a new data source gets a clear message instead of ``{}``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

DEFAULT_ACCOUNT = "123456789012"


def _digest(text: str, length: int = 17) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


InvokeAnswer = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


class UnansweredInvokeError(Exception):
    """An invoke the offline engine has no realistic answer for."""


class UnansweredStackReferenceError(Exception):
    """A StackReference to a stack whose outputs the offline engine does not hold."""


STACK_REFERENCE = "pulumi:pulumi:StackReference"


# Resource IDs in AWS's own formats, by type token.
_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:kms/key:Key": "",
}


@dataclass
class PlatformMocks(Mocks):
    """Answers for resources and invokes, in the stack's region and account."""

    region: str = "us-east-1"
    account: str = DEFAULT_ACCOUNT
    invoke_answers: dict[str, InvokeAnswer] = field(default_factory=dict)
    """Per-test answers that take precedence over the built-in ones."""
    caller_arn: str | None = None
    """Who runs the program, as STS would report it (e.g. ``arn:aws:iam::<acct>:user/ci``);
    ``None``: a session of the role ``platform-deployer`` (an assumed role, like SSO)."""
    stack_references: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``<project>/<stack>`` -> the state a ``pulumi:pulumi:StackReference`` read returns
    (``outputs`` and ``secretOutputNames``); :func:`mlops_platform.testing.stack_reference_state`
    builds it from a platform stack's outputs."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        token = args.typ
        if token.startswith("pulumi:providers:"):
            return f"{args.name}-provider-id", state
        if token == STACK_REFERENCE:
            return self._stack_reference(str(args.resource_id or state.get("name", "")))
        seed = f"{token}::{args.name}"
        if token == "aws:kms/key:Key":
            rid = (
                f"{_digest(seed, 8)}-{_digest(seed + '1', 4)}-{_digest(seed + '2', 4)}-"
                f"{_digest(seed + '3', 4)}-{_digest(seed + '4', 12)}"
            )
        elif token in _ID_PREFIXES:
            rid = _ID_PREFIXES[token] + _digest(seed)
        else:
            rid = state.get("name") or f"{args.name}-id"
        state.setdefault("arn", self._arn(token, str(rid), state))
        state.update(self._computed(token, str(rid), state))
        return str(rid), state

    def _stack_reference(self, name: str) -> tuple[str, dict]:
        """The referenced stack's outputs, when they were given: ``<org>/<project>/<stack>``
        (or ``<project>/<stack>``) matches on its last two parts, as any organization would."""
        key = "/".join(name.split("/")[-2:])
        answer = self.stack_references.get(key)
        if answer is None:
            known = ", ".join(f"<org>/{k}" for k in sorted(self.stack_references)) or "none"
            raise UnansweredStackReferenceError(
                f"the offline engine cannot answer StackReference '{name}': it holds the "
                f"outputs of {known}"
            )
        return name, {"name": name, **answer}

    def _arn(self, token: str, rid: str, state: dict[str, Any]) -> str:
        module = token.split(":")[1].split("/", maxsplit=1)[0]
        kind = token.rsplit(":", maxsplit=1)[-1][0].lower() + token.rsplit(":", maxsplit=1)[-1][1:]
        scope = "" if module in {"iam", "s3"} else self.region
        account = "" if module == "s3" else self.account
        return f"arn:aws:{module}:{scope}:{account}:{kind}/{state.get('name', rid)}"

    def _computed(  # noqa: PLR0911, PLR0912 (one answer per resource type)
        self, token: str, rid: str, state: dict[str, Any]
    ) -> dict[str, Any]:
        name = state.get("name", rid)
        if token == "aws:eks/cluster:Cluster":
            issuer = f"https://oidc.eks.{self.region}.amazonaws.com/id/{_digest(name, 32).upper()}"
            host = f"{_digest(name, 32).upper()}.gr7.{self.region}.eks.amazonaws.com"
            return {
                "arn": f"arn:aws:eks:{self.region}:{self.account}:cluster/{name}",
                "endpoint": f"https://{host}",
                "certificateAuthority": {"data": "TU9DSy1DQS1EQVRB"},
                "identities": [{"oidcs": [{"issuer": issuer}]}],
                "status": "ACTIVE",
                "platformVersion": "eks.1",
                "vpcConfig": {
                    **state.get("vpcConfig", {}),
                    "clusterSecurityGroupId": "sg-" + _digest(f"{name}-cluster-sg"),
                    "vpcId": "vpc-" + _digest(f"{name}-vpc"),
                },
            }
        if token == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(state.get("url", "")).removeprefix("https://")
            return {"arn": f"arn:aws:iam::{self.account}:oidc-provider/{host}"}
        if token == "aws:iam/policy:Policy":
            return {"arn": f"arn:aws:iam::{self.account}:policy/{name}", "policyId": _digest(rid)}
        if token == "aws:cloudwatch/logGroup:LogGroup":
            return {"arn": f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"}
        if token == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1, "defaultVersion": 1}
        if token == "aws:iam/role:Role":
            return {"arn": f"arn:aws:iam::{self.account}:role/{name}", "uniqueId": _digest(rid, 21)}
        if token in {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"}:
            bucket = state.get("bucket", rid)
            return {
                "bucket": bucket,
                "arn": f"arn:aws:s3:::{bucket}",
                "bucketDomainName": f"{bucket}.s3.amazonaws.com",
                "bucketRegionalDomainName": f"{bucket}.s3.{self.region}.amazonaws.com",
            }
        if token == "aws:ecr/repository:Repository":
            return {
                "registryId": self.account,
                "repositoryUrl": f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{name}",
            }
        if token == "aws:kms/key:Key":
            return {"keyId": rid, "arn": f"arn:aws:kms:{self.region}:{self.account}:key/{rid}"}
        if token == "aws:rds/instance:Instance":
            host = (
                f"{state.get('identifier', rid)}.{_digest(rid, 12)}.{self.region}.rds.amazonaws.com"
            )
            identifier = state.get("identifier", rid)
            return {
                "address": host,
                "endpoint": f"{host}:5432",
                "port": 5432,
                "arn": f"arn:aws:rds:{self.region}:{self.account}:db:{identifier}",
            }
        if token == "aws:sqs/queue:Queue":
            return {"url": f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"}
        if token == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1, "defaultVersion": 1}
        if token == "aws:eks/nodeGroup:NodeGroup":
            # EKS names the node group's Auto Scaling group eks-<nodegroup>-<uuid>.
            group = state.get("nodeGroupName", rid)
            return {
                "arn": f"arn:aws:eks:{self.region}:{self.account}:nodegroup/"
                f"{state.get('clusterName', 'cluster')}/{group}/{_digest(group, 8)}",
                "status": "ACTIVE",
                "resources": [
                    {
                        "autoscalingGroups": [
                            {"name": f"eks-{group}-{_digest(group, 8)}-{_digest(group + 'a', 4)}"}
                        ],
                        "remoteAccessSecurityGroupId": "",
                    }
                ],
            }
        if token == "aws:sns/topic:Topic":
            return {"arn": f"arn:aws:sns:{self.region}:{self.account}:{name}"}
        if token == "aws:amp/workspace:Workspace":
            region = state.get("region") or self.region
            workspace = (
                f"ws-{_digest(rid, 8)}-{_digest(rid + 'a', 4)}-{_digest(rid + 'b', 4)}-"
                f"{_digest(rid + 'c', 4)}-{_digest(rid + 'd', 12)}"
            )
            return {
                "arn": f"arn:aws:aps:{region}:{self.account}:workspace/{workspace}",
                "prometheusEndpoint": f"https://aps-workspaces.{region}.amazonaws.com/"
                f"workspaces/{workspace}/",
            }
        if token == "random:index/randomPassword:RandomPassword":
            return {"result": "mock-" + _digest(rid, 24)}
        return {}

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        answer = self.invoke_answers.get(args.token)
        # No failures is an empty list: the SDK's MockMonitor iterates it.
        if isinstance(answer, dict):
            return answer, []
        if answer is not None:
            return answer(args.args), []
        handler = _INVOKES.get(args.token)
        if handler is None:
            raise UnansweredInvokeError(
                f"the offline engine has no answer for invoke '{args.token}'; add a realistic "
                "one in PlatformMocks(invoke_answers={token: answer}) (built-in answers: "
                "mlops_platform/testing/mocks.py, _INVOKES)"
            )
        return handler(self, args.args), []


def _availability_zones(mocks: PlatformMocks, _: dict[str, Any]) -> dict[str, Any]:
    letters = "abcdef"
    region = mocks.region
    code = "".join(part[0] for part in region.split("-")[:2]) + region[-1]
    return {
        "id": region,
        "names": [f"{region}{c}" for c in letters],
        "zoneIds": [f"{code}-az{i + 1}" for i in range(len(letters))],
        "groupNames": [region] * len(letters),
        "state": "available",
    }


def _caller_arn(mocks: PlatformMocks) -> str:
    return mocks.caller_arn or f"arn:aws:sts::{mocks.account}:assumed-role/platform-deployer/pulumi"


def _caller_identity(mocks: PlatformMocks, _: dict[str, Any]) -> dict[str, Any]:
    arn = _caller_arn(mocks)
    kind = "AROA" if ":assumed-role/" in arn else "AIDA"
    return {
        "id": mocks.account,
        "accountId": mocks.account,
        "arn": arn,
        "userId": f"{kind}MOCKEDDEPLOYER" + (":pulumi" if kind == "AROA" else ""),
    }


def _session_context(_: PlatformMocks, args: dict[str, Any]) -> dict[str, Any]:
    """IAM's view of an ARN: an assumed-role session resolves to its role (the mock knows no
    role paths, so the role sits at ``/``); any other ARN is its own issuer."""
    arn = args.get("arn", "")
    head, _, rest = arn.partition(":assumed-role/")
    if rest and "/" in rest:
        role, session = rest.split("/", 1)
        account = head.rsplit(":", 1)[-1]
        partition = head.split(":")[1]
        issuer = f"arn:{partition}:iam::{account}:role/{role}"
        return {
            "id": arn,
            "arn": arn,
            "issuerArn": issuer,
            "issuerId": "AROAMOCKEDDEPLOYER",
            "issuerName": role,
            "sessionName": session,
        }
    return {
        "id": arn,
        "arn": arn,
        "issuerArn": arn,
        "issuerId": "",
        "issuerName": "",
        "sessionName": "",
    }


def _partition(_: PlatformMocks, __: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "aws",
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


def _region(mocks: PlatformMocks, _: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": mocks.region,
        "name": mocks.region,
        "region": mocks.region,
        "endpoint": f"ec2.{mocks.region}.amazonaws.com",
        "description": mocks.region,
    }


def _ssm_parameter(mocks: PlatformMocks, args: dict[str, Any]) -> dict[str, Any]:
    name = args.get("name", "")
    value = "ami-" + _digest(name)
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:ssm:{mocks.region}::parameter{name}",
        "type": "String",
        "value": value,
        "insecureValue": value,
        "version": 1,
    }


def _kms_alias(mocks: PlatformMocks, args: dict[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", "alias/unknown"))
    key_id = _digest(name)[:8] + "-0000-4000-8000-" + _digest(name)[8:20]
    arn = f"arn:aws:kms:{mocks.region}:{mocks.account}"
    return {
        "id": f"{arn}:{name}",
        "name": name,
        "arn": f"{arn}:{name}",
        "targetKeyId": key_id,
        "targetKeyArn": f"{arn}:key/{key_id}",
    }


_INVOKES: dict[str, Callable[[PlatformMocks, dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:iam/getSessionContext:getSessionContext": _session_context,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getRegion:getRegion": _region,
    "aws:kms/getAlias:getAlias": _kms_alias,
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
}
"""Invokes the platform uses, each answered as AWS would for the stack's region and account."""


@dataclass
class RawRegistration:
    """A RegisterResourceRequest as the monitor received it, with the mock's answer."""

    request: dict[str, Any]
    urn: str
    id: str | None


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, keeping every registration, output and invoke whole."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.registrations: list[RawRegistration] = []
        self.outputs: dict[str, dict[str, Any]] = {}
        self.invokes: list[dict[str, Any]] = []

    def RegisterResource(self, request):  # noqa: N802 (the gRPC method name)
        response = super().RegisterResource(request)
        record = json_format.MessageToDict(request, preserving_proto_field_name=False)
        record["object"] = json_format.MessageToDict(request.object)
        with self._lock:
            self.registrations.append(RawRegistration(record, response.urn, response.id or None))
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        outputs = json_format.MessageToDict(request.outputs)
        with self._lock:
            self.outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request):  # noqa: N802
        with self._lock:
            self.invokes.append(
                {"token": request.tok, "args": json_format.MessageToDict(request.args)}
            )
        return super().Invoke(request)
