"""Facts every node the platform launches shares (system nodes, GPU node groups, Karpenter).

No resources here: the launch templates and EC2NodeClasses import these values.
"""

from __future__ import annotations

IMDS_HOP_LIMIT = 1
"""IMDSv2 response hop limit of every node. With 1, the token PUT answer cannot cross the
extra network hop into a pod's network namespace, so pods cannot read the node role's
credentials from IMDS; host-network pods (vpc-cni, kube-proxy, the Pod Identity agent) still
reach it. Every platform workload gets AWS credentials from EKS Pod Identity and is given its
region explicitly (Karpenter ``AWS_REGION``, Cluster Autoscaler ``awsRegion``, MLflow
``AWS_REGION``, Alertmanager/Prometheus ``sigv4.region``); the EBS CSI driver falls back to
Kubernetes node metadata. A controller that needs IMDS from a pod (e.g. the AWS Load Balancer
Controller without ``region`` and ``vpcId``) must be given those values instead."""
