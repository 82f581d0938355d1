"""Pick a run (or a saved comparison) to put into the compare pane."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


@dataclass(frozen=True, slots=True)
class PickerEntry:
    """One choice: `key` is what the app gets back, `group` the heading it is listed under.

    An entry with an `error` (e.g. a corrupt snapshot) is listed, marked, with the reason,
    and cannot be picked.
    """

    key: str
    label: str
    group: str
    error: str | None = None


class RunPicker(ModalScreen[str | None]):
    """Enter picks, esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, entries: Sequence[PickerEntry], *, title: str) -> None:
        super().__init__()
        self.entries = tuple(entries)
        self.title_text = title

    def compose(self) -> ComposeResult:
        options: list[Option | None] = []
        group = None
        for entry in self.entries:
            if entry.group != group:
                if group is not None:
                    options.append(None)
                options.append(Option(f"── {entry.group}", disabled=True))
                group = entry.group
            if entry.error is None:
                options.append(Option(f"  {entry.label}", id=entry.key))
            else:
                shown = Text.assemble(
                    ("  ✗ ", "bold red"),
                    (entry.label, ""),
                    (f" — unreadable: {entry.error}", "red"),
                )
                options.append(Option(shown, id=entry.key, disabled=True))
        with Vertical(id="picker-body"):
            yield Static(self.title_text, id="picker-title")
            yield OptionList(*options, id="picker-options")
            yield Static("enter picks · esc cancels", classes="dim")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        for i in range(options.option_count):
            if not options.get_option_at_index(i).disabled:
                options.highlighted = i
                break

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
