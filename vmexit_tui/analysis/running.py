"""A recording as it grows: running totals and a bounded per-reason series.

Every source (perf chunks, `perf kvm stat live` blocks, the demo) delivers finished
`Interval`s. `RunAccumulator.add` merges each one into the totals (exactly, see
`vmexit_tui.analysis.model`) and appends one `SeriesPoint` per reason. The cost of `add` depends on
the number of reasons, never on how long the recording has run: series are bounded, and
when one is full adjacent points are merged pairwise (the series keeps covering the whole
recording at half the resolution).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, empty_report

DEFAULT_CAPACITY = 512


@dataclass(frozen=True, slots=True)
class Interval:
    """One finished interval of a recording: a perf chunk, a live block or a demo tick.

    `vcpus`, when the source knows them, holds one vmexit report per vCPU index; their rows
    add up to `reports[VMEXIT]`.
    """

    index: int
    start: float
    end: float
    reports: Mapping[EventKind, Report]
    vcpus: Mapping[int, Report] | None = None

    @property
    def duration(self) -> float:
        return max(self.end - self.start, 0.0)

    def rate(self, kind: EventKind, reason: str | None = None) -> float | None:
        """Exits per second over this interval: of `reason`, or of all reasons of `kind`
        (None for an interval of no duration). The one place a per-interval rate is made."""
        duration = self.duration
        if duration <= 0:
            return None
        report = self.reports.get(kind)
        if report is None:
            return 0.0
        if reason is None:
            return report.sample_count / duration
        row = report.row(reason)
        return (row.samples if row else 0) / duration


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One reason's figures over one span of time (one or more merged intervals)."""

    start: float
    end: float
    count: int
    mean_us: float | None
    rate: float = field(init=False, repr=False, compare=False)
    """Exits per second over the span (0 for an empty span); kept, as trends read it often."""

    def __post_init__(self) -> None:
        span = self.end - self.start
        object.__setattr__(self, "rate", self.count / span if span > 0 else 0.0)

    def merge(self, later: SeriesPoint) -> SeriesPoint:
        """This point and the next one as one point."""
        n = self.count + later.count
        if self.mean_us is None or later.mean_us is None:
            mean = self.mean_us if later.count == 0 else later.mean_us if self.count == 0 else None
        else:
            mean = (self.mean_us * self.count + later.mean_us * later.count) / n if n else None
        return SeriesPoint(self.start, later.end, n, mean)


class ReasonSeries:
    """A bounded series: at most `capacity` points, halved in resolution when full."""

    __slots__ = ("_points", "capacity")

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number >= 2")
        self.capacity = capacity
        self._points: list[SeriesPoint] = []

    def append(self, point: SeriesPoint) -> None:
        if len(self._points) >= self.capacity:
            pts = self._points
            self._points = [pts[i].merge(pts[i + 1]) for i in range(0, len(pts) - 1, 2)]
        self._points.append(point)

    @property
    def points(self) -> tuple[SeriesPoint, ...]:
        return tuple(self._points)

    def tail(self, n: int) -> list[SeriesPoint]:
        """The last `n` points (a trend's worth), without copying the whole series."""
        return self._points[-n:] if n > 0 else []

    def __len__(self) -> int:
        return len(self._points)

    def rates(self) -> list[float]:
        return [p.rate for p in self._points]

    def means(self) -> list[float | None]:
        return [p.mean_us for p in self._points]


@dataclass(frozen=True, slots=True)
class Marker:
    """A point in time the user marked, e.g. "cyclictest started"."""

    time: float
    label: str


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What was recorded, where and when: the metadata saved with a run."""

    label: str
    vm_name: str | None = None
    pid: int | None = None
    pinning: str | None = None
    pinning_at_end: str | None = None
    host: str | None = None
    kernel: str | None = None
    perf_version: str | None = None
    started: float | None = None
    stopped: float | None = None
    notes: str = ""
    simulated: bool = False
    folder: str | None = None
    source_mode: str | None = None  # "kernel" | "count" | "perf" (recording.modes), when known
    source_why: str | None = None  # why that mode, e.g. "this kernel has no hist triggers: ..."


@dataclass
class RunAccumulator:
    """Running totals and per-reason series of one recording, fed `Interval` by `Interval`."""

    capacity: int = DEFAULT_CAPACITY
    totals: dict[EventKind, Report] = field(default_factory=dict)
    vcpu_totals: dict[int, Report] = field(default_factory=dict)
    series: dict[EventKind, dict[str, ReasonSeries]] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)
    last: Interval | None = None
    intervals: int = 0
    first_start: float | None = None

    def add(self, interval: Interval) -> None:
        """Merge one finished interval into the totals and the series."""
        for kind, report in interval.reports.items():
            total = self.totals.get(kind) or empty_report(kind)
            self.totals[kind] = total.merge(report)
            by_reason = self.series.setdefault(kind, {})
            rows = {r.reason: r for r in report.rows}
            for reason in rows.keys() | by_reason.keys():
                row: ExitStat | None = rows.get(reason)
                s = by_reason.get(reason)
                if s is None:
                    s = by_reason[reason] = ReasonSeries(self.capacity)
                s.append(
                    SeriesPoint(
                        interval.start,
                        interval.end,
                        row.samples if row else 0,
                        row.mean_us if row else None,
                    )
                )
        for vcpu, report in (interval.vcpus or {}).items():
            total = self.vcpu_totals.get(vcpu) or empty_report(report.event)
            self.vcpu_totals[vcpu] = total.merge(report)
        self.last = interval
        self.intervals += 1
        if self.first_start is None:
            self.first_start = interval.start

    def mark(self, time: float, label: str) -> Marker:
        marker = Marker(time, label)
        self.markers.append(marker)
        return marker

    def total(self, kind: EventKind = EventKind.VMEXIT) -> Report:
        return self.totals.get(kind) or empty_report(kind)

    def last_rate(self, kind: EventKind, reason: str) -> float | None:
        """Exits per second of `reason` over the last interval."""
        return None if self.last is None else self.last.rate(kind, reason)

    def reason_series(self, kind: EventKind, reason: str) -> ReasonSeries | None:
        return self.series.get(kind, {}).get(reason)
