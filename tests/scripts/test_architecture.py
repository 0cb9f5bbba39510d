"""docs/architecture.md is generated from the real stacks and stays in sync with the generator."""

from __future__ import annotations

import pytest

from scripts import architecture

STACKS = architecture.STACKS


@pytest.fixture(scope="module")
def generated(synthesized) -> str:
    return architecture.render({stack: synthesized(stack) for stack in STACKS})


def test_committed_diagram_matches_the_generator(generated):
    committed = architecture.OUTPUT.read_text(encoding="utf-8")
    assert committed == generated, (
        "docs/architecture.md is stale: run `.venv/bin/python -m scripts.architecture`"
    )


def test_every_environment_has_a_mermaid_diagram(generated):
    for stack in STACKS:
        section = generated.split(f"\n## {stack}\n", 1)[1].split("\n## ", 1)[0]
        assert "```mermaid\nflowchart LR\n" in section
        assert "subgraph" in section and "ServingCluster" in section


def test_trust_and_data_edges_come_from_the_inputs(synthesized):
    prod = architecture.diagram(synthesized("prod"))
    # The CI role trusts GitHub's OIDC token for this repository's prod environment only.
    assert (
        "gh_repo_example_org_ml_platform_environment_prod -->|OIDC| role_mlops_prod_ci_deploy"
        in prod
    )
    assert "role_mlops_prod_ci_deploy -->|access entry| cluster" in prod
    # MLflow's service account gets its role through Pod Identity; the role reaches the
    # models bucket, and the MLflow release uses the RDS instance as its backend store.
    assert "sa_mlflow_mlflow -->|Pod Identity| role_mlops_prod_mlflow_artifacts" in prod
    assert "role_mlops_prod_mlflow_artifacts -.->|read+write| s3_mlops_prod_models_" in prod
    assert "rel_mlflow -.->|backend store| rds_mlops_prod_mlflow" in prod
    # Human roles: the named principals they trust (SSO permission-set roles), not the account.
    assert "AWSReservedSSO_PlatformAdmin_*" in prod
    assert "principals of account 333333333333" not in prod
    dev = architecture.diagram(synthesized("dev"))
    assert "OIDC" not in dev  # dev sets no CI repository, so it has no CI role


def test_check_mode_reports_a_stale_file(monkeypatch, synthesized, tmp_path, capsys):
    monkeypatch.setattr(architecture, "synthesize", synthesized)
    stale = tmp_path / "architecture.md"
    stale.write_text("old\n", encoding="utf-8")
    assert architecture.main(["--check", "--output", str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert architecture.main(["--output", str(stale)]) == 0
    assert architecture.main(["--check", "--output", str(stale)]) == 0
