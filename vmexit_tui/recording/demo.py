"""The built-in demo: simulated VMs whose recordings are drawn from the four reference runs.

Nothing here touches a real VM. Each simulated VM stands for one reference run of the seed
document (GP-GP / GP-RT guest, vCPUs pinned "bind" or not "raw"), and its `DemoRecorder`
produces one `Interval` per tick whose per-reason counts, mean times, min/max and spread are
drawn around that run's figures:

- rate of a reason = its reference samples / `REFERENCE_DURATION_S` (the seed ran
  ``cyclictest -i 10000 -l 1000``: 1000 loops of 10 ms, so 10 s); counts are Poisson;
- mean time jitters around the reference mean; min/max stay inside the reference min/max;
- the spread follows from the reference spread (only an upper bound is known, half of it is
  used) and the interval's count.

The reference runs have no MMIO or I/O-port reports; the demo splits the EPT_MISCONFIG (MMIO)
and IO_INSTRUCTION (port I/O) exits over a few typical addresses so those views have data.
Randomness is seeded and the clock is injectable (`VirtualClock`), so tests are deterministic.
Every name, label and status message says "simulated".
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, with_shares
from vmexit_tui.analysis.running import Interval, RunInfo
from vmexit_tui.host.discovery import Pinning, VCpu, VmInfo
from vmexit_tui.recording.protocol import (
    EndReason,
    RecorderEvent,
    RecordingEnded,
    RecordingState,
    RecordingStatus,
)
from vmexit_tui.reference import seed_runs

REFERENCE_DURATION_S = 10.0
SIMULATED_PREFIX = "simulated-"
BYTES_PER_EVENT = 90  # perf.data grows by about this much per recorded event (perf-notes)

# Simulated pids are negative: they can never name a real process, so nothing can record,
# signal or inspect a real process by mistake when handed a simulated VM.
_VMS: tuple[tuple[str, int, Pinning], ...] = (
    ("gp-gp-raw", -1, Pinning.RAW),
    ("gp-gp-bind", -2, Pinning.BIND),
    ("gp-rt-raw", -3, Pinning.RAW),
    ("gp-rt-bind", -4, Pinning.BIND),
)

# Where the demo puts MMIO and port-I/O exits, with each address's share of its parent reason.
_MMIO_KEYS = (("0xfee00380:W", 0.45), ("0xfebf1000:W", 0.35), ("0xfebd0008:R", 0.2))
_IOPORT_KEYS = (
    ("0x3f8:POUT", 0.4),
    ("0x604:POUT", 0.2),
    ("0x70:POUT", 0.15),
    ("0x71:PIN", 0.15),
    ("0xcfc:PIN", 0.1),
)


def simulated_vms(started: float = 0.0) -> list[VmInfo]:
    """The demo's four simulated VMs, one per reference run, clearly named as simulated."""
    vms = []
    for run, pid, pinning in _VMS:
        cpus = (0,) if pinning is Pinning.BIND else (0, 1)
        vms.append(
            VmInfo(
                pid=pid,
                name=f"{SIMULATED_PREFIX}{run}",
                vmm="simulated",
                started=started,
                cpu_percent=0.0,
                rss_bytes=0,
                vcpus=(VCpu(index=0, tid=pid, cpus=cpus),),
                pinning=pinning,
            )
        )
    return vms


def is_simulated(vm: VmInfo) -> bool:
    """True for the demo's VMs (negative pid and a simulated name)."""
    return vm.pid < 0 and vm.name.startswith(SIMULATED_PREFIX)


def reference_run_of(vm: VmInfo) -> str:
    """The reference run a simulated VM stands for (`gp-rt-bind`)."""
    if not is_simulated(vm):
        raise ValueError(f"{vm.name!r} (pid {vm.pid}) is not a simulated VM")
    return vm.name.removeprefix(SIMULATED_PREFIX)


@dataclass(frozen=True, slots=True)
class _Profile:
    """One reason's figures in a reference run, with gaps filled from the other runs."""

    reason: str
    rate: float
    mean_us: float
    min_us: float
    max_us: float
    cv: float  # standard deviation of one exit's time / its mean


