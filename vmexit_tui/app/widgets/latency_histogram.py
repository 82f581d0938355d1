"""One reason's log2 latency histogram as a plotext bar chart, with p50/p99/p99.9/max bounds."""

from __future__ import annotations

from rich.text import Text
from textual_plotext import PlotextPlot

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.formats import numbers


def bucket_label(bound: float) -> str:
    """`≤32`, `≤16384`, `≤131k`, `≤1.05M` (µs): short labels for the x axis."""
    if bound < 99_999.5:
        return f"≤{bound:g}"
    return "≤" + numbers.count(round(bound), short=True)


def percentile_text(h: Log2Histogram | None, max_us: float | None = None) -> Text:
    """`p50 ≤64 µs  p99 ≤512 µs  p99.9 ≤1024 µs  max ≤2048 µs` (max exact when known)."""
    text = Text()
    if h is None or not h:
        return text.append("no latency histogram from this source", style="dim")
    for label, q in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)):
        text.append(f"{label} ", style="dim")
        text.append(f"≤{numbers.us(h.percentile_bound(q))} µs   ", style="bold")
    text.append("max ", style="dim")
    if max_us is not None:
        text.append(f"{numbers.us(max_us)} µs", style="bold")
    else:
        text.append(f"≤{numbers.us(h.max_bound)} µs", style="bold")
    text.append("   (≤: bucket bounds of the kernel's log2 histogram)", style="dim")
    return text


class LatencyHistogram(PlotextPlot):
    """Bars of exits per log2 bucket (x: bucket upper bound in µs)."""

    def show(self, reason: str, histogram: Log2Histogram | None) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"{reason}: exit-to-entry time, exits per log2 bucket")
        if histogram:
            labels = [bucket_label(b) for b, _ in histogram]
            plt.bar(labels, [n for _, n in histogram], marker="hd")
            plt.xlabel("µs (bucket upper bound)")
        self.refresh()
