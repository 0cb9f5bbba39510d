"""NvidiaSoftware under the mock engine: device plugin / GPU operator values, DCGM
exporter and its counters file, and time-slicing / MIG configuration."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

import pulumi_kubernetes as k8s
import pytest
import yaml
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.core.versions import DCGM_EXPORTER_CHART
from mlops_platform.gpu.nvidia import (
    DCGM_FIELD_CATALOG,
    GpuSharing,
    MigStrategy,
    NvidiaMode,
    NvidiaSoftware,
    NvidiaSoftwareArgs,
    dcgm_counters_csv,
    device_plugin_config,
    used_dcgm_fields,
)
from mlops_platform.observability.alert_rules import AlertThresholds, ServingMetrics, alert_rules

from scripts.offline import run_program
from scripts.offline.engine import Recording
from tests.conftest import REPO_ROOT

RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}

PLUGIN_CONFIGS = "nvidia-device-plugin-config"
DCGM_METRICS = "nvidia-dcgm-metrics"

NOTEBOOKS = GpuSharing(time_slicing_replicas=4)
TRAINING = GpuSharing(mig_strategy=MigStrategy.SINGLE, mig_profile="1g.10gb")


def run_nvidia(**overrides: Any) -> Recording:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        args = NvidiaSoftwareArgs(
            kubernetes_provider=provider,
            sharing={"notebooks": NOTEBOOKS},
            service_monitor_labels={"release": "kube-prometheus-stack"},
        )
        NvidiaSoftware("nvidia", dataclasses.replace(args, **overrides))

    return run_program(program, stack="dev")


@pytest.fixture(scope="module")
def plugin() -> Recording:
    return run_nvidia()


@pytest.fixture(scope="module")
def operator() -> Recording:
    return run_nvidia(
        mode=NvidiaMode.GPU_OPERATOR, sharing={"notebooks": NOTEBOOKS, "training": TRAINING}
    )


def release(rec: Recording, suffix: str) -> dict[str, Any]:
    return rec.one(RELEASE, f"nvidia-{suffix}").inputs


def counters(rec: Recording) -> dict[str, tuple[str, str]]:
    """The shipped counters CSV, parsed the way the exporter parses it (``#`` comments)."""
    data = rec.one(CONFIG_MAP, DCGM_METRICS).inputs["data"]
    assert set(data) == {"dcgm-metrics.csv"}
    rows = [
        [cell.strip() for cell in row]
        for row in csv.reader(data["dcgm-metrics.csv"].splitlines())
        if row and not row[0].startswith("#")
    ]
    assert all(len(row) == 3 for row in rows), rows
    return {name: (kind, help_) for name, kind, help_ in rows}


def fields_read_by_alerts_dashboards_and_runbooks() -> set[str]:
    """Every DCGM field named anywhere an operator or a rule reads metrics, scanned here
    independently of mlops_platform.gpu.nvidia."""
    rules = alert_rules(
        AlertThresholds(),
        gpu_pool_label="mlops/gpu-pool",
        gpu_pool_max_nodes={"a": 1},
        serving=ServingMetrics(),
    )
    texts = [r.expr for r in rules]
    sources: list[Path] = [
        *(REPO_ROOT / "components" / "observability" / "dashboards").glob("*.json"),
        *(REPO_ROOT / "docs" / "runbooks").glob("*.md"),
    ]
    texts += [path.read_text(encoding="utf-8") for path in sources]
    return set(re.findall(r"DCGM_FI_[A-Z0-9_]+", "\n".join(texts)))


# --- device plugin (default) --------------------------------------------------------------


def test_device_plugin_is_pinned_tolerates_the_gpu_taint_and_targets_gpu_nodes(plugin):
    values = release(plugin, "device-plugin")
    assert release(plugin, "device-plugin")["version"] == "0.18.2"
    assert release(plugin, "device-plugin")["chart"] == "nvidia-device-plugin"
    assert values["values"]["tolerations"] == [GPU_TOLERATION]
    terms = values["values"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "k8s.amazonaws.com/accelerator", "operator": "Exists"},
                # Bottlerocket's NVIDIA variants run their own device plugin.
                {"key": "mlops/ami-family", "operator": "NotIn", "values": ["bottlerocket"]},
            ]
        }
    ]


def test_device_plugin_reads_the_named_configs(plugin):
    config = release(plugin, "device-plugin")["values"]["config"]
    assert config["name"] == "nvidia-device-plugin-configs"
    assert config["default"] == "default"


