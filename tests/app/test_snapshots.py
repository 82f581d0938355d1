"""Snapshot tests of the main screens at 80x24 and 160x48, with frozen data and clocks.

Review changes by eye: `python -m pytest tests/app/test_snapshots.py --snapshot-update`,
then look at the SVGs under tests/app/__snapshots__.
"""

from __future__ import annotations

import pytest

from tests.app.helpers import Gate, feed, make_app, wait_for
from tests.app.test_app import _no_vm_sources
from vmexit_tui.analysis.compare_session import BuiltinRun
from vmexit_tui.app.app import VmExitApp
from vmexit_tui.app.widgets.series_plot import SeriesPlot

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


def _streaming(gate: Gate, ticks: int = 8, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        app = pilot.app
        for plot in app.query(SeriesPlot):  # the chart, or the detail beside the table
            plot.min_redraw_s = 0
        await feed(pilot, app, gate, ticks)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_live_table(snap_compare, tmp_path, size):
    gate = Gate()
    app = make_app(tmp_path, gate)
    assert snap_compare(app, terminal_size=size, run_before=_streaming(gate))


@pytest.mark.parametrize("size", SIZES)
def test_live_table_sorted_by_mean_ascending_with_mean_trend(snap_compare, tmp_path, size):
    gate = Gate()
    app = make_app(tmp_path, gate)
    keys = ("s", "s", "s", "s", "r", "t", "down", "down")
    assert snap_compare(app, terminal_size=size, run_before=_streaming(gate, keys=keys))


@pytest.mark.parametrize("size", SIZES)
def test_vm_list(snap_compare, tmp_path, size):
    gate = Gate()
    app = make_app(tmp_path, gate)
    assert snap_compare(app, terminal_size=size, run_before=_streaming(gate, 2, ("1",)))


@pytest.mark.parametrize("size", SIZES)
def test_compare_pane(snap_compare, tmp_path, size):
    gate = Gate()
    app = make_app(tmp_path, gate)
    assert snap_compare(app, terminal_size=size, run_before=_streaming(gate, 2, ("3",)))


@pytest.mark.parametrize("size", SIZES)
def test_compare_pane_four_reference_runs(snap_compare, tmp_path, size):
    gate = Gate()
    app = make_app(tmp_path, gate)

    async def run_before(pilot) -> None:
        await _streaming(gate, 1, ("3",))(pilot)
        for name in ("gp-gp-raw", "gp-gp-bind"):
            app.add_run(BuiltinRun(name))
        pane = app.compare_pane
        await wait_for(pilot, lambda: pane.comparison and len(pane.comparison.runs) == 4)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_reason_detail(snap_compare, tmp_path, size):
    gate = Gate()
    app = make_app(tmp_path, gate)
    run_before = _streaming(gate, 8, ("down", "down", "enter"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, tmp_path, size):
    gate = Gate()
    app = make_app(tmp_path, gate)
    assert snap_compare(app, terminal_size=size, run_before=_streaming(gate, 1, ("?",)))


def test_no_vm_offers_the_demo(snap_compare, tmp_path):
    app = VmExitApp(_no_vm_sources(tmp_path, Gate(), []))
    assert snap_compare(app, terminal_size=(80, 24))
