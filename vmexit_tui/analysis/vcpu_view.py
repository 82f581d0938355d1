"""The per-vCPU view of a recording: one row per vCPU with its top reasons and how it is scheduled.

Built from the per-vCPU reports a source delivers (`Interval.vcpus`, accumulated in
`RunAccumulator.vcpu_totals`) and the host's scheduling state of each vCPU thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.model import Report
from vmexit_tui.analysis.running import RunAccumulator
from vmexit_tui.host.discovery import VCpu
from vmexit_tui.host.vcpu_sched import ThreadSched

TOP = 3


@dataclass(frozen=True, slots=True)
class VcpuRow:
    """One vCPU: totals, last interval's rate, top reasons (name, share %), scheduling."""

    index: int
    tid: int | None
    samples: int
    rate: float | None
    top: tuple[tuple[str, float], ...]
    p99_us: float | None
    sched: ThreadSched | None


def top_reasons(report: Report, n: int = TOP) -> tuple[tuple[str, float], ...]:
    total = report.sample_count
    rows = sorted(report.rows, key=lambda r: (-r.samples, r.reason))[:n]
    return tuple((r.reason, 100.0 * r.samples / total if total else 0.0) for r in rows)


def vcpu_rows(
    acc: RunAccumulator,
    vcpus: Sequence[VCpu] = (),
    sched_of: Callable[[int], ThreadSched | None] | None = None,
) -> list[VcpuRow]:
    """One row per vCPU the source reported (or the VM has), by index."""
    tids: Mapping[int, int] = {v.index: v.tid for v in vcpus}
    last = acc.last.vcpus if acc.last is not None and acc.last.vcpus else {}
    duration = acc.last.duration if acc.last is not None else 0.0
    rows = []
    for index in sorted(set(acc.vcpu_totals) | set(tids)):
        total = acc.vcpu_totals.get(index)
        recent = last.get(index)
        merged: Log2Histogram | None = None
        if total is not None and total.rows:
            hists = [r.histogram for r in total.rows]
            if all(h is not None for h in hists):
                merged = Log2Histogram()
                for h in hists:
                    merged = merged.merge(h) if h is not None else merged
        tid = tids.get(index)
        rows.append(
            VcpuRow(
                index=index,
                tid=tid,
                samples=total.sample_count if total is not None else 0,
                rate=(recent.sample_count if recent else 0) / duration if duration > 0 else None,
                top=top_reasons(total) if total is not None else (),
                p99_us=merged.percentile_bound(0.99) if merged else None,
                sched=sched_of(tid) if sched_of is not None and tid is not None else None,
            )
        )
    return rows
