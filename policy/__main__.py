"""The MLOps platform's CrossGuard policy pack: assembles the rules, nothing else.

Run by the Pulumi CLI (``pulumi preview --policy-pack policy --policy-pack-config
policy/config/<env>.json``) or by the offline runner (``python -m scripts.policy_runner``).
The pack is advisory by default; each environment's config file raises rules to mandatory
by severity (dev: critical; test: high and critical; prod: all).

The rules are written down in ``rules/catalog.toml`` and bound to their checks in
``rules/<service>.py``. The repository root is put on ``sys.path`` so the rules share the
platform's own facts (the GPU catalog, label keys, limits, versions) from ``components/core``,
imported by its source folder (the library's floor, which needs only the standard library);
the pack always runs from a checkout of this repository.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _path in (str(_HERE), str(_HERE.parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402
from rules import ALL_RULES  # noqa: E402
from rules.engine import install_config_hook, install_dispatch, to_policy  # noqa: E402

install_config_hook()
install_dispatch()

PolicyPack(
    name="mlops-platform",
    description="Guardrails for GPU-ready MLOps platforms on AWS EKS: CIS EKS, AWS FSBP and "
    "checkov controls plus ML capacity and cost rules, with per-environment enforcement.",
    display_name="MLOps platform policies",
    provider="aws",
    tags=["aws", "eks", "kubernetes", "gpu", "mlops"],
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[to_policy(rule) for rule in ALL_RULES],
)
