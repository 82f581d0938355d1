"""A strip under the exit chart: cyclictest latency per interval (max and avg per thread).

Same time axis as the exit chart (seconds since the recording's first interval), spikes as
red vertical lines like the chart's markers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual_plotext import PlotextPlot

from vmexit_tui.analysis.latency import LatencyInterval, Spike
from vmexit_tui.app.widgets.series_plot import MIN_REDRAW_S, POINTS_PER_CELL, downsample


def strip_series(
    intervals: Sequence[LatencyInterval], origin: float
) -> tuple[tuple[str, tuple[float, ...], tuple[float, ...]], ...]:
    """(label, xs, ys) per line: `T0 max`, `T0 avg`, ... at the middle of each interval."""
    threads = sorted({n for i in intervals for n in i.threads})
    lines = []
    for n in threads:
        for what in ("max", "avg"):
            xs, ys = [], []
            for i in intervals:
                t = i.threads.get(n)
                value = None if t is None else (t.max_us if what == "max" else t.avg_us)
                if value is not None:
                    xs.append((i.start + i.end) / 2 - origin)
                    ys.append(float(value))
            if xs:
                lines.append((f"T{n} {what}", tuple(xs), tuple(ys)))
    return tuple(lines)


class LatencyStrip(PlotextPlot):
    """cyclictest latency beside the exits; shown only when a latency source was given.

    `show_latency` stores the data; the chart is rebuilt at most every `min_redraw_s`
    (plotext builds it in Python), and only while visible.
    """

    def __init__(self, *, id: str | None = None, min_redraw_s: float = MIN_REDRAW_S) -> None:
        super().__init__(id=id)
        self.min_redraw_s = min_redraw_s
        self._data: tuple | None = None
        self._drawn: tuple | None = None
        self._last_draw = 0.0
        self._pending = False

    def show_latency(
        self,
        intervals: Sequence[LatencyInterval],
        *,
        origin: float | None,
        spikes: Sequence[Spike] = (),
        worst_us: int | None = None,
        source: str = "",
    ) -> None:
        """Set what to chart; drawn now if visible and not throttled."""
        if origin is None or not intervals:
            title = f"latency: waiting for cyclictest ({source})" if source else "no latency source"
            self._data = (title, (), (), (), True)
        else:
            worst = f", worst {worst_us} µs" if worst_us is not None else ""
            title = f"cyclictest latency µs per interval (max, avg per thread{worst})"
            marks = tuple((s.time - origin, f"spike T{s.thread}") for s in spikes)
            self._data = (title, strip_series(intervals, origin), (), marks, True)
        self._maybe_draw()

    def _maybe_draw(self) -> None:
        if self._data == self._drawn or not self.is_mounted or not self.display:
            return
        wait = self._last_draw + self.min_redraw_s - time.monotonic()
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

    def _draw(self) -> None:
        assert self._data is not None
        title, lines, _unused, marks, _flag = self._data
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        buckets = max(self.size.width, 1) * POINTS_PER_CELL // 2
        for label, xs, ys in lines:
            dx, dy = downsample(xs, ys, buckets)
            plt.plot(list(dx), list(dy), marker="braille", label=label)
        for x, _label in marks:
            plt.vline(x, "red")
        self._drawn = self._data
        self._last_draw = time.monotonic()
        self.refresh()
