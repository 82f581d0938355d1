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


NO_PERF = "`perf` is not on PATH: nothing can be recorded"


def test_shorten_drops_whole_clauses_then_whole_words():
    from vmexit_tui.app.widgets.status_line import shorten

    long = NO_PERF + " (fix: see VMs tab, or d for the demo)"
    assert shorten(long, 200) == long
    assert shorten(long, 80) == NO_PERF  # the parenthesis goes as a whole
    assert shorten(long, 40) == "`perf` is not on PATH"
    assert shorten(long, 20) == "`perf` is not on …"
    assert shorten("a" * 30, 5) == "…"


def test_a_problem_that_does_not_fit_is_cut_between_clauses_keeping_the_hint():
    """Issue 14.7: with no perf the status line was cut mid-sentence at 80 columns."""
    for width in (80, 60):
        text = status_text(None, problem=NO_PERF, hint="fix: VMs tab · d: demo", width=width)
        assert text.cell_len <= width
        assert text.plain.endswith("(fix: VMs tab · d: demo)")
        assert "`perf` is not on PATH" in text.plain
    narrow = status_text(None, problem=NO_PERF, hint="fix: VMs tab · d: demo", width=30).plain
    assert narrow == "● idle  ⚠ `perf` is not on …"


async def test_the_status_line_fits_its_width_in_a_real_app():
    from textual.app import App, ComposeResult

    from vmexit_tui.app.widgets.status_line import StatusLine

    class _App(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusLine(id="status")

    app = _App()
    async with app.run_test(size=(80, 3)) as pilot:
        line = app.query_one(StatusLine)
        line.show(None, problem=NO_PERF + " and more words here", hint="fix: VMs tab · d: demo")
        await pilot.pause()
        shown = "".join(s.text for s in line.render_line(0)).rstrip()
        assert shown == "● idle  ⚠ `perf` is not on PATH (fix: VMs tab · d: demo)"
        await pilot.resize_terminal(120, 3)
        await pilot.pause()
        shown = "".join(s.text for s in line.render_line(0)).rstrip()
        assert shown.endswith(
            "nothing can be recorded and more words here (fix: VMs tab · d: demo)"
        )
