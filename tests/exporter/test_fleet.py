"""The fleet core: URLs checked, /metrics parsed, rates per host and guest, bad hosts kept."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from vmexit_tui.exporter.fleet import (
    FleetInputError,
    FleetTracker,
    HostError,
    normalize_url,
    parse_metrics,
    read_targets,
)
from vmexit_tui.exporter.service import build_registry
from vmexit_tui.exporter.store import MetricStore, Observation
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo


def test_urls_from_arguments_and_a_file(tmp_path):
    f = tmp_path / "fleet.txt"
    f.write_text("# lab hosts\nhost-a:9977\n\nhttps://host-b:9443/metrics  # TLS\nhost-a:9977\n")
    assert read_targets(["127.0.0.1:1"], [str(f)]) == [
        "http://127.0.0.1:1/metrics",
        "http://host-a:9977/metrics",
        "https://host-b:9443/metrics",
    ]


def test_bad_urls_name_file_and_line(tmp_path):
    f = tmp_path / "fleet.txt"
    f.write_text("host-a:9977\nftp://nope/metrics\n")
    with pytest.raises(FleetInputError, match=r"fleet.txt:2: expected an exporter URL"):
        read_targets([], [str(f)])
    with pytest.raises(FleetInputError, match="bad port"):
        normalize_url("host:99999")
    with pytest.raises(FleetInputError, match="cannot read the fleet file"):
        read_targets([], [str(tmp_path / "missing.txt")])
    with pytest.raises(FleetInputError, match="at least one"):
        read_targets([], [])


def exposition(counts: dict[str, int], pid: int = 7) -> str:
    store = MetricStore("demo")
    guest = VmInfo(pid, "web", "qemu", float(pid), None, 0, (VCpu(0, 8, (1,)),), Pinning.BIND)
    key = store.upsert_vm(guest, "svm")
    store.add(key, [Observation("0", r, n, n * 2.0, {2.0: n}) for r, n in counts.items()])
    return generate_latest(build_registry(store)).decode()


def test_parse_metrics_of_our_exporter():
    sample = parse_metrics(exposition({"HLT": 30, "NPF": 10}))
    assert sample.mode == "demo"
    g = sample.guests["web"]
    assert g.exits == {"HLT": 30, "NPF": 10} and g.pinning == "bind" and g.pid == "7"
    assert g.seconds["HLT"] == pytest.approx(60e-6)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('kvm_vmexits_total{vm="a" 3\n', "malformed /metrics: "),
        ("<html><body>login</body></html>\n", "malformed /metrics: "),
        ("node_load1 0.5\n", "not a vmexit-tui exporter"),
    ],
)
def test_malformed_or_foreign_metrics_are_one_line(text, says):
    with pytest.raises(HostError) as err:
        parse_metrics(text)
    assert str(err.value).startswith(says) and "\n" not in str(err.value)


def test_rates_top_reason_and_an_unreachable_host_kept():
    texts = {
        "http://a:1/metrics": [
            exposition({"HLT": 30, "NPF": 10}),
            exposition({"HLT": 90, "NPF": 30}),
        ],
        "http://b:1/metrics": [exposition({"HLT": 5}), HostError("unreachable: refused")],
    }
    tracker = FleetTracker(texts)
    clock = iter([100.0, 100.0, 100.0, 102.0, 102.0, 102.0])
    texts = dict(texts)

    def fetcher(url):
        item = texts[url].pop(0)
        if isinstance(item, HostError):
            raise item
        return item

    first = tracker.poll(fetcher, lambda: next(clock))
    row_a = first.row("a:1\x00web")
    assert row_a.exits_per_s is None  # one sample: no rate yet
    assert row_a.top_reason == "HLT" and row_a.top_share == pytest.approx(0.75)
    second = tracker.poll(fetcher, lambda: next(clock))
    row_a = second.row("a:1\x00web")
    assert row_a.exits_per_s == pytest.approx((60 + 20) / 2)
    assert row_a.top_share == pytest.approx(0.75) and row_a.error is None
    assert {r.reason: r.rate for r in row_a.reasons} == {"HLT": 30.0, "NPF": 10.0}
    row_b = second.row("b:1\x00web")
    assert row_b.error == "unreachable: refused" and row_b.vm == "web"  # kept, marked


def test_a_new_pid_is_a_reset_not_a_negative_rate():
    tracker = FleetTracker(["http://a:1/metrics"])
    tracker.record("http://a:1/metrics", parse_metrics(exposition({"HLT": 50}, pid=7)), 1.0)
    tracker.record("http://a:1/metrics", parse_metrics(exposition({"HLT": 5}, pid=9)), 2.0)
    (row,) = tracker.view(2.0).rows
    assert row.exits_per_s is None and row.pid == "9"


def test_a_host_never_reached_is_a_row_of_its_own():
    tracker = FleetTracker(["http://gone:1/metrics"])
    tracker.record("http://gone:1/metrics", HostError("unreachable: refused"), 1.0)
    (row,) = tracker.view(1.0).rows
    assert row.vm is None and row.error == "unreachable: refused"


def test_rate_spans_the_window_not_just_the_last_poll():
    url = "http://a:1/metrics"
    tracker = FleetTracker([url], window_s=10.0)
    # ticks of an exporter: 0 exits at t=0, 100 at t=1, still 100 at t=2 (no tick between)
    for t, n in ((0.0, 1), (1.0, 100), (2.0, 100)):
        tracker.record(url, parse_metrics(exposition({"HLT": n})), t)
    (row,) = tracker.view(2.0).rows
    assert row.exits_per_s == pytest.approx((100 - 1) / 2.0)  # not 0 from the last two polls
    for t in (11.5, 12.0):
        tracker.record(url, parse_metrics(exposition({"HLT": 200})), t)
    (row,) = tracker.view(12.0).rows
    assert row.exits_per_s == pytest.approx((200 - 100) / (12.0 - 2.0))  # old samples dropped


def test_an_idle_guest_shows_its_top_reason_of_all_exits_so_far():
    url = "http://a:1/metrics"
    tracker = FleetTracker([url])
    for t in (1.0, 2.0):
        tracker.record(url, parse_metrics(exposition({"HLT": 30, "NPF": 10})), t)
    (row,) = tracker.view(2.0).rows
    assert row.exits_per_s == 0.0
    assert row.top_reason == "HLT" and row.top_share == pytest.approx(0.75)
