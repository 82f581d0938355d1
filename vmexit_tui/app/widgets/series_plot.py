"""A plotext chart of one reason's rate (or mean time) across the recording, with markers."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from rich.color import Color
from rich.console import Console, ConsoleOptions
from rich.console import RenderResult as RichResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.screen import Screen
from textual_plotext import PlotextPlot

from vmexit_tui.analysis.running import Marker, ReasonSeries
from vmexit_tui.app.throttle import Throttle
from vmexit_tui.formats import numbers

MIN_REDRAW_S = 2.0
DUE_EARLY = 0.1  # a draw this close (fraction of min_redraw_s) to due is done now
GRACE = 0.5  # the throttle timer waits this much longer (fraction of min_redraw_s)
POINTS_PER_CELL = 2  # braille: two dots across per terminal cell

_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _color(code: str) -> Color | None:
    """`5;N` (256 colours) or `2;R;G;B` (truecolor), as in an SGR 38/48 code; else None."""
    parts = code.split(";")
    if not all(p.isdigit() for p in parts) or any(int(p) > 255 for p in parts):
        return None
    if len(parts) == 2 and parts[0] == "5":
        return Color.from_ansi(int(parts[1]))
    if len(parts) == 4 and parts[0] == "2":
        return Color.from_rgb(*(int(p) for p in parts[1:]))
    return None


class AnsiLines:
    """Lines of segments decoded from plotext's output.

    plotext colours with only `38;5;N`/`48;5;N`, `38;2;R;G;B`/`48;2;R;G;B` and `0`;
    decoding those directly with one Style per colour pair costs a tenth of
    `Text.from_ansi`. Output with any other escape falls back to `Text.from_ansi`.
    """

    def __init__(self, ansi: str) -> None:
        self.lines = self.decode(ansi)
        self.fallback = Text.from_ansi(ansi) if self.lines is None else None

    @staticmethod
    def decode(ansi: str) -> list[list[Segment]] | None:
        """Segments per line, one per run of a colour: a run of blanks joins its neighbour
        (a blank's foreground does not show), so a chart line is a few segments, not one
        per cell as plotext writes them, and every repaint of it is cheaper."""
        colors: dict[str, Color] = {}
        styles: dict[tuple[Color | None, Color | None], Style] = {}
        lines: list[list[Segment]] = []
        fg: Color | None = None
        bg: Color | None = None
        for raw in ansi.splitlines():
            line: list[Segment] = []
            run: list[str] = []  # the texts of the run being joined
            run_style: Style | None = None
            blank = True  # the run so far is blanks only
            parts = _SGR.split(raw)
            for i, part in enumerate(parts):
                if i % 2:  # an SGR code
                    if part in ("0", ""):
                        fg = bg = None
                        continue
                    color = colors.get(part)
                    if color is None:
                        color = _color(part[3:])
                        if color is None or part[:3] not in ("38;", "48;"):
                            return None
                        colors[part] = color
                    if part[0] == "3":
                        fg = color
                    else:
                        bg = color
                elif part:
                    if "\x1b" in part:
                        return None
                    style = styles.get((fg, bg))
                    if style is None:
                        style = styles[(fg, bg)] = Style(color=fg, bgcolor=bg)
                    is_blank = part.isspace()
                    if run_style is not None and (
                        style is run_style or (run_style.bgcolor == bg and (is_blank or blank))
                    ):
                        run.append(part)
                        if blank and not is_blank:
                            run_style, blank = style, False
                        continue
                    if run_style is not None:
                        line.append(Segment("".join(run), run_style))
                    run, run_style, blank = [part], style, is_blank
            if run_style is not None:
                line.append(Segment("".join(run), run_style))
            lines.append(line)
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RichResult:
        if self.lines is None:
            assert self.fallback is not None
            yield self.fallback
            return
        new_line = Segment.line()
        last = len(self.lines) - 1
        for i, line in enumerate(self.lines):
            yield from line
            if i < last:
                yield new_line


def nice_ticks(low: float, high: float, count: int = 5) -> tuple[float, ...]:
    """Round ticks (1, 2, 2.5 or 5 times a power of ten apart) covering `low`..`high` with
    at most `count` intervals, the tightest such cover (the data fill most of the axis)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return (0.0, 1.0)
    if high < low:
        low, high = high, low
    if high == low:
        low, high = (0.0, 1.0) if high == 0 else (min(0.0, low), max(0.0, high))
    count = max(count, 1)
    k = math.floor(math.log10(high - low))
    best: tuple[float, int, float, float] | None = None
    for power in (10.0 ** (k - 2), 10.0 ** (k - 1), 10.0**k, 10.0 ** (k + 1)):
        for m in (1, 2, 2.5, 5):
            step = m * power
            first = math.floor(low / step + 1e-9) * step
            last = math.ceil(high / step - 1e-9) * step
            n = round((last - first) / step)
            if 1 <= n <= count:
                key = (last - first, -n, first, step)
                if best is None or key < best:
                    best = key
    assert best is not None
    _, n_neg, first, step = best
    return tuple(round(first + i * step, 10) for i in range(-n_neg + 1))


def y_axis(ys: Sequence[float], *, from_zero: bool, count: int = 5) -> tuple[float, ...]:
    """The y ticks of a chart: from zero (rates, unless asked otherwise) or from the data."""
    if not ys:
        return (0.0, 1.0)
    low, high = min(ys), max(ys)
    if from_zero:
        low = min(low, 0.0)
        high = max(high, 0.0)
    return nice_ticks(low, high, count)


def tick_label(value: float, *, of_mean: bool) -> str:
    """A tick in the format of its quantity (`formats.numbers`), trailing zeros dropped."""
    if of_mean:
        shown = numbers.us(value)
        return shown.rstrip("0").rstrip(".") if "." in shown else shown
    if value == int(value) or value >= 1:
        return numbers.rate(value)
    return f"{value:g}"


def downsample(
    xs: Sequence[float], ys: Sequence[float], buckets: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most `2 * buckets` points: per bucket of consecutive points its lowest and highest
    (in time order), so a one-interval spike in an hour-long recording still shows."""
    n = len(xs)
    if buckets <= 0 or n <= 2 * buckets:
        return tuple(xs), tuple(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    for b in range(buckets):
        lo, hi = b * n // buckets, (b + 1) * n // buckets
        if lo >= hi:
            continue
        chunk = range(lo, hi)
        i_min = min(chunk, key=ys.__getitem__)
        i_max = max(chunk, key=ys.__getitem__)
        for i in sorted({i_min, i_max}):
            out_x.append(xs[i])
            out_y.append(ys[i])
    return tuple(out_x), tuple(out_y)


class SeriesPlot(PlotextPlot):
    """Rebuilt only when its data changed and it is on screen.

    plotext builds the whole chart in Python on every render, so `show()` only stores the
    data. New data for the same chart is drawn at most about every `min_redraw_s`: data
    that comes too early waits for the next data or for a timer that fires a grace period
    after the chart is due, whichever comes first, so at a steady stream the chart is drawn
    with a table update in one repaint. A different chart (another reason, rate versus
    mean) is drawn at once. Nothing is drawn while the chart is not visible; it catches up
    when shown again.
    """

    def __init__(
        self,
        *,
        id: str | None = None,
        min_redraw_s: float = MIN_REDRAW_S,
        rates_from_zero: bool = True,
    ) -> None:
        super().__init__(id=id)
        self.rates_from_zero = rates_from_zero  # False: the y-axis fits the data
        self.yticks: tuple[float, ...] = ()
        self._data: tuple | None = None
        self._drawn: tuple | None = None
        # Late by a grace period: data arriving meanwhile (the next interval) draws with
        # its table update in one repaint, and the chart shows the newest data.
        self._throttle = Throttle(
            self, min_redraw_s, self._draw_if_new, grace=min_redraw_s * GRACE, early=DUE_EARLY
        )
        self.draws = 0
        self._rendered: tuple[tuple, RenderResult] | None = None

    @property
    def min_redraw_s(self) -> float:
        return self._throttle.every_s

    @min_redraw_s.setter
    def min_redraw_s(self, seconds: float) -> None:
        self._throttle.every_s = seconds
        self._throttle.grace = seconds * GRACE

    def show(
        self,
        reason: str | None,
        series: ReasonSeries | None,
        *,
        origin: float | None,
        markers: Sequence[Marker] = (),
        of_mean: bool = False,
        label: str = "",
    ) -> None:
        """Set what to chart; draws now if visible and not throttled."""
        if reason is None or series is None or not len(series) or origin is None:
            self._data = (label or "no data yet", (), (), (), of_mean)
        else:
            points = series.points
            xs = tuple((p.start + p.end) / 2 - origin for p in points)
            ys = tuple((p.mean_us or 0.0) if of_mean else p.rate for p in points)
            what = "mean µs" if of_mean else "exits/s"
            what += " over seconds of recording"
            title = f"{label}{reason} {what}"
            marks = tuple((m.time - origin, m.label) for m in markers)
            self._data = (title, xs, ys, marks, of_mean)
        self._maybe_draw()

    def toggle_from_zero(self) -> None:
        """Rates from zero (the default) or fitted to the data; redrawn at once."""
        self.rates_from_zero = not self.rates_from_zero
        self._drawn = None
        self._maybe_draw()

    @property
    def _visible(self) -> bool:
        return self.is_mounted and self.screen.is_current and self.region.area > 0

    def _maybe_draw(self) -> None:
        if self._data is None or self._data == self._drawn or not self._visible:
            return
        same_chart = self._drawn is not None and self._data[::4] == self._drawn[::4]
        if same_chart:
            self._throttle()
        else:
            self._throttle.run()  # another reason, rate versus mean: at once

    def _draw_if_new(self) -> None:
        if self._data != self._drawn and self._visible:
            self._draw()

    def on_show(self) -> None:
        self.call_after_refresh(self._maybe_draw)

    def on_resize(self) -> None:
        self.call_after_refresh(self._maybe_draw)

    def _draw(self) -> None:
        assert self._data is not None
        title, xs, ys, marks, of_mean = self._data
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        if xs:
            xs, ys = downsample(xs, ys, max(self.size.width, 1) * POINTS_PER_CELL // 2)
            plt.plot(list(xs), list(ys), marker="braille")
            for x, _label in marks:
                plt.vline(x, "red")
            count = max(1, min(6, (self.size.height - 4) // 2))  # a tick every other row
            ticks = y_axis(ys, from_zero=self.rates_from_zero and not of_mean, count=count)
            plt.ylim(ticks[0], ticks[-1])
            plt.yticks(list(ticks), [tick_label(t, of_mean=of_mean) for t in ticks])
            self.yticks = ticks
        self._drawn = self._data
        self.draws += 1
        self.refresh()

    def render(self) -> RenderResult:
        """The chart; built by plotext only when the drawing, size or theme changed.

        Textual calls `render` on every repaint of the widget (a layout change, a screen
        coming back, a notification over it): those reuse the last chart.
        """
        key = (self.draws, self.size, self.app.theme, self.theme)
        if self._rendered is None or self._rendered[0] != key:
            self._rendered = (key, self._build())
        return self._rendered[1]

    def _build(self) -> AnsiLines:
        """What `PlotextPlot.render` does, decoding the ANSI output with `AnsiLines`."""
        plot = self.plt
        plot.plotsize(self.size.width, self.size.height)
        plot._set_size(self.size.width, self.size.height)  # as PlotextPlot.render does
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        return AnsiLines(plot.build())


class AxisKeys:
    """The App's `z` action (a mixin): every chart's rate axis from zero or fitted to the data."""

    @property
    def screen_stack(self) -> list[Screen]:  # App's
        raise NotImplementedError

    def action_toggle_zero(self) -> None:
        for screen in self.screen_stack:
            for plot in screen.query(SeriesPlot):
                plot.toggle_from_zero()
