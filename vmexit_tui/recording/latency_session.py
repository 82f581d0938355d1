"""cyclictest beside one recording: the feed, its intervals, spikes linked to exits, the audit.

Textual-free: the app (or the headless `record`) runs `feed.events()` and hands each
`LatencyInterval` to `add_latency`, each exit `Interval` to `add_exits`; both return the
spikes whose exit association became known, for display. `summary_json()` is what the
manifest and the snapshot keep.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable, Sequence

from vmexit_tui.analysis.latency import LatencyInterval, LatencySummary, Spike, SpikeLinker
from vmexit_tui.analysis.running import Interval
from vmexit_tui.host.audit import AuditCheck
from vmexit_tui.recording.latency_feed import LatencyFeed

__all__ = ["LatencySession"]


class LatencySession:
    """One latency feed tied to one recording."""

    def __init__(
        self,
        chunks: AsyncIterator[str],
        *,
        interval_s: float = 1.0,
        spike_us: float | None = None,
        source: str = "",
        clock: Callable[[], float] | None = None,
        nsecs: bool = False,
    ) -> None:
        kwargs = {"clock": clock} if clock is not None else {}
        self.feed = LatencyFeed(
            chunks, interval_s=interval_s, spike_us=spike_us, source=source, nsecs=nsecs,
            **kwargs,
        )  # fmt: skip
        self.linker = SpikeLinker(self.feed.tracker)
        self.audit: tuple[AuditCheck, ...] = ()
        self.ended: str | None = None

    @property
    def intervals(self) -> list[LatencyInterval]:
        return self.feed.intervals

    @property
    def spikes(self) -> list[Spike]:
        return self.feed.tracker.spikes

    @property
    def worst_us(self) -> int | None:
        return self.feed.tracker.worst_us

    def add_latency(self, interval: LatencyInterval) -> list[Spike]:
        """A latency interval from the feed; its spikes that could be linked to exits now."""
        return self.linker.add_spikes(interval.spikes)

    def add_exits(self, interval: Interval) -> list[Spike]:
        """An exit interval of the recording; spikes it resolved."""
        return self.linker.add_exit_interval(interval)

    def summary(self) -> LatencySummary:
        return self.feed.summary()

    def summary_json(self) -> dict:
        """For the manifest: the summary (spikes with their associations)."""
        return self.summary().to_json()

    def snapshot_args(self) -> dict[str, object]:
        """Keyword arguments of `snapshots.save_run` for this session."""
        intervals: Sequence[LatencyInterval] = list(self.intervals)
        return {"latency": self.summary(), "latency_intervals": intervals, "audit": self.audit}


def session_from_args(args: object, *, interval_s: float = 1.0) -> LatencySession | None:
    """A session for `--latency-cmd` / `--latency-file` / `--latency-stdin` (None without)."""
    from vmexit_tui.recording.latency_feed import LatencySpec

    spec = LatencySpec(
        command=getattr(args, "latency_cmd", None),
        file=getattr(args, "latency_file", None),
        stdin=bool(getattr(args, "latency_stdin", False)),
        spike_us=getattr(args, "spike_us", None),
        nsecs=bool(getattr(args, "latency_ns", False)),
    )
    if not (spec.command or spec.file or spec.stdin):
        return None
    return LatencySession(
        spec.chunks(), interval_s=interval_s, spike_us=spec.spike_us, source=spec.describe(),
        nsecs=spec.in_ns,
    )  # fmt: skip


def add_latency_arguments(parser: argparse.ArgumentParser, *, stdin: bool = True) -> None:
    """--latency-cmd, --latency-file (and --latency-stdin), --spike-us."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--latency-cmd", metavar="CMD",
        help="read cyclictest's output from this command (split like a shell would, never run "
        'by one), e.g. "ssh rt-guest cyclictest -m -p95 -i 1000 -t 2"',
    )  # fmt: skip
    group.add_argument(
        "--latency-file", metavar="PATH",
        help="read cyclictest's output from a file that grows (e.g. a serial console log)",
    )  # fmt: skip
    if stdin:
        group.add_argument(
            "--latency-stdin", action="store_true", help="read cyclictest's output from stdin"
        )
    parser.add_argument(
        "--spike-us", type=float, metavar="N",
        help="latency spike threshold in µs (default: the 99.9th percentile seen so far)",
    )  # fmt: skip
    parser.add_argument(
        "--latency-ns", action="store_true",
        help="cyclictest's output is in ns (it ran with -N); found by itself in --latency-cmd",
    )  # fmt: skip


async def pump(session: LatencySession, on_spike: Callable[[Spike], None]) -> str:
    """Run the feed to its end; spikes resolved on the way go to `on_spike`; returns why it
    ended."""
    from vmexit_tui.recording.latency_feed import LatencyEnded

    reason = "cancelled"
    async for event in session.feed.events():
        if isinstance(event, LatencyEnded):
            reason = event.reason
        else:
            for spike in session.add_latency(event):
                on_spike(spike)
    session.ended = reason
    return reason
