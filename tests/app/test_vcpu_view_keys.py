"""The `v` key (live table by vCPU) and the latency histogram in the detail screen, fed the
in-kernel table captured in the lab through a replaying source (the Recorder protocol)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import psutil

from tests.app.helpers import wait_for
from vmexit_tui.analysis.exit_hist import reason_namer, to_reports
from vmexit_tui.analysis.running import Interval, RunInfo
from vmexit_tui.app.app import VmExitApp
from vmexit_tui.app.app_sources import AppSources
from vmexit_tui.app.screens.detail_screen import DetailScreen
from vmexit_tui.app.widgets.exit_table import ExitTable
from vmexit_tui.app.widgets.latency_histogram import LatencyHistogram
from vmexit_tui.app.widgets.vcpu_table import VcpuTable
from vmexit_tui.formats.tracefs_hist import exit_counts, exit_reason_tables
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo
from vmexit_tui.recording.protocol import (
    RecorderEvent,
    RecordingEnded,
    RecordingState,
    RecordingStatus,
)

FIX = Path(__file__).parents[1] / "fixtures" / "tracefs"


def lab_interval() -> Interval:
    names = exit_reason_tables((FIX / "kvm_exit_format_lab_6.1.txt").read_text()).svm
    counts = exit_counts((FIX / "hist_synthetic_lab_6.1.txt").read_text())
    total, vcpus = to_reports(counts, reason_namer(names), source="kernel hist triggers")
    return Interval(0, 1000.0, 1001.0, {total.event: total}, vcpus=vcpus)


class Replay:
    """A source that yields given intervals, then waits for stop()."""

    def __init__(self, vm: VmInfo, intervals: list[Interval]) -> None:
        self.info = RunInfo(label=vm.name, vm_name=vm.name, pid=vm.pid, source_mode="kernel")
        self.intervals = intervals
        self._stop = asyncio.Event()

    async def events(self) -> AsyncIterator[RecorderEvent]:
        yield RecordingStatus(RecordingState.RECORDING)
        for interval in self.intervals:
            yield interval
        await self._stop.wait()
        yield RecordingEnded(reason="stopped", ok=True)

    async def stop(self) -> None:
        self._stop.set()


def make_app(tmp_path: Path) -> VmExitApp:
    me = psutil.Process()
    vm = VmInfo(os.getpid(), "lab-vmm", "tiny_vmm", me.create_time(), None, 0,
                (VCpu(0, os.getpid(), (0,)), VCpu(1, os.getpid(), (0,))), Pinning.BIND)  # fmt: skip
    sources = AppSources(
        scan_vms=lambda: [vm],
        make_recorder=lambda v: Replay(v, [lab_interval()]),
        snapshot_folder=tmp_path,
        autostart="lab-vmm",
        scan_every_s=60.0,
    )
    return VmExitApp(sources)


async def test_v_toggles_the_live_table_by_vcpu_and_back(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: app.current is not None and app.current.acc.intervals == 1)
        table, vcpus = app.query_one(ExitTable), app.query_one(VcpuTable)
        assert table.display and not vcpus.display
        # a source with histograms: P99≤ where perf's Min was (the kernel keeps no min)
        keys = [c.key for c in table.columns_spec]
        assert "p99" in keys and "min" not in keys
        io = app.current.acc.total().row("io")
        assert table.value("io", "p99") == io.percentile_bound(0.99)
        assert table.text("io", "p99") == "8192"
        await pilot.press("v")
        await wait_for(pilot, lambda: vcpus.row_count == 2)
        assert vcpus.display and not table.display
        interval = lab_interval()
        for index in (0, 1):
            cells = [c.plain.strip() for c in vcpus.get_row(str(index))]
            assert cells[0] == str(index)
            assert cells[2] == str(interval.vcpus[index].sample_count)
            assert cells[5].startswith(("io", "cpuid"))  # the top reasons of the tiny VMM
            assert cells[-1] == "OTHER"  # this test's own thread, read from the kernel
        await pilot.press("v")
        assert table.display and not vcpus.display


async def test_detail_of_a_reason_shows_its_log2_histogram_and_bounds(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_for(pilot, lambda: app.current is not None and app.current.acc.intervals == 1)
        table = app.query_one(ExitTable)
        table.focus()
        table.move_cursor(table.ordered_reasons.index("io"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        screen = app.screen
        text = str(screen.query_one(".detail-pct").render())
        assert "p50 ≤" in text and "p99 ≤" in text and "p99.9 ≤" in text and "max ≤" in text
        chart = screen.query_one(LatencyHistogram).plt.build()
        assert "io: exit-to-entry time" in chart
