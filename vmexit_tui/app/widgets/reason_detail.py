"""One exit reason in detail: its meaning, min/mean/max, charts of its rate and mean, and its
latency histogram with p50/p99/p99.9/max bounds when the source keeps one.

`reason_view(session, kind, reason)` gathers what to show from a recording; `ReasonDetail`
draws it and is told again on every interval, so it follows the recording live. The detail
screen (enter on a reason) and the wide live tab (beside the table) both use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from vmexit_tui.analysis.model import EventKind, ExitStat
from vmexit_tui.analysis.running import Marker, ReasonSeries
from vmexit_tui.app import format as fmt
from vmexit_tui.app.widgets.figure_line import Figure, FigureLine
from vmexit_tui.app.widgets.latency_histogram import LatencyHistogram, percentile_text
from vmexit_tui.app.widgets.series_plot import SeriesPlot
from vmexit_tui.recording.session import RecordingSession
from vmexit_tui.reference import glossary


@dataclass(frozen=True)
class ReasonView:
    """Everything the detail of one reason shows, at one moment of the recording."""

    reason: str
    meaning: str
    stat: ExitStat | None
    rate: float | None
    series: ReasonSeries | None
    origin: float | None
    markers: Sequence[Marker] = ()
    label: str = ""


def reason_view(session: RecordingSession, kind: EventKind, reason: str) -> ReasonView:
    acc = session.acc
    meaning = (
        glossary.explain(reason) if kind is EventKind.VMEXIT else f"{kind.value} access {reason}"
    )
    return ReasonView(
        reason,
        meaning=meaning,
        stat=acc.total(kind).row(reason),
        rate=acc.last_rate(kind, reason),
        series=acc.reason_series(kind, reason),
        origin=acc.first_start,
        markers=tuple(acc.markers),
        label="SIMULATED " if session.info.simulated else "",
    )


def stats_figures(stat: ExitStat, rate: float | None) -> list[Figure]:
    return [
        ("samples", fmt.count(stat.samples)),
        ("share", f"{fmt.pct(stat.samples_pct)}%"),
        ("time", f"{fmt.pct(stat.time_pct)}%"),
        ("rate", f"{fmt.rate(rate)}/s"),
        ("min", fmt.us_unit(stat.min_us)),
        ("mean", fmt.us_unit(stat.mean_us)),
        ("max", fmt.us_unit(stat.max_us)),
        ("spread", fmt.spread(stat.rel_stddev_pct, stat.rel_stddev_below)),
    ]


class ReasonDetail(Vertical):
    """Title, meaning, figures and two charts (rate, mean) of one reason."""

    def __init__(
        self, *, id: str | None = None, min_redraw_s: float = 0.0, both_charts: bool = True
    ) -> None:
        super().__init__(id=id)
        self.view: ReasonView | None = None
        self._min_redraw_s = min_redraw_s
        self.both_charts = both_charts
        self.of_mean = False  # with one chart: the mean time instead of the rate
        self._shown: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Static(classes="detail-title")
        yield Static(classes="detail-meaning")
        yield FigureLine(classes="detail-stats")
        for what in ("rate", "mean") if self.both_charts else ("rate",):
            plot = SeriesPlot(min_redraw_s=self._min_redraw_s)
            plot.add_class(f"detail-{what}")
            yield plot
        yield Static(classes="detail-pct")  # sources with a latency histogram (kernel)
        yield LatencyHistogram(classes="detail-hist")

    def on_mount(self) -> None:
        self._statics = tuple(
            self.query_one(f".detail-{c}", Static) for c in ("title", "meaning", "pct")
        )
        self._stats = self.query_one(FigureLine)
        self._histogram = self.query_one(LatencyHistogram)
        self._plots = list(self.query(SeriesPlot).results())
        if self.view is not None:
            self.show(self.view)

    def show(self, view: ReasonView | None) -> None:
        """Show `view` (None: nothing selected yet)."""
        self.view = view
        if not self.is_mounted:
            return
        title, meaning, pct = self._statics
        hist = view.stat.histogram if view is not None and view.stat is not None else None
        chart = self._histogram
        pct.display = chart.display = hist is not None
        if view is not None and hist is not None:
            pct.update(percentile_text(hist, view.stat.max_us if view.stat else None))
            chart.show(view.reason, hist)
        if view is None:
            self._shown = None
            title.update(Text("no reason selected", style="dim"))
            return
        if self._shown != (view.reason, view.meaning):  # these change the layout: rarely
            self._shown = (view.reason, view.meaning)
            title.update(Text(view.reason, style="bold"))
            meaning.update(view.meaning)
        if view.stat is None:
            self._stats.show_note("no samples yet")
        else:
            self._stats.show(stats_figures(view.stat, view.rate))
        kinds = (False, True) if self.both_charts else (self.of_mean,)
        for plot, of_mean in zip(self._plots, kinds, strict=True):
            plot.show(
                view.reason,
                view.series,
                origin=view.origin,
                markers=view.markers,
                of_mean=of_mean,
                label=view.label,
            )
