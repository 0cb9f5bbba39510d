"""PlatformIam and the workload-role helpers under the mock engine.

Trusts pin OIDC ``sub``/``aud``; every role carries the boundary; and a walk over every
policy document the IAM and cluster components register fails on a wildcard action (or an
Allow on ``*``) outside the documented exception lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from mlops_platform.cluster.serving_cluster import ServingCluster, ServingClusterArgs
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.deploy import DeployRunner, DeployRunnerArgs
from mlops_platform.iam import (
    WILDCARD_ACTION_EXCEPTIONS,
    WILDCARD_RESOURCE_EXCEPTIONS,
    PlatformIam,
    PlatformIamArgs,
    irsa_role,
    pod_identity_role,
)
from mlops_platform.serving import (
    LoadBalancerController,
    LoadBalancerControllerArgs,
    Tenant,
    TenantArgs,
)

from scripts.offline import run_program
from scripts.offline.engine import Recording, Unknown

ROLE = "aws:iam/role:Role"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ACCOUNT = "123456789012"
EXISTING_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
EXISTING_BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/org-boundary"
SSO_ADMIN = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso/AWSReservedSSO_Admin_1f"
SSO_READ_ONLY_PATTERN = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_ReadOnly_*"
)


def iam_args(**overrides: Any) -> PlatformIamArgs:
    values: dict[str, Any] = {
        "name_prefix": "mlops-prod",
        "ci_repository": "acme/mlops-platform",
        "ci_environment": "prod",
        "create_permission_boundary": True,
        "admin_principal_arns": [SSO_ADMIN],
        "read_only_principal_arns": [SSO_READ_ONLY_PATTERN],
        "tags": {"owner": "ml-platform-team"},
    }
    values.update(overrides)
    return PlatformIamArgs(**values)


def run_iam(args: PlatformIamArgs) -> Recording:
    return run_program(lambda: PlatformIam("iam", args), stack="prod")


def trust(rec: Recording, name: str) -> dict[str, Any]:
    return json.loads(rec.one(ROLE, name).inputs["assumeRolePolicy"])


class WorkloadHost(pulumi.ComponentResource):
    """A stand-in consumer component for the helpers."""

    def __init__(self, name: str, boundary: str | None = None) -> None:
        super().__init__("mlops:test:WorkloadHost", name, None, None)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadModels",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": ["arn:aws:s3:::mlops-prod-models/*"],
                }
            ],
        }
        self.pod = pod_identity_role(
            f"{name}-mlflow",
            parent=self,
            name_prefix="mlops-prod",
            role="mlflow",
            cluster_name="mlops-prod-eks",
            cluster_arn=f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/mlops-prod-eks",
            namespace="mlflow",
            service_account="mlflow-server",
            policy=policy,
            permission_boundary_arn=boundary,
            tags={"owner": "ml-platform-team"},
        )
        self.irsa = irsa_role(
            f"{name}-chart",
            parent=self,
            name_prefix="mlops-prod",
            role="chart",
            oidc_provider_arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
            oidc_issuer_url="https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
            namespace="monitoring",
            service_account="exporter",
            policy=policy,
            permission_boundary_arn=boundary,
        )
        self.register_outputs({})


def everything() -> None:
    iam = PlatformIam("iam", iam_args(state_bucket_arn="arn:aws:s3:::acme-pulumi-state"))
    ServingCluster(
        "eks",
        ServingClusterArgs(
            name_prefix="mlops-prod",
            subnet_ids=["subnet-0a", "subnet-0b", "subnet-0c"],
            cluster_role_arn=iam.cluster_role_arn,
            node_role_arn=iam.node_role_arn,
            admin_roles={"platform-admin": iam.platform_admin_role_arn},
            permission_boundary_arn=iam.permission_boundary_arn,
        ),
    )
    WorkloadHost("workloads", boundary=EXISTING_BOUNDARY)
    # The serving components' policies hold the load balancer controller's and the
    # tenants' documented wildcards.
    kubernetes = k8s.Provider("k8s", kubeconfig="{}")
    cluster_arn = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/mlops-prod-eks"
    LoadBalancerController(
        "lbc",
        LoadBalancerControllerArgs(
            cluster_name="mlops-prod-eks",
            cluster_arn=cluster_arn,
            vpc_id="vpc-0a1b2c3d4e5f67890",
            kubernetes_provider=kubernetes,
            name_prefix="mlops-prod",
            permission_boundary_arn=iam.permission_boundary_arn,
        ),
    )
    Tenant(
        "recsys",
        TenantArgs(
            team="recsys",
            owner="recsys-team",
            name_prefix="mlops-prod",
            cluster_name="mlops-prod-eks",
            cluster_arn=cluster_arn,
            kubernetes_provider=kubernetes,
            artifact_bucket_arns={"models": "arn:aws:s3:::mlops-prod-models"},
            artifact_kms_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1",
            permission_boundary_arn=iam.permission_boundary_arn,
        ),
    )
    DeployRunner(
        "runner",
        DeployRunnerArgs(
            name_prefix="mlops-prod",
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=["subnet-0a", "subnet-0b", "subnet-0c"],
            repository_url="https://github.com/acme/mlops-platform",
            connection_arn=f"arn:aws:codeconnections:us-east-1:{ACCOUNT}:connection/"
            "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
            permission_boundary_arn=iam.permission_boundary_arn,
        ),
    )


@pytest.fixture(scope="module")
def full() -> Recording:
    return run_program(everything, stack="prod")


@pytest.fixture(scope="module")
def iam_rec() -> Recording:
    return run_iam(iam_args())


# --- the policy-document walk ----------------------------------------------------------------

DOCUMENT_INPUTS = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:kms/key:Key": "policy",
}


def documents(rec: Recording) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, name, document) for every policy document registered."""
    for resource in rec.created():
        key = DOCUMENT_INPUTS.get(resource.type)
        if key is None:
            continue
        raw = resource.inputs.get(key)
        assert raw is not None and not isinstance(raw, Unknown), resource.name
        yield resource.type, resource.name, json.loads(raw)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_violations(rec: Recording) -> list[str]:
    """Every Allow with a wildcard action, NotAction, ``*`` resource or ``*`` principal
    outside the documented exceptions, and every statement without a Sid."""
    found: list[str] = []
    for type_, name, document in documents(rec):
        for statement in document["Statement"]:
            sid = statement.get("Sid")
            where = f"{name}/{sid}"
            if not sid:
                found.append(f"{name}: statement without Sid")
            principal = statement.get("Principal")
            if principal == "*" or (
                isinstance(principal, dict) and "*" in _as_list(principal.get("AWS", []))
            ):
                found.append(f"{where}: '*' principal")
            if statement["Effect"] != "Allow":
                continue  # a Deny with wildcards only narrows
            if "NotAction" in statement or "NotResource" in statement:
                found.append(f"{where}: NotAction/NotResource in an Allow")
            actions = _as_list(statement.get("Action", []))
            wild = [a for a in actions if "*" in a]
            if wild and sid not in WILDCARD_ACTION_EXCEPTIONS:
                found.append(f"{where}: wildcard actions {wild}")
            is_key_policy = type_ == "aws:kms/key:Key"  # there "*" means "this key"
            if (
                "Resource" in statement
                and "*" in _as_list(statement["Resource"])
                and not is_key_policy
                and sid not in WILDCARD_RESOURCE_EXCEPTIONS
            ):
                found.append(f"{where}: Allow on resource '*'")
    return found


