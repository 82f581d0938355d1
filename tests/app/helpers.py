"""Drive the real app with the real demo source, one tick at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.pilot import Pilot

from vmexit_tui.analysis.model import EventKind, ExitStat, Report, with_shares
from vmexit_tui.analysis.running import Interval
from vmexit_tui.app.app import VmExitApp
from vmexit_tui.app.app_sources import demo_sources
from vmexit_tui.recording.demo import VirtualClock

FROZEN_WALL_CLOCK = 1_780_000_000.0


class Gate:
    """A DemoRecorder sleep that returns only when the test releases a tick."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self._queue: asyncio.Queue[None] | None = None

    @property
    def queue(self) -> asyncio.Queue[None]:
        if self._queue is None:
            self._queue = asyncio.Queue()
        return self._queue

    async def sleep(self, seconds: float) -> None:
        await self.queue.get()
        await self.clock.sleep(seconds)

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            self.queue.put_nowait(None)


def make_app(folder: Path, gate: Gate, *, autostart: str | None = "simulated-gp-rt-bind"):
    sources = demo_sources(
        folder,
        clock=lambda: FROZEN_WALL_CLOCK,
        recorder_clock=gate.clock,
        sleep=gate.sleep,
        autostart=autostart,
    )
    app = VmExitApp(sources)
    app.compare_refresh_s = 0.0
    return app


async def wait_for(pilot: Pilot, condition, timeout: float = 5.0) -> None:
    """Let the app process messages until `condition()` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.01)
    await pilot.pause()


async def feed(pilot: Pilot, app: VmExitApp, gate: Gate, n: int = 1) -> None:
    """Release `n` demo ticks and wait until the app has applied them."""
    await wait_for(pilot, lambda: app.current is not None)
    target = app.current.acc.intervals + n
    gate.release(n)
    await wait_for(pilot, lambda: app.current.acc.intervals >= target)


def wide_interval(index: int, reasons: int = 70, start: float = 1_000.0) -> Interval:
    """An interval with many reasons whose order changes from one interval to the next."""
    rows = []
    for r in range(reasons):
        n = 1 + (r * 7919 + index * 104729) % 997
        mean = 0.3 + ((r * 31 + index * 17) % 200) / 10
        rows.append(
            ExitStat(
                f"REASON_{r:02d}", n, min_us=mean / 2, max_us=mean * 3, mean_us=mean,
                rel_stddev_pct=1.0 + r % 5,
            )
        )  # fmt: skip
    report = with_shares(Report(event=EventKind.VMEXIT, rows=tuple(rows)))
    return Interval(index, start + index, start + index + 1, {EventKind.VMEXIT: report})
