"""Print a `Report` back in perf kvm stat's exact layout (parse -> write -> parse is identity)."""

from __future__ import annotations

from vmexit_tui.analysis.model import ExitStat, Report
from vmexit_tui.formats.perf_report_lines import CLEAR_SCREEN


class UnprintableReport(ValueError):
    """A report holds unknown values in places perf's layout has no way to show."""


def _scope_line(report: Report) -> str:
    if not report.scope.known:
        return ""  # an excerpt that started at the column header
    who = (
        "all VMs, " if report.scope.all_vms else f"pid(s) {','.join(map(str, report.scope.pids))}, "
    )
    vcpu = "all VCPUs:" if report.scope.vcpu is None else f"VCPU {report.scope.vcpu}:"
    return f"Analyze events for {who}{vcpu}\n\n"


def _cut_prefix(bound: float) -> str:
    """What a pager left of a spread known to be below `bound` (inverse of `cut_bound`)."""
    text = f"{bound:.2f}".rstrip("0").rstrip(".")
    if "." not in text:
        return str(int(bound) - 1)
    frac = text.split(".")[1]
    digits = len(frac)
    return f"{bound - 10.0**-digits:.{digits}f}"


def format_row(row: ExitStat, width: int = 20) -> str:
    """One row, without its newline."""
    fields = (row.samples_pct, row.time_pct, row.min_us, row.max_us, row.mean_us)
    if any(v is None for v in fields):
        raise UnprintableReport(
            f"row {row.reason!r} has unknown values that perf's layout cannot show"
        )
    sp, tp, mn, mx, mean = fields
    head = (
        f"{row.reason:>{width}} {row.samples:10d} {sp:8.2f}% {tp:8.2f}% "
        f"{mn:9.2f}us {mx:9.2f}us {mean:9.2f}us "
    )
    if row.rel_stddev_pct is not None:
        return head + f"( +-{row.rel_stddev_pct:7.2f}% )"
    if row.rel_stddev_below is not None:
        # a pager's right edge keeps the "%7.2f" field's integer digits (units at column 4)
        prefix = _cut_prefix(row.rel_stddev_below)
        pad = max(4 - len(prefix.split(".")[0]), 0)
        return head + "( +-" + " " * pad + prefix + ">"
    raise UnprintableReport(f"row {row.reason!r} has no spread (perf always prints one)")


def format_report(report: Report, *, live: bool = False) -> str:
    """The text perf prints for `report` (stderr, plus the clear-screen of live mode)."""
    w = report.name_width
    out: list[str] = []
    if live or report.timestamp is not None:
        out.append(CLEAR_SCREEN + "\n")
        out.append(report.timestamp or "00:00:00.000000")
    out.append("\n\n")
    out.append(_scope_line(report))
    out.append(
        f"{report.event.column_title:>{w}} {'Samples':>10} {'Samples%':>9} {'Time%':>9} "
        f"{'Min Time':>11} {'Max Time':>11} {'Avg time':>16} \n\n"
    )
    codes = list(report.unknown_codes)
    for row in report.rows:
        if row.reason == "UNKNOWN" and codes:
            out.extend(code + "\n" for code in codes)
            codes = []
        out.append(format_row(row, w) + "\n")
    out.extend(code + "\n" for code in codes)
    if report.total_samples is not None:
        if report.total_time_us is None:
            raise UnprintableReport("the total time is unknown but the sample total is not")
        out.append(
            f"\nTotal Samples:{report.total_samples}, "
            f"Total events handled time:{report.total_time_us:.2f}us.\n\n"
        )
    if report.lost_events and report.total_samples is not None:
        out.append(f"\nLost events: {report.lost_events}\n\n")
    return "".join(out)
