"""cyclictest latency as a recording sees it: per-interval figures, spikes, a run summary.

cyclictest's status lines carry cumulative Min/Avg/Max and `Act`, the latest latency. Per
interval this module keeps, per thread:

- `max_us`: the highest latency known to have happened in the interval: the largest `Act`
  sampled, or the new cumulative Max when Max rose during the interval (exact then);
- `avg_us`: the mean of the `Act` values sampled in the interval (cyclictest prints one per
  ~10 ms, so this is a sample of the interval's latencies, not every cycle).

A **spike** is a latency above a threshold: `--spike-us N`, or by default the 99.9th percentile
of the `Act` samples seen before it (no default threshold until 1000 samples were seen). At
most one spike per thread and interval (the highest) is kept.

`associate` ranks the exit reasons whose rate or mean time rose most in a spike's interval over
the preceding intervals. That is an association in time, labelled as such, not a cause.
"""

from __future__ import annotations

import bisect
import math
import time as time_module
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.analysis.running import Interval
from vmexit_tui.formats.cyclictest import ThreadStatus, ThreadSummary

__all__ = [
    "ASSOCIATION_LABEL",
    "MIN_SAMPLES_FOR_PERCENTILE",
    "Association",
    "LatencyInterval",
    "LatencySummary",
    "LatencyTracker",
    "Spike",
    "ThreadInterval",
    "associate",
    "percentile",
]

MIN_SAMPLES_FOR_PERCENTILE = 1000
SPIKE_QUANTILE = 0.999
ASSOCIATION_LABEL = "rose most in the same interval (an association in time, not a cause)"


def percentile(histogram: Mapping[int, int], q: float) -> int | None:
    """The smallest value v with at least q of the samples <= v (None when empty)."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)


@dataclass(frozen=True, slots=True)
class ThreadInterval:
    """One thread over one interval."""

    thread: int
    max_us: int | None
    avg_us: float | None
    samples: int


@dataclass(frozen=True, slots=True)
class Association:
    """An exit reason that rose in a spike's interval: how much, by rate and by mean time."""

    reason: str
    rate_before: float
    rate_during: float
    mean_before_us: float | None
    mean_during_us: float | None
    score: float  # the larger of the relative rises (rate, mean), used to rank

    def to_json(self) -> dict:
        return {
            "reason": self.reason,
            "rate_before": round(self.rate_before, 3),
            "rate_during": round(self.rate_during, 3),
            "mean_before_us": self.mean_before_us,
            "mean_during_us": self.mean_during_us,
            "score": round(self.score, 3),
        }


@dataclass(frozen=True, slots=True)
class Spike:
    """A latency above the threshold: when, which thread, how high, against what threshold."""

    time: float
    thread: int
    latency_us: int
    threshold_us: float
    associated: tuple[Association, ...] = ()

    def to_json(self) -> dict:
        out: dict = {"time": self.time, "thread": self.thread, "latency_us": self.latency_us}
        out["threshold_us"] = self.threshold_us
        if self.associated:
            out["associated_exits"] = [a.to_json() for a in self.associated]
            out["association"] = ASSOCIATION_LABEL
        return out

    @classmethod
    def from_json(cls, data: Mapping) -> Spike:
        return cls(
            time=float(data["time"]),
            thread=int(data["thread"]),
            latency_us=int(data["latency_us"]),
            threshold_us=float(data.get("threshold_us") or 0.0),
            associated=tuple(
                Association(
                    reason=a["reason"],
                    rate_before=a["rate_before"],
                    rate_during=a["rate_during"],
                    mean_before_us=a.get("mean_before_us"),
                    mean_during_us=a.get("mean_during_us"),
                    score=a.get("score", 0.0),
                )
                for a in data.get("associated_exits", ())
            ),
        )


@dataclass(frozen=True, slots=True)
class LatencyInterval:
    """All threads over one interval, with the spikes detected in it."""

    start: float
    end: float
    threads: Mapping[int, ThreadInterval]
    spikes: tuple[Spike, ...] = ()

    @property
    def max_us(self) -> int | None:
        values = [t.max_us for t in self.threads.values() if t.max_us is not None]
        return max(values) if values else None


@dataclass
class _Open:
    """Samples of one thread since the last interval was taken."""

    acts: list[int] = field(default_factory=list)
    max_rise: int | None = None
    spike: tuple[float, int, float] | None = None  # time, latency, threshold


