"""The status line says what the recording is doing, including perf's notes."""

from __future__ import annotations

from vmexit_tui.app.widgets.status_line import status_text
from vmexit_tui.recording.protocol import RecordingState, RecordingStatus


def test_idle_and_recording_figures():
    assert status_text(None).plain == "● idle"
    text = status_text(
        RecordingStatus(RecordingState.RECORDING, 65.0, 3, 2048, 1234.0), label="guest1"
    ).plain
    assert text.startswith("● recording guest1")
    assert "01:05" in text and "3 chunks" in text and "exits/s" in text


def test_a_note_from_the_recorder_is_shown_while_recording_and_after():
    note = "perf recorded 154 KVM samples but no VM exits"
    for state in (RecordingState.RECORDING, RecordingState.STOPPED):
        text = status_text(RecordingStatus(state, 4.0, 4, 10, 0.0, note), label="g").plain
        assert text.endswith(f"· {note}")
    failed = status_text(RecordingStatus(RecordingState.FAILED, message="perf was killed")).plain
    assert "failed" in failed and "perf was killed" in failed


def test_a_problem_is_appended():
    assert "⚠ no perf" in status_text(None, problem="no perf").plain