def test_no_wildcard_outside_documented_exceptions(full: Recording) -> None:
    docs = list(documents(full))
    # The walk is not vacuous: trusts, inline, managed and key policies are all in it.
    assert {t for t, _, _ in docs} == set(DOCUMENT_INPUTS)
    assert len(docs) >= 15  # 8 trusts, 5 inline, 5 managed, 1 key policy today
    assert wildcard_violations(full) == []


def test_wildcard_walk_catches_an_undocumented_wildcard() -> None:
    bad = {"Sid": "Sneaky", "Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]}
    rec = run_iam(iam_args(ci_extra_statements=[bad]))
    violations = wildcard_violations(rec)
    assert any("Sneaky: wildcard actions ['s3:*']" in v for v in violations)
    assert any("Sneaky: Allow on resource '*'" in v for v in violations)


def test_every_exception_is_used_and_explained(full: Recording) -> None:
    used = {
        statement.get("Sid")
        for _, _, document in documents(full)
        for statement in document["Statement"]
    }
    for sid, reason in {**WILDCARD_ACTION_EXCEPTIONS, **WILDCARD_RESOURCE_EXCEPTIONS}.items():
        assert sid in used, f"stale exception {sid}"
        assert len(reason) > 30, sid


def test_no_admin_or_service_star_grants(full: Recording) -> None:
    for _, name, document in documents(full):
        for statement in document["Statement"]:
            if statement["Effect"] != "Allow" or statement["Sid"] == "BoundaryServiceCeiling":
                continue  # the boundary grants nothing by itself
            actions = _as_list(statement.get("Action", []))
            assert "*" not in actions, name
            assert not [a for a in actions if a.endswith(":*")], name


def test_the_boundary_does_not_cap_what_platform_policies_grant(full: Recording) -> None:
    boundary = json.loads(
        full.one("aws:iam/policy:Policy", "iam-permission-boundary").inputs["policy"]
    )
    ceiling = {
        action.split(":")[0]
        for statement in boundary["Statement"]
        if statement["Sid"] == "BoundaryServiceCeiling"
        for action in statement["Action"]
    }
    granted = {
        action.split(":")[0]
        for type_, name, document in documents(full)
        if type_ in {"aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"}
        and name != "iam-permission-boundary"
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
    }
    assert granted - ceiling == set()


# --- trusts ----------------------------------------------------------------------------------


def test_ci_role_trust_pins_aud_and_sub(iam_rec: Recording) -> None:
    provider = iam_rec.one(OIDC)
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    (statement,) = trust(iam_rec, "iam-ci-deploy")["Statement"]
    assert statement["Principal"] == {"Federated": EXISTING_PROVIDER}
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": (
                "repo:acme/mlops-platform:environment:prod"
            ),
        }
    }


