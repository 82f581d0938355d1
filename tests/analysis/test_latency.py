"""Latency per interval, spikes and their ranked exit associations."""

from __future__ import annotations

import pytest

from vmexit_tui.analysis.latency import (
    ASSOCIATION_LABEL,
    LatencySummary,
    LatencyTracker,
    associate,
    percentile,
    summarize,
)
from vmexit_tui.analysis.model import EventKind, ExitStat, Report
from vmexit_tui.formats.cyclictest import ThreadStatus, ThreadSummary


def st(thread: int, cycles: int, act: int, mx: int, avg: int = 3) -> ThreadStatus:
    return ThreadStatus(thread, 100 + thread, 95, 1000, cycles, 2, act, avg, mx)


def test_interval_figures_and_fixed_threshold() -> None:
    tr = LatencyTracker(spike_us=20)
    tr.add(st(0, 10, act=3, mx=5), 0.1)
    tr.add(st(0, 20, act=7, mx=5), 0.5)
    tr.add(st(1, 10, act=4, mx=4), 0.5)
    first = tr.take(0, 1)
    assert first.threads[0].max_us == 7 and first.threads[0].avg_us == 5.0
    assert first.threads[0].samples == 2 and first.spikes == ()
    # Max rose to 40 between two prints, though the last Act was only 4: a spike of 40.
    tr.add(st(0, 30, act=4, mx=40), 1.2)
    tr.add(st(0, 30, act=4, mx=40), 1.3)  # the same figures again: no new sample
    second = tr.take(1, 2)
    assert second.threads[0].max_us == 40 and second.threads[0].samples == 1
    assert [(s.thread, s.latency_us, s.time) for s in second.spikes] == [(0, 40, 1.2)]
    assert 1 not in second.threads  # thread 1 printed nothing in this interval
    assert tr.worst_us == 40


def test_default_threshold_waits_for_enough_samples() -> None:
    tr = LatencyTracker(min_samples=100)
    for i in range(99):
        tr.add(st(0, i + 1, act=10, mx=10), i * 0.01)
    assert tr.threshold() is None
    tr.add(st(0, 100, act=500, mx=500), 1.0)  # no threshold yet: not a spike
    tr.add(st(0, 101, act=11, mx=500), 1.01)
    assert tr.threshold() == 500  # p99.9 of 101 samples: the highest one
    tr.add(st(0, 102, act=600, mx=600), 1.02)
    assert [s.latency_us for s in tr.take(0, 2).spikes] == [600]


def test_percentile() -> None:
    assert percentile({1: 998, 50: 1, 90: 1}, 0.999) == 50
    assert percentile({}, 0.5) is None


def _report(rows: dict[str, tuple[int, float]]) -> Report:
    return Report(
        EventKind.VMEXIT,
        tuple(ExitStat(r, n, mean_us=m) for r, (n, m) in rows.items()),
    )


def test_associate_ranks_rises_only() -> None:
    before = [
        _report({"HLT": (100, 50.0), "EXTERNAL_INTERRUPT": (10, 2.0), "MSR_WRITE": (50, 1.0)})
    ]
    during = _report({"HLT": (50, 500.0), "EXTERNAL_INTERRUPT": (40, 2.0), "MSR_WRITE": (5, 1.0)})
    ranked = associate(during, before, duration=1.0, before_duration=2.0)
    assert [a.reason for a in ranked] == ["HLT", "EXTERNAL_INTERRUPT"]
    assert ranked[0].mean_before_us == 50.0 and ranked[0].mean_during_us == 500.0
    assert ranked[1].rate_before == 5.0 and ranked[1].rate_during == 40.0
    assert "not a cause" in ASSOCIATION_LABEL


def test_summary_round_trip_and_histogram_p999() -> None:
    threads = (
        ThreadSummary(0, cpu=1, cycles=1000, min_us=2, avg_us=3.5, max_us=90,
                      histogram={3: 998, 40: 1, 90: 1}, overflows=0),
    )  # fmt: skip
    summary = summarize(threads, None, source="x")
    assert (summary.p999_us, summary.p999_source) == (40, "histogram")
    again = LatencySummary.from_json(summary.to_json())
    assert again.threads == summary.threads and again.p999_us == 40
    assert again.max_us == 90 and again.avg_us == pytest.approx(3.5)


def test_spike_linker_waits_for_its_exit_interval() -> None:
    from vmexit_tui.analysis.latency import SpikeLinker, describe_spike
    from vmexit_tui.analysis.running import Interval

    tr = LatencyTracker(spike_us=20)
    linker = SpikeLinker(tr)
    calm = _report({"HLT": (100, 50.0), "MSR_WRITE": (50, 1.0)})
    stormy = _report({"HLT": (100, 400.0), "MSR_WRITE": (50, 1.0)})
    for k in range(3):
        linker.add_exit_interval(Interval(k, 100.0 + k, 101.0 + k, {EventKind.VMEXIT: calm}))
    tr.add(st(0, 10, act=90, mx=90), 103.5)
    spikes = tr.take(103, 104).spikes
    assert linker.add_spikes(spikes) == []  # its exit interval has not arrived yet
    done = linker.add_exit_interval(Interval(3, 103.0, 104.0, {EventKind.VMEXIT: stormy}))
    assert [a.reason for a in done[0].associated] == ["HLT"]
    assert tr.spikes[0].associated == done[0].associated and linker.pending == []
    text = describe_spike(done[0])
    assert "90 µs on thread 0" in text and "HLT mean 50.0→400.0 µs" in text
    assert "not a cause" in text
