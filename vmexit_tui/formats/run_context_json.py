"""What snapshots and manifests carry besides exits: cyclictest latency and the RT audit.

    "latency": {LatencySummary.to_json() ..., "intervals": [[start, end, {"0": [max_us,
                avg_us, samples], ...}], ...]}  (at most MAX_INTERVALS, oldest merged pairwise)
    "audit":   [{"name", "value", "usual_for_rt", "why", "source"}, ...]

Decoding raises `ValueError` naming the key path and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vmexit_tui.analysis.latency import LatencyInterval, LatencySummary, ThreadInterval
from vmexit_tui.analysis.run_context import RunContext
from vmexit_tui.host.audit import AuditCheck

__all__ = [
    "MAX_INTERVALS",
    "audit_from_json",
    "audit_to_json",
    "latency_from_json",
    "latency_to_json",
]

MAX_INTERVALS = 4096


def _merge(a: LatencyInterval, b: LatencyInterval) -> LatencyInterval:
    threads = {}
    for n in a.threads.keys() | b.threads.keys():
        ta, tb = a.threads.get(n), b.threads.get(n)
        parts = [t for t in (ta, tb) if t is not None]
        maxes = [t.max_us for t in parts if t.max_us is not None]
        samples = sum(t.samples for t in parts)
        weighted = [(t.avg_us, t.samples) for t in parts if t.avg_us is not None]
        avg = sum(x * s for x, s in weighted) / samples if weighted and samples else None
        threads[n] = ThreadInterval(n, max(maxes) if maxes else None, avg, samples)
    return LatencyInterval(a.start, b.end, threads, a.spikes + b.spikes)


def bounded(
    intervals: Sequence[LatencyInterval], limit: int = MAX_INTERVALS
) -> list[LatencyInterval]:
    """At most `limit` intervals covering the same time: adjacent ones merged pairwise."""
    out = list(intervals)
    while len(out) > limit:
        out = [
            _merge(*out[i : i + 2]) if i + 1 < len(out) else out[i] for i in range(0, len(out), 2)
        ]
    return out


def latency_to_json(
    summary: LatencySummary, intervals: Iterable[LatencyInterval] = ()
) -> dict[str, Any]:
    doc = summary.to_json()
    doc["intervals"] = [
        [
            i.start,
            i.end,
            {str(n): [t.max_us, t.avg_us, t.samples] for n, t in sorted(i.threads.items())},
        ]
        for i in bounded(list(intervals))
    ]
    return doc


def latency_from_json(
    data: Any, where: str = "latency"
) -> tuple[LatencySummary, tuple[LatencyInterval, ...]]:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    try:
        summary = LatencySummary.from_json(data)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: not a latency summary ({err})") from None
    intervals = []
    for k, item in enumerate(data.get("intervals") or ()):
        try:
            start, end, threads = item
            parsed = {
                int(n): ThreadInterval(int(n), v[0], v[1], int(v[2])) for n, v in threads.items()
            }
        except (TypeError, ValueError, IndexError, AttributeError):
            raise ValueError(
                f"{where}.intervals[{k}]: expected [start, end, {{thread: [max, avg, samples]}}]"
            ) from None
        spikes = tuple(s for s in summary.spikes if float(start) <= s.time <= float(end))
        intervals.append(LatencyInterval(float(start), float(end), parsed, spikes))
    return summary, tuple(intervals)


def audit_to_json(checks: Iterable[AuditCheck]) -> list[dict[str, str]]:
    return [c.to_json() for c in checks]


def audit_from_json(data: Any, where: str = "audit") -> tuple[AuditCheck, ...]:
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise ValueError(f"{where}: expected a list of checks")
    return tuple(AuditCheck.from_json(c) for c in data)


def load_contexts(path: str, count: int) -> list[RunContext]:
    """The audit and latency of the `count` runs one compare argument loaded (a run snapshot
    has one, a comparison snapshot one per run; a report text or a built-in run has none)."""
    from vmexit_tui.formats import snapshots  # snapshots imports us

    empty = [RunContext(label="") for _ in range(count)]
    if not Path(path).is_file():
        return empty
    try:
        if count == 1:
            saved = snapshots.load_run(path)
            return [RunContext(saved.info.label, saved.audit, saved.latency)]
        contexts = list(snapshots.load_comparison_contexts(path))
    except (snapshots.SnapshotError, OSError):
        return empty
    return contexts if len(contexts) == count else empty
