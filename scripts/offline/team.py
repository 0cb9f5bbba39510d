"""Preview a team's own Pulumi project offline, its StackReference answered by the platform.

A team project (``docs/examples/team-serving``) reads the platform stack's outputs through
``pulumi.StackReference("<org>/mlops/<stack>")``. Offline there is no backend to read them
from, so the platform stack of the same name is synthesized first with the same engine, and
the mocks answer the team's StackReference read with exactly the outputs that run exported
(secrets stay secret, unknowns stay unknown). The contract between the two programs (output
names and shapes) is therefore exercised, not restated by hand.
"""

from __future__ import annotations

from pathlib import Path

from mlops_platform.testing import DEFAULT_ACCOUNT, PlatformMocks, Recording, stack_reference_state

from scripts.offline.engine import synthesize
from scripts.offline.project import REPO_ROOT, StackFileError, load_stack_config


def _account(platform: Recording) -> str:
    arn = platform.outputs.get("clusterArn")
    if isinstance(arn, str) and arn.count(":") >= 5:
        return arn.split(":")[4]
    return DEFAULT_ACCOUNT


def synthesize_project(
    project_dir: Path, stack: str, platform_root: Path = REPO_ROOT
) -> tuple[Recording, Recording]:
    """(team recording, platform recording) for ``stack`` of the project in ``project_dir``."""
    project_dir = project_dir.resolve()
    if not (project_dir / "Pulumi.yaml").is_file():
        raise StackFileError(f"{project_dir} holds no Pulumi.yaml: not a Pulumi project")
    if not (project_dir / "__main__.py").is_file():
        raise StackFileError(f"{project_dir} holds no __main__.py (a Python Pulumi program)")
    team_config = load_stack_config(stack, project_dir)  # fail on a bad team file first
    platform = synthesize(stack, platform_root)
    region = team_config.values.get("aws:region") or str(platform.outputs.get("region", ""))
    mocks = PlatformMocks(
        region=region or "us-east-1",
        account=_account(platform),
        stack_references={
            f"{platform.project}/{platform.stack}": stack_reference_state(platform.outputs)
        },
    )
    team = synthesize(stack, project_dir, mocks=mocks)
    return team, platform
