"""Physical names: within every AWS limit, valid characters, unique when shortened."""

from __future__ import annotations

import re

import pytest
from mlops_platform.core.naming import NAME_RULES, NameKind, physical_name

LONG_PREFIX = "a-very-long-project-name-for-ml-platform-workloads-" * 3 + "-production-eu-west-1"
ROLES = ["models", "pipeline-artifacts", "karpenter-interruption", "serving-large-gpu-pool"]


@pytest.mark.parametrize("kind", list(NameKind), ids=lambda k: k.value)
@pytest.mark.parametrize("role", ROLES)
def test_every_name_fits_its_limit_and_charset(kind, role):
    name = physical_name(role, kind, prefix=LONG_PREFIX)
    rule = kind.rule
    assert len(name) <= rule.max_length, (kind, len(name))
    assert re.fullmatch(f"[{rule.allowed}]+", name), name
    assert not name.startswith("-") and not name.endswith("-")
    if rule.starts_with_letter:
        assert name[0].isalpha()


def test_short_names_are_readable_and_unhashed():
    assert physical_name("models", NameKind.S3_BUCKET, prefix="mlops-dev") == "mlops-dev-models"


def test_shortened_names_stay_distinct():
    a = physical_name("serving-large-gpu-pool-a", NameKind.TARGET_GROUP, prefix=LONG_PREFIX)
    b = physical_name("serving-large-gpu-pool-b", NameKind.TARGET_GROUP, prefix=LONG_PREFIX)
    assert a != b
    assert len(a) == len(b) == 32


def test_invalid_characters_are_replaced_and_case_folded():
    name = physical_name("Models_Bucket!", NameKind.S3_BUCKET, prefix="MLOps-Dev")
    assert name == "mlops-dev-models-bucket"


def test_names_needing_a_leading_letter_get_one():
    assert physical_name("db", NameKind.RDS_INSTANCE, prefix="42-dev")[0].isalpha()


def test_every_kind_has_a_rule():
    assert set(NAME_RULES) == set(NameKind)


def test_same_input_same_name():
    assert physical_name("models", NameKind.S3_BUCKET, LONG_PREFIX) == physical_name(
        "models", NameKind.S3_BUCKET, LONG_PREFIX
    )
