"""FigureLine: figures wrap between figures, never inside one; labels dim, values bold; its
direct lines are what Textual's styles cache makes of them, line filters included."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget

from vmexit_tui.app.widgets.figure_line import FigureLine

FIGURES = [("samples", "1,234"), ("share", "12.3%"), ("rate", "56/s"), ("max", "7.10 µs")]


class _LineApp(App[None]):
    CSS = "FigureLine { width: 30; }"

    def compose(self) -> ComposeResult:
        yield FigureLine()


def _text(line: FigureLine) -> list[str]:
    return [line.render_line(y).text for y in range(line.size.height)]


async def test_figures_wrap_between_figures_and_the_height_follows():
    async with _LineApp().run_test(size=(40, 10)) as pilot:
        line = pilot.app.query_one(FigureLine)
        line.show(FIGURES)
        await pilot.pause()
        assert _text(line) == [
            "samples 1,234   share 12.3%   ",  # 30 cells exactly: it fits
            "rate 56/s   max 7.10 µs       ",
        ]
        line.show(FIGURES[:2])
        await pilot.pause()
        assert line.size.height == 1
        line.styles.width = 12
        await pilot.pause()
        assert _text(line) == ["samples 1,23", "share 12.3% "]  # too long: cut, not broken


async def test_labels_are_dim_values_bold_and_a_note_replaces_the_figures():
    async with _LineApp().run_test(size=(40, 10)) as pilot:
        line = pilot.app.query_one(FigureLine)
        line.show(FIGURES[:1])
        await pilot.pause()
        label, _, value, _ = list(line.render_line(0))
        assert (label.text, bool(label.style.dim), bool(label.style.bold)) == ("samples", 1, 0)
        assert (value.text, bool(value.style.bold), bool(value.style.dim)) == ("1,234", 1, 0)
        assert line.text == "samples 1,234"
        line.show_note("no samples yet")
        await pilot.pause()
        assert _text(line) == ["no samples yet".ljust(30)] and line.text == "no samples yet"


@pytest.mark.parametrize("no_color", [False, True])
async def test_direct_lines_are_what_the_styles_cache_makes(no_color, monkeypatch):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    async with _LineApp().run_test(size=(40, 10)) as pilot:
        line = pilot.app.query_one(FigureLine)
        line.show(FIGURES)
        await pilot.pause()
        line._styles_cache.clear()
        region = line.size.region
        direct, textual = line.render_lines(region), Widget.render_lines(line, region)
        assert [list(s) for s in direct] == [list(s) for s in textual]
