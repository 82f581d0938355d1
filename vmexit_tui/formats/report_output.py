"""A report for people (an aligned table) and for machines (JSON, CSV).

The JSON codec is `formats/report_json.py` (re-exported here); this module adds the table
and CSV.
"""

from __future__ import annotations

import csv
import io

from vmexit_tui.analysis.model import Report
from vmexit_tui.formats import numbers
from vmexit_tui.formats.report_json import report_from_json, report_to_json, row_to_json

__all__ = [
    "CSV_COLUMNS",
    "report_from_json",
    "report_to_csv",
    "report_to_json",
    "report_to_table",
    "row_to_json",
    "scope_text",
]

CSV_COLUMNS = (
    "reason", "samples", "samples_pct", "time_pct", "min_us", "max_us", "mean_us",
    "rel_stddev_pct", "rel_stddev_upper_pct",
)  # fmt: skip


def report_to_csv(report: Report) -> str:
    """One line per row, CSV_COLUMNS as header; unknown values are empty cells."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        d = row_to_json(row)
        writer.writerow(["" if d[c] is None else d[c] for c in CSV_COLUMNS])
    return buf.getvalue()


def _pct(value: float | None) -> str:
    shown = numbers.percent(value)
    return shown if shown == numbers.UNKNOWN else shown + "%"


def scope_text(report: Report) -> str:
    if not report.scope.known:
        return "scope not in the input"
    who = "all VMs" if report.scope.all_vms else "pid " + ",".join(map(str, report.scope.pids))
    vcpu = "all vCPUs" if report.scope.vcpu is None else f"vCPU {report.scope.vcpu}"
    return f"{who}, {vcpu}"


def report_to_table(report: Report, *, meanings: dict[str, str] | None = None) -> str:
    """An aligned plain-text table with a title line and a totals line."""
    head = ("reason", "samples", "share", "time%", "min us", "max us", "mean us", "spread")
    body = [
        (
            r.reason,
            numbers.count(r.samples),
            _pct(r.samples_pct),
            _pct(r.time_pct),
            numbers.us(r.min_us),
            numbers.us(r.max_us),
            numbers.us(r.mean_us),
            numbers.spread(r.rel_stddev_pct, r.rel_stddev_below),
        )
        for r in report.rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = [
        f"{report.event.value} exits — {scope_text(report)}"
        + (f" — {report.source}" if report.source else "")
    ]
    for i, cells in enumerate([head, *body]):
        text = "  ".join(
            c.ljust(w) if j == 0 else c.rjust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        if meanings is not None and i > 0:
            text += "  " + meanings.get(cells[0], "")
        lines.append(text.rstrip())
    total_n = numbers.count(report.total_samples)
    lines.append(f"total samples {total_n}, handled time {numbers.duration(report.total_time_us)}")
    if report.lost_events:
        lines.append(f"lost events {report.lost_events}")
    if not report.rows:
        lines.append("(no rows: perf saw no exits of this kind)")
    lines.append(numbers.LEGEND)
    return "\n".join(lines) + "\n"
