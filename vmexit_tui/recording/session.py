"""One recording's lifecycle, without Textual: start, events, stop, and how it ended.

A `RecordingSession` wraps a `Recorder`. `run(report)` consumes the recorder's events and
hands each one to `report` (the app posts them as messages); the model changes only
through `add`, `update_status`, `finish` and `mark`, so whoever routes the events (the
app's message handlers, a test) applies them in order on one loop. Every way out of
`run` awaits `recorder.stop()`, and `stop()` waits for `run` to finish: no recording is
ever left running behind a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

from vmexit_tui.analysis.running import Interval, RunAccumulator, RunInfo
from vmexit_tui.recording.protocol import (
    EndReason,
    Recorder,
    RecorderEvent,
    RecordingEnded,
    RecordingState,
    RecordingStatus,
)

STOP_TIMEOUT_S = 15.0
NO_EVENTS_AFTER_S = 5.0  # a recording this old without a single exit is worth explaining
NO_EVENTS = (
    "no VM exits recorded yet: is the VM idle, is it a KVM guest (not TCG), is tracefs mounted?"
)
NO_EVENTS_ENDED = (
    "perf recorded no VM exits: was the VM idle, is it a KVM guest (not TCG), is tracefs mounted?"
)


class RecordingSession:
    """A recording of one VM: its recorder, running totals, latest status and end."""

    def __init__(self, recorder: Recorder, *, clock: Callable[[], float] = time.time) -> None:
        self.recorder = recorder
        self.info: RunInfo = recorder.info
        self.acc = RunAccumulator()
        self.status = RecordingStatus(RecordingState.STARTING)
        self.ended: RecordingEnded | None = None
        self.last_interval_at: float | None = None
        self._clock = clock
        self._finished: asyncio.Event | None = None

    # ---- what it is ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.ended is None

    @property
    def duration_s(self) -> float | None:
        acc = self.acc
        if acc.last is None or acc.first_start is None:
            return None
        return acc.last.end - acc.first_start

    @property
    def label(self) -> str:
        """Named from the VM and its pinning state, e.g. "web1 bind"."""
        name = self.info.vm_name or self.info.label
        return f"{name} {self.info.pinning}" if self.info.pinning else name

    @property
    def silent(self) -> bool:
        """No event of any kind recorded, though the recording ran (or runs) for a while."""
        if any(r.sample_count for r in self.acc.totals.values()):
            return False
        if self.ended is not None:
            return self.acc.intervals > 0 or self.status.elapsed > 0
        return self.status.elapsed >= NO_EVENTS_AFTER_S or self.acc.intervals >= NO_EVENTS_AFTER_S

    @property
    def silence_note(self) -> str | None:
        """What to tell the user when nothing was recorded (None while there is data)."""
        if not self.silent:
            return None
        if self.status.message:  # the source knows better (e.g. "samples but no VM exits")
            return self.status.message
        return NO_EVENTS if self.ended is None else NO_EVENTS_ENDED

    # ---- consuming the recorder --------------------------------------------------------
    async def run(self, report: Callable[[RecorderEvent], None]) -> RecordingEnded:
        """Hand every event of the recorder to `report`, ending with one `RecordingEnded`.

        A source that raises ends as `FAILED`, one cancelled before it said why as
        `CANCELLED`; either way `recorder.stop()` is awaited before this returns.
        """
        self._finished = self._finished or asyncio.Event()
        ended: RecordingEnded | None = None
        try:
            async for event in self.recorder.events():
                if isinstance(event, RecordingEnded):
                    ended = event
                else:
                    report(event)
        except Exception as exc:
            ended = RecordingEnded(EndReason.FAILED, detail=f"recording failed: {exc}")
        finally:
            await self.recorder.stop()
            if ended is None:
                ended = RecordingEnded(EndReason.CANCELLED, detail="recording cancelled")
            self.finish(ended)  # here too: the report may never be handled at shutdown
            self._finished.set()
            report(ended)
        return ended

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask the recorder to finish and wait (at most `timeout`) until `run` is done."""
        if self.ended is not None:
            return
        self.begin_stop()
        await self.recorder.stop()
        if self._finished is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._finished.wait(), timeout)

    def begin_stop(self) -> None:
        """Say the recording is stopping (before the recorder has been asked)."""
        if self.ended is None:
            self.status = replace(self.status, state=RecordingState.STOPPING)

    # ---- applying events (in order, on one loop) ----------------------------------------
    def add(self, interval: Interval) -> None:
        self.acc.add(interval)
        self.last_interval_at = self._clock()

    def update_status(self, status: RecordingStatus) -> str | None:
        """Take a newer status; the source's note when it is news (worth showing whole)."""
        before = self.status.message
        if self.status.state is RecordingState.STOPPING and status.state in (
            RecordingState.STARTING,
            RecordingState.RECORDING,
        ):
            status = replace(status, state=RecordingState.STOPPING)  # asked to stop: say so
        self.status = status
        note = status.message
        if note and note != before and status.state is RecordingState.RECORDING:
            return note
        return None

    def finish(self, ended: RecordingEnded) -> None:
        """The recording ended: keep why, and a final status that says so."""
        if self.ended is not None:
            return
        self.ended = ended
        if self.status.state not in (RecordingState.STOPPED, RecordingState.FAILED):
            state = RecordingState.STOPPED if ended.ok else RecordingState.FAILED
            message = None if ended.reason is EndReason.STOPPED else ended.summary
            self.status = replace(self.status, state=state, exits_per_second=None, message=message)

    def mark(self) -> str:
        """Mark this moment in the series; the marker's label."""
        now = self._clock()
        acc = self.acc
        if acc.last is not None and self.last_interval_at is not None:
            at = acc.last.end + (now - self.last_interval_at)
        else:
            at = acc.first_start or 0.0
        label = f"mark {len(acc.markers) + 1} at {time.strftime('%H:%M:%S', time.localtime(now))}"
        acc.mark(at, label)
        return label
