# ruff: noqa: UP031  (printf-style on purpose: these are perf's C formats)
"""perf >= 6.4's table view of `perf kvm stat report`: read one row, print a whole table.

From perf 6.4 `perf kvm stat report` keeps its results in a `hists` and, on a terminal, opens
the hists browser (tools/perf/builtin-kvm.c, `sort_result()` and the `dim_*` dimensions).
Its columns are fixed, `"ev_name,sample,percent_sample,time,percent_time,max_t,min_t,mean_t"`;
each is printed right-aligned in its width and columns are joined by two spaces::

    header  "%*s" "Event name" 40 | "Samples" 12 | "Sample%" 12 | "Time (ns)" 12 | "Time%" 12
            | "Max Time (ns)" 14 | "Min Time (ns)" 14 | "Mean Time (ns)" 14
    row     "%*s" name | "%*lu" count | "%.2F%%" share | "%*lu" total ns | "%.2F%%" share
            | "%*lu" max ns | "%*lu" min ns | "%*lu" (u64) running mean, i.e. truncated

The browser's title bar reads `KVM event statistics (%lu entries)`. There is no `Analyze events`
line, no `Total` line, no spread, and no event kind: the kind is inferred from the keys.
Rows are read by tokens counted from the right, as for the classic layout; the mean of a row is
taken as Time / Samples (exact), and a printed Mean Time that disagrees is an error.
"""

from __future__ import annotations

import re

from vmexit_tui.analysis.model import EventKind, ExitStat, Report

NAME_WIDTH = 40
COLUMNS: tuple[tuple[str, int], ...] = (
    ("Event name", NAME_WIDTH),
    ("Samples", 12),
    ("Sample%", 12),
    ("Time (ns)", 12),
    ("Time%", 12),
    ("Max Time (ns)", 14),
    ("Min Time (ns)", 14),
    ("Mean Time (ns)", 14),
)
SEPARATOR = "  "

HEADER = re.compile(
    r"^(?P<lead>\s*)Event name\s+Samples\s+Sample%\s+Time \(ns\)\s+Time%"
    r"\s+Max Time \(ns\)\s+Min Time \(ns\)\s+Mean Time \(ns\)\s*$"
)
TITLE = re.compile(r"^KVM event statistics \((?P<n>\d+) entries\)$")
_PCT = r"\d+(?:\.\d+)?"
ROW = re.compile(
    rf"^(?P<name>.*?\S)\s+(?P<n>\d+)\s+(?P<sp>{_PCT})%\s+(?P<t>\d+)\s+(?P<tp>{_PCT})%"
    r"\s+(?P<max>\d+)\s+(?P<min>\d+)\s+(?P<mean>\d+)$"
)
EXPECTED_ROW = (
    "a table-view row (name, then Samples Sample% Time(ns) Time% Max Min Mean, in integer "
    "nanoseconds)"
)
_IOPORT_KEY = re.compile(r"^(?:0x[0-9a-f]+|0):P(?:IN|OUT)$")
_RW_KEY = re.compile(r"^(?:0x[0-9a-f]+|0):[RW]$")


class TableViewRowError(ValueError):
    """A line that has a table-view row's shape but numbers that contradict each other."""


def parse_row(line: str) -> ExitStat | None:
    """One row of the table view, or None when the line does not have a row's shape."""
    m = ROW.match(line)
    if m is None:
        return None
    n = int(m["n"])
    time_ns = int(m["t"])
    mean_ns = int(m["mean"])
    if n == 0 or abs(time_ns / n - mean_ns) >= 1.0:
        raise TableViewRowError(
            f"Mean Time {mean_ns} is not Time / Samples = {time_ns} / {n} (columns shifted?)"
        )
    return ExitStat(
        reason=m["name"],
        samples=n,
        samples_pct=float(m["sp"]),
        time_pct=float(m["tp"]),
        min_us=int(m["min"]) / 1000,
        max_us=int(m["max"]) / 1000,
        mean_us=time_ns / n / 1000,
    )


def infer_kind(rows: tuple[ExitStat, ...]) -> tuple[EventKind, str | None]:
    """The event kind the keys imply, and a note when the guess is ambiguous."""
    names = [r.reason for r in rows]
    if names and all(_IOPORT_KEY.match(n) for n in names):
        return EventKind.IOPORT, None
    if names and all(_RW_KEY.match(n) for n in names):
        return EventKind.MMIO, (
            "the table view does not name its event kind; address:R/W keys read as mmio "
            "(msr keys look the same)"
        )
    return EventKind.VMEXIT, None


class UnprintableRow(ValueError):
    """A row holds values the table view cannot print (unknown, or not whole nanoseconds)."""


def _ns(value: float | None, what: str, reason: str) -> int:
    if value is None:
        raise UnprintableRow(f"row {reason!r}: {what} is unknown")
    return round(value * 1000)


def format_row(row: ExitStat) -> str:
    """One row as the hists browser prints it (no newline)."""
    if row.samples_pct is None or row.time_pct is None:
        raise UnprintableRow(f"row {row.reason!r}: a share is unknown")
    total_ns = _ns(row.total_us, "the mean", row.reason)
    cells = (
        "%*s" % (NAME_WIDTH, row.reason),
        "%*u" % (12, row.samples),
        "%*s" % (12, "%.2F%%" % row.samples_pct),
        "%*u" % (12, total_ns),
        "%*s" % (12, "%.2F%%" % row.time_pct),
        "%*u" % (14, _ns(row.max_us, "the max", row.reason)),
        "%*u" % (14, _ns(row.min_us, "the min", row.reason)),
        "%*u" % (14, total_ns // row.samples if row.samples else 0),
    )
    return SEPARATOR.join(cells)


def format_table_view(report: Report, *, title: bool = True) -> str:
    """What a user copies from perf >= 6.4's report browser, title bar included."""
    lines = []
    if title:
        lines.append("KVM event statistics (%lu entries)" % len(report.rows))
    lines.append(SEPARATOR.join("%*s" % (w, h) for h, w in COLUMNS))
    lines.extend(format_row(r) for r in report.rows)
    return "\n".join(lines) + "\n"
