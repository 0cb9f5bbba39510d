"""Observability under the mock engine: chart pinned, storage and retention from args, Grafana
private, dashboards and alert rules well formed, DCGM scraped, roles least-privilege."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pulumi_kubernetes as k8s
import pytest
from mlops_platform.core.labels import POOL_LABEL
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.observability.alert_rules import AlertThresholds, ServingMetrics, sanitize_label
from mlops_platform.observability.observability import (
    CHART_REPOSITORY,
    DASHBOARD_LABEL,
    KUBE_PROMETHEUS_STACK_VERSION,
    Observability,
    ObservabilityArgs,
)

from scripts.offline import Recording, run_program
from scripts.offline.engine import Secret
from scripts.offline.mocks import PlatformMocks, RecordingMonitor
from tests.conftest import REPO_ROOT

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/mlops-test"
WEBHOOK = "https://hooks.example.com/services/T000/B000/very-secret-token"

# alert name -> a metric its expression must read
EXPECTED_ALERTS = {
    "GpuXidError": "DCGM_FI_DEV_XID_ERRORS",
    "GpuEccRowRemapErrors": "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
    "GpuThermalThrottling": "DCGM_FI_DEV_GPU_TEMP",
    "GpuIdle": "DCGM_FI_DEV_GPU_UTIL",
    "GpuMemoryNearFull": "DCGM_FI_DEV_FB_USED",
    "GpuNodePoolAtMax": "kube_node_labels",
    "GpuPodsPending": "kube_pod_status_phase",
    "InferenceErrorRateHigh": "http_requests_total",
    "InferenceLatencyHigh": "http_request_duration_seconds_bucket",
    "ScrapeTargetDown": "up",
    "PrometheusStorageFilling": "kubelet_volume_stats_available_bytes",
}


def _args(**overrides: Any) -> Callable[[k8s.Provider], ObservabilityArgs]:
    def make(provider: k8s.Provider) -> ObservabilityArgs:
        base: dict[str, Any] = {
            "name_prefix": "mlops-test",
            "kubernetes_provider": provider,
            "cluster_name": "mlops-test",
            "cluster_arn": CLUSTER_ARN,
            "gpu_pool_max_nodes": {"serving": 4, "batch": 2},
            "tags": {"owner": "ml-team"},
        }
        return ObservabilityArgs(**{**base, **overrides})

    return make


def _run(make: Callable[[k8s.Provider], ObservabilityArgs], monitor=None) -> Recording:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        Observability("obs", make(provider))

    return run_program(program, stack="test", monitor=monitor)


@pytest.fixture(scope="module")
def full() -> Recording:
    """Every optional part on: SNS + webhook receivers, AMP, internal LB, a CMK for volumes."""
    return _run(
        _args(
            receivers=["sns", "webhook"],
            webhook_url=WEBHOOK,
            amp_enabled=True,
            amp_region="eu-west-1",
            grafana_internal_load_balancer=True,
            storage_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/abcd",
            prometheus_retention_days=30,
            prometheus_storage_gib=200,
            protect=True,
        )
    )


@pytest.fixture(scope="module")
def minimal() -> Recording:
    """Defaults: no receivers (dev), no AMP, ClusterIP Grafana."""
    return _run(_args())


def _values(rec: Recording) -> dict[str, Any]:
    return rec.one(RELEASE).inputs["values"]


def _rules(rec: Recording) -> dict[str, dict[str, Any]]:
    spec = rec.one(RULE).inputs["spec"]
    return {rule["alert"]: rule for group in spec["groups"] for rule in group["rules"]}


def _policy(rec: Recording, name: str) -> dict[str, Any]:
    return json.loads(rec.one(ROLE_POLICY, name).inputs["policy"])


# --- PromQL shape ------------------------------------------------------------------------------

_MATCHER = re.compile(r'^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"[^"]*"\s*$')
_RANGE = re.compile(r"^\d+[smhdwy]$")


def promql_problems(expr: str) -> list[str]:
    """Structural problems of a PromQL expression: unbalanced brackets or quotes, malformed
    label matchers or range selectors, leftover placeholders or templates."""
    problems: list[str] = []
    stack: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    in_string = False
    segment_start: dict[int, int] = {}
    for i, char in enumerate(expr):
        if char == '"':
            in_string = not in_string
            continue
        if in_string:
            continue
        if char in "([{":
            stack.append(char)
            segment_start[len(stack)] = i + 1
        elif char in ")]}":
            if not stack or stack[-1] != pairs[char]:
                return [f"unbalanced {char!r} at {i}"]
            body = expr[segment_start[len(stack)] : i]
            stack.pop()
            if char == "}" and body.strip():
                bad = [m for m in body.split(",") if not _MATCHER.match(m)]
                problems += [f"bad label matcher {m!r}" for m in bad]
            if char == "]" and not _RANGE.match(body):
                problems.append(f"bad range selector [{body}]")
    if in_string:
        problems.append("unterminated string")
    if stack:
        problems.append(f"unclosed {''.join(stack)}")
    if "__" in expr.replace("__meta", "") or "{{" in expr:
        problems.append("leftover placeholder or template")
    return problems


def names_metric(expr: str, metric: str) -> bool:
    return re.search(rf"(?<![a-zA-Z0-9_:]){re.escape(metric)}(?![a-zA-Z0-9_:])", expr) is not None


@pytest.mark.parametrize(
    "expr",
    [
        "sum(rate(up[5m])",  # unclosed
        'up{job="a"',  # unclosed matcher
        "up{job=a}",  # unquoted value
        "rate(up[5 minutes])",  # bad range
        'up{job="a}',  # unterminated string
        "rate(__REQUESTS_METRIC__[5m])",  # placeholder left over
    ],
)
def test_the_promql_shape_check_rejects_malformed_expressions(expr):
    assert promql_problems(expr)


def test_the_promql_shape_check_accepts_well_formed_expressions():
    expr = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="b", c=~"d.*"}[5m]))) > 1'
    assert promql_problems(expr) == []


# --- chart ---------------------------------------------------------------------------------------


def test_chart_is_pinned_from_the_official_repository(minimal):
    release = minimal.one(RELEASE)
    assert release.inputs["chart"] == "kube-prometheus-stack"
    assert release.inputs["version"] == KUBE_PROMETHEUS_STACK_VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+", release.inputs["version"])
    assert release.inputs["repositoryOpts"]["repo"] == CHART_REPOSITORY
    assert release.inputs["namespace"] == "monitoring"


def test_retention_and_storage_follow_args_on_an_encrypted_gp3_class(full, minimal):
    for rec, days, gib in ((full, 30, 200), (minimal, 15, 50)):
        spec = _values(rec)["prometheus"]["prometheusSpec"]
        assert spec["retention"] == f"{days}d"
        assert spec["retentionSize"] == f"{gib * 9 // 10}GiB"
        claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
        assert claim["resources"]["requests"]["storage"] == f"{gib}Gi"
        storage_class = rec.one("kubernetes:storage.k8s.io/v1:StorageClass")
        assert claim["storageClassName"] == storage_class.inputs["metadata"]["name"]
        assert storage_class.inputs["provisioner"] == "ebs.csi.aws.com"
        assert storage_class.inputs["parameters"]["type"] == "gp3"
        assert storage_class.inputs["parameters"]["encrypted"] == "true"
    full_class = full.one("kubernetes:storage.k8s.io/v1:StorageClass").inputs
    assert full_class["parameters"]["kmsKeyId"].endswith("key/abcd")
    assert full_class["reclaimPolicy"] == "Retain"
    assert (
        "kmsKeyId"
        not in minimal.one("kubernetes:storage.k8s.io/v1:StorageClass").inputs["parameters"]
    )


def test_exporters_tolerate_the_gpu_taint(minimal):
    values = _values(minimal)
    assert values["nodeExporter"]["enabled"] is True
    assert values["kubeStateMetrics"]["enabled"] is True
    tolerations = values["prometheus-node-exporter"]["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations
    # kube-state-metrics exposes the pool label the dashboards and alerts group by
    assert values["kube-state-metrics"]["metricLabelsAllowlist"] == [f"nodes=[{POOL_LABEL}]"]


# --- Grafana -------------------------------------------------------------------------------------


def test_grafana_is_cluster_internal_with_a_generated_secret_password(minimal):
    grafana = _values(minimal)["grafana"]
    assert grafana["service"] == {"type": "ClusterIP"}
    assert grafana["ingress"] == {"enabled": False}
    assert "adminPassword" not in grafana
    secret = minimal.one("kubernetes:core/v1:Secret", "obs-grafana-admin")
    assert grafana["admin"]["existingSecret"] == secret.inputs["metadata"]["name"]
    assert isinstance(secret.inputs["stringData"], Secret)
    data = secret.inputs["stringData"].value
    assert set(data) == {grafana["admin"]["userKey"], grafana["admin"]["passwordKey"]}
    password = minimal.one("random:index/randomPassword:RandomPassword")
    assert password.inputs["length"] >= 24
    outputs = minimal.component_outputs[minimal.one("mlops:index:Observability").urn]
    assert isinstance(outputs["grafanaAdminPassword"], Secret)


def test_no_service_of_the_stack_is_public(full, minimal):
    for rec in (full, minimal):
        values = _values(rec)
        for component in ("prometheus", "alertmanager"):
            assert values[component]["service"]["type"] == "ClusterIP"
            assert values[component]["ingress"]["enabled"] is False
    service = _values(full)["grafana"]["service"]
    assert service["type"] == "LoadBalancer"
    annotations = service["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"


# --- dashboards ----------------------------------------------------------------------------------


def _dashboards(rec: Recording) -> dict[str, dict[str, Any]]:
    found = {}
    for config_map in rec.of_type(CONFIG_MAP):
        if config_map.inputs["metadata"].get("labels", {}).get(DASHBOARD_LABEL) == "1":
            for file_name, text in config_map.inputs["data"].items():
                found[file_name] = json.loads(text)
    return found


def _panel_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_dashboards_are_configmaps_the_grafana_sidecar_loads(minimal):
    sidecar = _values(minimal)["grafana"]["sidecar"]["dashboards"]
    assert sidecar == {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1"}
    dashboards = _dashboards(minimal)
    assert set(dashboards) == {"gpu-fleet.json", "serving.json"}
    uids = {d["uid"] for d in dashboards.values()}
    assert len(uids) == 2
    for dashboard in dashboards.values():
        assert dashboard["panels"], dashboard["title"]
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids))
        for expr in _panel_exprs(dashboard):
            assert promql_problems(expr) == [], expr


def test_gpu_fleet_dashboard_shows_dcgm_metrics_per_node_and_pool(minimal):
    fleet = _dashboards(minimal)["gpu-fleet.json"]
    exprs = "\n".join(_panel_exprs(fleet))
    for metric in (
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_XID_ERRORS",
    ):
        assert names_metric(exprs, metric), metric
    pool = sanitize_label(POOL_LABEL)
    assert f"by (node, {pool})" in exprs
    assert f"by ({pool})" in exprs
    variables = {v["name"] for v in fleet["templating"]["list"]}
    assert {"pool", "node"} <= variables


def test_serving_dashboard_uses_the_configured_metric_names():
    rec = _run(_args(serving_metrics=ServingMetrics(requests_total="triton_requests_total")))
    serving = _dashboards(rec)["serving.json"]
    exprs = "\n".join(_panel_exprs(serving))
    assert names_metric(exprs, "triton_requests_total")
    assert not names_metric(exprs, "http_requests_total")
    assert "histogram_quantile(0.99" in exprs
    assert names_metric(exprs, "kube_pod_container_status_restarts_total")
    titles = " ".join(p["title"].lower() for p in serving["panels"])
    for word in ("request rate", "error rate", "latency", "restarts"):
        assert word in titles


# --- alert rules ---------------------------------------------------------------------------------


def test_every_alert_is_present_well_formed_and_linked_to_an_existing_runbook(minimal):
    rules = _rules(minimal)
    assert set(rules) == set(EXPECTED_ALERTS)
    for name, metric in EXPECTED_ALERTS.items():
        rule = rules[name]
        assert promql_problems(rule["expr"]) == [], (name, rule["expr"])
        assert names_metric(rule["expr"], metric), (name, metric)
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert re.fullmatch(r"\d+m", rule["for"])
        url = rule["annotations"]["runbook_url"]
        assert url.startswith("docs/runbooks/") and url.endswith(".md")
        assert (REPO_ROOT / url).is_file(), f"{name}: missing runbook {url}"
        assert rule["annotations"]["summary"]


def test_runbooks_have_meaning_first_checks_and_mitigation(minimal):
    for rule in _rules(minimal).values():
        text = (REPO_ROOT / rule["annotations"]["runbook_url"]).read_text(encoding="utf-8")
        assert rule["alert"] in text
        for heading in ("## What it means", "## First checks", "## Mitigation"):
            assert heading in text, (rule["alert"], heading)


def test_thresholds_follow_args():
    thresholds = AlertThresholds(
        gpu_memory_used_percent=91,
        gpu_temperature_celsius=83,
        gpu_idle_utilization_percent=3,
        gpu_idle_minutes=45,
        gpu_pending_pod_minutes=7,
        inference_error_rate_percent=0.5,
        inference_p99_latency_seconds=0.25,
        scrape_down_minutes=3,
        prometheus_storage_used_percent=70,
    )
    rules = _rules(
        _run(_args(thresholds=thresholds, runbook_base_url="https://git.example.com/rb/"))
    )
    assert rules["GpuMemoryNearFull"]["expr"].endswith("> 91")
    assert "DCGM_FI_DEV_GPU_TEMP) > 83)" in rules["GpuThermalThrottling"]["expr"]
    assert rules["GpuIdle"]["expr"].endswith("< 3")
    assert rules["GpuIdle"]["for"] == "45m"
    assert rules["GpuPodsPending"]["for"] == "7m"
    assert rules["InferenceErrorRateHigh"]["expr"].endswith("> 0.5")
    assert rules["InferenceLatencyHigh"]["expr"].endswith("> 0.25")
    assert rules["ScrapeTargetDown"]["for"] == "3m"
    assert rules["PrometheusStorageFilling"]["expr"].endswith("> 70")
    assert rules["GpuXidError"]["annotations"]["runbook_url"] == (
        "https://git.example.com/rb/gpu-xid-error.md"
    )


def test_pool_at_max_compares_each_pool_with_its_maximum(minimal):
    expr = _rules(minimal)["GpuNodePoolAtMax"]["expr"]
    pool = sanitize_label(POOL_LABEL)
    assert f'kube_node_labels{{{pool}="serving"}}) >= 4' in expr
    assert f'kube_node_labels{{{pool}="batch"}}) >= 2' in expr
    without_pools = _rules(_run(_args(gpu_pool_max_nodes={})))
    assert "GpuNodePoolAtMax" not in without_pools
    assert set(without_pools) == set(EXPECTED_ALERTS) - {"GpuNodePoolAtMax"}


def test_custom_resources_wait_for_the_chart_that_installs_their_crds(minimal):
    release = minimal.one(RELEASE)
    for token in (RULE, SERVICE_MONITOR):
        assert release.urn in minimal.one(token).dependencies


# --- DCGM ----------------------------------------------------------------------------------------


def test_dcgm_service_monitor_selects_the_exporter_chart_labels(minimal):
    monitor = minimal.one(SERVICE_MONITOR)
    spec = monitor.inputs["spec"]
    assert monitor.inputs["apiVersion"] == "monitoring.coreos.com/v1"
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "dcgm-exporter"}}
    assert spec["namespaceSelector"] == {"matchNames": ["nvidia-gpu"]}
    endpoint = spec["endpoints"][0]
    assert endpoint["port"] == "metrics"
    assert {
        "sourceLabels": ["__meta_kubernetes_pod_node_name"],
        "targetLabel": "node",
        "action": "replace",
    } in endpoint["relabelings"]


def test_dcgm_selector_and_namespace_come_from_args():
    rec = _run(
        _args(
            dcgm_exporter_labels={"app": "nvidia-dcgm-exporter"},
            dcgm_exporter_namespace="gpu-operator",
        )
    )
    spec = rec.one(SERVICE_MONITOR).inputs["spec"]
    assert spec["selector"] == {"matchLabels": {"app": "nvidia-dcgm-exporter"}}
    assert spec["namespaceSelector"] == {"matchNames": ["gpu-operator"]}


# --- routing -------------------------------------------------------------------------------------


def test_without_receivers_alerts_route_nowhere_and_no_topic_exists(minimal):
    config = _values(minimal)["alertmanager"]["config"]
    assert config["route"]["receiver"] == "null"
    assert config["receivers"] == [{"name": "null"}]
    assert minimal.of_type("aws:sns/topic:Topic") == []
    assert minimal.of_type(ROLE) == []


def test_sns_and_webhook_receivers(full):
    config = _values(full)["alertmanager"]["config"]
    assert config["route"]["receiver"] == "platform"
    platform = next(r for r in config["receivers"] if r["name"] == "platform")
    topic = full.one("aws:sns/topic:Topic")
    key_id = full.one("aws:kms/key:Key").id
    assert topic.inputs["kmsMasterKeyId"] == f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"
    assert platform["sns_configs"][0]["topic_arn"] == (
        f"arn:aws:sns:us-east-1:123456789012:{topic.inputs['name']}"
    )
    assert platform["sns_configs"][0]["sigv4"] == {"region": "us-east-1"}
    webhook_file = platform["webhook_configs"][0]["url_file"]
    secret = full.one("kubernetes:core/v1:Secret", "obs-webhook")
    secret_name = secret.inputs["metadata"]["name"]
    assert webhook_file == f"/etc/alertmanager/secrets/{secret_name}/url"
    assert _values(full)["alertmanager"]["alertmanagerSpec"]["secrets"] == [secret_name]
    assert isinstance(secret.inputs["stringData"], Secret)
    assert secret.inputs["stringData"].value == {"url": WEBHOOK}
    # the URL never appears in the chart's values
    assert WEBHOOK not in json.dumps(full.one(RELEASE).inputs, default=repr)
    policy = json.loads(full.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    deny = next(s for s in policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- AWS side ------------------------------------------------------------------------------------


def test_log_groups_have_retention_kms_and_protection(full, minimal):
    for rec, protected in ((full, True), (minimal, False)):
        group = rec.one("aws:cloudwatch/logGroup:LogGroup")
        assert group.inputs["name"] == "mlops-test-applications"
        assert group.inputs["retentionInDays"] == 30
        assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
        assert group.inputs["tags"]["owner"] == "ml-team"
        key = rec.one("aws:kms/key:Key")
        assert key.inputs["enableKeyRotation"] is True
        assert (group.protect, group.retain_on_delete) == (protected, protected)
        assert (key.protect, key.retain_on_delete) == (protected, protected)
        statement = json.loads(key.inputs["policy"])["Statement"][1]
        assert statement["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == [
            "arn:aws:logs:us-east-1:123456789012:log-group:mlops-test-applications"
        ]


def _actions_and_resources(document: dict[str, Any]) -> list[tuple[list[str], list[str]]]:
    out = []
    for statement in document["Statement"]:
        actions = statement["Action"]
        resources = statement["Resource"]
        out.append(
            (
                [actions] if isinstance(actions, str) else actions,
                [resources] if isinstance(resources, str) else resources,
            )
        )
    return out


def test_amp_remote_write_role_is_least_privilege(full):
    workspace = full.one("aws:amp/workspace:Workspace")
    assert workspace.inputs["region"] == "eu-west-1"
    policy = _policy(full, "obs-prometheus-policy")
    [(actions, resources)] = _actions_and_resources(policy)
    assert actions == ["aps:RemoteWrite"]
    assert len(resources) == 1
    assert re.fullmatch(r"arn:aws:aps:eu-west-1:123456789012:workspace/ws-[0-9a-f-]+", resources[0])
    spec = _values(full)["prometheus"]["prometheusSpec"]
    [remote] = spec["remoteWrite"]
    assert remote["sigv4"] == {"region": "eu-west-1"}
    assert remote["url"].startswith("https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/")
    assert remote["url"].endswith("/api/v1/remote_write")
    _assert_pod_identity(full, "prometheus", _values(full)["prometheus"]["serviceAccount"]["name"])


def test_alertmanager_role_publishes_to_its_topic_only(full):
    policy = _policy(full, "obs-alertmanager-policy")
    pairs = _actions_and_resources(policy)
    topic = f"arn:aws:sns:us-east-1:123456789012:{full.one('aws:sns/topic:Topic').inputs['name']}"
    assert pairs[0] == (["sns:Publish"], [topic])
    kms_actions, kms_resources = pairs[1]
    assert set(kms_actions) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert kms_resources[0].startswith("arn:aws:kms:") and "*" not in kms_resources[0]
    assert policy["Statement"][1]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}
    }
    _assert_pod_identity(
        full, "alertmanager", _values(full)["alertmanager"]["serviceAccount"]["name"]
    )


def _assert_pod_identity(rec: Recording, role: str, service_account: str) -> None:
    trust = json.loads(rec.one(ROLE, f"obs-{role}-role").inputs["assumeRolePolicy"])
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": "123456789012",
            "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
            "aws:RequestTag/kubernetes-namespace": "monitoring",
            "aws:RequestTag/kubernetes-service-account": service_account,
        }
    }
    association = rec.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", f"obs-{role}-pod-identity"
    )
    assert association.inputs["namespace"] == "monitoring"
    assert association.inputs["serviceAccount"] == service_account
    assert association.inputs["clusterName"] == "mlops-test"


def test_no_role_policy_uses_wildcards(full):
    for policy in full.of_type(ROLE_POLICY):
        for actions, resources in _actions_and_resources(json.loads(policy.inputs["policy"])):
            assert all("*" not in r for r in resources), policy.name
            assert all(not a.endswith(":*") and a != "*" for a in actions), policy.name


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"receivers": ["pagerduty"]}, "receivers[0]", "one of: sns, webhook"),
        (
            {"thresholds": AlertThresholds(gpu_memory_used_percent=120)},
            "thresholds.gpu_memory_used_percent",
            "[50, 100)",
        ),
        (
            {"thresholds": AlertThresholds(inference_error_rate_percent=0)},
            "thresholds.inference_error_rate_percent",
            "(0, 50]",
        ),
        ({"amp_enabled": True}, "amp_region", "required when amp_enabled"),
        ({"receivers": ["webhook"]}, "webhook_url", "required with the webhook receiver"),
        ({"receivers": ["sns"], "cluster_name": None}, "cluster_name", "Pod Identity"),
        (
            {"amp_enabled": True, "amp_region": "eu-west-1", "cluster_arn": None},
            "cluster_arn",
            "Pod Identity",
        ),
        ({"chart_version": "latest"}, "chart_version", "pinned"),
        ({"log_retention_days": 10}, "log_retention_days", "CloudWatch"),
        ({"prometheus_storage_gib": 5}, "prometheus_storage_gib", "10 to 16384"),
    ],
)
def test_bad_input_names_the_key_and_registers_nothing(overrides, key, fragment):
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(ComponentInputError) as caught:
        _run(_args(**overrides), monitor=monitor)
    message = str(caught.value)
    assert f"  - {key} = " in message
    assert fragment in message
    children = [
        r.request["type"]
        for r in monitor.registrations
        if r.request["type"].startswith(("aws:", "kubernetes:", "random:"))
    ]
    assert children == []


def test_every_problem_is_reported_at_once():
    with pytest.raises(ComponentInputError) as caught:
        _run(
            _args(
                receivers=["sms"],
                amp_enabled=True,
                thresholds=AlertThresholds(gpu_idle_minutes=1),
            )
        )
    keys = {p.arg for p in caught.value.problems}
    assert {"receivers[0]", "amp_region", "thresholds.gpu_idle_minutes"} <= keys


def test_chart_waits_for_every_pod_identity_association(full):
    """Alertmanager (SNS) and Prometheus (AMP remote write) pods start with credentials only if
    their association exists first; the release that starts them must depend on it."""
    release = full.one(RELEASE)
    associations = full.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    service_accounts = {a.inputs["serviceAccount"] for a in associations}
    assert len(associations) == 2, service_accounts
    assert {a.urn for a in associations} <= set(release.dependencies)
    for policy in full.of_type(ROLE_POLICY):
        assert policy.urn in release.dependencies