class LatencyTracker:
    """Feeds on status lines; hands out finished intervals; keeps the worst and the spikes."""

    def __init__(
        self, spike_us: float | None = None, *, min_samples: int = MIN_SAMPLES_FOR_PERCENTILE
    ) -> None:
        self.spike_us = spike_us
        self.min_samples = min_samples
        self.samples: dict[int, int] = {}  # Act value -> count, every thread
        self._sorted: list[int] = []  # the same samples in order (for the running percentile)
        self._last: dict[int, ThreadStatus] = {}
        self._open: dict[int, _Open] = {}
        self.spikes: list[Spike] = []
        self.worst_us: int | None = None

    def threshold(self) -> float | None:
        """The spike threshold now: the fixed one, or p99.9 of the samples so far."""
        if self.spike_us is not None:
            return self.spike_us
        n = len(self._sorted)
        if n < self.min_samples:
            return None
        return float(self._sorted[max(0, math.ceil(SPIKE_QUANTILE * n) - 1)])

    def add(self, status: ThreadStatus, time: float) -> None:
        """One status line, seen at `time` (epoch seconds, or cyclictest seconds headless)."""
        if not status.started:
            return
        prev = self._last.get(status.thread)
        self._last[status.thread] = status
        if prev is not None and status.cycles == prev.cycles:
            return  # the same figures printed again (no cycle since): not a new sample
        if prev is not None and status.cycles < prev.cycles:
            prev = None  # cyclictest restarted
        rise = status.max_us if prev is None or status.max_us > prev.max_us else None
        opened = self._open.setdefault(status.thread, _Open())
        opened.acts.append(status.act_us)
        if rise is not None:
            opened.max_rise = max(rise, opened.max_rise or 0)
        candidate = max(status.act_us, rise or 0)
        threshold = self.threshold()
        if (
            threshold is not None
            and candidate > threshold
            and (opened.spike is None or candidate > opened.spike[1])
        ):
            opened.spike = (time, candidate, threshold)
        self.worst_us = max(self.worst_us or 0, status.max_us)
        self.samples[status.act_us] = self.samples.get(status.act_us, 0) + 1
        bisect.insort(self._sorted, status.act_us)

    def take(self, start: float, end: float) -> LatencyInterval:
        """The interval since the previous `take`: per-thread figures and its spikes."""
        threads = {}
        spikes = []
        for n, opened in sorted(self._open.items()):
            acts = opened.acts
            highest = max([*acts, opened.max_rise or 0]) if acts else None
            threads[n] = ThreadInterval(
                thread=n,
                max_us=highest,
                avg_us=sum(acts) / len(acts) if acts else None,
                samples=len(acts),
            )
            if opened.spike is not None:
                t, lat, thr = opened.spike
                spikes.append(Spike(time=t, thread=n, latency_us=lat, threshold_us=thr))
        self._open = {}
        self.spikes.extend(spikes)
        return LatencyInterval(start, end, threads, tuple(spikes))

    def attach(self, spike: Spike, associated: Sequence[Association]) -> Spike:
        """`spike` with its associated exits, replacing it in `spikes`."""
        done = Spike(
            spike.time, spike.thread, spike.latency_us, spike.threshold_us, tuple(associated)
        )
        self.spikes = [done if s == spike else s for s in self.spikes]
        return done

    def last_statuses(self) -> dict[int, ThreadStatus]:
        return dict(self._last)


