"""Latency and audit in run snapshots: round trip, version 1 files still load, bad values named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vmexit_tui.analysis.latency import LatencyTracker, summarize
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import RunInfo
from vmexit_tui.formats.cyclictest import ThreadStatus, ThreadSummary
from vmexit_tui.formats.run_context_json import bounded
from vmexit_tui.formats.snapshots import SnapshotError, load_run, save_run
from vmexit_tui.host.audit import AuditCheck
from vmexit_tui.reference import seed_runs

INFO = RunInfo(label="RT-BIND", vm_name="rt-guest", started=1000.0, stopped=1003.0)
AUDIT = (
    AuditCheck("cmdline.isolcpus", "2-3", "the vCPU host CPUs", "why", "/proc/cmdline"),
    AuditCheck("vm.rt-guest.vcpu0.policy", "SCHED_FIFO 95", "SCHED_FIFO", "why", "/proc/1/stat"),
)


def _latency():
    tr = LatencyTracker(spike_us=50)
    intervals = []
    for k in range(3):
        tr.add(ThreadStatus(0, 7, 95, 1000, 100 * (k + 1), 2, 3 + 60 * (k == 1), 4, 70), 1000.5 + k)
        intervals.append(tr.take(1000.0 + k, 1001.0 + k))
    threads = [ThreadSummary(0, cycles=300, min_us=2, avg_us=4.0, max_us=70)]
    return summarize(threads, tr, skipped_lines=2, source="file: console.log"), intervals


def test_round_trip(tmp_path: Path) -> None:
    summary, intervals = _latency()
    path = save_run(
        tmp_path / "r.json", INFO, {EventKind.VMEXIT: seed_runs.load("gp-rt-bind")},
        latency=summary, latency_intervals=intervals, audit=AUDIT,
    )  # fmt: skip
    saved = load_run(path)
    assert saved.audit == AUDIT
    assert saved.latency is not None and saved.latency.threads == summary.threads
    assert [s.latency_us for s in saved.latency.spikes] == [70, 63]  # Max rose, then an Act
    assert saved.latency.skipped_lines == 2
    assert [i.threads[0].max_us for i in saved.latency_intervals] == [70, 63, 3]
    assert saved.latency_intervals[0].spikes == saved.latency.spikes[:1]


def test_version_1_snapshot_still_loads(tmp_path: Path) -> None:
    path = save_run(tmp_path / "r.json", INFO, {EventKind.VMEXIT: seed_runs.load("gp-rt-bind")})
    doc = json.loads(path.read_text())
    doc["schema_version"] = 1
    del doc["run"]["latency"], doc["run"]["audit"]
    path.write_text(json.dumps(doc))
    saved = load_run(path)
    assert saved.latency is None and saved.audit == () and saved.latency_intervals == ()


def test_bad_latency_is_named(tmp_path: Path) -> None:
    summary, intervals = _latency()
    path = save_run(tmp_path / "r.json", INFO, {}, latency=summary, latency_intervals=intervals)
    doc = json.loads(path.read_text())
    doc["run"]["latency"]["intervals"][1] = [1, 2]
    path.write_text(json.dumps(doc))
    with pytest.raises(SnapshotError, match=r"run\.latency\.intervals\[1\]: expected"):
        load_run(path)


def test_bounded_keeps_the_worst() -> None:
    _, intervals = _latency()
    merged = bounded(intervals * 3, limit=4)
    assert len(merged) <= 4
    assert max(i.threads[0].max_us for i in merged) == 70
    assert sum(i.threads[0].samples for i in merged) == 9


def test_a_comparison_snapshot_keeps_each_runs_latency_and_audit(tmp_path: Path) -> None:
    from vmexit_tui.analysis.comparison import ComparedRun, compare
    from vmexit_tui.analysis.run_context import RunContext
    from vmexit_tui.formats.run_context_json import load_contexts
    from vmexit_tui.formats.snapshots import load_comparison, save_comparison

    summary, _ = _latency()
    runs = [ComparedRun(n.upper(), seed_runs.load(n)) for n in ("gp-rt-raw", "gp-rt-bind")]
    comparison = compare(runs)
    contexts = [RunContext("GP-RT-RAW"), RunContext("GP-RT-BIND", AUDIT, summary)]
    path = save_comparison(tmp_path / "c.json", comparison, contexts)
    assert load_comparison(path) == comparison  # the comparison itself is unchanged
    loaded = load_contexts(str(path), 2)  # as `compare FILE` reads a comparison argument
    assert [c.label for c in loaded] == ["GP-RT-RAW", "GP-RT-BIND"]
    assert loaded[0].latency is None and loaded[0].audit == ()
    assert loaded[1].audit == AUDIT
    assert loaded[1].latency is not None and loaded[1].latency.threads == summary.threads
    assert loaded[1].latency.spikes == summary.spikes
    older = save_comparison(tmp_path / "old.json", comparison)  # saved without them
    assert [(c.latency, c.audit) for c in load_contexts(str(older), 2)] == [(None, ())] * 2
    doc = json.loads(path.read_text())
    doc["runs"][1]["audit"] = {"name": "x"}
    path.write_text(json.dumps(doc))
    with pytest.raises(SnapshotError, match=r"runs\[1\]\.audit: expected a list"):
        from vmexit_tui.formats.snapshots import load_comparison_contexts

        load_comparison_contexts(path)
    with pytest.raises(ValueError, match="1 run contexts for 2 runs"):
        save_comparison(tmp_path / "bad.json", comparison, contexts[:1])
    assert not (tmp_path / "bad.json").exists()
