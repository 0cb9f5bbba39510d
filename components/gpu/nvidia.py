"""``NvidiaSoftware``: the cluster-wide NVIDIA software GPU nodes need.

One per cluster. It installs either the NVIDIA device plugin (default: small, enough on
EKS's NVIDIA AMIs, which ship the driver and container toolkit) or the NVIDIA GPU operator
(needed for MIG partitioning through its MIG manager), plus the DCGM exporter with a
Prometheus ``ServiceMonitor``. GPU sharing is per pool: every pool that shares its GPUs
gets a named device-plugin configuration in one ConfigMap, and the pool labels its nodes
``nvidia.com/device-plugin.config=<name>`` so the plugin's config manager picks it up.

The exporter collects exactly the DCGM fields the platform reads: :func:`used_dcgm_fields`
scans the alert rules and the shipped dashboards, :func:`dcgm_counters_csv` renders them in
the exporter's CSV format, and that file ships in its own ConfigMap which both the
``dcgm-exporter`` chart and the GPU operator are pointed at.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..cluster.kubernetes import GPU_TOLERATION, helm_release, pod_security_labels
from ..core.component import Component
from ..core.labels import (
    ACCELERATOR_LABEL,
    AMI_FAMILY_LABEL,
    GPU_TAINT_KEY,
)
from ..core.patterns import CHART_VERSION, DNS_LABEL
from ..core.validation import Invalid
from ..core.versions import (
    DCGM_EXPORTER_CHART,
    DCGM_EXPORTER_CHART_REPOSITORY,
    DEVICE_PLUGIN_CHART,
    DEVICE_PLUGIN_CHART_REPOSITORY,
    GPU_OPERATOR_CHART,
    GPU_OPERATOR_CHART_REPOSITORY,
)
from ..observability.alert_rules import AlertThresholds, ServingMetrics, alert_rules

BOTTLEROCKET = "bottlerocket"

DEFAULT_CONFIG_NAME = "default"
"""The device-plugin configuration of nodes whose pool does not share GPUs."""

DEVICE_PLUGIN_CHART_VERSION = DEVICE_PLUGIN_CHART
GPU_OPERATOR_CHART_VERSION = GPU_OPERATOR_CHART
DCGM_EXPORTER_CHART_VERSION = DCGM_EXPORTER_CHART
DEVICE_PLUGIN_REPOSITORY = DEVICE_PLUGIN_CHART_REPOSITORY
GPU_OPERATOR_REPOSITORY = GPU_OPERATOR_CHART_REPOSITORY
DCGM_EXPORTER_REPOSITORY = DCGM_EXPORTER_CHART_REPOSITORY

MAX_TIME_SLICING_REPLICAS = 48

DCGM_METRICS_CONFIG_MAP = "dcgm-exporter-metrics"
"""ConfigMap (in the NVIDIA namespace) holding the exporter's counters CSV."""

DCGM_METRICS_KEY = "dcgm-metrics.csv"
"""Key of the counters CSV in that ConfigMap; the GPU operator reads exactly this key."""

DCGM_METRICS_DIR = "/etc/dcgm-exporter/mlops"
"""Where the standalone exporter chart mounts the ConfigMap (a directory, no ``subPath``)."""

DCGM_METRICS_HASH_ANNOTATION = "mlops/dcgm-metrics-sha256"
"""Pod annotation of the standalone exporter: a new CSV rolls its DaemonSet."""

