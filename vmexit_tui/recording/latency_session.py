"""cyclictest beside one recording: the feed, its intervals, spikes linked to exits, the audit.

Textual-free: the app (or the headless `record`) runs `feed.events()` and hands each
`LatencyInterval` to `add_latency`, each exit `Interval` to `add_exits`; both return the
spikes whose exit association became known, for display. `summary_json()` is what the
manifest and the snapshot keep.
"""

from __future__ import annotations

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
    ) -> None:
        kwargs = {"clock": clock} if clock is not None else {}
        self.feed = LatencyFeed(
            chunks, interval_s=interval_s, spike_us=spike_us, source=source, **kwargs
        )
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
