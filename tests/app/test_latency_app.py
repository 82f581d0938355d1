"""The app with a real cyclictest beside the (demo) exits: strip, status, spikes, snapshot."""

from __future__ import annotations

import shutil
import time

import psutil
import pytest

from tests.app.helpers import wait_for
from vmexit_tui.app.app import VmExitApp
from vmexit_tui.app.app_sources import demo_sources
from vmexit_tui.app.widgets.latency_strip import LatencyStrip
from vmexit_tui.app.widgets.series_plot import SeriesPlot
from vmexit_tui.app.widgets.status_line import StatusLine
from vmexit_tui.formats import snapshots
from vmexit_tui.host.audit import audit
from vmexit_tui.recording.latency_feed import LatencySpec

pytestmark = pytest.mark.skipif(shutil.which("cyclictest") is None, reason="needs cyclictest")


def _cyclictests() -> set[int]:
    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "cyclictest"}


async def test_latency_beside_exits_and_in_the_snapshot(tmp_path) -> None:
    before = _cyclictests()
    sources = demo_sources(tmp_path, interval_s=0.5, recorder_clock=time.time)
    spec = LatencySpec(command="cyclictest -m -p95 -i 1000 -t 2", spike_us=1)
    sources.latency_chunks = spec.chunks
    sources.latency_label = spec.describe()
    sources.latency_interval_s = 0.5
    sources.spike_us = spec.spike_us
    sources.audit = lambda vm: audit([vm])
    app = VmExitApp(sources)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.latency is not None, 10)
        session = app.latency
        await wait_for(
            pilot,
            lambda: len(session.intervals) >= 3 and app.current.acc.intervals >= 3,
            timeout=20,
        )
        await wait_for(pilot, lambda: len(session.linker.pending) < len(session.spikes), 10)
        strip = app.query_one(LatencyStrip)
        await wait_for(pilot, lambda: strip._drawn is not None and strip._drawn[1], 10)
        labels = [line[0] for line in strip._drawn[1]]
        assert {"T0 max", "T0 avg", "T1 max", "T1 avg"} <= set(labels)
        assert strip._drawn[3]  # spikes marked in the strip
        app.live.show(app.current)
        marks = app.query_one("#series-plot", SeriesPlot)._data[3]
        assert any(label.startswith("spike ") for _, label in marks)  # and in the exit chart
        app._update_status()
        status = str(app.query_one(StatusLine)._last)
        assert f"worst latency {session.worst_us} µs" in status
        await pilot.press("w")
        await wait_for(pilot, lambda: list(tmp_path.glob("run-*.json")), 10)
        saved = snapshots.load_run(next(tmp_path.glob("run-*.json")))
        assert saved.latency is not None and [t.thread for t in saved.latency.threads] == [0, 1]
        assert saved.latency_intervals and saved.latency.spikes
        assert any(c.name == "cmdline.isolcpus" for c in saved.audit)
        await pilot.press("q")
    deadline = time.monotonic() + 5
    while _cyclictests() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _cyclictests() - before == set()


async def test_compare_pane_shows_setup_latency_and_hints(tmp_path) -> None:
    from textual.widgets import Static

    from tests.analysis.test_run_context import BIND, RAW
    from tests.app.helpers import Gate, make_app
    from vmexit_tui.analysis.compare_session import SnapshotRun
    from vmexit_tui.analysis.latency import LatencySummary
    from vmexit_tui.analysis.model import EventKind
    from vmexit_tui.analysis.running import RunInfo
    from vmexit_tui.app.messages import SnapshotLoaded
    from vmexit_tui.formats.cyclictest import ThreadSummary
    from vmexit_tui.reference import seed_runs

    paths = []
    for label, checks, seed, mx in (
        ("RAW", RAW, "gp-rt-raw", 900),
        ("BIND", BIND, "gp-rt-bind", 60),
    ):
        lat = LatencySummary((ThreadSummary(0, cycles=1000, avg_us=5.0, max_us=mx),))
        paths.append(snapshots.save_run(tmp_path / f"{label}.json", RunInfo(label=label),
                                        {EventKind.VMEXIT: seed_runs.load(seed)},
                                        latency=lat, audit=checks))  # fmt: skip
    app = make_app(tmp_path, Gate(), autostart=None)
    async with app.run_test(size=(160, 48)) as pilot:
        context = app.query_one("#compare-context", Static)
        await pilot.press("3")
        await pilot.pause()
        assert not context.display  # the built-in runs carry no audit or latency
        app.compare.set([])
        for path in paths:  # as the run picker loads them
            key = SnapshotRun("run", path)
            app.post_message(SnapshotLoaded(key, run=snapshots.load_run(path).compared()))
        await wait_for(pilot, lambda: context.display, timeout=10)
        await wait_for(pilot, lambda: "BIND: max 60" in str(context.render()), timeout=10)
        text = str(context.render())
        assert "BIND: vCPU threads SCHED_FIFO 95 on CPUs 2, isolated" in text
        assert "vm.vcpu0.policy: RAW SCHED_OTHER; BIND SCHED_FIFO 95" in text
        assert "RAW: max 900 µs" in text and "BIND: max 60 µs" in text
        assert "Hints (usual configuration causes" in text

        await pilot.press("w")  # a snapshot of the comparison keeps each run's context
        await wait_for(pilot, lambda: list(tmp_path.glob("comparison-*.json")), 10)
        saved = next(tmp_path.glob("comparison-*.json"))
        contexts = snapshots.load_comparison_contexts(saved)
        assert [c.label for c in contexts] == ["RAW", "BIND"]
        assert [c.latency.max_us for c in contexts if c.latency] == [900, 60]
        assert [c.audit for c in contexts] == [RAW, BIND]

        app.compare.set([])  # loaded again later, the saved comparison shows them again
        app.compare_pane.changed()
        await wait_for(pilot, lambda: not context.display, timeout=10)
        app.snapshots.load(SnapshotRun("comparison", saved))
        await wait_for(pilot, lambda: "BIND: max 60" in str(context.render()), timeout=10)
        assert "vm.vcpu0.policy: RAW SCHED_OTHER; BIND SCHED_FIFO 95" in str(context.render())
