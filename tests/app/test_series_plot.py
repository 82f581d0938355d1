"""SeriesPlot: its ANSI decoding matches Rich's, and long series are downsampled to the width."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual_plotext.plotext_plot import Plot

from vmexit_tui.analysis.running import ReasonSeries, SeriesPoint
from vmexit_tui.app.widgets.series_plot import (
    AnsiLines,
    SeriesPlot,
    downsample,
    nice_ticks,
    tick_label,
    y_axis,
)


def _plotext_chart(points: int) -> str:
    plt = Plot()
    plt.plotsize(70, 15)
    plt.title("EPT_VIOLATION exits/s")
    plt.plot(list(range(points)), [(i * 37) % 101 for i in range(points)], marker="braille")
    plt.vline(points / 2, "red")
    return plt.build()


def _cells(renderable, width: int) -> list[list[tuple[str, object]]]:
    """What every cell shows: its character and colours (a blank's foreground does not
    show); independent of how the text is split in segments."""
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    lines = console.render_lines(renderable, console.options, pad=False)
    return [
        [
            (ch, Style(bgcolor=seg.style.bgcolor) if ch.isspace() and seg.style else seg.style)
            for seg in line
            for ch in seg.text
        ]
        for line in lines
    ]


def test_ansi_lines_match_rich_from_ansi():
    chart = _plotext_chart(200)
    decoded = AnsiLines(chart)
    assert decoded.lines is not None, "plotext used an escape the fast decoder does not know"
    assert len(decoded.lines) == 15
    rich = _cells(Text.from_ansi(chart), 70)
    assert _cells(decoded, 70) == rich[:15]
    assert not any(rich[15:]), "Text.from_ansi only adds its closing empty line"
    # a few segments per line, not one per colour change as plotext writes them
    assert sum(map(len, decoded.lines)) * 3 < chart.count("\x1b[0m")


def test_ansi_lines_match_rich_with_truecolor_themes():
    text = "\x1b[48;2;30;30;30m  \x1b[38;2;224;224;224mabc\x1b[0m\x1b[38;5;12m⡇\x1b[0m x\n"
    decoded = AnsiLines(text)
    assert decoded.lines is not None
    assert _cells(decoded, 10)[:1] == _cells(Text.from_ansi(text), 10)[:1]


def test_ansi_lines_fall_back_on_other_escapes():
    text = "\x1b[1mbold\x1b[0m plain\n\x1b[38;5;1mred"
    decoded = AnsiLines(text)
    assert decoded.lines is None
    assert _cells(decoded, 20)[:2] == _cells(Text.from_ansi(text), 20)[:2]


def test_ansi_lines_keep_the_line_structure():
    decoded = AnsiLines("\x1b[48;5;15mab\x1b[0m\n\ncd")
    assert decoded.lines is not None
    assert [Segment.get_line_length(line) for line in decoded.lines] == [2, 0, 2]


def test_downsample_keeps_the_spikes_in_time_order():
    n = 3600
    xs = [float(i) for i in range(n)]
    ys = [1.0] * n
    ys[1234] = 500.0
    ys[2000] = -3.0
    out_x, out_y = downsample(xs, ys, 100)
    assert len(out_x) <= 200
    assert list(out_x) == sorted(out_x)
    assert max(out_y) == 500.0 and out_x[out_y.index(500.0)] == 1234.0
    assert min(out_y) == -3.0 and out_x[out_y.index(-3.0)] == 2000.0
    assert out_x[0] == 0.0


def test_downsample_leaves_short_series_alone():
    xs, ys = (0.0, 1.0, 2.0), (5.0, 6.0, 7.0)
    assert downsample(xs, ys, 10) == (xs, ys)
    assert downsample(xs, ys, 0) == (xs, ys)


def _series(n: int) -> ReasonSeries:
    series = ReasonSeries()
    for i in range(n):
        series.append(SeriesPoint(float(i), float(i + 1), 100 + i, 0.5))
    return series


class _PlotApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SeriesPlot(min_redraw_s=0.2)


async def test_early_data_waits_and_is_drawn_with_the_next_data_or_by_the_timer():
    app = _PlotApp()
    async with app.run_test(size=(60, 12)) as pilot:
        plot = app.query_one(SeriesPlot)
        await pilot.pause()

        def show(n: int) -> None:
            plot.show("HLT", _series(n), origin=0.0)

        show(1)
        assert plot.draws == 1
        show(2)  # too early: waits
        assert plot.draws == 1
        for _ in range(50):  # the timer (due + grace, 0.3 s) draws it; waits longer under load
            await pilot.pause(0.1)
            if plot.draws == 2:
                break
        assert plot.draws == 2 and plot._drawn == plot._data
        show(3)  # too early again
        assert plot.draws == 2
        plot._throttle.last -= 0.19  # as if the next interval came just before the chart is due
        show(4)
        assert plot.draws == 3 and plot._drawn == plot._data
        await pilot.pause(0.45)  # the pending timer finds nothing new to draw
        assert plot.draws == 3


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0, 2410, (0, 500, 1000, 1500, 2000, 2500)),
        (2261, 2410, (2250, 2300, 2350, 2400, 2450)),
        (1537.1, 3458.5, (1500, 2000, 2500, 3000, 3500)),  # not "3458.5 2689.9 1537.1"
        (0, 0.3, (0, 0.1, 0.2, 0.3)),
        (0, 0, (0, 0.2, 0.4, 0.6, 0.8, 1)),  # all zero: a unit axis
    ],
)
def test_nice_ticks_are_round_and_cover_the_data(low, high, ticks):
    assert nice_ticks(low, high) == pytest.approx(ticks)


def test_rates_start_at_zero_unless_asked_otherwise():
    """Issue 14.5: 2261-2410 exits/s must not fill the chart's height (±3% looks huge)."""
    assert y_axis([2261, 2410], from_zero=True)[0] == 0
    assert y_axis([2261, 2410], from_zero=False)[0] == 2250


