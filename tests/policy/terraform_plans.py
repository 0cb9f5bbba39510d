"""Real Terraform plans for the policy tier: the ``terraform`` binary and the real AWS
provider from a filesystem mirror found on this machine, no network.

The mirror is whatever folder holds ``registry.terraform.io/hashicorp/aws``: the
``MLOPS_TERRAFORM_PLUGIN_MIRROR`` environment variable when set, else Terraform's implied
local mirror folders, else a shallow search of the file system. Nothing here names where
it is on any one machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "terraform"
"""The root module: a compliant and a careless child module (``main.tf``)."""
PROVIDER_DIR = Path("registry.terraform.io") / "hashicorp" / "aws"
MIRROR_ENV = "MLOPS_TERRAFORM_PLUGIN_MIRROR"
_SEARCH_DEPTH = 4
_PRUNED = frozenset({"proc", "sys", "dev", "run", "tmp", "var", "snap", "lost+found"})


def terraform_binary() -> str | None:
    """The ``terraform`` on PATH, if any."""
    return shutil.which("terraform")


def _implied_mirrors() -> Iterator[Path]:
    """Terraform's implied local mirror folders (CLI configuration docs), then XDG ones."""
    home = Path.home()
    yield home / ".terraform.d" / "plugins"
    data_home = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    yield Path(data_home) / "terraform" / "plugins"
    for base in (os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":"):
        if base:
            yield Path(base) / "terraform" / "plugins"


def _walk(root: Path, depth: int) -> Iterator[Path]:
    """Folders under ``root`` down to ``depth`` levels, breadth first."""
    level = [root]
    for _ in range(depth + 1):
        following: list[Path] = []
        for folder in level:
            yield folder
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            following += [
                Path(e.path)
                for e in entries
                if e.is_dir(follow_symlinks=False)
                and not e.name.startswith(".")
                and not (folder == root and e.name in _PRUNED)
            ]
        level = following


def find_aws_mirror() -> Path | None:
    """A filesystem mirror folder holding the hashicorp/aws provider, or None."""
    override = os.environ.get(MIRROR_ENV)
    if override:
        return Path(override) if (Path(override) / PROVIDER_DIR).is_dir() else None
    for candidate in _implied_mirrors():
        if (candidate / PROVIDER_DIR).is_dir():
            return candidate
    root = Path(Path.cwd().anchor)
    for folder in _walk(root, _SEARCH_DEPTH):
        if (folder / PROVIDER_DIR).is_dir():
            return folder
    return None


def cli_config(mirror: Path, folder: Path) -> Path:
    """A CLI configuration installing hashicorp/aws from ``mirror`` only (never online)."""
    path = folder / "terraform.rc"
    path.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    return path


def _env(config: Path, folder: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    return {
        **keep,
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "TF_DATA_DIR": str(folder / ".terraform"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def plan(work: Path, config: Path, terraform: str) -> Path:
    """``terraform init``, ``plan -out`` and ``show -json`` of the fixture (copied into
    ``work``); the path of the JSON plan written there."""
    folder = work / "fixture"
    shutil.copytree(FIXTURES, folder)
    env = _env(config, folder)
    steps = [
        [terraform, "init", "-input=false", "-no-color", "-backend=false"],
        [terraform, "plan", "-input=false", "-no-color", "-lock=false", "-out=plan.bin"],
        [terraform, "show", "-json", "-no-color", "plan.bin"],
    ]
    out = ""
    for argv in steps:
        done = subprocess.run(
            argv, cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=900
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"terraform {argv[1]} of the fixture failed ({done.returncode}):\n"
                f"{done.stderr[-3000:]}"
            )
        out = done.stdout
    path = work / "plan.json"
    path.write_text(out, encoding="utf-8")
    return path


def module_part(doc: dict[str, Any], module: str) -> dict[str, Any]:
    """The part of a real plan that belongs to root module call ``module``: its resource
    changes and its configuration, as ``terraform show -json`` would give for a root that
    called only that module."""
    prefix = f"module.{module}"
    part = dict(doc)
    part["resource_changes"] = [
        rc
        for rc in doc.get("resource_changes", [])
        if str(rc.get("address", "")).startswith(prefix + ".")
    ]
    configuration = json.loads(json.dumps(doc.get("configuration", {})))
    root = configuration.get("root_module", {})
    root["module_calls"] = {
        k: v for k, v in (root.get("module_calls") or {}).items() if k == module
    }
    part["configuration"] = configuration
    return part