def test_existing_github_provider_is_reused() -> None:
    rec = run_iam(iam_args(github_oidc_provider_arn=EXISTING_PROVIDER, ci_environment="staging"))
    assert rec.of_type(OIDC) == []
    (statement,) = trust(rec, "iam-ci-deploy")["Statement"]
    assert statement["Principal"] == {"Federated": EXISTING_PROVIDER}
    sub = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert sub == "repo:acme/mlops-platform:environment:staging"


def test_no_ci_role_without_a_repository() -> None:
    rec = run_iam(iam_args(ci_repository=None))
    assert [r.name for r in rec.of_type(ROLE) if "ci" in r.name] == []
    assert rec.of_type(OIDC) == []
    outputs = rec.component_outputs[rec.one("mlops:index:PlatformIam").urn]
    assert outputs.get("ci_role_arn") is None


def test_cluster_and_node_roles(iam_rec: Recording) -> None:
    (cluster,) = trust(iam_rec, "iam-cluster")["Statement"]
    assert cluster["Principal"] == {"Service": "eks.amazonaws.com"}
    (node,) = trust(iam_rec, "iam-node")["Statement"]
    assert node["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {
        r.inputs["policyArn"].rsplit("/", 1)[-1]: r.inputs["role"]
        for r in iam_rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["policyArn"].startswith("arn:aws:iam::aws:policy/")
    }
    assert attached == {
        "AmazonEKSClusterPolicy": "mlops-prod-eks-cluster",
        "AmazonEKSWorkerNodePolicy": "mlops-prod-eks-node",
        "AmazonEC2ContainerRegistryPullOnly": "mlops-prod-eks-node",
        "AmazonEKS_CNI_Policy": "mlops-prod-eks-node",
    }


def test_human_roles_trust_named_principals_only() -> None:
    user = f"arn:aws:iam::{ACCOUNT}:user/alice"
    rec = run_iam(iam_args(admin_principal_arns=[SSO_ADMIN, user, SSO_READ_ONLY_PATTERN]))
    by_sid = {s["Sid"]: s for s in trust(rec, "iam-platform-admin")["Statement"]}
    assert by_sid["HumanRoles"]["Principal"] == {"AWS": [SSO_ADMIN]}
    assert "Condition" not in by_sid["HumanRoles"]  # a role: its own sign-in decides
    assert by_sid["HumanUsersWithMfa"]["Principal"] == {"AWS": [user]}
    assert by_sid["HumanUsersWithMfa"]["Condition"] == {
        "Bool": {"aws:MultiFactorAuthPresent": "true"}
    }
    sso = by_sid["HumanSsoRoles"]
    assert sso["Condition"] == {"ArnLike": {"aws:PrincipalArn": [SSO_READ_ONLY_PATTERN]}}
    for role in ("iam-platform-admin", "iam-read-only"):
        for statement in trust(rec, role)["Statement"]:
            # the account root appears only behind a principal-ARN condition
            if statement["Principal"]["AWS"] == [f"arn:aws:iam::{ACCOUNT}:root"]:
                assert "ArnLike" in statement["Condition"]


