"""Cumulative in-kernel exit tables → per-interval reports, per vCPU and in total.

The kernel source's hist table holds, per (vCPU, exit reason code, log2 latency bucket), the
number of exits and the sum of their exit-to-entry times in µs, counted since the trigger was
set. Two readings subtract into the exits of the interval between them; each (vCPU, reason)
becomes one `ExitStat` with samples, mean and the log2 histogram (no min, no exact max: the
histogram's bounds stand in for them, and are marked as bounds where shown).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.model import EventKind, ExitStat, Report, with_shares

Key = tuple[int, int, int]  # vcpu, reason code, log2 bucket exponent


@dataclass(frozen=True, slots=True)
class ExitCounts:
    """One reading: (vcpu, code, k) → (exits, summed µs), and the entries the kernel dropped."""

    cells: Mapping[Key, tuple[int, int]]
    dropped: int = 0

    def minus(self, earlier: ExitCounts) -> ExitCounts:
        """The exits between `earlier` and this reading.

        A cell that went backwards means the table was reset (a new trigger): this reading
        then counts from zero.
        """
        cells: dict[Key, tuple[int, int]] = {}
        for key, (n, lat) in self.cells.items():
            n0, lat0 = earlier.cells.get(key, (0, 0))
            if n < n0:
                return ExitCounts(dict(self.cells), self.dropped)
            if n > n0:
                cells[key] = (n - n0, lat - lat0)
        return ExitCounts(cells, max(self.dropped - earlier.dropped, 0))

    @property
    def total(self) -> int:
        return sum(n for n, _ in self.cells.values())


def _row(reason: str, buckets: dict[int, int], lat_sum: int) -> ExitStat:
    n = sum(buckets.values())
    return ExitStat(
        reason=reason,
        samples=n,
        mean_us=lat_sum / n if n else None,
        histogram=Log2Histogram.from_log2_keys(buckets),
    )


def to_reports(
    delta: ExitCounts, name_of: Callable[[int], str], *, source: str | None = None
) -> tuple[Report, dict[int, Report]]:
    """The interval's vmexit report over all vCPUs, and one report per vCPU."""
    per_vcpu: dict[int, dict[str, tuple[dict[int, int], int]]] = {}
    total: dict[str, tuple[dict[int, int], int]] = {}
    unknown: list[str] = []
    for (vcpu, code, k), (n, lat) in sorted(delta.cells.items()):
        name = name_of(code)
        if name.startswith("UNKNOWN(") and str(code) not in unknown:
            unknown.append(str(code))
        for table in (per_vcpu.setdefault(vcpu, {}), total):
            buckets, lat_sum = table.get(name, ({}, 0))
            buckets[k] = buckets.get(k, 0) + n
            table[name] = (buckets, lat_sum + lat)

    def report(rows: Mapping[str, tuple[dict[int, int], int]]) -> Report:
        return with_shares(
            Report(
                event=EventKind.VMEXIT,
                rows=tuple(_row(name, b, s) for name, (b, s) in rows.items()),
                unknown_codes=tuple(unknown),
                lost_events=delta.dropped or None,
                source=source,
            )
        )

    return report(total), {vcpu: report(rows) for vcpu, rows in sorted(per_vcpu.items())}


def reason_namer(
    names: Mapping[int, str], fallback: Mapping[int, str] | None = None
) -> Callable[[int], str]:
    """code → the kernel's name, else the fallback's (the glossary), else `UNKNOWN(code)`."""
    extra = fallback or {}

    def name_of(code: int) -> str:
        return names.get(code) or extra.get(code) or f"UNKNOWN({code})"

    return name_of
