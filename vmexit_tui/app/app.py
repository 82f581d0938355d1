"""The vmexit-tui application: VM list, live exit table with trends, compare pane, status line.

Data flows one way. Workers on the App (VM scans in a thread, the recording as an async
worker consuming `recorder.events()`, snapshot I/O in a thread) only post messages; the
handlers update the model (`RunAccumulator`) and tell widgets to re-render. The recording
worker lives on the App, and every way out (q, ctrl+q, SIGHUP/SIGTERM, unmount) awaits
`recorder.stop()` so no recording is ever left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane
from textual.worker import Worker

from vmexit_tui.analysis.comparison import ComparedRun, Comparison, compare, pair_layout
from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.analysis.running import Interval, RunAccumulator, RunInfo
from vmexit_tui.analysis.vcpu_view import VcpuRow, vcpu_rows
from vmexit_tui.app.app_sources import AppSources
from vmexit_tui.app.messages import (
    IntervalReceived,
    RecordingFinished,
    RecordingStarted,
    RecordingStatusChanged,
    SnapshotFailed,
    SnapshotSaved,
    VmsScanned,
)
from vmexit_tui.app.screens.detail_screen import DetailScreen
from vmexit_tui.app.screens.help_screen import HelpScreen
from vmexit_tui.app.screens.run_picker import PickerEntry, RunPicker
from vmexit_tui.app.widgets.compare_pane import MAX_RUNS, ComparePane
from vmexit_tui.app.widgets.exit_table import ExitTable
from vmexit_tui.app.widgets.problems_panel import ProblemsPanel
from vmexit_tui.app.widgets.series_plot import SeriesPlot
from vmexit_tui.app.widgets.status_line import StatusLine
from vmexit_tui.app.widgets.vcpu_table import VcpuTable
from vmexit_tui.app.widgets.vm_list import VmList
from vmexit_tui.formats import snapshots
from vmexit_tui.host import lifecycle
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.host.paths import safe_name
from vmexit_tui.host.vcpu_sched import read_sched
from vmexit_tui.recording.protocol import Recorder, RecordingEnded, RecordingState, RecordingStatus
from vmexit_tui.reference import glossary

KINDS = (EventKind.VMEXIT, EventKind.MMIO, EventKind.IOPORT)
COMPARE_REFRESH_S = 1.0
STOP_TIMEOUT_S = 15.0
DEFAULT_COMPARE = ("gp-rt-raw", "gp-rt-bind")


@dataclass
class Recording:
    """One recording of this session: its model and (while running) its recorder."""

    info: RunInfo
    acc: RunAccumulator
    recorder: Recorder | None = None
    worker: Worker | None = None
    status: RecordingStatus | None = None
    ended: RecordingEnded | None = None
    last_interval_at: float | None = None

    @property
    def running(self) -> bool:
        return self.recorder is not None and self.ended is None

    @property
    def duration_s(self) -> float | None:
        acc = self.acc
        if acc.last is None or acc.first_start is None:
            return None
        return acc.last.end - acc.first_start

    @property
    def label(self) -> str:
        """Named from the VM and its pinning state, e.g. "web1 bind"."""
        info = self.info
        name = info.vm_name or info.label
        return f"{name} {info.pinning}" if info.pinning else name


def detach_from_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null: the terminal hung up (SSH dropped).

    Writes to a hung-up tty fail or never drain; with the standard streams on /dev/null
    nothing the app still draws can block the recorder's clean stop.
    """
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)


