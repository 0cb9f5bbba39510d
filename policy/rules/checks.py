"""Small helpers the checks of several services share: numbers as people write them, and
whether a KMS key reference names a customer managed key."""

from __future__ import annotations

import re

_AWS_MANAGED_KEY = re.compile(r"(^|:)alias/aws/")


def fmt(number: float) -> str:
    """A wire number as people write it (``7`` not ``7.0``)."""
    return str(int(number)) if float(number).is_integer() else str(number)


def customer_managed_key(key: str) -> bool:
    """Whether a KMS key reference names a customer managed key: not empty and not an AWS
    managed key alias (``alias/aws/s3``, ``arn:aws:kms:r:a:alias/aws/ecr``)."""
    text = key.strip()
    return bool(text) and not _AWS_MANAGED_KEY.search(text)


def aws_managed_key(field: str, key: str) -> str | None:
    """The finding for a KMS key reference ``field`` that names an AWS managed key (None for
    a customer managed key; an empty reference is each caller's own finding)."""
    if customer_managed_key(key):
        return None
    return f"{field} {key} is an AWS managed key, not a customer managed key"