def test_a_human_role_without_principals_is_refused_or_off() -> None:
    message = _problems(admin_principal_arns=[], read_only_principal_arns=[])
    assert "admin_principal_arns = []" in message and "read_only_principal_arns = []" in message
    assert PlatformIam.validate(iam_args(read_only_role=False, read_only_principal_arns=[])) == []
    rec = run_iam(iam_args(read_only_role=False, read_only_principal_arns=[]))
    roles = {r.name for r in rec.of_type("aws:iam/role:Role")}
    assert "iam-read-only" not in roles and "iam-platform-admin" in roles
    outputs = next(o for o in rec.component_outputs.values() if "node_role_arn" in o)
    assert outputs.get("read_only_role_arn") is None


def test_the_account_root_is_not_a_human_principal() -> None:
    message = _problems(admin_principal_arns=[f"arn:aws:iam::{ACCOUNT}:root"])
    assert "admin_principal_arns[0]" in message


def test_pod_identity_helper_pins_namespace_and_service_account(full: Recording) -> None:
    (statement,) = trust(full, "workloads-mlflow-role")["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT,
        "aws:RequestTag/eks-cluster-arn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/mlops-prod-eks",
        "aws:RequestTag/kubernetes-namespace": "mlflow",
        "aws:RequestTag/kubernetes-service-account": "mlflow-server",
    }
    association = full.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "workloads-mlflow-pod-identity"
    ).inputs
    assert (association["namespace"], association["serviceAccount"]) == ("mlflow", "mlflow-server")
    assert association["clusterName"] == "mlops-prod-eks"


def test_irsa_helper_pins_sub_and_aud(full: Recording) -> None:
    (statement,) = trust(full, "workloads-chart-role")["Statement"]
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Principal"]["Federated"].endswith("/id/ABC")
    host = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{host}:sub": "system:serviceaccount:monitoring:exporter",
            f"{host}:aud": "sts.amazonaws.com",
        }
    }


# --- boundary --------------------------------------------------------------------------------


def test_every_role_carries_the_created_boundary(full: Recording) -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/mlops-prod-permission-boundary"
    roles = {r.name: r.inputs.get("permissionsBoundary") for r in full.of_type(ROLE)}
    platform_roles = {n: b for n, b in roles.items() if not n.startswith("workloads-")}
    # cluster, node, admin, read-only, CI, EBS CSI, LB controller, a tenant's workloads, runner
    assert len(platform_roles) == 9
    assert set(platform_roles.values()) == {boundary}
    assert roles["workloads-mlflow-role"] == EXISTING_BOUNDARY
    document = json.loads(
        full.one("aws:iam/policy:Policy", "iam-permission-boundary").inputs["policy"]
    )
    denies = {s["Sid"] for s in document["Statement"] if s["Effect"] == "Deny"}
    assert {"BoundaryDenyUnboundedRoles", "BoundaryDenyRemoval"} <= denies


def test_existing_boundary_is_attached_and_none_created() -> None:
    rec = run_iam(
        iam_args(create_permission_boundary=False, permission_boundary_arn=EXISTING_BOUNDARY)
    )
    assert [p.name for p in rec.of_type("aws:iam/policy:Policy") if "boundary" in p.name] == []
    assert {r.inputs["permissionsBoundary"] for r in rec.of_type(ROLE)} == {EXISTING_BOUNDARY}
    cluster_policy = json.loads(rec.one("aws:iam/policy:Policy", "iam-ci-cluster").inputs["policy"])
    create = next(s for s in cluster_policy["Statement"] if s["Sid"] == "CiIamRoles")
    assert create["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": EXISTING_BOUNDARY}}


def test_boundary_ceiling_allows_session_manager_and_inspector(full: Recording) -> None:
    document = json.loads(
        full.one("aws:iam/policy:Policy", "iam-permission-boundary").inputs["policy"]
    )
    (ceiling,) = [s for s in document["Statement"] if s["Sid"] == "BoundaryServiceCeiling"]
    # Session Manager on nodes (AmazonSSMManagedInstanceCore) talks to ssm, ssmmessages and
    # ec2messages; enhanced ECR scanning needs the CI role to turn on Inspector.
    for service in ("ssm", "ssmmessages", "ec2messages", "inspector2"):
        assert f"{service}:*" in ceiling["Action"], service


