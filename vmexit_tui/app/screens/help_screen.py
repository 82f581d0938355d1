"""`?`: every key binding of the app, generated from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def key_table(sections: Sequence[tuple[str, Iterable[Binding | tuple[str, str]]]]) -> Table:
    """A two-column table of keys and what they do, one titled group per section."""
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold")
    table.add_column()
    for title, bindings in sections:
        table.add_row("", Text(title, style="bold underline"))
        for b in bindings:
            if isinstance(b, Binding):
                keys = ", ".join(_key_name(k) for k in b.key.split(","))
                what = b.tooltip or b.description
            else:
                keys, what = b
            table.add_row(keys, what)
    return table


def _key_name(key: str) -> str:
    return {"question_mark": "?", "space": "space", "escape": "esc"}.get(key, key)


class HelpScreen(ModalScreen[None]):
    """Lists the keys; esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def __init__(self, sections: Sequence[tuple[str, Iterable[Binding | tuple[str, str]]]]):
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("vmexit-tui keys", style="bold"), id="help-title")
            yield Static(key_table(self.sections), id="help-keys")
            yield Static(
                Text("esc, q or ? closes this help. Arrows/PgUp/PgDn scroll.", style="dim")
            )

    def action_close(self) -> None:
        self.dismiss(None)
