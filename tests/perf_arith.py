"""perf's own arithmetic for kvm stat rows, as a reference for the tests.

From tools/perf/util/stat.c and builtin-kvm.c: times are integer nanoseconds, update_stats()
is Welford's algorithm, the mean printed is total_time / count, and the spread printed is
100 * stddev_stats() / mean with stddev_stats() = sqrt(M2 / (n - 1) / n) (0 when n < 2).
"""

from __future__ import annotations

import math

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, with_shares


def exit_stat(reason: str, samples_ns: list[int]) -> ExitStat:
    """The row perf would compute for these exit times, unrounded."""
    n = len(samples_ns)
    mean = m2 = 0.0
    for i, x in enumerate(samples_ns, 1):
        delta = x - mean
        mean += delta / i
        m2 += delta * (x - mean)
    total_us = sum(samples_ns) / 1000.0
    mean_us = total_us / n
    sd_mean = 0.0 if n < 2 else math.sqrt(m2 / (n - 1) / n) / 1000.0
    return ExitStat(
        reason=reason,
        samples=n,
        min_us=min(samples_ns) / 1000.0,
        max_us=max(samples_ns) / 1000.0,
        mean_us=mean_us,
        rel_stddev_pct=100.0 * sd_mean / mean_us if mean_us else 0.0,
    )


def report_of(events: dict[str, list[int]], kind: EventKind = EventKind.VMEXIT) -> Report:
    """The report perf would compute for these per-reason exit times, unrounded."""
    rows = tuple(exit_stat(k, v) for k, v in events.items() if v)
    return with_shares(Report(event=kind, rows=rows))