def test_tick_labels_follow_the_number_rules():
    assert [tick_label(t, of_mean=False) for t in (0, 500.0, 2500.0)] == ["0", "500", "2500"]
    assert [tick_label(t, of_mean=False) for t in (0.1, 0.25)] == ["0.1", "0.25"]
    assert [tick_label(t, of_mean=True) for t in (0.25, 1.0, 1500.0)] == ["0.25", "1", "1500"]


def _rate_series(rates: list[int]) -> ReasonSeries:
    series = ReasonSeries()
    for i, n in enumerate(rates):
        series.append(SeriesPoint(float(i), float(i + 1), n, 0.5 + i / 100))
    return series


def _axis_labels(plot: SeriesPlot) -> list[str]:
    console = Console(width=plot.size.width, color_system=None, force_terminal=False)
    lines = console.render_lines(plot._build(), console.options, pad=False)
    text = ["".join(seg.text for seg in line) for line in lines]
    return [ln.split("┤")[0].strip() for ln in text if "┤" in ln]


async def test_the_drawn_chart_starts_rates_at_zero_with_round_ticks():
    app = _PlotApp()
    async with app.run_test(size=(80, 16)) as pilot:
        plot = app.query_one(SeriesPlot)
        plot.min_redraw_s = 0
        await pilot.pause()
        plot.show("EPT_VIOLATION", _rate_series([2261, 2410, 2300, 2350]), origin=0.0)
        await pilot.pause()
        labels = _axis_labels(plot)
        assert labels[-1] == "0" and labels[0] == "2500"
        assert all(float(x) % 500 == 0 for x in labels)
        plot.rates_from_zero = False  # asked otherwise: the axis fits the data
        plot.show("EPT_VIOLATION", _rate_series([2261, 2410, 2300, 2351]), origin=0.0)
        await pilot.pause()
        assert _axis_labels(plot)[-1] == "2250"
        plot.show("EPT_VIOLATION", _rate_series([5, 6]), origin=0.0, of_mean=True)
        await pilot.pause()
        assert plot.yticks[0] > 0  # mean times fit their data