DCGM_FIELD_CATALOG: dict[str, tuple[str, str]] = {
    "DCGM_FI_DEV_GPU_UTIL": ("gauge", "GPU utilization in percent."),
    "DCGM_FI_DEV_FB_USED": ("gauge", "Framebuffer memory in use in MiB."),
    "DCGM_FI_DEV_FB_FREE": ("gauge", "Framebuffer memory free in MiB."),
    "DCGM_FI_DEV_GPU_TEMP": ("gauge", "GPU core temperature in degrees C."),
    "DCGM_FI_DEV_MEMORY_TEMP": ("gauge", "GPU memory temperature in degrees C."),
    "DCGM_FI_DEV_POWER_USAGE": ("gauge", "Power draw in watts."),
    "DCGM_FI_DEV_SM_CLOCK": ("gauge", "Streaming multiprocessor clock in MHz."),
    "DCGM_FI_DEV_XID_ERRORS": ("gauge", "Code of the most recent XID error."),
    "DCGM_FI_DEV_THERMAL_VIOLATION": ("counter", "Time spent throttled for temperature in ns."),
    "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": (
        "counter",
        "Double-bit (uncorrectable) ECC errors since the driver loaded.",
    ),
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": (
        "counter",
        "Memory rows remapped because of uncorrectable errors.",
    ),
    "DCGM_FI_DEV_ROW_REMAP_FAILURE": ("gauge", "Non-zero when memory row remapping has failed."),
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": (
        "gauge",
        "Ratio of cycles the tensor pipes are active (profiling field).",
    ),
}
"""Prometheus type and help text of each DCGM field the platform knows how to collect.
Help texts hold no commas or quotes (the exporter parses the file as plain CSV)."""

RUNBOOK_DCGM_FIELDS: tuple[str, ...] = ("DCGM_FI_DEV_SM_CLOCK",)
"""Fields the runbooks ask an operator to query that no alert or dashboard reads."""

_DCGM_FIELD = re.compile(r"\bDCGM_FI_[A-Z0-9_]+\b")


class NvidiaMode(StrEnum):
    """Which NVIDIA software manages the GPUs."""

    DEVICE_PLUGIN = "device-plugin"
    GPU_OPERATOR = "gpu-operator"


class MigStrategy(StrEnum):
    """How MIG instances are advertised: all as ``nvidia.com/gpu`` (single) or by profile
    name, e.g. ``nvidia.com/mig-1g.10gb`` (mixed)."""

    SINGLE = "single"
    MIXED = "mixed"


@dataclass(frozen=True)
class GpuSharing:
    """How one pool shares its GPUs: time-slicing or MIG, never both."""

    time_slicing_replicas: int | None = None
    """Pods that may share one GPU by time-slicing (2-48); no memory or fault isolation."""
    mig_strategy: MigStrategy | None = None
    """MIG advertising strategy; set together with ``mig_profile``."""
    mig_profile: str | None = None
    """MIG partition applied to every GPU, e.g. ``1g.10gb``, or ``balanced``."""

    @property
    def mig(self) -> bool:
        """Whether the pool partitions its GPUs with MIG."""
        return self.mig_profile is not None or self.mig_strategy is not None


def exclusive_sharing_problem(time_slicing: bool, mig: bool) -> str | None:
    """Time-slicing and MIG both asked of one pool (the pool and the stack configuration
    both ask)."""
    if time_slicing and mig:
        return "time-slicing and MIG cannot both be on one pool; choose one"
    return None


def sharing_problems(arg: str, sharing: GpuSharing | None) -> list[Invalid]:
    """What is wrong with one pool's sharing settings (shared by pool and software)."""
    if sharing is None:
        return []
    problems: list[Invalid] = []
    replicas = sharing.time_slicing_replicas
    if both := exclusive_sharing_problem(replicas is not None, sharing.mig):
        problems.append(
            Invalid(
                arg, {"time_slicing_replicas": replicas, "mig_profile": sharing.mig_profile}, both
            )
        )
    if replicas is not None and not 2 <= replicas <= MAX_TIME_SLICING_REPLICAS:
        problems.append(
            Invalid(
                f"{arg}.time_slicing_replicas",
                replicas,
                f"between 2 and {MAX_TIME_SLICING_REPLICAS} pods per GPU",
            )
        )
    if sharing.mig and (sharing.mig_profile is None or sharing.mig_strategy is None):
        problems.append(
            Invalid(
                f"{arg}.mig_profile",
                sharing.mig_profile,
                "MIG needs both a strategy (single or mixed) and a profile (e.g. 1g.10gb)",
            )
        )
    return problems


