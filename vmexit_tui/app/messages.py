"""Messages the app's workers post: named in the past tense, plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from vmexit_tui.analysis.compare_session import SnapshotRun
from vmexit_tui.analysis.comparison import ComparedRun, Comparison
from vmexit_tui.analysis.run_context import RunContext
from vmexit_tui.analysis.running import Interval, RunInfo
from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.recording.protocol import RecordingEnded, RecordingStatus


@dataclass
class VmsScanned(Message):
    """A scan of the running VMs finished."""

    vms: tuple[VmInfo, ...]
    error: str | None = None


@dataclass
class RecordingStarted(Message):
    """A recorder was created and its worker is consuming its events."""

    info: RunInfo


@dataclass
class IntervalReceived(Message):
    """One finished interval of the current recording (never coalesced: each one counts)."""

    interval: Interval


@dataclass
class RecordingStatusChanged(Message):
    """Where the recording stands; a newer status replaces one not yet handled."""

    status: RecordingStatus

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RecordingStatusChanged)


@dataclass
class RecordingFinished(Message):
    """The recording ended (stopped, failed or ran out); `ended` says why."""

    info: RunInfo
    ended: RecordingEnded


@dataclass
class SnapshotSaved(Message):
    """A snapshot file was written."""

    path: Path
    what: str


@dataclass
class SnapshotFailed(Message):
    """Saving or loading a snapshot failed; `error` says which file and why."""

    error: str


@dataclass
class SnapshotsListed(Message):
    """The snapshot folder was listed for the run picker: each snapshot, its label, and why
    it cannot be read (None when it can)."""

    snapshots: tuple[tuple[SnapshotRun, str, str | None], ...]


@dataclass
class SnapshotLoaded(Message):
    """A snapshot was read: a run (`run`) or a whole comparison (`comparison`)."""

    key: SnapshotRun
    run: ComparedRun | None = None
    comparison: Comparison | None = None
    contexts: tuple[RunContext, ...] = ()  # a comparison's runs' latency and audit
