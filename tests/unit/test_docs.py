"""Generated docs are never stale."""

from scripts import config_docs


def test_configuration_reference_is_current():
    assert config_docs.main(["--check"]) == 0, "run: python -m scripts.config_docs"
