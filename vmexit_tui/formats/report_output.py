"""A report for people (an aligned table) and for machines (JSON, CSV).

The JSON shape is a public interface::

    {"event": "vmexit", "scope": {"pids": [...], "vcpu": int|null}, "source": str|null,
     "perf_layout": {"name_width": 20|40}, "total_samples": int|null, "total_time_us": float|null,
     "lost_events": int|null, "unknown_codes": [str],
     "rows": [{"reason", "samples", "samples_pct", "time_pct", "min_us", "max_us", "mean_us",
               "rel_stddev_pct", "rel_stddev_upper_pct"}]}

Unknown values are null; `rel_stddev_upper_pct` is set when only an upper bound of the spread
is known (a pager cut the column off).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope
from vmexit_tui.formats import numbers

CSV_COLUMNS = (
    "reason", "samples", "samples_pct", "time_pct", "min_us", "max_us", "mean_us",
    "rel_stddev_pct", "rel_stddev_upper_pct",
)  # fmt: skip


def row_to_json(row: ExitStat) -> dict[str, Any]:
    return {
        "reason": row.reason,
        "samples": row.samples,
        "samples_pct": row.samples_pct,
        "time_pct": row.time_pct,
        "min_us": row.min_us,
        "max_us": row.max_us,
        "mean_us": row.mean_us,
        "rel_stddev_pct": row.rel_stddev_pct,
        "rel_stddev_upper_pct": row.rel_stddev_below,
    }


def report_to_json(report: Report) -> dict[str, Any]:
    """The public JSON object of one report."""
    return {
        "event": report.event.value,
        "scope": {"pids": list(report.scope.pids), "vcpu": report.scope.vcpu},
        "source": report.source,
        "perf_layout": {"name_width": report.name_width},
        "timestamp": report.timestamp,
        "total_samples": report.total_samples,
        "total_time_us": report.total_time_us,
        "lost_events": report.lost_events,
        "unknown_codes": list(report.unknown_codes),
        "rows": [row_to_json(r) for r in report.rows],
    }


def report_from_json(data: dict[str, Any]) -> Report:
    """Inverse of `report_to_json` (raises KeyError/ValueError/TypeError on a bad shape)."""
    scope = data.get("scope") or {}
    rows = tuple(
        ExitStat(
            reason=str(r["reason"]),
            samples=int(r["samples"]),
            samples_pct=r.get("samples_pct"),
            time_pct=r.get("time_pct"),
            min_us=r.get("min_us"),
            max_us=r.get("max_us"),
            mean_us=r.get("mean_us"),
            rel_stddev_pct=r.get("rel_stddev_pct"),
            rel_stddev_below=r.get("rel_stddev_upper_pct"),
        )
        for r in data["rows"]
    )
    return Report(
        event=EventKind(data["event"]),
        rows=rows,
        total_samples=data.get("total_samples"),
        total_time_us=data.get("total_time_us"),
        scope=Scope(pids=tuple(scope.get("pids") or ()), vcpu=scope.get("vcpu")),
        lost_events=data.get("lost_events"),
        name_width=int((data.get("perf_layout") or {}).get("name_width", 20)),
        timestamp=data.get("timestamp"),
        unknown_codes=tuple(data.get("unknown_codes") or ()),
        source=data.get("source"),
    )


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