def device_plugin_config(sharing: GpuSharing | None) -> dict[str, Any]:
    """The device-plugin configuration file (as a dict) for one pool's sharing."""
    strategy = sharing.mig_strategy.value if sharing and sharing.mig_strategy else "none"
    config: dict[str, Any] = {"version": "v1", "flags": {"migStrategy": strategy}}
    if sharing and sharing.time_slicing_replicas:
        config["sharing"] = {
            "timeSlicing": {
                "renameByDefault": False,
                "failRequestsGreaterThanOne": True,
                "resources": [{"name": GPU_TAINT_KEY, "replicas": sharing.time_slicing_replicas}],
            }
        }
    return config


def mig_config_name(profile: str) -> str:
    """The MIG manager's configuration name for ``profile`` (``all-1g.10gb``)."""
    return f"all-{profile}"


def _yaml(document: dict[str, Any]) -> str:
    import yaml  # noqa: PLC0415  (PyYAML is a declared dependency)

    return yaml.safe_dump(document, sort_keys=False)


def dcgm_fields_in(text: str) -> set[str]:
    """The ``DCGM_FI_*`` field names ``text`` mentions."""
    return set(_DCGM_FIELD.findall(text))


def used_dcgm_fields() -> tuple[str, ...]:
    """Every DCGM field the alert rules and the shipped dashboards read, sorted.

    Field names do not depend on thresholds or label names, so the rules are rendered with
    their defaults (and one pool, so no rule is left out).
    """
    rules = alert_rules(
        AlertThresholds(),
        gpu_pool_label="mlops/gpu-pool",
        gpu_pool_max_nodes={"pool": 1},
        serving=ServingMetrics(),
    )
    texts = [rule.expr for rule in rules] + [m for rule in rules for m in rule.metrics]
    dashboards = resources.files("mlops_platform.observability.dashboards")
    texts += [
        entry.read_text("utf-8") for entry in dashboards.iterdir() if entry.name.endswith(".json")
    ]
    return tuple(sorted(dcgm_fields_in("\n".join(texts))))


def collected_dcgm_fields() -> tuple[str, ...]:
    """The fields the exporter collects: those in use plus :data:`RUNBOOK_DCGM_FIELDS`."""
    return tuple(sorted({*used_dcgm_fields(), *RUNBOOK_DCGM_FIELDS}))


def dcgm_counters_csv(fields: Iterable[str]) -> str:
    """The exporter's counters file for ``fields``: ``DCGM_FI_..., gauge|counter, help``.

    The file is the complete list (it replaces the exporter's default counters). Raises
    :class:`ValueError` for a field missing from :data:`DCGM_FIELD_CATALOG`.
    """
    unknown = sorted(set(fields) - set(DCGM_FIELD_CATALOG))
    if unknown:
        raise ValueError(
            f"DCGM field(s) {', '.join(unknown)} are read by an alert or dashboard but missing "
            "from DCGM_FIELD_CATALOG in components/nvidia.py; add each with its type and help"
        )
    lines = [
        "# DCGM fields read by the platform's alerts, dashboards and runbooks.",
        "# Generated by components/nvidia.py; the complete list (replaces the defaults).",
        "# DCGM field, Prometheus metric type, help message",
    ]
    lines += [
        f"{name}, {DCGM_FIELD_CATALOG[name][0]}, {DCGM_FIELD_CATALOG[name][1]}"
        for name in sorted(set(fields))
    ]
    return "\n".join(lines) + "\n"


