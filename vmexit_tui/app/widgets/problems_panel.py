"""Why no VM can be recorded right now, each problem with its fix, and the demo offer."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from vmexit_tui.host.preflight import Problem


def problems_text(problems: Sequence[Problem], *, no_vms: bool, demo: bool) -> Text:
    text = Text()
    if demo:
        text.append("Demo: ", style="bold magenta")
        text.append("these VMs are simulated from the built-in reference runs; ")
        text.append("nothing here is measured on this host.\n")
    for p in problems:
        text.append("✗ " if p.blocking else "! ", style="bold red" if p.blocking else "yellow")
        text.append(p.summary, style="bold")
        text.append(f"\n  fix: {p.fix}\n")
    if no_vms and not demo:
        text.append("No running KVM guest found. ", style="bold")
    if (problems or no_vms) and not demo:
        text.append("Press ")
        text.append("d", style="bold reverse")
        text.append(" for the built-in demo (simulated VMs from the reference runs).")
    return text


class ProblemsPanel(Static):
    """Hidden when there is nothing to say."""

    def show(self, problems: Sequence[Problem], *, no_vms: bool, demo: bool) -> None:
        text = problems_text(problems, no_vms=no_vms, demo=demo)
        self.update(text)
        self.display = bool(text.plain)
