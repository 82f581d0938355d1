"""The fleet view: several exporters' guests in one table, polled in a thread worker."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from vmexit_tui.app.screens.fleet_vm_screen import FleetVmScreen
from vmexit_tui.app.widgets.fleet_table import FleetTable
from vmexit_tui.app.widgets.key_bar import KeyBar
from vmexit_tui.exporter.fleet import FleetTracker, FleetView


class FleetPolled(Message):
    """One poll of every host finished."""

    def __init__(self, view: FleetView) -> None:
        super().__init__()
        self.view = view


class FleetScreen(Screen[None]):
    """Hosts × guests; enter opens a guest's reasons live, s/r sort, q quits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort_next", "Sort", tooltip="Sort by the next column"),
        Binding("r", "reverse", "Rev", tooltip="Reverse the sort order"),
        Binding("enter", "open", "Reasons", tooltip="This guest's exit reasons, live"),
        Binding("p", "poll", "Poll now", tooltip="Read every exporter now"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, tracker: FleetTracker, interval_s: float = 5.0) -> None:
        super().__init__()
        self.tracker = tracker
        self.interval_s = interval_s
        self.view: FleetView | None = None
        self.polling = False

    def compose(self) -> ComposeResult:
        hosts = len(self.tracker.hosts)
        yield Static(
            Text(f"Fleet: {hosts} exporter{'s' * (hosts != 1)}", style="bold"), id="fleet-title"
        )
        yield FleetTable(id="fleet-table")
        yield Static("reading the exporters…", id="fleet-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(self.interval_s, self._tick)

    def action_poll(self) -> None:
        self._tick()

    def _tick(self) -> None:
        if not self.polling:  # polls never overlap: a slow host delays the next one
            self.polling = True
            self._poll()

    @work(thread=True, group="fleet-poll", exit_on_error=False)
    def _poll(self) -> None:
        try:
            view = self.tracker.poll()
        except Exception as exc:  # never lose the screen to one bad poll
            self.post_message(FleetPolled(FleetView((), time.time())))
            self.app.log.error(f"fleet poll failed: {exc}")
            return
        self.post_message(FleetPolled(view))

    @on(FleetPolled)
    def _polled(self, message: FleetPolled) -> None:
        self.polling = False
        if not message.view.rows and self.view is not None:
            return
        self.view = message.view
        self.query_one(FleetTable).show(message.view)
        down = sorted({r.host for r in message.view.rows if r.error})
        clock = time.strftime("%H:%M:%S", time.localtime(message.view.polled_at))
        text = Text(f"polled {clock}", style="dim")
        if down:
            text.append(f"   unreachable or bad: {', '.join(down)}", style="bold red")
        self.query_one("#fleet-status", Static).update(text)
        top = self.app.screen
        if isinstance(top, FleetVmScreen):
            top.show(message.view)

    def action_sort_next(self) -> None:
        self.query_one(FleetTable).action_sort_next()

    def action_reverse(self) -> None:
        self.query_one(FleetTable).action_reverse()

    def action_open(self) -> None:
        key = self.query_one(FleetTable).selected_key
        if key is None or self.view is None:
            return
        row = self.view.row(key)
        if row is not None and row.vm is not None:
            self.app.push_screen(FleetVmScreen(key, self.view))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()
