"""The fleet screen on two real exporters (demo source, in threads): rows, sort, drill-down."""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


@contextmanager
def garbage_server(body: bytes):
    """An HTTP server on loopback answering every GET with `body` (not an exporter)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_a_malformed_metrics_url_is_marked_and_the_exporter_kept_updating():
    bad_body = b'kvm_vmexits_total{vm="x" 12\n'
    with exporter_thread(plan("demo", interval_s=0.2)) as good, garbage_server(bad_body) as bad:
        app = FleetApp(FleetTracker([good.url, bad]), interval_s=0.5)
        async with app.run_test(size=(160, 30)) as pilot:
            table = app.screen.query_one(FleetTable)
            bad_host = bad.split("/")[2]
            await wait_for(pilot, lambda: table.row_count == 5)
            row = app.screen.view.row(f"{bad_host}\x00")
            assert row is not None and row.error.startswith("malformed /metrics: ")
            assert "\n" not in row.error
            status = str(app.screen.query_one("#fleet-status").render())
            assert f"unreachable or bad: {bad_host}" in status
            polled = app.screen.view.polled_at
            await wait_for(pilot, lambda: app.screen.view.polled_at > polled)
            good_rows = [r for r in app.screen.view.rows if r.host != bad_host]
            assert len(good_rows) == 4 and not any(r.error for r in good_rows)