def test_time_slicing_is_rendered_per_pool(plugin):
    data = plugin.one(CONFIG_MAP, PLUGIN_CONFIGS).inputs["data"]
    assert set(data) == {"default", "notebooks"}
    notebooks = yaml.safe_load(data["notebooks"])
    assert notebooks["flags"]["migStrategy"] == "none"
    [resource] = notebooks["sharing"]["timeSlicing"]["resources"]
    assert resource == {"name": "nvidia.com/gpu", "replicas": 4}
    assert notebooks["sharing"]["timeSlicing"]["failRequestsGreaterThanOne"] is True
    default = yaml.safe_load(data["default"])
    assert "sharing" not in default


def test_dcgm_exporter_has_a_service_monitor(plugin):
    values = release(plugin, "dcgm-exporter")["values"]
    assert values["serviceMonitor"]["enabled"] is True
    assert values["serviceMonitor"]["additionalLabels"] == {"release": "kube-prometheus-stack"}
    assert values["tolerations"] == [GPU_TOLERATION]
    assert release(plugin, "dcgm-exporter")["version"] == DCGM_EXPORTER_CHART


def test_exporter_collects_every_dcgm_field_alerts_dashboards_and_runbooks_read(plugin):
    read = fields_read_by_alerts_dashboards_and_runbooks()
    # The two the exporter's default counters leave out, so the scan is not vacuous.
    assert {"DCGM_FI_DEV_THERMAL_VIOLATION", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"} <= read
    assert read - set(counters(plugin)) == set()
    assert set(used_dcgm_fields()) <= read


def test_counters_file_is_valid_exporter_csv(plugin):
    shipped = counters(plugin)
    for name, (kind, help_) in shipped.items():
        assert re.fullmatch(r"DCGM_FI_[A-Z0-9_]+", name)
        assert kind in {"gauge", "counter"}, name
        assert help_ and '"' not in help_, name
    assert shipped["DCGM_FI_DEV_THERMAL_VIOLATION"][0] == "counter"
    assert shipped["DCGM_FI_DEV_XID_ERRORS"][0] == "gauge"


def test_catalog_help_texts_parse_as_one_csv_cell():
    for name, (kind, help_) in DCGM_FIELD_CATALOG.items():
        assert "," not in help_ and '"' not in help_, name
        assert kind in {"gauge", "counter"}, name


def test_a_field_missing_from_the_catalog_fails_loudly():
    with pytest.raises(ValueError, match="DCGM_FI_DEV_NOT_A_FIELD"):
        dcgm_counters_csv(["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_NOT_A_FIELD"])


def test_standalone_exporter_reads_our_counters_file(plugin):
    values = release(plugin, "dcgm-exporter")["values"]
    metrics = plugin.one(CONFIG_MAP, DCGM_METRICS)
    assert metrics.inputs["metadata"]["name"] == "dcgm-exporter-metrics"
    assert metrics.inputs["metadata"]["namespace"] == "nvidia-gpu"
    [volume] = values["extraConfigMapVolumes"]
    assert volume["configMap"] == {
        "name": "dcgm-exporter-metrics",
        "items": [{"key": "dcgm-metrics.csv", "path": "dcgm-metrics.csv"}],
    }
    [mount] = values["extraVolumeMounts"]
    assert mount["name"] == volume["name"]
    assert values["arguments"] == ["-f", f"{mount['mountPath']}/dcgm-metrics.csv"]
    # A new list rolls the exporter pods (a ConfigMap update alone may go unnoticed).
    csv_text = metrics.inputs["data"]["dcgm-metrics.csv"]
    digest = hashlib.sha256(csv_text.encode()).hexdigest()
    assert values["podAnnotations"] == {"mlops/dcgm-metrics-sha256": digest}
    assert metrics.urn in plugin.one(RELEASE, "nvidia-dcgm-exporter").dependencies


def test_no_counters_config_map_without_the_exporter():
    rec = run_nvidia(dcgm_exporter=False)
    assert [r.name for r in rec.of_type(CONFIG_MAP)] == [PLUGIN_CONFIGS]


def test_namespace_allows_the_privileged_daemonsets(plugin):
    labels = plugin.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def test_device_plugin_mode_installs_no_operator(plugin):
    names = {r.name for r in plugin.of_type(RELEASE)}
    assert names == {"nvidia-device-plugin", "nvidia-dcgm-exporter"}


def test_dcgm_exporter_can_be_turned_off():
    rec = run_nvidia(dcgm_exporter=False)
    assert {r.name for r in rec.of_type(RELEASE)} == {"nvidia-device-plugin"}


# --- GPU operator -------------------------------------------------------------------------


def test_operator_leaves_driver_and_toolkit_to_the_ami(operator):
    values = release(operator, "gpu-operator")["values"]
    assert values["driver"] == {"enabled": False}
    assert values["toolkit"] == {"enabled": False}
    assert release(operator, "gpu-operator")["version"] == "v26.3.1"


def test_operator_installs_driver_when_the_ami_has_none():
    values = release(
        run_nvidia(mode=NvidiaMode.GPU_OPERATOR, driver_preinstalled=False), "gpu-operator"
    )["values"]
    assert values["driver"] == {"enabled": True}
    assert values["toolkit"] == {"enabled": True}
    assert values["migManager"] == {"enabled": False}


def test_operator_runs_mig_manager_and_the_shared_configs(operator):
    values = release(operator, "gpu-operator")["values"]
    assert values["migManager"] == {"enabled": True}
    assert values["mig"] == {"strategy": "single"}
    assert values["devicePlugin"]["config"] == {
        "name": "nvidia-device-plugin-configs",
        "default": "default",
    }
    assert values["daemonsets"]["tolerations"] == [GPU_TOLERATION]
    assert values["dcgmExporter"]["serviceMonitor"]["enabled"] is True
    training = yaml.safe_load(operator.one(CONFIG_MAP, PLUGIN_CONFIGS).inputs["data"]["training"])
    assert training == {"version": "v1", "flags": {"migStrategy": "single"}}


def test_operator_exporter_reads_our_counters_file(operator):
    values = release(operator, "gpu-operator")["values"]
    assert values["dcgmExporter"]["config"] == {"name": "dcgm-exporter-metrics"}
    metrics = operator.one(CONFIG_MAP, DCGM_METRICS)
    # The operator looks for the ConfigMap in its own namespace, under this key.
    assert metrics.inputs["metadata"]["namespace"] == release(operator, "gpu-operator")["namespace"]
    read = fields_read_by_alerts_dashboards_and_runbooks()
    assert read - set(counters(operator)) == set()
    assert metrics.urn in operator.one(RELEASE, "nvidia-gpu-operator").dependencies


def test_operator_in_another_namespace_gets_the_counters_there():
    rec = run_nvidia(mode=NvidiaMode.GPU_OPERATOR, namespace="gpu-operator")
    assert rec.one(CONFIG_MAP, DCGM_METRICS).inputs["metadata"]["namespace"] == "gpu-operator"
    assert release(rec, "gpu-operator")["namespace"] == "gpu-operator"


def test_operator_without_exporter_names_no_counters_file():
    rec = run_nvidia(mode=NvidiaMode.GPU_OPERATOR, dcgm_exporter=False)
    assert "config" not in release(rec, "gpu-operator")["values"]["dcgmExporter"]
    assert [r.name for r in rec.of_type(CONFIG_MAP)] == [PLUGIN_CONFIGS]


def test_operator_mode_has_no_second_exporter_or_plugin(operator):
    assert {r.name for r in operator.of_type(RELEASE)} == {"nvidia-gpu-operator"}


def test_mixed_strategy_wins_when_any_pool_asks_for_it():
    mixed = GpuSharing(mig_strategy=MigStrategy.MIXED, mig_profile="balanced")
    rec = run_nvidia(mode=NvidiaMode.GPU_OPERATOR, sharing={"a": TRAINING, "b": mixed})
    assert release(rec, "gpu-operator")["values"]["mig"] == {"strategy": "mixed"}


def test_config_of_an_unshared_pool():
    assert device_plugin_config(None) == {"version": "v1", "flags": {"migStrategy": "none"}}


# --- bad input ----------------------------------------------------------------------------


def test_mig_needs_the_operator():
    with pytest.raises(ComponentInputError) as caught:
        run_nvidia(sharing={"training": TRAINING})
    assert 'mode = "device-plugin"' in str(caught.value)
    assert "MIG manager" in str(caught.value)


def test_time_slicing_and_mig_on_one_pool_is_rejected():
    both = GpuSharing(
        time_slicing_replicas=2, mig_strategy=MigStrategy.SINGLE, mig_profile="1g.10gb"
    )
    with pytest.raises(ComponentInputError) as caught:
        run_nvidia(mode=NvidiaMode.GPU_OPERATOR, sharing={"training": both})
    assert "sharing[training]" in str(caught.value)
    assert "cannot both" in str(caught.value)


def test_bad_replicas_names_and_versions():
    with pytest.raises(ComponentInputError) as caught:
        run_nvidia(
            sharing={"default": GpuSharing(time_slicing_replicas=1)},
            device_plugin_chart_version="latest",
        )
    message = str(caught.value)
    assert "sharing[default].time_slicing_replicas" in message
    assert 'sharing[default] = "default"' in message
    assert "device_plugin_chart_version" in message
