"""The app's tabs: a bar of `Tabs` above a `ContentSwitcher` whose children are the tabs' own
widgets, found by id.

Not Textual's `TabbedContent`: it puts each tab's widgets in a `TabPane` inside itself, and
every container between the screen and the live table is painted and cut up again on every
frame (a 70-reason update at 160x48: 0.8 ms of 8.5 for those two levels, bench/bench_app.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.widgets import ContentSwitcher, Tab, Tabs

if TYPE_CHECKING:
    _Base = App[None]
else:  # a mixin of the App
    _Base = object

TABS = (("vms", "1 VMs"), ("live", "2 Live"), ("compare", "3 Compare"))  # id, label


def tab_bar() -> Tabs:
    return Tabs(*(Tab(label, id=f"tab-{name}") for name, label in TABS), id="tab-bar")


def tab_switcher() -> ContentSwitcher:
    """Compose the tabs' widgets in it, each with its tab's id."""
    return ContentSwitcher(initial=TABS[0][0], id="tabs")


class TabSwitch(_Base):
    """Mixed into the App: `tab`, `switch_tab(tab)`; `tab_shown(tab)` after each switch."""

    @property
    def tab(self) -> str:
        return self.query_one("#tabs", ContentSwitcher).current or TABS[0][0]

    def switch_tab(self, tab: str) -> None:
        """Show `tab` now (so a key typed right after reaches it); its bar follows."""
        self.query_one("#tabs", ContentSwitcher).current = tab
        self.query_one("#tab-bar", Tabs).active = f"tab-{tab}"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        """A click, a key in the bar, or `switch_tab`: the content follows the bar."""
        if event.tabs.id != "tab-bar":
            return
        tab = (event.tab.id or "").removeprefix("tab-")
        self.query_one("#tabs", ContentSwitcher).current = tab
        self.tab_shown(tab)

    def tab_shown(self, tab: str) -> None:
        """`tab` is on screen (the App focuses its table)."""
