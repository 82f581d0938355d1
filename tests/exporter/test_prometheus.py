"""The exporter scraped by a real Prometheus: rates agree with the source, the dashboard works."""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.exporter.exporter_thread import TapStore, exporter_thread
from tests.prom_server import needs_prometheus, prometheus
from vmexit_tui.exporter.sources import plan

pytestmark = needs_prometheus

DASHBOARD = Path(__file__).parents[2] / "contrib" / "grafana" / "vmexit-tui.json"
VM = "simulated-gp-rt-bind"
WINDOW = 6.0


@pytest.fixture(scope="module")
def scraped():
    """The demo exporter (0.5 s intervals) scraped every second by Prometheus."""
    source = plan("demo", interval_s=0.5)
    store = TapStore(source.mode, source.why)
    with exporter_thread(source, store=store) as exp, prometheus([f"127.0.0.1:{exp.port}"]) as prom:
        prom.wait_for_samples(f'kvm_vmexits_total{{vm="{VM}"}}', 9)
        yield exp, prom, store


def _source_counts(store: TapStore, since: float, until: float) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for t, key, obs in store.taps:
        if since < t <= until and store.label_of(key) == VM:
            for o in obs:
                out[o.reason] += o.count
    return out


def test_rate_by_reason_agrees_with_what_the_source_counted(scraped):
    _exp, prom, store = scraped
    at = time.time() - 1.5  # a moment Prometheus has certainly scraped past
    data = prom.query(
        f'sum by (reason) (rate(kvm_vmexits_total{{vm="{VM}"}}[{WINDOW:.0f}s]))', at=at
    )
    rates = {r["metric"]["reason"]: float(r["value"][1]) for r in data["result"]}
    counted = _source_counts(store, at - WINDOW, at)
    busy = {reason: n for reason, n in counted.items() if n >= 300}
    assert len(busy) >= 2, counted
    for reason, n in busy.items():
        expected = n / WINDOW
        assert rates[reason] == pytest.approx(expected, rel=0.25), (reason, rates, counted)
    # a reason the source never counted has no rate either
    assert set(rates) <= set(_source_counts(store, 0, time.time()))


def test_every_stored_sample_is_a_total_the_source_reached(scraped):
    _exp, prom, store = scraped
    data = prom.query(f'kvm_vmexits_total{{vm="{VM}"}}[30s]')
    running: dict[str, int] = defaultdict(int)
    reached: dict[str, set[int]] = defaultdict(set)
    for _t, key, obs in list(store.taps):
        if store.label_of(key) == VM:
            for o in obs:
                running[o.reason] += o.count
                reached[o.reason].add(running[o.reason])
    assert data["result"]
    for series in data["result"]:
        reason = series["metric"]["reason"]
        values = [int(float(v)) for _ts, v in series["values"]]
        assert values == sorted(values), f"{reason} went backwards: {values}"
        assert set(values) <= reached[reason], (reason, values)


def test_histogram_count_equals_counter_total(scraped):
    _exp, prom, _store = scraped
    data = prom.query(
        "sum by (vm) (kvm_vmexit_handling_seconds_count) - sum by (vm) (kvm_vmexits_total)"
    )
    assert len(data["result"]) == 4
    assert all(float(r["value"][1]) == 0 for r in data["result"])
    counts = prom.query("sum(kvm_vmexit_handling_seconds_count)")["result"]
    assert float(counts[0]["value"][1]) > 0


def dashboard_exprs() -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and template variable of the dashboard."""
    dash = json.loads(DASHBOARD.read_text())
    found = []
    for panel in dash["panels"]:
        for target in panel["targets"]:
            found.append((f"panel {panel['title']!r} {target['refId']}", target["expr"]))
    for var in dash["templating"]["list"]:
        query = var.get("query")
        if isinstance(query, dict):
            m = re.fullmatch(r"label_values\((.*), *(\w+)\)", query["query"])
            assert m, f"variable {var['name']}: unexpected query {query['query']!r}"
            found.append((f"variable {var['name']}", m.group(1)))
    return found


def grafana_to_promql(expr: str) -> str:
    """Grafana's variables replaced as Grafana would (all hosts and VMs)."""
    for name, value in {
        "$__rate_interval": "10s",
        "$__interval": "5s",
        "$__range": "1m",
        "$instance": ".*",
        "$vm": ".*",
    }.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unreplaced Grafana variable in {expr}"
    return expr


# Expressions allowed to come back empty on a healthy demo exporter: none.
MAY_BE_EMPTY: tuple[str, ...] = ()


def test_every_dashboard_expression_runs_and_the_key_ones_return_data(scraped):
    _exp, prom, _store = scraped
    exprs = dashboard_exprs()
    assert len(exprs) >= 10
    empty = []
    for where, expr in exprs:
        result = prom.query(grafana_to_promql(expr))["result"]
        if not result and not any(m in expr for m in MAY_BE_EMPTY):
            empty.append(where)
    assert not empty, f"no data for: {empty}"


def test_dashboard_heatmap_and_pinning_panels_show_the_demo(scraped):
    _exp, prom, _store = scraped
    by_title = {w: e for w, e in dashboard_exprs()}
    heat = next(e for w, e in by_title.items() if "heatmap" in w)
    les = {r["metric"]["le"] for r in prom.query(grafana_to_promql(heat))["result"]}
    assert "+Inf" in les and len(les) >= 5
    pins = next(e for w, e in by_title.items() if "pinning" in w)
    rows = prom.query(grafana_to_promql(pins))["result"]
    assert {r["metric"]["pinning"] for r in rows} == {"bind", "raw"}
    assert {r["metric"]["vm"] for r in rows} >= {VM}


def test_host_rt_configuration_is_exported_from_the_audit(scraped):
    _exp, prom, _store = scraped
    rows = prom.query("kvm_host_rt_check_info")["result"]
    checks = {r["metric"]["check"]: r["metric"] for r in rows}
    assert "cmdline.isolcpus" in checks and "mm.transparent_hugepage" in checks
    assert all(r["metric"]["usual_for_rt"] for r in rows)