@dataclass
class NvidiaSoftwareArgs:
    """Arguments of :class:`NvidiaSoftware`."""

    kubernetes_provider: pulumi.ProviderResource
    """The Kubernetes provider of the cluster."""
    mode: NvidiaMode = NvidiaMode.DEVICE_PLUGIN
    """``device-plugin`` (default) or ``gpu-operator`` (needed for MIG)."""
    sharing: Mapping[str, GpuSharing] = field(default_factory=dict)
    """Per-pool sharing settings by device-plugin config name (the pool name)."""
    driver_preinstalled: bool = True
    """The node AMI ships the NVIDIA driver and container toolkit (EKS NVIDIA AMIs do); the
    operator then installs neither."""
    namespace: str = "nvidia-gpu"
    """Namespace of the NVIDIA software (privileged pod security: the plugin mounts host paths)."""
    device_plugin_chart_version: str = DEVICE_PLUGIN_CHART_VERSION
    """Pinned ``nvidia-device-plugin`` chart version."""
    gpu_operator_chart_version: str = GPU_OPERATOR_CHART_VERSION
    """Pinned ``gpu-operator`` chart version."""
    dcgm_exporter_chart_version: str = DCGM_EXPORTER_CHART_VERSION
    """Pinned ``dcgm-exporter`` chart version (device-plugin mode; the operator ships its own)."""
    device_plugin_repository: str = DEVICE_PLUGIN_REPOSITORY
    """Chart repository of the device plugin."""
    gpu_operator_repository: str = GPU_OPERATOR_REPOSITORY
    """Chart repository of the GPU operator."""
    dcgm_exporter_repository: str = DCGM_EXPORTER_REPOSITORY
    """Chart repository of the DCGM exporter."""
    dcgm_exporter: bool = True
    """Run the DCGM exporter (GPU metrics for Prometheus)."""
    service_monitor: bool = True
    """Create a ServiceMonitor for the exporter (needs the Prometheus operator's CRDs)."""
    service_monitor_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels the Prometheus instance selects ServiceMonitors by."""
    service_monitor_interval: str = "15s"
    """Scrape interval of the DCGM exporter."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra Kubernetes labels on the namespace and ConfigMaps."""


class NvidiaSoftware(Component, legacy_module="nvidia"):
    """NVIDIA device plugin or GPU operator, DCGM exporter, and per-pool GPU sharing."""

    namespace: pulumi.Output[str]
    """Namespace the NVIDIA software runs in."""

    config_map_name: pulumi.Output[str]
    """ConfigMap holding the named device-plugin configurations."""

    mode: pulumi.Output[str]
    """``device-plugin`` or ``gpu-operator``."""

    def __init__(
        self,
        name: str,
        args: NvidiaSoftwareArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        args = self.accept(name, args, _problems)
        super().__init__(name, opts)
        provider = args.kubernetes_provider
        mig = any(s.mig for s in args.sharing.values())
        labels = {"app.kubernetes.io/managed-by": "pulumi", **args.labels}

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": args.namespace,
                # The plugin and the exporter mount host paths and device nodes.
                "labels": {**labels, **pod_security_labels("privileged")},
            },
            opts=self.child(provider=provider),
        )
        after_namespace = self.child(provider=provider, depends_on=[namespace])

        configs = {DEFAULT_CONFIG_NAME: _yaml(device_plugin_config(None))}
        configs |= {key: _yaml(device_plugin_config(s)) for key, s in sorted(args.sharing.items())}
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-device-plugin-config",
            metadata={
                "name": "nvidia-device-plugin-configs",
                "namespace": args.namespace,
                "labels": labels,
            },
            data=configs,
            opts=after_namespace,
        )
        after_config = self.child(provider=provider, depends_on=[namespace, config_map])
        config_ref = {"name": "nvidia-device-plugin-configs", "default": DEFAULT_CONFIG_NAME}

        counters_csv = dcgm_counters_csv(collected_dcgm_fields())
        exporter_deps: list[pulumi.Resource] = [namespace]
        if args.dcgm_exporter:
            exporter_deps.append(
                k8s.core.v1.ConfigMap(
                    f"{name}-dcgm-metrics",
                    metadata={
                        "name": DCGM_METRICS_CONFIG_MAP,
                        "namespace": args.namespace,
                        "labels": labels,
                    },
                    data={DCGM_METRICS_KEY: counters_csv},
                    opts=after_namespace,
                )
            )

        if args.mode is NvidiaMode.DEVICE_PLUGIN:
            helm_release(
                f"{name}-device-plugin",
                chart="nvidia-device-plugin",
                version=args.device_plugin_chart_version,
                repository=args.device_plugin_repository,
                namespace=args.namespace,
                values=device_plugin_values(config_ref),
                opts=after_config,
            )
            if args.dcgm_exporter:
                helm_release(
                    f"{name}-dcgm-exporter",
                    chart="dcgm-exporter",
                    version=args.dcgm_exporter_chart_version,
                    repository=args.dcgm_exporter_repository,
                    namespace=args.namespace,
                    values=dcgm_exporter_values(args, counters_csv),
                    opts=self.child(provider=provider, depends_on=exporter_deps),
                )
        else:
            helm_release(
                f"{name}-gpu-operator",
                chart="gpu-operator",
                version=args.gpu_operator_chart_version,
                repository=args.gpu_operator_repository,
                namespace=args.namespace,
                values=gpu_operator_values(args, config_ref, mig=mig),
                opts=self.child(
                    provider=provider, depends_on=[namespace, config_map, *exporter_deps]
                ),
            )

        self.publish(
            namespace=namespace.metadata.apply(lambda m: m.name or args.namespace),
            config_map_name=config_map.metadata.apply(
                lambda m: m.name or "nvidia-device-plugin-configs"
            ),
            mode=pulumi.Output.from_input(args.mode.value),
        )


