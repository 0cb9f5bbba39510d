"""The AWS policies of the observability stack: its key (log groups), the alert topic's
resource policy, and what Alertmanager (publish) and Prometheus (remote write) may do."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from ..core.kms import logs_key_policy
from ..iam import POLICY_VERSION


def key_policy(account: str, partition: str, region: str, log_groups: list[str]) -> str:
    """The account administers the key; CloudWatch Logs may use it for these groups only."""
    return json.dumps(
        logs_key_policy(
            partition=partition,
            account=account,
            region=region,
            log_groups=list(log_groups),
            sid="CloudWatchLogsEncryptsPlatformLogGroups",
        )
    )


def topic_policy(topic_arn: str, account: str) -> str:
    """Only this account publishes, and only over TLS."""
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "AccountPublishes",
                    "Effect": "Allow",
                    "Principal": {"AWS": account},
                    "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
                    "Resource": topic_arn,
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


def sns_publish_policy(
    topic_arn: pulumi.Input[str], key_arn: pulumi.Input[str], region: pulumi.Input[str]
) -> dict[str, Any]:
    """Alertmanager publishes to the alert topic, using the topic's key through SNS only."""
    via_sns = pulumi.Output.from_input(region).apply(lambda r: f"sns.{r}.amazonaws.com")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "PublishAlerts",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": topic_arn,
            },
            {
                "Sid": "UseTopicKeyThroughSns",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": via_sns}},
            },
        ],
    }


def remote_write_policy(workspace_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Prometheus writes samples to this one workspace, nothing else."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "RemoteWriteToPlatformWorkspace",
                "Effect": "Allow",
                "Action": ["aps:RemoteWrite"],
                "Resource": workspace_arn,
            }
        ],
    }
