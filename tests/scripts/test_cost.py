"""scripts.cost: monthly estimates from the real stacks' offline previews.

Figures below are recomputed by hand from scripts/prices/us-east-1.json and
scripts/prices/usage.json, so a change to either shows up here as a named difference.
Live prices are fetched from a local Price List API stand-in on 127.0.0.1 (moto does not
implement the ``pricing`` service).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from scripts import cost
from scripts.offline import Recording

HOURS = 730


@pytest.fixture(scope="module")
def prices() -> cost.PriceTable:
    return cost.PriceTable.load("us-east-1")


def _lines(doc: dict[str, Any], family: str) -> list[dict[str, Any]]:
    return [line for line in doc["lines"] if line["family"] == family]


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_every_family_is_reported_and_idle_never_exceeds_peak(stack, synthesized, prices):
    doc = cost.estimate(synthesized(stack), prices)
    assert list(doc["byFamily"]) == list(cost.FAMILIES)
    assert 0 < doc["totals"]["idle"] <= doc["totals"]["peak"]
    # Totals and subtotals are each rounded to the cent: they agree within a cent per part.
    families, components = doc["byFamily"].values(), doc["byComponent"].values()
    assert doc["totals"]["idle"] == pytest.approx(
        sum(v["idle"] for v in families), abs=0.01 * len(families)
    )
    assert doc["totals"]["peak"] == pytest.approx(
        sum(v["peak"] for v in components), abs=0.01 * len(components)
    )
    for line in doc["lines"]:
        assert line["idle"] <= line["peak"], line
        assert line["component"].split()[0] not in {"Stack", "MlopsPlatform"}, line
    assert doc["prices"]["retrieved"] == prices.retrieved
    assert doc["assumptions"]["usage"]["natGbProcessed"] > 0


def test_dev_lines_match_the_table_by_hand(synthesized, prices):
    doc = cost.estimate(synthesized("dev"), prices)
    assert doc["byFamily"][cost.EKS] == {"idle": 73.0, "peak": 73.0}
    (nat,) = _lines(doc, cost.NAT)
    assert nat["idle"] == pytest.approx((0.045 + 0.005) * HOURS + 50 * 0.045, abs=0.01)
    assert _lines(doc, cost.ENDPOINTS) == []  # dev: S3 gateway endpoint only (free)
    (system,) = _lines(doc, cost.SYSTEM_NODES)
    per_node = 0.1008 * HOURS + 50 * 0.08
    assert system["idle"] == pytest.approx(1 * per_node, abs=0.01)  # dev runs one
    assert system["peak"] == pytest.approx(3 * per_node, abs=0.01)
    # Both dev GPU pools scale from zero: nothing at idle, two g5.xlarge each at peak
    # (the priciest listed type; 200 GiB gp3 root with 250 MB/s).
    gpu_node = 1.006 * HOURS + 200 * 0.08 + 125 * 0.04
    for pool in _lines(doc, cost.GPU_POOLS):
        assert pool["idle"] == 0
        assert pool["peak"] == pytest.approx(2 * gpu_node, abs=0.01)
        assert "spot, priced on-demand" in pool["detail"]
    (rds,) = _lines(doc, cost.RDS)
    assert rds["idle"] == pytest.approx(0.032 * HOURS + 20 * 0.115, abs=0.01)
    assert rds["peak"] == pytest.approx(0.032 * HOURS + 50 * 0.115, abs=0.01)


def test_prod_counts_per_az_nat_endpoints_multi_az_rds_and_a_warm_gpu_baseline(synthesized, prices):
    doc = cost.estimate(synthesized("prod"), prices)
    assert len(_lines(doc, cost.NAT)) == 3
    endpoints = _lines(doc, cost.ENDPOINTS)
    assert endpoints and all("in 3 AZs" in line["detail"] for line in endpoints)
    (rds,) = _lines(doc, cost.RDS)
    assert "Multi-AZ" in rds["detail"]
    assert rds["idle"] == pytest.approx(2 * (0.168 * HOURS + 20 * 0.115), abs=0.01)
    pools = {line["resource"]: line for line in _lines(doc, cost.GPU_POOLS)}
    serving = pools["mlops-prod-gpu-serving-node-group"]
    assert serving["idle"] == pytest.approx(2 * (1.861 * HOURS + 16 + 5), abs=0.01)
    # Karpenter training pool: GPU limit 32 -> four p4d.24xlarge (8 GPUs each) at peak.
    training = pools["mlops-prod-gpu-training-node-pool"]
    assert training["idle"] == 0
    assert training["peak"] == pytest.approx(4 * (21.957642 * HOURS + 16 + 5), abs=0.01)
    assert "0-4 x p4d.24xlarge" in training["detail"]
    assert doc["target"] is None


def test_logs_are_priced_by_ingest_and_retention(synthesized, prices):
    doc = cost.estimate(synthesized("prod"), prices)
    control = next(line for line in _lines(doc, cost.LOGS) if "cluster" in line["resource"])
    assert control["idle"] == pytest.approx(60 * 0.50 + 60 * 365 / 30 * 0.03, abs=0.01)


def test_dev_idle_meets_its_target(synthesized, prices):
    doc = cost.estimate(synthesized("dev"), prices)
    assert doc["target"] == {"idleMax": 250, "met": True}


def test_dev_target_verdict_is_computed(synthesized, prices):
    doc = cost.estimate(synthesized("dev"), prices)
    assert doc["target"]["idleMax"] == 250
    assert doc["target"]["met"] is (doc["totals"]["idle"] <= 250)


def _with_node_group_types(recording: Recording, types: list[str]) -> Recording:
    changed = [
        dataclasses.replace(r, inputs={**r.inputs, "instanceTypes": types})
        if r.type == "aws:eks/nodeGroup:NodeGroup" and "gpu" in r.name
        else r
        for r in recording.resources
    ]
    return dataclasses.replace(recording, resources=changed)


def test_an_unpriced_instance_type_is_named_with_what_is_priced(synthesized, prices):
    recording = _with_node_group_types(synthesized("dev"), ["g9.mega"])
    with pytest.raises(cost.CostError) as caught:
        cost.estimate(recording, prices)
    message = str(caught.value)
    assert "'g9.mega'" in message
    assert "scripts/prices/us-east-1.json" in message
    assert "g5.xlarge" in message and "--live-prices" in message


def test_a_region_without_a_table_names_the_regions_that_have_one():
    with pytest.raises(cost.CostError, match=r"no price table for region 'eu-west-9'.*us-east-1"):
        cost.PriceTable.load("eu-west-9")


def test_cli_table_and_json(monkeypatch, cli_synthesis, run_cli, tmp_path):
    monkeypatch.setattr(cost, "synthesize", cli_synthesis)
    code, out, _ = run_cli(cost.main, "--stack", "dev")
    assert code == cost.EXIT_OK
    assert "Idle (pools at minimum): $" in out and "Peak (pools at maximum): $" in out
    assert "By family:" in out and "By component:" in out and cost.GPU_POOLS in out
    target = tmp_path / "dev.json"
    code, _, _ = run_cli(cost.main, "--stack", "dev", "--format", "json", "--output", str(target))
    assert code == cost.EXIT_OK
    doc = json.loads(target.read_text())
    assert set(doc["totals"]) == {"idle", "peak"}


def test_cli_bad_input_exits_2_with_one_line(monkeypatch, cli_synthesis, run_cli, tmp_path):
    code, _, err = run_cli(cost.main, "--stack", "staging")
    assert code == cost.EXIT_INPUT
    assert "stacks: dev, prod, test" in err
    monkeypatch.setattr(cost, "synthesize", cli_synthesis)
    code, _, err = run_cli(cost.main, "--stack", "dev", "--output", str(tmp_path / "no" / "x"))
    assert code == cost.EXIT_INPUT
    assert "cannot write" in err


# ------------------------------------------------------------------ live prices

_LIVE = {("AmazonEC2", "g5.xlarge"): "0.5000000000", ("AmazonRDS", "db.t4g.small"): "0.0300"}


class _PriceList(BaseHTTPRequestHandler):
    """A Price List API stand-in: awsJson1_1 ``GetProducts`` with TERM_MATCH filters."""

    requests: list[dict[str, Any]] = []  # noqa: RUF012 - shared with the test on purpose

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("X-Amz-Target") != "AWSPriceListService.GetProducts":
            self._reply(400, {"__type": "UnknownOperationException"})
            return
        type(self).requests.append(body)
        fields = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
        usd = _LIVE.get((body["ServiceCode"], fields.get("instanceType", "")))
        items = []
        if usd is not None:
            product = {
                "product": {"attributes": fields, "sku": "SKU1"},
                "terms": {
                    "OnDemand": {
                        "SKU1.JRTCKXETXF": {
                            "priceDimensions": {
                                "SKU1.JRTCKXETXF.6YS6EN2CT7": {
                                    "unit": "Hrs",
                                    "pricePerUnit": {"USD": usd},
                                }
                            }
                        }
                    }
                },
            }
            items.append(json.dumps(product))
        self._reply(200, {"FormatVersion": "aws_v1", "PriceList": items})

    def _reply(self, status: int, document: dict[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def price_list_api(aws_at) -> Iterator[str]:
    """The stand-in on a free 127.0.0.1 port, with the AWS environment pointed at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PriceList)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    _PriceList.requests = []
    aws_at(url, 1)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_live_prices_overlay_the_table_and_fall_back_per_type(
    price_list_api, monkeypatch, cli_synthesis, run_cli
):
    monkeypatch.setattr(cost, "synthesize", cli_synthesis)
    code, out, err = run_cli(cost.main, "--stack", "dev", "--format", "json", "--live-prices")
    assert code == cost.EXIT_OK, err
    doc = json.loads(out)
    assert doc["prices"]["live"] == ["ec2:g5.xlarge", "rds:db.t4g.small"]
    pools = _lines(doc, cost.GPU_POOLS)
    # g5.xlarge now costs 0.50 live, so the priciest listed type is g6.xlarge from the table.
    notebooks = next(line for line in pools if "notebooks" in line["resource"])
    assert "x g6.xlarge" in notebooks["detail"] and notebooks["priceSource"].startswith("table")
    (rds,) = _lines(doc, cost.RDS)
    assert rds["priceSource"] == "live"
    assert rds["idle"] == pytest.approx(0.03 * HOURS + 20 * 0.115, abs=0.01)
    assert "no on-demand AmazonEC2 price for m7i.large" in err
    sent = {f["Field"]: f["Value"] for f in _PriceList.requests[0]["Filters"]}
    assert sent["regionCode"] == "us-east-1" and sent["operatingSystem"] == "Linux"


def test_live_prices_unreachable_fall_back_to_the_table(
    closed_endpoint, monkeypatch, cli_synthesis, run_cli
):
    monkeypatch.setattr(cost, "synthesize", cli_synthesis)
    code, out, err = run_cli(cost.main, "--stack", "dev", "--format", "json", "--live-prices")
    assert code == cost.EXIT_OK
    assert json.loads(out)["prices"]["live"] == []
    assert "live prices unavailable (cannot reach" in err
    assert "using scripts/prices/us-east-1.json" in err