def gpu_tolerations() -> list[dict[str, str]]:
    """Tolerations that let a pod onto GPU nodes (and nothing else)."""
    return [dict(GPU_TOLERATION)]


def gpu_node_affinity() -> dict[str, Any]:
    """Schedule only onto GPU nodes: those labelled with their accelerator.

    The charts' own default affinity looks for node-feature-discovery labels, which EKS
    nodes do not carry unless NFD runs; the accelerator label is set by every pool.
    """
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": ACCELERATOR_LABEL, "operator": "Exists"}]}
                ]
            }
        }
    }


def device_plugin_affinity() -> dict[str, Any]:
    """GPU nodes that need the device plugin DaemonSet: all but Bottlerocket ones."""
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": ACCELERATOR_LABEL, "operator": "Exists"},
                            {
                                "key": AMI_FAMILY_LABEL,
                                "operator": "NotIn",
                                "values": [BOTTLEROCKET],
                            },
                        ]
                    }
                ]
            }
        }
    }


def device_plugin_values(config_ref: Mapping[str, str]) -> dict[str, Any]:
    """Values of the ``nvidia-device-plugin`` chart."""
    return {
        "config": {**config_ref, "fallbackStrategies": ["named", "single"]},
        "tolerations": gpu_tolerations(),
        "affinity": device_plugin_affinity(),
        "priorityClassName": "system-node-critical",
        "gfd": {"enabled": False},
        "nfd": {"enabled": False},
    }


def _service_monitor(args: NvidiaSoftwareArgs) -> dict[str, Any]:
    return {
        "enabled": args.service_monitor,
        "interval": args.service_monitor_interval,
        "additionalLabels": dict(args.service_monitor_labels),
        "honorLabels": False,
    }


