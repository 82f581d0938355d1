"""TabSwitch: the bar and the content switch together, by `switch_tab`, a click or the bar's
keys, and `tab_shown` follows every switch."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from vmexit_tui.app.tab_switch import TABS, TabSwitch, tab_bar, tab_switcher


class _TabsApp(TabSwitch, App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        yield tab_bar()
        with tab_switcher():
            for name, label in TABS:
                yield Static(label, id=name)

    def tab_shown(self, tab: str) -> None:
        self.shown.append(tab)


async def test_switch_tab_shows_the_content_at_once_and_the_bar_follows():
    app = _TabsApp()
    async with app.run_test() as pilot:
        assert app.tab == "vms"
        app.switch_tab("compare")
        assert app.tab == "compare" and app.query_one("#compare").display  # at once
        assert not app.query_one("#vms").display
        await pilot.pause()
        assert app.query_one("#tab-bar").active == "tab-compare"
        assert app.shown[-1] == "compare"


async def test_a_click_or_the_bars_keys_switch_the_content():
    app = _TabsApp()
    async with app.run_test() as pilot:
        await pilot.click("#tab-live")
        await pilot.pause()
        assert app.tab == "live" and app.query_one("#live").display and app.shown[-1] == "live"
        app.query_one("#tab-bar").focus()
        await pilot.press("right")
        await pilot.pause()
        assert app.tab == "compare" and app.shown[-1] == "compare"
