"""The offline policy runner's report: one JSON document per evaluation, rendered as a
table (people), JSON (machines) or SARIF 2.1.0 (code-scanning UIs).

The JSON report counts mandatory and advisory violations, findings not evaluable during
preview and exempted findings, lists every finding and every policy of the pack, and, for a
Terraform plan, what the pack judged and what it could not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from scripts.offline.project import REPO_ROOT
from scripts.policy_analyzer import Analyzer, Finding

REPORT_SCHEMA_VERSION = 1


def report(
    analyzer: Analyzer,
    findings: list[Finding],
    *,
    environment: str,
    stack: str,
    project: str,
    config: str,
) -> dict[str, Any]:
    """The JSON report (``mandatoryViolations`` is what the preview's exit code reads)."""
    live = [f for f in findings if f.kind != "exempted"]
    return {
        "schemaVersion": REPORT_SCHEMA_VERSION,
        "policyPack": {"name": analyzer.info.name, "version": analyzer.version},
        "project": project,
        "stack": stack,
        "environment": environment,
        "config": config,
        "mandatoryViolations": sum(1 for f in live if f.enforcement == "mandatory"),
        "advisoryViolations": sum(1 for f in live if f.enforcement == "advisory"),
        "notEvaluable": sum(1 for f in live if f.kind == "unknown"),
        "exempted": sum(1 for f in findings if f.kind == "exempted"),
        "findings": [asdict(f) for f in findings],
        "policies": [asdict(p) for p in sorted(analyzer.policies.values(), key=lambda p: p.id)],
    }


def display_path(path: Path) -> str:
    """A path as a report shows it: relative to the repository, else its file name."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path.name


def render(doc: Mapping[str, Any], output_format: str) -> str:
    """The report as ``table``, ``json`` or ``sarif`` text."""
    if output_format == "json":
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if output_format == "sarif":
        return json.dumps(render_sarif(doc), indent=2) + "\n"
    return render_table(doc) + "\n"


def render_table(doc: Mapping[str, Any]) -> str:
    """One line per rule and resource, mandatory first, then a summary."""
    terraform = doc.get("terraform")
    subject = f"Terraform plan {terraform['plan']}" if terraform else f"stack '{doc['stack']}'"
    lines = [
        f"Policy pack {doc['policyPack']['name']} {doc['policyPack']['version']} on "
        f"{subject} (environment {doc['environment']}, {doc['config']})",
        "",
    ]
    rows = [
        (
            f["enforcement"],
            f"{f['id']} {f['rule']}",
            f"{f['type'].rsplit(':', 1)[-1]} {f['resource']}".strip() or "(stack)",
            f["message"]
            + (
                f"  [exemption: {f['exemption']['reason']} — owner "
                f"{f['exemption']['owner']}, until {f['exemption']['expires']}]"
                if f.get("exemption")
                else ""
            ),
        )
        for f in doc["findings"]
    ]
    if rows:
        widths = [
            max(len(r[i]) for r in [("LEVEL", "RULE", "RESOURCE", ""), *rows]) for i in range(3)
        ]
        header = ("LEVEL", "RULE", "RESOURCE", "FINDING")
        for row in [header, *rows]:
            lines.append(
                "  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:3])) + "  " + row[3]
            )
    else:
        lines.append("No findings.")
    lines += [
        "",
        f"{doc['mandatoryViolations']} mandatory, {doc['advisoryViolations']} advisory "
        f"({doc['notEvaluable']} not evaluable during preview), {doc['exempted']} exempted",
    ]
    if terraform:
        lines += _terraform_lines(terraform)
    return "\n".join(lines)


def _terraform_lines(terraform: Mapping[str, Any]) -> list[str]:
    """The plan's coverage: resources judged, not evaluated (and why), skipped."""
    lines = [f"{terraform['evaluated']} planned resources judged by the pack"]
    missing = terraform["notEvaluated"]
    if missing:
        lines.append(f"{len(missing)} planned resources NOT evaluated by the pack:")
        lines += [f"  {m['address']}  ({m['type']}): {m['reason']}" for m in missing]
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(terraform["skipped"].items()))
    if skipped:
        lines.append(f"not judged: {skipped}")
    return lines


_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning", "exempted": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def render_sarif(doc: Mapping[str, Any]) -> dict[str, Any]:
    """SARIF 2.1.0 for code-scanning UIs: one rule per policy, one result per finding."""
    policies = list(doc["policies"])
    index = {p["name"]: i for i, p in enumerate(policies)}
    rules = [
        {
            "id": p["id"],
            "name": p["name"],
            "shortDescription": {"text": p["description"]},
            "fullDescription": {"text": p["description"]},
            "help": {"text": p["remediation"], "markdown": f"**Fix:** `{p['remediation']}`"},
            "defaultConfiguration": {"level": _SARIF_LEVEL.get(p["level"], "warning")},
            "properties": {
                "tags": ["security", *p["references"].split("; ")],
                "security-severity": _SECURITY_SEVERITY.get(p["severity"], "5.0"),
                "severity": p["severity"],
            },
        }
        for p in policies
    ]
    terraform = doc.get("terraform")
    stack_file = terraform["plan"] if terraform else f"stacks/Pulumi.{doc['stack']}.yaml"
    results = []
    for f in doc["findings"]:
        fingerprint = hashlib.sha256(f"{f['rule']}|{f['urn']}|{f['message']}".encode()).hexdigest()
        result: dict[str, Any] = {
            "ruleId": f["id"],
            "ruleIndex": index.get(f["rule"], 0),
            "level": _SARIF_LEVEL.get(f["enforcement"], "warning"),
            "message": {"text": f"{f['message']} ({f['type']} {f['resource']})".strip()},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": stack_file},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [
                        {
                            "fullyQualifiedName": (f["resource"] if terraform else f["urn"])
                            or "stack",
                            "name": f["resource"] or "stack",
                            "kind": "resource",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"mlopsPolicyFinding/v1": fingerprint},
            "properties": {"enforcement": f["enforcement"], "kind": f["kind"]},
        }
        if f.get("exemption"):
            ex = f["exemption"]
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{ex['reason']} (owner {ex['owner']}, until {ex['expires']})",
                }
            ]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": doc["policyPack"]["name"],
                        "version": doc["policyPack"]["version"],
                        "semanticVersion": doc["policyPack"]["version"],
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"policy/{doc['stack']}/"},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "warning",
                                "message": {
                                    "text": f"not evaluated: {m['address']} ({m['type']}): "
                                    f"{m['reason']}"
                                },
                                "locations": [
                                    {"logicalLocations": [{"fullyQualifiedName": m["address"]}]}
                                ],
                            }
                            for m in (terraform or {}).get("notEvaluated", [])
                        ],
                    }
                ],
                "results": results,
                "properties": {
                    "environment": doc["environment"],
                    "config": doc["config"],
                    **({"terraform": terraform} if terraform else {}),
                },
            }
        ],
    }
