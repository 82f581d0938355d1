"""RecordingSession: the lifecycle of one recording, driven by the real demo source."""

from __future__ import annotations

import asyncio

from vmexit_tui.host.discovery import VmInfo
from vmexit_tui.recording.demo import DemoRecorder, VirtualClock, simulated_vms
from vmexit_tui.recording.protocol import (
    EndReason,
    RecordingEnded,
    RecordingState,
    RecordingStatus,
)
from vmexit_tui.recording.session import NO_EVENTS, NO_EVENTS_ENDED, RecordingSession


def _vm() -> VmInfo:
    return simulated_vms(started=0.0)[0]


def _recorder(**kw) -> DemoRecorder:
    clock = VirtualClock()
    return DemoRecorder(_vm(), interval_s=1.0, clock=clock, sleep=clock.sleep, **kw)


async def _run(session: RecordingSession) -> list:
    seen: list = []

    def report(event) -> None:
        seen.append(event)
        if isinstance(event, RecordingStatus):
            session.update_status(event)
        elif not isinstance(event, RecordingEnded):
            session.add(event)

    await session.run(report)
    return seen


async def test_a_source_that_runs_out_ends_typed_with_its_data():
    session = RecordingSession(_recorder(max_intervals=3), clock=lambda: 5.0)
    seen = await _run(session)
    assert session.acc.intervals == 3 and session.duration_s is not None
    assert session.ended is not None and session.ended.reason is EndReason.DURATION_REACHED
    assert session.ended.ok and not session.running
    assert isinstance(seen[-1], RecordingEnded) and seen[-1] is session.ended
    assert session.status.state is RecordingState.STOPPED
    assert session.last_interval_at == 5.0
    assert session.label.endswith(session.info.pinning)


async def test_stop_waits_for_the_run_to_end_and_says_stopped():
    session = RecordingSession(_recorder())
    task = asyncio.create_task(_run(session))
    while session.acc.intervals < 2:
        await asyncio.sleep(0)
    await session.stop()
    assert task.done()
    assert session.ended is not None and session.ended.reason is EndReason.STOPPED
    assert session.ended.summary == "simulated, not saved"
    assert session.recorder.stopping


class _Broken:
    """A recorder whose events raise after one status: a bug or an I/O fault in a source."""

    def __init__(self) -> None:
        self.info = _vm_info()
        self.stopped = False

    async def events(self):
        yield RecordingStatus(RecordingState.RECORDING, elapsed=1.0)
        raise OSError("disk on fire")

    async def stop(self) -> None:
        self.stopped = True


def _vm_info():
    from vmexit_tui.analysis.running import RunInfo

    return RunInfo(label="broken", vm_name="broken")


async def test_a_source_that_raises_ends_failed_and_is_stopped():
    recorder = _Broken()
    session = RecordingSession(recorder)
    await _run(session)
    assert recorder.stopped
    assert session.ended is not None and session.ended.reason is EndReason.FAILED
    assert not session.ended.ok and "disk on fire" in session.ended.summary
    assert session.status.state is RecordingState.FAILED
    assert "disk on fire" in (session.status.message or "")


async def test_a_recording_with_no_events_says_so_while_running_and_after():
    session = RecordingSession(_Broken())
    assert session.silence_note is None  # too early to tell
    session.update_status(RecordingStatus(RecordingState.RECORDING, elapsed=10.0))
    assert session.silence_note == NO_EVENTS
    session.finish(RecordingEnded(EndReason.STOPPED))
    assert session.silence_note == NO_EVENTS_ENDED
    assert session.status.state is RecordingState.STOPPED


async def test_a_source_note_explains_silence_better_than_the_guess():
    session = RecordingSession(_Broken())
    note = session.update_status(
        RecordingStatus(RecordingState.RECORDING, elapsed=10.0, message="no kvm_exit here")
    )
    assert note == "no kvm_exit here"  # news: shown whole once
    assert (
        session.update_status(
            RecordingStatus(RecordingState.RECORDING, elapsed=11.0, message="no kvm_exit here")
        )
        is None
    )
    assert session.silence_note == "no kvm_exit here"


def test_mark_is_placed_after_the_last_interval():
    now = [100.0]
    session = RecordingSession(_recorder(), clock=lambda: now[0])
    assert session.mark().startswith("mark 1 at")
    assert session.acc.markers[0].time == 0.0


def test_end_reasons_say_which_ends_kept_their_data():
    assert {r for r in EndReason if r.ok} == {
        EndReason.STOPPED,
        EndReason.DURATION_REACHED,
        EndReason.VM_EXITED,
        EndReason.DISK_FULL,
    }
    assert RecordingEnded(EndReason.VM_EXITED).summary == "vm exited"
