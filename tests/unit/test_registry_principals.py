"""ContainerRegistry refuses exactly the principals its docs say it refuses."""

from __future__ import annotations

import pytest
from mlops_platform.core.validation import ComponentInputError
from mlops_platform.storage import ContainerRegistry, ContainerRegistryArgs

from scripts.offline import run_program
from tests.conftest import REPO_ROOT

ACCEPTED = [
    "arn:aws:iam::111111111111:role/ci",
    "arn:aws:iam::111111111111:user/deployer",
    "arn:aws:iam::111111111111:root",
]
REFUSED = [
    "*",
    "ecr.amazonaws.com",
    "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
    "arn:aws:iam::1111:role/short-account",
    "arn:aws:sts::111111111111:assumed-role/ci/session",
]


def _build(principal: str):
    args = ContainerRegistryArgs(name_prefix="team-dev", pull_principal_arns=[principal])
    return run_program(lambda: ContainerRegistry("ecr", args))


@pytest.mark.parametrize("principal", ACCEPTED)
def test_documented_principals_are_accepted(principal):
    rec = _build(principal)
    policy = rec.one("aws:ecr/repositoryPolicy:RepositoryPolicy", "ecr-serving-policy")
    assert principal in policy.inputs["policy"]


@pytest.mark.parametrize("principal", REFUSED)
def test_everything_else_is_refused_naming_the_argument(principal):
    with pytest.raises(ComponentInputError) as error:
        _build(principal)
    [problem] = error.value.problems
    assert problem.arg == "pull_principal_arns[0]"
    assert "role, user or account-root ARN" in problem.allowed


def test_the_docs_say_the_same():
    page = (REPO_ROOT / "docs" / "components" / "container-registry.md").read_text()
    assert "an IAM role, an IAM user or an account root" in page
    assert "non-role principal is refused" not in page
