"""What a `perf kvm stat` report says, as plain data, and how two reports merge exactly.

perf keeps, per exit reason, the sample count n, the total time, min, max and a running
mean/variance (Welford). It prints the mean (total time / n) and the relative standard
deviation *of the mean*: ``rel = 100 * sqrt(M2 / (n - 1) / n) / mean`` (0 when n < 2), where
M2 is the sum of squared deviations. Because n, mean and rel are printed, M2 can be recovered:
``M2 = (rel / 100 * mean) ** 2 * n * (n - 1)``.

That is what makes incremental reports possible. Two reports over disjoint sets of samples
(two perf.data chunks, two live intervals) merge into the report over their union:
counts and total times add, min and max combine, and the spread combines with the parallel
variance formula (Chan et al.)::

    n = na + nb,  d = mean_b - mean_a,  mean = mean_a + d * nb / n,
    M2 = M2a + M2b + d**2 * na * nb / n

Exact up to the precision perf printed the inputs with. Latency histograms (sources that keep
them, e.g. the kernel's hist triggers) add bucket by bucket, exactly. Unknown values (a cell
that was not legible, a spread cut off by a pager) stay unknown; a spread known only as an
upper bound combines into an upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from vmexit_tui.analysis.histogram import Log2Histogram, merge_optional


class EventKind(StrEnum):
    """The event kinds `perf kvm stat report --event=` knows on x86."""

    VMEXIT = "vmexit"
    MMIO = "mmio"
    IOPORT = "ioport"
    MSR = "msr"

    @property
    def column_title(self) -> str:
        """The name-column title perf prints for this kind."""
        return _COLUMN_TITLES[self]

    @classmethod
    def from_column_title(cls, title: str) -> EventKind | None:
        """The kind whose name-column title is `title`, if any."""
        for kind, known in _COLUMN_TITLES.items():
            if known == title:
                return kind
        return None


_COLUMN_TITLES = {
    EventKind.VMEXIT: "VM-EXIT",
    EventKind.MMIO: "MMIO Access",
    EventKind.IOPORT: "IO Port Access",
    EventKind.MSR: "MSR Access",
}


@dataclass(frozen=True, slots=True)
class Scope:
    """What a report covers: all VMs or some pids, all vCPUs or one.

    ``known`` is False when the input did not say (an excerpt without perf's
    `Analyze events for ...` line, or perf's table view, which never prints it).
    """

    pids: tuple[int, ...] = ()
    vcpu: int | None = None
    known: bool = True

    @property
    def all_vms(self) -> bool:
        return not self.pids


def rel_stddev(n: int, mean: float, m2: float) -> float:
    """perf's relative standard deviation of the mean, in percent."""
    if n < 2 or not mean:
        return 0.0
    return 100.0 * math.sqrt(max(m2, 0.0) / (n - 1) / n) / mean


def m2_from_rel(n: int, mean: float, rel_pct: float) -> float:
    """The sum of squared deviations that perf's printed figures imply."""
    if n < 2:
        return 0.0
    return (rel_pct / 100.0 * mean) ** 2 * n * (n - 1)


@dataclass(frozen=True, slots=True)
class ExitStat:
    """One row of a report: one exit reason (or MMIO address, or I/O port).

    Times are microseconds. ``rel_stddev_pct`` is perf's ``( +- x.xx% )``; when a pager cut
    that column off only an upper bound may be known, in ``rel_stddev_below`` (exclusive).
    ``samples_pct`` and ``time_pct`` are as printed; None marks a value that is not known.
    ``histogram`` is the log2 latency histogram when the source keeps one (the kernel's hist
    triggers); figures read from it are bucket bounds (`percentile_bound`, `max_bound`).
    """

    reason: str
    samples: int
    samples_pct: float | None = None
    time_pct: float | None = None
    min_us: float | None = None
    max_us: float | None = None
    mean_us: float | None = None
    rel_stddev_pct: float | None = None
    rel_stddev_below: float | None = None
    histogram: Log2Histogram | None = None

    def with_pct(self, samples_pct: float | None, time_pct: float | None) -> ExitStat:
        """This row with other percentages (`dataclasses.replace` costs 7 µs a row)."""
        return ExitStat(
            self.reason,
            self.samples,
            samples_pct,
            time_pct,
            self.min_us,
            self.max_us,
            self.mean_us,
            self.rel_stddev_pct,
            self.rel_stddev_below,
            self.histogram,
        )

    def percentile_bound(self, q: float) -> float | None:
        """Upper bound of the q-quantile's histogram bucket (µs); None without a histogram."""
        return None if self.histogram is None else self.histogram.percentile_bound(q)

    @property
    def max_bound(self) -> float | None:
        """The exact max when known, else the highest histogram bucket's bound, else None."""
        if self.max_us is not None:
            return self.max_us
        return None if self.histogram is None else self.histogram.max_bound

    @property
    def total_us(self) -> float | None:
        """Total handled time of this reason (n * mean)."""
        return None if self.mean_us is None else self.samples * self.mean_us

    @property
    def spread_bound(self) -> float | None:
        """The spread if known, else its upper bound, else None."""
        return self.rel_stddev_pct if self.rel_stddev_pct is not None else self.rel_stddev_below

    @property
    def stddev_us(self) -> float | None:
        """Sample standard deviation of one exit's time, when the spread is known exactly."""
        if self.mean_us is None or self.rel_stddev_pct is None:
            return None
        return self.rel_stddev_pct / 100.0 * self.mean_us * math.sqrt(self.samples)

    def merge(self, other: ExitStat) -> ExitStat:
        """This row over the union of both rows' samples (percentages are left unset)."""
        if other.reason != self.reason:
            raise ValueError(f"cannot merge {self.reason!r} with {other.reason!r}")
        if self.samples == 0:
            return other.with_pct(None, None)
        if other.samples == 0:
            return self.with_pct(None, None)
        n = self.samples + other.samples
        mean = rel = below = None
        if self.mean_us is not None and other.mean_us is not None:
            mean = self.mean_us + (other.mean_us - self.mean_us) * other.samples / n
            a, b = self.spread_bound, other.spread_bound
            if a is not None and b is not None:
                delta = other.mean_us - self.mean_us
                m2 = (
                    m2_from_rel(self.samples, self.mean_us, a)
                    + m2_from_rel(other.samples, other.mean_us, b)
                    + delta * delta * self.samples * other.samples / n
                )
                value = rel_stddev(n, mean, m2)
                if self.rel_stddev_pct is not None and other.rel_stddev_pct is not None:
                    rel = value
                else:
                    below = value
        return ExitStat(
            reason=self.reason,
            samples=n,
            min_us=_combine(min, self.min_us, other.min_us),
            max_us=_combine(max, self.max_us, other.max_us),
            mean_us=mean,
            rel_stddev_pct=rel,
            rel_stddev_below=below,
            histogram=merge_optional(self.histogram, other.histogram),
        )


def _combine(pick, a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else pick(a, b)


@dataclass(frozen=True, slots=True)
class Report:
    """One `perf kvm stat report` (or one `live` interval block) of one event kind."""

    event: EventKind
    rows: tuple[ExitStat, ...]
    total_samples: int | None = None
    total_time_us: float | None = None
    scope: Scope = field(default_factory=Scope)
    lost_events: int | None = None
    name_width: int = 20
    timestamp: str | None = None
    unknown_codes: tuple[str, ...] = ()
    source: str | None = None
    _by_reason: dict[str, ExitStat] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def row(self, reason: str) -> ExitStat | None:
        """The row for `reason`, if present (the first, were a reason listed twice)."""
        index = self._by_reason
        if index is None:  # built at the first lookup: a table asks once per row per interval
            index = {r.reason: r for r in reversed(self.rows)}
            object.__setattr__(self, "_by_reason", index)
        return index.get(reason)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(r.reason for r in self.rows)

    @property
    def sample_count(self) -> int:
        """Total samples: perf's closing line when present, else the sum of the rows."""
        if self.total_samples is not None:
            return self.total_samples
        return sum(r.samples for r in self.rows)

    def merge(self, other: Report) -> Report:
        """The report over the union of both reports' samples; see the module docstring."""
        if other.event != self.event:
            raise ValueError(f"cannot merge a {self.event} report with a {other.event} report")
        merged: dict[str, ExitStat] = {r.reason: r for r in self.rows}
        for r in other.rows:
            merged[r.reason] = merged[r.reason].merge(r) if r.reason in merged else r
        # an empty report (the start of an accumulation) takes the other's scope and source
        if not self.rows and not self.sample_count:
            scope, source = other.scope, other.source
        elif not other.rows and not other.sample_count:
            scope, source = self.scope, self.source
        else:
            scope = self.scope if self.scope == other.scope else Scope()
            source = self.source if self.source == other.source else None
        lost = None
        if self.lost_events is not None or other.lost_events is not None:
            lost = (self.lost_events or 0) + (other.lost_events or 0)
        merged_report = with_shares(
            Report(
                event=self.event,
                rows=tuple(merged.values()),
                scope=scope,
                lost_events=lost,
                name_width=max(self.name_width, other.name_width),
                unknown_codes=tuple(dict.fromkeys(self.unknown_codes + other.unknown_codes)),
                timestamp=other.timestamp or self.timestamp,
                source=source,
            )
        )
        # perf's printed totals are exact to 0.01 us; n * rounded mean is not: prefer them.
        if self.total_time_us is not None and other.total_time_us is not None:
            merged_report = replace(
                merged_report, total_time_us=self.total_time_us + other.total_time_us
            )
        return merged_report

    def sorted_by(self, key: str, *, descending: bool = True) -> Report:
        """A copy with rows sorted by a column (see `SORT_KEYS`); unknown values sort last."""
        return replace(self, rows=sort_rows(self.rows, key, descending=descending))


def empty_report(event: EventKind = EventKind.VMEXIT) -> Report:
    """A report with no rows and zero totals, the identity of `merge`."""
    return Report(event=event, rows=(), total_samples=0, total_time_us=0.0)


def with_shares(report: Report) -> Report:
    """Recompute totals and per-row percentages from the rows, as perf does."""
    total_n = sum(r.samples for r in report.rows)
    times = [r.total_us for r in report.rows]
    total_t = None if any(t is None for t in times) else float(sum(times))  # type: ignore[arg-type]
    rows = tuple(
        r.with_pct(
            100.0 * r.samples / total_n if total_n else 0.0,
            (
                None
                if total_t is None or r.total_us is None
                else (100.0 * r.total_us / total_t if total_t else 0.0)
            ),
        )
        for r in report.rows
    )
    return replace(report, rows=rows, total_samples=total_n, total_time_us=total_t)


def merge_reports(reports: Iterable[Report]) -> Report | None:
    """Fold reports of one kind into one; None when there are none."""
    result: Report | None = None
    for r in reports:
        result = r if result is None else result.merge(r)
    return result


SORT_KEYS: dict[str, str] = {
    "samples": "samples",
    "share": "samples_pct",
    "time": "total_us",
    "time_pct": "time_pct",
    "mean": "mean_us",
    "max": "max_us",
    "min": "min_us",
    "spread": "spread_bound",
    "name": "reason",
}


def sort_rows(
    rows: Iterable[ExitStat], key: str, *, descending: bool = True
) -> tuple[ExitStat, ...]:
    """Rows sorted by a `SORT_KEYS` column; ties by name; unknown (None) values always last."""
    try:
        attr = SORT_KEYS[key]
    except KeyError:
        raise ValueError(
            f"unknown sort key {key!r}; expected one of {', '.join(SORT_KEYS)}"
        ) from None
    rows = sorted(rows, key=lambda r: r.reason)
    known = [r for r in rows if getattr(r, attr) is not None]
    unknown = [r for r in rows if getattr(r, attr) is None]
    known.sort(key=lambda r: getattr(r, attr), reverse=descending)
    return tuple(known + unknown)
