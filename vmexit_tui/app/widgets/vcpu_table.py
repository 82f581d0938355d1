"""The live table "by vCPU × reason": one row per vCPU with its top reasons and scheduling."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from vmexit_tui.analysis.vcpu_view import VcpuRow
from vmexit_tui.app import format as fmt
from vmexit_tui.app.format import NumberText

COLUMNS = (
    ("vcpu", "vCPU"),
    ("tid", "TID"),
    ("samples", "Exits"),
    ("rate", "Rate"),
    ("p99", "P99≤"),
    ("top", "Top reasons"),
    ("cpus", "CPUs"),
    ("last", "Last"),
    ("sched", "Sched"),
)
LEFT = {"top", "sched", "cpus"}


def cells(row: VcpuRow) -> list[NumberText]:
    """The row's cells: formatted text, sorting by the raw value."""
    s = row.sched
    top = " ".join(f"{name} {share:.0f}%" for name, share in row.top) or fmt.ABSENT
    values: list[tuple[str, float | str | None]] = [
        (str(row.index), row.index),
        (str(row.tid) if row.tid is not None else fmt.UNKNOWN, row.tid),
        (fmt.count(row.samples), row.samples),
        (fmt.rate(row.rate), row.rate),
        (fmt.us(row.p99_us) if row.p99_us is not None else fmt.UNKNOWN, row.p99_us),
        (top, top),
        (s.affinity if s else fmt.UNKNOWN, s.affinity if s else None),
        (str(s.last_cpu) if s and s.last_cpu is not None else fmt.UNKNOWN,
         s.last_cpu if s else None),
        (s.label if s else fmt.UNKNOWN, s.label if s else None),
    ]  # fmt: skip
    out = []
    for (key, _), (text, value) in zip(COLUMNS, values, strict=True):
        cell = NumberText(f" {text}", value)
        if key in LEFT:
            cell.justify = "left"
        out.append(cell)
    return out


class VcpuTable(DataTable):
    """Rows keyed by vCPU index; `show(rows)` updates cells in place."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)
        self._shown: dict[tuple[int, str], str] = {}

    def on_mount(self) -> None:
        for key, title in COLUMNS:
            label = NumberText(f" {title}", None, "bold")
            label.justify = "left" if key in LEFT else "right"
            self.add_column(label, key=key)

    def show(self, rows: Sequence[VcpuRow]) -> None:
        keep = {str(r.index) for r in rows}
        for gone in [k for k in self.rows if k.value not in keep]:
            self.remove_row(gone)
        for row in rows:
            key = str(row.index)
            new = cells(row)
            if key not in self.rows:
                self.add_row(*new, key=key)
            else:
                for (col, _), cell in zip(COLUMNS, new, strict=True):
                    if self._shown.get((row.index, col)) != cell.plain:
                        self.update_cell(key, col, cell, update_width=True)
            for (col, _), cell in zip(COLUMNS, new, strict=True):
                self._shown[(row.index, col)] = cell.plain
        self.sort("vcpu")