class VmExitApp(App[int]):
    """`vmexit-tui`: why do the guests exit, live."""

    # What a hang-up does to the process; the Pilot tests replace them (the tmux
    # end-to-end test runs the real ones).
    detach_terminal: Callable[[], None] = staticmethod(detach_from_terminal)
    end_process: Callable[[int], None] = staticmethod(os._exit)

    CSS_PATH = "app.tcss"
    TITLE = "vmexit-tui"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "toggle_record",
            "Record",
            tooltip="Start recording the selected VM, or stop the recording",
        ),
        Binding("s", "sort_next", "Sort", tooltip="Sort the live table by the next column"),
        Binding(
            "S",
            "sort_previous",
            "Sort back",
            show=False,
            tooltip="Sort the live table by the previous column",
        ),
        Binding("r", "reverse", "Rev", tooltip="Reverse the sort order of the live table"),
        Binding("m", "mark", "Mark", tooltip="Mark this moment in the series"),
        Binding("e", "cycle_kind", "Event", tooltip="Switch the table: vmexit / mmio / ioport"),
        Binding("t", "toggle_trend", "Trend", tooltip="Trends and chart: rate or mean time"),
        Binding(
            "v",
            "toggle_vcpus",
            "vCPUs",
            show=False,
            tooltip="The live table by reason, or by vCPU (top reasons, CPUs, scheduling)",
        ),
        Binding(
            "o", "open_run", "Add run", tooltip="Pick a run or a snapshot for the compare pane"
        ),
        Binding("x", "remove_run", "Drop run", tooltip="Remove the last run from the compare pane"),
        Binding(
            "b",
            "cycle_baseline",
            "Baseline",
            show=False,
            tooltip="Make the next run of the compare pane the baseline",
        ),
        Binding(
            "w",
            "save_snapshot",
            "Save",
            tooltip="Save a snapshot: the current run, or the "
            "comparison when the compare pane is shown",
        ),
        Binding("d", "demo", "Demo", tooltip="Switch to the built-in demo (simulated VMs)"),
        Binding("1", "show_tab('vms')", "VMs", show=False, tooltip="Show the VM list"),
        Binding("2", "show_tab('live')", "Live", show=False, tooltip="Show the live exit table"),
        Binding("3", "show_tab('compare')", "Compare", show=False, tooltip="Show the compare pane"),
        Binding("question_mark", "help", "Help", tooltip="This help"),
        Binding("q", "quit", "Quit", tooltip="Quit (stops any recording cleanly first)"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, sources: AppSources) -> None:
        super().__init__()
        self.sources = sources
        self.kind = EventKind.VMEXIT
        self.trend_of_mean = False
        self.vms: tuple[VmInfo, ...] = ()
        self.current: Recording | None = None
        self.recordings: list[Recording] = []
        self.compare_runs: list[tuple[str, ComparedRun | None]] = []  # (key, run or live)
        self.baseline = 0
        self.pairs_note = ""
        self.comparison: Comparison | None = None
        self._compare_dirty = True
        self._compare_drawn_at = 0.0
        self._compare_timer_set = False
        self.compare_refresh_s = COMPARE_REFRESH_S
        self._loaded_comparison = False
        self._quitting = False
        self._autostarted = False
        self.by_vcpu = False

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with TabbedContent(initial="vms", id="tabs"):
            with TabPane("1 VMs", id="vms"):
                yield ProblemsPanel(id="problems")
                yield VmList(id="vm-list")
            with TabPane("2 Live", id="live"):
                yield Static(id="kind-bar")
                yield ExitTable(id="exit-table")
                yield VcpuTable(id="vcpu-table")
                yield SeriesPlot(id="series-plot")
            with TabPane("3 Compare", id="compare"):
                yield ComparePane(id="compare-pane")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(VcpuTable).display = False
        self._install_signal_handlers()
        self._fill_default_comparison()
        self._show_problems()
        self._update_status()
        self._update_kind_bar()
        self._scan()
        if self.sources.autostart:
            self.query_one("#tabs", TabbedContent).active = "live"

    # ----------------------------------------------------------------- helpers
    @property
    def tab(self) -> str:
        return self.query_one("#tabs", TabbedContent).active

    def _blocking_problem(self):
        return next((p for p in self.sources.problems if p.blocking), None)

    def _show_problems(self) -> None:
        self.query_one(ProblemsPanel).show(
            self.sources.problems, no_vms=not self.vms, demo=self.sources.simulated
        )

    def _update_status(self) -> None:
        rec = self.current
        problem = self._blocking_problem()
        text = None
        if problem is not None and not self.sources.simulated:
            text = f"{problem.summary} (fix: see VMs tab, or d for the demo)"
        elif not self.vms and not self.sources.simulated and rec is None:
            text = "no KVM guest running (d: demo)"
        self.query_one(StatusLine).show(
            rec.status if rec else None,
            label=rec.info.vm_name if rec else None,
            simulated=bool(rec and rec.info.simulated),
            problem=text,
        )

    def _update_kind_bar(self) -> None:
        table = self.query_one(ExitTable)
        text = Text()
        for kind in KINDS:
            style = "bold reverse" if kind == self.kind else "dim"
            text.append(f" {kind.value} ", style=style)
        text.append("  times in µs · trend: ", style="dim")
        text.append("mean" if self.trend_of_mean else "rate", style="bold")
        text.append(" · sort: ", style="dim")
        text.append(f"{table.sort_column} {'▼' if table.descending else '▲'}", style="bold")
        rec = self.current
        if rec is not None and rec.info.simulated:
            text.append("  SIMULATED", style="bold magenta")
        self.query_one("#kind-bar", Static).update(text, layout=False)  # one line, fixed

    # ----------------------------------------------------------------- VM scans
    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def _scan(self) -> None:
        try:
            vms = tuple(self.sources.scan_vms())
        except Exception as exc:  # psutil races, permissions: show, keep going
            self.post_message(VmsScanned((), error=f"VM scan failed: {exc}"))
            return
        self.post_message(VmsScanned(vms))

    def on_vms_scanned(self, message: VmsScanned) -> None:
        self.vms = message.vms
        self.query_one(VmList).show(message.vms)
        if message.error:
            self.notify(message.error, severity="warning")
        self._show_problems()
        self._update_status()
        if not self._quitting:
            self.set_timer(self.sources.scan_every_s, self._scan)  # re-armed: never overlaps
        if self.sources.autostart and not self._autostarted:
            self._autostarted = True
            vm = next((v for v in self.vms if v.name == self.sources.autostart), None)
            if vm is not None:
                self._start(vm)

    # ----------------------------------------------------------------- recording
    def _selected_vm(self) -> VmInfo | None:
        return self.query_one(VmList).selected or (self.vms[0] if self.vms else None)

    def action_toggle_record(self) -> None:
        if self.current is not None and self.current.running:
            self.run_worker(self._stop_current(), group="stop", exit_on_error=False)
            return
        vm = self._selected_vm()
        if vm is None:
            self.notify("No VM to record. Press d for the demo.", severity="warning")
            return
        self._start(vm)

    def _start(self, vm: VmInfo) -> None:
        problem = self._blocking_problem()
        if problem is not None and not self.sources.simulated:
            self.notify(f"{problem.summary}\nfix: {problem.fix}", severity="error", timeout=10)
            return
        try:
            recorder = self.sources.make_recorder(vm)
        except Exception as exc:
            self.notify(f"Cannot record {vm.name}: {exc}", severity="error", timeout=10)
            return
        rec = Recording(info=recorder.info, acc=RunAccumulator(), recorder=recorder)
        rec.status = RecordingStatus(RecordingState.STARTING)
        self.current = rec
        self.recordings.append(rec)
        rec.worker = self._record(rec)
        self.post_message(RecordingStarted(recorder.info))

    @work(group="recording", exit_on_error=False)
    async def _record(self, rec: Recording) -> None:
        """Consume the recorder's events; always awaits `stop()` on the way out."""
        recorder = rec.recorder
        assert recorder is not None
        ended: RecordingEnded | None = None
        try:
            async for event in recorder.events():
                if isinstance(event, Interval):
                    self.post_message(IntervalReceived(event))
                elif isinstance(event, RecordingStatus):
                    self.post_message(RecordingStatusChanged(event))
                elif isinstance(event, RecordingEnded):
                    ended = event
        except Exception as exc:
            ended = RecordingEnded(reason=f"recording failed: {exc}", ok=False)
        finally:
            await recorder.stop()
            if ended is None:
                ended = RecordingEnded(reason="recording cancelled", ok=False)
            rec.ended = ended  # set here too: the message may never be handled at shutdown
            self.post_message(RecordingFinished(rec.info, ended))

    def on_recording_started(self, message: RecordingStarted) -> None:
        self.query_one(ExitTable).clear()
        self.query_one(ExitTable)._shown.clear()
        self._refresh_live()
        self._update_status()
        self.refresh_bindings()

    def on_interval_received(self, message: IntervalReceived) -> None:
        rec = self.current
        if rec is None:
            return
        rec.acc.add(message.interval)
        rec.last_interval_at = self.sources.clock()
        self.apply_interval()

    def apply_interval(self) -> None:
        """Re-render what depends on the current recording (table, chart, compare pane)."""
        self._refresh_live()
        if any(key == "live" for key, _ in self.compare_runs):
            self._compare_dirty = True
            self._maybe_refresh_compare()

    def on_recording_status_changed(self, message: RecordingStatusChanged) -> None:
        if self.current is not None:
            before = self.current.status.message if self.current.status else None
            self.current.status = message.status
            note = message.status.message
            if note and note != before and message.status.state is RecordingState.RECORDING:
                # the status line may cut it at 80 columns: show it whole once
                self.notify(note, title="perf", severity="warning", timeout=15)
        self._update_status()

    def on_recording_finished(self, message: RecordingFinished) -> None:
        rec = next((r for r in self.recordings if r.info is message.info), None)
        if rec is None:
            return
        rec.ended = message.ended
        if rec.status is None or rec.status.state not in (
            RecordingState.STOPPED,
            RecordingState.FAILED,
        ):
            state = RecordingState.STOPPED if message.ended.ok else RecordingState.FAILED
            base = rec.status or RecordingStatus(state)
            rec.status = RecordingStatus(
                state, base.elapsed, base.chunks, base.bytes_on_disk, None, message.ended.reason
            )
        if not message.ended.ok and not self._quitting:
            self.notify(
                f"{message.ended.reason}\n{message.ended.detail or ''}".strip(),
                severity="error",
                timeout=10,
            )
        self._freeze_live_run(rec)
        self._auto_pair(rec)
        self._update_status()
        self.refresh_bindings()

    async def _stop_current(self) -> None:
        rec = self.current
        if rec is None or rec.recorder is None or not rec.running:
            return
        if rec.status is not None:
            s = rec.status
            rec.status = RecordingStatus(
                RecordingState.STOPPING,
                s.elapsed,
                s.chunks,
                s.bytes_on_disk,
                s.exits_per_second,
                s.message,
            )
            self._update_status()
        await rec.recorder.stop()
        if rec.worker is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(rec.worker.wait(), STOP_TIMEOUT_S)

    def action_mark(self) -> None:
        rec = self.current
        if rec is None or not rec.running:
            self.notify("Marks belong to a recording: start one with space.", severity="warning")
            return
        now = self.sources.clock()
        acc = rec.acc
        if acc.last is not None and rec.last_interval_at is not None:
            at = acc.last.end + (now - rec.last_interval_at)
        else:
            at = acc.first_start or 0.0
        label = f"mark {len(acc.markers) + 1} at {time.strftime('%H:%M:%S', time.localtime(now))}"
        acc.mark(at, label)
        self.notify(label)
        self._refresh_live()

    # ----------------------------------------------------------------- live view
    def _refresh_live(self) -> None:
        rec = self.current
        table = self.query_one(ExitTable)
        if rec is None:
            return
        table.trend_of_mean = self.trend_of_mean
        table.show(rec.acc, self.kind)
        if self.by_vcpu:
            vm = next((v for v in self.vms if v.pid == rec.info.pid), None)
            self._show_vcpus(rec.info.pid, vcpu_rows(rec.acc, vm.vcpus if vm else ()))
        self._refresh_plot()
        self._update_kind_bar()

    @work(thread=True, exclusive=True, group="vcpus", exit_on_error=False)
    def _show_vcpus(self, pid: int | None, rows: list[VcpuRow]) -> None:
        """Add each vCPU thread's scheduling (read from the kernel, off the UI thread)."""
        if pid is not None:
            rows = [replace(r, sched=read_sched(pid, r.tid) if r.tid else None) for r in rows]
        self.call_from_thread(self.query_one(VcpuTable).show, rows)

    def action_toggle_vcpus(self) -> None:
        self.by_vcpu = not self.by_vcpu
        self.query_one(ExitTable).display = not self.by_vcpu
        self.query_one(VcpuTable).display = self.by_vcpu
        self._refresh_live()

    def _refresh_plot(self) -> None:
        rec = self.current
        if rec is None:
            return
        reason = self.query_one(ExitTable).selected_reason
        self.query_one(SeriesPlot).show(
            reason,
            rec.acc.reason_series(self.kind, reason) if reason else None,
            origin=rec.acc.first_start,
            markers=rec.acc.markers,
            of_mean=self.trend_of_mean,
            label="SIMULATED " if rec.info.simulated else "",
        )

    @on(DataTable.RowHighlighted, "#exit-table")
    def _reason_highlighted(self) -> None:
        self._refresh_plot()

    @on(DataTable.RowSelected, "#exit-table")
    def _reason_selected(self, event: DataTable.RowSelected) -> None:
        rec = self.current
        reason = event.row_key.value
        if rec is None or reason is None:
            return
        self.push_screen(
            DetailScreen(
                reason,
                meaning=glossary.explain(reason)
                if self.kind is EventKind.VMEXIT
                else f"{self.kind.value} access {reason}",
                stat=rec.acc.total(self.kind).row(reason),
                rate=rec.acc.last_rate(self.kind, reason),
                series=rec.acc.reason_series(self.kind, reason),
                origin=rec.acc.first_start,
                markers=rec.acc.markers,
                label="SIMULATED " if rec.info.simulated else "",
            )
        )

    @on(DataTable.RowSelected, "#vm-list")
    def _vm_selected(self, event: DataTable.RowSelected) -> None:
        vm = self.query_one(VmList).vms.get(str(event.row_key.value))
        if vm is None:
            return
        if self.current is not None and self.current.running:
            self.notify("A recording is running: space stops it first.", severity="warning")
            return
        self._start(vm)
        self.query_one("#tabs", TabbedContent).active = "live"

    def action_cycle_kind(self) -> None:
        self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        table = self.query_one(ExitTable)
        if self.current is not None:
            self._refresh_live()
        else:
            table.kind = self.kind
        self._update_kind_bar()

    def action_toggle_trend(self) -> None:
        self.trend_of_mean = not self.trend_of_mean
        self.query_one(ExitTable)._shown.clear()  # every trend cell changes
        self._refresh_live()
        self._update_kind_bar()

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        self._focus_tab()  # now, so a key typed right after the tab key reaches its table

    def action_sort_next(self) -> None:
        self.query_one(ExitTable).action_sort_next()
        self._update_kind_bar()

    def action_sort_previous(self) -> None:
        self.query_one(ExitTable).action_sort_previous()
        self._update_kind_bar()

    def action_reverse(self) -> None:
        self.query_one(ExitTable).action_reverse()
        self._update_kind_bar()

    def _focus_tab(self) -> None:
        """Focus the table of the shown tab, without that focus choosing the tab.

        TabbedContent activates the pane of every `TabPane.Focused` it receives. Focus moves
        are deferred, so in a burst of keys ("3 2 s" in one read) the focus message of the
        first switch arrived after the second switch and switched back to the compare pane.
        Our own focus move is therefore kept from reporting `TabPane.Focused`.
        """
        widget = {"vms": "#vm-list", "live": "#exit-table", "compare": "#compare-table"}[self.tab]
        tabs = self.query_one("#tabs", TabbedContent)
        with tabs.prevent(TabPane.Focused):
            self.query_one(widget, DataTable).focus()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self._focus_tab()
        if self.tab == "compare":
            self._maybe_refresh_compare()
        self.refresh_bindings()

    # ----------------------------------------------------------------- compare
    def _fill_default_comparison(self) -> None:
        refs = self.sources.reference_runs()
        self.compare_runs = [
            (f"builtin:{n}", self._builtin_run(n, refs[n])) for n in DEFAULT_COMPARE if n in refs
        ]
        self.baseline = 0
        self._compare_dirty = True

    @staticmethod
    def _builtin_run(name: str, report: Report) -> ComparedRun:
        pinning = "bind" if name.endswith("bind") else "raw"
        info = RunInfo(label=name, pinning=pinning, notes="built-in reference run of the seed")
        return ComparedRun(label=name, report=report, info=info)

    def _live_compared(self, rec: Recording) -> ComparedRun:
        return ComparedRun(rec.label, rec.acc.total(EventKind.VMEXIT), rec.duration_s, rec.info)

    def _compared_runs(self) -> list[ComparedRun]:
        out = []
        for key, run in self.compare_runs:
            if run is None and key == "live" and self.current is not None:
                out.append(self._live_compared(self.current))
            elif run is not None:
                out.append(run)
        return out

    def _maybe_refresh_compare(self) -> None:
        """Recompute and redraw the comparison when shown and changed, at most once a second."""
        if not self._compare_dirty or self.tab != "compare" or self._quitting:
            return
        wait = self._compare_drawn_at + self.compare_refresh_s - time.monotonic()
        if wait > 0:
            if not self._compare_timer_set:
                self._compare_timer_set = True
                self.set_timer(wait, self._compare_timer)
            return
        self.refresh_compare()

    def _compare_timer(self) -> None:
        self._compare_timer_set = False
        self._maybe_refresh_compare()

    def refresh_compare(self) -> None:
        """Recompute the comparison from the runs in the pane and redraw it."""
        pane = self.query_one(ComparePane)
        self._compare_dirty = False
        self._compare_drawn_at = time.monotonic()
        if self._loaded_comparison and self.comparison is not None:
            pane.show(self.comparison, note="loaded snapshot")
            return
        runs = self._compared_runs()
        if len(runs) < 2:
            self.comparison = None
            pane.show(None)
            if runs:
                pane.query_one("#compare-header", Static).update(
                    Text(f"{runs[0].label}: pick one more run with o to compare.", style="dim")
                )
            return
        baseline = min(self.baseline, len(runs) - 1)
        pairs = pair_layout(runs) if len(runs) > 2 else None
        try:
            self.comparison = compare(runs, baseline, pairs=pairs)
        except ValueError as exc:
            self.comparison = None
            pane.show(None)
            self.notify(str(exc), severity="error")
            return
        note = "RAW/BIND pairs" if pairs else ""
        pane.show(self.comparison, note=note)

    def _set_compare(self, runs: list[tuple[str, ComparedRun | None]], baseline: int = 0) -> None:
        self.compare_runs = runs[:MAX_RUNS]
        self.baseline = baseline
        self._loaded_comparison = False
        self._compare_dirty = True
        self._compare_drawn_at = 0.0
        self._maybe_refresh_compare()

    def _freeze_live_run(self, rec: Recording) -> None:
        """When the recording ends, the pane's live entry becomes that finished run."""
        key = f"rec:{self.recordings.index(rec)}"
        runs = [
            (key, self._live_compared(rec)) if k == "live" and rec is self.current else (k, r)
            for k, r in self.compare_runs
        ]
        if runs != self.compare_runs:
            self._set_compare(runs, self.baseline)

    def _auto_pair(self, rec: Recording) -> None:
        """Bind versus raw of the same VM: compare them as soon as both were recorded."""
        if not rec.acc.intervals:
            return
        for other in reversed(self.recordings[:-1]):
            if (
                other is not rec
                and other.info.vm_name == rec.info.vm_name
                and other.acc.intervals
                and other.info.pinning != rec.info.pinning
            ):
                pair = sorted((other, rec), key=lambda r: r.info.pinning != "raw")
                self._set_compare(
                    [(f"rec:{self.recordings.index(r)}", self._live_compared(r)) for r in pair]
                )
                self.notify(f"Comparing {pair[0].label} with {pair[1].label}")
                return

    def action_open_run(self) -> None:
        self._list_for_picker()

    @work(thread=True, exclusive=True, group="snapshots", exit_on_error=False)
    def _list_for_picker(self) -> None:
        snaps: list[PickerEntry] = []
        try:
            for entry in snapshots.list_snapshots(self.sources.snapshot_folder):
                if entry.error is not None or entry.kind is None:
                    continue  # unreadable: the CLI's `compare` reports why
                label = f"{entry.kind}: {entry.label} ({entry.path.name})"
                snaps.append(PickerEntry(f"snap:{entry.kind}:{entry.path}", label, "Snapshots"))
        except OSError as exc:
            self.call_from_thread(self.notify, f"Snapshots not listed: {exc}", severity="warning")
        self.call_from_thread(self._open_picker, snaps)

    def _open_picker(self, snaps: list[PickerEntry]) -> None:
        entries: list[PickerEntry] = []
        if self.current is not None and self.current.running:
            entries.append(
                PickerEntry("live", f"{self.current.label} (recording now)", "This recording")
            )
        for i, rec in enumerate(self.recordings):
            if not rec.running and rec.acc.intervals:
                sim = " (simulated)" if rec.info.simulated else ""
                entries.append(PickerEntry(f"rec:{i}", f"{rec.label}{sim}", "Earlier recordings"))
        for name in self.sources.reference_runs():
            entries.append(PickerEntry(f"builtin:{name}", name, "Built-in reference runs"))
        entries.extend(snaps)
        full = len(self.compare_runs) >= MAX_RUNS
        title = "Add a run to the compare pane" + (" (full: replaces the last)" if full else "")
        self.push_screen(RunPicker(entries, title=title), self._picked)

    def _picked(self, key: str | None) -> None:
        if key is None:
            return
        if key.startswith("snap:"):
            _, kind, path = key.split(":", 2)
            self._load_snapshot(Path(path), kind)
            return
        run: ComparedRun | None
        if key == "live":
            run = None
        elif key.startswith("rec:"):
            run = self._live_compared(self.recordings[int(key[4:])])
        else:
            name = key.removeprefix("builtin:")
            run = self._builtin_run(name, self.sources.reference_runs()[name])
        runs = [] if self._loaded_comparison else list(self.compare_runs)
        runs = [(k, r) for k, r in runs if k != key]
        if len(runs) >= MAX_RUNS:
            runs = runs[: MAX_RUNS - 1]
        runs.append((key, run))
        self._set_compare(runs, self.baseline)
        self.action_show_tab("compare")

    def action_remove_run(self) -> None:
        if not self.compare_runs:
            return
        self._set_compare(self.compare_runs[:-1], self.baseline)

    def action_cycle_baseline(self) -> None:
        if self.compare_runs:
            self._set_compare(self.compare_runs, (self.baseline + 1) % len(self.compare_runs))

    # ----------------------------------------------------------------- snapshots
    def action_save_snapshot(self) -> None:
        folder = self.sources.snapshot_folder
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.sources.clock()))
        if self.tab == "compare":
            if self.comparison is None:
                self.notify("Nothing to save: the pane needs two runs.", severity="warning")
                return
            path = folder / f"comparison-{stamp}{snapshots.SUFFIX}"
            comparison = self.comparison
            self._save_snapshot(
                path, "comparison", lambda: snapshots.save_comparison(path, comparison)
            )
            return
        rec = self.current
        if rec is None or not rec.acc.intervals:
            self.notify("Nothing to save yet: record a VM first.", severity="warning")
            return
        path = folder / f"run-{safe_name(rec.info.vm_name or '', 'run')}-{stamp}{snapshots.SUFFIX}"
        # The worker writes a copy: the recording keeps growing on the app's loop meanwhile.
        info, acc, duration_s = rec.info, copy.deepcopy(rec.acc), rec.duration_s
        self._save_snapshot(
            path,
            "run",
            lambda: snapshots.save_run(path, info, acc.totals, acc, duration_s=duration_s),
        )

    @work(thread=True, group="snapshots", exit_on_error=False)
    def _save_snapshot(self, path: Path, what: str, save: Callable[[], Path]) -> None:
        """Write a snapshot off the app's loop; report the result as a message."""
        try:
            written = save()
            self.post_message(SnapshotSaved(Path(written), what))
        except (OSError, ValueError) as exc:
            self.post_message(SnapshotFailed(f"could not save {path}: {exc}"))

    @work(thread=True, group="snapshots", exit_on_error=False)
    def _load_snapshot(self, path: Path, kind: str) -> None:
        try:
            if kind == "comparison":
                comparison = snapshots.load_comparison(path)
                self.call_from_thread(self._show_loaded_comparison, comparison)
            else:
                saved = snapshots.load_run(path)
                self.call_from_thread(self._add_loaded_run, path, saved)
        except (OSError, ValueError) as exc:
            self.post_message(SnapshotFailed(f"could not load {path}: {exc}"))

    def _show_loaded_comparison(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self._loaded_comparison = True
        self.compare_runs = [(f"snap:{r.label}", r) for r in comparison.runs]
        self._compare_dirty = True
        self._compare_drawn_at = 0.0
        self.action_show_tab("compare")
        self._maybe_refresh_compare()

    def _add_loaded_run(self, path: Path, saved: snapshots.SavedRun) -> None:
        try:
            run = saved.compared(EventKind.VMEXIT)
        except KeyError as exc:
            self.notify(f"{path.name}: {exc.args[0]}", severity="warning")
            return
        self._picked_run(f"snap:run:{path}", run)

    def _picked_run(self, key: str, run: ComparedRun) -> None:
        runs = [] if self._loaded_comparison else [(k, r) for k, r in self.compare_runs if k != key]
        runs = [*runs[: MAX_RUNS - 1], (key, run)]
        self._set_compare(runs, self.baseline)
        self.action_show_tab("compare")

    def on_snapshot_saved(self, message: SnapshotSaved) -> None:
        self.notify(f"Saved {message.what} snapshot: {message.path}")

    def on_snapshot_failed(self, message: SnapshotFailed) -> None:
        self.notify(message.error, severity="error", timeout=10)

    # ----------------------------------------------------------------- demo, help, quit
    def action_demo(self) -> None:
        if self.sources.simulated or self.sources.demo is None:
            return
        self.run_worker(self._switch_to_demo(), group="stop", exit_on_error=False)

    async def _switch_to_demo(self) -> None:
        await self._stop_current()
        self.sources = self.sources.demo()  # type: ignore[misc]
        self._autostarted = False
        self.vms = ()
        self._show_problems()
        self._update_status()
        self.refresh_bindings()
        self.action_show_tab("live")
        self._scan()

    def action_help(self) -> None:
        self.push_screen(
            HelpScreen(
                [
                    ("Everywhere", [b for b in self.BINDINGS if isinstance(b, Binding)]),
                    (
                        "Live exit table",
                        [
                            ("enter", "Details of the reason: meaning, chart, min/mean/max"),
                            ("click header", "Sort by that column"),
                        ],
                    ),
                    ("VM list", [("enter", "Record the selected VM"), ("up/down", "Select a VM")]),
                    (
                        "Screens",
                        [
                            ("tab / shift+tab", "Move the focus"),
                            ("esc", "Close help, details or the picker"),
                        ],
                    ),
                ]
            )
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo":
            return not self.sources.simulated and self.sources.demo is not None
        if action in ("cycle_kind", "toggle_trend", "sort_next", "sort_previous", "reverse"):
            return self.tab == "live"
        if action in ("open_run", "remove_run", "cycle_baseline"):
            return self.tab == "compare"
        if action == "mark":
            return self.current is not None and self.current.running
        return True

    async def action_quit(self) -> None:
        await self.quit_cleanly()

    async def quit_cleanly(self, code: int = 0) -> None:
        """Stop any recording (awaiting the recorder), then exit."""
        if self._quitting:
            return
        self._quitting = True
        await self._stop_current()
        self.exit(return_code=code)

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: int) -> None:
        if sig == signal.SIGHUP:
            self.run_worker(self._hang_up(), group="quit", exit_on_error=False)
            return
        self.run_worker(self.quit_cleanly(128 + sig), group="quit", exit_on_error=False)

    async def _hang_up(self) -> None:
        """The terminal is gone (SSH dropped): finish the recording, then leave at once.

        Textual's normal exit restores the terminal, and with the terminal gone its output
        thread can block that exit forever. So: stdio to /dev/null, stop the recorder and
        wait for it (perf finalizes, the manifest is written), stop any child still
        registered, and end the process without touching the terminal again.
        """
        if self._quitting:
            return
        self._quitting = True
        self.detach_terminal()
        try:
            await self._stop_current()
        finally:
            lifecycle.REGISTRY.stop_all(grace=2.0)
            self.end_process(128 + signal.SIGHUP)

    async def on_unmount(self) -> None:
        """Last line of defence: whatever ended the app, the recorder is stopped."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        for rec in self.recordings:
            if rec.recorder is not None and rec.ended is None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(rec.recorder.stop(), STOP_TIMEOUT_S)
