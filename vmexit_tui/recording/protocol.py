"""The door every recording source comes through: perf chunks, perf live, the demo.

A source yields `Interval`s as they finish, `RecordingStatus` updates (at least one per
interval, and one when the state changes) and exactly one `RecordingEnded` last. `stop()`
asks it to finish: it must then report what it still holds and end. Tests, the demo and
perf all use this same protocol, so the app never knows which it is talking to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from vmexit_tui.analysis.running import Interval, RunInfo


class RecordingState(StrEnum):
    STARTING = "starting"
    RECORDING = "recording"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    """Where a recording stands: shown in the status line at all times."""

    state: RecordingState
    elapsed: float = 0.0
    chunks: int = 0
    bytes_on_disk: int = 0
    exits_per_second: float | None = None
    message: str | None = None


class EndReason(StrEnum):
    """Why a recording ended (`RecordingEnded.reason`, a manifest's `end_reason`)."""

    STOPPED = "stopped"  # on request: a key, Ctrl+C, a signal
    DURATION_REACHED = "duration-reached"  # a length set in advance ran out
    VM_EXITED = "vm-exited"
    DISK_FULL = "disk-full"
    PERF_FAILED = "perf-failed"
    ALREADY_RECORDING = "already-recording"
    NOT_STARTED = "could-not-start"
    FAILED = "recording-failed"  # the source raised: a bug or an I/O fault
    CANCELLED = "cancelled"  # the consumer went away before the source said why

    @property
    def ok(self) -> bool:
        """Ended as asked or by circumstance, with its data intact."""
        return self in _OK_ENDS


_OK_ENDS = frozenset(
    {EndReason.STOPPED, EndReason.DURATION_REACHED, EndReason.VM_EXITED, EndReason.DISK_FULL}
)


@dataclass(frozen=True, slots=True)
class RecordingEnded:
    """The last event of a source: why it ended (typed), what happened, where its data is."""

    reason: EndReason
    detail: str = ""
    folder: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason.ok

    @property
    def summary(self) -> str:
        """One line for people: the detail, or the reason when there is none."""
        return self.detail or self.reason.value.replace("-", " ")


RecorderEvent = Interval | RecordingStatus | RecordingEnded


class Recorder(Protocol):
    """A running recording of one VM."""

    info: RunInfo

    def events(self) -> AsyncIterator[RecorderEvent]:
        """Everything the recording produces, ending with one `RecordingEnded`."""
        ...

    async def stop(self) -> None:
        """Ask the recording to finish; idempotent. `events()` then drains and ends."""
        ...
