"""The ``"run"`` object of a run snapshot: a `SavedRun` to JSON and back, no file I/O::

"run": {"info": {...RunInfo}, "duration_s", "totals": {kind: report},
        "series": {kind: {reason: [[start, end, count, mean_us], ...]}},
        "markers": [{"time", "label"}],
        "latency": null | {...} and "audit": [...] (since version 2, see
        `vmexit_tui.formats.run_context_json`)}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vmexit_tui.analysis.comparison import ComparedRun
from vmexit_tui.analysis.latency import LatencyInterval, LatencySummary
from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.analysis.running import Marker, RunAccumulator, RunInfo, SeriesPoint
from vmexit_tui.formats import report_json, run_context_json
from vmexit_tui.formats.json_checks import DocumentError, check, get, items, obj
from vmexit_tui.formats.snapshot_fields import event, run_info
from vmexit_tui.host.audit import AuditCheck

Series = dict[EventKind, dict[str, tuple[SeriesPoint, ...]]]


@dataclass(frozen=True, slots=True)
class SavedRun:
    """A run as loaded from a snapshot."""

    info: RunInfo
    totals: dict[EventKind, Report]
    series: Series
    markers: tuple[Marker, ...]
    duration_s: float | None
    saved: float | None = None
    latency: LatencySummary | None = None
    latency_intervals: tuple[LatencyInterval, ...] = ()
    audit: tuple[AuditCheck, ...] = ()

    def compared(self, kind: EventKind = EventKind.VMEXIT) -> ComparedRun:
        """This run as a `ComparedRun` of one event kind."""
        if kind not in self.totals:
            have = ", ".join(k.value for k in self.totals) or "none"
            raise KeyError(f"run {self.info.label!r} has no {kind.value} totals (has: {have})")
        return ComparedRun(self.info.label, self.totals[kind], self.duration_s, self.info)


def _duration(info: RunInfo, acc: RunAccumulator | None) -> float | None:
    if info.started is not None and info.stopped is not None:
        return max(info.stopped - info.started, 0.0)
    if acc is not None and acc.first_start is not None and acc.last is not None:
        return max(acc.last.end - acc.first_start, 0.0)
    return None


def run_to_json(
    info: RunInfo,
    totals: Mapping[EventKind, Report],
    series: RunAccumulator | None = None,
    markers: Iterable[Marker] | None = None,
    *,
    duration_s: float | None = None,
    latency: LatencySummary | None = None,
    latency_intervals: Iterable[LatencyInterval] = (),
    audit: Iterable[AuditCheck] = (),
) -> dict[str, Any]:
    """The ``"run"`` object; markers default to the accumulator's, the duration to
    start..stop (else the accumulator's first..last interval)."""
    if markers is None:
        markers = series.markers if series is not None else ()
    points = (
        {
            kind.value: {
                reason: [[p.start, p.end, p.count, p.mean_us] for p in s.points]
                for reason, s in by_reason.items()
            }
            for kind, by_reason in series.series.items()
        }
        if series is not None
        else {}
    )
    return {
        "info": dataclasses.asdict(info),
        "duration_s": duration_s if duration_s is not None else _duration(info, series),
        "totals": {EventKind(k).value: report_json.report_to_json(r) for k, r in totals.items()},
        "series": points,
        "markers": [{"time": m.time, "label": m.label} for m in markers],
        "latency": run_context_json.latency_to_json(latency, latency_intervals)
        if latency is not None
        else None,
        "audit": run_context_json.audit_to_json(audit),
    }


def _series(data: Any, where: str) -> Series:
    out: Series = {}
    for kind, by_reason in obj(data, where).items():
        w = f"{where}.{kind}"
        reasons: dict[str, tuple[SeriesPoint, ...]] = {}
        for reason, points in obj(by_reason, w).items():
            pts = []
            for i, p in enumerate(items(points, f"{w}.{reason}")):
                pw = f"{w}.{reason}[{i}]"
                if not isinstance(p, list) or len(p) != 4:
                    raise DocumentError(f"{pw}: expected [start, end, count, mean_us]")
                pts.append(
                    SeriesPoint(
                        check(p[0], float, pw + "[0]"),
                        check(p[1], float, pw + "[1]"),
                        check(p[2], int, pw + "[2]"),
                        check(p[3], float, pw + "[3]", optional=True),
                    )
                )
            reasons[reason] = tuple(pts)
        out[event(kind, w)] = reasons
    return out


def run_from_json(data: Any, saved: float | None = None) -> SavedRun:
    """The `SavedRun` of a ``"run"`` object; `DocumentError` names the key path."""
    run = obj(data, "run")
    totals = {
        event(k, f"run.totals.{k}"): report_json.report_from_json(v, f"run.totals.{k}")
        for k, v in obj(run.get("totals"), "run.totals").items()
    }
    markers = tuple(
        Marker(
            get(obj(m, f"run.markers[{i}]"), "time", float, f"run.markers[{i}]"),
            get(m, "label", str, f"run.markers[{i}]"),
        )
        for i, m in enumerate(items(run.get("markers"), "run.markers"))
    )
    try:  # both absent from version 1 files
        latency, intervals = (
            run_context_json.latency_from_json(run["latency"], "run.latency")
            if run.get("latency") is not None
            else (None, ())
        )
        audit = run_context_json.audit_from_json(run.get("audit", []), "run.audit")
    except ValueError as exc:
        raise DocumentError(str(exc)) from None
    return SavedRun(
        info=run_info(run.get("info"), "run.info"),
        totals=totals,
        series=_series(run.get("series"), "run.series"),
        markers=markers,
        duration_s=get(run, "duration_s", float, "run", optional=True),
        saved=saved,
        latency=latency,
        latency_intervals=intervals,
        audit=audit,
    )
