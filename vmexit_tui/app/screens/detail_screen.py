"""One exit reason in detail: its meaning, min/mean/max, and larger charts of rate and mean."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from vmexit_tui.analysis.model import ExitStat
from vmexit_tui.analysis.running import Marker, ReasonSeries
from vmexit_tui.app import format as fmt
from vmexit_tui.app.widgets.latency_histogram import LatencyHistogram, percentile_text
from vmexit_tui.app.widgets.series_plot import SeriesPlot


def stats_text(stat: ExitStat | None, rate: float | None) -> Text:
    text = Text()
    if stat is None:
        return text.append("no samples yet", style="dim")
    for label, value in (
        ("samples", fmt.count(stat.samples)),
        ("share", f"{fmt.pct(stat.samples_pct)}%"),
        ("time", f"{fmt.pct(stat.time_pct)}%"),
        ("rate", f"{fmt.rate(rate)}/s"),
        ("min", fmt.us_unit(stat.min_us)),
        ("mean", fmt.us_unit(stat.mean_us)),
        ("max", fmt.us_unit(stat.max_us)),
        ("spread", fmt.spread(stat.rel_stddev_pct, stat.rel_stddev_below)),
    ):
        text.append(f"{label} ", style="dim")
        text.append(f"{value}   ", style="bold")
    return text


class DetailScreen(ModalScreen[None]):
    """Opened with enter on a reason; esc closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(
        self,
        reason: str,
        *,
        meaning: str,
        stat: ExitStat | None,
        rate: float | None,
        series: ReasonSeries | None,
        origin: float | None,
        markers: Sequence[Marker] = (),
        label: str = "",
    ) -> None:
        super().__init__()
        self.reason = reason
        self.meaning = meaning
        self.stat = stat
        self.rate = rate
        self.series = series
        self.origin = origin
        self.markers = tuple(markers)
        self.label = label

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-body"):
            yield Static(Text(self.reason, style="bold"), id="detail-title")
            yield Static(self.meaning, id="detail-meaning")
            yield Static(stats_text(self.stat, self.rate), id="detail-stats")
            yield SeriesPlot(id="detail-rate", min_redraw_s=0.0)
            yield SeriesPlot(id="detail-mean", min_redraw_s=0.0)
            if self.stat is not None and self.stat.histogram is not None:
                yield Static(
                    percentile_text(self.stat.histogram, self.stat.max_us), id="detail-pct"
                )
                yield LatencyHistogram(id="detail-hist")
            yield Static(Text("esc closes", style="dim"))

    def on_mount(self) -> None:
        if self.stat is not None and self.stat.histogram is not None:
            self.query_one(LatencyHistogram).show(self.reason, self.stat.histogram)
        for plot_id, of_mean in (("#detail-rate", False), ("#detail-mean", True)):
            self.query_one(plot_id, SeriesPlot).show(
                self.reason,
                self.series,
                origin=self.origin,
                markers=self.markers,
                of_mean=of_mean,
                label=self.label,
            )

    def action_close(self) -> None:
        self.dismiss(None)
