"""Generate the policy reference (docs/policy-reference.md) and the per-environment policy
configs (policy/config/<env>.json) from the pack and the platform's configuration.

    python -m scripts.policy_docs            # rewrite both
    python -m scripts.policy_docs --check    # exit 1 when either is stale (CI, tests)

What a config file says comes from three places, each written once:

- enforcement from severity (the pack's ``enforcement_for``): dev makes critical rules
  mandatory, test high and critical, prod everything;
- settings that restate the environment's configuration (:func:`mirrored_settings`), read
  from its effective config (``components/config`` profiles under ``stacks/Pulumi.<env>.yaml``):
  retention, KMS deletion windows, GPU allowlist and budget, the public endpoint, interface
  endpoints, the prod protections, the stack's AWS accounts, the tenants' GPU quotas; a
  profile or stack change moves them on the next run;
- policy choices no configuration key holds (:data:`POLICY_CHOICES`, and the pack's cap on
  critical rules' exemptions in prod).

Anything else in a config file (exemptions, other settings) is kept as it is.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from scripts.offline.project import REPO_ROOT

if TYPE_CHECKING:
    from mlops_platform.config import EnvironmentConfig

POLICY_DIR = REPO_ROOT / "policy"
REFERENCE = REPO_ROOT / "docs" / "policy-reference.md"
ENVIRONMENTS: tuple[str, ...] = ("dev", "test", "prod")
_BASE_LEVEL = {"dev": "advisory", "test": "mandatory", "prod": "mandatory"}


def load_pack() -> ModuleType:
    """The pack's ``rules`` package, imported the way ``policy/__main__.py`` imports it."""
    for path in (str(POLICY_DIR), str(REPO_ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module("rules")


def config_file(environment: str) -> Path:
    """Where an environment's policy config lives."""
    return POLICY_DIR / "config" / f"{environment}.json"


def effective_config(environment: str) -> EnvironmentConfig:
    """The environment's validated configuration: its profile under its stack file
    (``stacks/Pulumi.<env>.yaml``), as the program sees it."""
    from mlops_platform.config.loader import environment_from_config  # noqa: PLC0415

    from scripts.offline.project import load_stack_config  # noqa: PLC0415

    stack = load_stack_config(environment)
    return environment_from_config(stack.values, environment, frozenset(stack.secret_keys))


def key_deletion_windows(config: EnvironmentConfig) -> dict[str, int]:
    """Every KMS key deletion window the configuration sets, by config key."""
    return {
        "cluster.secretsKeyDeletionWindowDays": config.cluster.secrets_key_deletion_window_days,
        "storage.kmsDeletionWindowDays": config.storage.kms_deletion_window_days,
        "registry.kmsDeletionWindowDays": config.registry.kms_deletion_window_days,
        "observability.kmsDeletionWindowDays": config.observability.kms_deletion_window_days,
    }


def mirrored_settings(
    config: EnvironmentConfig, rule_defaults: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Rule settings that state what the environment's configuration already says, by rule
    name: the pack checks a stack against the values its own profile and stack file chose.
    ``rule_defaults`` is each rule's schema defaults (rule name -> setting -> default)."""
    storage, database = config.storage, config.model_registry
    accounts = list(config.allowed_account_ids)
    # The pack's interface endpoints (ECR api/dkr) wherever the environment creates them.
    ecr_endpoints = rule_defaults["ec2-vpc-endpoints"]["requiredInterfaceEndpoints"]
    created = {str(endpoint) for endpoint in config.network.interface_endpoints}
    return {
        "s3-bucket-replication-or-object-lock": {
            "required": storage.replication.enabled or storage.object_lock.mode is not None
        },
        "eks-endpoint-private": {"allowPublicEndpoint": config.cluster.endpoint_public_access},
        "ec2-vpc-endpoints": {
            "requiredInterfaceEndpoints": [e for e in ecr_endpoints if e in created]
        },
        "kms-key-deletion-window": {
            "minDeletionWindowDays": min(key_deletion_windows(config).values())
        },
        "logs-retention": {"minRetentionDays": config.log_retention_days},
        "rds-multi-az": {"required": database.multi_az},
        "rds-deletion-protection": {"required": database.deletion_protection},
        "k8s-images-pinned-from-allowed-registries": {"allowedEcrAccountIds": accounts},
        "endpoint-image-digest-pinned": {"allowedEcrAccountIds": accounts},
        "gpu-instance-type-allowlist": {
            "allowedInstanceTypes": list(config.gpu.allowed_instance_types)
        },
        "gpu-budget": {"budgetGpus": config.gpu.budget_gpus},
        "stateful-resources-protected": {"required": config.protect_stateful_resources},
        # A tenant's namespace is its team name; a team project deploys into it.
        "k8s-gpu-workloads-need-gpu-quota": {
            "gpuQuotaNamespaces": {team.name: team.gpus for team in config.tenants.teams}
        },
    }


POLICY_CHOICES: dict[str, dict[str, dict[str, Any]]] = {
    # What model teams deploy: no profile key describes it, so it is decided here.
    "endpoint-min-replicas": {"minReplicas": {"dev": 0, "test": 1, "prod": 2}},
    "k8s-serving-high-availability": {"required": {"dev": False, "test": False, "prod": True}},
    # The config rules hold the platform's own prod serving pools to the same.
    "gpu-serving-on-demand-baseline": {"required": {"dev": False, "test": False, "prod": True}},
}
"""Per-environment rule settings that are policy choices, not copies of configuration:
rule name -> setting -> environment -> value. (``maxExemptionDays`` for critical rules in
prod is the pack's own ``STRICT_MAX_EXEMPTION_DAYS``.)"""


def rule_defaults() -> dict[str, dict[str, Any]]:
    """Each rule's config-schema defaults: rule name -> setting -> default."""
    return {
        rule.name: {key: schema.get("default") for key, schema in rule.config.items()}
        for rule in load_pack().ALL_RULES
    }


def generated_settings(environment: str, config: EnvironmentConfig) -> dict[str, dict[str, Any]]:
    """Every rule setting this generator writes for ``environment``, by rule name; raises
    :class:`ValueError` naming a rule or setting the pack no longer has."""
    defaults = rule_defaults()
    out = mirrored_settings(config, defaults)
    for name, settings in POLICY_CHOICES.items():
        out.setdefault(name, {}).update(
            {key: per_env[environment] for key, per_env in settings.items()}
        )
    for name, settings in out.items():
        missing = sorted(set(settings) - set(defaults.get(name, {})))
        if name not in defaults or missing:
            what = f"setting {', '.join(missing)} of " if name in defaults else ""
            raise ValueError(f"scripts.policy_docs writes {what}rule {name}, which the pack lacks")
    return out


def synced_config(
    environment: str, current: Mapping[str, Any], config: EnvironmentConfig | None = None
) -> dict[str, Any]:
    """``current`` with ``all`` and every rule's enforcement level set from severity, the
    settings that mirror the environment's configuration (``config``, else its stack's)
    and the policy choices written, and critical rules' exemptions capped in prod. What
    else ``current`` holds (exemptions, other settings) is kept."""
    rules = load_pack()
    enforcement_for = rules.rule.enforcement_for
    written = generated_settings(environment, config or effective_config(environment))
    base = _BASE_LEVEL[environment]
    out: dict[str, Any] = {"all": base}
    for rule in rules.ALL_RULES:
        entry = current.get(rule.name)
        kept = (
            {k: v for k, v in entry.items() if k != "enforcementLevel"}
            if isinstance(entry, dict)
            else {}
        )
        # Settings in the order of the rule's schema, then whatever else the file holds.
        ours = written.get(rule.name, {})
        props = {k: ours[k] for k in rule.config if k in ours}
        props.update({k: v for k, v in kept.items() if k not in props})
        level = enforcement_for(rule.severity, environment)
        strict = rules.rule.STRICT_MAX_EXEMPTION_DAYS.get(environment, {}).get(rule.severity)
        if strict is not None:
            props["maxExemptionDays"] = min(int(props.get("maxExemptionDays", strict)), strict)
        if props:
            out[rule.name] = {**({"enforcementLevel": level} if level != base else {}), **props}
        elif level != base:
            out[rule.name] = level
    return out


def render_config(environment: str, config: EnvironmentConfig | None = None) -> str:
    """The config file's text after syncing."""
    path = config_file(environment)
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return json.dumps(synced_config(environment, current, config), indent=2) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _origin(mirrored: Mapping[str, Mapping[str, Any]], rule: str, key: str) -> str:
    """Where the generator takes a setting's per-environment values from, if it writes it."""
    if key in mirrored.get(rule, {}):
        return " From each environment's configuration."
    if key in POLICY_CHOICES.get(rule, {}):
        return " A policy choice (`scripts/policy_docs.py`)."
    return ""


def _setting(configs: Mapping[str, Mapping[str, Any]], env: str, rule: Any, key: str) -> Any:
    entry = configs[env].get(rule.name)
    if isinstance(entry, dict) and key in entry:
        return entry[key]
    return rule.config[key].get("default")


def render_reference(environments: Mapping[str, EnvironmentConfig] | None = None) -> str:
    """The Markdown reference, generated from the rules and the environment configs as this
    run writes them (from ``environments``' configurations, else the stacks')."""
    rules = load_pack()
    enforcement_for = rules.rule.enforcement_for
    if environments is None:
        environments = {env: effective_config(env) for env in ENVIRONMENTS}
    configs = {env: json.loads(render_config(env, environments[env])) for env in ENVIRONMENTS}
    mirrored = mirrored_settings(environments[ENVIRONMENTS[0]], rule_defaults())
    out = [
        "# Policy reference",
        "",
        "<!-- Generated by `python -m scripts.policy_docs` from policy/rules and "
        "policy/config; do not edit by hand. -->",
        "",
        "The CrossGuard pack in `policy/` checks what this platform creates and what model "
        "teams deploy with it. Run it with the Pulumi CLI:",
        "",
        "```bash",
        "pulumi preview --policy-pack policy --policy-pack-config policy/config/prod.json",
        "```",
        "",
        "or offline, with no CLI and no cloud credentials (the same pack, over the same "
        "analyzer protocol):",
        "",
        "```bash",
        "python -m scripts.policy_runner --stack prod            # table",
        "python -m scripts.policy_runner --stack prod --format sarif --output policy.sarif",
        "```",
        "",
        "## Enforcement per environment",
        "",
        "The pack is advisory by default; each environment's config file raises rules by "
        "severity. A mandatory violation fails the preview (exit code 1).",
        "",
        "| severity | dev | test | prod |",
        "|---|---|---|---|",
    ]
    for sev in ("critical", "high", "medium", "low"):
        level = rules.rule.Severity(sev)
        out.append(
            f"| {sev} | " + " | ".join(enforcement_for(level, e) for e in ENVIRONMENTS) + " |"
        )
    out += [
        "",
        "### Unknown values and unusual input shapes",
        "",
        "Every rule reads inputs through one tolerant reading layer (`policy/rules/read.py`). "
        "How an unknown value (the engine's unknown-value sentinel) is treated depends on "
        "whether the engine runs a preview, which it tells the pack (`ConfigureStack` "
        "`dry_run`, or `PULUMI_DRY_RUN` when the engine does not call `ConfigureStack`; with "
        "neither, a preview is assumed):",
        "",
        "- **In preview** (`pulumi preview`, the offline preview): an unknown value never "
        "produces a violation. The check stops at the first unknown value an input the rule "
        'needs holds, and the pack reports an advisory "can\'t run policy ... during preview" '
        "diagnostic instead; findings from known values stand.",
        "- **In an update** (`pulumi up`, not a preview): an unknown value in an input a rule "
        "needs is a violation of that rule, at the rule's enforcement level (\"X is unknown "
        'outside a preview"), so a literal value equal to the sentinel cannot downgrade a '
        "mandatory rule.",
        "- Names read only for messages (container, statement, volume names) are never "
        "tracked as unknown, in either mode.",
        "- A value of a shape a rule cannot read (a list where an object is expected, an "
        "object inside a string list, a non-finite number) is a finding of that rule on the "
        'resource: "cannot read X as Y"; no rule raises. Equivalent spellings count the same: '
        'booleans and numbers as strings (`"true"`, `"30"`), protocols in any case, '
        "Kubernetes quantities with suffixes and exponents (`1000m`, `0.001k`), tags as a "
        "map or a list of `{key, value}` objects, a policy document as JSON text or an "
        "object, and IAM breadth decided by wildcard matching, not string equality.",
        "",
        "## Rules",
        "",
        "| ID | name | severity | dev | test | prod | references | catalog | fix |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rule in rules.ALL_RULES:
        levels = " | ".join(enforcement_for(rule.severity, e) for e in ENVIRONMENTS)
        refs = "; ".join(str(c) for c in rule.parsed_controls)
        rows = ", ".join(str(r) for r in rule.catalog)
        out.append(
            f"| {rule.id} | `{rule.name}` | {rule.severity.value} | {levels} | {_cell(refs)} | "
            f"{rows} | {_cell(rule.description)} Fix: `{_cell(rule.remediation)}` |"
        )
    out += [
        "",
        "## Settings per environment",
        "",
        "Set in `policy/config/<env>.json` under the rule's name; defaults come from the "
        "rule's config schema (the CLI fills them in). `python -m scripts.policy_docs` writes "
        "the settings that restate an environment's configuration from that configuration, "
        "so a profile or stack change reaches the pack, and the policy choices no "
        "configuration key holds from its own table; it keeps what else a file sets.",
        "",
        "| rule | setting | default | dev | test | prod | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in rules.ALL_RULES:
        for key, schema in rule.config.items():
            values = " | ".join(
                f"`{json.dumps(_setting(configs, e, rule, key))}`" for e in ENVIRONMENTS
            )
            meaning = str(schema.get("description", "")) + _origin(mirrored, rule.name, key)
            out.append(
                f"| `{rule.name}` | `{key}` | `{json.dumps(schema.get('default'))}` | {values} "
                f"| {_cell(meaning)} |"
            )
    out += [
        "",
        "## Exemptions",
        "",
        "Every rule takes an `exemptions` list in its config. An exemption names the rule "
        "(the key it sits under, optionally repeated as `rule`), a URN pattern (fnmatch), "
        "an owner, a reason and an expiry date; while valid it suppresses matching findings "
        "and the runner shows them as exempted with the reason (SARIF: a suppression). After "
        "the expiry day the finding is back and the expired exemption is itself a violation: "
        "of the rule, on each resource it matches; or, when it matches no resource any more, "
        "of `exemptions-valid` (EXM-001), once per stack.",
        "",
        "An exemption is rejected (suppresses nothing) when its URN "
        "pattern is not specific (it must end in `::<type>::<name>` with a literal resource "
        "type and a name that is not only wildcards; a bare `*` is refused) or when it expires "
        "more than `maxExemptionDays` ahead of today (default 90; critical rules in prod: 30, "
        "written into `policy/config/prod.json` by this generator). For a resource rule the "
        "rejection is a violation of `exemptions-valid` (one stack policy that audits every "
        "resource rule's config, so the pack does not run each resource rule again per stack; "
        "the message starts with the rule's name, and the enforcement is that of "
        "`exemptions-valid`: high, advisory in dev, mandatory in test and prod); for a stack rule "
        "it is a violation of the rule itself.",
        "",
        "A setting a rule does not define (a typo such as `budgetGPUs`) is an error: the "
        "offline runner rejects the config file (exit code 2), and under the Pulumi CLI the "
        "pack reports it as a violation (of `exemptions-valid` for a resource rule, of the "
        "rule itself for a stack rule).",
        "",
        "```json",
        '"ecr-immutable-tags": {',
        '  "exemptions": [',
        '    {"urn": "urn:pulumi:dev::mlops::*aws:ecr/repository:Repository::legacy-images",',
        '     "owner": "ml-platform-team",',
        '     "reason": "third-party chart pushes :stable", "expires": "2026-12-31"}',
        "  ]",
        "}",
        "```",
        "",
        "## Catalog coverage and limits",
        "",
        "Rows of the policy catalog (rows 1-70) and the rules implementing them. What a rule "
        "cannot see from resource inputs is said here rather than guessed.",
        "",
        "| row | rules | cannot be checked from inputs |",
        "|---|---|---|",
    ]
    for row, implementing in rules.coverage().items():
        ids = ", ".join(r.id for r in implementing) or "none"
        limits = " ".join(r.limits for r in implementing if r.limits)
        if not implementing:
            limits = rules.NOT_CHECKED.get(row, "not implemented")
        out.append(f"| {row} | {ids} | {_cell(limits) or '—'} |")
    return "\n".join(out) + "\n"


def outputs() -> dict[Path, str]:
    """Every generated file and its expected content."""
    environments = {env: effective_config(env) for env in ENVIRONMENTS}
    files = {config_file(env): render_config(env, environments[env]) for env in ENVIRONMENTS}
    files[REFERENCE] = render_reference(environments)
    return files


def main(argv: list[str] | None = None) -> int:
    """Write (or, with --check, verify) the generated files."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.policy_docs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--check", action="store_true", help="fail when a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(REPO_ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(
            "stale (run python -m scripts.policy_docs): " + ", ".join(map(str, stale)),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