def _profiles(run: str) -> list[_Profile]:
    runs = seed_runs.load_all()
    if run not in runs:
        raise KeyError(f"no reference run {run!r}; choose one of {', '.join(runs)}")

    def known(reason: str, attr: str) -> float | None:
        values = [getattr(r.row(reason), attr) for r in runs.values() if r.row(reason)]
        values = sorted(v for v in values if v is not None)
        return values[len(values) // 2] if values else None

    out = []
    for row in runs[run].rows:
        mean = row.mean_us if row.mean_us is not None else known(row.reason, "mean_us") or 1.0
        low = row.min_us if row.min_us is not None else known(row.reason, "min_us") or mean / 2
        high = row.max_us if row.max_us is not None else known(row.reason, "max_us") or mean * 4
        spread = row.spread_bound if row.spread_bound is not None else 1.0
        # Only an upper bound of the printed spread is known; use half of it (at least 0.05%).
        cv = max(spread / 2, 0.05) / 100.0 * math.sqrt(row.samples)
        out.append(_Profile(row.reason, row.samples / REFERENCE_DURATION_S, mean, low, high, cv))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _draw(rng: random.Random, prof: _Profile, seconds: float, share: float = 1.0) -> ExitStat:
    n = _poisson(rng, prof.rate * seconds * share)
    if n == 0:
        return ExitStat(reason=prof.reason, samples=0)
    mean = min(max(prof.mean_us * rng.lognormvariate(0.0, 0.08), prof.min_us), prof.max_us)
    low = min(mean, prof.min_us * (1.0 + 0.2 * rng.random()))
    high = max(mean, mean + (prof.max_us - mean) * rng.random() ** (3.0 / math.log10(n + 10)))
    rel = 100.0 * prof.cv * rng.uniform(0.7, 1.3) / math.sqrt(n) if n > 1 else 0.0
    return ExitStat(prof.reason, n, min_us=low, max_us=high, mean_us=mean, rel_stddev_pct=rel)


def simulate_interval(
    rng: random.Random, profiles: Sequence[_Profile], index: int, start: float, end: float
) -> Interval:
    """One simulated interval: vmexit, mmio and ioport reports drawn from `profiles`."""
    seconds = max(end - start, 0.0)
    by_name = {p.reason: p for p in profiles}
    rows = [s for s in (_draw(rng, p, seconds) for p in profiles) if s.samples]
    reports = {EventKind.VMEXIT: _report(EventKind.VMEXIT, rows)}
    for kind, parent, keys in (
        (EventKind.MMIO, "EPT_MISCONFIG", _MMIO_KEYS),
        (EventKind.IOPORT, "IO_INSTRUCTION", _IOPORT_KEYS),
    ):
        prof = by_name.get(parent)
        sub = []
        if prof is not None:
            for key, share in keys:
                stat = _draw(rng, _rename(prof, key), seconds, share)
                if stat.samples:
                    sub.append(stat)
        reports[kind] = _report(kind, sub)
    return Interval(index=index, start=start, end=end, reports=reports)


def simulated_histogram(stat: ExitStat) -> dict[float, int]:
    """A log2 histogram of one simulated row: bucket upper bound in µs -> exits in it.

    The kernel source buckets each exit's handling time by powers of two; the demo has only
    a row's count, mean, min, max and spread, so it spreads the count over the log2 buckets
    from min to max along a log-normal with that mean and spread (largest remainders, so
    the buckets add up to the row's count exactly). Deterministic: same row, same buckets.
    """
    n = stat.samples
    if n <= 0:
        return {}
    mean = stat.mean_us if stat.mean_us and stat.mean_us > 0 else 1.0
    low = stat.min_us if stat.min_us and stat.min_us > 0 else mean
    high = stat.max_us if stat.max_us and stat.max_us >= low else max(mean, low)
    sd = stat.stddev_us or mean * 0.3
    sigma = math.sqrt(math.log1p((sd / mean) ** 2)) or 1e-6
    mu = math.log(mean) - sigma * sigma / 2
    first = math.ceil(math.log2(low))
    last = max(math.ceil(math.log2(high)), first)

    def cdf(x: float) -> float:
        return 0.5 * (1.0 + math.erf((math.log(x) - mu) / (sigma * math.sqrt(2.0))))

    bounds = [2.0**k for k in range(first, last + 1)]
    weights = [cdf(b) - cdf(b / 2) for b in bounds]
    weights[0] += cdf(bounds[0] / 2)  # below the first bucket: folded into it
    weights[-1] += 1.0 - cdf(bounds[-1])  # above the last: folded into it
    total = sum(weights) or 1.0
    exact = [n * w / total for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return {b: c for b, c in zip(bounds, counts, strict=True) if c}


def _rename(prof: _Profile, reason: str) -> _Profile:
    return _Profile(reason, prof.rate, prof.mean_us, prof.min_us, prof.max_us, prof.cv)


def _report(kind: EventKind, rows: list[ExitStat]) -> Report:
    return with_shares(Report(event=kind, rows=tuple(rows), source="simulated"))


class VirtualClock:
    """A clock for tests: `sleep` advances time at once instead of waiting."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


class DemoRecorder:
    """A `Recorder` of a simulated VM: one simulated `Interval` every `interval_s` seconds.

    `clock` gives the time stamps, `sleep` waits between ticks (default: real time, cut
    short by `stop()`). `max_intervals` ends the recording by itself after that many.
    """

    def __init__(
        self,
        vm: VmInfo,
        *,
        interval_s: float = 1.0,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        max_intervals: int | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0 seconds, got {interval_s}")
        self.vm = vm
        self.run = reference_run_of(vm)
        self.interval_s = interval_s
        self.max_intervals = max_intervals
        self._profiles = _profiles(self.run)
        self._rng = random.Random(f"{seed}:{self.run}")
        self._clock = clock
        self._sleep = sleep
        self._stop = asyncio.Event()
        self.info = RunInfo(
            label=f"simulated {self.run}",
            vm_name=vm.name,
            pid=vm.pid,
            pinning=str(vm.pinning),
            pinning_at_end=str(vm.pinning),
            host="simulated",
            started=clock(),
            notes=f"simulated from the built-in reference run {self.run}",
            simulated=True,
        )

    async def stop(self) -> None:
        """Ask the recording to end after the current tick; idempotent."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def _pause(self, seconds: float) -> None:
        """Wait one tick, or less when `stop()` is called meanwhile."""
        if self._sleep is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=seconds)
            return
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()

    async def events(self) -> AsyncIterator[RecorderEvent]:
        """Status, then one interval and one status per tick, then `RecordingEnded`."""
        started = self._clock()
        msg = f"simulated recording of {self.vm.name}"
        yield RecordingStatus(RecordingState.STARTING, message=msg)
        index = total = 0
        last = started
        reason, detail = EndReason.STOPPED, "simulated, not saved"
        while not self._stop.is_set():
            if self.max_intervals is not None and index >= self.max_intervals:
                reason = EndReason.DURATION_REACHED
                detail = f"simulated recording ended after {index} intervals (not saved)"
                break
            await self._pause(self.interval_s)
            now = self._clock()
            if self._stop.is_set() and now - last < self.interval_s / 2:
                break  # stopped mid-tick: drop the stub rather than report a skewed rate
            interval = simulate_interval(self._rng, self._profiles, index, last, now)
            index += 1
            total += sum(r.sample_count for r in interval.reports.values())
            last = now
            yield interval
            yield RecordingStatus(
                RecordingState.RECORDING,
                elapsed=now - started,
                chunks=index,
                bytes_on_disk=total * BYTES_PER_EVENT,
                exits_per_second=interval.rate(EventKind.VMEXIT),
            )
        yield RecordingStatus(
            RecordingState.STOPPED,
            elapsed=last - started,
            chunks=index,
            bytes_on_disk=total * BYTES_PER_EVENT,
        )
        yield RecordingEnded(reason, detail=detail)