def test_no_boundary_when_not_asked() -> None:
    rec = run_iam(iam_args(create_permission_boundary=False))
    assert all("permissionsBoundary" not in r.inputs for r in rec.of_type(ROLE))


# --- CI permissions --------------------------------------------------------------------------


def test_ci_policies_fit_the_managed_policy_size_limit(full: Recording) -> None:
    policies = [p for p in full.of_type("aws:iam/policy:Policy") if "-ci-" in p.name]
    assert {p.name for p in policies} == {
        "iam-ci-read",
        "iam-ci-network",
        "iam-ci-cluster",
        "iam-ci-data",
        "iam-ci-services",
    }
    for policy in policies:
        compact = "".join(policy.inputs["policy"].split())
        assert len(compact) <= 6144, (policy.name, len(compact))


def test_ci_permissions_are_scoped_to_the_prefix(full: Recording) -> None:
    cluster_policy = json.loads(
        full.one("aws:iam/policy:Policy", "iam-ci-cluster").inputs["policy"]
    )
    by_sid = {s["Sid"]: s for s in cluster_policy["Statement"]}
    assert by_sid["CiEks"]["Resource"][0] == (
        f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/mlops-prod-*"
    )
    assert by_sid["CiPassPlatformRoles"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-*"
    ]
    assert "iam:PassedToService" in by_sid["CiPassPlatformRoles"]["Condition"]["StringEquals"]
    assert by_sid["CiDenySelfEdit"]["Effect"] == "Deny"
    assert by_sid["CiDenySelfEdit"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-ci-deploy"
    ]
    own_policies = by_sid["CiDenyEditingOwnPolicies"]
    assert own_policies["Effect"] == "Deny"
    assert "iam:CreatePolicyVersion" in own_policies["Action"]
    assert own_policies["Resource"] == [f"arn:aws:iam::{ACCOUNT}:policy/mlops-prod-ci-deploy-*"]
    names = {p.inputs["name"] for p in full.of_type("aws:iam/policy:Policy") if "-ci-" in p.name}
    assert all(n.startswith("mlops-prod-ci-deploy-") for n in names)
    data = json.loads(full.one("aws:iam/policy:Policy", "iam-ci-data").inputs["policy"])
    state = {s["Sid"]: s["Resource"] for s in data["Statement"]}
    assert state["CiStateObjects"] == ["arn:aws:s3:::acme-pulumi-state/*"]


def _ci_statements(rec: Recording) -> dict[str, dict[str, Any]]:
    return {
        statement["Sid"]: statement
        for policy in rec.of_type("aws:iam/policy:Policy")
        if "-ci-" in policy.name
        for statement in json.loads(policy.inputs["policy"])["Statement"]
    }


def test_ci_can_tag_the_platforms_node_group_asgs(iam_rec: Recording) -> None:
    statements = _ci_statements(iam_rec)
    assert "autoscaling:DescribeTags" in statements["CiReadOnly"]["Action"]
    tags = statements["CiNodeGroupTags"]
    assert tags["Action"] == ["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"]
    # Managed node groups' ASGs are eks-<node group>-<uuid>; ours are all {prefix}-...
    assert tags["Resource"] == [
        f"arn:aws:autoscaling:us-east-1:{ACCOUNT}:autoScalingGroup:*:"
        "autoScalingGroupName/eks-mlops-prod-*"
    ]


def test_ci_can_create_the_database_with_the_default_option_group(iam_rec: Recording) -> None:
    statements = _ci_statements(iam_rec)
    assert statements["CiRdsDefaultOptionGroup"] == {
        "Sid": "CiRdsDefaultOptionGroup",
        "Effect": "Allow",
        "Action": ["rds:CreateDBInstance"],
        "Resource": [f"arn:aws:rds:us-east-1:{ACCOUNT}:og:default:*"],
    }
    linked = statements["CiServiceLinkedRoles"]["Condition"]["StringEquals"]
    assert {"rds.amazonaws.com", "inspector2.amazonaws.com"} <= set(linked["iam:AWSServiceName"])


