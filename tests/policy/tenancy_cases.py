"""A non-compliant and a compliant case for each tenancy rule (policy/rules/tenancy.py).

tests/policy/cases.py appends them to its CASES, so test_rules.py drives them through the
real analyzer in every environment like every other rule's cases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.policy.builders import DEPLOYMENT, container, deployment, res, urn

if TYPE_CHECKING:
    from tests.policy.cases import Case

NAMESPACE = "kubernetes:core/v1:Namespace"
QUOTA = "kubernetes:core/v1:ResourceQuota"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
TEAM = "team-a"
TEAM_ROLE = "arn:aws:iam::222222222222:role/team-a"
EDIT = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
KNOWN_TENANT = "recsys"
"""A tenant of every shipped platform stack: its namespace is in each environment's
gpuQuotaNamespaces (policy/config/<env>.json, written from the stacks by scripts.policy_docs)."""


def tenant_namespace(name: str = TEAM) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {"mlops/tenant": name, "pod-security.kubernetes.io/enforce": "restricted"},
        }
    }


def gpu_deployment(namespace: str = TEAM, gpus: str = "1") -> dict[str, Any]:
    gpu = {"nvidia.com/gpu": gpus}
    server = container(
        resources={
            "requests": {"cpu": "1", "memory": "4Gi", **gpu},
            "limits": {"cpu": "2", "memory": "4Gi", **gpu},
        }
    )
    tolerations = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    spec = deployment([server], tolerations=tolerations)
    spec["metadata"]["namespace"] = namespace
    return spec


def gpu_quota(namespace: str = TEAM, gpus: str = "4") -> dict[str, Any]:
    return {
        "metadata": {"name": "tenant-quota", "namespace": namespace},
        "spec": {"hard": {"requests.nvidia.com/gpu": gpus, "requests.cpu": "8"}},
    }


def default_deny(namespace: str = TEAM) -> dict[str, Any]:
    return {
        "metadata": {"name": "default-deny", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allow_dns(namespace: str = TEAM) -> dict[str, Any]:
    return {
        "metadata": {"name": "allow-dns", "namespace": namespace},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}],
        },
    }


def service(annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": TEAM, "annotations": annotations},
        "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False},
    }


def ingress(scheme: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web",
            "namespace": TEAM,
            "annotations": {"alb.ingress.kubernetes.io/scheme": scheme},
        },
        "spec": {"ingressClassName": "alb"},
    }


def access(scope: dict[str, Any], policy: str = EDIT, **entry: Any) -> list:
    return [
        res(NAMESPACE, TEAM, tenant_namespace()),
        res(
            ENTRY,
            "team-a-access",
            {
                "clusterName": "mlops-test-eks",
                "principalArn": TEAM_ROLE,
                "type": "STANDARD",
                "tags": {"mlops:tenant": TEAM},
                **entry,
            },
        ),
        res(
            ASSOCIATION,
            "team-a-access",
            {
                "clusterName": "mlops-test-eks",
                "principalArn": TEAM_ROLE,
                "policyArn": policy,
                "accessScope": scope,
            },
            deps={"principalArn": [urn(ENTRY, "team-a-access")]},
        ),
    ]


SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
LB_INTERNAL = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
}


def tenancy_cases() -> list[Case]:
    """The cases (``Case`` is imported here, not at module level: cases.py imports this)."""
    from tests.policy.cases import Case  # noqa: PLC0415

    namespaced = [res(NAMESPACE, TEAM, tenant_namespace())]
    return [
        Case(
            "k8s-gpu-workloads-need-gpu-quota",
            [*namespaced, res(DEPLOYMENT, "llm", gpu_deployment())],
            [
                *namespaced,
                res(QUOTA, "quota", gpu_quota()),
                res(DEPLOYMENT, "llm", gpu_deployment()),
            ],
            urn(DEPLOYMENT, "llm"),
        ),
        Case(
            "k8s-gpu-workloads-need-gpu-quota",
            [
                res(QUOTA, "quota", gpu_quota(gpus="1")),
                res(DEPLOYMENT, "llm", gpu_deployment(gpus="2")),
            ],
            [
                res(QUOTA, "quota", gpu_quota(gpus="2")),
                res(DEPLOYMENT, "llm", gpu_deployment(gpus="2")),
            ],
            urn(DEPLOYMENT, "llm"),
        ),
        # A namespace the stack neither creates nor quotas: known only through the config.
        Case(
            "k8s-gpu-workloads-need-gpu-quota",
            [res(DEPLOYMENT, "llm", gpu_deployment("unknown-team"))],
            [res(DEPLOYMENT, "llm", gpu_deployment(KNOWN_TENANT, gpus="1000m"))],
            urn(DEPLOYMENT, "llm"),
        ),
        # A namespace the stack creates is judged on the stack, whatever the config says.
        Case(
            "k8s-gpu-workloads-need-gpu-quota",
            [
                res(NAMESPACE, KNOWN_TENANT, tenant_namespace(KNOWN_TENANT)),
                res(DEPLOYMENT, "llm", gpu_deployment(KNOWN_TENANT)),
            ],
            [
                res(NAMESPACE, KNOWN_TENANT, tenant_namespace(KNOWN_TENANT)),
                res(QUOTA, "quota", gpu_quota(KNOWN_TENANT, gpus="1")),
                res(DEPLOYMENT, "llm", gpu_deployment(KNOWN_TENANT)),
            ],
            urn(DEPLOYMENT, "llm"),
        ),
        # A GPU count that is not a quantity is a violation; "0.001k" is one GPU.
        Case(
            "k8s-gpu-workloads-need-gpu-quota",
            [res(QUOTA, "quota", gpu_quota()), res(DEPLOYMENT, "llm", gpu_deployment(gpus="one"))],
            [
                res(QUOTA, "quota", gpu_quota(gpus="1")),
                res(DEPLOYMENT, "llm", gpu_deployment(gpus="0.001k")),
            ],
            urn(DEPLOYMENT, "llm"),
        ),
        Case(
            "k8s-no-internet-facing-load-balancers",
            [
                res(
                    SERVICE,
                    "web",
                    service({**LB_INTERNAL, SCHEME: "internet-facing"}),
                )
            ],
            [res(SERVICE, "web", service(LB_INTERNAL))],
            urn(SERVICE, "web"),
        ),
        Case(
            "k8s-no-internet-facing-load-balancers",
            [res(SERVICE, "web", service({}))],
            [
                res(
                    SERVICE,
                    "web",
                    service({"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}),
                )
            ],
            urn(SERVICE, "web"),
        ),
        Case(
            "k8s-no-internet-facing-load-balancers",
            [res(INGRESS, "web", ingress("internet-facing"))],
            [res(INGRESS, "web", ingress("internal"))],
            urn(INGRESS, "web"),
        ),
        Case(
            "k8s-tenant-default-deny-network-policy",
            [*namespaced, res(NETWORK_POLICY, "dns", allow_dns())],
            [
                *namespaced,
                res(NETWORK_POLICY, "dns", allow_dns()),
                res(NETWORK_POLICY, "deny", default_deny()),
            ],
            urn(NAMESPACE, TEAM),
        ),
        Case(
            "k8s-tenant-default-deny-network-policy",
            # "deny" only ingress is not a default deny.
            [
                *namespaced,
                res(
                    NETWORK_POLICY,
                    "deny",
                    {**default_deny(), "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
                ),
            ],
            [*namespaced, res(NETWORK_POLICY, "deny", default_deny())],
            urn(NAMESPACE, TEAM),
        ),
        Case(
            "eks-tenant-access-namespace-scoped",
            access({"type": "cluster"}),
            access({"type": "namespace", "namespaces": [TEAM]}),
            urn(ASSOCIATION, "team-a-access"),
        ),
        Case(
            "eks-tenant-access-namespace-scoped",
            access({"type": "namespace", "namespaces": ["kube-system"]}),
            access({"type": "namespace", "namespaces": [TEAM]}, policy=EDIT),
            urn(ASSOCIATION, "team-a-access"),
        ),
        Case(
            "eks-tenant-access-namespace-scoped",
            access(
                {"type": "namespace", "namespaces": [TEAM]},
                policy="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            ),
            access({"type": "namespace", "namespaces": [TEAM]}),
            urn(ASSOCIATION, "team-a-access"),
        ),
    ]
