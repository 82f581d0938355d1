"""Independent readings of perf's own output, for checking vmexit-tui against perf itself.

- `parse_stat_report`: the rows of a `perf kvm stat report` table (perf's layout).
- `parse_script` + `pair_exits`: the `kvm:kvm_exit` / `kvm:kvm_entry` lines of `perf script --ns`,
  paired per vCPU thread the way `perf kvm stat report` pairs them (builtin-kvm.c): a thread's
  events count only from its first `kvm_entry` in the file (where perf learns its vCPU id), so
  an exit before that is ignored; then an exit starts a measurement and the thread's next entry
  ends it; an exit with no entry after it in the same file is lost. `PerfStat` recomputes
  perf's figures: count, min, max, mean and relative standard deviation of the mean (µs).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

_ROW = re.compile(
    r"^\s*(?P<reason>\S+)\s+(?P<n>\d+)\s+(?P<share>[\d.]+)%\s+(?P<time_share>[\d.]+)%\s+"
    r"(?P<min>[\d.]+)us\s+(?P<max>[\d.]+)us\s+(?P<mean>[\d.]+)us\s+\(\s*\+-\s*(?P<rel>[\d.]+)%\s*\)"
)
_TOTAL = re.compile(r"Total Samples:\s*(\d+)")
_EVENT = re.compile(
    r"^\s*\S.*?\s+(?P<tid>\d+)\s+\[\d+\]\s+(?P<s>\d+)\.(?P<ns>\d{9}):\s+kvm:(?P<event>kvm_exit|kvm_entry):"
    r"\s+vcpu (?P<vcpu>\d+),?\s*(?:reason (?P<reason>\S+))?"
)


@dataclass(frozen=True)
class ReportRow:
    reason: str
    samples: int
    share_pct: float
    min_us: float
    max_us: float
    mean_us: float
    rel_pct: float


def parse_stat_report(text: str) -> tuple[dict[str, ReportRow], int | None]:
    """The first table's rows by reason, and its `Total Samples`."""
    rows: dict[str, ReportRow] = {}
    for line in text.splitlines():
        m = _ROW.match(line)
        if m and m["reason"] not in rows:
            rows[m["reason"]] = ReportRow(
                m["reason"], int(m["n"]), float(m["share"]),
                float(m["min"]), float(m["max"]), float(m["mean"]), float(m["rel"]),
            )  # fmt: skip
        elif rows and "Total Samples" in line:
            break
    total = _TOTAL.search(text)
    return rows, int(total.group(1)) if total else None


@dataclass(frozen=True)
class KvmEvent:
    tid: int
    time_ns: int
    event: str  # "kvm_exit" | "kvm_entry"
    vcpu: int
    reason: str | None


def parse_script(lines: Iterable[str]) -> list[KvmEvent]:
    """The kvm_exit and kvm_entry events of `perf script --ns` output, in file order."""
    out = []
    for line in lines:
        m = _EVENT.match(line)
        if m:
            out.append(
                KvmEvent(int(m["tid"]), int(m["s"]) * 1_000_000_000 + int(m["ns"]), m["event"],
                         int(m["vcpu"]), m["reason"])
            )  # fmt: skip
    return out


@dataclass
class PerfStat:
    """perf's running statistics of one reason (Welford, in nanoseconds)."""

    n: int = 0
    min_ns: int | None = None
    max_ns: int | None = None
    mean: float = 0.0
    m2: float = 0.0

    def add(self, ns: int) -> None:
        self.n += 1
        self.min_ns = ns if self.min_ns is None else min(self.min_ns, ns)
        self.max_ns = ns if self.max_ns is None else max(self.max_ns, ns)
        delta = ns - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (ns - self.mean)

    @property
    def rel_pct(self) -> float:
        """perf's `( +- x% )`: 100 * stddev of the mean / mean."""
        if self.n < 2 or not self.mean:
            return 0.0
        return 100.0 * math.sqrt(self.m2 / (self.n - 1) / self.n) / self.mean


@dataclass
class Pairing:
    """What pairing one file's events gave."""

    stats: dict[str, PerfStat] = field(default_factory=lambda: defaultdict(PerfStat))
    exits: Counter[str] = field(default_factory=Counter)  # every kvm_exit, by reason
    # vCPU -> exits before the thread's first entry in the file (perf ignores them)
    lost_at_start: Counter[int] = field(default_factory=Counter)
    lost_at_end: Counter[int] = field(default_factory=Counter)  # vCPU -> exits left unpaired
    lost_overwritten: int = 0  # an exit followed by another exit of the same vCPU
    orphan_entries: int = 0  # entries with no exit before them (the file's start)

    @property
    def paired(self) -> Counter[str]:
        return Counter({r: s.n for r, s in self.stats.items()})

    @property
    def lost(self) -> int:
        return (
            sum(self.lost_at_start.values())
            + sum(self.lost_at_end.values())
            + self.lost_overwritten
        )


def pair_exits(events: Iterable[KvmEvent]) -> Pairing:
    """Pair exits with entries per vCPU thread, as `perf kvm stat report` does."""
    result = Pairing()
    known: set[int] = set()  # threads perf has seen a kvm_entry of
    pending: dict[int, KvmEvent] = {}  # tid -> its open exit
    for ev in events:
        if ev.event == "kvm_exit":
            result.exits[ev.reason or "?"] += 1
            if ev.tid not in known:
                result.lost_at_start[ev.vcpu] += 1
                continue
            if ev.tid in pending:
                result.lost_overwritten += 1
            pending[ev.tid] = ev
            continue
        if ev.tid not in known:
            known.add(ev.tid)
            result.orphan_entries += 1
            continue
        if (start := pending.pop(ev.tid, None)) is not None:
            result.stats[start.reason or "?"].add(ev.time_ns - start.time_ns)
        else:
            result.orphan_entries += 1
    for ev in pending.values():
        result.lost_at_end[ev.vcpu] += 1
    return result
