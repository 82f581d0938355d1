"""The one-line status: idle / recording (elapsed, chunks, bytes, exits/s) / stopped; problems."""

from __future__ import annotations

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


def status_text(
    status: RecordingStatus | None,
    *,
    label: str | None = None,
    simulated: bool = False,
    problem: str | None = None,
    worst_latency_us: int | None = None,
) -> Text:
    """The status line's text (no Textual needed, so tests can check it directly)."""
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
        if status.state is RecordingState.FAILED and status.message:
            text.append(f" {status.message}")
        elif status.message:
            text.append(f" · {status.message}", style="yellow")
    if worst_latency_us is not None:
        text.append(f" · worst latency {worst_latency_us} µs", style="bold")
    if problem:
        text.append("  ⚠ ", style="bold yellow")
        text.append(problem, style="yellow")
    return text


class StatusLine(Static):
    """Always visible above the footer."""

    _last: Text | None = None

    def show(
        self,
        status: RecordingStatus | None,
        *,
        label: str | None = None,
        simulated: bool = False,
        problem: str | None = None,
        worst_latency_us: int | None = None,
    ) -> None:
        text = status_text(
            status,
            label=label,
            simulated=simulated,
            problem=problem,
            worst_latency_us=worst_latency_us,
        )
        if text != self._last:
            self._last = text
            self.update(text, layout=False)  # one line, always: a repaint is enough
