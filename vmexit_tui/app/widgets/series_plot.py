"""A plotext chart of one reason's rate (or mean time) across the recording, with markers."""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from vmexit_tui.run import Marker, ReasonSeries

MIN_REDRAW_S = 2.0


class SeriesPlot(PlotextPlot):
    """Rebuilt only when its data changed and it is on screen.

    plotext builds the whole chart in Python on every render, so `show()` only stores the
    data. New data for the same chart is drawn at most every `min_redraw_s`; a different
    chart (another reason, rate versus mean) is drawn at once. Nothing is drawn while the
    chart is not visible; it catches up when shown again.
    """

    def __init__(self, *, id: str | None = None, min_redraw_s: float = MIN_REDRAW_S) -> None:
        super().__init__(id=id)
        self.min_redraw_s = min_redraw_s
        self._data: tuple | None = None
        self._drawn: tuple | None = None
        self._last_draw = 0.0
        self._pending = False
        self.draws = 0
        self._rendered: tuple[tuple, RenderResult] | None = None

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

    @property
    def _visible(self) -> bool:
        return self.is_mounted and self.screen.is_current and self.region.area > 0

    def _maybe_draw(self) -> None:
        if self._data == self._drawn or not self._visible:
            return
        same_chart = self._drawn is not None and self._data[::4] == self._drawn[::4]
        wait = self._last_draw + self.min_redraw_s - time.monotonic() if same_chart else 0
        if wait > 0:
            if not self._pending:
                self._pending = True
                self.set_timer(wait, self._timer_draw)
            return
        self._draw()

    def _timer_draw(self) -> None:
        self._pending = False
        self._maybe_draw()

    def on_show(self) -> None:
        self.call_after_refresh(self._maybe_draw)

    def on_resize(self) -> None:
        self.call_after_refresh(self._maybe_draw)

    def _draw(self) -> None:
        assert self._data is not None
        title, xs, ys, marks, _of_mean = self._data
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        if xs:
            plt.plot(list(xs), list(ys), marker="braille")
            for x, _label in marks:
                plt.vline(x, "red")
        self._drawn = self._data
        self._last_draw = time.monotonic()
        self.draws += 1
        self.refresh()

    def render(self) -> RenderResult:
        """The chart; built by plotext only when the drawing, size or theme changed.

        Textual calls `render` on every repaint of the widget (a layout change, a screen
        coming back, a notification over it): those reuse the last chart.
        """
        key = (self.draws, self.size, self.app.theme, self.theme)
        if self._rendered is None or self._rendered[0] != key:
            self._rendered = (key, super().render())
        return self._rendered[1]
