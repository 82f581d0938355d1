"""The per-vCPU table and the latency histogram widget, mounted in a bare app (Pilot)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from vmexit_tui.analysis.histogram import Log2Histogram
from vmexit_tui.analysis.vcpu_view import VcpuRow
from vmexit_tui.app.widgets.latency_histogram import (
    LatencyHistogram,
    bucket_label,
    percentile_text,
)
from vmexit_tui.app.widgets.vcpu_table import VcpuTable
from vmexit_tui.host.vcpu_sched import ThreadSched


class Host(App):
    def compose(self) -> ComposeResult:
        yield VcpuTable(id="t")
        yield LatencyHistogram(id="h")


def row(i: int, samples: int, sched: ThreadSched | None) -> VcpuRow:
    return VcpuRow(i, 100 + i, samples, samples / 2, (("io", 60.0), ("cpuid", 40.0)), 64.0, sched)


async def test_vcpu_rows_show_top_reasons_and_scheduling_and_update_in_place():
    async with Host().run_test(size=(100, 20)) as pilot:
        table = pilot.app.query_one(VcpuTable)
        fifo = ThreadSched(100, (2,), 2, "FIFO", 95)
        table.show([row(1, 10, None), row(0, 2000, fifo)])
        await pilot.pause()
        assert [r.key.value for r in table.ordered_rows] == ["0", "1"]  # by vCPU index
        first = [c.plain.strip() for c in table.get_row("0")]
        assert first == [
            "0",
            "100",
            "2000",
            "1000",
            "64.00",
            "io 60% cpuid 40%",
            "2",
            "2",
            "FIFO 95",
        ]
        assert [c.plain.strip() for c in table.get_row("1")][-3:] == ["?", "?", "?"]
        table.show([row(0, 4000, fifo)])  # vCPU 1 gone, vCPU 0 updated
        await pilot.pause()
        assert [r.key.value for r in table.ordered_rows] == ["0"]
        assert table.get_row("0")[2].plain.strip() == "4000"


async def test_histogram_chart_draws_one_bar_per_bucket():
    async with Host().run_test(size=(100, 30)) as pilot:
        h = pilot.app.query_one(LatencyHistogram)
        h.show("io", Log2Histogram.from_counts({32: 900, 64: 90, 1024: 10}))
        await pilot.pause()
        rendered = h.plt.build()
        assert "io: exit-to-entry time" in rendered
        for label in ("≤32", "≤64", "≤1024"):
            assert label in rendered


def test_percentile_text_marks_bounds_and_an_exact_max():
    h = Log2Histogram.from_counts({32: 900, 64: 90, 1024: 10})
    assert percentile_text(h).plain.startswith(
        "p50 ≤32.00 µs   p99 ≤64.00 µs   p99.9 ≤1024 µs   max ≤1024 µs"
    )
    assert "max 733.0 µs" in percentile_text(h, max_us=733.0).plain
    assert percentile_text(None).plain == "no latency histogram from this source"
    assert (
        bucket_label(0.5) == "≤0.5"
        and bucket_label(2048) == "≤2048"
        and bucket_label(131072) == "≤131k"
    )
