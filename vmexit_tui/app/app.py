"""The vmexit-tui application: VM list, live exit table with trends, compare pane, status line.

Data flows one way. Workers (VM scans and snapshot I/O in threads, the recording as an
async worker running `RecordingSession.run`) only post messages; the handlers below apply
them to the model (the session, the compare pane's session) and tell the widgets what
changed. The App routes; it holds no drawing and no parsing.

Where to extend it:
- a key: a row in `app/bindings.py` and an `action_*` method here (or on a widget);
- a tab: a row of `tab_switch.TABS`, its widget in `compose` and its focus target in `FOCUS`;
- a widget fed by the recording: a `show(session)` called from `_refresh_live` (or let it
  handle the messages of `app/messages.py` itself).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import DataTable

from vmexit_tui.analysis.compare_session import (
    DEFAULT_COMPARE,
    BuiltinRun,
    RecordedRun,
    builtin_run,
)
from vmexit_tui.analysis.running import Interval
from vmexit_tui.app import bindings
from vmexit_tui.app.app_sources import AppSources
from vmexit_tui.app.collector import FreezeAfterStart
from vmexit_tui.app.compare_runs import CompareRuns
from vmexit_tui.app.latency_mixin import LatencyMixin
from vmexit_tui.app.messages import (
    IntervalReceived,
    RecordingFinished,
    RecordingStarted,
    RecordingStatusChanged,
    VmsScanned,
)
from vmexit_tui.app.screens.detail_screen import DetailScreen
from vmexit_tui.app.screens.help_screen import HelpScreen
from vmexit_tui.app.shutdown import CleanExit
from vmexit_tui.app.snapshot_io import SnapshotIO
from vmexit_tui.app.tab_switch import TabSwitch, tab_bar, tab_switcher
from vmexit_tui.app.widgets.compare_pane import COMPARE_REFRESH_S, ComparePane
from vmexit_tui.app.widgets.key_bar import KeyBar
from vmexit_tui.app.widgets.live_view import LiveView
from vmexit_tui.app.widgets.problems_panel import ProblemsPanel
from vmexit_tui.app.widgets.series_plot import AxisKeys
from vmexit_tui.app.widgets.status_line import StatusLine
from vmexit_tui.app.widgets.vm_list import VmList
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.host.preflight import Problem
from vmexit_tui.recording.protocol import RecorderEvent, RecordingEnded, RecordingStatus
from vmexit_tui.recording.session import RecordingSession

FOCUS = {"vms": "#vm-list", "live": "#exit-table", "compare": "#compare-table"}
When = bindings.When


class VmExitApp(TabSwitch, LatencyMixin, CompareRuns, CleanExit, AxisKeys, FreezeAfterStart):
    """`vmexit-tui`: why do the guests exit, live."""

    CSS_PATH = "app.tcss"
    TITLE = "vmexit-tui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = list(bindings.bindings())
    compare_refresh_s = COMPARE_REFRESH_S  # the compare pane redraws at most this often

    def __init__(self, sources: AppSources) -> None:
        super().__init__()
        self.sources = sources
        self.vms: tuple[VmInfo, ...] = ()
        self.current: RecordingSession | None = None
        self.sessions: list[RecordingSession] = []
        self.snapshots = SnapshotIO(self, sources.snapshot_folder, sources.clock)
        self._autostarted = False

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield tab_bar()
        with tab_switcher():
            with Vertical(id="vms"):
                yield ProblemsPanel(id="problems")
                yield VmList(id="vm-list")
            yield LiveView(id="live")  # with the latency strip
            yield ComparePane(id="compare")
        yield StatusLine(id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.live = self.query_one(LiveView)
        self.live.vcpus_of = self._vcpus_of
        self.compare_pane = self.query_one(ComparePane)
        self.compare_pane.refresh_s = self.compare_refresh_s
        self.status_line = self.query_one(StatusLine)
        self.vm_list = self.query_one(VmList)
        self.problems = self.query_one(ProblemsPanel)  # kept: queries see the current screen
        self.install_signal_handlers()
        refs = self.sources.reference_runs()
        self.compare.set(
            [(BuiltinRun(n), builtin_run(n, refs[n])) for n in DEFAULT_COMPARE if n in refs]
        )
        self._show_problems()
        self._update_status()
        self._scan()
        if self.sources.autostart:
            self.switch_tab("live")

    def _vcpus_of(self, pid: int | None) -> tuple:
        """The vCPU threads of the VM with `pid`, from the last scan."""
        vm = next((v for v in self.vms if v.pid == pid), None)
        return vm.vcpus if vm is not None else ()

    def _blocking_problem(self) -> Problem | None:
        return next((p for p in self.sources.problems if p.blocking), None)

    def _show_problems(self) -> None:
        self.problems.show(self.sources.problems, no_vms=not self.vms, demo=self.sources.simulated)

    def _update_status(self) -> None:
        rec, problem, text, hint = self.current, self._blocking_problem(), None, None
        if problem is not None and not self.sources.simulated:
            text, hint = problem.summary, "fix: VMs tab · d: demo"
        elif not self.vms and not self.sources.simulated and rec is None:
            text = "no KVM guest running (d: demo)"
        status = rec.status if rec else None
        if rec is not None and rec.silence_note and status and not status.message:
            status = replace(status, message=rec.silence_note)
        self.status_line.show(
            status,
            label=rec.info.vm_name if rec else None,
            simulated=bool(rec and rec.info.simulated),
            problem=text,
            hint=hint,
            worst_latency_us=self._rt_worst(),
        )

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
        self.vm_list.show(message.vms)
        if message.error:
            self.notify(message.error, severity="warning")
        self._show_problems()
        self._update_status()
        if not self.quitting:
            self.set_timer(self.sources.scan_every_s, self._scan)  # re-armed: never overlaps
        if self.sources.autostart and not self._autostarted:
            self._autostarted = True
            vm = next((v for v in self.vms if v.name == self.sources.autostart), None)
            if vm is not None:
                self.start_recording(vm)

    # ----------------------------------------------------------------- recording
    def action_toggle_record(self) -> None:
        vm = self.vm_list.selected or (self.vms[0] if self.vms else None)
        if vm is None:
            self.notify("No VM to record. Press d for the demo.", severity="warning")
            return
        self.start_recording(vm)

    def action_stop_record(self) -> None:
        self.run_worker(self.stop_recording(), group="stop", exit_on_error=False)

    def start_recording(self, vm: VmInfo) -> None:
        problem = self._blocking_problem()
        if problem is not None and not self.sources.simulated:
            self.notify(f"{problem.summary}\nfix: {problem.fix}", severity="error", timeout=10)
            return
        try:
            recorder = self.sources.make_recorder(vm)
        except Exception as exc:
            self.notify(f"Cannot record {vm.name}: {exc}", severity="error", timeout=10)
            return
        session = RecordingSession(recorder, clock=self.sources.clock)
        self.current = session
        self.sessions.append(session)
        report = functools.partial(self._post_event, session)
        self.run_worker(session.run(report), group="recording", exit_on_error=False)
        self._start_rt(session, vm)
        self.post_message(RecordingStarted(recorder.info))

    def _post_event(self, session: RecordingSession, event: RecorderEvent) -> None:
        if isinstance(event, Interval):
            self.post_message(IntervalReceived(event))
        elif isinstance(event, RecordingStatus):
            self.post_message(RecordingStatusChanged(event))
        elif isinstance(event, RecordingEnded):
            self.post_message(RecordingFinished(session.info, event))

    async def stop_recording(self) -> None:
        if self.current is not None and self.current.running:
            self.current.begin_stop()
            self._update_status()
            await self.current.stop()
        await self._stop_rt()

    def on_recording_started(self, message: RecordingStarted) -> None:
        if self.current is not None:
            self.live.started(self.current)
        self._update_status()
        self.refresh_bindings()

    def on_interval_received(self, message: IntervalReceived) -> None:
        if self.current is not None:
            self.current.add(message.interval)
            self._rt_exits(message.interval)
            self._refresh_live()

    def _refresh_live(self) -> None:
        """Tell everything that shows the current recording that it changed."""
        rec = self.current
        self.live.show(rec)
        if rec is not None:
            self.compare_pane.live_changed(self._compared(rec))
            if isinstance(self.screen, DetailScreen):
                view = self.live.view_of(self.screen.reason)
                if view is not None:
                    self.screen.show(view)
        self._update_status()

    def on_recording_status_changed(self, message: RecordingStatusChanged) -> None:
        if self.current is not None:
            note = self.current.update_status(message.status)
            if note:  # the status line may cut it at 80 columns: show it whole once
                self.notify(note, title="perf", severity="warning", timeout=15)
        self._update_status()

    def on_recording_finished(self, message: RecordingFinished) -> None:
        session = next((s for s in self.sessions if s.info is message.info), None)
        if session is None:
            return
        session.finish(message.ended)
        self._stop_rt_soon()
        if not message.ended.ok and not self.quitting:
            self.notify(message.ended.summary, severity="error", timeout=10)
        if session is self.current:
            self.compare.freeze_live(
                RecordedRun(self.sessions.index(session)), self._compared(session)
            )
            self.compare_pane.changed()
            self.live.show(session)  # its empty state may now say why
        self._auto_pair(session)
        self._update_status()
        self.refresh_bindings()

    def action_mark(self) -> None:
        if self.current is None or not self.current.running:
            self.notify("Marks belong to a recording: start one with space.", severity="warning")
            return
        self.notify(self.current.mark())
        self._refresh_live()

    # ----------------------------------------------------------------- live view
    @on(LiveView.DetailRequested)
    def _open_detail(self, message: LiveView.DetailRequested) -> None:
        self.push_screen(DetailScreen(message.view))

    @on(DataTable.RowSelected, "#vm-list")
    def _vm_selected(self, event: DataTable.RowSelected) -> None:
        vm = self.vm_list.vms.get(str(event.row_key.value))
        if vm is None:
            return
        if self.recording:
            self.notify("A recording is running: space stops it first.", severity="warning")
            return
        self.start_recording(vm)
        self.switch_tab("live")

    def _leave_detail(self) -> None:
        while isinstance(self.screen, DetailScreen):
            self.pop_screen()

    def action_cycle_kind(self) -> None:
        self._leave_detail()
        self.live.cycle_kind()

    def action_live(self, action: str) -> None:
        """s, S, r, t: the live tab's own actions (sort, reverse, trend of rate or mean)."""
        getattr(self.live, action)()

    def action_show_tab(self, tab: str) -> None:
        self._leave_detail()
        self.switch_tab(tab)
        self.tab_shown(tab)  # now, so a key typed right after the tab key reaches its table

    def tab_shown(self, tab: str) -> None:
        self.query_one(FOCUS[tab]).focus()
        self.compare_pane.set_shown(tab == "compare")
        self.refresh_bindings()

    # ----------------------------------------------------------------- demo, help, keys
    def action_demo(self) -> None:
        if not self.sources.simulated and self.sources.demo is not None:
            self.run_worker(self._switch_to_demo(), group="stop", exit_on_error=False)

    async def _switch_to_demo(self) -> None:
        await self.stop_recording()
        assert self.sources.demo is not None
        self.sources = self.sources.demo()
        self._autostarted = False
        self.vms = ()
        self._show_problems()
        self._update_status()
        self.refresh_bindings()
        self.action_show_tab("live")
        self._scan()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(bindings.help_sections()))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        when = bindings.WHEN.get(action, When.ALWAYS)
        return {  # When.ALWAYS: True
            When.LIVE: self.tab == "live",
            When.COMPARE: self.tab == "compare",
            When.RECORDING: self.recording,
            When.IDLE: not self.recording,
            When.DEMO_OFFERED: not self.sources.simulated and self.sources.demo is not None,
        }.get(when, True)
