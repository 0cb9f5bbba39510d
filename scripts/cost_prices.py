"""The rates ``scripts.cost`` prices a stack with.

* :class:`PriceTable`: one region's dated rates, ``scripts/prices/<region>.json`` (flat
  rates, EC2 and RDS instance-hours, and the sources they were read from), optionally
  overlaid by live instance rates;
* :func:`load_usage`: the usage volumes assumed per environment profile for the
  usage-priced families, ``scripts/prices/usage.json``;
* :func:`fetch_live_prices`: EC2 and RDS instance rates from the AWS Price List API
  (``pricing`` client, ``GetProducts``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.offline.project import REPO_ROOT

PRICE_DIR = Path(__file__).resolve().parent / "prices"
USAGE_FILE = PRICE_DIR / "usage.json"
PRICING_API_REGION = "us-east-1"
"""The Price List API answers from a few regions only; us-east-1 is one of them."""


class CostError(Exception):
    """Input the estimate cannot price; the message names it and what is allowed."""


def display_path(path: Path) -> str:
    """``path`` as messages and reports show it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


@dataclass
class PriceTable:
    """One region's dated rates, optionally overlaid by live instance rates."""

    path: Path
    region: str
    retrieved: str
    hours_per_month: float
    rates: dict[str, float]
    ec2: dict[str, float]
    rds: dict[str, float]
    sources: dict[str, str]
    live: dict[str, float] = field(default_factory=dict)
    """Rates fetched from the Price List API, keyed ``ec2:<type>`` / ``rds:<class>``."""

    @classmethod
    def load(cls, region: str, directory: Path = PRICE_DIR) -> PriceTable:
        """The table for ``region``; a clear error names the regions that have one."""
        path = directory / f"{region}.json"
        if not path.is_file():
            have = sorted(p.stem for p in directory.glob("*.json") if p.name != USAGE_FILE.name)
            raise CostError(
                f"no price table for region {region!r} (aws:region of the stack); tables "
                f"exist for: {', '.join(have)}. Add {display_path(path)} or use --live-prices"
            )
        doc = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            path=path,
            region=doc["region"],
            retrieved=doc["retrieved"],
            hours_per_month=float(doc["hoursPerMonth"]),
            rates={k: float(v["usd"]) for k, v in doc["rates"].items()},
            ec2={k: float(v) for k, v in doc["ec2InstanceHour"]["usd"].items()},
            rds={k: float(v) for k, v in doc["rdsPostgresInstanceHour"]["usd"].items()},
            sources=dict(doc["sources"]),
        )

    def rate(self, name: str) -> float:
        """A flat rate of the table (always present: the table file defines them)."""
        return self.rates[name]

    def _instance(self, kind: str, table: Mapping[str, float], name: str) -> tuple[float, str]:
        live = self.live.get(f"{kind}:{name}")
        if live is not None:
            return live, "live"
        if name not in table:
            raise CostError(
                f"no {kind.upper()} price for {name!r} in {display_path(self.path)} "
                f"(retrieved {self.retrieved}); priced types: {', '.join(sorted(table))}. "
                "Add it to the table or use --live-prices"
            )
        return table[name], f"table {self.retrieved}"

    def ec2_hour(self, instance_type: str) -> tuple[float, str]:
        """On-demand Linux hourly rate of an EC2 instance type, and where it came from."""
        return self._instance("ec2", self.ec2, instance_type)

    def rds_hour(self, instance_class: str) -> tuple[float, str]:
        """Single-AZ PostgreSQL hourly rate of an RDS instance class, and where it came from."""
        return self._instance("rds", self.rds, instance_class)


def load_usage(profile: str, path: Path = USAGE_FILE) -> dict[str, Any]:
    """The usage volumes stated for an environment profile."""
    profiles = json.loads(path.read_text(encoding="utf-8"))["profiles"]
    if profile not in profiles:
        raise CostError(
            f"no usage assumptions for profile {profile!r} in {display_path(path)}; "
            f"profiles: {', '.join(sorted(profiles))}"
        )
    return dict(profiles[profile])


def _on_demand_usd(item: Any) -> float | None:
    product = json.loads(item) if isinstance(item, str) else item
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None and float(usd) > 0:
                return float(usd)
    return None


def _filters(pairs: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in pairs.items()]


def fetch_live_prices(
    client: Any, region: str, ec2_types: Iterable[str], rds_classes: Iterable[str]
) -> tuple[dict[str, float], list[str]]:
    """Hourly rates from the Price List API (``GetProducts``), and one warning per miss."""
    found: dict[str, float] = {}
    warnings: list[str] = []
    queries: list[tuple[str, str, str, dict[str, str]]] = [
        (
            "ec2",
            name,
            "AmazonEC2",
            {
                "instanceType": name,
                "regionCode": region,
                "operatingSystem": "Linux",
                "tenancy": "Shared",
                "preInstalledSw": "NA",
                "capacitystatus": "Used",
                "licenseModel": "No License required",
            },
        )
        for name in sorted(set(ec2_types))
    ]
    queries += [
        (
            "rds",
            name,
            "AmazonRDS",
            {
                "instanceType": name,
                "regionCode": region,
                "databaseEngine": "PostgreSQL",
                "deploymentOption": "Single-AZ",
            },
        )
        for name in sorted(set(rds_classes))
    ]
    for kind, name, service, pairs in queries:
        response = client.get_products(
            ServiceCode=service, Filters=_filters(pairs), FormatVersion="aws_v1", MaxResults=10
        )
        prices = [p for p in map(_on_demand_usd, response.get("PriceList", [])) if p]
        if prices:
            found[f"{kind}:{name}"] = prices[0]
        else:
            warnings.append(f"the Price List API has no on-demand {service} price for {name}")
    return found, warnings


def pricing_client() -> Any:
    """A Price List API client (standard AWS environment, ``AWS_ENDPOINT_URL`` honoured)."""
    from scripts.aws_session import Aws  # noqa: PLC0415

    return Aws(region=PRICING_API_REGION).client("pricing")
