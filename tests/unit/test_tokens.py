"""Type tokens: mlops:index:<Name>, with the pre-0.2.0 token registered as an alias."""

from __future__ import annotations

import pulumi
from mlops_platform.core.tokens import component_options, component_token, legacy_token
from mlops_platform.storage.artifact_store import ArtifactStore, ArtifactStoreArgs
from mlops_platform.storage.container_registry import ContainerRegistry, ContainerRegistryArgs

from scripts.offline import run_program


def _alias_types(registration) -> list[str]:
    """Types named by the alias specs of a recorded RegisterResourceRequest."""
    return [a["spec"]["type"] for a in registration.aliases if "spec" in a and "type" in a["spec"]]


def test_components_register_index_tokens_with_the_legacy_alias():
    def program() -> None:
        ArtifactStore("store", ArtifactStoreArgs(name_prefix="team-dev"))
        ContainerRegistry(
            "images", ContainerRegistryArgs(name_prefix="team-dev", repositories=["server"])
        )

    rec = run_program(program)
    store = rec.one("mlops:index:ArtifactStore", "store")
    registry = rec.one("mlops:index:ContainerRegistry", "images")
    # The engine receives the old token as an alias spec (the SDK sends specs whenever the
    # monitor supports them, as the real engine does) and derives the children's aliases
    # from it, so the children below need none of their own.
    assert _alias_types(store) == ["mlops:artifact_store:ArtifactStore"]
    assert _alias_types(registry) == ["mlops:container_registry:ContainerRegistry"]
    bucket = next(r for r in rec.children(store.urn) if r.type == "aws:s3/bucket:Bucket")
    assert "mlops:index:ArtifactStore$aws:s3/bucket:Bucket" in bucket.urn


def test_a_callers_own_aliases_are_kept():
    opts = component_options(
        "artifact_store", "ArtifactStore", pulumi.ResourceOptions(aliases=[pulumi.Alias(name="x")])
    )
    assert opts.aliases is not None and len(opts.aliases) == 2
    assert component_token("Network") == "mlops:index:Network"
    assert legacy_token("network", "Network") == "mlops:network:Network"
