"""Kubernetes label and taint keys the platform's nodes and workloads share.

Written once here; the GPU node pools set them, the NVIDIA software, the autoscalers and
the observability stack select on them, and the policy pack checks them.
"""

GPU_TAINT_KEY = "nvidia.com/gpu"
"""The taint every GPU node carries (``nvidia.com/gpu=true:NoSchedule``); GPU workloads and
the exporters that must run on GPU nodes tolerate it."""

ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
"""The node label naming the GPU model; the Cluster Autoscaler's AWS GPU label."""

DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
"""Node label selecting a named device-plugin configuration (time-slicing, MIG strategy)."""

MIG_CONFIG_LABEL = "nvidia.com/mig.config"
"""Node label the GPU operator's MIG manager reads to partition a node's GPUs."""

OPERATOR_DEVICE_PLUGIN_LABEL = "nvidia.com/gpu.deploy.device-plugin"
"""Node label the GPU operator reads to decide whether it deploys its device plugin."""

AMI_FAMILY_LABEL = "mlops/ami-family"
"""Node label ``al2023`` or ``bottlerocket``. Bottlerocket's NVIDIA variants run their own
device plugin as a host service, so the device plugin DaemonSet stays off those nodes."""

POOL_LABEL = "mlops/gpu-pool"
"""Node label naming the GPU pool a node belongs to."""

WORKLOAD_LABEL = "mlops/workload"
"""Node label naming the workload class a pool is for (``serving``, ``training``, ...)."""

CAPACITY_TYPE_LABEL = "mlops/capacity-type"
"""Node label ``on-demand`` or ``spot``."""

TENANT_LABEL = "mlops/tenant"
"""Namespace label naming the team that owns a tenant namespace; the policy pack treats a
namespace carrying it as a tenant's."""

TENANT_TAG = "mlops:tenant"
"""AWS tag (value: the team) on a tenant's IAM role and EKS access entries; the policy pack
finds tenant access entries by it."""
ENDPOINT_LABEL = "mlops/model-endpoint"
"""Pod (and object) label naming the model endpoint a workload serves; the policy pack's
serving rules find endpoints by it."""
