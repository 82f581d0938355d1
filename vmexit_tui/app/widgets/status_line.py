"""The one-line status: idle / recording (elapsed, chunks, bytes, exits/s) / stopped; problems."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from vmexit_tui.app import format as fmt
from vmexit_tui.recording.protocol import RecordingState, RecordingStatus

_STATE_STYLE = {
    RecordingState.STARTING: "bold yellow",
    RecordingState.RECORDING: "bold red",
    RecordingState.STOPPING: "bold yellow",
    RecordingState.STOPPED: "bold",
    RecordingState.FAILED: "bold red reverse",
}


_CLAUSE_END = re.compile(r" \([^()]*\)$|(?::|,| —| ·) [^:,—·]*$")


def shorten(sentence: str, width: int) -> str:
    """`sentence` in at most `width` cells: whole trailing clauses dropped first (a
    parenthesis, then what follows the last ":", ",", "—" or "·"), then whole words with "…".
    Never cut inside a word."""
    text = sentence
    while cell_len(text) > width:
        cut = _CLAUSE_END.sub("", text)
        if cut == text or not cut:
            break
        text = cut
    if cell_len(text) <= width:
        return text
    words = text.split(" ")
    while words and cell_len(" ".join(words) + " …") > width:
        words.pop()
    return " ".join(words) + " …" if words else ("…" if width >= 1 else "")


def status_text(
    status: RecordingStatus | None,
    *,
    label: str | None = None,
    simulated: bool = False,
    problem: str | None = None,
    hint: str | None = None,
    width: int | None = None,
    worst_latency_us: int | None = None,
) -> Text:
    """The status line's text (no Textual needed, so tests can check it directly).

    With `width`, a problem that does not fit is shortened at clause or word boundaries
    (see `shorten`) and its `hint` (e.g. where the fix is) kept while there is room.
    """
    text = _recording_text(
        status, label=label, simulated=simulated, worst_latency_us=worst_latency_us
    )
    if problem:
        room = None if width is None else width - text.cell_len - cell_len("  ⚠ ")
        tail = f" ({hint})" if hint else ""
        if room is not None and cell_len(problem + tail) > room:
            if tail and cell_len(shorten(problem, room - cell_len(tail))) >= 10:
                problem = shorten(problem, room - cell_len(tail))
            else:
                problem, tail = shorten(problem, room), ""
        text.append("  ⚠ ", style="bold yellow")
        text.append(problem + tail, style="yellow")
    return text


def _recording_text(
    status: RecordingStatus | None,
    *,
    label: str | None,
    simulated: bool,
    worst_latency_us: int | None = None,
) -> Text:
    text = Text()
    if status is None:
        text.append("● idle", style="bold green")
    else:
        text.append(f"● {status.state.value}", style=_STATE_STYLE.get(status.state, "bold"))
        if label:
            text.append(f" {label}")
        if simulated and "simulated" not in (label or ""):
            text.append(" (simulated)", style="bold magenta")
        if status.state in (
            RecordingState.RECORDING,
            RecordingState.STOPPING,
            RecordingState.STOPPED,
        ):
            text.append(f"  {fmt.elapsed(status.elapsed)}")
            chunks = "1 chunk" if status.chunks == 1 else f"{status.chunks} chunks"
            text.append(f" · {chunks} · {fmt.size(status.bytes_on_disk)}")
            if status.exits_per_second is not None and status.state is RecordingState.RECORDING:
                text.append(f" · {fmt.rate(status.exits_per_second)} exits/s")
        if worst_latency_us is not None:
            text.append(f" · worst latency {worst_latency_us} µs", style="bold")
        if status.state is RecordingState.FAILED and status.message:
            text.append(f" {status.message}")
        elif status.message:
            text.append(f" · {status.message}", style="yellow")
    return text


class StatusLine(Static):
    """Always visible above the footer."""

    _last: Text | None = None
    _args: tuple = (None, {})

    def show(
        self,
        status: RecordingStatus | None,
        *,
        label: str | None = None,
        simulated: bool = False,
        problem: str | None = None,
        hint: str | None = None,
        worst_latency_us: int | None = None,
    ) -> None:
        self._args = (
            status,
            dict(label=label, simulated=simulated, problem=problem, hint=hint,
                 worst_latency_us=worst_latency_us),
        )  # fmt: skip
        self._render_status()

    def on_resize(self) -> None:
        self._render_status()

    def _render_status(self) -> None:
        status, kwargs = self._args
        width = self.content_size.width or None
        text = status_text(status, width=width, **kwargs)
        if text != self._last:
            self._last = text
            self.update(text, layout=False)  # one line, always: a repaint is enough
