"""Tag layers: identity tags, configured tags, per-resource tags; later layers win."""

from mlops_platform.core.tagging import REQUIRED_TAG_KEYS, merge_tags, platform_tags


def test_platform_tags_carry_identity_and_configured_tags():
    tags = platform_tags("mlops", "prod", "prod", {"owner": "team", "cost-center": "cc"})
    assert tags["project"] == "mlops"
    assert tags["stack"] == "prod"
    assert tags["environment"] == "prod"
    assert tags["managed-by"] == "pulumi"
    assert all(tags[k] for k in REQUIRED_TAG_KEYS)


def test_merge_is_left_to_right_and_skips_none():
    assert merge_tags({"a": "1", "b": "1"}, None, {"b": "2"}) == {"a": "1", "b": "2"}
