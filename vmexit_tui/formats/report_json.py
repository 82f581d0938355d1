"""The one JSON codec of a `Report`: what `report --json` prints and what snapshots store.

The shape is a public interface::

    {"event": "vmexit", "scope": {"pids": [...], "vcpu": int|null}, "source": str|null,
     "perf_layout": {"name_width": 20|40}, "timestamp": str|null, "total_samples": int|null,
     "total_time_us": float|null, "lost_events": int|null, "unknown_codes": [str],
     "rows": [{"reason", "samples", "samples_pct", "time_pct", "min_us", "max_us", "mean_us",
               "rel_stddev_pct", "rel_stddev_upper_pct", "histogram"?}]}

Unknown values are null; `rel_stddev_upper_pct` is set when only an upper bound of the spread
is known (a pager cut the column off); `histogram` (bucket upper bound in µs → count) only
when the source measured one. `report_from_json` is strict: a wrong shape raises
`ReportJsonError` naming where (`rows[3].samples: expected an integer, found "12"`). It also
reads the shape schema-2 snapshots stored (`name_width` at the top, `rel_stddev_below`).
"""

from __future__ import annotations

import json
from typing import Any

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.model import EventKind, ExitStat, Report, Scope
from vmexit_tui.formats.json_checks import DocumentError, check, get, items, obj

ReportJsonError = DocumentError  # the name `report --json` readers know


def row_to_json(row: ExitStat) -> dict[str, Any]:
    data: dict[str, Any] = {
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
    if row.histogram is not None:
        data["histogram"] = row.histogram.to_json()
    return data


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


def _value(data: dict, key: str, kind: type, where: str, *, optional: bool = True) -> Any:
    """`data[key]` checked; an optional key may be missing (files written before it)."""
    if optional:
        return check(data.get(key), kind, f"{where}.{key}", optional=True)
    return get(data, key, kind, where)


def _row(data: Any, where: str) -> ExitStat:
    data = obj(data, where)
    upper = "rel_stddev_upper_pct" if "rel_stddev_upper_pct" in data else "rel_stddev_below"
    histogram = None
    if data.get("histogram") is not None:
        try:
            histogram = Log2Histogram.from_json(obj(data["histogram"], f"{where}.histogram"))
        except (TypeError, ValueError) as e:
            msg = f"{where}.histogram: expected bucket bound (µs) → count, {e}"
            raise ReportJsonError(msg) from None
    return ExitStat(
        reason=_value(data, "reason", str, where, optional=False),
        samples=_value(data, "samples", int, where, optional=False),
        samples_pct=_value(data, "samples_pct", float, where),
        time_pct=_value(data, "time_pct", float, where),
        min_us=_value(data, "min_us", float, where),
        max_us=_value(data, "max_us", float, where),
        mean_us=_value(data, "mean_us", float, where),
        rel_stddev_pct=_value(data, "rel_stddev_pct", float, where),
        rel_stddev_below=_value(data, upper, float, where),
        histogram=histogram,
    )


def report_from_json(data: Any, where: str = "report") -> Report:
    """Inverse of `report_to_json`; `ReportJsonError` (a ValueError) on a wrong shape."""
    data = obj(data, where)
    try:
        event = EventKind(data.get("event"))
    except ValueError:
        known = ", ".join(k.value for k in EventKind)
        shown = json.dumps(data.get("event"))[:40]
        raise ReportJsonError(f"{where}.event: expected one of {known}, found {shown}") from None
    scope = obj(data.get("scope") or {}, f"{where}.scope")
    pids = tuple(
        check(p, int, f"{where}.scope.pids[{i}]")
        for i, p in enumerate(items(scope.get("pids") or [], f"{where}.scope.pids"))
    )
    layout = obj(data.get("perf_layout") or {}, f"{where}.perf_layout")
    name_width = layout.get("name_width", data.get("name_width", 20))
    codes = items(data.get("unknown_codes") or [], f"{where}.unknown_codes")
    return Report(
        event=event,
        rows=tuple(
            _row(r, f"{where}.rows[{i}]")
            for i, r in enumerate(items(data.get("rows"), f"{where}.rows"))
        ),
        total_samples=_value(data, "total_samples", int, where),
        total_time_us=_value(data, "total_time_us", float, where),
        scope=Scope(pids=pids, vcpu=_value(scope, "vcpu", int, f"{where}.scope")),
        lost_events=_value(data, "lost_events", int, where),
        name_width=check(name_width, int, f"{where}.name_width"),
        timestamp=_value(data, "timestamp", str, where),
        unknown_codes=tuple(
            check(c, str, f"{where}.unknown_codes[{i}]") for i, c in enumerate(codes)
        ),
        source=_value(data, "source", str, where),
    )
