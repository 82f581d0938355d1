"""Issue 14 item 7 and the compare pane's differences, in the real app (Pilot)."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList, Static

from tests.app.helpers import Gate, feed, make_app, wait_for
from vmexit_tui.analysis.comparison import ComparedRun, compare
from vmexit_tui.analysis.model import EventKind, Report
from vmexit_tui.app import format as fmt
from vmexit_tui.app.app import VmExitApp
from vmexit_tui.app.screens.run_picker import RunPicker
from vmexit_tui.app.widgets.compare_pane import findings_text
from vmexit_tui.app.widgets.status_line import StatusLine
from vmexit_tui.reference import seed_runs

SIZE = (80, 24)


@pytest.fixture
def gate() -> Gate:
    return Gate()


def lines_of(widget) -> list[str]:
    return [
        "".join(s.text for s in widget.render_line(y)).rstrip() for y in range(widget.size.height)
    ]


@pytest.mark.parametrize("size", [(80, 24), (120, 30), (200, 40)])
async def test_save_toast_never_breaks_the_path_inside_a_word(tmp_path, gate, size):
    app = make_app(tmp_path / "a-folder-with-a-rather-long-name-for-snapshots", gate)
    seen: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (seen.append(message), notify(message, **kw))[1]
    async with app.run_test(size=size, notifications=True) as pilot:
        await feed(pilot, app, gate, 2)
        await pilot.press("w")
        await wait_for(pilot, lambda: any(m.startswith("Saved") for m in seen))
        message = next(m for m in seen if m.startswith("Saved"))
        name = next((tmp_path / "a-folder-with-a-rather-long-name-for-snapshots").glob("*.json"))
        width = fmt.toast_width(size[0])
        assert all(len(line) <= width for line in message.splitlines())
        assert "".join(message.splitlines()[1:-1]) == name.name  # only split after - _ .
        await wait_for(pilot, lambda: len(app.screen.query("Toast")) > 0)
        toast = next(t for t in app.screen.query("Toast") if "Saved" in str(t.render()))
        shown = "\n".join(lines_of(toast))
        assert toast.content_size.width >= width  # the message fits what the toast shows
        for line in message.splitlines():
            assert line in shown  # each line of the message is one line of the toast


async def test_a_corrupt_snapshot_is_listed_marked_in_the_app_picker(tmp_path, gate):
    (tmp_path / "broken.json").write_text('{"format": "vmexit-tui-snapshot", "sch')
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "o")
        await wait_for(pilot, lambda: isinstance(app.screen, RunPicker))
        options = app.screen.query_one(OptionList)
        (bad,) = [
            options.get_option_at_index(i)
            for i in range(options.option_count)
            if "broken.json" in str(options.get_option_at_index(i).prompt)
        ]
        assert bad.disabled
        prompt = str(bad.prompt)
        assert "✗ broken.json — unreadable:" in prompt and "truncated" in prompt
        await pilot.press("escape")


async def test_without_perf_the_status_line_ends_on_a_whole_clause(tmp_path, gate):
    from tests.app.test_app import _no_vm_sources
    from vmexit_tui.host.preflight import Problem

    sources = _no_vm_sources(tmp_path, gate, [])
    sources = type(sources)(
        **{
            **sources.__dict__,
            "problems": (
                Problem(
                    "perf-missing",
                    "`perf` is not on PATH: nothing can be recorded",
                    "apt install linux-perf",
                    True,
                ),
            ),
        }
    )
    app = VmExitApp(sources)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        (line,) = [ln for ln in lines_of(app.query_one(StatusLine)) if ln]
        assert len(line) <= SIZE[0]
        assert line.endswith("(fix: VMs tab · d: demo)") and "`perf` is not on PATH" in line


async def test_the_compare_pane_lists_differences_and_names_an_empty_run(tmp_path, gate):
    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: app.compare_pane.comparison is not None)
        text = str(app.query_one("#compare-findings", Static).render())
        assert "Differences (durations unknown" in text
        assert "· INTERRUPT_WINDOW: 57 → 478 exits (+739%), GP-RT-RAW → GP-RT-BIND" in text
        assert "count rises" not in text  # no untested count change among the findings
    empty = ComparedRun("idle", Report(EventKind.VMEXIT, ()), duration_s=5.0)
    c = compare([empty, ComparedRun("GP-RT-RAW", seed_runs.load("gp-rt-raw"))])
    shown = findings_text(c).plain
    assert shown.startswith("⚠ idle has no exits at all")
    assert "No change passes the significance test." in shown


async def test_z_toggles_the_rate_axis_between_zero_and_the_data(tmp_path, gate):
    """Issue 14.5: rates start at zero unless the user asks otherwise (z)."""
    from vmexit_tui.app.widgets.series_plot import SeriesPlot

    app = make_app(tmp_path, gate)
    async with app.run_test(size=(120, 40)) as pilot:
        await feed(pilot, app, gate, 3)
        await pilot.press("2")
        plot = app.query_one("#series-plot", SeriesPlot)
        await wait_for(pilot, lambda: bool(plot.yticks))
        assert plot.yticks[0] == 0
        await pilot.press("z")
        await wait_for(pilot, lambda: plot.yticks[0] > 0)
        await pilot.press("z")
        await wait_for(pilot, lambda: plot.yticks[0] == 0)


async def test_the_sort_label_is_the_column_title(tmp_path, gate):
    """Issue 14.7: the status said "sort: share ▼" while the column said "Smp%▼"."""
    from vmexit_tui.app.widgets.exit_table import ExitTable

    app = make_app(tmp_path, gate)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, app, gate, 2)
        await pilot.press("2", "s")
        table = app.query_one(ExitTable)
        assert table.sort_column == "share"
        bar = str(app.query_one("#kind-bar", Static).render())
        header = "".join(s.text for s in table.render_line(0))
        assert "sort: Smp% ▼" in bar and "Smp%▼" in header
