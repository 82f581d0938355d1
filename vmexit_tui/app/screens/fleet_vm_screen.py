"""One guest of the fleet: its exit reasons, live, from its exporter's /metrics."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from vmexit_tui.app import format as fmt
from vmexit_tui.app.format import NumberText
from vmexit_tui.app.widgets.key_bar import KeyBar
from vmexit_tui.exporter.fleet import FleetRow, FleetView

_COLUMNS = (
    ("reason", "Reason"),
    ("rate", "Exits/s"),
    ("share", "Share%"),
    ("total", "Total"),
    ("time", "KVM time/s"),
)


class FleetVmScreen(Screen[None]):
    """Reasons of one host × guest row, updated at every fleet poll; esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, key: str, view: FleetView) -> None:
        super().__init__()
        self.key = key
        self.latest = view
        self.ready = False  # columns added: views that arrive before wait in `latest`

    def compose(self) -> ComposeResult:
        yield Static(id="fleet-vm-title")
        table: DataTable = DataTable(id="fleet-vm-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, title in _COLUMNS:
            table.add_column(title, key=key)
        self.ready = True
        self.show(self.latest)

    def show(self, view: FleetView) -> None:
        self.latest = view
        if not self.ready:
            return
        row = view.row(self.key)
        title = self.query_one("#fleet-vm-title", Static)
        if row is None:
            title.update(
                Text(f"{self.key.replace(chr(0), ' · ')}: gone from its exporter", style="bold red")
            )
            return
        title.update(_title(row))
        table = self.query_one(DataTable)
        wanted = {r.reason: r for r in row.reasons}
        for gone in [k for k in table.rows if k.value not in wanted]:
            table.remove_row(gone)
        for reason, r in wanted.items():
            cells = [
                _cell(reason, reason, left=True),
                _cell(fmt.rate(r.rate), r.rate),
                _cell(fmt.UNKNOWN if r.share is None else fmt.pct(100 * r.share), r.share),
                _cell(fmt.count(int(r.total)), r.total),
                _cell(
                    fmt.UNKNOWN if r.seconds_per_s is None else f"{1e3 * r.seconds_per_s:.2f} ms",
                    r.seconds_per_s,
                ),
            ]
            if reason in table.rows:
                for (key, _), cell in zip(_COLUMNS, cells, strict=True):
                    table.update_cell(reason, key, cell)
            else:
                table.add_row(*cells, key=reason)
        table.sort("share", key=lambda c: (c.value is None, -(c.value or 0.0)))


def _cell(display: str, value: float | str | None, *, left: bool = False) -> NumberText:
    cell = NumberText(f" {display}", value)
    if left:
        cell.justify = "left"
    return cell


def _title(row: FleetRow) -> Text:
    text = Text(f"{row.vm} on {row.host}", style="bold")
    text.append(
        f"   pid {row.pid}   pinning {row.pinning}   exits/s {fmt.rate(row.exits_per_s)}",
        style="dim",
    )
    if row.error:
        text.append(f"   ✗ {row.error} (last known figures)", style="bold red")
    return text
