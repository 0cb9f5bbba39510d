"""ModelRegistry: private, encrypted, backed-up database; MLflow reaches only its prefix."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.core.versions import POSTGRES_ENGINE_VERSION
from mlops_platform.storage.model_registry import (
    DEFAULT_CHART_VERSION,
    ModelRegistry,
    ModelRegistryArgs,
)

from scripts.offline import run_program
from scripts.offline.engine import Secret
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

DB = "aws:rds/instance:Instance"
RELEASE = "kubernetes:helm.sh/v3:Release"
KEY = "aws:kms/key:Key"
BUCKET_ARN = "arn:aws:s3:::mlops-dev-models-123456789012"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1111-2222"
CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/mlops-dev"


def _args(**overrides: Any) -> ModelRegistryArgs:
    base: dict[str, Any] = {
        "name_prefix": "mlops-dev",
        "vpc_id": "vpc-0abc",
        "private_subnet_ids": ["subnet-a", "subnet-b"],
        "client_security_group_id": "sg-nodes",
        "cluster_name": "mlops-dev",
        "cluster_arn": CLUSTER_ARN,
        "artifact_bucket_name": "mlops-dev-models-123456789012",
        "artifact_bucket_arn": BUCKET_ARN,
        "artifact_kms_key_arn": KEY_ARN,
        "region": "us-east-1",
        "tags": {"owner": "ml-team"},
    }
    return ModelRegistryArgs(**{**base, **overrides})


def _run(args: ModelRegistryArgs, stack: str = "dev"):
    return run_program(lambda: ModelRegistry("mr", args), stack=stack)


@pytest.fixture(scope="module")
def dev():
    return _run(_args())


@pytest.fixture(scope="module")
def prod():
    return _run(
        _args(
            name_prefix="mlops-prod",
            protect=True,
            multi_az=True,
            deletion_protection=True,
            final_snapshot=True,
            backup_retention_days=30,
            monitoring_interval_seconds=15,
            log_retention_days=365,
        ),
        stack="prod",
    )


def test_database_is_private_encrypted_and_backed_up(dev):
    db = dev.one(DB)
    key = dev.one(KEY)
    inputs = db.inputs
    assert inputs["engine"] == "postgres" and inputs["engineVersion"] == POSTGRES_ENGINE_VERSION
    assert inputs["publiclyAccessible"] is False
    assert inputs["storageEncrypted"] is True
    assert inputs["kmsKeyId"] == f"arn:aws:kms:us-east-1:123456789012:key/{key.id}"
    assert key.inputs["enableKeyRotation"] is True
    assert inputs["backupRetentionPeriod"] == 7
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    assert isinstance(inputs["password"], Secret)
    subnets = dev.one("aws:rds/subnetGroup:SubnetGroup")
    assert subnets.inputs["subnetIds"] == ["subnet-a", "subnet-b"]
    assert inputs["dbSubnetGroupName"] == subnets.inputs["name"]
    params = {
        p["name"]: p["value"]
        for p in dev.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]
    }
    assert params["rds.force_ssl"] == "1"


def test_database_accepts_5432_only_from_the_cluster(dev):
    sg = dev.one("aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in sg.inputs and "egress" not in sg.inputs
    rules = dev.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert len(rules) == 1
    rule = rules[0].inputs
    assert rule["referencedSecurityGroupId"] == "sg-nodes"
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (5432, 5432, "tcp")
    assert "cidrIpv4" not in rule and "cidrIpv6" not in rule
    assert dev.one(DB).inputs["vpcSecurityGroupIds"] == [sg.id]


def test_dev_database_is_disposable_prod_is_kept(dev, prod):
    d = dev.one(DB)
    assert not d.protect and d.inputs["skipFinalSnapshot"] is True
    assert d.inputs["multiAz"] is False and d.inputs["deletionProtection"] is False
    p = prod.one(DB)
    assert p.protect and p.retain_on_delete
    assert p.inputs["multiAz"] is True and p.inputs["deletionProtection"] is True
    assert p.inputs["skipFinalSnapshot"] is False
    assert p.inputs["finalSnapshotIdentifier"] == "mlops-prod-mlflow-final"
    assert p.inputs["backupRetentionPeriod"] == 30
    assert p.inputs["deleteAutomatedBackups"] is False
    key = prod.one(KEY)
    assert key.protect and key.retain_on_delete


def _role_policy(rec) -> dict[str, Any]:
    return json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])


def test_mlflow_role_reaches_only_its_prefix(dev):
    doc = _role_policy(dev)
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        for resource in _list(statement["Resource"]):
            assert resource in {BUCKET_ARN, f"{BUCKET_ARN}/mlflow/*", KEY_ARN}, resource
    listing = next(s for s in doc["Statement"] if s["Sid"] == "ListPrefix")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["mlflow/*"]}}
    actions = {a for s in doc["Statement"] for a in _list(s["Action"])}
    assert "s3:PutObject" in actions and "s3:DeleteObjectVersion" not in actions


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_mlflow_role_is_a_pod_identity_role_for_its_service_account(dev):
    role = dev.one("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    conditions = trust["Condition"]
    # the cluster is pinned (as source ARN or session tag, per components.iam)
    pinned = [v for test in conditions.values() for v in test.values()]
    assert CLUSTER_ARN in pinned
    assert conditions["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == "mlflow"
    assert conditions["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "mlflow"
    association = dev.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "mlflow",
        "mlflow",
    )
    assert association.inputs["clusterName"] == "mlops-dev"


def test_chart_is_pinned_cluster_internal_and_uses_the_secret(dev):
    release = dev.one(RELEASE)
    inputs = release.inputs
    assert inputs["chart"] == "mlflow" and inputs["version"] == DEFAULT_CHART_VERSION
    values = inputs["values"]
    assert values["service"]["type"] == "ClusterIP"
    assert values["backendStore"]["postgres"]["enabled"] is True
    assert values["backendStore"]["postgres"]["host"].endswith(".rds.amazonaws.com")
    assert "password" not in values["backendStore"]["postgres"]
    assert values["backendStore"]["existingDatabaseSecret"]["name"] == "mlflow-database"
    assert values["artifactRoot"]["proxiedArtifactStorage"] is True
    assert values["artifactRoot"]["s3"] == {
        "enabled": True,
        "bucket": "mlops-dev-models-123456789012",
        "path": "mlflow",
    }
    assert values["serviceAccount"] == {"create": True, "name": "mlflow", "automount": False}
    secret = dev.one("kubernetes:core/v1:Secret")
    assert isinstance(secret.inputs["stringData"], Secret)
    data = secret.inputs["stringData"].value
    assert data["dsn"].startswith("postgresql://mlflow:") and "sslmode=require" in data["dsn"]


def test_internal_load_balancer_is_an_internal_nlb_of_the_controller():
    rec = _run(_args(internal_load_balancer=True, ingress_cidrs=["10.10.0.0/16", "10.20.0.0/24"]))
    service = rec.one(RELEASE).inputs["values"]["service"]
    assert service["type"] == "LoadBalancer"
    annotations = service["annotations"]
    # The AWS Load Balancer Controller serves it: internal scheme, IP targets.
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert annotations["service.beta.kubernetes.io/load-balancer-source-ranges"] == (
        "10.10.0.0/16,10.20.0.0/24"
    )
    # The chart 1.11.5 Service template has no loadBalancerSourceRanges field.
    assert "loadBalancerSourceRanges" not in service


def test_mlflow_accepts_the_host_names_it_publishes(dev):
    values = dev.one(RELEASE).inputs["values"]
    hosts = values["serverAllowedHosts"]
    # The tracking URI every in-cluster client gets must pass MLflow 3's Host check.
    outputs = next(o for o in dev.component_outputs.values() if "tracking_uri" in o)
    tracking_host = outputs["tracking_uri"].split("//")[1]
    assert tracking_host == "mlflow.mlflow.svc.cluster.local:80"
    assert hosts == [
        "mlflow",
        "mlflow:80",
        "mlflow.mlflow",
        "mlflow.mlflow:80",
        "mlflow.mlflow.svc",
        "mlflow.mlflow.svc:80",
        "mlflow.mlflow.svc.cluster.local",
        "mlflow.mlflow.svc.cluster.local:80",
    ]
    assert values["fullnameOverride"] == "mlflow"  # the Service's name


def test_mlflow_accepts_load_balancer_and_extra_host_names():
    rec = _run(
        _args(
            internal_load_balancer=True,
            ingress_cidrs=["10.10.0.0/16"],
            allowed_hosts=["mlflow.example.internal"],
        )
    )
    hosts = rec.one(RELEASE).inputs["values"]["serverAllowedHosts"]
    assert "*.elb.us-east-1.amazonaws.com" in hosts
    assert "*.us-east-1.elb.amazonaws.com:*" in hosts
    assert hosts[-1] == "mlflow.example.internal"
    assert "*" not in hosts


def test_cluster_ip_service_has_no_load_balancer_annotations(dev):
    service = dev.one(RELEASE).inputs["values"]["service"]
    assert service == {"type": "ClusterIP", "annotations": {}}


def test_network_policy_admits_only_opted_in_namespaces_and_its_own(dev):
    policy = dev.one("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    assert policy.inputs["metadata"]["namespace"] == "mlflow"
    spec = policy.inputs["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    assert spec["podSelector"] == {}
    assert spec["ingress"] == [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"mlops/mlflow-client": "true"}}},
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mlflow"}}},
            ],
            "ports": [{"port": 5000, "protocol": "TCP"}],
        }
    ]
    # never every namespace
    assert all(peer.get("namespaceSelector") != {} for peer in spec["ingress"][0]["from"])


def test_namespace_quota_forbids_node_ports_and_load_balancers(dev):
    quota = dev.one("kubernetes:core/v1:ResourceQuota")
    hard = quota.inputs["spec"]["hard"]
    assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0"
    assert hard["requests.cpu"] and hard["limits.memory"]


def test_internal_load_balancer_admits_only_given_cidrs():
    rec = _run(_args(internal_load_balancer=True, ingress_cidrs=["10.10.0.0/16"]))
    sources = rec.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs["spec"]["ingress"][0]
    assert {"ipBlock": {"cidr": "10.10.0.0/16"}} in sources["from"]
    assert {"namespaceSelector": {}} not in sources["from"]
    hard = rec.one("kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]
    # A LoadBalancer Service counts one node port per port against the quota.
    assert hard["services.loadbalancers"] == "1" and hard["services.nodeports"] == "1"


def test_outputs(dev):
    outputs = next(o for o in dev.component_outputs.values() if "tracking_uri" in o)
    assert outputs["tracking_uri"] == "http://mlflow.mlflow.svc.cluster.local:80"
    assert outputs["artifact_uri"] == "s3://mlops-dev-models-123456789012/mlflow"
    assert outputs["db_endpoint"].endswith(":5432")


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "arg"),
    [
        ({"backup_retention_days": 0}, "backup_retention_days"),
        ({"backup_retention_days": 36}, "backup_retention_days"),
        ({"private_subnet_ids": ["subnet-a"]}, "private_subnet_ids"),
        ({"engine_version": "17"}, "engine_version"),
        ({"artifact_prefix": "/mlflow"}, "artifact_prefix"),
        ({"artifact_prefix": ""}, "artifact_prefix"),
        ({"chart_version": "latest"}, "chart_version"),
        ({"image_repository": "repo/mlflow"}, "image_tag"),
        ({"max_allocated_storage_gb": 10}, "max_allocated_storage_gb"),
        ({"namespace": "MLflow"}, "namespace"),
        ({"internal_load_balancer": True}, "ingress_cidrs"),
        ({"internal_load_balancer": True, "ingress_cidrs": ["0.0.0.0/0"]}, "ingress_cidrs[0]"),
        ({"ingress_cidrs": ["10.0.0.1/16"]}, "ingress_cidrs[0]"),
        ({"allowed_hosts": ["*"]}, "allowed_hosts[0]"),
        ({"monitoring_interval_seconds": 7}, "monitoring_interval_seconds"),
        ({"log_retention_days": 8}, "log_retention_days"),
        ({"slow_statement_ms": -2}, "slow_statement_ms"),
        ({"allowed_hosts": ["a.example.com,b.example.com"]}, "allowed_hosts[0]"),
    ],
)
def test_bad_input_is_named_before_anything_registers(overrides, arg):
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(ComponentInputError) as err:
        run_program(lambda: ModelRegistry("mr", _args(**overrides)), monitor=monitor)
    assert f"  - {arg} = " in str(err.value)
    children = [r.request["type"] for r in monitor.registrations]
    assert not [t for t in children if t.startswith(("aws:", "kubernetes:", "random:"))]


# --- database observability and its key ------------------------------------------------------


def test_database_exports_its_logs_to_encrypted_log_groups_it_waits_for(dev, prod):
    for rec, days in ((dev, 30), (prod, 365)):
        db = rec.one(DB)
        assert db.inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
        groups = rec.of_type("aws:cloudwatch/logGroup:LogGroup")
        identifier = db.inputs["identifier"]
        assert {g.inputs["name"] for g in groups} == {
            f"/aws/rds/instance/{identifier}/postgresql",
            f"/aws/rds/instance/{identifier}/upgrade",
        }
        key_arn = rec.one(KEY)
        for group in groups:
            assert group.inputs["retentionInDays"] == days
            assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
            assert group.urn in db.dependencies  # else RDS creates them, unencrypted, forever
            assert key_arn.urn in group.dependencies


def test_slow_statements_and_connections_are_logged(dev):
    params = {
        p["name"]: p["value"]
        for p in dev.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]
    }
    assert params["log_min_duration_statement"] == "1000"
    assert params["log_connections"] == "1" and params["log_disconnections"] == "1"
    assert params["rds.force_ssl"] == "1"


def test_enhanced_monitoring_only_when_asked_with_the_managed_role(dev, prod):
    assert dev.one(DB).inputs["monitoringInterval"] == 0
    assert "monitoringRoleArn" not in dev.one(DB).inputs
    assert not [r for r in dev.of_type("aws:iam/role:Role") if "monitoring" in r.name]
    db = prod.one(DB)
    assert db.inputs["monitoringInterval"] == 15
    role = next(r for r in prod.of_type("aws:iam/role:Role") if "monitoring" in r.name)
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    attachment = next(
        a
        for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if "monitoring" in a.name
    )
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    assert db.inputs["monitoringRoleArn"].endswith(":role/mlops-prod-mlflow-db-monitoring")
    assert db.inputs["performanceInsightsKmsKeyId"].startswith("arn:aws:kms:")


def test_database_key_is_used_only_through_rds_and_by_logs_for_its_groups(dev):
    policy = json.loads(dev.one(KEY).inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    admin = by_sid["AccountAdministersKey"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert "kms:*" not in admin["Action"] and "kms:Decrypt" not in admin["Action"]
    use = by_sid["AccountUsesKeyThroughServices"]
    assert use["Condition"]["StringEquals"] == {
        "kms:CallerAccount": "123456789012",
        "kms:ViaService": ["rds.us-east-1.amazonaws.com"],
    }
    logs = by_sid["CloudWatchLogsEncryptsLogGroups"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    arns = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert arns == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/instance/mlops-dev-mlflow/postgresql",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/rds/instance/mlops-dev-mlflow/upgrade",
    ]
