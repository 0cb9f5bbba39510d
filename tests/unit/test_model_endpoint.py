"""ModelEndpoint and Keda under the mock engine: what they register, their secure defaults,
and bad input refused before anything is created."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi_kubernetes as k8s
import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.serving import (
    ActiveHours,
    EndpointIngress,
    Keda,
    KedaArgs,
    MlflowModelSource,
    ModelEndpoint,
    ModelEndpointArgs,
    S3ModelSource,
    ServerSpec,
)
from mlops_platform.serving.keda import DEFAULT_CHART_VERSION

from scripts.offline import run_program
from scripts.offline.engine import Recording

ACCOUNT = "111111111111"
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-serving@sha256:{'a' * 64}"
SYNC = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-serving@sha256:{'b' * 64}"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/mlops-dev-eks"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0000"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _args(provider: k8s.Provider, **overrides: Any) -> ModelEndpointArgs:
    base = ModelEndpointArgs(
        kubernetes_provider=provider,
        namespace="team-a",
        cluster_name="mlops-dev-eks",
        cluster_arn=CLUSTER_ARN,
        name_prefix="team-serving-dev",
        model=S3ModelSource("mlops-dev-models", "team-a/llama/v1/", KEY),
        image=IMAGE,
        sync_image=SYNC,
        prometheus_url="http://prometheus.monitoring.svc:9090",
    )
    return dataclasses.replace(base, **overrides)


def run(**overrides: Any) -> Recording:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        ModelEndpoint("chat", _args(provider, **overrides))

    return run_program(program, stack="dev")


def refused(**overrides: Any) -> str:
    with pytest.raises(ComponentInputError) as caught:
        run_program(
            lambda: ModelEndpoint("chat", _args(k8s.Provider("k8s", kubeconfig="{}"), **overrides)),
            stack="dev",
        )
    return str(caught.value)


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run()


def pod(rec: Recording) -> dict[str, Any]:
    return rec.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]


def test_pod_is_restricted_on_serving_gpus_and_spread(rec: Recording) -> None:
    spec = pod(rec)
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    for c in [*spec["containers"], *spec["initContainers"]]:
        ctx = c["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    server = spec["containers"][0]
    assert server["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1"
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "mlops/workload", "operator": "In", "values": ["serving"]}
    ]
    keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert server["lifecycle"]["preStop"] == {"sleep": {"seconds": 15}}
    assert spec["terminationGracePeriodSeconds"] == 120


def test_weights_are_synced_to_an_ephemeral_volume(rec: Recording) -> None:
    spec = pod(rec)
    sync = spec["initContainers"][0]
    assert sync["args"][:4] == ["s3", "sync", "s3://mlops-dev-models/team-a/llama/v1/", "/models"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["model"] == {"name": "model", "emptyDir": {"sizeLimit": "100Gi"}}
    mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["model"]["readOnly"] is True


def test_role_reads_only_the_model_prefix(rec: Recording) -> None:
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    actions = {
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in actions)
    objects = next(s for s in policy["Statement"] if s["Sid"] == "ReadObjects")
    assert objects["Resource"] == "arn:aws:s3:::mlops-dev-models/team-a/llama/v1/*"
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("team-a", "chat")


def test_default_floor_is_two_and_scale_to_zero_needs_active_hours(rec: Recording) -> None:
    scaled = rec.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]
    assert scaled["minReplicaCount"] == 2
    assert [t["type"] for t in scaled["triggers"]] == ["prometheus"]
    assert "active_hours" in refused(min_replicas=0)
    hours = ActiveHours(start="0 8 * * 1-5", end="0 19 * * 1-5")
    zero = run(min_replicas=0, active_hours=hours)
    triggers = zero.one("kubernetes:keda.sh/v1alpha1:ScaledObject").inputs["spec"]["triggers"]
    assert triggers[1]["type"] == "cron" and triggers[1]["metadata"]["desiredReplicas"] == "1"


def test_internal_alb_ingress_with_tls() -> None:
    cert = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/{'0' * 8}-0000-0000-0000-{'0' * 12}"
    ingress = run(ingress=EndpointIngress(certificate_arn=cert)).one(
        "kubernetes:networking.k8s.io/v1:Ingress"
    )
    notes = ingress.inputs["metadata"]["annotations"]
    assert notes["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert notes["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert notes["alb.ingress.kubernetes.io/certificate-arn"] == cert
    assert notes["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert ingress.inputs["spec"]["ingressClassName"] == "alb"


def test_triton_preset_and_mlflow_source() -> None:
    source = MlflowModelSource(
        name="chat",
        version=3,
        artifact_location="mlflow-artifacts:/7/abc/artifacts/model/",
        artifact_root="s3://mlops-dev-models/mlflow",
        kms_key_arn=KEY,
    )
    rec = run(server="triton", model=source)
    server = pod(rec)["containers"][0]
    assert server["command"] == ["tritonserver"]
    assert server["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    sync = pod(rec)["initContainers"][0]
    assert sync["args"][2] == "s3://mlops-dev-models/mlflow/7/abc/artifacts/model/"
    monitor = rec.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert monitor["endpoints"][0]["port"] == "metrics"


def test_bad_input_is_refused_with_every_problem_named() -> None:
    message = refused(
        image="vllm/vllm-openai:latest",
        model=S3ModelSource("b", "", KEY),
        server="tgi",
        max_replicas=0,
    )
    for arg in ("image", "model.prefix", "server", "max_replicas"):
        assert f"- {arg} =" in message


def test_custom_server_needs_queries_with_the_selector() -> None:
    spec = ServerSpec(
        port=8080,
        liveness_path="/live",
        readiness_path="/ready",
        queue_query="sum(queue)",
        latency_p95_query="p95{$selector}",
        error_ratio_query="errors{$selector}",
    )
    assert "custom_server.queue_query" in refused(server="custom", custom_server=spec)


def test_keda_chart_is_pinned_restricted_and_on_system_nodes() -> None:
    def program() -> None:
        Keda("keda", KedaArgs(kubernetes_provider=k8s.Provider("k8s", kubeconfig="{}")))

    rec = run_program(program, stack="dev")
    release = rec.one("kubernetes:helm.sh/v3:Release").inputs
    assert (release["chart"], release["version"]) == ("keda", DEFAULT_CHART_VERSION)
    assert release["repositoryOpts"]["repo"] == "https://kedacore.github.io/charts"
    values = release["values"]
    for part in ("operator", "metricServer", "webhooks"):
        assert values["securityContext"][part]["readOnlyRootFilesystem"] is True
        assert values["podSecurityContext"][part]["runAsNonRoot"] is True
    assert values["nodeSelector"] == {"role": "system"}
    assert not rec.of_type("aws:iam/role:Role")  # the Prometheus scaler needs no AWS role
