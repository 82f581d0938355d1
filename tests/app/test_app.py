"""Pilot tests: every key binding, sorting while data arrives, quitting never leaves a recording."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import stat

import pytest
from rich.console import Console
from textual import events
from textual.widgets import DataTable, Static

from tests.app.helpers import Gate, feed, make_app, wait_for, wide_interval
from vmexit_tui.analysis.compare_session import BuiltinRun
from vmexit_tui.analysis.model import EventKind
from vmexit_tui.app.app import VmExitApp
from vmexit_tui.app.app_sources import AppSources, demo_sources
from vmexit_tui.app.format import sort_key
from vmexit_tui.app.messages import IntervalReceived, VmsScanned
from vmexit_tui.app.screens.detail_screen import DetailScreen
from vmexit_tui.app.screens.help_screen import HelpScreen, key_table
from vmexit_tui.app.screens.run_picker import RunPicker
from vmexit_tui.app.widgets.exit_table import SORTABLE, ExitTable
from vmexit_tui.app.widgets.figure_line import FigureLine
from vmexit_tui.app.widgets.key_bar import KeyBar
from vmexit_tui.app.widgets.series_plot import SeriesPlot
from vmexit_tui.formats import snapshots
from vmexit_tui.host.preflight import Problem
from vmexit_tui.recording.protocol import RecordingState
from vmexit_tui.reference import glossary

SIZE = (80, 24)


def order(table: ExitTable | DataTable) -> list[str]:
    if isinstance(table, ExitTable):
        return table.ordered_reasons
    return [row.key.value for row in table.ordered_rows]


def column_values(table: ExitTable, column: str) -> list:
    return [table.value(key, column) for key in order(table)]


def assert_sorted(table: ExitTable) -> None:
    values = [sort_key(v) for v in column_values(table, table.sort_column)]
    known = [v for flag, v in values if flag == 0]
    assert known == sorted(known, reverse=table.descending), table.sort_column
    flags = [flag for flag, _ in values]
    assert flags == sorted(flags), "unknown values must sort last"


def plain(widget: Static) -> str:
    return str(widget.render())


@pytest.fixture
def gate() -> Gate:
    return Gate()


async def test_demo_opens_with_a_simulated_recording_streaming(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 2)
        assert app.tab == "live"
        table = app.query_one(ExitTable)
        totals = app.current.acc.total(EventKind.VMEXIT)
        assert set(order(table)) == set(totals.reasons)
        assert table.value("HLT", "samples") == totals.row("HLT").samples
        assert_sorted(table)
        status = plain(app.query_one("#status", Static))
        assert "recording" in status and "simulated-gp-rt-bind" in status
        assert "2 chunks" in status
        assert app.current.info.simulated


async def test_space_stops_then_starts_a_new_recording(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 1)
        first = app.current
        await pilot.press("space")
        await wait_for(pilot, lambda: first.ended is not None)
        assert first.recorder.stopping
        assert first.status.state is RecordingState.STOPPED
        assert "stopped" in plain(app.query_one("#status", Static))
        await pilot.press("space")
        await wait_for(pilot, lambda: app.current is not first)
        await feed(pilot, app, gate, 1)
        assert app.current.running and len(app.sessions) == 2


async def test_enter_on_the_vm_list_records_that_vm(tmp_path, gate):
    app = make_app(tmp_path, gate, autostart=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.query_one("#vm-list", DataTable).row_count == 4)
        assert app.tab == "vms" and app.current is None
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.current is not None)
        assert app.current.info.vm_name == "simulated-gp-gp-bind"
        assert app.tab == "live"
        await feed(pilot, app, gate, 1)
        assert app.query_one(ExitTable).row_count > 5


async def test_tab_keys(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        for key, tab in (("1", "vms"), ("3", "compare"), ("2", "live")):
            await pilot.press(key)
            assert app.tab == tab
            assert app.query_one(f"#{tab}").display and app.query_one("#tab-bar").active == (
                f"tab-{tab}"
            )


async def test_a_click_on_a_tab_shows_it_and_focuses_its_table(tmp_path, gate):
    app = make_app(tmp_path, gate, autostart=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#tab-compare")
        await pilot.pause()
        assert app.tab == "compare" and app.focused is app.query_one("#compare-table")
        assert not app.query_one("#vms").display and app.query_one("#compare").display
        await pilot.click("#tab-live")
        await pilot.pause()
        assert app.tab == "live" and app.focused is app.query_one(ExitTable)


async def burst(pilot, keys: str) -> None:
    """Keys as one read of the terminal brings them (tmux send-keys, a paste, fast typing).

    `pilot.press` waits for the app to go idle after each key, so it cannot show this: the
    driver posts every key of one read at once, as done here.
    """
    for key in keys:
        pilot.app.post_message(events.Key(key, key))
    await pilot.pause()
    await pilot.pause()


async def test_tab_and_sort_keys_sent_in_one_burst(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 2)
        table = app.query_one(ExitTable)
        assert (app.tab, table.sort_column) == ("live", "samples")
        await burst(pilot, "32s")
        await pilot.pause(0.2)  # any late focus message would have switched back by now
        assert app.tab == "live" and app.focused is table
        assert table.sort_column == "share"
        assert_sorted(table)
        await burst(pilot, "13")
        await pilot.pause(0.2)
        assert app.tab == "compare" and app.focused is app.query_one("#compare-table")
        await pilot.press("2", "3", "2", "r")
        assert app.tab == "live" and not table.descending


async def test_mark_key_puts_a_marker_into_the_series(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 2)
        await pilot.press("m")
        markers = app.current.acc.markers
        assert len(markers) == 1
        assert markers[0].time == pytest.approx(app.current.acc.last.end)
        await feed(pilot, app, gate, 1)
        plot = app.query_one(SeriesPlot)
        plot.min_redraw_s = 0
        await feed(pilot, app, gate, 1)
        marks = plot._data[3]
        assert [label for _, label in marks] == [markers[0].label]


async def test_event_key_switches_vmexit_mmio_ioport(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 3)
        table = app.query_one(ExitTable)
        await pilot.press("e")
        assert app.live.kind is EventKind.MMIO
        assert all(key.startswith("0x") and key[-2:] in (":W", ":R") for key in order(table))
        await pilot.press("e")
        assert app.live.kind is EventKind.IOPORT
        assert any(key.endswith(":POUT") for key in order(table))
        await feed(pilot, app, gate, 1)
        assert set(order(table)) == set(app.current.acc.total(EventKind.IOPORT).reasons)
        await pilot.press("e")
        assert app.live.kind is EventKind.VMEXIT and "HLT" in order(table)


async def test_trend_key_switches_rate_and_mean(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        plot = app.query_one(SeriesPlot)
        plot.min_redraw_s = 0
        await feed(pilot, app, gate, 3)
        assert "exits/s" in plot._data[0]
        reason = app.query_one(ExitTable).selected_reason
        rates = app.current.acc.reason_series(EventKind.VMEXIT, reason).rates()
        assert list(plot._data[2]) == pytest.approx(rates)
        await pilot.press("t")
        assert "mean µs" in plot._data[0]
        means = app.current.acc.reason_series(EventKind.VMEXIT, reason).means()
        assert list(plot._data[2]) == pytest.approx(means)
        assert "mean" in plain(app.query_one("#kind-bar", Static))


async def test_sort_keys_cycle_columns_and_reverse(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 3)
        table = app.query_one(ExitTable)
        assert (table.sort_column, table.descending) == ("samples", True)
        seen = []
        for _ in SORTABLE:
            await pilot.press("s")
            seen.append(table.sort_column)
            assert_sorted(table)
        assert seen == [*SORTABLE[2:], "name", "samples"]
        await pilot.press("r")
        assert not table.descending
        assert_sorted(table)
        assert order(table)[0] == min(app.current.acc.total().rows, key=lambda r: r.samples).reason
        await pilot.press("S")
        assert table.sort_column == "name"
        assert order(table) == sorted(order(table))


async def test_clicking_a_header_sorts_by_that_column(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 2)
        table = app.query_one(ExitTable)
        x = table.column_x("mean")
        await pilot.click(ExitTable, offset=(x + 2, 0))
        assert table.sort_column == "mean" and table.descending
        assert_sorted(table)
        await pilot.click(ExitTable, offset=(x + 2, 0))
        assert table.sort_column == "mean" and not table.descending
        assert_sorted(table)


async def test_sorting_and_scrolling_while_data_arrives(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 1)
        table = app.query_one(ExitTable)
        keys = ["s", "down", "down", "pagedown", "r", "s", "down", "end", "up", "s", "home"]
        for i, key in enumerate(keys):
            await pilot.press(key)
            before = table.selected_reason
            app.post_message(IntervalReceived(wide_interval(i)))
            await wait_for(pilot, lambda n=i: app.current.acc.intervals >= n + 2)
            # data arrived: the table is sorted by the chosen column, the cursor kept its row
            assert table.selected_reason == before, key
            assert_sorted(table)
            assert table.row_count == len(app.current.acc.total().rows)
        assert table.row_count > 70
        assert table.scroll_y >= 0 and table.cursor_row == order(table).index(before)
        totals = app.current.acc.total()
        for reason in ("REASON_00", "HLT"):
            assert table.value(reason, "samples") == totals.row(reason).samples


async def test_enter_opens_the_detail_of_a_reason(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 2)
        reason = app.query_one(ExitTable).selected_reason
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.reason == reason
        assert plain(screen.query_one(".detail-meaning", Static)) == glossary.explain(reason)
        stats_line = screen.query_one(".detail-stats", FigureLine).text
        for word in ("min", "mean", "max"):
            assert word in stats_line
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_help_lists_every_key(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        console = Console(file=io.StringIO(), width=120)
        console.print(key_table(screen.sections))
        text = console.file.getvalue()
        bindings = VmExitApp.BINDINGS
        for b in bindings:
            first = b.key.split(",")[0]
            shown = {"question_mark": "?"}.get(first, first)
            assert any(line.strip().startswith(shown) for line in text.splitlines()), first
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_compare_pane_keys(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        comparison = app.compare_pane.comparison
        assert [r.label for r in comparison.runs] == ["GP-RT-RAW", "GP-RT-BIND"]
        assert comparison.findings
        table = app.query_one("#compare-table", DataTable)
        assert table.row_count == len(comparison.rows)
        await pilot.press("b")
        assert app.compare_pane.comparison.baseline == 1
        await pilot.press("x")
        assert app.compare_pane.comparison is None and len(app.compare.runs) == 1
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, RunPicker))
        picker = app.screen
        keys = [e.key for e in picker.entries]
        assert "live" in keys and "builtin:gp-gp-raw" in keys
        target = keys.index("builtin:gp-gp-raw")
        options = picker.query_one("OptionList")
        options.highlighted = next(
            i for i in range(options.option_count)
            if options.get_option_at_index(i).id == keys[target]
        )  # fmt: skip
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.compare_pane.comparison is not None)
        assert [r.label for r in app.compare_pane.comparison.runs] == ["GP-RT-RAW", "GP-GP-RAW"]


async def test_the_live_recording_in_the_compare_pane_follows_the_data(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 1)
        await pilot.press("3", "o")
        await wait_for(pilot, lambda: isinstance(app.screen, RunPicker))
        await pilot.press("enter")  # the first entry: this recording
        pane = app.compare_pane
        await wait_for(pilot, lambda: pane.comparison and len(pane.comparison.runs) == 3)
        live = app.compare_pane.comparison.runs[2]
        assert live.label == "simulated-gp-rt-bind bind"
        before = live.report.sample_count
        await feed(pilot, app, gate, 2)
        await wait_for(pilot, lambda: pane.comparison.runs[2].report.sample_count > before)
        assert app.compare_pane.comparison.runs[2].report == app.current.acc.total(EventKind.VMEXIT)


async def test_save_run_and_comparison_then_load_them(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 2)
        await pilot.press("w")
        await wait_for(pilot, lambda: len(list(tmp_path.glob("run-*.json"))) == 1)
        path = next(tmp_path.glob("run-*.json"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        saved = snapshots.load_run(path)
        assert saved.info.simulated
        assert saved.totals[EventKind.VMEXIT].sample_count > 0
        await pilot.press("3", "w")
        await wait_for(pilot, lambda: len(list(tmp_path.glob("comparison-*.json"))) == 1)
        await pilot.press("x", "x")
        assert app.compare_pane.comparison is None
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, RunPicker))
        picker = app.screen
        snap = next(e for e in picker.entries if e.key.startswith("snap:comparison:"))
        options = picker.query_one("OptionList")
        options.highlighted = next(
            i for i in range(options.option_count)
            if options.get_option_at_index(i).id == snap.key
        )  # fmt: skip
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.compare_pane.comparison is not None)
        assert [r.label for r in app.compare_pane.comparison.runs] == ["GP-RT-RAW", "GP-RT-BIND"]
        assert "loaded snapshot" in plain(app.query_one("#compare-header", Static))


def _no_vm_sources(tmp_path, gate, made: list) -> AppSources:
    problem = Problem("perf", "perf is not installed", "apt-get install linux-perf", True)

    def refuse(vm):
        made.append(vm)
        raise AssertionError("must not record with a blocking problem")

    return AppSources(
        scan_vms=list,
        make_recorder=refuse,
        snapshot_folder=tmp_path,
        problems=(problem,),
        demo=lambda: demo_sources(
            tmp_path, recorder_clock=gate.clock, sleep=gate.sleep, clock=lambda: 0.0
        ),
    )


async def test_without_vms_the_app_says_why_and_d_starts_the_demo(tmp_path, gate):
    made: list = []
    app = VmExitApp(_no_vm_sources(tmp_path, gate, made))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = plain(app.query_one("#problems", Static))
        assert "perf is not installed" in panel and "apt-get install linux-perf" in panel
        assert "d" in panel and "demo" in panel
        assert "perf is not installed" in plain(app.query_one("#status", Static))
        await pilot.press("space")
        assert app.current is None and not made
        await pilot.press("d")
        await wait_for(pilot, lambda: app.current is not None)
        assert app.sources.simulated and app.current.info.simulated
        await feed(pilot, app, gate, 1)
        assert app.query_one(ExitTable).row_count > 5


async def test_q_quits_and_awaits_the_recorder_stop(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 1)
        rec = app.current
        await pilot.press("q")
        await pilot.pause()
    assert rec.recorder.stopping
    assert rec.ended is not None and rec.ended.ok
    assert app.return_code == 0


async def test_sighup_stops_the_recording_and_quits(tmp_path, gate):
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # never let the test runner die
    try:
        app = make_app(tmp_path, gate)
        detached = []
        app.detach_terminal = lambda: detached.append(True)
        app.end_process = lambda code: app.exit(return_code=code)
        async with app.run_test(size=SIZE) as pilot:
            await feed(pilot, app, gate, 1)
            rec = app.current
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_for(pilot, lambda: rec.ended is not None)
            await pilot.pause(0.1)
        assert rec.recorder.stopping and rec.ended.ok
        assert app.return_code == 128 + signal.SIGHUP
        assert detached == [True]  # stdio left the dead terminal before the recorder stopped
    finally:
        signal.signal(signal.SIGHUP, previous)


async def test_no_color_keeps_changes_readable(tmp_path, gate, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        assert app.no_color
        table = app.query_one("#compare-table", DataTable)
        cells = [str(c) for row in range(table.row_count) for c in table.get_row_at(row)]
        assert any(c.startswith(("▲", "▼")) for c in cells)  # arrows, not only colour


def footer_labels(app: VmExitApp) -> list[str]:
    return [k.label for k in app.screen.query_one(KeyBar).shown]


async def test_footer_says_what_space_does_now(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 1)
        await pilot.pause()
        labels = footer_labels(app)
        assert "Stop" in labels and "Record" not in labels
        first = app.current
        await pilot.press("space")
        await wait_for(pilot, lambda: first.ended is not None)
        await pilot.pause()
        labels = footer_labels(app)
        assert "Record" in labels and "Stop" not in labels
        assert first.ended.reason.value == "stopped"


async def test_the_detail_screen_follows_the_recording_and_global_keys_work_there(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 2)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        reason = screen.reason
        before = screen.view.stat.samples
        stats = screen.query_one(".detail-stats", FigureLine).text
        await feed(pilot, app, gate, 2)
        assert screen.view.stat.samples > before  # live, not frozen at opening
        assert screen.query_one(".detail-stats", FigureLine).text != stats
        assert "Quit" in footer_labels(app)
        app.post_message(VmsScanned(app.vms))  # a scan while the detail is shown
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("t")  # a global key, handled while the detail is shown
        assert app.live.trend_of_mean and isinstance(app.screen, DetailScreen)
        await pilot.press("w")
        await wait_for(pilot, lambda: len(list(tmp_path.glob("run-*.json"))) == 1)
        await pilot.press("3")  # a tab key leaves the detail for that tab
        assert not isinstance(app.screen, DetailScreen) and app.tab == "compare"
        await pilot.press("2", "enter")
        assert isinstance(app.screen, DetailScreen) and app.screen.reason == reason
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 and app.current.ended is not None


async def test_every_finding_is_reachable_at_80x24(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: app.compare_pane.comparison is not None)
        findings = app.compare_pane.comparison.findings
        assert len(findings) > 5
        box = app.query_one("#compare-findings-box")
        text = plain(app.query_one("#compare-findings", Static))
        for f in findings:  # all of them, whole: none cut, none left out
            assert " ".join(f.text.split()) in " ".join(text.split())
        assert "more findings" not in text and box.size.height >= 3
        assert box.max_scroll_y > 0  # more than fits: it scrolls
        await pilot.press("tab")  # from the compare table to the findings
        assert app.focused is box
        await pilot.press("end")
        assert box.scroll_y == box.max_scroll_y


@pytest.mark.parametrize("runs", [2, 4])
async def test_the_compare_table_fits_80_columns_with_no_horizontal_scrollbar(tmp_path, gate, runs):
    """Issue 14.7: at 80x24 the table was 90 columns wide (the Δ column cut off, a stray
    scrollbar glyph above the findings). It narrows in FIT_STEPS order instead."""
    app = make_app(tmp_path, gate)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: app.compare_pane.comparison is not None)
        for name in ("gp-gp-raw", "gp-gp-bind")[: runs - 2]:
            app.add_run(BuiltinRun(name))
        await wait_for(pilot, lambda: len(app.compare_pane.comparison.runs) == runs)
        await pilot.pause()
        table = app.query_one("#compare-table", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert not table.show_horizontal_scrollbar
        header = plain(app.query_one("#compare-header", Static))
        labels = [run.label for run in app.compare_pane.comparison.runs]
        assert all(
            f"{letter} {label}" in header for letter, label in zip("ABCD", labels, strict=False)
        )
        titles = [c.label.plain for c in table.columns.values()]
        assert titles[:2] == ["Reason", "A n"] and "%" in titles
        if runs == 2:  # two runs keep every column, the change columns included
            assert titles[-2:] == ["Δ%pt", "Δmean"] and titles.count("µs") == 2
        else:  # four runs: the per-run means go (FIT_STEPS), the counts and shares stay
            assert "µs" not in titles and titles.count("%") == 4
    async with make_app(tmp_path, Gate()).run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: pilot.app.compare_pane.comparison is not None)
        table = pilot.app.query_one("#compare-table", DataTable)
        assert [c.label.plain for c in table.columns.values()][1] == "GP-RT-RAW n"  # room


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 50), (159, 60)])
async def test_no_blank_band_between_the_live_table_and_the_chart(tmp_path, gate, size):
    """Issue 9.7: the table is as tall as its rows, the chart starts right below it; with
    more rows than fit, the table takes its share (2/3) and scrolls."""
    app = make_app(tmp_path, gate)
    async with app.run_test(size=size) as pilot:
        await feed(pilot, app, gate, 3)
        app.action_show_tab("live")
        await pilot.pause()
        table, plot = app.query_one(ExitTable), app.query_one(SeriesPlot)
        assert table.region.height == table.row_count + 1  # header and rows, no blank lines
        assert plot.region.y == table.region.bottom and plot.region.height >= 5
        app.post_message(IntervalReceived(wide_interval(0, 70)))
        await wait_for(pilot, lambda: table.row_count >= 70)
        await pilot.pause()
        tab = app.query_one("#live")
        assert table.region.height < table.row_count + 1  # 70 rows do not fit: it scrolls
        assert table.region.height >= (tab.region.height - 1) * 0.6
        assert plot.region.y == table.region.bottom and plot.region.bottom == tab.region.bottom


async def test_the_chart_hidden_beside_the_detail_is_fed_again_once_the_terminal_narrows(
    tmp_path, gate
):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=(160, 48)) as pilot:
        await feed(pilot, app, gate, 3)
        plot = app.query_one("#series-plot", SeriesPlot)
        assert not plot.display and plot._data is None  # hidden: nothing computed for it
        await pilot.resize_terminal(100, 40)
        await wait_for(pilot, lambda: plot._data is not None)
        assert plot.display and app.query_one(ExitTable).selected_reason in plot._data[0]


async def test_a_big_terminal_puts_the_detail_and_the_findings_beside_the_tables(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=(200, 50)) as pilot:
        await feed(pilot, app, gate, 3)
        table = app.query_one(ExitTable)
        detail = app.query_one("#live-detail")
        assert detail.display and detail.region.width > 40
        assert detail.region.x >= table.region.right - 1
        assert table.region.height > 30  # the table has the height, not a stretched chart
        assert not app.query_one("#series-plot").display
        assert len(table.text(table.selected_reason, "trend")) > 8  # more trend points
        assert table.selected_reason in plain(detail.query_one(".detail-title", Static))
        await pilot.press("3")
        await wait_for(pilot, lambda: app.compare_pane.comparison is not None)
        await pilot.pause()
        compare_table = app.query_one("#compare-table")
        box = app.query_one("#compare-findings-box")
        assert box.region.x >= compare_table.region.right - 1 and box.region.width > 60
    async with make_app(tmp_path, Gate()).run_test(size=(80, 24)) as pilot:
        assert not pilot.app.query_one("#live-detail").display


class _SilentRecorder:
    """Replays what perf delivers when it recorded nothing: intervals with empty reports."""

    def __init__(self, vm) -> None:
        from vmexit_tui.analysis.running import RunInfo

        self.info = RunInfo(label=vm.name, vm_name=vm.name)
        self._stop = asyncio.Event()

    async def events(self):
        from vmexit_tui.analysis.model import Report
        from vmexit_tui.analysis.running import Interval
        from vmexit_tui.recording.protocol import EndReason, RecordingEnded, RecordingStatus

        for i in range(8):
            yield Interval(i, float(i), i + 1.0, {EventKind.VMEXIT: Report(EventKind.VMEXIT, ())})
            yield RecordingStatus(RecordingState.RECORDING, elapsed=i + 1.0, chunks=i + 1)
        await self._stop.wait()
        yield RecordingStatus(RecordingState.STOPPED, elapsed=8.0, chunks=8)
        yield RecordingEnded(EndReason.STOPPED, detail="stopped on request")

    async def stop(self) -> None:
        self._stop.set()


async def test_a_recording_where_perf_recorded_nothing_says_what_happened(tmp_path, gate):
    sources = demo_sources(tmp_path, clock=lambda: 0.0, autostart="simulated-gp-rt-bind")
    sources.make_recorder = _SilentRecorder
    app = VmExitApp(sources)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.current is not None and app.current.acc.intervals == 8)
        await pilot.pause()
        table = app.query_one(ExitTable)
        status = plain(app.query_one("#status", Static))
        assert "no VM exits recorded yet" in status and "tracefs" in status
        assert "is the VM idle" in str(table.render_line(1).text)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.current.ended is not None)
        await pilot.pause()
        assert "perf recorded no VM exits" in plain(app.query_one("#status", Static))
        assert "perf recorded no VM exits" in str(table.render_line(1).text)


async def test_an_unreadable_snapshot_is_listed_in_the_picker_marked(tmp_path, gate):
    (tmp_path / "broken.json").write_text('{"schema": 1, "kind": "run", "run": ')
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "o")
        await wait_for(pilot, lambda: isinstance(app.screen, RunPicker))
        bad = [e for e in app.screen.entries if e.label == "broken.json"]
        assert len(bad) == 1 and bad[0].error