def associate(
    during: Report, before: Sequence[Report], duration: float, before_duration: float, top: int = 3
) -> list[Association]:
    """The exit reasons whose rate or mean rose most from `before` (reports over
    `before_duration` seconds) to `during` (over `duration` seconds), best first; only rises."""
    if duration <= 0:
        return []
    base: dict[str, tuple[int, float]] = {}  # reason -> (count, total µs)
    for report in before:
        for row in report.rows:
            n, t = base.get(row.reason, (0, 0.0))
            base[row.reason] = (n + row.samples, t + (row.total_us or 0.0))
    found = []
    for row in during.rows:
        if row.samples <= 0:
            continue
        n0, t0 = base.get(row.reason, (0, 0.0))
        rate0 = n0 / before_duration if before_duration > 0 else 0.0
        rate1 = row.samples / duration
        mean0 = t0 / n0 if n0 else None
        mean1 = row.mean_us
        rate_rise = (rate1 - rate0) / max(rate0, 1.0)
        mean_rise = (mean1 - mean0) / mean0 if mean0 and mean1 is not None else 0.0
        score = max(rate_rise, mean_rise)
        if score > 0:
            found.append(Association(row.reason, rate0, rate1, mean0, mean1, score))
    found.sort(key=lambda a: (-a.score, a.reason))
    return found[:top]


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """What a run's latency came to: per thread, spikes, overall max/avg/p99.9."""

    threads: tuple[ThreadSummary, ...]
    spikes: tuple[Spike, ...] = ()
    skipped_lines: int = 0
    p999_us: int | None = None
    p999_source: str = "none"  # "histogram" (cyclictest -h, exact) | "sampled" (Act values)
    source: str = ""

    @property
    def max_us(self) -> int | None:
        values = [t.max_us for t in self.threads if t.max_us is not None]
        return max(values) if values else None

    @property
    def avg_us(self) -> float | None:
        """The cycle-weighted mean over the threads."""
        pairs = [(t.avg_us, t.cycles) for t in self.threads if t.avg_us is not None]
        cycles = sum(c for _, c in pairs)
        if not pairs:
            return None
        if cycles <= 0:
            return sum(a for a, _ in pairs) / len(pairs)
        return sum(a * c for a, c in pairs) / cycles

    def to_json(self) -> dict:
        """The shape of `vmexit-tui latency --json` (plus p99.9 and where it came from)."""
        return {
            "threads": [t.to_json() for t in self.threads],
            "spikes": [s.to_json() for s in self.spikes],
            "skipped_lines": self.skipped_lines,
            "max_us": self.max_us,
            "avg_us": None if self.avg_us is None else round(self.avg_us, 2),
            "p999_us": self.p999_us,
            "p999_source": self.p999_source,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> LatencySummary:
        return cls(
            threads=tuple(ThreadSummary.from_json(t) for t in data.get("threads", ())),
            spikes=tuple(Spike.from_json(s) for s in data.get("spikes", ())),
            skipped_lines=int(data.get("skipped_lines") or 0),
            p999_us=data.get("p999_us"),
            p999_source=str(data.get("p999_source") or "none"),
            source=str(data.get("source") or ""),
        )


def summarize(
    threads: Iterable[ThreadSummary],
    tracker: LatencyTracker | None,
    *,
    skipped_lines: int = 0,
    source: str = "",
) -> LatencySummary:
    """A run summary: p99.9 from cyclictest's own histograms when they hold it, else from the
    sampled `Act` values when there are enough of them (1000), else unknown."""
    threads = tuple(threads)
    merged: dict[int, int] = {}
    overflows = 0
    for t in threads:
        for us, n in t.histogram.items():
            merged[us] = merged.get(us, 0) + n
        overflows += t.overflows or 0
    p999: int | None = None
    how = "none"
    if merged:
        total = sum(merged.values()) + overflows
        if math.ceil(SPIKE_QUANTILE * total) <= sum(merged.values()):
            p999, how = (
                percentile(merged, SPIKE_QUANTILE * total / sum(merged.values())),
                "histogram",
            )
    enough = tracker is not None and sum(tracker.samples.values()) >= tracker.min_samples
    if p999 is None and tracker is not None and enough:
        p999, how = percentile(tracker.samples, SPIKE_QUANTILE), "sampled"
    return LatencySummary(
        threads=threads,
        spikes=tuple(tracker.spikes) if tracker else (),
        skipped_lines=skipped_lines,
        p999_us=p999,
        p999_source=how,
        source=source,
    )


class SpikeLinker:
    """Pairs spikes with the exit interval they fell in, as exit intervals arrive (a perf
    chunk may arrive after the latency interval), and attaches `associate`'s ranking."""

    def __init__(self, tracker: LatencyTracker, *, keep: int = 32, baseline: int = 5) -> None:
        self.tracker = tracker
        self.keep = keep
        self.baseline = baseline
        self.exits: list[Interval] = []
        self.pending: list[Spike] = []

    def add_exit_interval(self, interval: Interval) -> list[Spike]:
        """A finished exit interval; returns the spikes it resolved."""
        self.exits.append(interval)
        del self.exits[: -self.keep]
        return self._resolve()

    def add_spikes(self, spikes: Iterable[Spike]) -> list[Spike]:
        """New spikes; returns those that could be resolved at once."""
        self.pending.extend(spikes)
        return self._resolve()

    def _resolve(self) -> list[Spike]:
        done: list[Spike] = []
        waiting: list[Spike] = []
        for spike in self.pending:
            idx = next(
                (k for k, i in enumerate(self.exits) if i.start <= spike.time <= i.end), None
            )
            if idx is None:
                too_old = bool(self.exits) and spike.time < self.exits[0].start
                (done if too_old else waiting).append(spike)
                continue
            during = self.exits[idx]
            before = self.exits[max(0, idx - self.baseline) : idx]
            kind = EventKind.VMEXIT
            report = during.reports.get(kind)
            ranked = (
                associate(
                    report,
                    [b.reports[kind] for b in before if kind in b.reports],
                    during.duration,
                    sum(b.duration for b in before if kind in b.reports),
                )
                if report is not None
                else []
            )
            done.append(self.tracker.attach(spike, ranked))
        self.pending = waiting
        return done


def describe_spike(spike: Spike) -> str:
    """`850 µs on thread 0 at 12:01:02; exits that rose most then (...): HLT mean 50→500 µs`."""
    stamp = time_module.strftime("%H:%M:%S", time_module.localtime(spike.time))
    text = f"latency spike {spike.latency_us} µs on thread {spike.thread} at {stamp}"
    if not spike.associated:
        return text + "; no exit reason rose in that interval"
    parts = []
    for a in spike.associated:
        if a.mean_before_us and a.mean_during_us and a.mean_during_us > a.mean_before_us:
            parts.append(f"{a.reason} mean {a.mean_before_us:.1f}→{a.mean_during_us:.1f} µs")
        else:
            parts.append(f"{a.reason} {a.rate_before:.0f}→{a.rate_during:.0f}/s")
    return f"{text}; exits that {ASSOCIATION_LABEL}: " + ", ".join(parts)
