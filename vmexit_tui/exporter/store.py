"""What the exporter publishes, kept between scrapes: per-VM counters that only grow.

The supervisor writes (one VM at a time, from the asyncio loop); the HTTP server's thread
reads a consistent copy at each scrape (`snapshot`). A VM is keyed by pid *and* start time:
its counters live as long as that process does and are never lowered; a VM whose process
ends is dropped (its series disappear from the next scrape), and a new process, even under
the same name, starts from zero. That is the Prometheus counter contract: a reset only
with a new pid.

Nothing here holds a command line: a VM is described by its name, pid, VMM, pinning and
vCPU threads only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from vmexit_tui.host.discovery import VmInfo

ALL_VCPUS = "all"  # the vcpu label of counts a source could not split by vCPU


@dataclass(frozen=True, slots=True)
class VmKey:
    """One guest process: a pid is reused, a (pid, start time) pair is not."""

    pid: int
    started: float

    @classmethod
    def of(cls, vm: VmInfo) -> VmKey:
        return cls(vm.pid, round(vm.started, 2))


@dataclass(frozen=True, slots=True)
class Observation:
    """Exits of one reason on one vCPU over one interval, with their log2 time histogram.

    `buckets` holds (bucket upper bound in µs, exits in that bucket) pairs, not cumulative,
    as a mapping or a sequence of pairs (a `Log2Histogram`'s own); None when the source has
    no timing histogram.
    """

    vcpu: str
    reason: str
    count: int
    time_us: float | None = None
    buckets: Mapping[float, int] | Sequence[tuple[float, int]] | None = None


@dataclass(frozen=True, slots=True)
class VcpuThread:
    """One vCPU thread as exported: allowed CPUs and scheduling policy."""

    index: int
    tid: int
    cpus: tuple[int, ...]
    policy: str  # "SCHED_OTHER", "SCHED_FIFO", ... or "unknown"
    rt_priority: int


@dataclass(slots=True)
class _Hist:
    time_us: float = 0.0
    count: int = 0
    buckets: dict[float, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Vm:
    info: VmInfo
    label: str
    isa: str
    threads: tuple[VcpuThread, ...] = ()
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (vcpu, reason)
    hists: dict[str, _Hist] = field(default_factory=dict)  # per reason, all vCPUs


@dataclass(frozen=True, slots=True)
class SeriesView:
    """One (vcpu, reason) counter of one VM at a scrape."""

    vcpu: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class HistogramView:
    """One reason's handling-time histogram of one VM (all its vCPUs) at a scrape."""

    reason: str
    time_s: float
    count: int
    cumulative: tuple[tuple[float, int], ...]  # (upper bound in seconds, cumulative count)


@dataclass(frozen=True, slots=True)
class VmView:
    """One VM at a scrape."""

    label: str
    pid: int
    vmm: str
    pinning: str
    isa: str
    threads: tuple[VcpuThread, ...]
    series: tuple[SeriesView, ...]
    histograms: tuple[HistogramView, ...]


@dataclass(frozen=True, slots=True)
class Health:
    """The exporter's own state at a scrape."""

    mode: str
    why: str
    vms_lost: int
    source_errors: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    vms: tuple[VmView, ...]
    health: Health
    host_checks: tuple[tuple[str, str, str], ...]  # (check, value, usual_for_rt)


class MetricStore:
    """Thread-safe home of the exported counters (see the module docstring)."""

    def __init__(self, mode: str, why: str = "") -> None:
        self._lock = threading.Lock()
        self._vms: dict[VmKey, _Vm] = {}
        self.mode = mode
        self.why = why
        self._lost = 0
        self._source_errors = 0
        self._last_error: str | None = None
        self._host_checks: tuple[tuple[str, str, str], ...] = ()

    # -- writers -------------------------------------------------------------------------
    def upsert_vm(self, vm: VmInfo, isa: str, threads: Sequence[VcpuThread] = ()) -> VmKey:
        """Add a VM or refresh what is known about it (pinning, threads); counters kept."""
        key = VmKey.of(vm)
        with self._lock:
            entry = self._vms.get(key)
            if entry is None:
                self._vms[key] = _Vm(
                    info=vm, label=self._label_for(vm), isa=isa, threads=tuple(threads)
                )
            else:
                entry.info, entry.threads = vm, tuple(threads)
        return key

    def _label_for(self, vm: VmInfo) -> str:
        taken = {v.label for v in self._vms.values()}
        return vm.name if vm.name not in taken else f"{vm.name}#{vm.pid}"

    def add(self, key: VmKey, observations: Iterable[Observation]) -> None:
        """Add one interval's exits of a VM; unknown VMs (already dropped) are ignored.

        Counters are kept per vCPU and reason; histograms per reason (all vCPUs together):
        a histogram is a dozen series, and per vCPU they would be most of a scrape's cost.
        """
        with self._lock:
            entry = self._vms.get(key)
            if entry is None:
                return
            counts, hists = entry.counts, entry.hists
            for obs in observations:
                if obs.count <= 0:
                    continue
                series = (obs.vcpu, obs.reason)
                counts[series] = counts.get(series, 0) + obs.count
                if obs.buckets:
                    h = hists.get(obs.reason)
                    if h is None:
                        h = hists[obs.reason] = _Hist()
                    if obs.time_us is not None:
                        h.time_us += obs.time_us
                    buckets = h.buckets
                    pairs = obs.buckets
                    for bound, n in pairs.items() if isinstance(pairs, Mapping) else pairs:
                        if n > 0:
                            buckets[bound] = buckets.get(bound, 0) + n
                            h.count += n

    def drop(self, key: VmKey, *, lost: bool = True) -> bool:
        """Forget a VM whose process ended; True when it was known."""
        with self._lock:
            gone = self._vms.pop(key, None)
            if gone is not None and lost:
                self._lost += 1
            return gone is not None

    def source_failed(self, message: str) -> None:
        with self._lock:
            self._source_errors += 1
            self._last_error = message

    def set_host_checks(self, checks: Iterable[tuple[str, str, str]]) -> None:
        with self._lock:
            self._host_checks = tuple(checks)

    # -- readers -------------------------------------------------------------------------
    def keys(self) -> set[VmKey]:
        with self._lock:
            return set(self._vms)

    def total(self, key: VmKey) -> dict[str, int]:
        """Exits per reason of one VM so far (all vCPUs)."""
        with self._lock:
            entry = self._vms.get(key)
            out: dict[str, int] = {}
            if entry is not None:
                for (_vcpu, reason), n in entry.counts.items():
                    out[reason] = out.get(reason, 0) + n
            return out

    def snapshot(self) -> Snapshot:
        """A consistent copy for one scrape, with cumulative histogram buckets."""
        with self._lock:
            raw = [
                (
                    e.label, e.info, e.isa, e.threads, list(e.counts.items()),
                    [(r, h.time_us, h.count, sorted(h.buckets.items()))
                     for r, h in e.hists.items()],
                )
                for e in self._vms.values()
            ]  # fmt: skip
            health = Health(self.mode, self.why, self._lost, self._source_errors, self._last_error)
            checks = self._host_checks
        vms = []
        for label, info, isa, threads, counts, hists in raw:
            series = tuple(SeriesView(vcpu, reason, n) for (vcpu, reason), n in counts)
            views = []
            for reason, time_us, count, buckets in hists:
                cum, running = [], 0
                for bound, n in buckets:
                    running += n
                    cum.append((bound / 1e6, running))
                views.append(HistogramView(reason, time_us / 1e6, count, tuple(cum)))
            vms.append(
                VmView(label, info.pid, info.vmm, str(info.pinning), isa, threads, series,
                       tuple(views))
            )  # fmt: skip
        vms.sort(key=lambda v: v.label)
        return Snapshot(tuple(vms), health, checks)
