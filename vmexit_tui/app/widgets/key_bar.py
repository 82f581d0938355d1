"""The footer: the keys that apply now, drawn as one line by one widget.

Textual's `Footer` mounts one widget per key and mounts them all again whenever the
bindings change (a recording starts or stops, a tab changes): at start-up that took 65 ms
and put the keys on screen about 150 ms after the first frame (bench/bench_app.py,
160x48). `KeyBar` reads the same public state (`Screen.active_bindings`, the screen's
`bindings_updated_signal`, `App.get_key_display`) and repaints one line; a click on a key
presses it, as on Textual's footer.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class ShownKey(NamedTuple):
    key: str  # what `simulate_key` presses
    display: str  # how the key is written ("space", "^q")
    label: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    """Key hints of the screen's active bindings (those with `show`), one per action."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--label"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        text-wrap: nowrap;
        text-overflow: clip;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--label {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._spans: list[tuple[int, int, ShownKey]] = []  # cells [start, end) of each key

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        self.refresh()

    @property
    def shown(self) -> list[ShownKey]:
        """The keys on the bar now, in the bindings' order; the command palette's last."""
        active = self.screen.active_bindings
        entries = [b for b in active.values() if b.binding.show]
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:
            entries.append(palette)
        keys: dict[str, ShownKey] = {}
        for _node, binding, enabled, _tooltip in entries:
            if binding.action not in keys:
                display = self.app.get_key_display(binding)
                keys[binding.action] = ShownKey(binding.key, display, binding.description, enabled)
        return list(keys.values())

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        label_style = self.get_component_rich_style("key-bar--label")
        dim = Style(dim=True)
        text, spans = Text(no_wrap=True, overflow="crop"), []
        for shown in self.shown:
            start = text.cell_len
            text.append(shown.display, key_style if shown.enabled else key_style + dim)
            text.append(f" {shown.label}", label_style if shown.enabled else label_style + dim)
            spans.append((start, text.cell_len, shown))
            text.append(" ")
        self._spans = spans
        return text

    def on_click(self, event: events.Click) -> None:
        shown = next((k for start, end, k in self._spans if start <= event.x < end), None)
        if shown is not None and shown.enabled:
            self.app.simulate_key(shown.key)
        elif shown is not None:
            self.app.bell()
