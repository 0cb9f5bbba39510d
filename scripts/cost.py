"""Monthly cost of a stack, estimated from its offline preview, before it exists.

    python -m scripts.cost --stack dev                  # table per family and per component
    python -m scripts.cost --stack prod --format json   # idle and peak totals, every line
    python -m scripts.cost --stack prod --live-prices   # EC2/RDS rates from the AWS Price List API

The real program runs under the mock runtime (as ``scripts.preview`` does) and every
registered resource that AWS bills is priced: EKS control plane, NAT gateways (and their public
IPv4 addresses), interface endpoints, system nodes, GPU pools (at their minimum for ``idle``,
at their maximum for ``peak``), RDS, S3, CloudWatch Logs, ECR, KMS keys, EBS volumes claimed
by the metrics stack, and load balancers. Rates come from the dated table in
``scripts/prices/<region>.json``; usage-priced families (GB stored, processed, ingested) take
the per-environment volumes stated in ``scripts/prices/usage.json``. With ``--live-prices``
the EC2 and RDS instance rates are asked of the AWS Price List API (``pricing`` client,
``GetProducts``; ``AWS_ENDPOINT_URL`` is honoured); any rate it cannot give falls back to the
table, and each line says where its rate came from.

Exit codes: 0 estimate printed; 2 bad input (unknown stack, bad configuration, a resource the
price table has no rate for, an unwritable output file); 3 the program failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_platform.config import ConfigError

from scripts.cli import EXIT_ERROR, EXIT_INPUT, EXIT_OK, command_parser
from scripts.cost_estimate import (
    EBS,
    ECR,
    EKS,
    ENDPOINTS,
    FAMILIES,
    GPU_POOLS,
    KMS,
    LOAD_BALANCERS,
    LOGS,
    NAT,
    RDS,
    S3,
    SYSTEM_NODES,
    estimate,
    instance_names,
    owning_component,
    region_of,
)
from scripts.cost_prices import (
    CostError,
    PriceTable,
    display_path,
    fetch_live_prices,
    pricing_client,
)
from scripts.offline import Recording, StackFileError, synthesize
from scripts.offline.project import REPO_ROOT

__all__ = [
    "EBS",
    "ECR",
    "EKS",
    "ENDPOINTS",
    "FAMILIES",
    "GPU_POOLS",
    "KMS",
    "LOAD_BALANCERS",
    "LOGS",
    "NAT",
    "RDS",
    "S3",
    "SYSTEM_NODES",
    "CostError",
    "PriceTable",
    "estimate",
    "main",
    "owning_component",
    "render_table",
]

EXIT_PROGRAM = EXIT_ERROR
"""The estimate itself failed (a bug; ``--debug`` shows the traceback)."""


def _money(value: float) -> str:
    return f"${value:,.2f}"


def render_table(doc: Mapping[str, Any]) -> str:
    """Totals, then per family, per component, and every line."""
    from scripts.aws_session import table  # noqa: PLC0415

    out = [
        f"Monthly cost estimate of stack '{doc['stack']}' ({doc['region']}, "
        f"prices {doc['prices']['retrieved']} from {doc['prices']['table']}"
        + (f", {len(doc['prices']['live'])} live" if doc["prices"]["live"] else "")
        + ")",
        "",
        f"Idle (pools at minimum): {_money(doc['totals']['idle'])}/month",
        f"Peak (pools at maximum): {_money(doc['totals']['peak'])}/month",
    ]
    if doc.get("target"):
        verdict = "met" if doc["target"]["met"] else "MISSED"
        out.append(f"Idle target: at most {_money(doc['target']['idleMax'])} ({verdict})")
    for title, key in (("By family", "byFamily"), ("By component", "byComponent")):
        rows = [[k, _money(v["idle"]), _money(v["peak"])] for k, v in doc[key].items()]
        out += ["", f"{title}:", table([title.split()[-1], "idle", "peak"], rows)]
    rows = [
        [
            line["family"],
            line["resource"],
            line["detail"],
            _money(line["idle"]),
            _money(line["peak"]),
            line["priceSource"],
        ]
        for line in doc["lines"]
    ]
    out += ["", "Lines:", table(["family", "resource", "detail", "idle", "peak", "rate"], rows)]
    out += ["", "Assumptions:"]
    out += [f"  {k}: {json.dumps(v)}" for k, v in doc["assumptions"].items()]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = command_parser("scripts.cost", __doc__, stack="stack to estimate")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--output", type=Path, help="write here instead of stdout")
    parser.add_argument(
        "--live-prices",
        action="store_true",
        help="ask the AWS Price List API for EC2/RDS instance rates (table as fallback)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    args = parser.parse_args(argv)
    try:
        recording = synthesize(args.stack, REPO_ROOT, args.stack_file)
        doc = _estimate_with_prices(recording, live=args.live_prices)
        text = (
            json.dumps(doc, indent=2, sort_keys=True) + "\n"
            if args.format == "json"
            else render_table(doc) + "\n"
        )
        if args.output is None:
            sys.stdout.write(text)
        else:
            try:
                args.output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CostError(f"cannot write {args.output}: {exc.strerror}") from None
    except (ConfigError, StackFileError, CostError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"error: the estimate failed: {type(exc).__name__}: {exc}\n"
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_PROGRAM
    return EXIT_OK


def _estimate_with_prices(recording: Recording, *, live: bool) -> dict[str, Any]:
    prices = PriceTable.load(region_of(recording))
    if live:
        from scripts.aws_session import describe_aws_error  # noqa: PLC0415

        ec2, rds = instance_names(recording)
        try:
            found, warnings = fetch_live_prices(pricing_client(), prices.region, ec2, rds)
        except Exception as exc:
            reason = describe_aws_error(exc) or f"{type(exc).__name__}: {exc}"
            found, warnings = {}, [f"live prices unavailable ({reason})"]
        prices.live = found
        for warning in warnings:
            print(f"warning: {warning}; using {display_path(prices.path)}", file=sys.stderr)
    return estimate(recording, prices)


if __name__ == "__main__":
    sys.exit(main())
