"""The fleet screen on two real exporters (demo source, in threads): rows, sort, drill-down."""

from __future__ import annotations

import asyncio

from tests.exporter.exporter_thread import exporter_thread
from vmexit_tui.app.fleet_app import FleetApp
from vmexit_tui.app.screens.fleet_vm_screen import FleetVmScreen
from vmexit_tui.app.widgets.fleet_table import FleetTable
from vmexit_tui.exporter.fleet import FleetTracker
from vmexit_tui.exporter.sources import plan


async def wait_for(pilot, predicate, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return
        await pilot.pause(0.1)
    raise AssertionError("timed out")


def column(table: FleetTable, key: str) -> list:
    return [table.get_cell(row, key).value for row in table.rows]


def ordered(table: FleetTable, key: str) -> list:
    return [
        table.get_row_at(i)[[c.key for c in table.columns.values()].index(key)].value
        for i in range(table.row_count)
    ]


async def test_fleet_rows_sorting_and_a_guest_opened_live():
    with (
        exporter_thread(plan("demo", interval_s=0.2)) as a,
        exporter_thread(plan("demo", interval_s=0.2)) as b,
    ):
        tracker = FleetTracker([a.url, b.url])
        app = FleetApp(tracker, interval_s=0.5)
        async with app.run_test(size=(120, 30)) as pilot:
            table = app.screen.query_one(FleetTable)
            await wait_for(
                pilot,
                lambda: table.row_count == 8 and all(v is not None for v in column(table, "rate")),
            )
            hosts = {v for v in column(table, "host")}
            assert hosts == {f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"}
            rates = ordered(table, "rate")
            assert rates == sorted(rates, reverse=True)  # default: busiest first
            assert set(column(table, "pinning")) == {"bind", "raw"}
            assert all(0 < s <= 1 for s in column(table, "share"))
            await pilot.press("r")
            rates = ordered(table, "rate")
            assert rates == sorted(rates)
            await pilot.press("s")  # next column: top reason
            assert table.sort_column == "top"
            table.move_cursor(row=0)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, FleetVmScreen))
            screen = app.screen
            reasons = screen.query_one("#fleet-vm-table")
            await wait_for(pilot, lambda: reasons.row_count > 3)
            first_totals = [reasons.get_cell(k, "total").value for k in reasons.rows]
            await wait_for(
                pilot,
                lambda: (
                    sum(reasons.get_cell(k, "total").value for k in reasons.rows)
                    > sum(first_totals)
                ),
            )
            await pilot.press("escape")
            assert not isinstance(app.screen, FleetVmScreen)
            await asyncio.sleep(0)