def dcgm_exporter_values(args: NvidiaSoftwareArgs, counters_csv: str) -> dict[str, Any]:
    """Values of the standalone ``dcgm-exporter`` chart.

    The chart's ``arguments`` replace its default ``-f`` file with ours, mounted from
    :data:`DCGM_METRICS_CONFIG_MAP` through ``extraConfigMapVolumes`` / ``extraVolumeMounts``
    (these lists replace the chart's defaults, which mount its own counters ConfigMap). The
    exporter watches that file, but a ConfigMap update swaps a symlink the watch may miss, so
    the CSV's hash in a pod annotation also rolls the DaemonSet when the list changes.
    """
    volume = "mlops-dcgm-metrics"
    return {
        "arguments": ["-f", f"{DCGM_METRICS_DIR}/{DCGM_METRICS_KEY}"],
        "extraConfigMapVolumes": [
            {
                "name": volume,
                "configMap": {
                    "name": DCGM_METRICS_CONFIG_MAP,
                    "items": [{"key": DCGM_METRICS_KEY, "path": DCGM_METRICS_KEY}],
                },
            }
        ],
        "extraVolumeMounts": [{"name": volume, "mountPath": DCGM_METRICS_DIR, "readOnly": True}],
        "podAnnotations": {
            DCGM_METRICS_HASH_ANNOTATION: hashlib.sha256(counters_csv.encode()).hexdigest()
        },
        "tolerations": gpu_tolerations(),
        "affinity": gpu_node_affinity(),
        "priorityClassName": "system-node-critical",
        "serviceMonitor": _service_monitor(args),
        "resources": {
            "requests": {"cpu": "50m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
    }


def gpu_operator_values(
    args: NvidiaSoftwareArgs, config_ref: Mapping[str, str], *, mig: bool
) -> dict[str, Any]:
    """Values of the ``gpu-operator`` chart."""
    strategies = {s.mig_strategy for s in args.sharing.values() if s.mig_strategy}
    mig_strategy = MigStrategy.MIXED if MigStrategy.MIXED in strategies else MigStrategy.SINGLE
    tolerations = gpu_tolerations()
    return {
        "operator": {"defaultRuntime": "containerd"},
        "driver": {"enabled": not args.driver_preinstalled},
        "toolkit": {"enabled": not args.driver_preinstalled},
        "devicePlugin": {"enabled": True, "config": dict(config_ref)},
        "dcgmExporter": {
            "enabled": args.dcgm_exporter,
            "serviceMonitor": _service_monitor(args),
            # An existing ConfigMap in the release namespace, key dcgm-metrics.csv; the
            # operator mounts it and sets DCGM_EXPORTER_COLLECTORS to it.
            **({"config": {"name": DCGM_METRICS_CONFIG_MAP}} if args.dcgm_exporter else {}),
        },
        "migManager": {"enabled": mig},
        "mig": {"strategy": mig_strategy.value},
        "gfd": {"enabled": True},
        "nfd": {"enabled": True},
        "daemonsets": {"tolerations": tolerations, "priorityClassName": "system-node-critical"},
        "node-feature-discovery": {"worker": {"tolerations": tolerations}},
    }


def _problems(args: NvidiaSoftwareArgs) -> list[Invalid]:
    problems: list[Invalid] = []
    versions = {
        "device_plugin_chart_version": args.device_plugin_chart_version,
        "gpu_operator_chart_version": args.gpu_operator_chart_version,
        "dcgm_exporter_chart_version": args.dcgm_exporter_chart_version,
    }
    for arg, version in versions.items():
        if not CHART_VERSION.matches(version):
            problems.append(Invalid(arg, version, "a pinned chart version such as 1.2.3"))
    for key, sharing in args.sharing.items():
        arg = f"sharing[{key}]"
        if not DNS_LABEL.matches(key) or key == DEFAULT_CONFIG_NAME:
            problems.append(
                Invalid(
                    arg,
                    key,
                    "a lowercase DNS label other than 'default' (the pool name)",
                )
            )
        problems += sharing_problems(arg, sharing)
        if sharing.mig and args.mode is not NvidiaMode.GPU_OPERATOR:
            problems.append(
                Invalid(
                    "mode",
                    args.mode.value,
                    f"pool '{key}' asks for MIG, which the GPU operator's MIG manager applies; "
                    "use mode gpu-operator",
                )
            )
    return problems
