"""The live tab: the event-kind bar, the exit table and the chart of the reason under the
cursor (on a wide terminal, the reason's detail beside the table), and the latency strip
(fed by the app's latency mixin).

The App tells it what changed (`show(session)` after every interval, `started` for a new
recording); it owns what is shown: the event kind, rate-or-mean trends, the sort.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from vmexit_tui.analysis.model import EventKind
from vmexit_tui.analysis.running import Marker
from vmexit_tui.analysis.vcpu_view import VcpuRow, vcpu_rows
from vmexit_tui.app.widgets.exit_table import ExitTable
from vmexit_tui.app.widgets.latency_strip import LatencyStrip
from vmexit_tui.app.widgets.reason_detail import ReasonDetail, ReasonView, reason_view
from vmexit_tui.app.widgets.series_plot import SeriesPlot
from vmexit_tui.app.widgets.vcpu_table import VcpuTable
from vmexit_tui.host.discovery import VCpu
from vmexit_tui.host.vcpu_sched import read_sched
from vmexit_tui.recording.session import RecordingSession

KINDS = (EventKind.VMEXIT, EventKind.MMIO, EventKind.IOPORT)
WIDE = 160  # from this width the reason's detail stands beside the table


class LiveView(Vertical):
    """Kind bar, exit table, chart; `show(session)` re-renders from the session's model."""

    class DetailRequested(Message):
        """Enter on a reason: open its detail."""

        def __init__(self, view: ReasonView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spike_markers: tuple[Marker, ...] = ()  # cyclictest spikes (issue 11)
        self.kind = EventKind.VMEXIT
        self.trend_of_mean = False
        self.session: RecordingSession | None = None
        self.by_vcpu = False
        self.vcpus_of: Callable[[int | None], Sequence[VCpu]] = lambda pid: ()
        self._kind_bar: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="kind-bar")
        yield ExitTable(id="exit-table")  # on a wide terminal, the detail beside (app.tcss)
        yield VcpuTable(id="vcpu-table")
        yield ReasonDetail(id="live-detail", min_redraw_s=2.0, both_charts=False)
        yield SeriesPlot(id="series-plot")
        yield LatencyStrip(id="latency-strip")

    def on_mount(self) -> None:
        self._update_kind_bar()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE, "-wide")
        self.call_after_refresh(self._refresh_plot)

    @cached_property
    def table(self) -> ExitTable:  # looked up once: a query per use cost 40 µs per interval
        return self.query_one(ExitTable)

    @cached_property
    def _plot(self) -> SeriesPlot:
        return self.query_one("#series-plot", SeriesPlot)

    @cached_property
    def _detail(self) -> ReasonDetail:
        return self.query_one(ReasonDetail)

    @property
    def wide(self) -> bool:
        return self.has_class("-wide")

    # ---- told by the App ---------------------------------------------------------------
    def started(self, session: RecordingSession) -> None:
        """A new recording: forget the old one's rows."""
        self.table.clear_rows()
        self.show(session)

    def show(self, session: RecordingSession | None) -> None:
        """The session's model changed (an interval, a mark, its end): re-render."""
        self.session = session
        if session is not None:
            self.table.show(session.acc, self.kind, trend_of_mean=self.trend_of_mean)
            self.table.empty_note = session.silence_note
            if self.by_vcpu:
                pid = session.info.pid
                self._show_vcpus(pid, vcpu_rows(session.acc, self.vcpus_of(pid)))
            self._refresh_plot()
        self._update_kind_bar()

    def selected_view(self) -> ReasonView | None:
        reason = self.table.selected_reason
        return None if reason is None else self.view_of(reason)

    def view_of(self, reason: str) -> ReasonView | None:
        """What the detail of `reason` shows now (None: no recording)."""
        return None if self.session is None else reason_view(self.session, self.kind, reason)

    # ---- its own state -----------------------------------------------------------------
    def cycle_kind(self) -> None:
        self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        if self.session is None:
            self.table.kind = self.kind
        self.show(self.session)

    def toggle_vcpus(self) -> None:
        """The table by reason, or one row per vCPU (top reasons, CPUs, scheduling)."""
        self.by_vcpu = not self.by_vcpu
        self.table.display = not self.by_vcpu
        self.query_one(VcpuTable).display = self.by_vcpu
        self.show(self.session)

    @work(thread=True, exclusive=True, group="vcpus", exit_on_error=False)
    def _show_vcpus(self, pid: int | None, rows: list[VcpuRow]) -> None:
        """Add each vCPU thread's scheduling (read from the kernel, off the UI thread)."""
        if pid is not None:
            rows = [replace(r, sched=read_sched(pid, r.tid) if r.tid else None) for r in rows]
        self.app.call_from_thread(self.query_one(VcpuTable).show, rows)

    def toggle_trend(self) -> None:
        self.trend_of_mean = not self.trend_of_mean
        self.show(self.session)

    def sort_next(self) -> None:
        self.table.action_sort_next()
        self._update_kind_bar()

    def sort_previous(self) -> None:
        self.table.action_sort_previous()
        self._update_kind_bar()

    def reverse(self) -> None:
        self.table.action_reverse()
        self._update_kind_bar()

    # ---- drawing -----------------------------------------------------------------------
    def _refresh_plot(self) -> None:
        session = self.session
        if session is None:
            return
        if not self.wide:  # the chart under the table (hidden beside the detail)
            reason = self.table.selected_reason
            acc = session.acc
            self._plot.show(
                reason,
                acc.reason_series(self.kind, reason) if reason else None,
                origin=acc.first_start,
                markers=[*acc.markers, *self.spike_markers],
                of_mean=self.trend_of_mean,
                label="SIMULATED " if session.info.simulated else "",
            )
        else:
            detail = self._detail
            detail.of_mean = self.trend_of_mean  # one chart beside the table: the trend's
            detail.show(self.selected_view())

    def _update_kind_bar(self) -> None:
        table = self.table
        text = Text()
        for kind in KINDS:
            style = "bold reverse" if kind == self.kind else "dim"
            text.append(f" {kind.value} ", style=style)
        text.append("  times in µs · trend: ", style="dim")
        text.append("mean" if self.trend_of_mean else "rate", style="bold")
        text.append(" · sort: ", style="dim")
        text.append(f"{table.sort_title} {'▼' if table.descending else '▲'}", style="bold")
        if self.session is not None and self.session.info.simulated:
            text.append("  SIMULATED", style="bold magenta")
        if text != self._kind_bar:
            self._kind_bar = text
            self.query_one("#kind-bar", Static).update(text, layout=False)  # one line, fixed

    @on(ExitTable.ReasonHighlighted)
    def _reason_highlighted(self) -> None:
        self._refresh_plot()

    @on(ExitTable.ReasonSelected)
    def _reason_selected(self, event: ExitTable.ReasonSelected) -> None:
        event.stop()
        view = self.view_of(event.reason)
        if view is not None:
            self.post_message(self.DetailRequested(view))
