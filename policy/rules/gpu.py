"""GPU capacity and cost: allowlisted instance types, the GPU budget, taints and labels,
and an on-demand baseline for prod serving.

GPUs per instance type come from the platform's own catalog (``components.core.gpu_catalog``),
so the pack and the GPU node pool component never disagree about what an instance carries.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from components.core import gpu_catalog
from rules.catalog import resource_rule, rules_of, stack_rule
from rules.checks import fmt
from rules.context import StackContext, inputs
from rules.read import Node, parse_quantity

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
GPU = "nvidia.com/gpu"
INSTANCE_TYPE_KEY = "node.kubernetes.io/instance-type"
CAPACITY_KEY = "karpenter.sh/capacity-type"
FAMILY_KEY = "karpenter.k8s.aws/instance-family"
CATEGORY_KEY = "karpenter.k8s.aws/instance-category"
GPU_CATEGORIES = frozenset({"g", "p"})
"""Instance categories that are GPU families (Karpenter's instance-category values)."""
GPU_AMI_MARKERS = ("NVIDIA", "GPU", "NEURON")
"""amiType values carrying one of these (AL2023_x86_64_NVIDIA, AL2_x86_64_GPU,
BOTTLEROCKET_x86_64_NVIDIA, AL2023_x86_64_NEURON, ...) are accelerator AMIs."""
UNKNOWN_GPUS_PER_NODE = 8
"""GPUs assumed for a GPU instance type missing from the catalog (the largest sizes carry 8)."""


def is_gpu_type(instance_type: str) -> bool:
    """Whether an instance type carries GPUs (or other accelerators)."""
    family = instance_type.split(".", 1)[0]
    return (
        gpu_catalog.gpu_instance(instance_type) is not None
        or gpu_catalog.is_gpu_family(family)
        or family in gpu_catalog.UNSUPPORTED_ACCELERATOR_FAMILIES
    )


def gpus_per_node(instance_types: list[str]) -> int:
    """The most GPUs one node of these types brings (unknown GPU types count as 8)."""
    known = gpu_catalog.max_gpus_per_node(instance_types)
    unknown = any(is_gpu_type(t) and gpu_catalog.gpu_instance(t) is None for t in instance_types)
    return max(known, UNKNOWN_GPUS_PER_NODE if unknown else 0)


def _requirement(props: Node, key: str) -> tuple[str, list[str]] | None:
    for req in props.at("spec", "template", "spec", "requirements").items():
        if req["key"].text() == key:
            return (req["operator"].text() or ""), req["values"].strings()
    return None


def _pool_types(resource_type: str, props: Node) -> list[str]:
    if resource_type == NODE_GROUP:
        return props["instanceTypes"].strings()
    if resource_type == LAUNCH_TEMPLATE:
        value = props["instanceType"].text()
        return [value] if value else []
    req = _requirement(props, INSTANCE_TYPE_KEY)
    return req[1] if req and req[0] == "In" else []


def _pool_taints(resource_type: str, props: Node) -> list[Node]:
    if resource_type == NODE_GROUP:
        return props["taints"].items()
    return props.at("spec", "template", "spec", "taints").items()


def _pool_labels(resource_type: str, props: Node) -> dict[str, str]:
    if resource_type == NODE_GROUP:
        return props["labels"].tags()
    return props.at("spec", "template", "metadata", "labels").tags()


def _gpu_family(family: str) -> bool:
    return (
        gpu_catalog.is_gpu_family(family) or family in gpu_catalog.UNSUPPORTED_ACCELERATOR_FAMILIES
    )


def _selects_gpus(props: Node) -> bool:
    """A NodePool requirement on GPU count/name/manufacturer, or one selecting GPU instance
    families or categories."""
    for req in props.at("spec", "template", "spec", "requirements").items():
        key = req["key"].text() or ""
        operator = req["operator"].text() or ""
        values = [v.lower() for v in req["values"].strings()]
        if key.startswith("karpenter.k8s.aws/instance-gpu"):
            return True
        if key == FAMILY_KEY and operator == "In" and any(_gpu_family(v) for v in values):
            return True
        if key == CATEGORY_KEY and operator == "In" and GPU_CATEGORIES & set(values):
            return True
    return False


def gpu_ami(props: Node) -> bool:
    """A node group whose amiType is an NVIDIA/GPU/Neuron AMI."""
    ami = (props["amiType"].text() or "").upper()
    return any(marker in ami for marker in GPU_AMI_MARKERS)


def is_gpu_pool(resource_type: str, props: Node, types: list[str] | None = None) -> bool:
    """A pool that brings GPUs: GPU instance types (``types`` when resolved elsewhere, e.g.
    from a node group's launch template), a GPU amiType, or a NodePool tainted for or
    selecting GPUs (count, instance family or category)."""
    found = _pool_types(resource_type, props) if types is None else types
    if any(is_gpu_type(t) for t in found):
        return True
    if resource_type == NODE_GROUP:
        return gpu_ami(props)
    if resource_type != NODE_POOL:
        return False
    if any(t["key"].text() == GPU for t in _pool_taints(resource_type, props)):
        return True
    return _selects_gpus(props)


def node_group_types(ctx: StackContext, group: PolicyResource) -> list[str]:
    """A node group's instance types: its instanceTypes, else its launch template's
    instanceType (the template found by property dependency or by name)."""
    own = _pool_types(NODE_GROUP, inputs(group))
    if own:
        return own
    templates = [
        d
        for d in group.property_dependencies.get("launchTemplate", [])
        if d.resource_type == LAUNCH_TEMPLATE
    ]
    if not templates:
        name = inputs(group).at("launchTemplate", "name").text()
        templates = [
            lt for lt in ctx.of_type(LAUNCH_TEMPLATE) if name and inputs(lt)["name"].text() == name
        ]
    return [t for lt in templates for t in _pool_types(LAUNCH_TEMPLATE, inputs(lt))]


@resource_rule("GPU-001", NODE_GROUP, NODE_POOL, LAUNCH_TEMPLATE)
def _allowlist(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    types = _pool_types(args.resource_type, props)
    allowed = set(cfg["allowedInstanceTypes"])
    if args.resource_type == NODE_POOL and not types and is_gpu_pool(NODE_POOL, props):
        yield f"the GPU NodePool does not pin instance types ({INSTANCE_TYPE_KEY} In [...])"
    bad = [t for t in types if is_gpu_type(t) and t not in allowed]
    if bad:
        yield (
            f"GPU instance type(s) {', '.join(bad)} are not allowed here "
            f"(allowed: {', '.join(sorted(allowed)) or 'none'})"
        )


def _pool_gpus(ctx: StackContext, pool: PolicyResource) -> tuple[float | None, str]:
    """(most GPUs the pool can run, how that was worked out); None when unbounded."""
    props = inputs(pool)
    if pool.resource_type == NODE_GROUP:
        types = node_group_types(ctx, pool)
        if not types:
            return None, (
                f"GPU node group {pool.name} has instance types the pack cannot resolve "
                "(no instanceTypes, no launch template instanceType in the stack): its GPUs "
                "are unbounded"
            )
        nodes = props.at("scalingConfig", "maxSize").number(0.0)
        per = gpus_per_node(types)
        return nodes * per, f"{pool.name}: {fmt(nodes)} nodes x {per} GPUs"
    limit_node = props.at("spec", "limits", GPU)
    if limit_node.absent:
        return None, f"GPU NodePool {pool.name} has no {GPU} limit: its GPUs are unbounded"
    limit = parse_quantity(limit_node.text()) if limit_node.known() else None
    if limit is None:
        return None, (
            f"GPU NodePool {pool.name}: {GPU} limit {limit_node.label()!r} is not a quantity: "
            "its GPUs are unbounded"
        )
    return float(limit), f"{pool.name}: limit {fmt(float(limit))} GPUs"


@stack_rule("GPU-002")
def _budget(ctx: StackContext, cfg: Mapping[str, Any]) -> Iterator[tuple[str | None, str]]:
    budget = float(cfg["budgetGpus"])
    total, parts = 0.0, []

    def gpu(p: PolicyResource) -> bool:
        types = node_group_types(ctx, p) if p.resource_type == NODE_GROUP else None
        return is_gpu_pool(p.resource_type, inputs(p), types)

    for pool in ctx.of_type(NODE_GROUP, NODE_POOL):
        if not ctx.guard(lambda p=pool: gpu(p), False):
            continue
        result = ctx.guard(lambda p=pool: _pool_gpus(ctx, p))
        if result is None:
            continue
        gpus, how = result
        if gpus is None:
            yield pool.urn, how
            continue
        total += gpus
        parts.append(how)
    if total > budget:
        yield (
            None,
            (
                f"the stack can run {fmt(total)} GPUs; the budget is {fmt(budget)} "
                f"({'; '.join(parts)})"
            ),
        )


@resource_rule("GPU-003", NODE_GROUP, NODE_POOL)
def _taints_labels(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    props = args.props
    if not is_gpu_pool(args.resource_type, props):
        return
    effects = ("NO_SCHEDULE",) if args.resource_type == NODE_GROUP else ("NOSCHEDULE",)
    tainted = any(
        t["key"].text() == GPU
        and (t["effect"].text() or "").replace("_", "").upper()
        in {e.replace("_", "") for e in effects}
        for t in _pool_taints(args.resource_type, props)
    )
    if not tainted:
        yield f"the GPU pool lacks the {GPU} NoSchedule taint: any pod may land on GPU nodes"
    keys = list(cfg["acceleratorLabelKeys"])
    labels = _pool_labels(args.resource_type, props)
    if not any(k in labels for k in keys):
        yield f"the GPU pool has no accelerator label (one of: {', '.join(keys)})"


@resource_rule("GPU-004", NODE_GROUP, NODE_POOL)
def _serving_on_demand(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    if not cfg["required"] or not is_gpu_pool(args.resource_type, args.props):
        return
    key, value = cfg["servingLabelKey"], cfg["servingLabelValue"]
    labels = _pool_labels(args.resource_type, args.props)
    tags = args.props["tags"].tags() if args.resource_type == NODE_GROUP else {}
    if labels.get(key) != value and tags.get(key) != value:
        return
    if args.resource_type == NODE_GROUP:
        capacity = (args.props["capacityType"].text() or "ON_DEMAND").upper()
        if capacity != "ON_DEMAND":
            yield f"the serving GPU node group buys {capacity} capacity only"
    else:
        req = _requirement(args.props, CAPACITY_KEY)
        if req and (req[0] != "In" or "on-demand" not in req[1]):
            yield "the serving GPU NodePool cannot launch on-demand capacity"


RULES = rules_of(__name__)
