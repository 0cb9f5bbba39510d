"""ClusterAutoscaler under the mock engine (pinned chart, values, least-privilege Pod Identity
role, placement on system nodes), and the `mlops:gpu.clusterAutoscaler` config section."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi_kubernetes as k8s
import pytest
from mlops_platform.config import ConfigError, EnvironmentConfig, environment_from_config
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.gpu.cluster_autoscaler import (
    DEFAULT_CHART_VERSION,
    DEFAULT_IMAGE_TAG,
    WILDCARD_RESOURCE_EXCEPTIONS,
    ClusterAutoscaler,
    ClusterAutoscalerArgs,
    Expander,
)
from mlops_platform.gpu.node_pool import CA_PREFIX, autoscaler_tags

from scripts.offline import load_stack_config, run_program
from scripts.offline.engine import Recording
from scripts.offline.mocks import PlatformMocks, RecordingMonitor

CLUSTER = "mlops-prod-eks"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:123456789012:cluster/{CLUSTER}"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"

# Every top-level key (and the nested ones this component sets) of the chart's values.yaml at
# the pinned version, checked by hand against the chart's source: a typo is silently ignored by
# Helm, so the test pins the set.
CHART_VALUE_KEYS = {
    "fullnameOverride",
    "cloudProvider",
    "awsRegion",
    "autoDiscovery",
    "image",
    "replicaCount",
    "rbac",
    "extraArgs",
    "expanderPriorities",
    "nodeSelector",
    "priorityClassName",
    "securityContext",
    "containerSecurityContext",
    "podDisruptionBudget",
    "resources",
    "service",
}


def _args(**overrides: Any) -> Any:
    def build(provider: k8s.Provider) -> ClusterAutoscalerArgs:
        base = ClusterAutoscalerArgs(
            cluster_name=CLUSTER,
            cluster_arn=CLUSTER_ARN,
            kubernetes_provider=provider,
            name_prefix="mlops-prod",
            tags={"owner": "ml-platform-team"},
        )
        return dataclasses.replace(base, **overrides)

    return build


def run(**overrides: Any) -> Recording:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        ClusterAutoscaler("ca", _args(**overrides)(provider))

    return run_program(program, stack="prod")


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run()


def values(rec: Recording) -> dict[str, Any]:
    return rec.one(RELEASE).inputs["values"]


def policy(rec: Recording) -> dict[str, Any]:
    return json.loads(rec.one(POLICY).inputs["policy"])


# --- the chart ---------------------------------------------------------------------------------


def test_chart_is_the_official_one_pinned_to_the_kubernetes_minor(rec: Recording) -> None:
    release = rec.one(RELEASE).inputs
    assert release["chart"] == "cluster-autoscaler"
    assert release["version"] == DEFAULT_CHART_VERSION == "9.53.0"
    assert release["repositoryOpts"]["repo"] == "https://kubernetes.github.io/autoscaler"
    assert release["namespace"] == "kube-system"
    assert release["atomic"] is True
    assert values(rec)["image"] == {"tag": DEFAULT_IMAGE_TAG}
    assert DEFAULT_IMAGE_TAG.startswith("v1.34.")  # the platform's default cluster.version


def test_release_uses_the_cluster_provider_and_waits_for_credentials(rec: Recording) -> None:
    release = rec.one(RELEASE)
    assert release.provider is not None and "k8s" in release.provider
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.urn in release.dependencies


def test_values_use_only_known_chart_keys_and_discover_this_cluster(rec: Recording) -> None:
    v = values(rec)
    assert set(v) <= CHART_VALUE_KEYS
    assert v["cloudProvider"] == "aws"
    assert v["awsRegion"] == "us-east-1"
    assert v["autoDiscovery"] == {"clusterName": CLUSTER}
    assert v["rbac"] == {
        "create": True,
        "serviceAccount": {"create": True, "name": "cluster-autoscaler"},
    }
    assert "expanderPriorities" not in v


def test_flags_balance_and_scale_down_per_args() -> None:
    v = values(run(scale_down_unneeded_time="5m", skip_nodes_with_local_storage=True))
    flags = v["extraArgs"]
    assert flags["expander"] == "least-waste"
    assert flags["balance-similar-node-groups"] == "true"
    assert flags["scale-down-unneeded-time"] == "5m"
    assert flags["skip-nodes-with-system-pods"] == "true"
    assert flags["skip-nodes-with-local-storage"] == "true"
    assert flags["ignore-daemonsets-utilization"] == "true"
    assert all(isinstance(value, str) for value in flags.values())


def test_priority_expander_breaks_ties_and_ships_its_priorities() -> None:
    v = values(run(expander=Expander.PRIORITY, expander_priorities={50: [".*serving-large.*"]}))
    assert v["extraArgs"]["expander"] == "priority,least-waste"
    assert v["expanderPriorities"] == {"50": [".*serving-large.*"]}


def test_runs_on_system_nodes_non_root_and_critical(rec: Recording) -> None:
    v = values(rec)
    assert v["nodeSelector"] == {"role": "system"}  # the label ServingCluster's nodes carry
    assert "tolerations" not in v  # never on tainted GPU nodes it may remove
    assert v["priorityClassName"] == "system-cluster-critical"
    pod = v["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 65534
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    container = v["containerSecurityContext"]
    assert container["allowPrivilegeEscalation"] is False
    assert container["readOnlyRootFilesystem"] is True
    assert container["capabilities"] == {"drop": ["ALL"]}


# --- the role ----------------------------------------------------------------------------------


def test_role_is_a_pod_identity_role_for_the_service_account(rec: Recording) -> None:
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert association["namespace"] == "kube-system"
    assert association["serviceAccount"] == "cluster-autoscaler"
    role = rec.one(ROLE).inputs
    assert role["name"] == "mlops-prod-cluster-autoscaler"
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"] == CLUSTER_ARN
    assert role["tags"]["owner"] == "ml-platform-team"


def test_writes_only_on_groups_this_cluster_owns(rec: Recording) -> None:
    statements = {s["Sid"]: s for s in policy(rec)["Statement"]}
    writers = {
        sid
        for sid, s in statements.items()
        if {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
        & set(s["Action"])
    }
    assert writers == {"ClusterAutoscalerScaleOwnGroups"}
    scale = statements["ClusterAutoscalerScaleOwnGroups"]
    assert scale["Resource"].startswith("arn:aws:autoscaling:us-east-1:123456789012:")
    assert scale["Condition"] == {
        "StringEquals": {
            f"aws:ResourceTag/{CA_PREFIX}/{CLUSTER}": "owned",
            f"aws:ResourceTag/{CA_PREFIX}/enabled": "true",
        }
    }
    # The condition matches the tags GPU pools' Auto Scaling groups carry (and EKS adds).
    pool_tags = autoscaler_tags(CLUSTER, {}, 1)
    for key, value in scale["Condition"]["StringEquals"].items():
        assert pool_tags[key.removeprefix("aws:ResourceTag/")] == value


def test_reads_are_regional_and_the_only_wildcard_is_documented(rec: Recording) -> None:
    statements = {s["Sid"]: s for s in policy(rec)["Statement"]}
    assert all(s["Effect"] == "Allow" for s in statements.values())
    assert all("*" not in action for s in statements.values() for action in s["Action"])
    on_everything = {sid for sid, s in statements.items() if s["Resource"] == "*"}
    assert on_everything == set(WILDCARD_RESOURCE_EXCEPTIONS) == {"ClusterAutoscalerRegionalRead"}
    read = statements["ClusterAutoscalerRegionalRead"]
    assert read["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in read["Action"])
    nodegroups = statements["ClusterAutoscalerDescribeNodegroups"]
    assert nodegroups["Resource"] == (f"arn:aws:eks:us-east-1:123456789012:nodegroup/{CLUSTER}/*/*")
    assert all(len(reason) > 30 for reason in WILDCARD_RESOURCE_EXCEPTIONS.values())


def test_boundary_is_attached_when_given() -> None:
    boundary = "arn:aws:iam::123456789012:policy/mlops-prod-permission-boundary"
    role = run(permission_boundary_arn=boundary).one(ROLE).inputs
    assert role["permissionsBoundary"] == boundary


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "arg"),
    [
        ({"chart_version": "latest"}, "chart_version"),
        ({"chart_version": "9.53"}, "chart_version"),
        ({"chart_repository": "http://example.com/charts"}, "chart_repository"),
        ({"image_tag": "latest"}, "image_tag"),
        ({"namespace": "Kube_System"}, "namespace"),
        ({"replicas": 0}, "replicas"),
        ({"scale_down_unneeded_time": "ten minutes"}, "scale_down_unneeded_time"),
        ({"scale_down_delay_after_add": ""}, "scale_down_delay_after_add"),
        ({"scale_down_utilization_threshold": 1.5}, "scale_down_utilization_threshold"),
        ({"expander": Expander.PRIORITY}, "expander_priorities"),
        ({"expander_priorities": {10: [".*"]}}, "expander_priorities"),
        (
            {"expander": Expander.PRIORITY, "expander_priorities": {10: ["(unclosed"]}},
            "expander_priorities[10]",
        ),
    ],
)
def test_bad_input_is_named_before_anything_registers(overrides: dict[str, Any], arg: str) -> None:
    monitor = RecordingMonitor(PlatformMocks())

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        ClusterAutoscaler("ca", _args(**overrides)(provider))

    with pytest.raises(ComponentInputError) as err:
        run_program(program, monitor=monitor)
    assert f"  - {arg} = " in str(err.value)
    children = [r.request["type"] for r in monitor.registrations]
    assert not [t for t in children if t.startswith(("aws:", "kubernetes:helm"))]


def test_good_input_passes() -> None:
    rec = run(
        expander=Expander.PRIORITY,
        expander_priorities={10: [".*gpu-serving.*"], 1: [".*"]},
        scale_down_unneeded_time="1h30m",
        replicas=2,
    )
    assert values(rec)["replicaCount"] == 2


# --- config: mlops:gpu.clusterAutoscaler ------------------------------------------------------


def load(stack: str, section: dict[str, Any] | None = None) -> EnvironmentConfig:
    values = dict(load_stack_config(stack).values)
    gpu = json.loads(values["mlops:gpu"])
    if section is not None:
        gpu["clusterAutoscaler"] = section
    values["mlops:gpu"] = json.dumps(gpu)
    return environment_from_config(values, stack)


def fails(stack: str, section: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(stack, section)
    message = str(caught.value)
    line = next(
        (ln for ln in message.splitlines() if ln.startswith(f"  - mlops:gpu.{key} = ")), None
    )
    assert line is not None, message
    assert fragment in line, line


def test_profiles_give_idle_gpu_nodes_back_faster_in_dev() -> None:
    dev, test, prod = (load(s).gpu.cluster_autoscaler for s in ("dev", "test", "prod"))
    assert (
        dev.scale_down_unneeded_time,
        test.scale_down_unneeded_time,
        prod.scale_down_unneeded_time,
    ) == ("5m", "10m", "20m")
    for section in (dev, test, prod):
        assert section.chart_version == DEFAULT_CHART_VERSION
        assert section.image_tag == DEFAULT_IMAGE_TAG
        assert section.expander.value == "least-waste"


def test_stack_overrides_merge_with_the_profile() -> None:
    section = load("prod", {"expander": "least-nodes"}).gpu.cluster_autoscaler
    assert section.expander.value == "least-nodes"
    assert section.scale_down_unneeded_time == "20m"  # still the profile's


def test_autoscaler_minor_must_match_the_cluster() -> None:
    fails("prod", {"imageTag": "v1.33.4"}, "clusterAutoscaler.imageTag", "cluster.version 1.34")
    assert load("prod", {"imageTag": "v1.34.5"}).gpu.cluster_autoscaler.image_tag == "v1.34.5"


def test_priority_expander_is_refused_in_config() -> None:
    fails("dev", {"expander": "priority"}, "clusterAutoscaler.expander", "least-waste")
    assert load("dev", {"expander": "random"}).gpu.cluster_autoscaler.expander.value == "random"


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"scaleDownUnneededTime": "soon"}, "clusterAutoscaler.scaleDownUnneededTime"),
        ({"scaleDownDelayAfterAdd": "5"}, "clusterAutoscaler.scaleDownDelayAfterAdd"),
        ({"chartVersion": "latest"}, "clusterAutoscaler.chartVersion"),
        ({"imageTag": "1.34.2"}, "clusterAutoscaler.imageTag"),
        ({"replicas": 2}, "clusterAutoscaler.replicas"),
    ],
)
def test_bad_values_are_named(section: dict[str, Any], key: str) -> None:
    fails("test", section, key, "")