def test_ci_can_turn_on_inspector_for_enhanced_scanning(iam_rec: Recording) -> None:
    inspector = _ci_statements(iam_rec)["CiInspectorForEcrScanning"]
    assert {"inspector2:Enable", "inspector2:ListAccountPermissions"} <= set(inspector["Action"])
    assert inspector["Resource"] == "*"
    assert inspector["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    assert "CiInspectorForEcrScanning" in WILDCARD_RESOURCE_EXCEPTIONS


# --- bad input -------------------------------------------------------------------------------


def _problems(**overrides: Any) -> str:
    with pytest.raises(ComponentInputError) as caught:
        run_iam(iam_args(**overrides))
    return str(caught.value)


@pytest.mark.parametrize(
    "repo", ["mlops-platform", "acme/mlops/extra", "https://github.com/acme/x"]
)
def test_ci_repository_must_be_org_slash_repo(repo: str) -> None:
    message = _problems(ci_repository=repo)
    assert "ci_repository" in message
    assert "org/repo" in message


def test_both_boundary_options_are_rejected() -> None:
    message = _problems(permission_boundary_arn=EXISTING_BOUNDARY)
    assert "create_permission_boundary" in message


def test_bad_principal_and_provider_arns_are_reported_together() -> None:
    message = _problems(
        admin_principal_arns=["arn:aws:iam::123:user/bob"],
        github_oidc_provider_arn="token.actions.githubusercontent.com",
    )
    assert "admin_principal_arns[0]" in message
    assert "github_oidc_provider_arn" in message


def test_valid_iam_args_pass() -> None:
    assert PlatformIam.validate(iam_args()) == []


def test_helper_rejects_bad_service_account() -> None:
    def program() -> None:
        host = pulumi.ComponentResource("mlops:test:Host", "host")
        pod_identity_role(
            "bad",
            parent=host,
            name_prefix="mlops-dev",
            role="bad",
            cluster_name="c",
            cluster_arn=f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/c",
            namespace="Kube_System",
            service_account="sa",
            policy={"Version": "2012-10-17", "Statement": []},
        )

    with pytest.raises(ComponentInputError) as caught:
        run_program(program, stack="dev")
    message = str(caught.value)
    assert "namespace" in message
    assert "policy" in message


# Actions that the Service Authorization Reference lists with no resource type: the only
# ones the CI read policy may grant on "*".
UNSCOPABLE_READS = {
    "ec2:Describe*",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeTags",
    "eks:ListClusters",
    "eks:DescribeAddonVersions",
    "eks:DescribeAddonConfiguration",
    "eks:ListAccessPolicies",
    "iam:ListOpenIDConnectProviders",
    "kms:ListAliases",
}


def test_ci_reads_are_scoped_to_the_stacks_arns(iam_rec: Recording) -> None:
    read = json.loads(iam_rec.one("aws:iam/policy:Policy", "iam-ci-read").inputs["policy"])
    on_star = {a for s in read["Statement"] if s["Resource"] == "*" for a in s["Action"]}
    assert on_star == UNSCOPABLE_READS
    by_sid = {s["Sid"]: s for s in read["Statement"]}
    assert "eks:DescribeCluster" in by_sid["CiReadEks"]["Action"]
    assert (
        f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/mlops-prod-*" in by_sid["CiReadEks"]["Resource"]
    )
    assert by_sid["CiReadIamRoles"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-*",
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/*",
    ]
    assert by_sid["CiReadKeys"]["Resource"] == [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"]
    assert by_sid["CiReadLogGroups"]["Resource"] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*"
    ]
    assert (
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/rds/instance/mlops-prod-*"
        in (by_sid["CiReadLogGroupTags"]["Resource"])
    )


def test_ci_reaches_the_state_backend_by_bucket_name_and_key_alias() -> None:
    # A deploy from the in-VPC runner assumes the CI role: it must read and write the state
    # bucket and use the secrets key that bootstrap-backend made (resolved by alias).
    rec = run_iam(
        iam_args(
            state_bucket="mlops-pulumi-state-123456789012-us-east-1",
            secrets_kms_key_alias="alias/mlops-pulumi-secrets",
        )
    )
    statements = _ci_statements(rec)
    assert statements["CiStateList"]["Resource"] == [
        "arn:aws:s3:::mlops-pulumi-state-123456789012-us-east-1"
    ]
    assert statements["CiStateObjects"]["Resource"] == [
        "arn:aws:s3:::mlops-pulumi-state-123456789012-us-east-1/*"
    ]
    (key,) = statements["CiStackSecrets"]["Resource"]
    assert key.startswith("arn:aws:kms:") and ":key/" in key


def test_ci_gets_no_state_access_when_none_is_configured(iam_rec: Recording) -> None:
    statements = _ci_statements(iam_rec)
    assert "CiStateList" not in statements and "CiStackSecrets" not in statements
