"""CloudWatch Logs: retention per environment and KMS encryption."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rules.catalog import resource_rule, rules_of
from rules.checks import aws_managed_key, fmt

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@resource_rule("LOG-001", LOG_GROUP)
def _retention(args: Any, cfg: Mapping[str, Any]) -> Iterator[str]:
    days = args.props["retentionInDays"].number()
    least = float(cfg["minRetentionDays"])
    if days is None or days == 0:
        yield "retentionInDays is not set: logs are kept (and billed) forever"
    elif days < least:
        yield f"retentionInDays is {fmt(days)}; this environment needs at least {fmt(least)}"


@resource_rule("LOG-002", LOG_GROUP)
def _kms(args: Any, _: Mapping[str, Any]) -> Iterator[str]:
    key = args.props["kmsKeyId"].text()
    if not key:
        yield "the log group is not encrypted with a KMS key"
    elif (managed := aws_managed_key("kmsKeyId", key)) is not None:
        yield managed


RULES = rules_of(__name__)
