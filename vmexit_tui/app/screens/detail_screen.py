"""One exit reason in detail, full screen; follows the recording live.

A plain `Screen` (not modal): the app's keys (q, t, e, 1-3, w, ...) keep working here;
esc closes it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from vmexit_tui.app.widgets.key_bar import KeyBar
from vmexit_tui.app.widgets.reason_detail import ReasonDetail, ReasonView


class DetailScreen(Screen[None]):
    """Opened with enter on a reason; `show(view)` updates it, esc closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, view: ReasonView) -> None:
        super().__init__()
        self.view = view

    @property
    def reason(self) -> str:
        return self.view.reason

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-body"):
            yield ReasonDetail(id="detail")
            yield Static(Text("esc closes", style="dim"))
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(ReasonDetail).show(self.view)

    def show(self, view: ReasonView) -> None:
        self.view = view
        self.query_one(ReasonDetail).show(view)

    def action_close(self) -> None:
        self.dismiss(None)
